# %% [markdown]
# # 05 · Save, export and serve a hybrid model
#
# Three ways to keep a trained model:
#
# 1. **`model.save("model.keras")`** and `keras.models.load_model(path, safe_mode=True)`: the
#    native Keras file (config + weights). The quantum layer stores its circuit, observables and
#    gate-angle expressions as plain JSON and rebuilds them from an allow-list of Cirq and sympy
#    types: no `eval`, no pickle, so `safe_mode=True` works.
# 2. **`model.export(dir)`**: a TensorFlow SavedModel with a `serve` endpoint, for TF Serving,
#    TFLite-free servers or any TensorFlow program; no Python class needed to run it.
# 3. Reloading either in a **fresh process**: the SavedModel contains TensorFlow Quantum ops,
#    whose kernels TFQ registers lazily, so the process must `import tfq_layers` before
#    `tf.saved_model.load` (that registers them all).
#
# 4. **`tfq_layers.export.to_tflite(model, "model.tflite")`**: TensorFlow Lite for phones and
#    microcontrollers. The statevector simulator is ordinary TensorFlow arithmetic, so the quantum
#    layer becomes ordinary TFLite operators; the file is checked against Keras before it is
#    written.
#
# We train a small hybrid model, then show that every reloaded copy, including one in a brand-new
# Python process, returns *identical* outputs, and the TFLite copy the same to float32 rounding.

# %% tags=["parameters"]
QUICK = False
# Parameters. QUICK = True gives the small settings the test suite runs (a smoke run whose
# numbers mean little); the full settings reach the results quoted in the text.
SEED = 0
EPOCHS = 2 if QUICK else 10
WORKDIR = "tfq_layers_artifacts"  # where the files are written

# %%
# tfq_layers first: imported before TensorFlow, it keeps TensorFlow's C++ start-up messages
# out of the notebook (set TF_CPP_MIN_LOG_LEVEL=0 before it to see them).
import os

import tfq_layers
from tfq_layers import PQC

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

import json
import subprocess
import sys
import zipfile

# %% [markdown]
# ## A model to save
# Four features enter through arbitrary expressions (`atan(x0)`, `w*x1 + b`, `x2*x3`) on 2
# qubits, between two classical layers.

# %%
rng = np.random.default_rng(SEED)
x = rng.normal(size=(256, 6)).astype("float32")
y = (x[:, 0] * x[:, 1] + x[:, 2] > 0).astype("float32")

q = cirq.GridQubit.rect(1, 2)
x0, x1, x2, x3 = sympy.symbols("x0:4")
w = sympy.symbols("w0:6")
circuit = cirq.Circuit(
    cirq.rx(sympy.atan(x0)).on(q[0]),
    cirq.rx(w[0] * x1 + w[1]).on(q[1]),
    cirq.CNOT(q[0], q[1]),
    cirq.ry(x2 * x3 + w[2]).on(q[0]),
    cirq.ry(w[3]).on(q[1]),
    cirq.CZ(q[0], q[1]),
    cirq.rx(w[4]).on(q[0]),
    cirq.rx(w[5]).on(q[1]),
)
model = keras.Sequential(
    [
        keras.Input((6,), name="features"),
        keras.layers.Dense(4, activation="tanh", name="encode"),
        PQC(
            circuit,
            [cirq.Z(q[0]), cirq.Z(q[1]), cirq.Z(q[0]) * cirq.Z(q[1])],
            input_symbols=[x0, x1, x2, x3],
            name="quantum",
        ),
        keras.layers.Dense(1, activation="sigmoid", name="head"),
    ],
    name="hybrid",
)
model.compile(keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=EPOCHS, batch_size=32, verbose=2)
SVGCircuit(circuit)

# %% [markdown]
# ## 1. The `.keras` file

# %%
os.makedirs(WORKDIR, exist_ok=True)
keras_path = os.path.join(WORKDIR, "hybrid.keras")
model.save(keras_path)

x_check = x[:8]
reference = model.predict(x_check, verbose=0)
reloaded = keras.models.load_model(keras_path, safe_mode=True)
same = np.array_equal(reloaded.predict(x_check, verbose=0), reference)
print("reloaded .keras gives identical outputs:", same)
assert same

with zipfile.ZipFile(keras_path) as archive:
    print(archive.namelist())
    config = json.loads(archive.read("config.json"))
quantum_config = next(
    layer for layer in config["config"]["layers"] if layer["class_name"] == "PQC"
)["config"]
print("the circuit is stored as JSON text:", quantum_config["circuit"][:300], "...")

# %% [markdown]
# ## 2. SavedModel export
# `model.export` writes a SavedModel with a `serve` endpoint taking a `float32` tensor of shape
# `(batch, 6)`.

