"""Exceptions shared across the package (no TensorFlow, no TFQ)."""


class CircuitError(ValueError):
    """A circuit, observable or symbol list that cannot be compiled; the message says how to fix it."""


class BackendUnavailableError(ImportError):
    """A simulator backend was asked for that cannot run here (its package is missing, or does not
    load against the installed TensorFlow); the message names the platform, versions and fix."""


__all__ = ["BackendUnavailableError", "CircuitError"]
