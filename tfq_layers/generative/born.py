"""``BornMachine``: a quantum circuit Born machine (QCBM) as a Keras model.

A parameterized circuit ``U(θ)`` on ``n`` qubits defines the distribution
``p_θ(x) = |<x|U(θ)|0...0>|²`` over n-bit strings (Born's rule; Benedetti et al. 2019,
npj Quantum Inf. 5, 45; Liu & Wang 2018, PRA 98, 062324). ``model.fit(bitstrings)`` learns it.

Two training modes:

* **analytic** (default): the exact, differentiable probability vector comes from the simulator,
  and any loss of :class:`~tfq_layers.generative.base.GenerativeModel` (``"kl"``, ``"nll"``,
  ``"mmd"``) is minimized by autodiff. TFQ's state op has no gradient (TFQ issue #298); the
  ``"tfq"`` backend therefore computes the amplitudes ``<x|U(θ)|0>`` with
  ``tfq.math.inner_product`` against every basis state, which *is* differentiable. The
  ``"statevector"`` backend (pure TensorFlow) differentiates the state directly.
* **shots** (``repetitions=N``): only samples are used, as on hardware. The gradient of the squared
  MMD is estimated from N samples of the circuit at ``θ`` and at ``θ ± shift`` for every gate
  parameter (the parameter-shift rule), following Liu & Wang 2018 (Eq. 5):
  ``∂MMD²/∂t = π (E_{x~p⁺}[φ(x)] - E_{x~p⁻}[φ(x)])`` with ``φ(x) = E_{x'~p}k(x,x') - E_{y~data}k(x,y)``
  for a gate ``exp(iπ t Π)`` whose exponent ``t`` is shifted by ``±1/2``. All shifted circuits run
  in one batched sampling call.
"""

from typing import Any, Optional

import cirq
import numpy as np
import tensorflow as tf

from tfq_layers import serialization
from tfq_layers.backends import memory
from tfq_layers._keras import keras, register
from tfq_layers.circuits.ansatze import born_ansatz  # it lived here first; still importable
from tfq_layers.generative.base import GenerativeModel, mmd_kernel_apply
from tfq_layers.engine import Engine
from tfq_layers.errors import CircuitError
from tfq_layers.program import CompileOptions, Program

__all__ = ["BornMachine", "born_ansatz", "default_layers"]

# Gates whose exponent ``t`` enters as exp(iπ t Π) with one projector Π (two eigenvalues one
# half-turn apart): the ±1/2 parameter-shift rule is exact for them.
_SHIFTABLE = (
    cirq.XPowGate,
    cirq.YPowGate,
    cirq.ZPowGate,
    cirq.CZPowGate,
    cirq.CXPowGate,
    cirq.XXPowGate,
    cirq.YYPowGate,
    cirq.ZZPowGate,
)