# %%
export_dir = os.path.join(WORKDIR, "hybrid_export")
model.export(export_dir, verbose=False)
served = tf.saved_model.load(export_dir)
signature = served.signatures["serve"]
print("signatures:", list(served.signatures))
print("serve:", signature.structured_input_signature[1], "->", signature.structured_outputs)
same = np.array_equal(served.serve(tf.constant(x_check)).numpy(), reference)
print("SavedModel in this process gives identical outputs:", same)
assert same

# %% [markdown]
# ## 3. A fresh process
# A new Python interpreter (`sys.executable`, the one running this notebook) loads both files and
# writes its outputs to a `.npy` file. Note the `import tfq_layers` before loading.

# %%
np.save(os.path.join(WORKDIR, "inputs.npy"), x_check)
child = """
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np, keras, tensorflow as tf
import tfq_layers   # registers the TFQ ops (and the PQC layer) before loading

x = np.load("inputs.npy")
served = tf.saved_model.load("hybrid_export")
model = keras.models.load_model("hybrid.keras", safe_mode=True)
np.save("served.npy", served.serve(tf.constant(x)).numpy())
np.save("keras.npy", model.predict(x, verbose=0))
print("fresh process: python", sys.version.split()[0], "| tfq_layers", tfq_layers.__version__)
"""
result = subprocess.run([sys.executable, "-c", child], cwd=WORKDIR, capture_output=True, text=True)
print(result.stdout.strip())
if result.returncode != 0:
    raise RuntimeError(result.stderr[-3000:])

for name in ("served.npy", "keras.npy"):
    fresh = np.load(os.path.join(WORKDIR, name))
    print(f"{name}: identical to the training process: {np.array_equal(fresh, reference)}")
    assert np.array_equal(fresh, reference)

# %% [markdown]
# ## 4. On a device: TensorFlow Lite
# `to_tflite` converts the model, runs the converted file in the TFLite interpreter on sample
# inputs, compares with Keras, and only then writes it. `atan(x0)` has no TFLite built-in
# kernel, so the report says which op needs TensorFlow's select ops (the Flex delegate an app
# links); a circuit with only `+`, `*`, `sin`, `cos`, ... in its angles converts to built-in
# operators alone. `run_tflite` is the interpreter, one example at a time, as on a phone.

# %%
from tfq_layers import export

tflite_path = os.path.join(WORKDIR, "hybrid.tflite")
try:
    report = export.to_tflite(model, tflite_path, sample_inputs=x_check)
except ValueError as error:  # TensorFlow 2.21's interpreter cannot run select ops (no Flex)
    print(error)
    on_device = None
else:
    print(report)
    print("operators:", ", ".join(report.ops))
    on_device = export.run_tflite(tflite_path, x_check)
    print("max |TFLite - Keras| on the check examples:", np.abs(on_device - reference).max())
    assert np.abs(on_device - reference).max() < 1e-5

# %% [markdown]
# ## Plot: the outputs side by side

# %%
fresh = np.load(os.path.join(WORKDIR, "served.npy"))
fig, ax = plt.subplots(figsize=(6, 3))
index = np.arange(len(reference))
ax.bar(index - 0.27, reference[:, 0], width=0.27, label="trained model (this process)")
ax.bar(index, fresh[:, 0], width=0.27, label="SavedModel (fresh process)")
if on_device is not None:
    ax.bar(index + 0.27, on_device[:, 0], width=0.27, label="TFLite interpreter")
ax.set_xlabel("example")
ax.set_ylabel("P(y = 1)")
ax.set_ylim(0, 1.3)
ax.legend(fontsize=8, ncol=3, loc="upper center")
tflite_error = "-" if on_device is None else f"{np.abs(on_device - reference).max():.1e}"
ax.set_title(
    f"max |difference|: SavedModel {np.abs(fresh - reference).max():.1e}, TFLite {tflite_error}"
)
fig.tight_layout()
fig.savefig(os.path.join(WORKDIR, "05_outputs.png"), dpi=100)
plt.show()

# %% [markdown]
# ## What `safe_mode=True` protects against
# A `.keras` file whose circuit JSON names a function or type outside the allow-list is
# rejected before anything in it is built. Here we tamper with the saved circuit, replacing the
# `atan` of the first gate by `sympify` (which would evaluate arbitrary strings), and try to
# load it.

# %%
tampered_path = os.path.join(WORKDIR, "tampered.keras")
with zipfile.ZipFile(keras_path) as src, zipfile.ZipFile(tampered_path, "w") as dst:
    for item in src.namelist():
        content = src.read(item)
        if item == "config.json":
            # Ask the loader to call sympy.sympify (which evaluates strings) instead of atan.
            content = content.replace(b"atan", b"sympify")
            assert b"sympify" in content
        dst.writestr(item, content)
try:
    keras.models.load_model(tampered_path, safe_mode=True)
except Exception as error:  # tfq_layers.SerializationError, possibly wrapped by Keras
    print(type(error).__name__, ":", str(error)[:300])
else:
    raise AssertionError("the tampered file loaded")
