"""TensorFlow Quantum's API on Keras 3: ``tfq_layers.compat.layers`` has TFQ's ten layers.

Migrate a TFQ program by replacing ``tfq.layers`` with ``tfq_layers.compat.layers``.
"""

from tfq_layers.compat import layers

__all__ = ["layers"]
