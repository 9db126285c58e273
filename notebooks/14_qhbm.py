# %% [markdown]
# # 14 · Quantum Hamiltonian-based models: thermal states by VQT, and learning from quantum data
#
# A **quantum Hamiltonian-based model** (QHBM; Verdon, Marks, Nanda, Leichenauer & Hidary,
# arXiv:1910.02071 (2019)) is a mixed quantum state built in two steps:
#
# 1. a classical *energy-based model* over bitstrings, `p_theta(x) = exp(-E_theta(x)) / Z_theta`
#    (the **latent distribution**), and
# 2. a parameterized circuit `U(phi)` that rotates the computational basis,
#
# `rho = U (sum_x p_theta(x) |x><x|) U^dagger`. The eigenvalues of `rho` are the latent
# probabilities and its eigenvectors are `U|x>`, so its entropy is the (exactly computable) Shannon
# entropy of `p_theta`. That makes the free energy `F = beta tr(rho H) - S(rho)` cheap to estimate:
# the **variational quantum thermalizer** (VQT) minimizes it, and its minimum is the thermal
# state `exp(-beta H) / Z`. The second training, **QMHL**, learns a state from samples of it by
# minimizing the quantum cross entropy `-tr(sigma log rho)`.
#
# `tfq_layers.generative.QHBM` is a Keras model: `compile(loss="vqt", hamiltonian=H, beta=...)`
# or `compile(loss="qmhl")`, then `fit`.

# %% tags=["parameters"]
QUICK = False
# Parameters. QUICK = True gives the small settings the test suite runs (a smoke run whose
# numbers mean little); the full settings reach the results quoted in the text.
SEED = 0
BETA = 1.0
VQT_STEPS = 15 if QUICK else 400  # full-batch gradient steps; full: about a minute
QMHL_STEPS = 10 if QUICK else 300
N_DATA = 200 if QUICK else 3000  # sampled pure states for QMHL

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
keras.utils.set_random_seed(SEED)
print(
    "tfq_layers", tfq_layers.__version__, "| keras", keras.__version__, "| cirq", cirq.__version__
)

from tfq_layers.generative import QHBM, KOBEEnergy
from tfq_layers.generative.qhbm import fidelity, thermal_state

# %% [markdown]
# ## The target: a thermal state
#
# A 3-qubit transverse-field Ising chain, `H = -sum_i Z_i Z_{i+1} - sum_i X_i`. Its thermal state
# at `beta = 1` comes from exact diagonalization (`thermal_state`), and so does the exact free
# energy `-log Z`, the VQT's minimum.

# %%
qubits = cirq.LineQubit.range(3)
H = sum(-cirq.Z(a) * cirq.Z(b) for a, b in zip(qubits, qubits[1:])) + sum(
    -cirq.X(q) for q in qubits
)
exact_rho, log_z = thermal_state(H, BETA, qubits)
print("exact free energy -log Z =", round(-log_z, 5))

# %% [markdown]
# ## The model
#
# The latent energy is a `KOBEEnergy` of order 3: every product of up to 3 spins `z_i = 1 - 2 x_i`
# gets a coefficient, which can express any distribution over the 8 bitstrings. The unitary is
# two layers of `ry`, `rz` rotations with `ZZ` and `XX` couplings, plus a closing rotation layer.

# %%
symbols = iter(sympy.symbols("w0:60"))
circuit = cirq.Circuit()
for layer in range(3):
    circuit.append(cirq.Moment(cirq.ry(next(symbols)).on(q) for q in qubits))
    circuit.append(cirq.Moment(cirq.rz(next(symbols)).on(q) for q in qubits))
    if layer < 2:
        for gate in (cirq.ZZPowGate, cirq.XXPowGate):
            circuit.append(
                gate(exponent=next(symbols)).on(a, b) for a, b in zip(qubits, qubits[1:])
            )
model = QHBM(
    KOBEEnergy(3, order=3, initializer="zeros", seed=SEED),
    circuit,
    estimator="exact",
    initializer=keras.initializers.RandomUniform(-np.pi, np.pi, seed=SEED),
    seed=SEED,
)
model.build()
print("backend:", model.backend, "| weights:", [tuple(v.shape) for v in model.trainable_weights])
SVGCircuit(circuit)

# %% [markdown]
# **Check against Cirq.** The model's density matrix equals `sum_x p(x) U|x><x|U^dagger` with
# `U` from Cirq's own unitary, and the entropy of `rho` (from its eigenvalues) equals the latent
# Shannon entropy.

