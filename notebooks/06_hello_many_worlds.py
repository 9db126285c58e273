# %% [markdown]
# # 06 · Hello, many worlds: a neural network that steers a qubit (TFQ tutorial on Keras 3)
#
# TensorFlow Quantum's first tutorial, *Hello, many worlds*, trains a classical network to
# **correct a miscalibrated qubit**: an unknown rotation prepares the qubit in some state, and a
# small `Dense` controller learns the angles of a correcting rotation so that a command `0`
# gives `<Z> = +1` and a command `1` gives `<Z> = -1`. The tutorial needs legacy Keras 2
# (`TF_USE_LEGACY_KERAS=1`); here the same program runs on Keras 3 by changing one import,
# `tfq.layers` -> `tfq_layers.compat.layers`. We then go a step further than the tutorial
# (any commanded value of `<Z>` in `[-1, 1]`), write the same model with the native
# `tfq_layers.PQC`, and finish with the tutorial's second model, in which the controller's
# output is fed to an `Expectation` layer as `symbol_values`.
#
# `tfq.convert_to_tensor` (circuits as `tf.string` tensors) becomes
# `tfq_layers.compat.convert_to_tensor`, which writes the same bytes without TFQ. What changes: the layers are Keras 3 layers (they save to `.keras`, take any
# sympy expression as a gate angle, and say what is wrong when called wrongly).

# %% tags=["parameters"]
QUICK = False
# Parameters. QUICK = True gives the small settings the test suite runs (a smoke run whose
# numbers mean little); the full settings reach the results quoted in the text.
SEED = 1234
EPOCHS = 5 if QUICK else 30  # the tutorial trains 30 full-batch steps
RANGE_EPOCHS = 5 if QUICK else 150  # extension: any commanded <Z> in [-1, 1]

# %%
# tfq_layers first: imported before TensorFlow, it keeps TensorFlow's C++ start-up messages
# out of the notebook (set TF_CPP_MIN_LOG_LEVEL=0 before it to see them).
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

from tfq_layers.compat import convert_to_tensor  # was: tfq.convert_to_tensor
from tfq_layers.compat import layers as tfql  # was: tfql = tfq.layers

# %% [markdown]
# ## 1. The basics: a parameterized circuit, Cirq, and a batch of expectation values
# Two symbols `a`, `b` set the angles of `rx` and `ry` on two qubits, followed by a `CNOT`.
# Cirq simulates one parameter assignment at a time.

# %%
a, b = sympy.symbols("a b")
q0, q1 = cirq.GridQubit.rect(1, 2)
circuit = cirq.Circuit(cirq.rx(a).on(q0), cirq.ry(b).on(q1), cirq.CNOT(q0, q1))

state = cirq.Simulator().simulate(circuit, cirq.ParamResolver({a: 0.5, b: -0.5})).final_state_vector
z0 = cirq.Z(q0)
z0x1 = 0.5 * z0 + cirq.X(q1)
index = {q0: 0, q1: 1}
print("state:", np.round(state, 3))
print(
    "<Z0> =",
    round(z0.expectation_from_state_vector(state, index).real, 4),
    "| <0.5 Z0 + X1> =",
    round(z0x1.expectation_from_state_vector(state, index).real, 4),
)
SVGCircuit(circuit)

# %% [markdown]
# `Expectation` evaluates a whole batch of parameter values in one call, with TFQ's call
# signature. The Cirq loop gives the same numbers.

# %%
batch = np.random.default_rng(SEED).uniform(0, 2 * np.pi, (5, 2)).astype("float32")
layer_values = tfql.Expectation()(
    circuit, symbol_names=[a, b], symbol_values=batch, operators=[z0, z0x1]
).numpy()
cirq_values = []
for va, vb in batch:
    psi = cirq.Simulator().simulate(circuit, {a: va, b: vb}).final_state_vector
    cirq_values.append([op.expectation_from_state_vector(psi, index).real for op in (z0, z0x1)])
print("Expectation layer:", np.round(layer_values.astype(float), 4).tolist())
print("cirq loop        :", np.round(cirq_values, 4).tolist())
assert np.allclose(layer_values, cirq_values, atol=1e-4)

# %% [markdown]
# ## 2. A classical controller for a miscalibrated qubit
# * The **datapoint circuit** is the miscalibration: `rx`, `ry`, `rz` by three random angles
#   that the model never sees as numbers. It enters as quantum data, a `tf.string` tensor.
# * The **controlled circuit** is a general rotation `rz(θ1) ry(θ2) rx(θ3)`.
# * The **controller** `Dense(10, elu) -> Dense(3)` maps a command to `(θ1, θ2, θ3)`.
#
# `ControlledPQC` appends the controlled circuit to each datapoint circuit and reads `<Z>`. This
# cell is the tutorial's model with `tf.keras` replaced by `keras`.

# %%
control_params = sympy.symbols("theta_1 theta_2 theta_3")
qubit = cirq.GridQubit(0, 0)
model_circuit = cirq.Circuit(
    cirq.rz(control_params[0])(qubit),
    cirq.ry(control_params[1])(qubit),
    cirq.rx(control_params[2])(qubit),
)

