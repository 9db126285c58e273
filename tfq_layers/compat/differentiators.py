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
    :meth:`tfq_layers_spec`; a layer reads it when constructed. A user-written subclass may
    instead implement TFQ's ``get_gradient_circuits(programs, symbol_names, symbol_values)``
    (returning TFQ's five tensors: gradient circuits, their symbol names and values, weights and
    the index map), as TFQ's tutorials do: it then runs on TFQ's simulator as a TFQ
    differentiator (TFQ must be installed).
    """

    def tfq_layers_spec(self):
        """``{"name": ..., "config": {...}}`` for ``tfq_layers.backends.differentiator_spec``,
        or, for a subclass with ``get_gradient_circuits``, a TFQ differentiator calling it."""
        if not hasattr(self, "get_gradient_circuits"):
            raise NotImplementedError(
                f"{type(self).__name__} must implement tfq_layers_spec() or TFQ's "
                "get_gradient_circuits(programs, symbol_names, symbol_values)."
            )
        from tfq_layers import backends  # lazy: the backends package imports TensorFlow

        backends.require_differentiator(self)
        return _as_tfq_differentiator(self)

    def refresh(self):
        """TFQ's ``refresh``: forget the op attached by :meth:`generate_differentiable_op`."""
        self._tfq_twin = None
        return self

    def generate_differentiable_op(self, *, sampled_op=None, analytic_op=None):
        """TFQ's ``generate_differentiable_op``: ``sampled_op`` or ``analytic_op`` (a function
        from ``tfq.get_sampled_expectation_op``/``get_expectation_op``) with this
        differentiator's gradient, by TFQ's differentiator machinery (TFQ must be installed) on
        the circuits of :meth:`get_gradient_circuits`.

        Args:
            sampled_op: ``op(programs, symbol_names, symbol_values, pauli_sums, num_samples)``.
            analytic_op: ``op(programs, symbol_names, symbol_values, pauli_sums)``.
        """
        if getattr(self, "_tfq_twin", None) is None:
            twin = self.tfq_layers_spec()
            if isinstance(twin, dict):
                raise NotImplementedError(
                    f"{type(self).__name__} stands for a differentiator spec of a layer; to "
                    "differentiate an op, use TFQ's class of that name "
                    "(tensorflow_quantum.differentiators) or pass it to a layer."
                )
            self._tfq_twin = twin
        return self._tfq_twin.generate_differentiable_op(
            sampled_op=sampled_op, analytic_op=analytic_op
        )

    def __repr__(self):
        spec = self.tfq_layers_spec()
        if not isinstance(spec, dict):
            return f"{type(self).__name__}()"
        args = ", ".join(f"{k}={v!r}" for k, v in spec.get("config", {}).items())
        return f"{type(self).__name__}({args})"


def _as_tfq_differentiator(user):
    """A ``tensorflow_quantum`` differentiator whose gradient circuits are ``user``'s."""
    from tfq_layers.backends import tfq_backend  # lazy: TFQ is optional

    base = tfq_backend.import_tfq().differentiators.Differentiator

    class UserDifferentiator(base):
        def get_gradient_circuits(self, programs, symbol_names, symbol_values):
            return user.get_gradient_circuits(programs, symbol_names, symbol_values)

    UserDifferentiator.__name__ = UserDifferentiator.__qualname__ = type(user).__name__
    return UserDifferentiator()


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
