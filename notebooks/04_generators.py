# %% [markdown]
# # 04 · Generative models: Born machine and quantum Boltzmann machine
#
# Two quantum models of a probability distribution over bitstrings, both Keras models trained
# with `model.fit(bitstrings)`:
#
# * **Quantum circuit Born machine** (`BornMachine`): a parameterized circuit `U(theta)` on `n`
#   qubits defines `p(x) = |<x|U(theta)|0...0>|^2` by Born's rule (Benedetti et al., npj Quantum
#   Information 5, 45 (2019); Liu & Wang, PRA 98, 062324 (2018)). The default ansatz has
#   `rx`/`rz` rotations and all-to-all `ZZ` couplings.
# * **Quantum Boltzmann machine** (`QuantumBoltzmannMachine`): the thermal state of a transverse-
#   field Ising Hamiltonian `H = sum_i b_i Z_i + sum_ij w_ij Z_i Z_j + sum_i Gamma_i X_i` over
#   visible and hidden units, `p(v) = Tr[(|v><v| (x) 1_hidden) exp(-H)] / Tr[exp(-H)]` (Amin
#   et al., *Quantum Boltzmann Machine*, PRX 8, 021050 (2018)). With `Gamma = 0` it is a
#   classical Boltzmann machine.
#
# Both compute their distribution exactly for these small sizes, and are trained by minimizing
# `loss="kl"` (the KL divergence from the data histogram; `"nll"` and `"mmd"`, the maximum mean
# discrepancy of Liu & Wang, are the alternatives).
#
# Data: **bars and stripes** on a 2x2 grid (MacKay, *Information Theory, Inference, and Learning
# Algorithms* (2003)): the 6 images whose rows are all equal or whose columns are all equal, out
# of 16. The target puts probability 1/6 on each.

# %% tags=["parameters"]
QUICK = False
# Parameters. QUICK = True gives the small settings the test suite runs (a smoke run whose
# numbers mean little); the full settings reach the results quoted in the text.
SEED = 0
BORN_EPOCHS = 20 if QUICK else 200  # full-batch steps; full: about 15 s
QBM_EPOCHS = 20 if QUICK else 300  # full: about 10 s for both machines
N_SAMPLES = 12  # samples drawn from each trained model

# %%
# tfq_layers first: imported before TensorFlow, it keeps TensorFlow's C++ start-up messages
# out of the notebook (set TF_CPP_MIN_LOG_LEVEL=0 before it to see them).
import tfq_layers

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

from tfq_layers.datasets import bars_and_stripes, bits_to_index
from tfq_layers.generative import BornMachine, QuantumBoltzmannMachine

# %%
data = bars_and_stripes(2, 2)  # (6, 4) int array, pixel (r, c) = bit 2r + c
target = np.zeros(16)
target[bits_to_index(data)] = 1 / len(data)  # bit 0 is the most significant


def show_images(bitstrings, title, path=None):
    fig, axes = plt.subplots(1, len(bitstrings), figsize=(1.1 * len(bitstrings), 1.4))
    for ax, bits in zip(np.atleast_1d(axes), bitstrings):
        ax.imshow(np.reshape(bits, (2, 2)), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=100)
    plt.show()


def kl(p, q):
    keep = p > 0
    return float(np.sum(p[keep] * np.log(p[keep] / np.maximum(q[keep], 1e-12))))


print(data)
show_images(data, "bars and stripes 2x2: the training set")

# %% [markdown]
# ## Born machine
# Four qubits, one per pixel. `fit` takes the bitstrings themselves (no labels); with
# `batch_size=6` every step sees the whole data set.

# %%
born = BornMachine(4, layers=2, seed=SEED)
born.compile(keras.optimizers.Adam(0.05), loss="kl")
born_history = born.fit(data, epochs=BORN_EPOCHS, batch_size=len(data), verbose=0)
born_probs = born.probabilities().numpy().astype("float64")
print(
    f"{born.circuit_weights.shape[0]} parameters; "
    f"KL(target || Born) = {kl(target, born_probs):.4f}; "
    f"probability on valid images = {born_probs[target > 0].sum():.3f}"
)
SVGCircuit(born.circuit)

# %%
show_images(born.sample(N_SAMPLES, seed=SEED), "samples from the Born machine")

