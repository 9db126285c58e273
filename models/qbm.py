"""Quantum Boltzmann machine (Amin et al. 2018) with and without a transverse field.

Two tasks, each trained twice from the same initial biases and couplings with the same optimizer:
once with a trainable transverse field ``Γ`` (the QBM) and once with ``Γ = 0`` (a classical
Boltzmann machine), both computed exactly (:class:`tfq_layers.generative.QuantumBoltzmannMachine`):

* (a) bars and stripes 2x2: the 6 valid 4-pixel images, 4 visible + 2 hidden units;
* (b) a multimodal distribution over 7 bits: the mixture of 8 product ("Bernoulli") modes of
  Amin et al. (each mode copies its random centre and flips each bit with probability 0.1),
  20,000 samples, 7 visible + 1 hidden unit.

Training is full batch (the loss is ``KL(data histogram || model)``, whose gradient is the exact
log-likelihood gradient), Adam. The number reported is ``KL(target || model)`` against the exact
target distribution; the run ends with ``KL: ...`` for the transverse-field model on task (b).

Run ``python -m models.qbm`` (``--plots DIR`` writes learned-vs-target histograms and KL curves,
``--export DIR`` a SavedModel ``bitstrings -> p(x)`` plus ``model.keras``; about 30-50 s on 2 cores).

Measured (1600 steps, Adam 0.05, seeds 0-4): on (b) the transverse-field model reaches
``KL = 0.051, 0.030, 0.053, 0.030, 0.030`` against ``0.098, 0.101, 0.115, 0.093, 0.093`` with
``Γ = 0`` (the classical machine stalls after ~150 steps; Adam 0.01 or 0.2 gives the same picture).
On (a) both reach ``KL < 0.001`` and the trained ``Γ`` goes to 0. The advantage depends on the
target: on 4-mode mixtures the QBM won 8 of 10 (data set, seed) pairs, and on 2-3-mode discretized
Gaussian mixtures (:func:`tfq_layers.datasets.gaussian_mixture`) the classical machine fit about as
well or better, in line with Amin et al., whose example is the 8-mode mixture used here.

Example:
    >>> from models import qbm
    >>> data, target = qbm.load_data("bas")
    >>> qbm.build_model("bas").n_units
    6
"""

import math
import os

from . import _cli  # noqa: E402

EPOCHS = 1600  # full-batch gradient steps per model
# Parsed here, before TensorFlow is imported, when run as a program (fast --help and errors).
ARGS = _cli.parse_if_main(__name__, __package__, "qbm", __doc__, EPOCHS)

from . import _common  # noqa: E402  # first: it imports tfq_layers before TensorFlow

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tfq_layers._keras import keras  # noqa: E402
from tfq_layers.datasets import (  # noqa: E402
    bars_and_stripes,
    bernoulli_mixture,
    empirical_distribution,
)
from tfq_layers.generative import QuantumBoltzmannMachine  # noqa: E402
from tfq_layers.metrics import KLDivergenceToTarget, kl_divergence  # noqa: E402

NAME = "qbm"
TASK = "QBM vs Γ=0 Boltzmann machine: bars & stripes 2x2, 8-mode Bernoulli mixture on 7 bits"
QUICK_EPOCHS = 20
STEPS_PER_EPOCH = 25  # Keras epochs of 25 steps each (history and progress every 25 steps)

#: Hyperparameters of the two tasks.
TASKS = {
    "bas": dict(
        title="bars and stripes 2x2",
        n_visible=4,
        n_hidden=2,
        learning_rate=0.05,
        gamma_init=1.0,
    ),
    "multimodal": dict(
        title="8-mode Bernoulli mixture (p=0.9) on 7 bits",
        n_visible=7,
        n_hidden=1,
        learning_rate=0.05,
        gamma_init=1.0,
        n_modes=8,
        p=0.9,
        centers_seed=0,
        n_samples=20000,
        data_seed=123,
    ),
}


