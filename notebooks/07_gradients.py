# %% [markdown]
# # 07 · Gradients of quantum circuits: differentiators, shots, and autodiff (TFQ tutorial on Keras 3)
#
# A simulator can return `<psi(α)| O |psi(α)>` exactly, but a quantum computer only estimates
# it from a finite number of measurements, and it gives no derivative at all: the gradient must
# itself be assembled from expectation values of other circuits. TensorFlow Quantum's
# *gradients* tutorial compares the ways of doing that, TFQ's **differentiators**. This notebook
# does the same on Keras 3 with `tfq_layers.compat.layers` (TFQ's `Expectation` and
# `SampledExpectation` signatures, TFQ's own differentiator objects):
#
# 1. one circuit whose expectation and derivative are known in closed form;
# 2. finite differences, the parameter-shift rule and the adjoint method, exact and from shots;
# 3. how sampled gradients approach the exact one as the number of shots grows;
# 4. a differentiator written by the user;
# 5. what the pure-TensorFlow statevector backend adds: plain autodiff, hence second
#    derivatives (a Hessian) too.

# %% tags=["parameters"]
QUICK = False
# Parameters. QUICK = True gives the small settings the test suite runs (a smoke run whose
# numbers mean little); the full settings reach the results quoted in the text.
SEED = 0
EPOCHS = 0  # nothing is trained in this notebook
N_POINTS = 40 if QUICK else 200  # angles on the plots
SHOTS = 500  # shots per expectation, as in the tutorial
SHOT_LADDER = [10, 100, 1000] if QUICK else [10, 30, 100, 300, 1000, 3000, 10000, 30000]

# %%
# tfq_layers first: imported before TensorFlow, it keeps TensorFlow's C++ start-up messages
# out of the notebook (set TF_CPP_MIN_LOG_LEVEL=0 before it to see them).
import tfq_layers

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

import tensorflow_quantum as tfq  # its differentiators are used as they are
from tfq_layers.compat import layers as tfql  # was: tfql = tfq.layers

# %% [markdown]
# ## 1. A circuit with a known answer
# One qubit, the gate `Y**α` (a rotation about `y` by the angle `πα`), and the observable `X`:
# `f(α) = <X> = sin(πα)`, so `f'(α) = π cos(πα)` and `f''(α) = -π² sin(πα)`.

# %%
qubit = cirq.GridQubit(0, 0)
alpha = sympy.Symbol("alpha")
my_circuit = cirq.Circuit(cirq.Y(qubit) ** alpha)
pauli_x, pauli_z = cirq.X(qubit), cirq.Z(qubit)


def cirq_expectation(op, value):
    psi = cirq.Simulator().simulate(my_circuit, {alpha: value}).final_state_vector
    return op.expectation_from_state_vector(psi, {qubit: 0}).real


f = lambda a: np.sin(np.pi * a)
df = lambda a: np.pi * np.cos(np.pi * a)
d2f = lambda a: -(np.pi**2) * np.sin(np.pi * a)
print(f"alpha = 0.3: cirq <X> = {cirq_expectation(pauli_x, 0.3):.5f}, sin(0.3 pi) = {f(0.3):.5f}")
SVGCircuit(my_circuit)

# %% [markdown]
# ## 2. Differentiators
# A TFQ differentiator given to a compat layer runs on TFQ's simulator, exactly as in TFQ:
#
# | differentiator | what it evaluates for `df/dα` |
# | --- | --- |
# | `ForwardDifference(grid_spacing=h)` | `(f(α + h) - f(α)) / h` |
# | `ParameterShift()` | `π/2 · (f(α + 1/2) - f(α - 1/2))`, exact for this gate (no `h`) |
# | `Adjoint()` | the exact derivative from one backward pass through the state (simulators only) |
#
# With `Expectation` every `f` is exact; with `SampledExpectation` every `f` is an estimate from
# `SHOTS` measurements.

# %%
points = np.linspace(0, 5, N_POINTS, dtype="float32")[:, None]
values = tf.constant(points)


def gradient(layer, operators=pauli_x, **call):
    """(f, df/dalpha) of `layer` at every angle, with TensorFlow's GradientTape."""
    with tf.GradientTape() as tape:
        tape.watch(values)
        out = layer(
            my_circuit, symbol_names=[alpha], symbol_values=values, operators=operators, **call
        )
    return out.numpy()[:, 0], tape.gradient(out, values).numpy()[:, 0]


