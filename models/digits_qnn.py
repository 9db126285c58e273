"""Farhi-Neven QNN on quantum data: digits 3 vs 6 (the TFQ MNIST tutorial, on scikit-learn digits).

Recipe, following TensorFlow Quantum's "MNIST classification" tutorial with scikit-learn's 8x8
``load_digits`` in place of MNIST (which would need a download):

1. keep the digits 3 and 6 (label +1 for 3, -1 for 6); stratified 75/25 train/test split;
2. downsample 8x8 -> 4x4 by averaging 2x2 blocks, scale to ``[0, 1]``;
3. remove contradictory training examples: 4x4 images that occur with both labels are dropped
   (every copy), as the tutorial does (the test split is left as is);
4. binarize at 0.5 and encode each image as a quantum-data circuit: ``X`` on the qubit
   ``GridQubit(r, c)`` of every set pixel (:func:`tfq_layers.circuits.qnn.bits_to_circuits`);
5. model circuit (:func:`tfq_layers.circuits.qnn.readout_qnn`): readout qubit ``GridQubit(-1, -1)``
   prepared in ``|->``, one ``XX**w`` and one ``ZZ**w`` layer coupling each of the 16 data qubits to
   the readout, ``H`` on the readout; prediction ``<Z_readout>``; hinge loss on +-1 labels.

A classical network with a similar parameter count (``Flatten -> Dense(2, relu) -> Dense(1)``,
37 parameters vs the QNN's 32) trains on the same binarized 4x4 images, as in the tutorial.

Run ``python -m models.digits_qnn``; it prints both accuracies, the QNN's last.

Example:
    >>> from models import digits_qnn
    >>> d = digits_qnn.load_data(seed=0)
    >>> d["bits_train"].shape[1:]
    (4, 4)
"""

from . import _cli  # noqa: E402

EPOCHS = 8
# Parsed here, before TensorFlow is imported, when run as a program (fast --help and errors).
ARGS = _cli.parse_if_main(__name__, __package__, "digits_qnn", __doc__, EPOCHS)

import cirq  # noqa: E402
import numpy as np  # noqa: E402
from . import _common  # noqa: E402
from tfq_layers import PQC  # noqa: E402
from tfq_layers.compat import convert_to_tensor  # noqa: E402
from tfq_layers._keras import keras  # noqa: E402
from tfq_layers.circuits import qnn  # noqa: E402

NAME = "digits_qnn"
CLASSICAL_EPOCHS = 100
DATA_QUBITS = cirq.GridQubit.rect(4, 4)
READOUT = cirq.GridQubit(-1, -1)


def downsample(images):
    """Average 2x2 blocks: ``(N, 8, 8)`` images with values 0..16 -> ``(N, 4, 4)`` in ``[0, 1]``.

    Args:
        images: array of shape ``(N, 8, 8)`` (scikit-learn ``load_digits().images``).

    Returns:
        float32 array ``(N, 4, 4)``.

    Example:
        >>> float(downsample(np.full((1, 8, 8), 16.0)).max())
        1.0
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(f"images must have shape (N, 8, 8); got {images.shape}.")
    return images.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)) / 16.0


def remove_contradicting(images, labels):
    """Drop every copy of an image that appears with more than one label (TFQ tutorial step).

    Images that repeat with a single label are all kept.

    Args:
        images: array ``(N, ...)`` (compared exactly, so binarize first).
        labels: array ``(N,)``.

    Returns:
        ``(images, labels, n_removed)``.

    Example:
        >>> x = np.array([[0, 1], [0, 1], [1, 1]]); y = np.array([1, -1, 1])
        >>> remove_contradicting(x, y)[2]
        2
    """
    images, labels = np.asarray(images), np.asarray(labels)
    keys = [img.tobytes() for img in images]
    seen = {}
    for key, label in zip(keys, labels):
        seen.setdefault(key, set()).add(label.item())
    keep = np.array([len(seen[key]) == 1 for key in keys], dtype=bool)
    return images[keep], labels[keep], int((~keep).sum())


def load_data(seed=0, test_fraction=0.25, threshold=0.5, quick=False):
    """Digits 3 vs 6 as binarized 4x4 images and quantum-data circuits (no download).

    Args:
        seed: seed of the stratified split.
        test_fraction: held-out fraction (0 < f < 1).
        threshold: binarization threshold on the ``[0, 1]`` downsampled images.
        quick: keep 48 training and 24 test examples.

    Returns:
        dict with ``bits_train, bits_test`` (int64 ``(N, 4, 4)``), ``y_train, y_test`` (float32
        +-1; +1 is a 3), ``circuits_train, circuits_test`` (``tf.string`` tensors from
        ``convert_to_tensor``), ``n_contradicting`` (training examples removed) and
        ``n_train_before`` (training examples before the removal).

    Example:
        >>> d = load_data(seed=0, quick=True)
        >>> d["circuits_train"].shape[0] == d["y_train"].shape[0]
        True
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = np.isin(digits.target, (3, 6))
    images, labels = digits.images[keep], np.where(digits.target[keep] == 3, 1.0, -1.0)
    x_train, y_train, x_test, y_test = _common.stratified_split(
        images, labels, test_fraction, seed, keep=(48, 24) if quick else None
    )
    bits_train = (downsample(x_train) > threshold).astype(np.int64)
    bits_test = (downsample(x_test) > threshold).astype(np.int64)
    n_before = len(bits_train)
    bits_train, y_train, removed = remove_contradicting(bits_train, y_train)
    return {
        "bits_train": bits_train,
        "y_train": y_train.astype(np.float32),
        "bits_test": bits_test,
        "y_test": y_test.astype(np.float32),
        "circuits_train": convert_to_tensor(qnn.bits_to_circuits(bits_train, DATA_QUBITS)),
        "circuits_test": convert_to_tensor(qnn.bits_to_circuits(bits_test, DATA_QUBITS)),
        "n_contradicting": removed,
        "n_train_before": n_before,
    }


