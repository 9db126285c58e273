"""The pure-TensorFlow batched statevector simulator (see :mod:`.simulator` for how it works).

Modules: ``compile`` (circuit -> simulation plan, numpy/cirq only), ``kernels`` (real-layout
arithmetic, transposes, permutations), ``steps`` (gate-matrix buckets and fused runtime steps),
``observables`` (observable plans and readout), ``engine`` (compiling and running a circuit) and
``simulator`` (:class:`StatevectorSimulator`, the public API). Importing it does not import TFQ.
"""

from tfq_layers.backends.statevector.engine import LARGE_REGISTER_QUBITS
from tfq_layers.backends.statevector.kernels import as_seed
from tfq_layers.backends.statevector.simulator import StatevectorSimulator, estimate_memory_bytes

__all__ = ["LARGE_REGISTER_QUBITS", "StatevectorSimulator", "as_seed", "estimate_memory_bytes"]