diff = tfq.differentiators
exact = {
    "forward difference (h = 0.01)": tfql.Expectation(
        differentiator=diff.ForwardDifference(grid_spacing=0.01)
    ),
    "parameter shift": tfql.Expectation(differentiator=diff.ParameterShift()),
    "adjoint": tfql.Expectation(differentiator=diff.Adjoint()),
}
sampled = {
    "forward difference (h = 0.01)": tfql.SampledExpectation(
        differentiator=diff.ForwardDifference(grid_spacing=0.01)
    ),
    "parameter shift": tfql.SampledExpectation(differentiator=diff.ParameterShift()),
}
results = {f"exact, {k}": gradient(layer) for k, layer in exact.items()}
results.update(
    {f"{SHOTS} shots, {k}": gradient(layer, repetitions=SHOTS) for k, layer in sampled.items()}
)
truth = df(points[:, 0])
for name, (_, grad) in results.items():
    print(f"{name:42s} max |error of df/dalpha| = {np.abs(grad - truth).max():8.4f}")
print("the layers ran on:", {k: type(v.simulator_backend).__name__ for k, v in exact.items()})

# %% [markdown]
# The exact differentiators agree with `π cos(πα)` (finite differences up to `O(h)`). With
# shots, the forward difference divides a statistical error of about `1/sqrt(SHOTS)` by
# `h = 0.01`, and the gradient drowns in noise; the parameter-shift rule divides by nothing
# small and stays close to the truth.

# %%
x = points[:, 0]
fig, axes = plt.subplots(2, 2, figsize=(12, 7.5))
ax = axes[0, 0]
ax.plot(x, f(x), "k-", lw=2, label="sin(πα)")
ax.plot(x, results[f"{SHOTS} shots, parameter shift"][0], ".", ms=4, label=f"{SHOTS} shots")
ax.set_xlabel("α")
ax.set_ylabel("f(α) = <X>")
ax.set_title("forward pass")
ax.legend()
ax = axes[0, 1]
ax.plot(x, truth, "k-", lw=3, alpha=0.4, label="π cos(πα)")
for name, (_, grad) in results.items():
    if name.startswith("exact"):
        ax.plot(x, grad, "--", lw=1.2, label=name)
ax.set_xlabel("α")
ax.set_ylabel("df/dα")
ax.set_title("exact expectations")
ax.legend(fontsize=8)
ax = axes[1, 0]
ax.plot(x, truth, "k-", lw=3, alpha=0.4, label="π cos(πα)")
for name, (_, grad) in results.items():
    if not name.startswith("exact"):
        ax.plot(x, grad, ".-", lw=0.6, ms=3, label=name)
ax.set_ylim(-25, 25)
ax.set_xlabel("α")
ax.set_ylabel("df/dα")
ax.set_title(f"{SHOTS} shots per expectation")
ax.legend(fontsize=8)
ax = axes[1, 1]
for name, (_, grad) in results.items():
    ax.plot(truth, grad, ".", ms=4, label=name)
ax.plot([-np.pi, np.pi], [-np.pi, np.pi], "k-", lw=1)
ax.set_ylim(-8, 8)
ax.set_xlabel("analytic df/dα = π cos(πα)")
ax.set_ylabel("differentiator's df/dα")
ax.set_title("every method against the analytic derivative")
ax.legend(fontsize=7)
for ax in axes.ravel():
    ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig("07_gradients.png", dpi=100)
plt.show()

for name, (_, grad) in results.items():
    if name.startswith("exact"):
        assert np.allclose(grad, truth, atol=0.06), name

# %% [markdown]
# ## 3. Sampled gradients converge as the shots grow
# The parameter-shift gradient from `N` shots is an unbiased estimate; its error over all the
# angles falls like `1/sqrt(N)`. The forward difference estimate does too, but its error is
# `1/h = 100` times larger at every `N` (and it keeps an `O(h)` bias).

# %%
ladder = {"parameter shift": [], "forward difference (h = 0.01)": []}
for shots in SHOT_LADDER:
    for name in ladder:
        _, grad = gradient(sampled[name], repetitions=shots)
        ladder[name].append(float(np.sqrt(np.mean((grad - truth) ** 2))))
    print(
        f"{shots:6d} shots: RMS error parameter shift {ladder['parameter shift'][-1]:.4f}, "
        f"forward difference {ladder['forward difference (h = 0.01)'][-1]:.3f}"
    )

