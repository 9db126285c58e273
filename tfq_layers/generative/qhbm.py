"""``QHBM``: a quantum Hamiltonian-based model as a Keras model (Verdon et al. 2019).

Reference: G. Verdon, J. Marks, S. Nanda, S. Leichenauer, J. Hidary, "Quantum Hamiltonian-Based
Models and the Variational Quantum Thermalizer Algorithm", arXiv:1910.02071 (2019).

A QHBM is a mixed state on ``n`` qubits built from two parts:

* a classical energy-based model ``p_θ(x) = exp(-E_θ(x)) / Z_θ`` over n-bit strings (the *latent*
  distribution, :mod:`tfq_layers.generative.energy`), and
* a parameterized unitary ``U(φ)``: any Cirq circuit whose sympy symbols are the weights ``φ``,

    ρ(θ, φ) = U(φ) [Σ_x p_θ(x) |x><x|] U(φ)†,

so ``ρ = exp(-U K_θ U†) / Z_θ`` with the latent modular Hamiltonian ``K_θ = Σ_x E_θ(x)|x><x|``.
Its von Neumann entropy is the Shannon entropy of ``p_θ`` (the unitary does not change it), exact for
the energies of :mod:`~tfq_layers.generative.energy`.

The circuit runs on the package's own stack (circuit -> Program -> Engine -> backend): the model
prepends ``X**b_i`` on every qubit, with the bits ``b_i`` as input symbols, so one batched backend
call evaluates ``U|x>`` for a whole batch of bitstrings ``x``. Qubit ``i`` of the sorted qubits of
the circuit carries bit ``i`` (bit 0 is the most significant bit of a basis-state index).

Two trainings, both as ``compile(...)`` + ``fit(...)``:

* **VQT** (:meth:`QHBM.vqt_loss`): given a Hamiltonian ``H`` and ``β > 0``, minimize the free
  energy ``F = β tr(ρ H) - S(ρ) = Σ_x p_θ(x) [β e_φ(x) + log p_θ(x)]`` with
  ``e_φ(x) = <x|U† H U|x>``; its minimum ``-log tr e^{-βH}`` is reached at the thermal state
  ``e^{-βH}/tr e^{-βH}``. Gradients are the paper's estimators: for the circuit,
  ``∂_φ F = β E_{x~p}[∂_φ e_φ(x)]``; for the energy, the score-function form
  ``∂_θ F = -E_{x~p}[(f(x) - E_p f) ∂_θ E_θ(x)]`` with ``f = β e_φ + log p_θ``. The expectation
  ``E_{x~p}`` is exact (all ``2**n`` strings weighted by ``p_θ``, ``estimator="exact"``) or a
  Monte-Carlo average over ``num_samples`` draws (``estimator="sampled"``).
* **QMHL** (:meth:`QHBM.qmhl_loss`): given samples of an unknown mixed state ``σ`` (a pure-state
  ensemble: state vectors ``ψ_j`` drawn from ``σ``), minimize the quantum cross entropy
  ``-tr(σ log ρ) = E_{ψ~σ}[<ψ|U K_θ U†|ψ>] + log Z_θ``, whose minimum over the model is at ``ρ = σ``.

Example:
    >>> import cirq, sympy
    >>> from tfq_layers.generative import QHBM, BernoulliEnergy
    >>> q = cirq.LineQubit.range(2)
    >>> a, b = sympy.symbols("a b")
    >>> circuit = cirq.Circuit(cirq.ry(a).on(q[0]), cirq.CNOT(q[0], q[1]), cirq.ry(b).on(q[1]))
    >>> model = QHBM(BernoulliEnergy(2, seed=0), circuit, seed=0)
    >>> H = cirq.Z(q[0]) * cirq.Z(q[1]) + 0.5 * cirq.X(q[0])
    >>> model.compile(keras.optimizers.Adam(0.05), loss="vqt", hamiltonian=H, beta=1.0)
    >>> _ = model.fit(epochs=3, verbose=0)
    >>> model.density_matrix().shape
    (4, 4)
"""

import numbers
from typing import Any, Optional

import cirq
import numpy as np
import sympy
import tensorflow as tf

from tfq_layers import serialization
from tfq_layers._keras import keras, register
from tfq_layers.backends import memory
from tfq_layers.engine import Engine
from tfq_layers.program import Program
from tfq_layers.errors import CircuitError
from tfq_layers.generative.energy import EnergyModel, all_bitstrings

