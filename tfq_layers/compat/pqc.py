"""TFQ's high-level layers: PQC, NoisyPQC, ControlledPQC, NoisyControlledPQC."""

import numbers

import cirq
import numpy as np
import sympy

from tfq_layers import backends, serialization
from tfq_layers._keras import keras, register
from tfq_layers.compat.arguments import (
    check_backend,
    default_initializer,
    lexicographic_symbols,
    native_backend,
    type_name,
)
from tfq_layers.compat.exceptions import TFQArgumentError, tfq_message
from tfq_layers.layers import pqc as _pqc

__all__ = ["PQC", "NoisyPQC", "ControlledPQC", "NoisyControlledPQC"]


def _check_model_circuit(model_circuit):
    """TFQ's checks of ``model_circuit``: a ``cirq.Circuit`` with symbols to train or feed."""
    names = lexicographic_symbols(model_circuit)  # TypeError naming model_circuit
    if not names:
        raise ValueError(
            "model_circuit has no sympy.Symbols. Please provide a circuit that contains "
            "symbols so that their values can be trained (or fed); a circuit without symbols "
            "has nothing to learn."
        )
    return names


def _check_operators(operators):
    """TFQ's checks of ``operators``: a PauliSum/PauliString or a flat list of them."""
    kinds = (cirq.PauliSum, cirq.PauliString)
    if isinstance(operators, kinds):
        return
    if not isinstance(operators, (list, tuple, np.ndarray)):
        raise TFQArgumentError(
            tfq_message(
                "operators must be a cirq.PauliSum or cirq.PauliString, or a list, tuple, or "
                "np.array containing them.",
                f"Got {type_name(operators)}.",
            )
        )
    for op in operators:
        if not isinstance(op, kinds):
            raise TFQArgumentError(
                tfq_message(
                    "Each element in operators to measure must be a cirq.PauliString or "
                    "cirq.PauliSum.",
                    f"Got {op!r} of type {type_name(op)} (one flat list, not nested).",
                )
            )


def _check_repetitions(repetitions, required=False):
    """TFQ's checks of the high-level layers' ``repetitions``."""
    if repetitions is None:
        if required:
            raise ValueError(
                "Value for repetitions must be provided when using noisy simulation: pass "
                "repetitions=N trajectories (e.g. 1000)."
            )
        return
    if isinstance(repetitions, bool) or not isinstance(repetitions, numbers.Integral):
        raise TFQArgumentError(
            tfq_message("repetitions must be a positive integer value.", f"Given: {repetitions!r}.")
        )
    if repetitions <= 0:
        raise ValueError(f"Repetitions must be greater than zero; got {repetitions}.")


def _check_backend(backend, repetitions):
    expects = (
        "cirq.sim.simulator.SimulatesExpectationValues or None."
        if repetitions is None
        else "cirq.Sampler or None."
    )
    return check_backend(backend, expects)


class _HighLevel(_pqc.PQC):
    """TFQ's high-level layers are the native PQC with TFQ's argument names and symbol order."""

    @property
    def parameters(self):
        """TFQ's name for the layer's trainable variable (``circuit_weights``)."""
        return self.circuit_weights

    def _tfq_config(self):
        raise NotImplementedError

    @property
    def symbols(self):
        """The symbols the layer's variables (or controller columns) map to, in order."""
        syms = self._program.weight_symbols or self._program.input_symbols
        return [sympy.Symbol(s.name) for s in syms]

    def symbol_values(self):
        """``{sympy.Symbol: float}`` of the current weights (TFQ's keys are sympy symbols)."""
        if self.circuit_weights is None:
            return {}
        values = self.circuit_weights.numpy()
        return {
            sympy.Symbol(s.name): float(v) for s, v in zip(self._program.weight_symbols, values)
        }

    def get_config(self):
        base = keras.layers.Layer.get_config(self)
        base.update(self._tfq_config())
        base["model_circuit"] = serialization.dumps(self._program.circuit)
        base["operators"] = serialization.dumps(self._program.observables)
        base["repetitions"] = self.repetitions
        base["backend"] = backends.request_config(self._tfq_backend)
        base["differentiator"] = backends.plain_spec(self._engine.differentiator)
        return base

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        backends.check_saved_differentiator(config.get("differentiator"))
        config["model_circuit"] = _pqc.load_circuit(config["model_circuit"])
        config["operators"] = serialization.loads(config["operators"])
        return cls(**_pqc.deserialize_weight_arguments(config))