def build_model(learning_rate=0.02):
    """The compiled Farhi-Neven QNN: quantum-data circuits in, ``<Z_readout>`` out, hinge loss.

    Args:
        learning_rate: Adam learning rate.

    Returns:
        A compiled ``keras.Model`` with a ``(batch,)`` ``tf.string`` input.

    Example:
        >>> build_model().count_params()
        32
    """
    circuit, _ = qnn.readout_qnn(DATA_QUBITS, READOUT, gates=("xx", "zz"))
    inputs = keras.Input(shape=(), dtype="string", name="circuits")
    outputs = PQC(circuit, cirq.Z(READOUT), name="quantum")(inputs)
    model = keras.Model(inputs, outputs, name=NAME)
    model.compile(
        keras.optimizers.Adam(learning_rate), keras.losses.Hinge(), metrics=[_common.hinge_accuracy]
    )
    return model


def build_classical_model(learning_rate=0.02):
    """The tutorial's "fair" classical model: ``Flatten(4x4) -> Dense(2, relu) -> Dense(1)``.

    37 parameters, trained with binary cross-entropy on logits (labels 0/1).

    Example:
        >>> build_classical_model().count_params()
        37
    """
    model = keras.Sequential(
        [
            keras.Input((4, 4), name="pixels"),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="relu"),
            keras.layers.Dense(1),
        ],
        name="classical_baseline",
    )
    model.compile(
        keras.optimizers.Adam(learning_rate),
        keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[],
    )
    return model


def plot_examples(data, path, n=8):
    """The first ``n`` binarized 4x4 training images with their labels, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = min(n, len(data["bits_train"]))
    fig, axes = plt.subplots(1, n, figsize=(1.3 * n, 1.6), squeeze=False)
    for ax, img, y in zip(axes[0], data["bits_train"], data["y_train"]):
        ax.imshow(img, cmap="gray_r", vmin=0, vmax=1)
        ax.set_title("3" if y > 0 else "6")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("4x4 binarized training digits (X on the qubit of each dark pixel)", fontsize=8)
    fig.tight_layout()
    _common.save_figure(fig, path)
    return path


def _print_data_sizes(run):
    """Training examples before/after removing contradictions, and test examples."""
    data = run.data
    print(
        f"training examples: {data['n_train_before']} -> {len(data['y_train'])} after "
        f"removing {data['n_contradicting']} contradictory; test examples: "
        f"{len(data['y_test'])}"
    )


def _classical_baseline(run):
    """Train the classical baseline on the same images (timed on its own); its extra numbers."""
    data = run.data
    with _common.Timer() as timer:
        classical = build_classical_model()
        epochs = RECIPE.quick_epochs if run.args.quick else CLASSICAL_EPOCHS
        classical.fit(
            data["bits_train"].astype(np.float32),
            (data["y_train"] > 0).astype(np.float32),
            epochs=epochs,
            batch_size=16,
            verbose=0,
        )
        logits = classical.predict(data["bits_test"].astype(np.float32), verbose=0)
        accuracy = _common.sign_accuracy(logits, data["y_test"])
    return {
        f"classical baseline ({classical.count_params()} params, {epochs} epochs, "
        f"{timer.seconds:.1f} s) test accuracy": accuracy,
        "contradictory training examples removed": data["n_contradicting"],
    }


RECIPE = _common.Recipe(
    NAME,
    "digits 3 vs 6, 4x4 binarized (quantum data)",
    __doc__,
    qubits=len(DATA_QUBITS) + 1,
    epochs=EPOCHS,
    batch_size=16,
    load_data=load_data,
    build=lambda data: build_model(),
    inputs="circuits",
    accuracy=_common.sign_accuracy,
    after_load=_print_data_sizes,
    after_training=_classical_baseline,
    figures={"examples": lambda run, path: plot_examples(run.data, path)},
)


def main(argv=None):
    """Train the QNN and the classical baseline; return a :class:`models._common.Result`.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``); see ``--help``.
    """
    return _common.train_and_report(RECIPE, argv, args=ARGS if argv is None else None)


if __name__ == "__main__":
    main()