# %%
resolver = dict(zip(model.weight_symbols, model.circuit_weights.numpy().astype(float)))
u = cirq.resolve_parameters(circuit, resolver).unitary(qubit_order=qubits)
p = model.latent_probabilities()
reference = (u * p) @ u.conj().T
assert np.abs(model.density_matrix() - reference).max() < 1e-5
lam = np.linalg.eigvalsh(reference)
assert abs(model.entropy() + np.sum(lam * np.log(lam))) < 1e-5
print("density matrix and entropy match Cirq")

# %% [markdown]
# ## VQT: minimize the free energy with `fit`
#
# Each step evaluates `<x|U^dagger H U|x>` for all 8 latent bitstrings in one batched simulation
# and applies the estimators of the paper: `beta E_p[d e(x)]` for the circuit and the
# score-function form `-E_p[(f - E_p f) dE(x)]` for the energy.

# %%
model.compile(keras.optimizers.Adam(0.05), loss="vqt", hamiltonian=H, beta=BETA)
history = model.fit(epochs=VQT_STEPS, verbose=0)
rho = model.density_matrix()
vqt_fidelity = fidelity(rho, exact_rho)
print(
    f"free energy {model.free_energy(H, BETA):.5f} (exact {-log_z:.5f}), fidelity {vqt_fidelity:.5f}"
)
if not QUICK:
    assert vqt_fidelity > 0.99

# %% [markdown]
# ## Pictures: free energy, latent distribution, density matrices
#
# Left: the free energy over training approaches `-log Z` from above (the gap is the relative
# entropy between the model and the thermal state). Middle: the learned latent distribution
# against the exact Boltzmann weights `exp(-beta lambda_k) / Z` of `H`'s eigenvalues, both sorted.
# Right: learned and exact density matrices (absolute values).

# %%
fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
axes[0].plot(history.history["loss"], label="QHBM")
axes[0].axhline(-log_z, color="k", ls=":", label="exact -log Z")
axes[0].set_xlabel("gradient step")
axes[0].set_ylabel("beta tr(rho H) - S(rho)")
axes[0].legend()
boltzmann = np.sort(np.linalg.eigvalsh(exact_rho))[::-1]
axes[1].bar(
    np.arange(8) - 0.2, np.sort(model.latent_probabilities())[::-1], 0.4, label="latent p(x)"
)
axes[1].bar(np.arange(8) + 0.2, boltzmann, 0.4, label="exp(-beta lambda)/Z")
axes[1].set_xlabel("rank")
axes[1].legend()
for ax, mat, title in ((axes[2], rho, "learned |rho|"), (axes[3], exact_rho, "exact |rho|")):
    ax.imshow(np.abs(mat), cmap="viridis", vmin=0, vmax=np.abs(exact_rho).max())
    ax.set_title(title)
fig.tight_layout()
fig.savefig("14_qhbm.png", dpi=100)
plt.show()

# %% [markdown]
# ## QMHL: the same state from samples
#
# Now suppose the thermal state is unknown and we only receive samples of it: pure states drawn
# from its eigen-ensemble. `compile(loss="qmhl")` and `fit(states)` minimize the cross entropy
# `-tr(sigma log rho) = E_psi[<psi|U K U^dagger|psi>] + log Z`, with `K` the latent energy
# operator. A fresh model learns the state.

# %%
lam, vec = np.linalg.eigh(exact_rho)
pick = np.random.default_rng(SEED).choice(
    8, size=N_DATA, p=np.clip(lam, 0, None) / lam.clip(0).sum()
)
states = vec[:, pick].T.astype(np.complex64)
learner = QHBM(
    KOBEEnergy(3, order=3, initializer="zeros", seed=SEED),
    circuit,
    initializer=keras.initializers.RandomUniform(-np.pi, np.pi, seed=SEED + 1),
)
learner.compile(keras.optimizers.Adam(0.05), loss="qmhl")
qmhl_history = learner.fit(states, epochs=QMHL_STEPS, verbose=0)
qmhl_fidelity = fidelity(learner.density_matrix(), exact_rho)
print(f"cross entropy {qmhl_history.history['loss'][-1]:.4f}, fidelity {qmhl_fidelity:.4f}")
plt.figure(figsize=(5, 3))
plt.plot(qmhl_history.history["loss"])
plt.xlabel("gradient step")
plt.ylabel("-tr(sigma log rho)")
plt.show()

# %% [markdown]
# ## Saving
#
# A QHBM saves to `.keras` (the circuit as allow-listed JSON, the energy model as a registered
# Keras layer) and loads with `safe_mode=True` to the same density matrix.

# %%
model.save("14_qhbm.keras")
loaded = keras.models.load_model("14_qhbm.keras", safe_mode=True)
assert np.array_equal(loaded.density_matrix(), model.density_matrix())
print("reloaded:", type(loaded).__name__, type(loaded.energy).__name__)
