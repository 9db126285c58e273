"""Keras layers: ``PQC`` (expectation values) and its output counterparts."""

from tfq_layers.layers.outputs import PQCProbabilities, PQCSample, PQCState, PQCUnitary
from tfq_layers.layers.pqc import PQC

__all__ = ["PQC", "PQCProbabilities", "PQCSample", "PQCState", "PQCUnitary"]
