# %% [markdown]
# # 09 · Noise: noisy simulation and training a classifier under noise (TFQ tutorial on Keras 3)
#
# Real quantum processors are noisy: gates are imperfect and qubits couple to their surroundings.
# A noisy circuit no longer prepares one pure state `|ψ>` but an **ensemble** of states, described
# by a density matrix `ρ = Σ_k p_k |ψ_k><ψ_k|`. Cirq models noise with **channels**; the one used
# here, `cirq.depolarize(p)`, applies `X`, `Y` or `Z` with probability `p/3` each and leaves the
# qubit alone with probability `1 - p`.
#
# TensorFlow Quantum's *noise* tutorial shows the noisy versions of its layers (`Sample`,
# `SampledExpectation`, `Expectation` with `backend='noisy'`, and `NoisyPQC`), which simulate
# noise by **trajectories** (Monte Carlo: each repetition draws one `ψ_k` with probability `p_k`)
# rather than by evolving `ρ`. It then trains the same phase classifier with and without noise.
# We do all of that on Keras 3 with `tfq_layers.compat.layers`, and go a step further: the
# classifier is trained at several depolarizing strengths, and its test accuracy is plotted
# against `p`.
#
# **The data set.** TFQ's tutorial uses `tfq.datasets.xxz_chain`, which downloads circuits that
# prepare the ground states of an XXZ spin ring, labelled by phase. Nothing is downloaded here:
# we build the equivalent data set in the notebook (exact diagonalization for the ground states,
# the same circuit ansatz as TFQ's data set, its parameters fitted by minimizing the energy), and
# check each circuit's fidelity with the exact ground state.

# %% tags=["parameters"]
QUICK = False
SEED = 0
N_SPINS = 4  # spins of the XXZ ring (TFQ's tutorial: 8)
N_POINTS = 12 if QUICK else 76  # values of Delta in [0.3, 1.8], as in TFQ's set
PREP_STEPS = 40 if QUICK else 400  # Adam steps fitting the ground-state circuits
EPOCHS = 1 if QUICK else 30  # full: 15-17 s per noisy epoch on 2 busy cores
TRAJECTORIES = 2 if QUICK else 10  # NoisyPQC repetitions (TFQ's tutorial: 10)
NOISE_LEVELS = [0.0, 0.05] if QUICK else [0.0, 0.001, 0.01, 0.05]
SHOTS = 200 if QUICK else 10_000  # shots / trajectories in sections 1 and 2

# %%
# tfq_layers first: imported before TensorFlow, it keeps TensorFlow's C++ start-up messages
# out of the notebook (set TF_CPP_MIN_LOG_LEVEL=0 before it to see them).
import time

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
# ## 1. A noisy circuit in Cirq
# An "X wall" flips two qubits to `|11>`; a depolarizing channel on each qubit follows. Cirq's
# density-matrix simulator gives the exact `ρ`: without noise all weight is on `|11>`, with
# `p = 0.5` it spreads over the four bitstrings.

# %%
my_qubits = cirq.GridQubit.rect(1, 2)
my_circuit = cirq.Circuit(cirq.X.on_each(*my_qubits))


def make_noisy(circuit, p):
    """`circuit` followed by a depolarizing channel of strength `p` on each of its qubits."""
    return circuit + cirq.Circuit(cirq.depolarize(p).on_each(*sorted(circuit.all_qubits())))


my_noisy_circuit = make_noisy(my_circuit, 0.5)
my_really_noisy_circuit = make_noisy(my_circuit, 0.75)
print(
    "diagonal of rho, noiseless:", np.round(np.diag(cirq.final_density_matrix(my_circuit)).real, 3)
)
print(
    "diagonal of rho, p = 0.5  :",
    np.round(np.diag(cirq.final_density_matrix(my_noisy_circuit)).real, 3),
)
SVGCircuit(my_noisy_circuit)

# %% [markdown]
# ## 2. The noisy layers
# ### `Sample`
# With `backend='noisy'` every shot comes from its own trajectory. The histograms approach the
# diagonal of `ρ`: `|11>` only without noise, and more and more of the other bitstrings as `p`
# grows (at `p = 0.75` the state is completely mixed: each bitstring has probability 1/4).

