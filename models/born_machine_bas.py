"""Born machine on bars-and-stripes (Benedetti et al. 2019): ``python -m models.born_machine_bas``.

Data: every valid bars-and-stripes pattern (6 for 2x2, 14 for 3x3), generated, uniform target.
Model: :class:`tfq_layers.BornMachine` with its default ansatz (rx/rz rotations + all-to-all ZZ
couplings, ``layers`` deep), exact probabilities, ``loss="kl"``, Adam. Each epoch is one full-batch
step over all patterns.

Prints the KL divergence from the target to the learned distribution, the probability mass on valid
patterns (precision) and the pattern coverage; ends with ``KL: 0.041`` on its own line (the last
grid trained). ``--seeds 5`` repeats the 2x2 run over five seeds (``--seed S`` is the first).
``--export DIR`` writes the last model trained as a SavedModel whose ``serve(bitstrings)``
returns ``p(x)``, plus ``DIR/model.keras``; ``--workers N`` trains data-parallel.
"""

import os
import time

from . import _cli


def _add_options(parser):
    parser.add_argument("--grids", default="2x2,3x3", help="comma-separated grids, e.g. 2x2,3x3")
    parser.add_argument(
        "--seeds",
        type=_cli.positive_int,
        default=1,
        help="how many seeds to run on the 2x2 grid, from --seed on (default 1)",
    )
    parser.add_argument("--backend", default="auto", choices=["auto", "tfq", "statevector"])


# Parsed here, before TensorFlow is imported, when run as a program (fast --help and errors).
ARGS = _cli.parse_if_main(
    __name__, __package__, "born_machine_bas", __doc__, None, add_options=_add_options
)

from . import _common  # noqa: E402  # first: it imports tfq_layers before TensorFlow

import numpy as np  # noqa: E402

from tfq_layers._keras import keras  # noqa: E402
from tfq_layers.datasets import bars_and_stripes  # noqa: E402
from tfq_layers.generative.born import BornMachine  # noqa: E402

SETTINGS = {  # grid -> (layers, epochs, learning rate)
    (2, 2): (2, 200, 0.05),
    (3, 3): (3, 800, 0.05),
}


def parser():
    """The recipe's command line (``python -m models.born_machine_bas``), with its own options."""
    return _cli.recipe_parser(
        __package__, "born_machine_bas", __doc__, None, add_options=_add_options
    )


def load_data(rows=2, cols=2):
    """All bars-and-stripes patterns of a ``rows x cols`` grid, one per row (pixels row-major)."""
    return bars_and_stripes(rows, cols)


def target_distribution(data):
    n = data.shape[1]
    target = np.zeros(2**n)
    target[data @ (2 ** np.arange(n - 1, -1, -1))] = 1.0 / len(data)
    return target


def build_model(rows=2, cols=2, seed=0, layers=None, learning_rate=None, backend="auto"):
    default_layers, _, default_lr = SETTINGS.get((rows, cols), (None, None, 0.05))
    model = BornMachine(rows * cols, layers=layers or default_layers, seed=seed, backend=backend)
    model.compile(keras.optimizers.Adam(learning_rate or default_lr), loss="kl")
    return model


def kl_to(target, probs):
    keep = target > 0
    return float(np.sum(target[keep] * np.log(target[keep] / np.maximum(probs[keep], 1e-12))))


def train(rows, cols, seed=0, epochs=None, verbose=0, backend="auto"):
    data = load_data(rows, cols)
    _, default_epochs, _ = SETTINGS.get((rows, cols), (None, 300, None))
    model = build_model(rows, cols, seed=seed, backend=backend)
    start = time.time()
    history = model.fit(
        data, epochs=epochs or default_epochs, batch_size=len(data), verbose=verbose
    )
    probs = model.probabilities().numpy().astype(np.float64)
    target = target_distribution(data)
    result = {
        "grid": f"{rows}x{cols}",
        "seed": seed,
        "kl": kl_to(target, probs),
        "valid_mass": float(probs[target > 0].sum()),
        "coverage": float(np.mean(probs[target > 0] > 0.5 / len(data))),
        "seconds": time.time() - start,
        "params": int(model.circuit_weights.shape[0]),
        "epochs": len(history.history["loss"]),
    }
    return model, result, history, probs, target


