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

from . import _cli  # noqa: E402

EPOCHS = 30
# Parsed here, before TensorFlow is imported, when run as a program (fast --help and errors).
ARGS = _cli.parse_if_main(__name__, __package__, "iris", __doc__, EPOCHS, needs=("sklearn",))

import numpy as np  # noqa: E402

from . import _common  # noqa: E402
from tfq_layers import PQC, circuits  # noqa: E402
from tfq_layers._keras import keras  # noqa: E402

NAME = "iris"
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
    from sklearn.preprocessing import MinMaxScaler

    data = load_iris()
    split = _common.stratified_split(
        data.data, data.target, test_fraction, seed, keep=(32, 16) if quick else None
    )
    return {
        **_common.scaled_split(MinMaxScaler(feature_range=(0.0, np.pi)), *split),
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
    z = PQC(encoding + ansatz, circuits.z_observables(N_QUBITS), input_symbols=xs, name="quantum")(
        inputs
    )
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(z)
    model = keras.Model(inputs, outputs, name=NAME)
    model.compile(
        keras.optimizers.Adam(learning_rate),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


RECIPE = _common.Recipe(
    NAME,
    "Iris (150 x 4, 3 classes)",
    __doc__,
    qubits=N_QUBITS,
    epochs=EPOCHS,
    batch_size=16,
    load_data=load_data,
    build=lambda data: build_model(),
    accuracy=_common.argmax_accuracy,
)


def main(argv=None):
    """Train, evaluate, optionally export/plot; return a :class:`models._common.Result`.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``); see ``--help``.
    """
    return _common.train_and_report(RECIPE, argv, args=ARGS if argv is None else None)


if __name__ == "__main__":
    main()
