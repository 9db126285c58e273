"""Exceptions shared across the package (no TensorFlow, no TFQ)."""


class CircuitError(ValueError):
    """A circuit, observable or symbol list that cannot be compiled; the message says how to fix it."""


__all__ = ["CircuitError"]