def plot(path, probs, target, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = int(np.log2(len(probs)))
    fig, ax = plt.subplots(figsize=(max(6, len(probs) / 20), 3))
    x = np.arange(len(probs))
    ax.bar(x, target, width=1.0, color="0.8", label="target")
    ax.bar(x, probs, width=0.5, color="C0", label="Born machine")
    ax.set_xlabel(f"bitstring index ({n} bits, pixel 0 most significant)")
    ax.set_ylabel("probability")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def export_model(model, export_dir):
    """SavedModel in ``export_dir`` whose ``serve(bitstrings (B, n) int32)`` returns ``p(x)``,
    plus ``export_dir/model.keras``."""
    import tensorflow as tf

    from tfq_layers.export import save_serving

    os.makedirs(export_dir, exist_ok=True)
    save_serving(model, export_dir, input_signature=[tf.TensorSpec((None, model.n_bits), tf.int32)])
    keras_path = os.path.join(export_dir, _common.KERAS_FILE)
    model.save(keras_path)
    print(f"exported SavedModel to {export_dir} (serve: bitstrings -> p(x)) and saved {keras_path}")
    return export_dir, keras_path


def main(argv=None):
    """Train the grids, print each run's numbers, end with ``KL: ...``; return the Result.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``); see ``--help``.
    """
    if argv is None and ARGS is not None:
        args = ARGS
    else:
        args = parser().parse_args(argv)
    grids = [tuple(int(v) for v in g.split("x")) for g in args.grids.split(",")]
    epochs = args.epochs
    if args.quick:
        grids, epochs = [(2, 2)], epochs or 20
    last = model = None
    for rows, cols in grids:
        seeds = range(args.seed, args.seed + (args.seeds if (rows, cols) == (2, 2) else 1))
        results = []
        for seed in seeds:
            _common.set_seed(seed)
            with _common.strategy_scope(args):
                model, result, _, probs, target = train(
                    rows, cols, seed, epochs, backend=args.backend
                )
            results.append(result)
            print(
                f"BAS {result['grid']} seed {seed}: KL {result['kl']:.4f}  valid mass "
                f"{result['valid_mass']:.3f}  coverage {result['coverage']:.2f}  "
                f"({result['params']} params, {result['epochs']} epochs, "
                f"{result['seconds']:.0f}s)",
                flush=True,
            )
            if args.plots:
                os.makedirs(args.plots, exist_ok=True)
                plot(
                    os.path.join(args.plots, f"born_bas_{rows}x{cols}_seed{seed}.png"),
                    probs,
                    target,
                    f"Born machine, bars and stripes {rows}x{cols}: KL {result['kl']:.3f}",
                )
        if len(results) > 1:
            kls = [r["kl"] for r in results]
            print(
                f"BAS {rows}x{cols}: KL <= 0.01 in {sum(k <= 0.01 for k in kls)} of "
                f"{len(kls)} seeds (median {np.median(kls):.4f})"
            )
        last = results[-1]
    grid = last["grid"]
    result = _common.Result(
        name="born_machine_bas",
        task=f"bars and stripes {grid}, Born machine (KL to target)",
        qubits=int(np.prod([int(v) for v in grid.split("x")])),
        quantum_params=last["params"],
        classical_params=0,
        epochs=last["epochs"],
        metric="KL",
        value=last["kl"],
        wall_time=last["seconds"],
        command=f"python -m {_common.PACKAGE}.born_machine_bas --grids {grid}",
        extra={"valid mass": round(last["valid_mass"], 3), "coverage": last["coverage"]},
    )
    if args.export and _common.is_chief():
        export_model(model, args.export)
    print(result.line())
    return result


if __name__ == "__main__":
    main()
