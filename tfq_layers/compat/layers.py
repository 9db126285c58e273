"""TensorFlow Quantum's ten Keras layers, on Keras 3 (and legacy tf_keras), on this package's core.

A TFQ program migrates by replacing ``tfq.layers`` with ``tfq_layers.compat.layers``: the class
names, constructor and call signatures, defaults, symbol order (lexicographic) and output types
(ragged tensors for ``Sample``, ``State`` and ``Unitary``) are TFQ's. What changes is what runs
underneath: every layer compiles its circuits with :class:`~tfq_layers.program.Program` and runs
them through the :class:`~tfq_layers.backends.base.Backend` interface, so

* a gate parameter may be any sympy expression (``2*t + 1``, ``atan(x)``), not only ``c*symbol``;
* with ``backend="statevector"`` (or the default when circuits are ``cirq.Circuit`` objects),
  ``State`` and ``Unitary`` are differentiable and gates TFQ cannot serialize (``MatrixGate``,
  ``PhasedXZGate``, ``TOFFOLI``) run;
* every layer has ``get_config`` and saves, loads (``safe_mode=True``) and exports;
* bad input gets an error that names the problem and the fix.

``backend``: TFQ's ``'noiseless'`` (default) and ``None`` let the package choose a noiseless
simulator (TFQ's qsim for ``tf.string`` circuit tensors or a TFQ differentiator, the statevector
backend for ``cirq.Circuit`` inputs); ``'noisy'`` does the same for noisy circuits (trajectories,
``repetitions`` required); ``'tfq'`` or ``'statevector'`` force one. A ``cirq`` simulator object
(TFQ's Cirq-backed mode) is not supported.

Calling convention in Keras 3: Keras 3 accepts only tensors as positional layer inputs. These
layers take TFQ's arguments as TFQ does (``layer(circuit, symbol_names=..., symbol_values=...)``)
and keep the non-tensor ones (circuits given as ``cirq.Circuit``, symbol names, operators,
repetitions) as part of the layer's configuration, so a functional model saves and reloads them.
"""

from tfq_layers.compat.add_circuit import AddCircuit
from tfq_layers.compat.arguments import default_initializer as default_initializer
from tfq_layers.compat.executors import Expectation, Sample, SampledExpectation, State, Unitary
from tfq_layers.compat.pqc import PQC, ControlledPQC, NoisyControlledPQC, NoisyPQC

__all__ = [
    "AddCircuit",
    "ControlledPQC",
    "Expectation",
    "NoisyControlledPQC",
    "NoisyPQC",
    "PQC",
    "Sample",
    "SampledExpectation",
    "State",
    "Unitary",
]
