# %% [markdown]
# # 03 · Quantum convolutional neural network on excited cluster states
#
# A QCNN (Cong, Choi & Lukin, *Quantum convolutional neural networks*, Nature Physics 15, 1273
# (2019)) mirrors a CNN: **convolution** layers apply the same parameterized two-qubit unitary
# to neighbouring qubits, **pooling** layers measure-and-control (here: a controlled unitary from
# each discarded qubit into a kept one), halving the qubits at every level, `8 -> 4 -> 2 -> 1`.
# The parameters are shared within a level, so the network has only 63 of them.
#
# The input here is **quantum data**: each example is a circuit preparing a state, not a
# vector of numbers. We use the 8-qubit ring *cluster state* (Briegel & Raussendorf, PRL 86, 910
# (2001)) and ask the QCNN whether one qubit is excited, as in TensorFlow Quantum's QCNN
# tutorial. `tfq.datasets.excited_cluster_states` gives the cluster state with an `X` on one
# qubit (label +1) or none (label -1); a random `rx(eps)`, `|eps| < pi/2`, on one qubit makes
# every example different. Because `rx(eps) X = rx(eps + pi)` up to a phase, an example is
# "a cluster state with `rx(theta)` on one qubit" and the label says whether `|theta| > pi/2`.
# Near `|theta| = pi/2` the two classes are indistinguishable, so 100 % is out of reach.

# %% tags=["parameters"]
QUICK = False
# Parameters. QUICK = True gives the small settings the test suite runs (a smoke run whose
# numbers mean little); the full settings reach the results quoted in the text.
SEED = 0
EPOCHS = 2 if QUICK else 25  # full: about 40 s on a laptop CPU
N_TRAIN, N_TEST = (32, 16) if QUICK else (160, 80)

# %%
# tfq_layers first: imported before TensorFlow, it keeps TensorFlow's C++ start-up messages
# out of the notebook (set TF_CPP_MIN_LOG_LEVEL=0 before it to see them).
import tfq_layers
from tfq_layers import PQC, circuits

import cirq
import keras
import matplotlib.pyplot as plt
import numpy as np
import sympy
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

import tensorflow_quantum as tfq

# %%
qubits = cirq.GridQubit.rect(1, 8)
base_circuits, base_labels = tfq.datasets.excited_cluster_states(qubits)
excited = [i for i, label in enumerate(base_labels) if label == 1]  # X on qubit i
ground = base_circuits[[i for i, label in enumerate(base_labels) if label == -1][0]]


def make_examples(n, rng):
    """n circuits (cluster state, maybe excited, then rx(eps) on one qubit), labels, angles."""
    data, labels, thetas = [], [], []
    for _ in range(n):
        eps = rng.uniform(-np.pi / 2, np.pi / 2)
        if rng.random() < 0.5:  # excited: rx(eps) on the excited qubit
            k = int(rng.choice(excited))
            data.append(base_circuits[k] + cirq.rx(eps).on(qubits[k]))
            labels.append(1.0)
            thetas.append(eps + np.pi)
        else:  # not excited: rx(eps) on a random qubit
            k = int(rng.integers(len(qubits)))
            data.append(ground + cirq.rx(eps).on(qubits[k]))
            labels.append(-1.0)
            thetas.append(eps)
    return data, np.array(labels, "float32"), np.array(thetas, "float32")


rng = np.random.default_rng(SEED)
train_circuits, y_train, theta_train = make_examples(N_TRAIN, rng)
test_circuits, y_test, theta_test = make_examples(N_TEST, rng)
x_train = tfq.convert_to_tensor(train_circuits)  # tf.string tensor of serialized circuits
x_test = tfq.convert_to_tensor(test_circuits)
print(x_train.shape, x_train.dtype, "| labels +1:", int((y_train > 0).sum()), "of", len(y_train))
SVGCircuit(train_circuits[0])