# %%
labels = ["00", "01", "10", "11"]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2), sharey=True)
for ax, (title, circuit) in zip(
    axes,
    [
        ("noiseless", my_circuit),
        ("p = 0.5", my_noisy_circuit),
        ("p = 0.75", my_really_noisy_circuit),
    ],
):
    bits = tfql.Sample(backend="noisy")(circuit, repetitions=SHOTS).to_tensor().numpy()[0]
    counts = np.bincount(bits @ np.array([2, 1]), minlength=4)  # qubit 0 is the high bit
    exact = np.diag(cirq.final_density_matrix(circuit)).real
    ax.bar(labels, counts / SHOTS, label="Sample (noisy)")
    ax.plot(labels, exact, "k_", ms=30, mew=2, label="diag(ρ), Cirq")
    ax.set_title(title)
    ax.set_xlabel("bitstring")
axes[0].set_ylabel("frequency")
axes[0].legend(loc="upper left")
fig.suptitle(f"{SHOTS} noisy samples of the X wall")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### `SampledExpectation` and `Expectation`
# TFQ's tutorial measures `X0`, `Z0` and `3 Y1 + 1`. `SampledExpectation` estimates them from
# shots; `Expectation(backend='noisy')` averages exact expectation values over `repetitions`
# trajectories. Both are compared with the exact values `tr(ρ O)` from Cirq's density matrix:
# depolarizing shrinks `<Z0>` from `-1` towards `0` by the factor `1 - 4p/3`.

# %%
some_observables = [cirq.X(my_qubits[0]), cirq.Z(my_qubits[0]), 3.0 * cirq.Y(my_qubits[1]) + 1]
noisy_pair = [my_noisy_circuit, my_really_noisy_circuit]
index = {q: i for i, q in enumerate(my_qubits)}
exact = np.array(
    [
        [
            obs.expectation_from_density_matrix(cirq.final_density_matrix(c), index).real
            for obs in some_observables
        ]
        for c in [my_circuit] + noisy_pair
    ]
)
noiseless_sampled = tfql.SampledExpectation(backend="noiseless")(
    my_circuit, operators=some_observables, repetitions=SHOTS
).numpy()
noisy_sampled = tfql.SampledExpectation(backend="noisy")(
    noisy_pair, operators=some_observables, repetitions=SHOTS
).numpy()
noisy_analytic = tfql.Expectation(backend="noisy")(
    noisy_pair, operators=some_observables, repetitions=SHOTS
).numpy()
print("                    [  <X0>    <Z0>  <3 Y1 + 1> ]")
print("exact, noiseless   :", exact[0].round(3))
print("sampled, noiseless :", noiseless_sampled[0].round(3))
for k, p in enumerate([0.5, 0.75]):
    print(f"exact, p = {p:<4}    :", exact[k + 1].round(3))
    print(f"sampled, p = {p:<4}  :", noisy_sampled[k].round(3))
    print(f"analytic, p = {p:<4} :", noisy_analytic[k].round(3))
# Shot noise: every estimate is within 5 standard errors of the exact value (a Pauli term with
# coefficient c has a standard deviation of at most |c| / sqrt(N) over N shots or trajectories).
tolerance = 5 * np.array([1, 1, 3]) / np.sqrt(SHOTS)
assert np.all(np.abs(noisy_sampled - exact[1:]) < tolerance), noisy_sampled - exact[1:]
assert np.all(np.abs(noisy_analytic - exact[1:]) < tolerance), noisy_analytic - exact[1:]
assert np.allclose(exact[1:, 1], -(1 - 4 * np.array([0.5, 0.75]) / 3))

# %% [markdown]
# ## 3. Quantum data: ground states of the XXZ ring, labelled by phase
# The Hamiltonian of a ring of `N` spins is
# `H(Δ) = Σ_i (X_i X_{i+1} + Y_i Y_{i+1} + Δ Z_i Z_{i+1})` (site `N` is site `0`). For `Δ <= 1`
# the ground state is in the critical (gapless in the thermodynamic limit) phase, label 0; for
# `Δ > 1` it orders antiferromagnetically, label 1. This is the labelling of TFQ's `xxz_chain`.
#
# **How the data set is built.** Like TFQ's, each data point is a circuit with fixed angles that
# prepares (an approximation to) the ground state at one `Δ`, with the same ansatz as
# `xxz_chain`'s: singlet pairs (`X`, `H`, `CNOT`), then `N/2` layers of `ZZ^a YY^b XX^b` on the
# odd bonds (the ring closed) and `ZZ^c YY^d XX^d` on the even bonds, `2N` angles in all. We fit
# the angles of all `N_POINTS` circuits at once: the native `PQC` layer takes every circuit's
# angles as its input (`input_symbols`) and returns `<XX>`, `<YY>`, `<ZZ>` summed over the bonds,
# so `E(Δ) = <XX> + <YY> + Δ <ZZ>` for every row, and Adam minimizes the sum of the energies
# (each row only moves its own energy). Then exact diagonalization of `H(Δ)` (a `2^N x 2^N`
# matrix) gives each true ground state, and we report the fidelity `|<ψ_exact|ψ_circuit>|^2`.