__all__ = ["QHBM", "MAX_DENSITY_QUBITS", "MAX_EXACT_QUBITS", "thermal_state", "fidelity"]

#: Largest register for :meth:`QHBM.density_matrix` and QMHL (a ``2**n x 2**n`` complex matrix:
#: 256 MiB at 12 qubits in complex128).
MAX_DENSITY_QUBITS = 12
#: Largest register trained with ``estimator="exact"`` under ``estimator="auto"`` (all ``2**n``
#: bitstrings are simulated each step).
MAX_EXACT_QUBITS = 10
_ESTIMATORS = ("auto", "exact", "sampled")
_LOSSES = ("vqt", "qmhl")


def _check_beta(beta):
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise ValueError(f"`beta` (inverse temperature) must be a positive number; got {beta!r}.")
    beta = float(beta)
    if not np.isfinite(beta) or beta <= 0:
        raise ValueError(
            f"`beta` (inverse temperature) must be positive and finite; got {beta!r}. The thermal "
            "state exp(-beta H)/Z needs beta > 0 (beta -> 0 is the maximally mixed state)."
        )
    return beta


def _psd_sqrt(matrix):
    lam, vec = np.linalg.eigh(matrix)
    return (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.conj().T


def thermal_state(hamiltonian, beta, qubits):
    """``exp(-βH) / tr exp(-βH)`` by exact diagonalization (NumPy, complex128), and ``log Z``.

    Args:
        hamiltonian: a Hermitian ``cirq.PauliSum``/``PauliString``.
        beta: inverse temperature (> 0).
        qubits: the qubit order of the matrix (qubit 0 the most significant).

    Returns:
        ``(rho, log_z)``; the exact free energy of the VQT is ``-log_z``.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> rho, log_z = thermal_state(cirq.Z(q), 1.0, [q])
        >>> np.round(rho.real, 4).tolist(), round(log_z, 4)
        ([[0.1192, 0.0], [0.0, 0.8808]], 1.1269)
    """
    beta = _check_beta(beta)
    qubits = list(qubits)
    outside = sorted(set(cirq.PauliSum.wrap(hamiltonian).qubits) - set(qubits))
    if outside:
        raise ValueError(
            f"`hamiltonian` acts on qubit(s) {outside} outside `qubits` ({qubits}); its matrix "
            "would leave those terms out. Pass every qubit the Hamiltonian acts on."
        )
    matrix = cirq.PauliSum.wrap(hamiltonian).matrix(qubits)
    lam, vec = np.linalg.eigh(matrix)
    weights = np.exp(-beta * (lam - lam.min()))
    log_z = float(np.log(weights.sum()) - beta * lam.min())
    return (vec * (weights / weights.sum())) @ vec.conj().T, log_z


def fidelity(rho, sigma):
    """Uhlmann fidelity ``(tr sqrt(sqrt(σ) ρ sqrt(σ)))²`` of two density matrices (NumPy).

    Example:
        >>> round(fidelity(np.eye(2) / 2, np.diag([1.0, 0.0])), 6)
        0.5
    """
    root = _psd_sqrt(np.asarray(sigma, dtype=np.complex128))
    inner = root @ np.asarray(rho, dtype=np.complex128) @ root
    lam = np.clip(np.linalg.eigvalsh((inner + inner.conj().T) / 2), 0.0, None)
    return float(np.sum(np.sqrt(lam)) ** 2)


def default_circuit_initializer(seed=None):
    """Small angles around 0, so ``U(φ)`` starts near the identity: ``RandomNormal(0, 0.1)``."""
    return keras.initializers.RandomNormal(0.0, 0.1, seed=seed)


@register("QHBM")
class QHBM(keras.Model):
    """Quantum Hamiltonian-based model ``ρ = U(φ) (Σ_x p_θ(x)|x><x|) U(φ)†`` (see the module).

    Args:
        energy: an :class:`~tfq_layers.generative.energy.EnergyModel` on ``n`` bits
            (:class:`BernoulliEnergy`, :class:`KOBEEnergy`); its weights are ``θ``.
        circuit: a ``cirq.Circuit`` on exactly ``n`` GridQubit/LineQubit qubits whose free sympy
            symbols are the trainable weights ``φ`` (any expressions the package compiles). Add
            ``cirq.I`` on a qubit the circuit does not otherwise touch.
        backend: ``"auto"`` (default), ``"statevector"`` or ``"tfq"``, as for ``PQC``. QMHL and
            ``density_matrix`` read final states; QMHL needs their gradient, which only backends
            with ``differentiable_state`` (the statevector backend) provide.
        estimator: ``"exact"`` (sums over all ``2**n`` bitstrings weighted by ``p_θ``),
            ``"sampled"`` (``num_samples`` draws from ``p_θ`` per step, the paper's Monte-Carlo
            estimators), or ``"auto"`` (exact up to :data:`MAX_EXACT_QUBITS` qubits when the energy
            is enumerable, sampled beyond).
        num_samples: draws per step for ``"sampled"``; also used by :meth:`expectation`.
        initializer: Keras initializer of ``φ``; default :func:`default_circuit_initializer`.
        seed: seed of the default initializer.
        **kwargs: ``name``, ``trainable``.
    """

    def __init__(
        self,
        energy: EnergyModel,
        circuit: cirq.Circuit,
        backend: str = "auto",
        estimator: str = "auto",
        num_samples: int = 1000,
        initializer: Any = None,
        seed: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(energy, dict):  # from a config: a registered class, no code evaluated
            energy = keras.saving.deserialize_keras_object(energy)
        if not isinstance(energy, EnergyModel):
            raise TypeError(
                "`energy` must be a tfq_layers.generative.EnergyModel (BernoulliEnergy, "
                f"KOBEEnergy); got {type(energy).__name__}."
            )
        if not isinstance(circuit, cirq.Circuit):
            raise TypeError(f"`circuit` must be a cirq.Circuit; got {type(circuit).__name__}.")
        if estimator not in _ESTIMATORS:
            raise ValueError(f"`estimator` must be one of {list(_ESTIMATORS)}; got {estimator!r}.")
        if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
            raise ValueError(f"`num_samples` must be a positive int; got {num_samples!r}.")
        if num_samples < 1:
            raise ValueError(f"`num_samples` must be a positive int; got {num_samples!r}.")
        memory.check_repetitions(num_samples, "QHBM num_samples")  # bounded, as shot counts are
        self.energy = energy
        self.n_qubits = energy.n_bits
        qubits = sorted(circuit.all_qubits())
        if len(qubits) != self.n_qubits:
            raise CircuitError(
                f"the circuit acts on {len(qubits)} qubits {qubits}, but the energy model has "
                f"n_bits={self.n_qubits}: one qubit per bit. Add cirq.I on unused qubits or build "
                f"the energy with n_bits={len(qubits)}."
            )
        self.qubits = qubits
        self._circuit = circuit
        taken = {s.name for s in cirq.parameter_symbols(circuit)}
        prefix = "_qhbm_bit"
        while any(name.startswith(prefix) for name in taken):
            prefix = "_" + prefix
        self._bit_symbols = [sympy.Symbol(f"{prefix}{i}") for i in range(self.n_qubits)]
        prep = cirq.Circuit(cirq.Moment(cirq.X(q) ** s for q, s in zip(qubits, self._bit_symbols)))
        self._engine = Engine(
            Program(prep + circuit, input_symbols=self._bit_symbols), backend=backend
        )
        self._engine.bind()
        self._program = self._engine.program
        self.backend_request = backend
        self.estimator_request = estimator
        if estimator == "auto":
            estimator = "exact" if energy.exact and self.n_qubits <= MAX_EXACT_QUBITS else "sampled"
        if estimator == "exact" and not energy.exact:
            raise ValueError(
                f"estimator='exact' sums over all 2**{self.n_qubits} bitstrings, which this "
                f"{type(energy).__name__} cannot enumerate; use estimator='sampled'."
            )
        self.estimator = estimator
        self.num_samples = int(num_samples)
        self.seed = seed
        self.initializer = keras.initializers.get(initializer or default_circuit_initializer(seed))
        self.circuit_weights = None
        self._loss_name = None
        self._hamiltonian = None
        self._beta = None
        object.__setattr__(self, "_loss_tracker", None)

    # ------------------------------------------------------------------ structure
    @property
    def circuit(self):
        """The unitary's circuit ``U(φ)`` as given."""
        return self._circuit

    @property
    def weight_symbols(self):
        """The circuit's trainable symbols, in the order of ``circuit_weights``."""
        return list(self._program.weight_symbols)

    @property
    def backend(self):
        """The simulator in use (``"statevector"`` or ``"tfq"``)."""
        return self._engine.backend.name

    def build(self, input_shape=None):
        """Create ``θ`` (the energy's weights) and ``φ`` (``circuit_weights``)."""
        if not self.energy.built:
            self.energy.build()
        if self.circuit_weights is None:
            self.circuit_weights = self.add_weight(
                name="circuit_weights",
                shape=(self._program.n_weights,),
                initializer=self.initializer,
                trainable=True,
                dtype="float32",
            )
        self.built = True

    def get_build_config(self):
        return {"n_qubits": self.n_qubits} if self.built else None

    def build_from_config(self, config):
        if not self.built:
            self.build()

    def _ensure_built(self):
        if not self.built:
            self.build()

    def call(self, inputs, training=None):
        """Latent energies ``E_θ(x)`` ``(B,)`` of bitstrings ``(B, n)`` (float64)."""
        return self.energy(inputs)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    # ------------------------------------------------------------------ the circuit part
    def _values(self, bits):
        bits = tf.convert_to_tensor(bits)
        feats = tf.cast(bits, tf.float32)
        return self._engine.parameters(
            feats, tf.convert_to_tensor(self.circuit_weights), tf.shape(bits)[0]
        )

    def _check_observable(self, observable, what="hamiltonian"):
        try:
            total = cirq.PauliSum.wrap(observable)
        except (TypeError, ValueError):
            raise TypeError(
                f"`{what}` must be a cirq.PauliSum or cirq.PauliString (e.g. "
                f"cirq.Z(q0) * cirq.Z(q1) + 0.5 * cirq.X(q0)); got {type(observable).__name__}."
            ) from None
        extra = sorted(set(total.qubits) - set(self.qubits))
        if extra:
            raise ValueError(
                f"`{what}` acts on qubit(s) {extra} that the model's circuit does not have "
                f"({self.qubits}); build the operator on the circuit's qubits."
            )
        bad = [str(term) for term in total if abs(complex(term.coefficient).imag) > 1e-12]
        if bad:
            raise ValueError(
                f"`{what}` is not Hermitian: the Pauli term(s) {bad[:3]} have complex coefficients. "
                "A Hermitian PauliSum has real coefficients only."
            )
        return total

    def circuit_energies(self, observable, bits):
        """``<x|U† O U|x>`` for each bitstring of ``bits`` ``(B, n)``: float64 ``(B,)``,
        differentiable in the circuit weights.

        Args:
            observable: a ``cirq.PauliSum``/``cirq.PauliString`` on the model's qubits.
            bits: int array or tensor ``(B, n)`` of 0/1.
        """
        self._ensure_built()
        total = self._check_observable(observable, "observable")
        values, shared = self._values(bits)
        out = self._engine.backend.expectation(values, shared, [total])
        return tf.cast(out[:, 0], tf.float64)

    def _weighted_bits(self):
        """``(bits (B, n), weights (B,))``: all strings with ``p_θ`` (exact) or the distinct
        strings of ``num_samples`` draws with their frequencies (sampled); no gradient."""
        if self.estimator == "exact":
            bits = tf.constant(all_bitstrings(self.n_qubits))
            return bits, tf.stop_gradient(self.energy.probabilities())
        draws = self.energy.sample_tf(self.num_samples)
        place = tf.constant(2 ** np.arange(self.n_qubits - 1, -1, -1), tf.int32)
        index = tf.reduce_sum(draws * place, axis=1)
        uniq, pos = tf.unique(index)
        counts = tf.math.unsorted_segment_sum(tf.ones_like(pos, tf.float64), pos, tf.shape(uniq)[0])
        first = tf.math.unsorted_segment_min(tf.range(tf.shape(pos)[0]), pos, tf.shape(uniq)[0])
        bits = tf.gather(draws, first)
        return bits, counts / float(self.num_samples)

    # ------------------------------------------------------------------ VQT
    def vqt_loss(self, hamiltonian, beta):
        """The free energy ``β tr(ρH) - S(ρ)``, with the gradients of Verdon et al. 2019.

        The value is exact with ``estimator="exact"`` (and a Monte-Carlo estimate of
        ``β tr(ρH)`` minus the exact entropy with ``"sampled"``; for an energy that is not
        enumerable, the value is shifted by the unknown ``log Z_θ``, the gradients are not).
        The gradient for the circuit weights is ``β E_p[∂_φ e(x)]`` and for the energy
        ``-E_p[(f - E_p f) ∂_θ E_θ(x)]``, ``f = β e(x) + log p_θ(x)`` (see the module docstring).

        Args:
            hamiltonian: a Hermitian ``cirq.PauliSum``/``PauliString`` on the model's qubits.
            beta: inverse temperature, a positive number.

        Returns:
            A float64 scalar tensor; call it under a ``tf.GradientTape``.
        """
        total = self._check_observable(hamiltonian)
        beta = _check_beta(beta)
        self._ensure_built()
        bits, w = self._weighted_bits()
        e = self.circuit_energies(total, bits)  # (B,), differentiable in φ
        energy = self.energy(bits)  # (B,), differentiable in θ
        if self.energy.exact:
            log_p = -energy - self.energy.log_partition()
        else:
            log_p = -energy  # log p up to the constant -log Z: f - E_p f does not see it
        f = tf.stop_gradient(beta * e + log_p)
        centred = f - tf.reduce_sum(w * f)
        surrogate = beta * tf.reduce_sum(w * e) - tf.reduce_sum(w * centred * energy)
        if self.energy.exact:
            value = beta * tf.reduce_sum(w * e) - self.energy.entropy()
        else:
            value = tf.reduce_sum(w * (beta * e + log_p))
        return surrogate + tf.stop_gradient(value - surrogate)

    def free_energy(self, hamiltonian, beta):
        """The exact free energy ``β tr(ρH) - S(ρ)`` (float) by enumeration of all bitstrings."""
        total = self._check_observable(hamiltonian)
        beta = _check_beta(beta)
        self._require_enumerable("free_energy")
        bits = all_bitstrings(self.n_qubits)
        p = self.energy.probabilities()
        e = self.circuit_energies(total, bits)
        return float(beta * tf.reduce_sum(p * e) - self.energy.entropy())

    # ------------------------------------------------------------------ QMHL
    def _check_states(self, states):
        states = tf.convert_to_tensor(states)
        if not states.dtype.is_complex:
            if states.dtype.is_floating or states.dtype.is_integer:
                states = tf.cast(states, tf.complex64)
            else:
                raise TypeError(f"quantum data must be complex state vectors; got {states.dtype}.")
        dim = 2**self.n_qubits
        if states.shape.rank != 2 or (states.shape[-1] is not None and states.shape[-1] != dim):
            raise ValueError(
                f"quantum data must be state vectors of shape (N, 2**n) = (N, {dim}) for the "
                f"model's {self.n_qubits} qubits; got shape {states.shape}."
            )
        return tf.cast(states, tf.complex64)

    def _latent_states(self):
        """``U|x>`` for every bitstring, ``(2**n, 2**n)`` complex64 (row ``x``)."""
        self._require_enumerable("the model's states")
        values, shared = self._values(tf.constant(all_bitstrings(self.n_qubits)))
        return self._engine.backend.state(values, shared)

    def qmhl_loss(self, states):
        """Quantum cross entropy ``-tr(σ log ρ)`` of the model against quantum data.

        ``σ`` is given by samples: state vectors ``ψ_j`` drawn from it (e.g. eigenvectors of a
        thermal state drawn with their eigenvalues as probabilities, or the output states of a
        batch of circuits). The loss is ``mean_j Σ_x E_θ(x) |<x|U†|ψ_j>|² + log Z_θ``;
        its gradient is ``E_{q}[∂E] - E_{p}[∂E]`` for ``θ`` (``q`` the data's distribution in the
        model's basis) and autodiff through the states for ``φ``.

        Args:
            states: ``(N, 2**n)`` complex state vectors (qubit 0 the most significant).

        Returns:
            A float64 scalar tensor.
        """
        states = self._check_states(states)
        if not self._engine.backend.differentiable_state:
            raise ValueError(
                f"qmhl_loss differentiates the model's final states, which the {self.backend!r} "
                "backend does not do (its state op has no gradient); build the QHBM with "
                "backend='statevector'."
            )
        self._ensure_built()
        basis = self._latent_states()  # (2**n, 2**n): row x = U|x>
        amps = tf.matmul(tf.math.conj(basis), states, transpose_b=True)  # <Ux|psi_j>
        q = tf.reduce_mean(tf.cast(tf.abs(amps) ** 2, tf.float64), axis=1)  # (2**n,)
        energies = self.energy.all_energies()
        return tf.reduce_sum(q * energies) + self.energy.log_partition()

    # ------------------------------------------------------------------ reading the model
    def _require_enumerable(self, what):
        if self.n_qubits > MAX_DENSITY_QUBITS:
            raise ValueError(
                f"{what} needs all 2**{self.n_qubits} basis states (a {2**self.n_qubits} x "
                f"{2**self.n_qubits} complex matrix); the limit is {MAX_DENSITY_QUBITS} qubits "
                f"({2**MAX_DENSITY_QUBITS}x{2**MAX_DENSITY_QUBITS}, 256 MiB). Use expectation() "
                "and sample(), which work at any size."
            )
        if not self.energy.exact:
            raise ValueError(
                f"{what} needs the exact latent distribution, which this energy lacks."
            )

    def density_matrix(self):
        """``ρ = U diag(p_θ) U†`` as a complex128 NumPy array ``(2**n, 2**n)``.

        Raises ``ValueError`` above :data:`MAX_DENSITY_QUBITS` qubits.
        """
        self._ensure_built()
        basis = self._latent_states().numpy().astype(np.complex128)
        p = self.energy.probabilities().numpy()
        return basis.T @ (p[:, None] * basis.conj())

    def latent_probabilities(self):
        """``p_θ(x)`` of all ``2**n`` bitstrings (NumPy float64)."""
        self._ensure_built()
        return self.energy.probabilities().numpy()

    def entropy(self):
        """The von Neumann entropy ``S(ρ) = S(p_θ)`` in nats (float)."""
        self._ensure_built()
        return float(self.energy.entropy())

    def expectation(self, observable):
        """``tr(ρ O)`` of a PauliSum: exact over all bitstrings (``estimator="exact"``) or
        averaged over ``num_samples`` latent draws (``"sampled"``). Returns a float64 tensor."""
        self._ensure_built()
        bits, w = self._weighted_bits()
        return tf.reduce_sum(w * self.circuit_energies(observable, bits))

    def sample_latent(self, k, seed=None):
        """``k`` latent bitstrings ``x ~ p_θ`` (int32 NumPy ``(k, n)``)."""
        self._ensure_built()
        return self.energy.sample(k, seed=seed)

    def sample(self, k, seed=None):
        """``k`` computational-basis measurements of ``ρ``: ``x ~ p_θ``, then ``U|x>`` measured.

        Args:
            k: number of samples.
            seed: seeds the latent draw and the backend's sampler (TFQ's takes none).

        Returns:
            int32 NumPy array ``(k, n)``, qubits in sorted order.
        """
        if not isinstance(k, bool) and isinstance(k, numbers.Integral) and k > 0:
            memory.check_size(  # a final state per draw, then its measured bits
                memory.state_bytes(self.n_qubits, int(k)) + memory.sample_bytes(self.n_qubits, k),
                f"measuring k={k} samples of the {self.n_qubits}-qubit model",
                "Draw fewer samples (several calls of a smaller k).",
            )
        latent = self.sample_latent(k, seed=seed)
        values, shared = self._values(tf.constant(latent))
        out = self._engine.backend.sample(values, shared, 1, seed=seed)
        return np.asarray(out)[:, 0, :].astype(np.int32)

    # ------------------------------------------------------------------ training
    def compile(self, optimizer="adam", loss="vqt", hamiltonian=None, beta=None, **kwargs):
        """Configure training.

        Args:
            optimizer: a Keras optimizer or its name.
            loss: ``"vqt"`` (needs ``hamiltonian`` and ``beta``; ``fit()`` then takes no data) or
                ``"qmhl"`` (``fit(states)`` with state vectors ``(N, 2**n)``).
            hamiltonian: the Hermitian ``cirq.PauliSum`` of the VQT.
            beta: the VQT's inverse temperature (> 0).
            **kwargs: ``run_eagerly``, ``steps_per_execution``, passed to ``keras.Model.compile``.
        """
        if loss not in _LOSSES:
            raise ValueError(f"`loss` must be one of {list(_LOSSES)}; got {loss!r}.")
        if loss == "vqt":
            if hamiltonian is None or beta is None:
                raise ValueError("loss='vqt' needs hamiltonian= (a cirq.PauliSum) and beta=.")
            hamiltonian = self._check_observable(hamiltonian)
            beta = _check_beta(beta)
        super().compile(optimizer=optimizer, loss=None, **kwargs)
        self._loss_name = loss
        self._hamiltonian = hamiltonian
        self._beta = beta
        object.__setattr__(self, "_loss_tracker", keras.metrics.Mean(name="loss"))

    @property
    def metrics(self):
        return [self._loss_tracker] if getattr(self, "_loss_tracker", None) is not None else []

    def compute_objective(self, data=None):
        """The compiled loss: ``vqt_loss(H, β)`` or ``qmhl_loss(data)``."""
        if self._loss_name == "vqt":
            return self.vqt_loss(self._hamiltonian, self._beta)
        if isinstance(data, (tuple, list)):
            data = data[0]
        return self.qmhl_loss(data)

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = self.compute_objective(data)
        variables = self.trainable_variables
        grads = tape.gradient(loss, variables)
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        self.optimizer.apply_gradients(pairs)
        self._loss_tracker.update_state(tf.cast(loss, tf.float32))
        return {"loss": self._loss_tracker.result()}

    def test_step(self, data):
        loss = self.compute_objective(data)
        self._loss_tracker.update_state(tf.cast(loss, tf.float32))
        return {"loss": self._loss_tracker.result()}

    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """Train. VQT: ``fit(epochs=..., steps_per_epoch=1)`` with no data (each step is one
        gradient step on the free energy). QMHL: ``fit(states, batch_size=..., epochs=...)``
        with state vectors ``(N, 2**n)`` (default: the whole set per step).
        """
        if self._loss_name is None:
            raise RuntimeError(
                "compile the QHBM first: model.compile(optimizer, loss='vqt', hamiltonian=H, "
                "beta=1.0) or model.compile(optimizer, loss='qmhl')."
            )
        if y is not None:
            raise ValueError("a QHBM trains without targets; pass y=None.")
        self._ensure_built()
        kwargs.setdefault("shuffle", False)  # the data arrive as a tf.data set (see below)
        if self._loss_name == "vqt":
            if x is not None:
                raise ValueError(
                    "loss='vqt' trains on the Hamiltonian alone: call fit() with no x."
                )
            kwargs.setdefault("steps_per_epoch", 1)
            x = tf.data.Dataset.from_tensors(tf.zeros([1])).repeat()
        else:
            if x is None:
                raise ValueError("loss='qmhl' needs quantum data: fit(states) with (N, 2**n).")
            if not isinstance(x, tf.data.Dataset):
                states = self._check_states(x)
                n = int(states.shape[0])
                x = tf.data.Dataset.from_tensor_slices(states).batch(batch_size or n)
        return super().fit(x, **kwargs)

    # ------------------------------------------------------------------ saving
    def save(self, filepath, *args, **kwargs):
        """``keras.Model.save``, written atomically (:func:`tfq_layers.saving.save_model`)."""
        from tfq_layers.saving import save_model

        if args:
            kwargs.setdefault("overwrite", args[0])
        return save_model(self, filepath, **kwargs)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "energy": keras.saving.serialize_keras_object(self.energy),
            "circuit": serialization.dumps(self._circuit),
            "backend": self.backend_request,
            "estimator": self.estimator_request,
            "num_samples": self.num_samples,
            "initializer": keras.initializers.serialize(self.initializer),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        circuit = serialization.loads(config["circuit"])
        if not isinstance(circuit, cirq.Circuit):
            raise serialization.SerializationError(
                "saved 'circuit' is not a cirq.Circuit; the file was altered."
            )
        config["circuit"] = circuit
        config["energy"] = keras.saving.deserialize_keras_object(config["energy"])
        if config.get("initializer") is not None:
            config["initializer"] = keras.initializers.deserialize(config["initializer"])
        return cls(**config)

    def get_compile_config(self):
        return None  # the Hamiltonian is not saved: compile again after loading