@register("compat.PQC")
class PQC(_HighLevel):
    """TFQ's ``PQC``: a trainable model circuit appended to quantum data.

    Args:
        model_circuit: ``cirq.Circuit``; its symbols (any sympy expressions) become trainable
            weights, in lexicographic order (``symbols``).
        operators: ``cirq.PauliSum``/``cirq.PauliString`` or a list of them.
        repetitions: ``None`` for exact expectations, else shots per term.
        backend: ``'noiseless'`` (default), ``'tfq'`` or ``'statevector'``.
        differentiator: as for :class:`Expectation`.
        initializer, regularizer, constraint: for the weights (TFQ's defaults).

    Input: ``(batch,)`` tf.string circuits (from ``tfq.convert_to_tensor``).

    Output: ``(batch, n_operators)`` float32.
    """

    def __init__(
        self,
        model_circuit,
        operators,
        *,
        repetitions=None,
        backend="noiseless",
        differentiator=None,
        initializer=None,
        regularizer=None,
        constraint=None,
        **kwargs,
    ):
        names = _check_model_circuit(model_circuit)
        _check_operators(operators)
        if not self._force_noisy:
            _check_repetitions(repetitions)
        self._tfq_backend = _check_backend(backend, repetitions)
        if backend == "noisy":
            raise ValueError(
                "noisy backend value is not supported in tfq.layers.PQC. Please use "
                "tfq.layers.NoisyPQC instead (tfq_layers.compat.layers.NoisyPQC)."
            )
        super().__init__(
            model_circuit,
            operators,
            input_symbols=None,
            differentiator=differentiator,
            repetitions=repetitions,
            initializer=initializer or default_initializer(),
            regularizer=regularizer,
            constraint=constraint,
            weight_symbols=names,
            backend=native_backend(backend),
            **kwargs,
        )
        self._add_circuit_weights()  # in the constructor, as TFQ's users expect

    def _tfq_config(self):
        return {
            "initializer": keras.initializers.serialize(self.initializer),
            "regularizer": None
            if self.regularizer is None
            else keras.regularizers.serialize(self.regularizer),
            "constraint": None
            if self.constraint is None
            else keras.constraints.serialize(self.constraint),
        }


class _Noisy:
    """What TFQ's two noisy high-level layers share: ``repetitions`` trajectories (required) and
    ``sample_based`` (required), which decides whether expectations are sampled."""

    def _start_noisy(self, model_circuit, operators, repetitions, sample_based):
        self._force_noisy = True
        _check_model_circuit(model_circuit)
        _check_operators(operators)
        _check_repetitions(repetitions, required=True)
        if sample_based is None:
            raise ValueError(
                "Please specify sample_based=False for analytic calculations based on "
                "monte-carlo trajectories, or sampled_based=True for measurement based noisy "
                f"estimates: {type(self).__name__} requires one of them."
            )
        if not isinstance(sample_based, (bool, np.bool_)):
            raise TFQArgumentError(
                tfq_message(
                    "sample_based must be either True or False.",
                    f"received: {type(sample_based)} ({sample_based!r}).",
                )
            )
        self.sample_based = bool(sample_based)

    def _bind(self, name):
        super()._bind(name)
        self._sampled = self.sample_based