rng = np.random.default_rng(SEED)
random_rotations = rng.uniform(0, 2 * np.pi, 3)
noisy_preparation = cirq.Circuit(
    cirq.rx(random_rotations[0])(qubit),
    cirq.ry(random_rotations[1])(qubit),
    cirq.rz(random_rotations[2])(qubit),
)
print("hidden miscalibration angles:", np.round(random_rotations, 3))


def make_controller():
    return keras.Sequential(
        [keras.layers.Dense(10, activation="elu"), keras.layers.Dense(3)], name="controller"
    )


controller = make_controller()
circuits_input = keras.Input(shape=(), dtype="string", name="circuits_input")
commands_input = keras.Input(shape=(1,), name="commands_input")
expectation = tfql.ControlledPQC(model_circuit, operators=cirq.Z(qubit))(
    [circuits_input, controller(commands_input)]
)
model = keras.Model([circuits_input, commands_input], expectation)
SVGCircuit(noisy_preparation + model_circuit)

# %%
commands = np.array([[0], [1]], dtype="float32")
expected_outputs = np.array([[1], [-1]], dtype="float32")
datapoint_circuits = convert_to_tensor([noisy_preparation] * 2)
# Keras 3 does not mix tf.Tensor and NumPy inputs in a direct model call: wrap NumPy arrays
# in tf.constant there (fit and predict take either).

print(
    "before training:", model([datapoint_circuits, tf.constant(commands)]).numpy().ravel().round(3)
)
model.compile(keras.optimizers.Adam(learning_rate=0.05), loss="mse")
history = model.fit([datapoint_circuits, commands], expected_outputs, epochs=EPOCHS, verbose=0)
steered = model([datapoint_circuits, tf.constant(commands)]).numpy().ravel()
final_mse = float(np.mean((steered - expected_outputs.ravel()) ** 2))
print(
    "after training :",
    steered.round(4),
    "| commanded:",
    expected_outputs.ravel(),
    f"| final MSE {final_mse:.2e}",
)

# %% [markdown]
# ### Check with Cirq
# The controller's angles, put into the circuit and simulated by Cirq, give the steered
# expectation values: the controller really corrects the hidden rotation.


# %%
def steered_by_cirq(controller, command_values):
    """<Z> after the miscalibration and the controller's correction, simulated by Cirq."""
    angles = controller(command_values).numpy()
    values = []
    for row in angles:
        psi = (
            cirq.Simulator()
            .simulate(noisy_preparation + model_circuit, dict(zip(control_params, row)))
            .final_state_vector
        )
        values.append(cirq.Z(qubit).expectation_from_state_vector(psi, {qubit: 0}).real)
    return np.array(values), angles


cirq_z, angles = steered_by_cirq(controller, commands)
for c, th, z in zip(commands.ravel(), angles, cirq_z):
    print(f"command {c:.0f}: theta = {np.round(th, 3)} -> <Z> (cirq) = {z:+.4f}")
assert np.allclose(cirq_z, steered, atol=1e-4)
if not QUICK:
    assert final_mse < 0.01, final_mse

# %% [markdown]
# ### Beyond the tutorial: any commanded value of `<Z>`
# The same model learns a continuous map: the command is the wanted `<Z>` itself, anywhere in
# `[-1, 1]`. We train on 9 commands and test on 41 others, with the same hidden miscalibration.

# %%
range_controller = make_controller()
range_model = keras.Model(
    [circuits_input, commands_input],
    tfql.ControlledPQC(model_circuit, operators=cirq.Z(qubit))(
        [circuits_input, range_controller(commands_input)]
    ),
)
train_commands = np.linspace(-1, 1, 9, dtype="float32")[:, None]
test_commands = np.linspace(-0.98, 0.98, 41, dtype="float32")[:, None]
prep = lambda n: convert_to_tensor([noisy_preparation] * n)

range_model.compile(keras.optimizers.Adam(learning_rate=0.05), loss="mse")
range_history = range_model.fit(
    [prep(9), train_commands], train_commands, epochs=RANGE_EPOCHS, verbose=0
)
test_z = range_model([prep(41), tf.constant(test_commands)]).numpy().ravel()
range_mse = float(np.mean((test_z - test_commands.ravel()) ** 2))
print(f"commanded vs steered <Z> on 41 unseen commands: MSE {range_mse:.2e}")

fig, (ax_loss, ax_map) = plt.subplots(1, 2, figsize=(11, 3.8))
ax_loss.semilogy(np.arange(1, EPOCHS + 1), history.history["loss"], label="commands 0 / 1")
ax_loss.semilogy(
    np.arange(1, RANGE_EPOCHS + 1), range_history.history["loss"], label="commanded <Z> in [-1, 1]"
)
ax_loss.set_xlabel("training step (full batch)")
ax_loss.set_ylabel("MSE of <Z>")
ax_loss.set_title("learning to control a qubit")
ax_loss.grid(alpha=0.3)
ax_loss.legend()
ax_map.plot([-1, 1], [-1, 1], "k--", lw=1, label="ideal")
ax_map.plot(test_commands, test_z, "o", ms=4, label="steered (unseen commands)")
ax_map.plot(train_commands, train_commands, "x", color="C3", label="training commands")
ax_map.set_xlabel("commanded <Z>")
ax_map.set_ylabel("measured <Z> after correction")
ax_map.set_title(f"test MSE {range_mse:.1e}")
ax_map.grid(alpha=0.3)
ax_map.legend()
fig.tight_layout()
fig.savefig("06_control.png", dpi=100)
plt.show()

