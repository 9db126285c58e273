"""Simulator backends. ``tfq``: TensorFlow Quantum's qsim ops (CPU)."""
from tfq_layers.backends.tfq_backend import (DIFFERENTIATORS, TFQExpectation,
                                             differentiator_spec, load_tfq_ops)

__all__ = ["DIFFERENTIATORS", "TFQExpectation", "differentiator_spec", "load_tfq_ops"]
