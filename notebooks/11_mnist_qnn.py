# %% [markdown]
# # 11 · A quantum neural network for digits, 3 vs. 6 (TFQ's MNIST tutorial on Keras 3)
#
# TensorFlow Quantum's *MNIST classification* tutorial follows Farhi & Neven, *Classification
# with quantum neural networks on near term processors*, arXiv:1802.06002: shrink the images to
# 4x4, remove images that appear with both labels, binarize the pixels, load each image as a
# **basis state of 16 qubits**, and train a readout-qubit network with the hinge loss. It then
# compares the QNN with a classical model of similar size and a full classical CNN.
#
# This notebook runs the same pipeline end to end on Keras 3 with `tfq_layers.compat.layers.PQC`.
# MNIST would be downloaded, so we use scikit-learn's bundled 8x8 **digits** instead (364
# images of 3s and 6s, 70 % for training): every step is the tutorial's, only the data are
# smaller. `tfq_layers.circuits` provides the data encoding (`bits_to_circuits`) and the
# Farhi-Neven network (`readout_qnn`).

# %% tags=["parameters"]
QUICK = False
# Parameters. QUICK = True gives the small settings the test suite runs (a smoke run whose
# numbers mean little); the full settings reach the results quoted in the text.
SEED = 0
EPOCHS = 1 if QUICK else 40  # QNN epochs (batch 32)
N_TRAIN = 48 if QUICK else None  # None: all training images
THRESHOLD = 0.5  # binarization threshold on [0, 1] pixels

# %%
# tfq_layers first: imported before TensorFlow, it keeps TensorFlow's C++ start-up messages
# out of the notebook (set TF_CPP_MIN_LOG_LEVEL=0 before it to see them).
import tfq_layers
from tfq_layers import circuits

import cirq
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from cirq.contrib.svg import SVGCircuit

tf.get_logger().setLevel("ERROR")
keras.utils.set_random_seed(SEED)  # Python, NumPy and TensorFlow seeds
print(
    "tfq_layers",
    tfq_layers.__version__,
    "| keras",
    keras.__version__,
    "| tensorflow",
    tf.__version__,
    "| cirq",
    cirq.__version__,
)

import collections

from tfq_layers.compat import convert_to_tensor  # was: tfq.convert_to_tensor
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tfq_layers.compat import layers as tfql  # was: tfql = tfq.layers

# %% [markdown]
# ## 1. Data: 3s and 6s, downscaled to 4x4
# Labels: `True` for 3, `False` for 6. Pixels are scaled to `[0, 1]` and the 8x8 images resized
# to 4x4 with `tf.image.resize` (bilinear), as the tutorial resizes its 28x28 images.

# %%
x, y = load_digits(return_X_y=True)
keep = (y == 3) | (y == 6)
x, y = x[keep].reshape(-1, 8, 8, 1).astype("float32") / 16.0, y[keep] == 3
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.3, random_state=SEED, stratify=y
)
x_train_small = tf.image.resize(x_train, (4, 4)).numpy()
x_test_small = tf.image.resize(x_test, (4, 4)).numpy()
print(f"{len(x_train)} training images ({y_train.sum()} threes), {len(x_test)} test images")

fig, axes = plt.subplots(1, 4, figsize=(8, 2.3))
for ax, k, image, size in zip(
    axes,
    [0, 0, 1, 1],
    [x_train[0], x_train_small[0], x_train[1], x_train_small[1]],
    ["8x8", "4x4", "8x8", "4x4"],
):
    ax.imshow(image[..., 0], cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"{size}, label {'3' if y_train[k] else '6'}")
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Remove contradicting examples
# Farhi & Neven keep only images that occur with a single label. Like the tutorial, we apply
# the filter to the 4x4 images before binarization (where it removes little) and then show how
# many distinct images are left after binarization.


# %%
def drop_contradictions(images, labels, verbose=True):
    """Keep one copy of each distinct image whose copies all have the same label."""
    seen = collections.OrderedDict()
    for image, label in zip(images, labels):
        entry = seen.setdefault(image.tobytes(), [image, set()])
        entry[1].add(bool(label))
    kept = [(image, next(iter(ls))) for image, ls in seen.values() if len(ls) == 1]
    if verbose:
        both = sum(len(ls) == 2 for _, ls in seen.values())
        threes = sum(ls == {True} for _, ls in seen.values())
        print(
            f"{len(images)} images, {len(seen)} distinct: {threes} only 3, "
            f"{len(seen) - threes - both} only 6, {both} with both labels (dropped)"
        )
    return np.array([k[0] for k in kept]), np.array([k[1] for k in kept])


x_train_nocon, y_train_nocon = drop_contradictions(x_train_small, y_train)
x_train_bin = (x_train_nocon > THRESHOLD).astype("float32")
x_test_bin = (x_test_small > THRESHOLD).astype("float32")
print("after binarization:", end=" ")
_ = drop_contradictions(x_train_bin, y_train_nocon)

# %% [markdown]
# ## 3. Images as quantum data
# One qubit per pixel on a 4x4 grid: an `X` gate wherever the pixel is 1, so each image becomes
# the basis state it spells.

# %%
if N_TRAIN is not None:
    x_train_bin, y_train_nocon = x_train_bin[:N_TRAIN], y_train_nocon[:N_TRAIN]
data_qubits = cirq.GridQubit.rect(4, 4)
train_circuits = circuits.bits_to_circuits(x_train_bin.reshape(len(x_train_bin), -1), data_qubits)
test_circuits = circuits.bits_to_circuits(x_test_bin.reshape(len(x_test_bin), -1), data_qubits)
x_train_q = convert_to_tensor(train_circuits)
x_test_q = convert_to_tensor(test_circuits)
print("pixels set in the first image:", np.argwhere(x_train_bin[0, ..., 0]).tolist())
SVGCircuit(train_circuits[0])

