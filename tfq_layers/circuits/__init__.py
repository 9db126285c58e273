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
from tfq_layers.circuits.ansatze import (basic_entangler, basic_entangler_shape, hardware_efficient,
                                         hardware_efficient_shape, strongly_entangling,
                                         strongly_entangling_ranges, strongly_entangling_shape)
from tfq_layers.circuits.encoders import (angle_encoding, basis_encoding, dense_angle_encoding,
                                          iqp_encoding, iqp_pairs, reuploading_circuit,
                                          reuploading_shape)
from tfq_layers.circuits.observables import parity, pauli_observables, total_z, z_observables
from tfq_layers.circuits.qcnn import (CONV_PARAMS, POOL_PARAMS, cluster_state_circuit, qcnn,
                                     qcnn_shape, quantum_conv, quantum_pool, two_qubit_pool,
                                     two_qubit_unitary)
from tfq_layers.circuits.qnn import (bits_to_circuits, readout_layer, readout_qnn,
                                     readout_qnn_shape)

__all__ = [
    # encoders
    "angle_encoding",
    "basis_encoding",
    "dense_angle_encoding",
    "iqp_encoding",
    "iqp_pairs",
    "reuploading_circuit",
    "reuploading_shape",
    # ansatze
    "basic_entangler",
    "basic_entangler_shape",
    "hardware_efficient",
    "hardware_efficient_shape",
    "strongly_entangling",
    "strongly_entangling_ranges",
    "strongly_entangling_shape",
    # observables
    "parity",
    "pauli_observables",
    "total_z",
    "z_observables",
    # QCNN
    "CONV_PARAMS",
    "POOL_PARAMS",
    "cluster_state_circuit",
    "qcnn",
    "qcnn_shape",
    "quantum_conv",
    "quantum_pool",
    "two_qubit_pool",
    "two_qubit_unitary",
    # Farhi-Neven readout QNN
    "bits_to_circuits",
    "readout_layer",
    "readout_qnn",
    "readout_qnn_shape",
]
