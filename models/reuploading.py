"""Data re-uploading classifier (Perez-Salinas et al., Quantum 4, 226 (2020)) on the circle task.

The task is the paper's "circle": points uniform in the square ``[-1, 1]^2``, label 1 inside the
circle of radius ``sqrt(2/pi)`` (which halves the square's area), else 0. The circuit
(:func:`tfq_layers.circuits.reuploading_circuit`) uploads the 2-D point again in every layer: on
each qubit ``ry(w0*x0 + b0) -> rz(w1*x1 + b1) -> ry(b2)``, then ``CZ`` between the two qubits. The
angles ``w*x + b`` are sympy expressions that the PQC layer compiles (TFQ alone rejects them). The
``<Z>`` of both qubits feed a ``Dense(1, sigmoid)`` (3 classical parameters).

Run ``python -m models.reuploading``; with ``--plots DIR`` it also draws the decision boundary.

Example:
    >>> from models import reuploading
    >>> reuploading.build_model().output_shape
    (None, 1)
"""

from . import _cli  # noqa: E402

EPOCHS = 40
# Parsed here, before TensorFlow is imported, when run as a program (fast --help and errors).
ARGS = _cli.parse_if_main(__name__, __package__, "reuploading", __doc__, EPOCHS)

import numpy as np  # noqa: E402

from . import _common  # noqa: E402
from tfq_layers import PQC, circuits  # noqa: E402
from tfq_layers._keras import keras  # noqa: E402

NAME = "reuploading"
N_QUBITS = 2
LAYERS = 3
RADIUS = float(np.sqrt(2.0 / np.pi))


def load_data(seed=0, n_train=400, n_test=200, quick=False):
    """The circle data set: uniform points in ``[-1, 1]^2``, label ``|x| < sqrt(2/pi)``.

    Generated with NumPy (no download); train and test are independent draws.

    Args:
        seed: NumPy seed.
        n_train: training points.
        n_test: held-out points.
        quick: 64 training and 32 test points.

    Returns:
        dict with ``x_train, y_train, x_test, y_test`` (float32 ``(N, 2)``, int64 0/1 labels).

    Example:
        >>> d = load_data(seed=0)
        >>> d["x_train"].shape, float(d["y_train"].mean()) > 0.4
        ((400, 2), True)
    """
    if quick:
        n_train, n_test = 64, 32
    for n, name in ((n_train, "n_train"), (n_test, "n_test")):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name} must be a positive int; got {n!r}.")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n_train + n_test, 2)).astype(np.float32)
    y = (np.linalg.norm(x, axis=1) < RADIUS).astype(np.int64)
    return {
        "x_train": x[:n_train],
        "y_train": y[:n_train],
        "x_test": x[n_train:],
        "y_test": y[n_train:],
    }


def build_model(n_qubits=N_QUBITS, layers=LAYERS, learning_rate=0.05):
    """The compiled re-uploading model ``PQC(w*x + b angles) -> Dense(1, sigmoid)``.

    Args:
        n_qubits: 1 or 2 qubits (more work too).
        layers: re-uploading layers (``5 * n_qubits * layers`` circuit parameters).
        learning_rate: Adam learning rate.

    Returns:
        A compiled ``keras.Model`` (binary cross-entropy, accuracy).

    Example:
        >>> build_model(n_qubits=1, layers=3).count_params()
        17
    """
    circuit, xs, _ = circuits.reuploading_circuit(n_qubits, n_features=2, layers=layers)
    inputs = keras.Input((2,), name="point")
    z = PQC(
        circuit,
        circuits.z_observables(n_qubits),
        input_symbols=xs,
        name="quantum",
        initializer=keras.initializers.RandomUniform(-np.pi, np.pi),
    )(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="head")(z)
    model = keras.Model(inputs, outputs, name=NAME)
    model.compile(keras.optimizers.Adam(learning_rate), "binary_crossentropy", metrics=["accuracy"])
    return model


def plot_decision_boundary(model, data, path, resolution=80):
    """Predicted class-1 probability on a grid over ``[-1, 1]^2``, the true circle and test points.

    Args:
        model: the trained model.
        data: the dict from :func:`load_data`.
        path: output PNG.
        resolution: grid points per axis.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(-1.0, 1.0, resolution, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    prob = model.predict(points, verbose=0, batch_size=1024).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    mesh = ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
    ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=1.5)
    t = np.linspace(0, 2 * np.pi, 200)
    ax.plot(RADIUS * np.cos(t), RADIUS * np.sin(t), "k--", lw=1, label="true boundary")
    x, y = data["x_test"], data["y_test"]
    ax.scatter(x[y == 1, 0], x[y == 1, 1], s=10, c="darkred", label="test: inside")
    ax.scatter(x[y == 0, 0], x[y == 0, 1], s=10, c="navy", label="test: outside")
    fig.colorbar(mesh, ax=ax, label="P(inside)")
    ax.set_aspect("equal")
    ax.set_title("data re-uploading: decision boundary (solid)")
    ax.legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    _common.save_figure(fig, path)
    return path


RECIPE = _common.Recipe(
    NAME,
    "circle in [-1,1]^2 (2-D, binary)",
    __doc__,
    qubits=N_QUBITS,
    epochs=EPOCHS,
    batch_size=32,
    load_data=load_data,
    build=lambda data: build_model(),
    accuracy=_common.binary_accuracy,
    figures={"boundary": lambda run, path: plot_decision_boundary(run.model, run.data, path)},
)


def main(argv=None):
    """Train, evaluate, optionally export/plot; return a :class:`models._common.Result`.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``); see ``--help``.
    """
    return _common.train_and_report(RECIPE, argv, args=ARGS if argv is None else None)


if __name__ == "__main__":
    main()
