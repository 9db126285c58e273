"""tfq_layers: Keras layers and models for hybrid quantum-classical machine learning.

Importing this package also registers every TensorFlow Quantum op library with TensorFlow (without
importing TFQ's Python package), so SavedModels that contain TFQ ops load in a fresh process.
TFQ's layer family on Keras 3 lives in ``tfq_layers.compat.layers``.
"""
from tfq_layers import circuits, datasets, metrics
from tfq_layers.backends import load_tfq_ops as _load_tfq_ops
from tfq_layers.generative import (BornMachine, GenerativeModel, QuantumBoltzmannMachine)
from tfq_layers.layers import PQC, PQCProbabilities, PQCSample, PQCState, PQCUnitary
from tfq_layers.program import CircuitError, Program
from tfq_layers.serialization import SerializationError

_load_tfq_ops()

__version__ = "0.1.0"
__all__ = ["PQC", "PQCProbabilities", "PQCSample", "PQCState", "PQCUnitary", "BornMachine", "QuantumBoltzmannMachine", "GenerativeModel", "Program",
           "CircuitError", "SerializationError", "circuits", "datasets", "metrics",
           "__version__"]
