"""TFQ's differentiator class names, as ``tfq_layers.compat.differentiators`` (``tfq.differentiators``).

A TFQ program passes ``differentiator=tfq.differentiators.ParameterShift()`` (or ``Adjoint()``,
``ForwardDifference(error_order, grid_spacing)``, ``CentralDifference(...)``) to a layer. These
classes take the same arguments and stand for the same choice without needing TFQ installed:
each turns into one of this package's differentiator specs (``tfq_layers.backends.
DIFFERENTIATOR_NAMES``), which TFQ's simulator (``backend='tfq'``, or the default when a
differentiator is given) runs with TFQ's own differentiator of that name. The statevector backend
differentiates exactly by autodiff and takes no differentiator.

``LinearCombination(weights, perturbations)`` with arbitrary stencils has no spec of its own: it
runs TFQ's ``LinearCombination`` (TFQ must be installed).

Example:
    >>> from tfq_layers.compat import differentiators
    >>> differentiators.ForwardDifference(error_order=2, grid_spacing=0.01).tfq_layers_spec()
    {'name': 'forward_difference', 'config': {'error_order': 2, 'grid_spacing': 0.01}}
"""

import numbers

__all__ = [
    "Adjoint",
    "CentralDifference",
    "Differentiator",
    "ForwardDifference",
    "LinearCombination",
    "ParameterShift",
]


class Differentiator:
    """Base of the differentiators a compat layer takes (``tfq.differentiators.Differentiator``).

    Subclasses say which of this package's differentiator specs they stand for in
    :meth:`tfq_layers_spec`; a layer reads it when constructed.
    """

    def tfq_layers_spec(self):
        """``{"name": ..., "config": {...}}`` for ``tfq_layers.backends.differentiator_spec``."""
        raise NotImplementedError

    def __repr__(self):
        spec = self.tfq_layers_spec()
        args = ", ".join(f"{k}={v!r}" for k, v in spec.get("config", {}).items())
        return f"{type(self).__name__}({args})"


class Adjoint(Differentiator):
    """TFQ's adjoint method: exact gradients of analytic expectations (not of sampled ones)."""

    def tfq_layers_spec(self):
        return {"name": "adjoint", "config": {}}


class ParameterShift(Differentiator):
    """TFQ's parameter-shift rule: exact gradients from shifted circuits; works when sampled."""

    def tfq_layers_spec(self):
        return {"name": "parameter_shift", "config": {}}


def _check_stencil(error_order, grid_spacing, allowed):
    if isinstance(error_order, bool) or not isinstance(error_order, numbers.Integral):
        raise TypeError(f"error_order must be an int in {allowed}; got {error_order!r}.")
    if error_order not in allowed:
        raise ValueError(f"error_order must be one of {allowed}; got {error_order}.")
    if not isinstance(grid_spacing, numbers.Real) or not grid_spacing > 0:
        raise ValueError(f"grid_spacing must be a positive number; got {grid_spacing!r}.")


class ForwardDifference(Differentiator):
    """TFQ's forward finite difference.

    Args:
        error_order: order of the error term, 1 to 4 (as TFQ's).
        grid_spacing: step between the stencil's points.
    """

    def __init__(self, error_order=1, grid_spacing=0.001):
        _check_stencil(error_order, grid_spacing, (1, 2, 3, 4))
        self.error_order = int(error_order)
        self.grid_spacing = float(grid_spacing)

    def tfq_layers_spec(self):
        return {
            "name": "forward_difference",
            "config": {"error_order": self.error_order, "grid_spacing": self.grid_spacing},
        }


class CentralDifference(Differentiator):
    """TFQ's central finite difference.

    Args:
        error_order: order of the error term, 2 or 4 (as TFQ's).
        grid_spacing: step between the stencil's points.
    """

    def __init__(self, error_order=2, grid_spacing=0.001):
        _check_stencil(error_order, grid_spacing, (2, 4))
        self.error_order = int(error_order)
        self.grid_spacing = float(grid_spacing)

    def tfq_layers_spec(self):
        return {
            "name": "central_difference",
            "config": {"error_order": self.error_order, "grid_spacing": self.grid_spacing},
        }


class LinearCombination(Differentiator):
    """TFQ's general stencil ``sum_i weights[i] * f(x + perturbations[i])``: runs TFQ's own
    ``LinearCombination`` (TFQ must be installed).

    Args:
        weights: list of real stencil weights.
        perturbations: list of real offsets, one per weight, at least two distinct.
    """

    def __init__(self, weights, perturbations):
        weights, perturbations = list(weights), list(perturbations)
        if len(weights) != len(perturbations):
            raise ValueError(
                f"weights and perturbations must have the same length; got {len(weights)} and "
                f"{len(perturbations)}."
            )
        if len(set(perturbations)) < 2:
            raise ValueError("perturbations must hold at least two distinct values.")
        for name, seq in (("weights", weights), ("perturbations", perturbations)):
            if not all(isinstance(v, numbers.Real) for v in seq):
                raise TypeError(f"{name} must be real numbers; got {seq!r}.")
        self.weights = [float(w) for w in weights]
        self.perturbations = [float(p) for p in perturbations]

    def tfq_layers_spec(self):
        from tfq_layers.backends.tfq_backend import import_tfq

        try:
            tfq = import_tfq()
        except ImportError:
            raise ImportError(
                "LinearCombination with a general stencil runs TFQ's differentiator; install "
                "tensorflow-quantum, or use ForwardDifference/CentralDifference/ParameterShift."
            ) from None
        return tfq.differentiators.LinearCombination(self.weights, self.perturbations)
