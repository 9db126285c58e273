# %% [markdown]
# # 01 · Quick start: a hybrid quantum-classical classifier in Keras
#
# `tfq_layers.PQC` turns a **Cirq circuit with sympy symbols** into an ordinary Keras layer. Its
# output is a vector of expectation values `<psi(x, theta)| O_k |psi(x, theta)>`: the symbols
# listed as `input_symbols` take their values from the layer's input, every other symbol is a
# trainable weight. The circuit is simulated by TensorFlow Quantum's ops, one op call per batch,
# and gradients (adjoint method by default) flow to the circuit weights *and* to the layers
# before it, so the whole model trains with `model.fit`.
#
# This notebook builds the classic hybrid model
#
# `Dense(30 -> 4, tanh)` -> **4-qubit circuit** -> `Dense(1, sigmoid)`
#
# on the Wisconsin breast-cancer data that ships with scikit-learn (no download).
#
# Background: variational circuits as trainable models (Mitarai et al., *Quantum circuit
# learning*, PRA 98, 032309 (2018); Schuld et al., *Circuit-centric quantum classifiers*, PRA
# 101, 032308 (2020)); hardware-efficient ansätze (Kandala et al., Nature 549, 242 (2017));
# TensorFlow Quantum (Broughton et al., arXiv:2003.02989).

# %% tags=["parameters"]
QUICK = False
# Parameters. QUICK = True gives the small settings the test suite runs (a smoke run whose
# numbers mean little); the full settings reach the results quoted in the text.
SEED = 0
EPOCHS = 2 if QUICK else 20  # full: about 10 s on a laptop CPU
LAYERS = 2  # hardware-efficient ansatz layers

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

# %% [markdown]
# ## Data
# 569 tumours, 30 real features, label 1 = benign. Standardize with statistics of the
# training split only.

# %%
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

x, y = load_breast_cancer(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.2, random_state=SEED, stratify=y
)
scaler = StandardScaler().fit(x_train)
x_train = scaler.transform(x_train).astype("float32")
x_test = scaler.transform(x_test).astype("float32")
y_train, y_test = y_train.astype("float32"), y_test.astype("float32")
print("train", x_train.shape, "test", x_test.shape)

# %% [markdown]
# ## The circuit
# Each of the 4 classical outputs `h_i` (in `[-1, 1]` thanks to `tanh`) sets the angle of
# `ry(pi * h_i)` on qubit `i`. Any sympy expression is allowed as a gate angle; the layer
# compiles it to TensorFlow once. A 2-layer hardware-efficient ansatz (`ry`, `rz`, a ring of
# `CZ`) follows; we measure `Z` on every qubit.

# %%
qubits = cirq.GridQubit.rect(1, 4)
h = sympy.symbols("h0:4")  # input symbols
encoding = cirq.Circuit(cirq.ry(sympy.pi * s).on(q) for q, s in zip(qubits, h))
ansatz, weight_symbols = circuits.hardware_efficient(qubits, layers=LAYERS)
circuit = encoding + ansatz
observables = circuits.z_observables(qubits)  # [Z0, Z1, Z2, Z3]
print(len(weight_symbols), "trainable circuit parameters")
SVGCircuit(circuit)

# %% [markdown]
# ## The model: ten lines of Keras

# %%
model = keras.Sequential(
    [
        keras.Input((30,)),
        keras.layers.Dense(4, activation="tanh", name="compress"),
        PQC(circuit, observables, input_symbols=h, name="quantum"),
        keras.layers.Dense(1, activation="sigmoid", name="head"),
    ]
)
model.compile(keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(
    x_train, y_train, epochs=EPOCHS, batch_size=32, validation_data=(x_test, y_test), verbose=2
)
model.summary()

# %%
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {accuracy:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for ax, name in zip(axes, ["loss", "accuracy"]):
    epochs = np.arange(1, len(history.history[name]) + 1)
    ax.plot(epochs, history.history[name], "o-", label="train")
    ax.plot(epochs, history.history["val_" + name], "s--", label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel(name)
    ax.grid(alpha=0.3)
    ax.legend()
fig.suptitle("hybrid classifier: training curves")
fig.tight_layout()
fig.savefig("01_training_curves.png", dpi=100)
plt.show()

# %% [markdown]
# ## What did the quantum layer compute?
# The layer is not a black box: its circuit weights are a `{symbol name: value}` dict away from
# an ordinary Cirq circuit. Resolving every symbol for one example and simulating with Cirq's own
# simulator gives the same expectation values as the layer.

# %%
pqc = model.get_layer("quantum")
features = model.get_layer("compress")(x_test[:1]).numpy()[0]  # h_i of one test example
resolver = {**pqc.symbol_values(), **{s.name: float(v) for s, v in zip(h, features)}}
state = cirq.Simulator().simulate(cirq.resolve_parameters(circuit, resolver)).final_state_vector
index = {q: i for i, q in enumerate(qubits)}
cirq_values = [obs.expectation_from_state_vector(state, index).real for obs in observables]
layer_values = pqc(features[None, :]).numpy()[0]
print("PQC layer :", np.round(layer_values, 5))
print("cirq      :", np.round(cirq_values, 5))
assert np.allclose(layer_values, cirq_values, atol=1e-5)

# %% [markdown]
# ## Next
# * `02_data_reuploading.ipynb`: gate angles `w*x + b`, a 2-qubit universal classifier.
# * `03_qcnn.ipynb`: quantum data (circuits as inputs) and a quantum convolutional network.
# * `04_generators.ipynb`: Born machines and quantum Boltzmann machines.
# * `05_save_export_serve.ipynb`: `.keras` files, SavedModel export, serving in a fresh process.
