# %% [markdown]
# # 08 · Barren plateaus: gradients vanish exponentially in random circuits (TFQ tutorial on Keras 3)
#
# McClean, Boixo, Smelyanskiy, Babbush & Neven, *Barren plateaus in quantum neural network
# training landscapes*, Nat. Commun. 9, 4812 (2018), showed that for deep enough random
# parameterized circuits the gradient of an expectation value with respect to any one angle has
# mean zero and a **variance that shrinks exponentially with the number of qubits**: a randomly
# initialized deep circuit sits on a plateau where gradient descent sees nothing but noise.
# Grant, Wossnig, Ostaszewski & Benedetti, *An initialization strategy for addressing barren
# plateaus in parametrized quantum circuits*, Quantum 3, 214 (2019), proposed starting from
# blocks `U V†`-style that compose to the identity, which keeps the gradients large.
#
# TensorFlow Quantum's *barren plateaus* tutorial reproduces both effects with random circuits
# of depth 50 and a `Z Z` observable. We do the same on Keras 3 with
# `tfq_layers.compat.layers.Expectation`, which evaluates hundreds of distinct circuits in one
# batched call on TFQ's simulator, and fit the decay rate on a log plot.

# %% tags=["parameters"]
QUICK = False
# Parameters. QUICK = True gives the small settings the test suite runs (a smoke run whose
# numbers mean little); the full settings reach the results quoted in the text.
SEED = 1234
EPOCHS = 0  # nothing is trained here
QUBITS = [2, 4, 6] if QUICK else [2, 4, 6, 8, 10, 12]
DEPTH = 20 if QUICK else 50  # layers of the random circuits,
LAYERS_PER_QUBIT = 0 if QUICK else 10  # at least this many per qubit
N_CIRCUITS = 40 if QUICK else 200  # random circuits per qubit count
BLOCK_DEPTH, BLOCKS = (4, 2) if QUICK else (5, 5)  # identity-block circuits

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

from tfq_layers.compat import convert_to_tensor  # was: tfq.convert_to_tensor
from tfq_layers.compat import layers as tfql  # was: tfql = tfq.layers

# %% [markdown]
# ## Random circuits
# Every qubit starts in `ry(π/4)|0>`. Each of the `DEPTH` layers applies to every qubit a
# rotation about a random axis (`x`, `y` or `z`) by a random angle, then a ladder of `CZ`s. The
# very first rotation, on qubit 0, is the symbol `θ` whose gradient we study; all other angles
# are numbers. The circuits are built moment by moment (faster than appending gate by gate).
#
# Depth: TFQ's tutorial uses 50 layers for every size. McClean et al. show that the variance
# reaches its plateau value only once the circuit is deep enough to look random (a 2-design),
# and that this depth grows with the number of qubits; with 50 layers the variance measured here
# stopped falling beyond 8 qubits. So the circuits get `max(DEPTH, LAYERS_PER_QUBIT * n)`
# layers.

# %%
ROTATIONS = (cirq.rx, cirq.ry, cirq.rz)


def random_layers(qubits, depth, rng, symbol=None):
    """`depth` layers of random single-qubit rotations + a CZ ladder, as a list of moments.
    With `symbol`, the first rotation on qubits[0] has the angle `symbol`."""
    moments = []
    for d in range(depth):
        axes = rng.integers(3, size=len(qubits))
        angles = rng.uniform(0, 2 * np.pi, size=len(qubits))
        ops = []
        for i, q in enumerate(qubits):
            angle = symbol if (symbol is not None and d == 0 and i == 0) else angles[i]
            ops.append(ROTATIONS[axes[i]](angle).on(q))
        moments.append(cirq.Moment(ops))
        moments.append(cirq.Moment(cirq.CZ(a, b) for a, b in zip(qubits[0::2], qubits[1::2])))
        moments.append(cirq.Moment(cirq.CZ(a, b) for a, b in zip(qubits[1::2], qubits[2::2])))
    return [m for m in moments if len(m)]


def preparation(qubits):
    return cirq.Moment(cirq.ry(np.pi / 4).on(q) for q in qubits)


