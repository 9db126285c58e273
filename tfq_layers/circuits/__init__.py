"""Circuit builders for PQC layers: encoders, ansatze, observables and QCNN blocks.

Pure Cirq + sympy (no TensorFlow import). Every builder takes ``qubits`` as an int ``n`` (meaning
``cirq.GridQubit.rect(1, n)``) or a sequence of ``cirq.GridQubit``/``cirq.LineQubit`` and returns
``(circuit, symbols)`` with the symbols it introduced in natural order (``w2`` before ``w10``).
Shape helpers (``hardware_efficient_shape`` etc.) size the weights without guessing.

Example:
    >>> from tfq_layers import circuits
    >>> enc, xs = circuits.angle_encoding(4)
    >>> ans, ws = circuits.hardware_efficient(4, layers=2)
    >>> circuit, observables = enc + ans, circuits.z_observables(4)
"""

from tfq_layers.circuits.ansatze import *  # noqa: F401,F403  (each module lists its API)
from tfq_layers.circuits.ansatze import __all__ as _ansatze
from tfq_layers.circuits.encoders import *  # noqa: F401,F403
from tfq_layers.circuits.encoders import __all__ as _encoders
from tfq_layers.circuits.observables import *  # noqa: F401,F403
from tfq_layers.circuits.observables import __all__ as _observables
from tfq_layers.circuits.qcnn import *  # noqa: F401,F403
from tfq_layers.circuits.qcnn import __all__ as _qcnn
from tfq_layers.circuits.qnn import *  # noqa: F401,F403
from tfq_layers.circuits.qnn import __all__ as _qnn

__all__ = [*_encoders, *_ansatze, *_observables, *_qcnn, *_qnn]