def load_data(task="multimodal", quick=False):
    """Training bitstrings and the exact target distribution of a task.

    Args:
        task: ``"bas"`` (the 6 bars-and-stripes 2x2 images, uniform target) or ``"multimodal"``
            (20,000 samples of a 8-mode Bernoulli mixture on 7 bits, fixed seeds).
        quick: fewer samples (2,000) for smoke tests.

    Returns:
        ``(data, target)``: int32 ``(N, n)`` bitstrings and the float64 target vector ``(2**n,)``.
    """
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {sorted(TASKS)}; received {task!r}.")
    hp = TASKS[task]
    if task == "bas":
        data = bars_and_stripes(2, 2)
        return data, empirical_distribution(data, 4)
    target, sampler = bernoulli_mixture(
        hp["n_visible"], n_modes=hp["n_modes"], p=hp["p"], seed=hp["centers_seed"]
    )
    data = sampler(2000 if quick else hp["n_samples"], seed=hp["data_seed"])
    return data, target


def build_model(task="multimodal", transverse_field=True, seed=0, learning_rate=None, target=None):
    """A compiled :class:`QuantumBoltzmannMachine` for ``task``.

    Args:
        task: ``"bas"`` or ``"multimodal"`` (sizes from :data:`TASKS`).
        transverse_field: ``True`` for a trainable field starting at ``gamma_init``; ``False``
            for ``Γ = 0`` (classical Boltzmann machine).
        seed: initializer seed (the same seed gives the same initial biases and couplings with
            or without the field).
        learning_rate: Adam step size (default from :data:`TASKS`).
        target: optional exact target distribution; adds the ``kl_to_target`` metric.

    Returns:
        The compiled model (loss ``"kl"``).
    """
    hp = TASKS[task]
    model = QuantumBoltzmannMachine(
        hp["n_visible"],
        hp["n_hidden"],
        transverse_field=bool(transverse_field),
        gamma_init=hp["gamma_init"],
        seed=seed,
        name=f"qbm_{task}_{'gamma' if transverse_field else 'classical'}",
    )
    metrics = [] if target is None else [KLDivergenceToTarget(target)]
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate or hp["learning_rate"]),
        loss="kl",
        metrics=metrics,
    )
    return model


def train(model, data, steps):
    """``steps`` full-batch gradient steps (rounded up to a multiple of 25); returns the History."""
    per_epoch = min(STEPS_PER_EPOCH, steps)
    batches = tf.data.Dataset.from_tensors(tf.constant(data)).repeat()
    return model.fit(
        batches,
        epochs=math.ceil(steps / per_epoch),
        steps_per_epoch=per_epoch,
        shuffle=False,
        verbose=0,
    )


def export_model(model, export_dir):
    """SavedModel in ``export_dir`` whose ``serve(bitstrings (B, n) int32)`` returns ``p(x)`` (B,),
    plus ``export_dir/model.keras``.

    Args:
        model: a built :class:`QuantumBoltzmannMachine`.
        export_dir: output directory (created).

    Returns:
        ``(export_dir, keras_path)``.
    """
    from tfq_layers.export import save_serving

    os.makedirs(export_dir, exist_ok=True)
    save_serving(
        model, export_dir, input_signature=[tf.TensorSpec((None, model.n_visible), tf.int32)]
    )
    keras_path = os.path.join(export_dir, _common.KERAS_FILE)
    model.save(keras_path)
    print(f"exported SavedModel to {export_dir} (serve: bitstrings -> p(x)) and saved {keras_path}")
    return export_dir, keras_path