shots_axis = np.array(SHOT_LADDER, dtype=float)
fig, ax = plt.subplots(figsize=(6.5, 4))
for name, errors in ladder.items():
    ax.loglog(shots_axis, errors, "o-", label=name)
ref = ladder["parameter shift"][0] * np.sqrt(shots_axis[0] / shots_axis)
ax.loglog(shots_axis, ref, "k:", label="∝ 1/sqrt(N)")
ax.set_xlabel("shots N per expectation")
ax.set_ylabel("RMS error of df/dα over the angles")
ax.set_title("sampled gradients converge to the analytic one")
ax.grid(alpha=0.3, which="both")
ax.legend()
fig.tight_layout()
plt.show()
assert ladder["parameter shift"][-1] < ladder["parameter shift"][0] / 5

# %% [markdown]
# ## 4. Multiple observables
# With several operators, the gradient TensorFlow returns is that of the **sum** of the
# outputs (the tape's default upstream gradient is all ones): for `[X, Z]`,
# `d(sin(πα) + cos(πα))/dα = π cos(πα) - π sin(πα)`.

# %%
value = tf.constant([[0.3]])
with tf.GradientTape() as tape:
    tape.watch(value)
    both = exact["parameter shift"](
        my_circuit, symbol_names=[alpha], symbol_values=value, operators=[pauli_x, pauli_z]
    )
summed = tape.gradient(both, value).numpy()[0, 0]
print(
    "outputs [<X>, <Z>]:",
    both.numpy().round(5),
    "| gradient:",
    round(float(summed), 5),
    "| formula:",
    round(float(df(0.3) - np.pi * np.sin(np.pi * 0.3)), 5),
)
assert abs(summed - (df(0.3) - np.pi * np.sin(np.pi * 0.3))) < 1e-3

# %% [markdown]
# ## 5. A differentiator of your own
# A TFQ differentiator describes the gradient as a weighted sum of expectation values of
# *other* circuits: `get_gradient_circuits` returns those circuits and their symbol values,
# the weights, and which circuits each symbol's derivative combines. TFQ's base class does the
# rest (batched evaluation, the TensorFlow custom gradient), for exact and sampled expectations.
#
# Ours is a **general-shift rule**. For a gate `P**t` (`P` a Pauli, so `t` is an angle in
# units of `π`), `f(t) = A + B cos(πt) + C sin(πt)`, and for any shift `s` (not a multiple of 1)
#
# `df/dt = π · (f(t + s) - f(t - s)) / (2 sin(πs))`.
#
# `s = 1/2` is TFQ's parameter shift; `s = 1/4` is used below. It handles any number of
# symbols (two shifted circuits per symbol), provided each symbol is the exponent of one
# Pauli gate, as here.


# %%
class GeneralShift(tfq.differentiators.Differentiator):
    """df/dt = pi * (f(t + s) - f(t - s)) / (2 sin(pi s)) for every symbol t (Pauli exponents)."""

    def __init__(self, shift=0.25):
        self.shift = float(shift)

    @tf.function
    def get_gradient_circuits(self, programs, symbol_names, symbol_values):
        n_symbols = tf.shape(symbol_names)[0]
        batch = tf.shape(programs)[0]
        # Two circuits per symbol k: values + s e_k and values - s e_k.
        eye = tf.eye(n_symbols, dtype=symbol_values.dtype)
        shifts = tf.reshape(tf.stack([eye, -eye], axis=1), [2 * n_symbols, n_symbols])
        batch_values = symbol_values[:, None, :] + self.shift * shifts[None, :, :]
        batch_programs = tf.tile(programs[:, None], [1, 2 * n_symbols])
        scale = np.pi / (2.0 * np.sin(np.pi * self.shift))
        weights = tf.tile(
            tf.constant([[[scale, -scale]]], symbol_values.dtype), [batch, n_symbols, 1]
        )
        pairs = tf.reshape(tf.range(2 * n_symbols), [1, n_symbols, 2])
        mapper = tf.tile(pairs, [batch, 1, 1])
        return batch_programs, symbol_names, batch_values, weights, mapper


mine = tfql.Expectation(differentiator=GeneralShift(0.25))
_, my_grad = gradient(mine)
mine_sampled = tfql.SampledExpectation(differentiator=GeneralShift(0.25))
_, my_sampled_grad = gradient(mine_sampled, repetitions=SHOTS)
print(f"general shift s = 1/4, exact     : max |error| = {np.abs(my_grad - truth).max():.2e}")
print(
    f"general shift s = 1/4, {SHOTS} shots: RMS error = "
    f"{np.sqrt(np.mean((my_sampled_grad - truth) ** 2)):.3f}"
)
assert np.allclose(my_grad, truth, atol=1e-3)