def default_layers(n_qubits):
    """The default depth of :func:`born_ansatz` for ``n_qubits``: grows slowly with ``n``."""
    return int(max(2, min(6, (n_qubits + 1) // 2)))


@register("BornMachine")
class BornMachine(GenerativeModel):
    """Quantum circuit Born machine: ``p(x) = |<x|U(θ)|0>|²`` as a trainable Keras model.

    Args:
        n_qubits: number of qubits = bits per sample.
        circuit: optional ``cirq.Circuit`` on ``n_qubits`` GridQubit/LineQubit qubits whose free
            symbols are the trainable weights (any sympy expressions allowed). Default:
            :func:`born_ansatz` with ``layers`` layers.
        layers: depth of the default ansatz; default :func:`default_layers`.
        repetitions: ``None`` for analytic training; an int N for shot-based MMD training with N
            samples per circuit (``compile(loss="mmd")`` only).
        trajectories: for a circuit with noise channels (required then, on every backend): the
            number of random trajectories whose mean is :meth:`probabilities`. A noisy circuit
            without it is refused, since its probabilities would change from call to call.
        backend: ``"tfq"`` (TFQ's qsim ops) or ``"statevector"`` (pure TensorFlow, any gate
            with a unitary); ``"auto"`` (default) chooses as
            ``tfq_layers.backends.choose_backend`` does: the statevector backend (faster at every
            size measured, see BENCHMARKS.md) while its memory estimate fits, TFQ beyond.
        initializer: Keras initializer of the weights; default ``RandomNormal(0, 0.5)``.
        seed: seed of the default initializer.
        **kwargs: ``name``, ``dtype``, ``trainable``.

    Example:
        >>> from tfq_layers.datasets import bars_and_stripes
        >>> model = BornMachine(4)
        >>> model.compile(keras.optimizers.Adam(0.05), loss="kl")
        >>> _ = model.fit(bars_and_stripes(2, 2), epochs=2, batch_size=6, verbose=0)
        >>> model.probabilities().shape
        TensorShape([16])
    """

    def __init__(
        self,
        n_qubits: int,
        circuit: Optional[cirq.Circuit] = None,
        layers: Optional[int] = None,
        repetitions: Optional[int] = None,
        backend: str = "auto",
        initializer: Any = None,
        seed: Optional[int] = None,
        trajectories: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(n_bits=n_qubits, **kwargs)
        if circuit is None:
            self.layers_ = int(layers or default_layers(self.n_bits))
            circuit, _ = born_ansatz(self.n_bits, self.layers_)
            self._default_circuit = True
        else:
            if layers is not None:
                raise ValueError(
                    "pass either circuit= or layers= (the depth of the default ansatz), not both."
                )
            self.layers_ = None
            self._default_circuit = False
        self.repetitions = memory.check_repetitions(
            repetitions, "BornMachine", minimum=2, optional=True
        )
        if backend not in ("auto", "tfq", "statevector"):
            raise ValueError(f"backend must be 'auto', 'tfq' or 'statevector'; got {backend!r}.")
        # Shot mode shifts each gate exponent by ±1/2: placeholders must be the exponents, one
        # batched column each.
        self._engine = Engine(
            Program._with_options(CompileOptions(allow_direct=repetitions is None), circuit),
            backend=backend,
            share_weights=False,
            trajectories=trajectories,
        )
        self._program = self._engine.program
        self.trajectories = memory.check_repetitions(
            trajectories, "BornMachine (trajectories)", optional=True
        )
        if self._program.has_channels and self.trajectories is None:
            raise ValueError(
                "BornMachine: the circuit has noise channels, which are simulated by random "
                "trajectories, so probabilities() would change from call to call. Pass "
                "trajectories=N (e.g. 1000) to average N of them, or remove the channels."
            )
        qubits = self._program.qubits
        if len(qubits) != self.n_bits:
            raise CircuitError(
                f"the circuit acts on {len(qubits)} qubits {qubits}, but n_qubits={self.n_bits}. "
                "Every bit needs a qubit: add cirq.I on unused qubits or change n_qubits."
            )
        self.qubits = qubits
        self.backend_request = backend  # as given; `backend` is the simulator chosen
        self._engine.bind()
        self._program = self._engine.program
        self.seed = seed
        self.initializer = keras.initializers.get(
            initializer or keras.initializers.RandomNormal(0.0, 0.5, seed=seed)
        )
        self._shift_plan = self._build_shift_plan() if self.repetitions else None
        self.circuit_weights = None

    @property
    def backend(self):
        """The simulator in use: ``"tfq"`` or ``"statevector"`` (``backend_request`` holds the
        argument as given, which may be ``"auto"``), as :attr:`tfq_layers.PQC.backend`."""
        return self._engine.backend.name

    @property
    def simulator_backend(self):
        """The :class:`~tfq_layers.backends.base.Backend` object in use."""
        return self._engine.backend

    @property
    def circuit(self):
        return self._program.circuit

    @property
    def weight_symbols(self):
        return list(self._program.weight_symbols)

    def _placeholder_values(self, batch=1):
        weights = (
            tf.convert_to_tensor(self.circuit_weights) if self.circuit_weights is not None else None
        )
        return self._engine.parameters(None, weights, tf.constant(batch))[0]

    def _probabilities_from_values(self, values):
        """``(batch, 2**n)`` float32 probabilities for placeholder values ``(batch, P)``."""
        return tf.cast(self._engine.backend.probabilities(values, tf.zeros([0])), tf.float32)

    # -- GenerativeModel ---------------------------------------------------------------------
    def build(self, input_shape=None):
        if self._program.n_weights and self.circuit_weights is None:
            self.circuit_weights = self.add_weight(
                name="circuit_weights",
                shape=(self._program.n_weights,),
                initializer=self.initializer,
                trainable=True,
                dtype="float32",
            )
        super().build(input_shape)

    def probabilities(self):
        """All ``2**n`` probabilities, qubit 0 the most significant bit; differentiable."""
        if not self.built:
            self.build()
        probs = self._probabilities_from_values(self._placeholder_values())[0]
        return probs / tf.reduce_sum(probs)

    def _check_loss_supported(self, loss):
        if self.repetitions and loss != "mmd":
            raise ValueError(
                f"a Born machine with repetitions={self.repetitions} learns from samples only, "
                f"which estimates the MMD loss but not {loss!r}; compile(loss='mmd'), or drop "
                "repetitions for analytic training with any loss."
            )

    # -- shot-based MMD gradient -------------------------------------------------------------
    def _build_shift_plan(self):
        """One entry per (gate occurrence, placeholder) to shift by ±1/2."""
        names = self._program.placeholder_names
        index = {n: i for i, n in enumerate(names)}
        counts = {}
        for op in self._program.compiled_circuit.all_operations():
            for s in cirq.parameter_symbols(op):
                gate = getattr(op, "gate", None)
                if not isinstance(gate, _SHIFTABLE) or gate.exponent != s:
                    raise CircuitError(
                        f"shot-based training shifts gate exponents by ±1/2, which is exact only "
                        f"for X/Y/Z/CZ/CNOT/XX/YY/ZZ powers (rx/ry/rz); {op} is not one. Use "
                        "analytic training (repetitions=None) for this circuit."
                    )
                counts[index[s.name]] = counts.get(index[s.name], 0) + 1
        shared = [names[i] for i, c in counts.items() if c > 1]
        if shared:
            raise CircuitError(
                f"shot-based training needs each gate parameter in one gate, but {shared[:3]} "
                "appear in several gates (the same expression twice). Use distinct symbols per "
                "gate, or analytic training."
            )
        return np.array(sorted(counts), dtype=np.int32)

    def sample_circuit(self, repetitions, seed=None):
        """``repetitions`` bitstrings measured from the circuit by the backend's sampler.

        These are the samples shot-based training (``repetitions=N``) uses; :meth:`sample`
        instead draws from the exact :meth:`probabilities`. Both follow the same distribution.

        Args:
            repetitions: number of shots, a positive int.
            seed: passed to the backend's sampler (TFQ's sampler takes none).

        Returns:
            int32 NumPy array ``(repetitions, n_bits)``, qubits in order.
        """
        if not self.built:
            self.build()
        return self._sample_from_values(self._placeholder_values(), repetitions, seed)[0].numpy()

    def _sample_from_values(self, values, repetitions, seed=None):
        """``(batch, repetitions, n)`` int32 samples of the circuit at each row of ``values``."""
        return self._engine.backend.sample(values, tf.zeros([0]), repetitions, seed=seed)

    def _histograms(self, samples):
        """Normalized histograms ``(..., 2**n)`` float64 of sample sets ``(..., M, n)``."""
        index = self.bits_to_index_tf(samples)
        counts = tf.reduce_sum(tf.one_hot(index, 2**self.n_bits, dtype=tf.float64), axis=-2)
        return counts / tf.reduce_sum(counts, axis=-1, keepdims=True)

    def loss_and_gradients(self, bitstrings, empirical):
        if not self.repetitions:
            return super().loss_and_gradients(bitstrings, empirical)
        plan = tf.constant(self._shift_plan)
        n_shift = len(self._shift_plan)
        weights = tf.convert_to_tensor(self.circuit_weights)
        with tf.GradientTape() as tape:
            tape.watch(weights)
            values = self._engine.parameters(None, weights, tf.constant(1))[0]  # (1, P)
        base = tf.stop_gradient(values)
        eye = tf.one_hot(plan, tf.shape(base)[1], dtype=tf.float32)  # (S, P)
        batch_values = tf.concat([base, base + 0.5 * eye, base - 0.5 * eye], axis=0)
        # Every circuit (unshifted, +1/2 and -1/2 per parameter) sampled in one batched call.
        hist = self._histograms(self._sample_from_values(batch_values, self.repetitions))
        data = tf.cast(empirical, tf.float64)
        # phi = K (p0 - data): E_{x~q} phi(x) = q^T phi, with K applied in O(n 2**n).
        phi = mmd_kernel_apply(hist[0] - data, self.n_bits, self.mmd_bandwidths)
        shifted = tf.linalg.matvec(hist[1:], phi)  # (2S,)
        g_placeholder = tf.cast(np.pi * (shifted[:n_shift] - shifted[n_shift:]), tf.float32)
        grad_values = tf.scatter_nd(plan[:, None], g_placeholder, tf.shape(base)[1:])[None, :]
        grad_w = tape.gradient(values, weights, output_gradients=grad_values)
        loss = tf.reduce_sum((hist[0] - data) * phi)  # the MMD² of the sampled distribution
        return loss, [grad_w], None

    # -- saving ------------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.pop("n_bits", None)
        config.update(
            {
                "n_qubits": self.n_bits,
                "circuit": None if self._default_circuit else serialization.dumps(self.circuit),
                "layers": self.layers_,
                "repetitions": self.repetitions,
                "backend": self.backend_request,
                "initializer": keras.initializers.serialize(self.initializer),
                "seed": self.seed,
                "trajectories": self.trajectories,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("circuit") is not None:
            circuit = serialization.loads(config["circuit"])
            if not isinstance(circuit, cirq.Circuit):
                raise serialization.SerializationError(
                    "saved 'circuit' is not a cirq.Circuit; the file was altered."
                )
            config["circuit"] = circuit
        if config.get("initializer") is not None:
            config["initializer"] = keras.initializers.deserialize(config["initializer"])
        return cls(**config)
