"""Keras layers."""
from tfq_layers.layers.pqc import PQC

__all__ = ["PQC"]
