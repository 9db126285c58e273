"""Hybrid classifier: Dense -> PQC -> Dense on the Wisconsin breast-cancer data (scikit-learn).

The 30 standardized features are compressed by a classical ``Dense(4, tanh)`` layer; each of the 4
outputs ``h_i`` in ``[-1, 1]`` sets the angle ``ry(pi * h_i)`` of one qubit (a sympy expression the
PQC layer compiles); a 2-layer hardware-efficient ansatz (``ry``/``rz`` + CZ ring) follows, and the
four ``<Z_i>`` feed a ``Dense(1, sigmoid)`` head. Everything trains together with ``model.fit``.

Run ``python -m models.hybrid_classifier`` (train, evaluate on the 20 % held-out split, print
``test accuracy: ...``). ``--demo`` additionally exports the model (``--export DIR``), reloads the
export in a fresh Python process and checks its outputs; ``make demo`` runs exactly that.

Example:
    >>> from models import hybrid_classifier as hc
    >>> data = hc.load_data(seed=0)
    >>> model = hc.build_model(n_features=data["x_train"].shape[1])
    >>> model.output_shape
    (None, 1)
"""

import os

from . import _cli  # noqa: E402

EPOCHS = 20


def _add_options(parser):
    parser.add_argument(
        "--demo",
        action="store_true",
        help="progress bars, then export (default artifacts/demo_export) and "
        "check the export in a fresh process",
    )


# Parsed here, before TensorFlow is imported, when run as a program (fast --help and errors).
ARGS = _cli.parse_if_main(
    __name__,
    __package__,
    "hybrid_classifier",
    __doc__,
    EPOCHS,
    add_options=_add_options,
    needs=("sklearn",),
)

import cirq  # noqa: E402
import numpy as np  # noqa: E402
import sympy  # noqa: E402

from . import _common  # noqa: E402
from tfq_layers import PQC, circuits  # noqa: E402
from tfq_layers._keras import keras  # noqa: E402

NAME = "hybrid_classifier"
N_QUBITS = 4
DEMO_EXPORT = os.path.join("artifacts", "demo_export")


def load_data(seed=0, test_fraction=0.2, quick=False):
    """Breast-cancer data (shipped with scikit-learn), stratified split, standardized.

    The scaler is fit on the training split only and applied to both splits.

    Args:
        seed: seed of the train/test split.
        test_fraction: held-out fraction (0 < f < 1).
        quick: keep only 64 training and 32 test examples.

    Returns:
        dict with ``x_train, y_train, x_test, y_test`` (float32 features, int64 0/1 labels; 1 is
        benign) and ``feature_names``.

    Example:
        >>> d = load_data(seed=0)
        >>> d["x_train"].shape, d["x_test"].shape
        ((455, 30), (114, 30))
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    split = _common.stratified_split(
        data.data, data.target, test_fraction, seed, keep=(64, 32) if quick else None
    )
    return {
        **_common.scaled_split(StandardScaler(), *split),
        "feature_names": list(data.feature_names),
    }


def quantum_circuit(n_qubits=N_QUBITS, layers=2):
    """Encoding ``ry(pi * h_i)`` on qubit ``i``, then a hardware-efficient ansatz; ``<Z_i>`` out.

    Args:
        n_qubits: number of qubits (one per compressed feature).
        layers: hardware-efficient layers.

    Returns:
        ``(circuit, input_symbols, observables)``.

    Example:
        >>> circuit, xs, obs = quantum_circuit(4)
        >>> len(xs), len(obs)
        (4, 4)
    """
    qubits = cirq.GridQubit.rect(1, n_qubits)
    xs = sympy.symbols(f"h0:{n_qubits}")
    encoding = cirq.Circuit(cirq.ry(sympy.pi * x).on(q) for q, x in zip(qubits, xs))
    ansatz, _ = circuits.hardware_efficient(qubits, layers=layers)
    return encoding + ansatz, list(xs), circuits.z_observables(qubits)


def build_model(n_features=30, n_qubits=N_QUBITS, layers=2, learning_rate=0.01):
    """The compiled hybrid model ``Dense(n_qubits, tanh) -> PQC -> Dense(1, sigmoid)``.

    Args:
        n_features: number of input features.
        n_qubits: qubits (= width of the classical bottleneck).
        layers: hardware-efficient layers in the circuit.
        learning_rate: Adam learning rate.

    Returns:
        A compiled ``keras.Model`` (binary cross-entropy, accuracy).

    Example:
        >>> build_model(n_features=30).count_params()
        145
    """
    circuit, xs, observables = quantum_circuit(n_qubits, layers)
    inputs = keras.Input((n_features,), name="features")
    h = keras.layers.Dense(n_qubits, activation="tanh", name="compress")(inputs)
    z = PQC(circuit, observables, input_symbols=xs, name="quantum")(h)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="head")(z)
    model = keras.Model(inputs, outputs, name=NAME)
    model.compile(keras.optimizers.Adam(learning_rate), "binary_crossentropy", metrics=["accuracy"])
    return model


def _print_demo_accuracy(run):
    """``--demo``: show the accuracy right after training, before the export chatter."""
    if run.args.demo:
        print(f"test accuracy: {run.accuracy:.3f}", flush=True)
    return _common.final_training_loss(run)


def _check_export(run):
    """``--demo``: reload the export here and in a fresh process; print accuracy and differences."""
    if not run.args.demo:
        return
    export_dir, data, probs = run.args.export, run.data, run.outputs
    served_here, loaded = _common.serve_export(export_dir, data["x_test"])
    print(
        f"export served in this process: max |diff| vs model.predict = "
        f"{np.abs(served_here - probs).max():.2e}"
    )
    served = _common.serve_export_in_fresh_process(export_dir, data["x_test"])
    diff = float(np.abs(served - served_here).max())
    print(
        f"reloaded export (fresh process) test accuracy: "
        f"{_common.binary_accuracy(served, data['y_test']):.3f}"
    )
    print(
        f"fresh-process outputs vs this process's export: max |diff| = {diff:.2e} "
        f"({'identical' if diff == 0.0 else 'MISMATCH'})"
    )
    del loaded
    if diff != 0.0:
        raise SystemExit(f"the export reloaded in a fresh process differs (max |diff| {diff}).")


RECIPE = _common.Recipe(
    NAME,
    "breast cancer (569 x 30, binary)",
    __doc__,
    qubits=N_QUBITS,
    epochs=EPOCHS,
    batch_size=32,
    load_data=load_data,
    build=lambda data: build_model(n_features=data["x_train"].shape[1]),
    accuracy=_common.binary_accuracy,
    after_training=_print_demo_accuracy,
    after_export=_check_export,
)


def main(argv=None):
    """Train, evaluate and (optionally) export/plot/demo; return a :class:`models._common.Result`.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``); see ``--help``.
    """
    if argv is None and ARGS is not None:
        args = ARGS
    else:
        parser = RECIPE.parser()
        _add_options(parser)
        args = parser.parse_args(argv)
    if args.demo and args.export is None:
        args.export = DEMO_EXPORT
    return _common.train_and_report(RECIPE, argv, args=args, verbose=1 if args.demo else 2)


if __name__ == "__main__":
    main()
