"""TensorFlow Quantum's API on Keras 3: ``tfq_layers.compat.layers`` has TFQ's ten layers, and
``convert_to_tensor``/``from_tensor`` write and read TFQ's serialized circuits and PauliSums
without TFQ (:mod:`tfq_layers.wire`).

Migrate a TFQ program by replacing ``tfq.layers`` with ``tfq_layers.compat.layers`` and
``tfq.convert_to_tensor``/``tfq.from_tensor`` with ``tfq_layers.compat.convert_to_tensor``/
``from_tensor``.
"""

from tfq_layers.compat import datasets, differentiators, layers, math, util
from tfq_layers.compat.ops import (
    get_expectation_op,
    get_sampled_expectation_op,
    get_sampling_op,
    get_state_op,
    get_unitary_op,
    padded_to_ragged,
    resolve_parameters,
)
from tfq_layers.wire import convert_to_tensor, from_tensor

__all__ = [
    "convert_to_tensor",
    "datasets",
    "differentiators",
    "from_tensor",
    "get_expectation_op",
    "get_sampled_expectation_op",
    "get_sampling_op",
    "get_state_op",
    "get_unitary_op",
    "layers",
    "math",
    "padded_to_ragged",
    "resolve_parameters",
    "util",
]