# %%
qubits = cirq.GridQubit.rect(1, N_SPINS)
depth = N_SPINS // 2
angles = sympy.symbols(f"a0:{4 * depth}")
even, odd = qubits[::2], qubits[1::2]
ansatz = cirq.Circuit(
    cirq.X.on_each(*qubits), cirq.H.on_each(*even), (cirq.CNOT(a, b) for a, b in zip(even, odd))
)
for d in range(depth):
    for a, b in list(zip(odd, even[1:])) + [(qubits[-1], qubits[0])]:
        ansatz.append(
            [
                cirq.ZZ(a, b) ** angles[d],
                cirq.YY(a, b) ** angles[d + depth],
                cirq.XX(a, b) ** angles[d + depth],
            ]
        )
    for a, b in zip(even, odd):
        ansatz.append(
            [
                cirq.ZZ(a, b) ** angles[d + 2 * depth],
                cirq.YY(a, b) ** angles[d + 3 * depth],
                cirq.XX(a, b) ** angles[d + 3 * depth],
            ]
        )

bonds = [(qubits[i], qubits[(i + 1) % N_SPINS]) for i in range(N_SPINS)]
bond_sums = [sum(P(a) * P(b) for a, b in bonds) for P in (cirq.X, cirq.Y, cirq.Z)]
deltas = np.linspace(0.3, 1.8, N_POINTS)

start = time.perf_counter()
energy_terms = PQC(ansatz, bond_sums, input_symbols=angles, backend="tfq")
rows = tf.Variable(
    np.random.default_rng(SEED).normal(0, 0.05, (N_POINTS, len(angles))), dtype="float32"
)
weights = tf.constant(np.stack([np.ones(N_POINTS), np.ones(N_POINTS), deltas], 1), "float32")
optimizer = keras.optimizers.Adam(0.05)


@tf.function
def descend():
    with tf.GradientTape() as tape:
        energy = tf.reduce_sum(energy_terms(rows) * weights)
    optimizer.apply_gradients([(tape.gradient(energy, rows), rows)])
    return energy


for _ in range(PREP_STEPS):
    descend()
fitted = rows.numpy()
print(f"{N_POINTS} circuits fitted in {time.perf_counter() - start:.0f} s")

fidelity, ground_energy = [], []
for delta, row in zip(deltas, fitted):
    values, vectors = np.linalg.eigh(
        (bond_sums[0] + bond_sums[1] + delta * bond_sums[2]).matrix(qubits)
    )
    state = cirq.final_state_vector(
        cirq.resolve_parameters(ansatz, dict(zip(angles, map(float, row)))), qubit_order=qubits
    )
    fidelity.append(abs(np.vdot(vectors[:, 0], state)) ** 2)
    ground_energy.append(values[0])
fidelity = np.array(fidelity)
print(f"fidelity with the exact ground state: mean {fidelity.mean():.4f}, min {fidelity.min():.4f}")

data_circuits = [
    cirq.resolve_parameters(ansatz, dict(zip(angles, map(float, row)))) for row in fitted
]
phase = (deltas > 1).astype("float32")
print(
    "labels: ", int((phase == 0).sum()), "critical (Δ <= 1),", int(phase.sum()), "ordered (Δ > 1)"
)
if not QUICK:
    assert fidelity.min() > 0.95, fidelity.min()
SVGCircuit(data_circuits[0])

# %% [markdown]
# A fixed shuffle splits the data into training and test points (80 / 20), the same split at
# every noise level. As in TFQ's `get_data`, the noisy version of a data circuit is
# `circuit.with_noise(cirq.depolarize(p))`: a channel after every moment on every qubit.

# %%
order = np.random.default_rng(SEED).permutation(N_POINTS)
n_train = int(0.8 * N_POINTS)
train_idx, test_idx = order[:n_train], order[n_train:]


def quantum_data(p, idx):
    circuits = [data_circuits[i] for i in idx]
    if p > 0:
        circuits = [c.with_noise(cirq.depolarize(p)) for c in circuits]
    return convert_to_tensor(circuits), phase[idx]


# %% [markdown]
# ## 4. The classifier: TFQ's model, noiseless and noisy
# TFQ's modelling circuit: `H` on every qubit, then `DEPTH = 4` layers of two `CX` ladders and a
# rotation `X^θ_l` (even layers) or `Y^θ_l` (odd layers) on every qubit, with one trainable
# angle per layer; `X`, `Y` and `Z` of every qubit are read out. With noise, the model circuit
# gets the same channels as the data. `PQC` is used without noise, `NoisyPQC` (exact expectation
# values averaged over `TRAJECTORIES` trajectories, `sample_based=False`) with noise; a small
# `Dense` head turns the read-outs into a logit.