# %% [markdown]
# ## Quantum Boltzmann machine
# 4 visible units (the pixels) and 2 hidden units, every pair coupled, a trainable transverse
# field starting at `Gamma = 1`. For comparison we train the same machine with `Gamma = 0`
# (a classical Boltzmann machine) from the same initial biases and couplings.

# %%
qbms = {}
for label, field in (("QBM", True), ("Gamma = 0", False)):
    machine = QuantumBoltzmannMachine(n_visible=4, n_hidden=2, transverse_field=field, seed=SEED)
    machine.compile(keras.optimizers.Adam(0.05), loss="kl")
    hist = machine.fit(data, epochs=QBM_EPOCHS, batch_size=len(data), verbose=0)
    probs = machine.probabilities().numpy().astype("float64")
    qbms[label] = dict(model=machine, history=hist, probs=probs)
    print(f"{label:9s}: KL(target || model) = {kl(target, probs):.4f}")
qbm = qbms["QBM"]["model"]
print("learned |Gamma| per unit:", np.round(np.abs(qbm.gamma.numpy()), 3))

# %% [markdown]
# Both machines fit the six images well. The trained transverse field ends up close to zero,
# so here the QBM behaves almost like its classical twin: bars and stripes 2x2 is easy for a
# Boltzmann machine with two hidden units, and a transverse field does not make the
# distribution any sharper. Amin et al. report the quantum advantage in training on larger,
# multimodal distributions; the model-zoo recipe `models/qbm.py` repeats that comparison. For
# more units, `gradient="bound"` trains the bound-based QBM of the paper (no derivative of the
# matrix exponential, fixed `Gamma`).
#
# ### Check: the QBM distribution from the Hamiltonian
# `p(v)` is a partial trace of `exp(-H)`. Recompute it with SciPy's matrix exponential from the
# model's dense Hamiltonian (units ordered visible then hidden, unit 0 most significant).

# %%
from scipy.linalg import expm

rho = expm(-qbm.hamiltonian().numpy())
p_units = np.diag(rho) / np.trace(rho)
p_visible = p_units.reshape(16, 4).sum(axis=1)  # sum over the 2 hidden units
print("max |difference|:", np.abs(p_visible - qbms["QBM"]["probs"]).max())
assert np.allclose(p_visible, qbms["QBM"]["probs"], atol=1e-8)

# %% [markdown]
# ## Learned vs. target distributions

# %%
index = np.arange(16)
labels = ["".join(map(str, (i >> np.arange(3, -1, -1)) & 1)) for i in index]
fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw={"width_ratios": [2.2, 1]})
ax.bar(index, target, width=0.9, color="0.8", label="target")
ax.bar(
    index - 0.25,
    born_probs,
    width=0.25,
    color="C0",
    label=f"Born machine (KL {kl(target, born_probs):.3f})",
)
ax.bar(
    index,
    qbms["QBM"]["probs"],
    width=0.25,
    color="C1",
    label=f"QBM (KL {kl(target, qbms['QBM']['probs']):.3f})",
)
ax.bar(
    index + 0.25,
    qbms["Gamma = 0"]["probs"],
    width=0.25,
    color="C3",
    label=f"Gamma = 0 (KL {kl(target, qbms['Gamma = 0']['probs']):.3f})",
)
ax.set_xticks(index, labels, rotation=90, fontsize=8)
ax.set_xlabel("bitstring (pixels 0..3)")
ax.set_ylabel("probability")
ax.set_ylim(0, 0.25)
ax.legend(fontsize=8, ncol=2, loc="upper center")
ax.set_title("bars and stripes 2x2: learned vs. target")
ax_loss.semilogy(born_history.history["loss"], label="Born machine")
for label, colour in (("QBM", "C1"), ("Gamma = 0", "C3")):
    ax_loss.semilogy(qbms[label]["history"].history["loss"], color=colour, label=label)
ax_loss.set_xlabel("step")
ax_loss.set_ylabel("training loss (KL)")
ax_loss.grid(alpha=0.3)
ax_loss.legend(fontsize=8)
fig.tight_layout()
fig.savefig("04_histograms.png", dpi=100)
plt.show()

# %% [markdown]
# Both generators are Keras models: `model(bitstrings)` returns `p(x)` of each bitstring, and
# they save to `.keras` files like any other model (see notebook 05).

# %%
print("p(x) of the training images under the Born machine:", np.round(born(data).numpy(), 3))