# Two symbols at once: f = <X> after Y**a then Z**b; check against central differences.
a2, b2 = sympy.symbols("a b")
two = cirq.Circuit(cirq.Y(qubit) ** a2, cirq.Z(qubit) ** b2)
point = tf.constant([[0.3, 0.2]])
with tf.GradientTape() as tape:
    tape.watch(point)
    out = mine(two, symbol_names=[a2, b2], symbol_values=point, operators=pauli_x)
mine_two = tape.gradient(out, point).numpy()[0]


def fx(v):
    return tfql.Expectation()(
        two, symbol_names=[a2, b2], symbol_values=v[None, :].astype("float32"), operators=pauli_x
    ).numpy()[0, 0]


h, p = 1e-3, np.array([0.3, 0.2])
central = [(fx(p + h * e) - fx(p - h * e)) / (2 * h) for e in np.eye(2)]
print(
    "two symbols, general shift:", mine_two.round(4), "| central differences:", np.round(central, 4)
)
assert np.allclose(mine_two, central, atol=1e-2)

fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.plot(x, truth, "k-", lw=3, alpha=0.4, label="π cos(πα)")
ax.plot(x, my_grad, "--", label="general shift s = 1/4, exact")
ax.plot(x, my_sampled_grad, ".", ms=4, label=f"general shift s = 1/4, {SHOTS} shots")
ax.set_xlabel("α")
ax.set_ylabel("df/dα")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
ax.set_title("a user-written differentiator")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 6. The statevector backend: plain autodiff, and second derivatives
# `backend="statevector"` simulates the circuit with ordinary TensorFlow operations (it is the
# default for `cirq.Circuit` inputs when no TFQ differentiator is given). No differentiator is
# involved: TensorFlow differentiates the simulation itself, exactly, and can do it again.
# Nested tapes give the second derivative, and `tape.jacobian` of a gradient a full Hessian,
# which TFQ's differentiators do not provide.

# %%
sv = tfql.Expectation(backend="statevector")
with tf.GradientTape() as outer:
    outer.watch(values)
    with tf.GradientTape() as inner:
        inner.watch(values)
        out = sv(my_circuit, symbol_names=[alpha], symbol_values=values, operators=pauli_x)
    first = inner.gradient(out, values)
second = outer.gradient(first, values)
first, second = first.numpy()[:, 0], second.numpy()[:, 0]
print(f"autodiff  : max |f' - pi cos(pi a)|      = {np.abs(first - truth).max():.1e}")
print(f"2nd order : max |f'' + pi^2 sin(pi a)|   = {np.abs(second - d2f(x)).max():.1e}")
assert np.allclose(first, truth, atol=1e-3) and np.allclose(second, d2f(x), atol=1e-2)

# A Hessian of a two-parameter expectation: g(a, b) = <X> after Y**a then Z**b
# = sin(pi a) cos(pi b).
ab = tf.Variable([0.3, 0.2])
with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
        g = sv(two, symbol_names=[a2, b2], symbol_values=ab[None, :], operators=pauli_x)[0, 0]
    grad_ab = inner.gradient(g, ab)
hessian = outer.jacobian(grad_ab, ab).numpy()
A, B = np.pi * 0.3, np.pi * 0.2
expected = np.pi**2 * np.array(
    [
        [-np.sin(A) * np.cos(B), -np.cos(A) * np.sin(B)],
        [-np.cos(A) * np.sin(B), -np.sin(A) * np.cos(B)],
    ]
)
print("Hessian (autodiff):", hessian.astype(float).round(4).tolist())
print("Hessian (formula) :", expected.round(4).tolist())
assert np.allclose(hessian, expected, atol=1e-3)

fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.plot(x, f(x), "k-", lw=1, label="f = sin(πα)")
ax.plot(x, first, "-", label="f' by autodiff")
ax.plot(x, second, "-", label="f'' by autodiff")
ax.plot(x, truth, "k:", x, d2f(x), "k:")
ax.set_xlabel("α")
ax.set_ylabel("value")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
ax.set_title("statevector backend: first and second derivatives (dotted: formulas)")
fig.tight_layout()
plt.show()
