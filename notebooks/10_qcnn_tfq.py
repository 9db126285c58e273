# %% [markdown]
# # 10 · TFQ's QCNN tutorial on Keras 3: `AddCircuit`, `PQC`, and hybrid quantum filters
#
# Notebook 03 builds a QCNN with the native `tfq_layers.PQC`. This one follows TensorFlow
# Quantum's own *Quantum Convolutional Neural Network* tutorial with its layers, now
# `tfq_layers.compat.layers` on Keras 3:
#
# * quantum data in: each example is a one-gate circuit, `rx(φ)` on one of 8 qubits, and the
#   label says whether the rotation is small (`|φ| <= π/2`, label `+1`) or large (label `-1`);
# * `AddCircuit` **prepends** the 8-qubit cluster-state preparation to every example inside the
#   model (so the data only carry the excitation);
# * three models: the full QCNN `8 -> 4 -> 2 -> 1` (a `PQC` reading `<Z>` of the last qubit), a
#   hybrid with one quantum filter (one convolution + pooling level, `<Z>` of 4 qubits, then
#   `Dense(8) -> Dense(1)`), and a hybrid with three independent quantum filters whose 12
#   outputs a `Dense(8) -> Dense(1)` head combines.
#
# The circuit pieces (two-qubit unitary, pooling, convolution and pooling layers, cluster state)
# come from `tfq_layers.circuits`, which builds exactly the tutorial's gates.

# %% tags=["parameters"]
QUICK = False
# Parameters. QUICK = True gives the small settings the test suite runs (a smoke run whose
# numbers mean little); the full settings reach the results quoted in the text.
SEED = 0
EPOCHS = 1 if QUICK else 25  # the tutorial: 25 epochs, batch 16, Adam(0.02), MSE
ROUNDS = 2 if QUICK else 20  # examples = ROUNDS * 8 (70 % train, 30 % test)

# %%
# tfq_layers first: imported before TensorFlow, it keeps TensorFlow's C++ start-up messages
# out of the notebook (set TF_CPP_MIN_LOG_LEVEL=0 before it to see them).
import tfq_layers
from tfq_layers import PQC, circuits

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

from tfq_layers.compat import convert_to_tensor, from_tensor  # were: tfq.convert_to_tensor, ...
from tfq_layers.compat import layers as tfql  # was: tfql = tfq.layers

# %% [markdown]
# ## `AddCircuit`: building circuits inside the graph
# `AddCircuit` appends (or prepends) a fixed circuit to every circuit of a `tf.string` batch.

# %%
q = cirq.GridQubit(0, 0)
batch = convert_to_tensor([cirq.Circuit(cirq.X(q)), cirq.Circuit(cirq.H(q))])
appended = tfql.AddCircuit()(batch, append=cirq.Circuit(cirq.Y(q)))
for before, after in zip(from_tensor(batch), from_tensor(appended)):
    print(repr(str(before)), "->", repr(str(after)))

# %% [markdown]
# ## Data
# `ROUNDS` times, one example per qubit: `rx(φ)` with `φ` uniform in `[-π, π]`. The cluster
# state is added by the model, not by the data.

# %%
qubits = cirq.GridQubit.rect(1, 8)
rng = np.random.default_rng(SEED)
examples, labels = [], []
for _ in range(ROUNDS):
    for bit in qubits:
        phi = rng.uniform(-np.pi, np.pi)
        examples.append(cirq.Circuit(cirq.rx(phi).on(bit)))
        labels.append(1.0 if abs(phi) <= np.pi / 2 else -1.0)
split = int(0.7 * len(examples))
x_train, x_test = convert_to_tensor(examples[:split]), convert_to_tensor(examples[split:])
y_train = np.array(labels[:split], "float32")
y_test = np.array(labels[split:], "float32")
print(
    f"{split} training and {len(examples) - split} test circuits; first: "
    f"{examples[0]!s} -> label {labels[0]:+.0f}"
)
cluster = circuits.cluster_state_circuit(qubits)
SVGCircuit(cluster)

# %% [markdown]
# ## The QCNN: 63 parameters, 8 -> 4 -> 2 -> 1
# `circuits.qcnn(qubits)` stacks three levels of (periodic convolution with 15 shared
# parameters, pooling with 6 shared parameters). Below, one level on 8 qubits.

