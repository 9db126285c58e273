# %% [markdown]
# # 02 · Data re-uploading: a universal classifier with two qubits
#
# Pérez-Salinas, Cervera-Lierta, Gil-Fuster & Latorre, *Data re-uploading for a universal quantum
# classifier*, Quantum 4, 226 (2020), showed that a single qubit becomes a flexible classifier if
# the data is loaded **again in every layer**, each time with trainable weights and biases:
#
# `U(x) = L_N(x) ... L_2(x) L_1(x)`, with `L_l(x) = R(w_l * x + b_l)`,
#
# where `R` is a general rotation (`ry -> rz -> ry` here). The repeated encoding makes the model a
# Fourier series in `x` whose frequencies grow with the number of layers (Schuld, Sweke & Meyer,
# PRA 103, 032430 (2021)).
#
# The gate angles are the sympy expressions `w*x + b`. TensorFlow Quantum alone accepts only
# `c * symbol` as an angle; the `PQC` layer compiles any expression to TensorFlow, so the weights
# `w`, `b` and the input `x` all get exact gradients.
#
# Task (the paper's "circle"): points uniform in `[-1, 1]^2`, label 1 inside the circle of radius
# `sqrt(2/pi)`, which splits the square in two equal areas.

# %% tags=["parameters"]
QUICK = False
# Parameters. QUICK = True gives the small settings the test suite runs (a smoke run whose
# numbers mean little); the full settings reach the results quoted in the text.
SEED = 0
LAYERS = 3  # re-uploading layers
EPOCHS = 2 if QUICK else 40  # full: about 20 s on a laptop CPU
N_TRAIN, N_TEST = (64, 32) if QUICK else (400, 200)
GRID = 25 if QUICK else 80  # resolution of the decision-boundary plot

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

# %%
RADIUS = np.sqrt(2 / np.pi)
rng = np.random.default_rng(SEED)
x_all = rng.uniform(-1, 1, size=(N_TRAIN + N_TEST, 2)).astype("float32")
y_all = (np.linalg.norm(x_all, axis=1) < RADIUS).astype("float32")
x_train, y_train = x_all[:N_TRAIN], y_all[:N_TRAIN]
x_test, y_test = x_all[N_TRAIN:], y_all[N_TRAIN:]
print(f"{len(x_train)} training points, {y_train.mean():.0%} inside the circle")

# %% [markdown]
# ## The circuit
# `circuits.reuploading_circuit(2, n_features=2, layers=LAYERS)` builds, per layer and per qubit,
# `ry(w0*x0 + b0) -> rz(w1*x1 + b1) -> ry(b2)` (the third slot has no feature, only a bias),
# then a `CZ` between the two qubits.

# %%
circuit, xs, ws = circuits.reuploading_circuit(2, n_features=2, layers=LAYERS)
qubits = sorted(circuit.all_qubits())
print("inputs:", xs, "|", len(ws), "trainable symbols | first layer on qubit 0:")
for op in [op for op in circuit.all_operations() if op.qubits == (qubits[0],)][:3]:
    angle = op.gate.exponent * sympy.pi  # cirq stores angle / pi
    print(f"  {type(op.gate).__name__.lower()}({angle}) on {op.qubits[0]}")
SVGCircuit(circuit)

# %%
model = keras.Sequential(
    [
        keras.Input((2,)),
        PQC(
            circuit,
            circuits.z_observables(qubits),
            input_symbols=xs,
            name="quantum",
            initializer=keras.initializers.RandomUniform(-np.pi, np.pi),
        ),
        keras.layers.Dense(1, activation="sigmoid", name="head"),
    ]
)
model.compile(keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(
    x_train, y_train, epochs=EPOCHS, batch_size=32, validation_data=(x_test, y_test), verbose=0
)
print(f"test accuracy: {model.evaluate(x_test, y_test, verbose=0)[1]:.3f}")

# %% [markdown]
# ## Decision boundary
# The colour is the predicted probability of "inside"; the solid line is where it crosses 0.5,
# the dashed line the true circle.

# %%
grid = np.linspace(-1, 1, GRID, dtype="float32")
gx, gy = np.meshgrid(grid, grid)
prob = model.predict(
    np.stack([gx.ravel(), gy.ravel()], axis=1), batch_size=1024, verbose=0
).reshape(gx.shape)

fig, (ax, ax_curve) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1.2, 1]})
mesh = ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=1.5)
t = np.linspace(0, 2 * np.pi, 200)
ax.plot(RADIUS * np.cos(t), RADIUS * np.sin(t), "k--", lw=1)
inside = y_test == 1
ax.scatter(*x_test[inside].T, s=10, c="darkred", label="test: inside")
ax.scatter(*x_test[~inside].T, s=10, c="navy", label="test: outside")
fig.colorbar(mesh, ax=ax, label="P(inside)")
ax.set_aspect("equal")
ax.legend(loc="lower left", fontsize=7)
ax.set_title(f"data re-uploading, {LAYERS} layers")

epochs = np.arange(1, EPOCHS + 1)
ax_curve.plot(epochs, history.history["accuracy"], label="train")
ax_curve.plot(epochs, history.history["val_accuracy"], label="test")
ax_curve.set_xlabel("epoch")
ax_curve.set_ylabel("accuracy")
ax_curve.grid(alpha=0.3)
ax_curve.legend()
fig.tight_layout()
fig.savefig("02_decision_boundary.png", dpi=100)
plt.show()

# %% [markdown]
# ## Gradients reach the inputs too
# Because `w*x + b` is compiled to TensorFlow, the layer is differentiable in its *input* as
# well. Here we check `d<Z_0>/dx` against a central finite difference of the layer itself.

# %%
pqc = model.get_layer("quantum")
point = tf.constant([[0.3, -0.2]])
with tf.GradientTape() as tape:
    tape.watch(point)
    z0 = pqc(point)[:, 0]
autodiff = tape.gradient(z0, point).numpy()[0]
eps = 3e-3
finite = [
    (
        pqc(point + eps * np.eye(2, dtype="float32")[i]).numpy()[0, 0]
        - pqc(point - eps * np.eye(2, dtype="float32")[i]).numpy()[0, 0]
    )
    / (2 * eps)
    for i in range(2)
]
print("autodiff         :", np.round(autodiff, 4))
print("finite difference:", np.round(finite, 4))
assert np.allclose(autodiff, finite, atol=2e-3)