@register("compat.NoisyPQC")
class NoisyPQC(_Noisy, PQC):
    """TFQ's ``NoisyPQC``: ``PQC`` for circuits with noise channels.

    Args:
        model_circuit, operators, differentiator, initializer, regularizer, constraint: as
            :class:`PQC`.
        repetitions: trajectories (required).
        sample_based: ``False``: average exact expectations over ``repetitions`` trajectories;
            ``True``: estimate each from one shot per trajectory (required, as in TFQ).
    """

    def __init__(
        self,
        model_circuit,
        operators,
        *,
        repetitions=None,
        sample_based=None,
        differentiator=None,
        initializer=None,
        regularizer=None,
        constraint=None,
        backend="noisy",
        **kwargs,
    ):
        self._start_noisy(model_circuit, operators, repetitions, sample_based)
        super().__init__(
            model_circuit,
            operators,
            repetitions=repetitions,
            backend="noiseless" if backend == "noisy" else backend,
            differentiator=differentiator,
            initializer=initializer,
            regularizer=regularizer,
            constraint=constraint,
            **kwargs,
        )
        self._tfq_backend = backend

    def _tfq_config(self):
        config = super()._tfq_config()
        config["sample_based"] = self.sample_based
        return config


@register("compat.ControlledPQC")
class ControlledPQC(_HighLevel):
    """TFQ's ``ControlledPQC``: the model circuit's symbols come from another layer.

    Args:
        model_circuit: ``cirq.Circuit``; its symbols take their values from the second input, in
            lexicographic order (``symbols``).
        operators, repetitions, backend, differentiator: as :class:`PQC`.

    Input: ``[circuits, symbol_values]``: ``(batch,)`` tf.string and ``(batch, n_symbols)``.

    Output: ``(batch, n_operators)`` float32.
    """

    def __init__(
        self,
        model_circuit,
        operators,
        *,
        repetitions=None,
        backend="noiseless",
        differentiator=None,
        **kwargs,
    ):
        names = _check_model_circuit(model_circuit)
        _check_operators(operators)
        if not self._force_noisy:
            _check_repetitions(repetitions)
        self._tfq_backend = _check_backend(backend, repetitions)
        if backend == "noisy":
            raise ValueError(
                "noisy backend value is not supported in tfq.layers.ControlledPQC. Please use "
                "tfq.layers.NoisyControlledPQC instead (tfq_layers.compat.layers."
                "NoisyControlledPQC)."
            )
        super().__init__(
            model_circuit,
            operators,
            input_symbols=names,
            differentiator=differentiator,
            repetitions=repetitions,
            backend=native_backend(backend),
            **kwargs,
        )
        if not self._engine.bound:  # its input is always quantum data
            self._bind(self._engine.choose(quantum_data=True))
        if not self._engine.backend.quantum_data_in_graph:
            self.supports_jit = False  # the backend reads quantum data on the host
        if type(self).build is _pqc.PQC.build:  # no weights: built at instantiation, as Keras
            self.built = True  # expects of a layer whose build is not its own

    def _tfq_config(self):
        return {}

    def _split_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                f"{self.name} takes [circuits, symbol_values]; got {type_name(inputs)}."
            )
        return super()._split_inputs(inputs)


@register("compat.NoisyControlledPQC")
class NoisyControlledPQC(_Noisy, ControlledPQC):
    """TFQ's ``NoisyControlledPQC``: ``ControlledPQC`` for circuits with noise channels.

    Args: as :class:`ControlledPQC`, with ``repetitions`` (trajectories) and ``sample_based``
    required, as :class:`NoisyPQC`.
    """

    def __init__(
        self,
        model_circuit,
        operators,
        *,
        repetitions=None,
        sample_based=None,
        differentiator=None,
        backend="noisy",
        **kwargs,
    ):
        self._start_noisy(model_circuit, operators, repetitions, sample_based)
        super().__init__(
            model_circuit,
            operators,
            repetitions=repetitions,
            backend="noiseless" if backend == "noisy" else backend,
            differentiator=differentiator,
            **kwargs,
        )
        self._tfq_backend = backend

    def _tfq_config(self):
        return {"sample_based": self.sample_based}