# %% [markdown]
# ## 4. The quantum neural network
# A readout qubit is prepared in `|->` (`X` then `H`); then every data qubit couples to it
# through `XX**w` and then through `ZZ**w` (two layers, 32 weights); a final `H` and we read
# `<Z>` of the readout, a number in `[-1, 1]`. Labels become `±1` and the loss is the hinge
# loss, with an accuracy that compares signs.

# %%
readout = cirq.GridQubit(-1, -1)
qnn_circuit, qnn_symbols = circuits.readout_qnn(data_qubits, readout, gates=("xx", "zz"))
print(len(qnn_symbols), "weights")


def hinge_accuracy(y_true, y_pred):
    """1 where the sign of <Z> is the +-1 label's (one value per example: Keras averages them
    over all examples; a per-batch mean would be averaged over batches instead)."""
    y_true = tf.reshape(tf.cast(y_true, tf.float32), [-1]) > 0
    y_pred = tf.reshape(tf.cast(y_pred, tf.float32), [-1]) > 0
    return tf.cast(y_true == y_pred, tf.float32)


y_train_hinge = 2.0 * y_train_nocon.astype("float32") - 1.0
y_test_hinge = 2.0 * y_test.astype("float32") - 1.0

qnn = keras.Sequential(
    [
        keras.Input(shape=(), dtype="string"),
        tfql.PQC(qnn_circuit, cirq.Z(readout)),
    ],
    name="qnn",
)
qnn.compile(
    loss=keras.losses.Hinge(),
    optimizer=keras.optimizers.Adam(learning_rate=0.01),
    metrics=[hinge_accuracy],
)
qnn_history = qnn.fit(
    x_train_q,
    y_train_hinge,
    batch_size=32,
    epochs=EPOCHS,
    verbose=0,
    validation_data=(x_test_q, y_test_hinge),
)
qnn_accuracy = qnn.evaluate(x_test_q, y_test_hinge, verbose=0)[1]
print(f"QNN: {qnn.count_params()} parameters, test accuracy {qnn_accuracy:.3f}")
SVGCircuit(circuits.readout_qnn(cirq.GridQubit.rect(4, 1), readout)[0])

# %% [markdown]
# ## 5. Classical baselines
# * a **fair** classical model: the same binarized 4x4 images, `Dense(2, relu) -> Dense(1)`,
#   37 parameters (the QNN has 32);
# * a **full** classical CNN on the original 8x8 images (two convolutions, pooling, dropout,
#   `Dense(128)`), as in the tutorial.

# %%
fair = keras.Sequential(
    [
        keras.Input((4, 4, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(2, activation="relu"),
        keras.layers.Dense(1),
    ],
    name="fair_classical",
)
fair.compile(
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    optimizer=keras.optimizers.Adam(learning_rate=0.01),
    metrics=["accuracy"],
)
fair_history = fair.fit(
    x_train_bin,
    y_train_nocon.astype("float32"),
    batch_size=32,
    epochs=max(EPOCHS, 1) * 5,
    verbose=0,
    validation_data=(x_test_bin, y_test.astype("float32")),
)
fair_accuracy = fair.evaluate(x_test_bin, y_test.astype("float32"), verbose=0)[1]

cnn = keras.Sequential(
    [
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Dropout(0.25),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1),
    ],
    name="full_cnn",
)
cnn.compile(
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    optimizer=keras.optimizers.Adam(),
    metrics=["accuracy"],
)
cnn.fit(x_train, y_train.astype("float32"), batch_size=32, epochs=max(EPOCHS // 4, 1), verbose=0)
cnn_accuracy = cnn.evaluate(x_test, y_test.astype("float32"), verbose=0)[1]

results = {
    "QNN (4x4 binary)": (qnn_accuracy, qnn.count_params()),
    "fair classical (4x4 binary)": (fair_accuracy, fair.count_params()),
    "full classical CNN (8x8)": (cnn_accuracy, cnn.count_params()),
}
for name, (accuracy, n_params) in results.items():
    print(f"{name:28s} {n_params:6d} parameters, test accuracy {accuracy:.3f}")

fig, (ax_bar, ax_curve) = plt.subplots(1, 2, figsize=(11, 3.8))
names = list(results)
ax_bar.bar(range(3), [results[n][0] for n in names], color=["C0", "C1", "C2"])
ax_bar.set_xticks(range(3), [f"{n}\n{results[n][1]} params" for n in names], fontsize=8)
ax_bar.set_ylim(0.5, 1.0)
ax_bar.set_ylabel("test accuracy")
ax_bar.set_title("digits 3 vs. 6")
ax_bar.grid(alpha=0.3, axis="y")
epochs = np.arange(1, EPOCHS + 1)
ax_curve.plot(epochs, qnn_history.history["hinge_accuracy"], "o-", ms=3, label="QNN train")
ax_curve.plot(epochs, qnn_history.history["val_hinge_accuracy"], "s-", ms=3, label="QNN test")
ax_curve.set_xlabel("epoch")
ax_curve.set_ylabel("accuracy")
ax_curve.grid(alpha=0.3)
ax_curve.legend()
ax_curve.set_title("QNN training")
fig.tight_layout()
fig.savefig("11_mnist_qnn.png", dpi=100)
plt.show()
if not QUICK:
    assert qnn_accuracy >= 0.85, qnn_accuracy