# %% [markdown]
# ## The QCNN
# `circuits.qcnn(qubits)` stacks, per level, a periodic convolution (the same general 15-parameter
# two-qubit unitary on every neighbouring pair) and a pooling block (6 parameters) from the first
# half of the active qubits into the second half. Below: the convolution unitary on two qubits.

# %%
conv_symbols = sympy.symbols(f"c0:{circuits.CONV_PARAMS}")
SVGCircuit(circuits.two_qubit_unitary(qubits[0], qubits[1], conv_symbols))

# %% [markdown]
# A `PQC` without `input_symbols` takes quantum data: its input is the `tf.string` tensor of
# circuits, and the model circuit is appended to each. The output is `<Z>` of the last qubit,
# trained with the hinge loss against the ±1 labels.

# %%
qcnn_circuit, qcnn_symbols, readout = circuits.qcnn(qubits)
print(len(qcnn_symbols), "parameters, readout on", readout)


def hinge_accuracy(y_true, y_pred):
    """Fraction of examples whose prediction has the sign of the +-1 label."""
    y_true = tf.reshape(tf.cast(y_true, tf.float32), [-1])
    y_pred = tf.reshape(y_pred, [-1])
    return tf.reduce_mean(tf.cast((y_true > 0) == (y_pred > 0), tf.float32))


inputs = keras.Input(shape=(), dtype="string", name="cluster_states")
outputs = PQC(qcnn_circuit, cirq.Z(readout), name="qcnn")(inputs)
model = keras.Model(inputs, outputs)
model.compile(keras.optimizers.Adam(0.05), loss=keras.losses.Hinge(), metrics=[hinge_accuracy])
history = model.fit(
    x_train, y_train, epochs=EPOCHS, batch_size=16, validation_data=(x_test, y_test), verbose=2
)

# %%
out = model.predict(x_test, verbose=0).reshape(-1)
print(f"test accuracy: {np.mean(np.sign(out) == y_test):.3f}")
theta = (theta_test + np.pi) % (2 * np.pi) - np.pi  # wrap to [-pi, pi)

fig, (ax, ax_curve) = plt.subplots(1, 2, figsize=(11, 3.6))
for label, colour, name in ((1.0, "darkred", "excited (+1)"), (-1.0, "navy", "not excited (-1)")):
    mask = y_test == label
    ax.scatter(theta[mask], out[mask], s=14, c=colour, label=name)
for edge in (-np.pi / 2, np.pi / 2):
    ax.axvline(edge, color="gray", ls=":")
ax.axhline(0, color="k", lw=0.8)
ax.set_xlabel("equivalent excitation angle theta")
ax.set_ylabel("QCNN output <Z>")
ax.legend(fontsize=7)
ax.set_title("test predictions")
epochs = np.arange(1, EPOCHS + 1)
ax_curve.plot(epochs, history.history["loss"], label="train")
ax_curve.plot(epochs, history.history["val_loss"], label="test")
ax_curve.set_xlabel("epoch")
ax_curve.set_ylabel("hinge loss")
ax_curve.grid(alpha=0.3)
ax_curve.legend()
fig.tight_layout()
fig.savefig("03_qcnn_predictions.png", dpi=100)
plt.show()

# %% [markdown]
# ## Check against Cirq
# The model's output for one test example equals `<Z>` on the readout qubit of the data circuit
# followed by the QCNN with the trained weights, simulated by Cirq.

# %%
weights = model.get_layer("qcnn").symbol_values()
full = test_circuits[0] + cirq.resolve_parameters(qcnn_circuit, weights)
state = cirq.Simulator().simulate(full, qubit_order=qubits).final_state_vector
expected = (
    cirq.Z(readout).expectation_from_state_vector(state, {q: i for i, q in enumerate(qubits)}).real
)
print(f"model {out[0]:+.5f}   cirq {expected:+.5f}")
assert abs(out[0] - expected) < 1e-4