def random_circuit(qubits, symbol, depth, rng):
    return cirq.Circuit([preparation(qubits)] + random_layers(qubits, depth, rng, symbol))


theta = sympy.Symbol("theta")
rng = np.random.default_rng(SEED)
SVGCircuit(random_circuit(cirq.GridQubit.rect(1, 3), theta, 2, rng))

# %% [markdown]
# ## The gradient over a batch of random circuits
# As in TFQ's tutorial, the circuits, symbol `θ` included, go to `Expectation` as one
# `tf.string` tensor, a random value of `θ` per circuit as `symbol_values`, and
# `tf.GradientTape` returns `∂<Z0 Z1>/∂θ` for every circuit in one call (TFQ's adjoint
# differentiator underneath). We keep the whole sample of gradients: its variance is the
# quantity of interest (TFQ's tutorial plots the standard deviation; we plot the variance
# itself).


# %%
def gradient_sample(circuits, qubits, rng):
    """d<Z0 Z1>/dtheta of every circuit at a random theta, from tf.GradientTape."""
    values = tf.constant(rng.uniform(0, 2 * np.pi, (len(circuits), 1)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(values)
        out = tfql.Expectation()(
            convert_to_tensor(circuits),
            symbol_names=[theta],
            symbol_values=values,
            operators=cirq.Z(qubits[0]) * cirq.Z(qubits[1]),
        )
    return tape.gradient(out, values).numpy()[:, 0], values.numpy()[:, 0]


import time

random_var, random_mean = [], []
for n in QUBITS:
    start = time.perf_counter()
    qubits = cirq.GridQubit.rect(1, n)
    depth = max(DEPTH, LAYERS_PER_QUBIT * n)
    batch = [random_circuit(qubits, theta, depth, rng) for _ in range(N_CIRCUITS)]
    grads, _ = gradient_sample(batch, qubits, rng)
    random_var.append(float(np.var(grads, ddof=1)))
    random_mean.append(float(np.mean(grads)))
    print(
        f"{n:2d} qubits, depth {depth}: mean {random_mean[-1]:+.4f}, variance "
        f"{random_var[-1]:.3e} ({N_CIRCUITS} circuits, {time.perf_counter() - start:.1f} s)"
    )

# %% [markdown]
# ### Check: the parameter-shift rule with Cirq's simulator
# `θ` enters through one `rx`, `ry` or `rz` gate, so the **parameter-shift rule** (notebook 07)
# gives its derivative exactly from two expectation values,
# `∂f/∂θ = (f(θ + π/2) - f(θ - π/2)) / 2`. On a few 4-qubit circuits, `cirq.Simulator` on the
# two shifted copies gives the same numbers as the tape.

# %%
qubits = cirq.GridQubit.rect(1, 4)
few = [random_circuit(qubits, theta, 10, rng) for _ in range(8)]
tape_grads, thetas = gradient_sample(few, qubits, rng)
zz = cirq.Z(qubits[0]) * cirq.Z(qubits[1])


def cirq_zz(circuit, value):
    state = cirq.Simulator().simulate(cirq.resolve_parameters(circuit, {theta: value}))
    return zz.expectation_from_state_vector(
        state.final_state_vector, {q: i for i, q in enumerate(qubits)}
    ).real


shift_grads = np.array(
    [(cirq_zz(c, v + np.pi / 2) - cirq_zz(c, v - np.pi / 2)) / 2 for c, v in zip(few, thetas)]
)
print("GradientTape          :", tape_grads.round(4))
print("parameter shift (Cirq):", shift_grads.round(4))
assert np.allclose(shift_grads, tape_grads, atol=1e-3)

# %% [markdown]
# ## Identity-block initialization
# Grant et al. build the circuit from blocks `U(θ) U(θ')†`: a random block followed by its own
# inverse, so every block starts as the identity (it stops being one as soon as the angles
# move apart during training). Here the first block contains `θ`, and its inverse has the
# same random structure with an independent random value in `θ`'s place, as in TFQ's
# tutorial; `BLOCKS - 1` further random identity blocks follow. The circuit is as deep as
# before, but the state it sees around `θ` is close to the simple initial state, so the
# gradient does not average out.


# %%
def identity_block_circuit(qubits, symbol, block_depth, blocks, rng):
    first = random_layers(qubits, block_depth, rng, symbol)
    undo = cirq.inverse(
        cirq.resolve_parameters(cirq.Circuit(first), {symbol: rng.uniform(0, 2 * np.pi)})
    )
    moments = [preparation(qubits)] + first + list(undo)
    for _ in range(blocks - 1):
        block = cirq.Circuit(random_layers(qubits, block_depth, rng))
        moments += list(block) + list(cirq.inverse(block))
    return cirq.Circuit(moments)


# check: with theta set to the value used in the inverse, the whole circuit is the identity
# after the preparation
q3 = cirq.GridQubit.rect(1, 3)
check_rng = np.random.default_rng(7)
c = identity_block_circuit(q3, theta, 2, 2, check_rng)
check_rng = np.random.default_rng(7)  # replay: the value drawn for theta
random_layers(q3, 2, check_rng, theta)
value = check_rng.uniform(0, 2 * np.pi)
u = cirq.unitary(cirq.resolve_parameters(c[1:], {theta: value}))
print("identity blocks compose to the identity:", np.allclose(u, u[0, 0] * np.eye(8), atol=1e-6))
assert np.allclose(u, u[0, 0] * np.eye(8), atol=1e-6)

identity_var = []
for n in QUBITS:
    qubits = cirq.GridQubit.rect(1, n)
    batch = [
        identity_block_circuit(qubits, theta, BLOCK_DEPTH, BLOCKS, rng) for _ in range(N_CIRCUITS)
    ]
    identity_var.append(float(np.var(gradient_sample(batch, qubits, rng)[0], ddof=1)))
    print(f"{n:2d} qubits: identity-block variance {identity_var[-1]:.3e}")

# %% [markdown]
# ## The log plot and the fitted decay rate
# A straight line on a log scale is an exponential: we fit `ln Var = c - k n` by least squares
# to the random circuits and report the decay factor per added qubit, `e^(-k)`.

# %%
n = np.array(QUBITS, dtype=float)
k, c = np.polyfit(n, np.log(random_var), 1)  # ln Var = c + k n (k < 0)
k_id, c_id = np.polyfit(n, np.log(identity_var), 1)
print(
    f"random circuits: ln Var = {c:.2f} {k:+.3f} n  -> variance x {np.exp(k):.3f} per qubit "
    f"(x {np.exp(2 * k):.3f} per 2 qubits)"
)
print(
    f"identity blocks: ln Var = {c_id:.2f} {k_id:+.3f} n  -> variance x {np.exp(k_id):.3f} per qubit"
)

fig, ax = plt.subplots(figsize=(7, 4.3))
ax.semilogy(
    n,
    random_var,
    "o",
    color="C0",
    label=f"random circuits, depth max({DEPTH}, {LAYERS_PER_QUBIT} n)",
)
ax.semilogy(
    n,
    np.exp(c + k * n),
    "-",
    color="C0",
    alpha=0.6,
    label=f"fit: Var ∝ e^({k:.2f} n)  (x{np.exp(k):.2f} per qubit)",
)
ax.semilogy(
    n, identity_var, "s", color="C1", label=f"identity blocks ({BLOCKS} x {BLOCK_DEPTH} layers x 2)"
)
ax.semilogy(
    n, np.exp(c_id + k_id * n), "--", color="C1", alpha=0.6, label=f"fit: Var ∝ e^({k_id:.2f} n)"
)
ax.set_xlabel("number of qubits n")
ax.set_ylabel("Var[∂<Z0 Z1>/∂θ] over random circuits")
ax.set_xticks(QUBITS)
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8)
ax.set_title(f"barren plateaus ({N_CIRCUITS} circuits per point)")
fig.tight_layout()
fig.savefig("08_barren_plateaus.png", dpi=100)
plt.show()

assert random_var[-1] < random_var[0] and k < 0
if not QUICK:
    assert identity_var[-1] > 10 * random_var[-1]