# %%
qcnn_circuit, qcnn_symbols, readout = circuits.qcnn(qubits)
print(len(qcnn_symbols), "parameters; readout qubit", readout)


def filter_circuit(prefix):
    """One QCNN level on 8 qubits: convolution, then pooling of qubits 0-3 into 4-7."""
    conv, _ = circuits.quantum_conv(qubits, prefix=prefix + "c")
    pool, _ = circuits.quantum_pool(qubits[:4], qubits[4:], prefix=prefix + "p")
    return conv + pool


SVGCircuit(filter_circuit("f"))


# %%
def hinge_accuracy(y_true, y_pred):
    """1 where the output has the sign of the +-1 label (Keras averages over examples)."""
    y_true = tf.reshape(tf.cast(y_true, tf.float32), [-1])
    y_pred = tf.reshape(tf.cast(y_pred, tf.float32), [-1])
    return tf.cast((y_true > 0) == (y_pred >= 0), tf.float32)


def train(model, name):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.02), loss="mse", metrics=[hinge_accuracy]
    )
    history = model.fit(
        x_train, y_train, batch_size=16, epochs=EPOCHS, verbose=0, validation_data=(x_test, y_test)
    )
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"{name:36s}: {model.count_params():4d} parameters, test accuracy {accuracy:.3f}")
    return history, accuracy


readouts = [cirq.Z(bit) for bit in qubits[4:]]
excitations = keras.Input(shape=(), dtype="string", name="excitations")
cluster_states = tfql.AddCircuit()(excitations, prepend=cluster)

qcnn = keras.Model(
    excitations, tfql.PQC(qcnn_circuit, cirq.Z(readout))(cluster_states), name="qcnn"
)
one = tfql.PQC(filter_circuit("f"), readouts)(cluster_states)
hybrid = keras.Model(excitations, keras.layers.Dense(1)(keras.layers.Dense(8)(one)), name="hybrid")
filters = [
    tfql.PQC(filter_circuit("f"), readouts, name=f"quantum_filter_{k}")(cluster_states)
    for k in range(3)
]
multi = keras.Model(
    excitations,
    keras.layers.Dense(1)(keras.layers.Dense(8)(keras.layers.Concatenate()(filters))),
    name="multi_filter",
)

runs = {}
for name, model in (
    ("QCNN", qcnn),
    ("hybrid, 1 quantum filter", hybrid),
    ("hybrid, 3 quantum filters", multi),
):
    runs[name] = train(model, name)

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.8))
epochs = np.arange(1, EPOCHS + 1)
for name, (history, accuracy) in runs.items():
    ax_loss.plot(epochs, history.history["val_loss"], "o-", ms=3, label=name)
    ax_acc.plot(
        epochs, history.history["val_hinge_accuracy"], "o-", ms=3, label=f"{name} ({accuracy:.2f})"
    )
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("test loss (MSE)")
ax_acc.set_xlabel("epoch")
ax_acc.set_ylabel("test accuracy")
ax_acc.set_title("quantum vs. hybrid CNNs on excited cluster states")
for ax in (ax_loss, ax_acc):
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig("10_qcnn_tfq.png", dpi=100)
plt.show()
if not QUICK:
    assert min(accuracy for _, accuracy in runs.values()) > 0.8

# %% [markdown]
# ## The same QCNN with the native layer
# Natively, circuits are composed in Cirq before they reach a layer: the test data become
# `cluster + example` (the excitation comes *after* the cluster-state preparation, which is
# what `AddCircuit(prepend=...)` did inside the model) and `tfq_layers.PQC(qcnn_circuit, Z)`
# appends the QCNN. Given the compat model's trained weights, matched by symbol name, it
# computes the same outputs.

# %%
native_test = convert_to_tensor([cluster + example for example in examples[split:]])
native = PQC(qcnn_circuit, cirq.Z(readout))
native(native_test)  # builds the weights
compat_layer = [layer for layer in qcnn.layers if isinstance(layer, tfql.PQC)][0]
# TFQ's symbol_values() is keyed by sympy.Symbol, the native layer's by name
trained = {str(symbol): value for symbol, value in compat_layer.symbol_values().items()}
native.set_weights([np.array([trained[s] for s in native.symbol_values()], "float32")])
same = np.allclose(native(native_test).numpy(), qcnn.predict(x_test, verbose=0), atol=1e-5)
print("native PQC with the trained weights gives the same outputs:", same)
assert same