# %%
DEPTH = 4


def modelling_circuit(qubits, depth, p=0.0):
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    for layer in range(depth):
        circuit += cirq.Circuit(cirq.CX(a, b) for a, b in zip(qubits[0::2], qubits[1::2]))
        circuit += cirq.Circuit(cirq.CX(a, b) for a, b in zip(qubits[1::2], qubits[2::2]))
        gate = cirq.X if layer % 2 == 0 else cirq.Y
        circuit += cirq.Circuit(gate(q) ** sympy.Symbol(f"layer_{layer}") for q in qubits)
    if p > 0:
        circuit = circuit.with_noise(cirq.depolarize(p))
    return circuit, [op(q) for q in qubits for op in (cirq.X, cirq.Y, cirq.Z)]


def build_model(p):
    circuit, readout = modelling_circuit(qubits, DEPTH, p)
    circuits_in = keras.Input(shape=(), dtype="string", name="circuits")
    if p > 0:
        quantum = tfql.NoisyPQC(
            circuit, readout, repetitions=TRAJECTORIES, sample_based=False, name="quantum"
        )(circuits_in)
    else:
        quantum = tfql.PQC(circuit, readout, name="quantum")(circuits_in)
    hidden = keras.layers.Dense(4, activation="sigmoid")(quantum)
    model = keras.Model(circuits_in, keras.layers.Dense(1)(hidden))
    model.compile(
        keras.optimizers.Adam(learning_rate=0.02),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],
    )
    return model


SVGCircuit(modelling_circuit(qubits, 2, p=0.01)[0])

# %% [markdown]
# ## 5. Training at each depolarizing strength
# The same model, the same split and the same seed at every `p`; only the channels differ. A
# noisy epoch costs far more than a noiseless one: every expectation value is an average over
# `TRAJECTORIES` trajectories, and the gradient comes from the parameter-shift rule (TFQ's noisy
# simulator has no adjoint method).

# %%
results, histories = {}, {}
for p in NOISE_LEVELS:
    keras.utils.set_random_seed(SEED)
    model = build_model(p)
    x_train, y_train = quantum_data(p, train_idx)
    x_test, y_test = quantum_data(p, test_idx)
    start = time.perf_counter()
    histories[p] = model.fit(
        x_train, y_train, batch_size=16, epochs=EPOCHS, validation_data=(x_test, y_test), verbose=0
    ).history
    train_acc = model.evaluate(x_train, y_train, verbose=0)[1]
    test_acc = histories[p]["val_accuracy"][-1]  # after the last epoch
    results[p] = (train_acc, test_acc)
    print(
        f"p = {p:<6}: train accuracy {train_acc:.3f}, test accuracy {test_acc:.3f} "
        f"({time.perf_counter() - start:.0f} s)"
    )

# %%
levels = np.array(NOISE_LEVELS)
shown = np.where(levels > 0, levels, min(levels[levels > 0]) / 10)  # p = 0 drawn left of the rest
fig, (ax_acc, ax_curve) = plt.subplots(1, 2, figsize=(12, 4))
ax_acc.semilogx(shown, [results[p][0] for p in NOISE_LEVELS], "o-", label="train")
ax_acc.semilogx(shown, [results[p][1] for p in NOISE_LEVELS], "s--", label="test")
ax_acc.set_xticks(shown, ["0"] + [f"{p:g}" for p in NOISE_LEVELS[1:]])
ax_acc.set_xlabel("depolarizing strength p (data and model circuits)")
ax_acc.set_ylabel("accuracy")
ax_acc.set_ylim(0, 1.05)
ax_acc.grid(alpha=0.3)
ax_acc.legend()
ax_acc.set_title(f"phase classifier, {N_SPINS}-spin XXZ ring")
for p in NOISE_LEVELS:
    ax_curve.plot(np.arange(1, EPOCHS + 1), histories[p]["loss"], label=f"p = {p:g}")
ax_curve.set_xlabel("epoch")
ax_curve.set_ylabel("training loss (binary cross-entropy)")
ax_curve.set_title("training curves")
ax_curve.grid(alpha=0.3)
ax_curve.legend()
fig.tight_layout()
fig.savefig("09_noise.png", dpi=100)
plt.show()
if not QUICK:
    assert results[0.0][1] >= 0.9, results[0.0]
