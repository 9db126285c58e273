"""Quantum modular Hamiltonian learning (Verdon et al. 2019): a 4-qubit thermal state from samples.

The unknown state is the thermal state ``σ = e^{-βH}/Z`` of the 2x2 transverse-field Ising model of
:mod:`models.vqt` at ``β = 1``. The learner sees only quantum data: 5,000 pure states drawn from
``σ``'s eigen-ensemble (eigenvector ``v_k`` with probability ``λ_k``, from exact diagonalization),
as state vectors. A :class:`tfq_layers.generative.QHBM` with the architecture of
:mod:`models.vqt` (full-order KOBE latent energy, 3-layer unitary, 71 parameters) minimizes the
quantum cross entropy ``-tr(σ̂ log ρ)`` on the full batch (``compile(loss="qmhl")``,
``fit(states)``) with the schedule of :mod:`models.vqt`: 4 initial weight draws trained 200 steps
each (Adam 0.05, cosine-decayed to 2 %), the one with the lowest cross entropy kept and trained
600 more steps (Adam 0.02, cosine-decayed). The cross entropy is bounded below by the entropy of the
data's state ``S(σ̂)``; the gap is the relative entropy ``S(σ̂ || ρ)``.

Reported: the Uhlmann fidelity of the learned state with the exact ``σ`` (and with the empirical
``σ̂``, the best a perfect learner reaches from these samples). The run ends with
``fidelity: ...`` (against ``σ``).

Run ``python -m models.qmhl`` (``--plots DIR`` writes the loss curve and density matrices;
``--export DIR`` saves ``model.keras``).

Example:
    >>> from models import qmhl
    >>> states, sigma, _ = qmhl.load_data(n_samples=10)
    >>> states.shape, sigma.shape
    ((10, 16), (16, 16))
"""

import os

from . import _cli  # noqa: E402

EPOCHS = 600
ARGS = _cli.parse_if_main(__name__, __package__, "qmhl", __doc__, EPOCHS)

from . import _common  # noqa: E402  # first: it imports tfq_layers before TensorFlow

import numpy as np  # noqa: E402
from tfq_layers.generative.qhbm import fidelity, thermal_state  # noqa: E402

from . import vqt  # noqa: E402

NAME = "qmhl"
TASK = "QMHL: 2x2 transverse-field Ising thermal state (beta = 1) from 5,000 sampled pure states"
BETA = 1.0
N_SAMPLES = 5000
QUICK_EPOCHS = 4


def load_data(n_samples=N_SAMPLES, seed=0, beta=BETA):
    """Quantum data of the thermal state: pure states drawn from its eigen-ensemble.

    Args:
        n_samples: number of states.
        seed: seed of the draw.
        beta: inverse temperature.

    Returns:
        ``(states, sigma, sigma_hat)``: complex64 ``(n_samples, 16)`` state vectors, the exact
        thermal state and the empirical state of the samples (complex128 ``(16, 16)``).
    """
    ham, qubits = vqt.load_data()
    sigma, _ = thermal_state(ham, beta, qubits)
    lam, vec = np.linalg.eigh(sigma)
    lam = np.clip(lam, 0.0, None)
    pick = np.random.default_rng(seed).choice(len(lam), size=n_samples, p=lam / lam.sum())
    states = vec[:, pick].T
    sigma_hat = states.T @ states.conj() / n_samples
    return states.astype(np.complex64), sigma, sigma_hat


def build_model(seed=0):
    """The QHBM of :func:`models.vqt.build_model` on the 2x2 grid."""
    _, qubits = vqt.load_data()
    return vqt.build_model(qubits, seed=seed)


def _plot(path, loss, entropy, learned, exact):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    axes[0].plot(loss, label="cross entropy -tr(sigma_hat log rho)")
    axes[0].axhline(entropy, color="k", ls=":", label="S(sigma_hat), the minimum")
    axes[0].set_xlabel("gradient step")
    axes[0].legend()
    for ax, mat, title in ((axes[1], learned, "learned |rho|"), (axes[2], exact, "exact |sigma|")):
        im = ax.imshow(np.abs(mat), cmap="viridis")
        ax.set_title(title)
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    _common.save_figure(fig, path)


def main(argv=None):
    """Learn the state from its samples; print fidelities; end with ``fidelity: ...``.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``); ``--epochs`` is the number of
            full-batch steps.

    Returns:
        A :class:`models._common.Result` whose value is the fidelity with the exact state.
    """
    if argv is None and ARGS is not None:
        args = ARGS
    else:
        args = _cli.recipe_parser(__package__, NAME, __doc__, EPOCHS).parse_args(argv)
    if args.workers > 1:
        raise SystemExit(f"{NAME}: --workers is not supported; run without it.")
    steps = args.epochs or (QUICK_EPOCHS if args.quick else EPOCHS)
    _common.set_seed(args.seed)
    with _common.Timer() as timer:
        states, sigma, sigma_hat = load_data(200 if args.quick else N_SAMPLES, seed=args.seed)
        screen = max(1, steps // 3)
        model, screened = vqt.best_of_restarts(
            build_model,
            lambda m, n, rate: vqt.train_phase(m, n, rate, args.quick, data=states, loss="qmhl"),
            args.seed,
            screen,
            restarts=1 if args.quick else None,
        )
        print(f"restarts: cross entropies {screened} after {screen} steps each; kept the lowest")
        history = vqt.train_phase(
            model, steps, vqt.WARM_LEARNING_RATE, args.quick, data=states, loss="qmhl"
        )
        rho = model.density_matrix()
        fid, fid_hat = fidelity(rho, sigma), fidelity(rho, sigma_hat)
    lam = np.linalg.eigvalsh(sigma_hat)
    lam = lam[lam > 1e-12]
    entropy = float(-np.sum(lam * np.log(lam)))
    loss = history.history["loss"]
    print(
        f"{len(states)} sampled states, {steps} steps: cross entropy {loss[-1]:.5f} "
        f"(minimum S(sigma_hat) = {entropy:.5f}); fidelity with sigma {fid:.5f}, "
        f"with the samples' state sigma_hat {fid_hat:.5f}",
        flush=True,
    )
    n_params = int(sum(np.prod(v.shape) for v in model.trainable_weights))
    result = _common.Result(
        NAME,
        TASK,
        4,
        n_params,
        0,
        steps,
        "fidelity",
        fid,
        timer.seconds,
        _common.command(f"{_common.PACKAGE}.{NAME}", argv),
        {
            "fidelity with sigma_hat": f"{fid_hat:.5f}",
            "final cross entropy": f"{loss[-1]:.5f}",
            "S(sigma_hat)": f"{entropy:.5f}",
        },
    )
    if args.plots:
        _plot(os.path.join(args.plots, f"{NAME}.png"), loss, entropy, rho, sigma)
    if args.export:
        os.makedirs(args.export, exist_ok=True)
        model.save(os.path.join(args.export, _common.KERAS_FILE))
    _common.report(result)
    return result


if __name__ == "__main__":
    main()