def _plot(path, title, target, results, n_visible):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(2**n_visible)
    fig, (ax, ax_kl) = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw={"width_ratios": [3, 1]})
    ax.bar(x, target, width=1.0, color="0.75", label="target")
    styles = {"transverse field": ("C0", "-"), "Γ = 0": ("C3", "--")}
    for label, res in results.items():
        color, ls = styles[label]
        ax.step(
            x, res["probs"], where="mid", color=color, ls=ls, label=f"{label}: KL {res['kl']:.3f}"
        )
        curve = res["history"].history.get("kl_to_target")
        if curve:
            steps = np.arange(1, len(curve) + 1) * res["steps_per_epoch"]
            ax_kl.semilogy(steps, curve, color=color, ls=ls, label=label)
    ax.set_xlabel(f"visible configuration (index of the {n_visible}-bit string, bit 0 first)")
    ax.set_ylabel("probability")
    ax.set_xlim(-0.5, x[-1] + 0.5)
    ax.legend()
    ax.set_title(title)
    ax_kl.set_xlabel("gradient step")
    ax_kl.set_ylabel("KL(target || model)")
    ax_kl.grid(alpha=0.3)
    ax_kl.legend()
    fig.tight_layout()
    _common.save_figure(fig, path)


def run_task(task, steps, seed, quick=False, plots=None):
    """Train the transverse-field and the Γ = 0 models on ``task``; return their numbers."""
    hp = TASKS[task]
    data, target = load_data(task, quick=quick)
    results = {}
    for label, field in (("transverse field", True), ("Γ = 0", False)):
        model = build_model(task, transverse_field=field, seed=seed, target=target)
        history = train(model, data, steps)
        probs = model.probabilities().numpy()
        results[label] = dict(
            model=model,
            history=history,
            probs=probs,
            kl=kl_divergence(target, probs),
            steps_per_epoch=min(STEPS_PER_EPOCH, steps),
        )
    gamma = np.abs(results["transverse field"]["model"].gamma.numpy()).astype(float)
    print(
        f"({task}) {hp['title']}, {hp['n_visible']} visible + {hp['n_hidden']} hidden units, "
        f"{len(data)} training samples, {steps} steps: KL(target || model) = "
        f"{results['transverse field']['kl']:.4f} with the transverse field, "
        f"{results['Γ = 0']['kl']:.4f} with Γ = 0; learned |Γ| = {', '.join(f'{g:.2f}' for g in gamma)}",
        flush=True,
    )
    if plots:
        _plot(
            os.path.join(plots, f"{NAME}_{task}.png"),
            f"{NAME}: {hp['title']}",
            target,
            results,
            hp["n_visible"],
        )
    return results


def main(argv=None):
    """Train both tasks with and without the field, print the KLs, end with ``KL: ...``.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``); see ``--help``. ``--epochs`` is
            the number of full-batch gradient steps per model (default 1600).

    Returns:
        A :class:`models._common.Result` whose value is the multimodal transverse-field KL.
    """
    if argv is None and ARGS is not None:
        args = ARGS
    else:
        args = _cli.recipe_parser(__package__, NAME, __doc__, EPOCHS).parse_args(argv)
    if args.workers > 1:
        raise SystemExit(
            f"{NAME}: --workers is not supported (the exact QBM trains full-batch "
            "in one process); run without it."
        )
    steps = args.epochs or (QUICK_EPOCHS if args.quick else EPOCHS)
    _common.set_seed(args.seed)
    with _common.Timer() as timer:
        bas = run_task("bas", steps, args.seed, quick=args.quick, plots=args.plots)
        multi = run_task("multimodal", steps, args.seed, quick=args.quick, plots=args.plots)
    qbm = multi["transverse field"]["model"]
    n_params = int(sum(np.prod(v.shape) for v in qbm.trainable_weights))
    extra = {
        "bars-and-stripes KL, transverse field": bas["transverse field"]["kl"],
        "bars-and-stripes KL, Γ = 0": bas["Γ = 0"]["kl"],
        "multimodal KL, Γ = 0": multi["Γ = 0"]["kl"],
        "multimodal KL, transverse field": multi["transverse field"]["kl"],
    }
    result = _common.Result(
        NAME,
        TASK,
        qbm.n_units,
        n_params,
        0,
        steps,
        "KL",
        multi["transverse field"]["kl"],
        timer.seconds,
        _common.command(f"{_common.PACKAGE}.{NAME}", argv),
        extra,
    )
    if args.export:
        export_model(qbm, args.export)
    _common.report(result)
    return result


if __name__ == "__main__":
    main()
