"""Iris (3 classes) with angle encoding + strongly entangling layers on 4 qubits.

Each of the 4 features, min-max scaled to ``[0, pi]`` on the training split, sets an ``rx`` angle
on its own qubit (:func:`tfq_layers.circuits.angle_encoding`); ``L`` strongly entangling layers
(:func:`tfq_layers.circuits.strongly_entangling`, Schuld et al. 2020) follow, and the four
``<Z_i>`` feed a ``Dense(3, softmax)`` head (15 classical parameters).

Run ``python -m models.iris``; it prints ``test accuracy: ...`` on the 30 % held-out split.

Example:
    >>> from models import iris
    >>> iris.build_model().output_shape
    (None, 3)
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from models import _common  # noqa: E402
from tfq_layers import PQC, circuits  # noqa: E402
from tfq_layers._keras import keras  # noqa: E402

NAME = "iris"
TASK = "Iris (150 x 4, 3 classes)"
EPOCHS = 30
QUICK_EPOCHS = 2
N_QUBITS = 4
LAYERS = 3


def load_data(seed=0, test_fraction=0.3, quick=False):
    """Iris (shipped with scikit-learn), stratified split, features scaled to ``[0, pi]``.

    The min-max scaler is fit on the training split only (test values may fall slightly outside
    ``[0, pi]``, which is harmless for rotation angles).

    Args:
        seed: seed of the split.
        test_fraction: held-out fraction (0 < f < 1).
        quick: keep 32 training and 16 test examples.

    Returns:
        dict with ``x_train, y_train, x_test, y_test`` (float32 ``(N, 4)``, int64 labels 0..2)
        and ``class_names``.

    Example:
        >>> d = load_data(seed=0)
        >>> d["x_train"].shape, d["x_test"].shape
        ((105, 4), (45, 4))
    """
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MinMaxScaler

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction!r}.")
    data = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=test_fraction, random_state=seed, stratify=data.target)
    if quick:
        x_train, y_train, x_test, y_test = x_train[:32], y_train[:32], x_test[:16], y_test[:16]
    scaler = MinMaxScaler(feature_range=(0.0, np.pi)).fit(x_train)
    return {
        "x_train": scaler.transform(x_train).astype(np.float32),
        "y_train": y_train.astype(np.int64),
        "x_test": scaler.transform(x_test).astype(np.float32),
        "y_test": y_test.astype(np.int64),
        "class_names": list(data.target_names),
    }


def build_model(layers=LAYERS, learning_rate=0.05):
    """The compiled model: ``rx`` angle encoding + strongly entangling layers -> ``Dense(3)``.

    Args:
        layers: strongly entangling layers (``12 * layers`` circuit parameters).
        learning_rate: Adam learning rate.

    Returns:
        A compiled ``keras.Model`` (sparse categorical cross-entropy, accuracy).

    Example:
        >>> build_model(layers=2).count_params()
        39
    """
    encoding, xs = circuits.angle_encoding(N_QUBITS, rotation="rx")
    ansatz, _ = circuits.strongly_entangling(N_QUBITS, layers=layers)
    inputs = keras.Input((N_QUBITS,), name="features")
    z = PQC(encoding + ansatz, circuits.z_observables(N_QUBITS), input_symbols=xs,
            name="quantum")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(z)
    model = keras.Model(inputs, outputs, name=NAME)
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv=None):
    """Train, evaluate, optionally export/plot; return a :class:`models._common.Result`.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``); see ``--help``.
    """
    parser = _common.make_parser(f"python -m models.{NAME}", __doc__.split("\n")[0], EPOCHS)
    args = parser.parse_args(argv)
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else EPOCHS)
    _common.set_seed(args.seed)
    with _common.Timer() as timer:
        data = load_data(seed=args.seed, quick=args.quick)
        with _common.strategy_scope(args):
            model = build_model()
        history = model.fit(data["x_train"], data["y_train"], epochs=epochs, batch_size=16,
                            validation_data=(data["x_test"], data["y_test"]), verbose=2)
        probs = model.predict(data["x_test"], verbose=0)
        accuracy = float(np.mean(probs.argmax(axis=1) == data["y_test"]))
    quantum, classical = _common.count_params(model)
    result = _common.Result(NAME, TASK, N_QUBITS, quantum, classical, epochs, "test accuracy",
                            accuracy, timer.seconds, _common.command(f"models.{NAME}", argv),
                            {"final training loss": float(history.history["loss"][-1])})
    result.history = history
    if args.plots:
        _common.plot_history(history, os.path.join(args.plots, f"{NAME}_training.png"),
                             f"{NAME}: {TASK} (validation = held-out test split)")
    if args.export and _common.is_chief():
        _common.export_model(model, args.export)
    _common.report(result)
    return result


if __name__ == "__main__":
    main()
