"""TensorFlow Quantum's API on Keras 3: ``tfq_layers.compat.layers`` has TFQ's ten layers, and
``convert_to_tensor``/``from_tensor`` write and read TFQ's serialized circuits and PauliSums
without TFQ (:mod:`tfq_layers.wire`).

Migrate a TFQ program by replacing ``tfq.layers`` with ``tfq_layers.compat.layers`` and
``tfq.convert_to_tensor``/``tfq.from_tensor`` with ``tfq_layers.compat.convert_to_tensor``/
``from_tensor``.
"""

from tfq_layers.compat import layers
from tfq_layers.wire import convert_to_tensor, from_tensor

__all__ = ["convert_to_tensor", "from_tensor", "layers"]
