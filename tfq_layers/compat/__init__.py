"""TensorFlow Quantum's API on Keras 3: ``tfq_layers.compat.layers`` has TFQ's ten layers.

Migrate a TFQ program by replacing ``tfq.layers`` with ``tfq_layers.compat.layers``.
"""

from tfq_layers.compat import differentiators, layers, math
from tfq_layers.compat.ops import (
    get_expectation_op,
    get_sampled_expectation_op,
    get_sampling_op,
    get_state_op,
    get_unitary_op,
    padded_to_ragged,
)

__all__ = [
    "differentiators",
    "get_expectation_op",
    "get_sampled_expectation_op",
    "get_sampling_op",
    "get_state_op",
    "get_unitary_op",
    "layers",
    "math",
    "padded_to_ragged",
]
