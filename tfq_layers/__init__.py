"""tfq_layers: Keras layers and models for hybrid quantum-classical machine learning.

Importing this package also registers every TensorFlow Quantum op, so SavedModels that contain
them load in a fresh process.
"""
from tfq_layers import circuits, datasets, metrics
from tfq_layers.backends import load_tfq_ops as _load_tfq_ops
from tfq_layers.generative import (BornMachine, GenerativeModel, QuantumBoltzmannMachine)
from tfq_layers.layers import PQC
from tfq_layers.program import CircuitError, Program
from tfq_layers.serialization import SerializationError

_load_tfq_ops()

__version__ = "0.1.0"
__all__ = ["PQC", "BornMachine", "QuantumBoltzmannMachine", "GenerativeModel", "Program",
           "CircuitError", "SerializationError", "circuits", "datasets", "metrics",
           "__version__"]