# %% [markdown]
# ### The same controller with the native layer
# Natively there is no need for quantum data here: the miscalibration is a fixed part of the
# circuit, so it is prepended in Cirq and the commands alone are the model's input.
# `PQC(..., input_symbols=...)` takes the controller's output as the values of `θ1, θ2, θ3`.

# %%
native_controller = make_controller()
native = keras.Sequential(
    [
        keras.Input((1,)),
        native_controller,
        PQC(noisy_preparation + model_circuit, cirq.Z(qubit), input_symbols=control_params),
    ]
)
native.compile(keras.optimizers.Adam(learning_rate=0.05), loss="mse")
native.fit(commands, expected_outputs, epochs=EPOCHS, verbose=0)
native_z = native(commands).numpy().ravel()
print(
    "native PQC, steered <Z>:",
    native_z.round(4),
    f"| MSE {np.mean((native_z - expected_outputs.ravel()) ** 2):.2e}",
)

# %% [markdown]
# ## 3. The controller's output as `symbol_values`: eigenstates of different operators
# The tutorial's second model lets the command also choose **which operator** to measure:
# command `0` must give `<X> = +1`, command `1` must give `<Z> = -1`. There is no
# `ControlledPQC` for this: an `Expectation` layer receives the controller's output as
# `symbol_values`, a batch of angles `(θ1, θ2, θ3)`, one row per example.
#
# As in the tutorial, `AddCircuit` appends the controlled circuit to each datapoint circuit (the
# miscalibration, fed as a `tf.string` tensor) and `Expectation` evaluates the result with the
# controller's angles as `symbol_values`.
#
# **Migration note.** TFQ passes the operators as a third model input (a `tf.string` tensor of
# serialized Pauli sums, one per example). The compat `Expectation` takes `operators` only as
# Cirq objects, so the layer measures both `X` and `Z` for every example and a one-hot input
# picks, per example, the one that command asked for. The loss and its gradients are the
# tutorial's.

# %%
circuits_in = keras.Input(shape=(), dtype="string", name="circuits_input")
commands_in = keras.Input(shape=(1,), name="commands_input")
choice_in = keras.Input(shape=(2,), name="operator_choice")  # one-hot over [X, Z]

eigen_controller = make_controller()
full_circuit = tfql.AddCircuit()(circuits_in, append=model_circuit)
both = tfql.Expectation()(
    full_circuit,
    symbol_names=control_params,
    symbol_values=eigen_controller(commands_in),
    operators=[cirq.X(qubit), cirq.Z(qubit)],
)
chosen = keras.layers.Dot(axes=1, name="measured_operator")([both, choice_in])
two_axis_control_model = keras.Model([circuits_in, commands_in, choice_in], chosen)

operator_choice = np.array([[1, 0], [0, 1]], dtype="float32")  # command 0 -> X, 1 -> Z
two_axis_control_model.compile(keras.optimizers.Adam(learning_rate=0.05), loss="mse")
two_axis_history = two_axis_control_model.fit(
    [datapoint_circuits, commands, operator_choice], expected_outputs, epochs=EPOCHS, verbose=0
)
measured = (
    two_axis_control_model(
        [datapoint_circuits, tf.constant(commands), tf.constant(operator_choice)]
    )
    .numpy()
    .ravel()
)
two_axis_mse = float(np.mean((measured - expected_outputs.ravel()) ** 2))
print(
    f"command 0: <X> = {measured[0]:+.4f} (want +1) | command 1: <Z> = {measured[1]:+.4f} "
    f"(want -1) | final MSE {two_axis_mse:.2e}"
)
print("controller angles:", eigen_controller(commands).numpy().astype(float).round(3).tolist())

fig, ax = plt.subplots(figsize=(6, 3.4))
ax.semilogy(np.arange(1, EPOCHS + 1), two_axis_history.history["loss"], "o-", ms=3)
ax.set_xlabel("training step (full batch)")
ax.set_ylabel("MSE")
ax.set_title("command 0 -> <X> = +1, command 1 -> <Z> = -1")
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()
if not QUICK:
    assert two_axis_mse < 0.01, two_axis_mse

# %% [markdown]
# ## Saving
# Unlike TFQ's layers under Keras 2, the compat layers save to a `.keras` file and reload with
# `safe_mode=True`; the reloaded controller gives the same steered values.

# %%
model.save("06_controller.keras")
reloaded = keras.models.load_model("06_controller.keras", safe_mode=True)
again = reloaded([datapoint_circuits, tf.constant(commands)]).numpy().ravel()
print("reloaded:", again.round(4), "| identical:", np.array_equal(again, steered))
assert np.allclose(again, steered, atol=1e-6)
