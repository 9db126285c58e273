"""TFQ's circuit-executor layers: Expectation, SampledExpectation, Sample, State, Unitary."""

import cirq
import numpy as np
import tensorflow as tf

from tfq_layers import backends, wire
from tfq_layers.backends import quantum_data
from tfq_layers._keras import build_at_init, keras, register
from tfq_layers.compat.arguments import (
    check_backend,
    default_initializer,
    is_circuit,
    is_circuit_list,
    is_keras_tensor,
    native_backend,
    parse_operators,
    parse_repetitions,
    parse_symbol_names,
    reads_serialized_circuits,
    type_name,
)
from tfq_layers.compat import operator_tensors
from tfq_layers.compat.call_setup import CallSetup
from tfq_layers.engine import Engine
from tfq_layers.errors import CircuitError
from tfq_layers.expressions import as_real_features

__all__ = ["Expectation", "SampledExpectation", "Sample", "State", "Unitary"]


class _Executor(keras.layers.Layer):
    """Shared machinery of the circuit-executor layers (TFQ's ``circuit_executors``)."""

    _op = "expectation"
    _needs_operators = True
    _may_own_weights = True
    _ragged_rank = 0

    def __init__(self, backend="noiseless", differentiator=None, **kwargs):
        setup = kwargs.pop("setup", None)
        initializer = kwargs.pop("initializer", None)
        super().__init__(**kwargs)
        self.backend_request = check_backend(backend)
        self.noisy = backend == "noisy"
        if differentiator is not None:  # checked now: a clear error at construction
            backends.differentiator_spec(
                differentiator, self._op == "sampled_expectation" or self.noisy
            )
            if backend == "statevector":
                raise ValueError(
                    "differentiator applies to TFQ's simulator; the statevector "
                    "backend differentiates exactly by autodiff. Drop "
                    "differentiator or use backend='tfq'."
                )
        self.differentiator_arg = differentiator
        self.initializer = keras.initializers.get(initializer or default_initializer())
        self.circuit_weights = None
        self._engines = {}
        self._setup = None if setup is None else CallSetup.from_config(setup)
        if not self._may_own_weights:
            build_at_init(self)

    # -- the static part of a call ----------------------------------------------------------
    def _configure(self, inputs, symbol_names, symbol_values, operators, repetitions, initializer):
        if initializer is not None:
            self.initializer = keras.initializers.get(initializer)
        if is_circuit(inputs):
            circuits, single = [inputs], True
        elif is_circuit_list(inputs):
            circuits, single = list(inputs), False
        elif isinstance(inputs, (list, tuple)) and not inputs:
            raise ValueError("the list of circuits is empty; give at least one cirq.Circuit.")
        elif tf.is_tensor(inputs) or is_keras_tensor(inputs):
            if inputs.dtype not in (tf.string, "string"):
                raise TypeError(
                    f"{self.name}: circuits must be cirq.Circuit objects, a list of them or a "
                    f"tf.string tensor from tfq_layers.compat.convert_to_tensor; got a tensor of dtype "
                    f"{inputs.dtype}."
                )
            circuits, single = None, False
        else:
            raise TypeError(
                f"{self.name}: circuits must be cirq.Circuit objects, a list of them or a "
                f"tf.string tensor from tfq_layers.compat.convert_to_tensor; got {type_name(inputs)}."
            )
        names = parse_symbol_names(symbol_names)
        values_given = symbol_values is not None
        ops, op_index, op_input = (None, None, False)
        if self._needs_operators:
            if operators is None:
                raise RuntimeError(
                    "Value for operators not provided. operators must be one of "
                    "cirq.PauliSum, cirq.PauliString, a list of them, or a tf.string tensor "
                    "from tfq_layers.compat.convert_to_tensor([[psum, ...], ...])."
                )
            if operator_tensors.is_symbolic(operators):  # known when the graph runs
                operator_tensors.check_symbolic(operators, self.name)
                self._check_reads_operator_tensors(native_backend(self.backend_request))
                op_input = True
            else:
                ops, op_index = parse_operators(operators, f"{self.name}")
        elif operators is not None:
            raise TypeError(f"{type(self).__name__} takes no operators.")
        reps = self._check_repetitions(repetitions)
        # One circuit is tiled to the batch of symbol_values (as TFQ does), so its operator rows
        # are checked against that batch when the layer runs.
        if (
            op_index is not None
            and circuits is not None
            and not single
            and (len(op_index) != len(circuits))
        ):
            raise ValueError(
                f"operators has {len(op_index)} rows but there are {len(circuits)} "
                "circuits; give one list of operators per circuit, or one list "
                "for all."
            )
        return CallSetup(circuits, names, values_given, ops, op_index, reps, single, op_input)

    def _check_reads_operator_tensors(self, name):
        if name != "auto" and not backends.backend_class(name).reads_operator_tensors:
            raise ValueError(
                f"{self.name}: operators come as a tensor known only when the model runs, which "
                f"the {name} backend cannot read; use backend='noiseless' (the default) or "
                "'tfq', or pass the operators themselves (cirq.PauliSum objects, or a concrete "
                "tensor from tfq_layers.compat.convert_to_tensor)."
            )

    def _check_repetitions(self, repetitions):
        if self.noisy and repetitions is None:
            raise RuntimeError(
                "Value for repetitions not provided. With backend='noisy' a number of trajectory "
                "repetitions must be provided in the layer call."
            )
        if not self.noisy and repetitions is not None:
            raise RuntimeError(
                "repetitions value provided for an analytic (noiseless) "
                "expectation; drop repetitions, use SampledExpectation for "
                "shot noise, or backend='noisy' for trajectories."
            )
        return None if repetitions is None else parse_repetitions(repetitions, type(self).__name__)

    def __call__(
        self,
        inputs,
        *,
        symbol_names=None,
        symbol_values=None,
        operators=None,
        repetitions=None,
        initializer=None,
        **kwargs,
    ):
        inputs = self._read_circuit_tensor(inputs)
        static = (
            is_circuit(inputs)
            or is_circuit_list(inputs)
            or any(a is not None for a in (symbol_names, symbol_values, operators, repetitions))
            or self._setup is None
        )
        if static:
            setup = self._configure(
                inputs, symbol_names, symbol_values, operators, repetitions, initializer
            )
            if isinstance(symbol_values, (list, tuple, np.ndarray)):
                symbol_values = tf.convert_to_tensor(np.asarray(symbol_values, np.float32))
            tensors = self._pack(setup, inputs, symbol_values, operators)
            self._use(setup)
        else:  # a reloaded model calls again with the tensors it recorded
            tensors = inputs
        return super().__call__(tensors, **kwargs)

    def _read_circuit_tensor(self, inputs):
        """A concrete ``tf.string`` tensor of circuits as the ``cirq.Circuit`` list it holds, when
        this layer's backend does not run serialized circuits itself (the statevector backend,
        or ``"auto"`` without TFQ); anything else unchanged."""
        if (
            not tf.is_tensor(inputs)
            or inputs.dtype != tf.string
            or operator_tensors.is_symbolic(inputs)
            or reads_serialized_circuits(native_backend(self.backend_request))
        ):
            return inputs
        value = np.asarray(
            inputs.numpy() if hasattr(inputs, "numpy") else tf.get_static_value(inputs)
        )
        if value.ndim != 1:
            raise ValueError(
                f"{self.name}: circuits as a tensor must be 1-D (one serialized circuit per "
                f"example, as convert_to_tensor([...circuits...]) writes); got shape {value.shape}."
            )
        if value.size == 0:
            raise ValueError(
                f"{self.name}: the circuits tensor is empty; give at least one circuit."
            )
        try:
            circuits = wire.from_tensor(value)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{self.name}: the circuits tensor cannot be read: {e}") from None
        if not all(is_circuit(c) for c in circuits):
            raise TypeError(
                f"{self.name}: the circuits tensor holds PauliSums, not circuits; operators go "
                "in operators=..."
            )
        return list(circuits)

    def _pack(self, setup, inputs, symbol_values, operators=None):
        packed = self._pack_circuits_and_values(setup, inputs, symbol_values)
        if setup.operator_input:  # the operators tensor is the last input
            return (packed if isinstance(packed, list) else [packed]) + [operators]
        return packed

    def _pack_circuits_and_values(self, setup, inputs, symbol_values):
        if setup.data_mode:
            return inputs if symbol_values is None else [inputs, symbol_values]
        if symbol_values is not None:
            return symbol_values
        return tf.zeros((setup.n_rows, 0), tf.float32)

    def _use(self, setup):
        if (
            self._setup is not None
            and self._setup.key() != setup.key()
            and self.circuit_weights is not None
        ):
            if not setup.values_given and len(setup.names) != int(self.circuit_weights.shape[0]):
                raise ValueError(
                    f"{self.name} already manages weights for symbols {self._setup.names}; "
                    f"it cannot take {setup.names} too. Use a new layer for these circuits."
                )
        self._setup = setup

    # -- engines --------------------------------------------------------------------------------
    def _engine(self):
        setup = self._setup
        key = setup.key()
        engine = self._engines.get(key)
        if engine is not None:
            return engine
        request = native_backend(self.backend_request)
        sampled = self._op == "sampled_expectation"
        circuits = [cirq.Circuit()] if setup.data_mode else setup.distinct
        engine = Engine(
            dict(
                circuit=circuits if len(circuits) > 1 else circuits[0],
                observables=setup.operators,
                input_symbols=setup.names,
                require_observables=False,
                allow_unused_inputs=True,
                symbol_order="lexicographic",
                allow_empty=setup.data_mode,
            ),
            backend=request,
            differentiator=self.differentiator_arg,
            sampled=sampled,
            trajectories=setup.repetitions if self.noisy else None,
            share_weights=False,
            noisy=self.noisy,
        )
        program = engine.program
        if program.weight_symbols:
            raise ValueError(
                f"{self.name}: the circuit uses symbols {[s.name for s in program.weight_symbols]}"
                f" that are not in symbol_names {setup.names}; list every circuit symbol in "
                "symbol_names."
            )
        if not setup.data_mode:
            used = {s.name for c in setup.distinct for s in cirq.parameter_symbols(c)}
            unused = [n for n in setup.names if n not in used]
            if unused:
                raise ValueError(
                    f"{self.name}: symbol_names {unused} do not appear in any circuit (their "
                    f"symbols are {sorted(used)}); remove them from symbol_names."
                )
            if program.has_channels and not self.noisy:
                raise ValueError(
                    f"{self.name}: the circuit has noise channels; use backend='noisy' and pass "
                    "repetitions=N trajectories."
                )
            if setup.operators:
                circuit_qubits = set()
                for c in setup.distinct:
                    circuit_qubits |= set(c.all_qubits())
                for op in program.observables:
                    extra = sorted(set(op.qubits) - circuit_qubits)
                    if extra:
                        raise CircuitError(
                            f"{self.name}: operator {op} acts on {extra}, which no circuit "
                            f"uses (circuit qubits: {sorted(circuit_qubits)}); measure qubits "
                            "of the circuit, or add cirq.I on those qubits."
                        )
        name = None
        if request == "auto":  # a backend that reads serialized circuits reads operators too
            name = engine.choose(quantum_data=setup.data_mode or setup.operator_input)
        engine.bind(
            name,
            reason=" (TFQ's simulator was chosen because the circuits or the operators come "
            "as a tf.string tensor, or a TFQ differentiator was given.)",
        )
        if setup.operator_input:
            self._check_reads_operator_tensors(engine.backend.name)
        # Keras's jit_compile="auto"; quantum data read on the host (py_function) cannot be XLA'd
        self.supports_jit = engine.backend.supports_xla and (
            not setup.data_mode or engine.backend.quantum_data_in_graph
        )
        self._engines[key] = engine
        return engine

    @property
    def simulator_backend(self):
        """The :class:`~tfq_layers.backends.base.Backend` of the last configuration."""
        return None if self._setup is None else self._engine().backend

    # -- Keras ----------------------------------------------------------------------------------
    def _unpack(self, inputs):
        setup = self._setup
        if setup is None:
            raise ValueError(
                f"{self.name} was called without circuits; call it as TFQ's layer: "
                "layer(circuits, symbol_names=..., symbol_values=..., ...)."
            )
        operators = None
        if setup.operator_input:
            inputs = list(inputs)
            operators = inputs.pop()
            inputs = inputs[0] if len(inputs) == 1 else inputs
        if setup.data_mode:
            if setup.values_given:
                circuits, values = inputs
            else:
                circuits, values = inputs, None
            circuits = tf.convert_to_tensor(circuits)
            batch = tf.shape(circuits)[0]
        else:
            circuits, values = None, (inputs if setup.values_given else None)
            batch = None
        if values is not None:
            values = as_real_features(values, f"{self.name} (symbol_values)")
            width = values.shape[-1]
            if values.shape.rank != 2 or (width is not None and width != len(setup.names)):
                raise ValueError(
                    f"{self.name}: symbol_values has shape {tuple(values.shape)} but "
                    f"symbol_names has {len(setup.names)} names {setup.names}; pass shape "
                    f"(batch, {len(setup.names)})."
                )
            if batch is None:
                batch = tf.shape(values)[0]
                rows = setup.n_rows
                if not setup.single and values.shape[0] is not None and values.shape[0] != rows:
                    raise ValueError(
                        f"{self.name}: {rows} circuits but symbol_values has "
                        f"{values.shape[0]} rows; give one row of values per circuit."
                    )
        else:
            if batch is None:
                # one circuit and no values: one example per row of per-circuit operators
                if operators is not None and setup.single:
                    batch = tf.shape(operators)[0]
                elif setup.op_index is not None and setup.single:
                    batch = tf.constant(len(setup.op_index))
                else:
                    batch = tf.constant(setup.n_rows)
            if self.circuit_weights is not None:
                values = tf.tile(
                    tf.convert_to_tensor(self.circuit_weights)[None, :], tf.stack([batch, 1])
                )
            else:
                values = tf.zeros(tf.stack([batch, len(setup.names)]), tf.float32)
        index = None
        if not setup.data_mode and not setup.single:
            index = tf.constant(setup.index)
        return circuits, values, batch, index, operators

    def _observables(self, operators, batch):
        """What the backend measures: the call's PauliSums, or the operators tensor behind
        in-graph checks (qubits checked against the circuits when they are known)."""
        setup = self._setup
        if operators is None:
            return setup.operators
        qubit_ids = None
        if not setup.data_mode:
            qubit_ids = operator_tensors.qubit_ids(setup.distinct)
        operators = tf.convert_to_tensor(operators)
        check = tf.debugging.assert_equal(
            tf.shape(operators)[0],
            batch,
            message=f"{self.name}: the operators tensor has a different number of rows than "
            "there are circuits in the batch; give one row of operators per circuit",
        )
        with tf.control_dependencies([check]):
            return quantum_data.checked_operators(operators, qubit_ids)

    def _values(self, engine, values, batch):
        return engine.parameters(values, None, batch)

    def call(self, inputs):
        engine = self._engine()
        circuits, values, batch, index, operators = self._unpack(inputs)
        placeholders, shared = self._values(engine, values, batch)
        if self._needs_operators:
            observables = self._observables(operators, batch)
            return self._run(engine, placeholders, shared, index, circuits, batch, observables)
        return self._run(engine, placeholders, shared, index, circuits, batch)

    def _run(self, engine, values, shared, index, circuits, batch):
        raise NotImplementedError

    def _gather_operators(self, out):
        setup = self._setup
        if setup.op_index is None:
            return out
        idx = tf.constant(setup.op_index)
        rows = len(setup.op_index)
        if rows == 1 and not setup.data_mode and setup.single:
            idx = tf.tile(idx, tf.stack([tf.shape(out)[0], 1]))
        elif out.shape[0] is None or out.shape[0] != rows:
            check = tf.debugging.assert_equal(
                tf.shape(out)[0],
                rows,
                message=f"{self.name}: operators has {rows} rows but the batch has a different "
                "number of circuits; give one row of operators per circuit (a per-circuit "
                "operator list is not tiled), or one flat list of operators for all",
            )
            with tf.control_dependencies([check]):
                idx = tf.identity(idx)
        return tf.gather(out, idx, batch_dims=1)

    def _float_out(self, out):
        if self.compute_dtype not in (None, "float32"):
            out = tf.cast(out, self.compute_dtype)
        return out

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backend": self.backend_request,
                "differentiator": None
                if self.differentiator_arg is None
                else backends.plain_spec(
                    backends.differentiator_spec(
                        self.differentiator_arg, self._op == "sampled_expectation" or self.noisy
                    )
                ),
                "initializer": keras.initializers.serialize(self.initializer),
                "setup": None if self._setup is None else self._setup.to_config(),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("initializer") is not None:
            config["initializer"] = keras.initializers.deserialize(config["initializer"])
        return cls(**config)


class _ManagedWeights(_Executor):
    """An executor that creates TFQ's ``circuit_learnable_parameters`` when called without
    ``symbol_values``."""

    def build(self, input_shape):
        setup = self._setup
        if (
            setup is not None
            and not setup.values_given
            and setup.names
            and self.circuit_weights is None
        ):
            self.circuit_weights = self.add_weight(
                name="circuit_learnable_parameters",
                shape=(len(setup.names),),
                initializer=self.initializer,
                trainable=True,
                dtype="float32",
                autocast=False,
            )  # circuit angles stay float32 under mixed precision
        self.built = True


@register("compat.Expectation")
class Expectation(_ManagedWeights):
    """TFQ's ``Expectation``: expectation values of circuits for given symbol values.

    Args:
        backend: ``'noiseless'`` (default), ``'noisy'`` (trajectories; ``repetitions`` then
            required in the call), or ``'tfq'``/``'statevector'`` to force a simulator.
        differentiator: ``None`` (adjoint, or parameter shift when noisy), a name, or any
            ``tfq.differentiators.Differentiator`` instance, user-written subclasses included.

    Call arguments (as TFQ's): ``inputs`` (a ``cirq.Circuit``, a list of them, or a
    ``tf.string`` tensor), ``symbol_names``, ``symbol_values`` (``(batch, n_symbols)``; omitted:
    the layer manages trainable weights, initialized by ``initializer``), ``operators`` (one
    list for all circuits, one list per circuit, or TFQ's ``tf.string`` tensor
    ``tfq.convert_to_tensor([[psum, ...], ...])``: concrete, or a ``keras.Input`` run on TFQ's
    simulator), ``repetitions`` (``'noisy'`` only).

    Returns:
        ``(batch, n_operators)`` float32.

    Example:
        >>> q = cirq.GridQubit(0, 0)
        >>> a = sympy.Symbol("a")
        >>> Expectation()(cirq.Circuit(cirq.rx(2 * a + 0.1).on(q)), symbol_names=[a],
        ...               symbol_values=[[0.0], [0.5]], operators=cirq.Z(q)).shape
        TensorShape([2, 1])
    """

    def _run(self, engine, values, shared, index, circuits, batch, observables=None):
        out = engine.backend.expectation(values, shared, observables, index=index, data=circuits)
        return self._float_out(self._gather_operators(out))


@register("compat.SampledExpectation")
class SampledExpectation(_ManagedWeights):
    """TFQ's ``SampledExpectation``: expectation values estimated from ``repetitions`` shots.

    Args: as :class:`Expectation` (the default differentiator is parameter shift).

    Call arguments: as :class:`Expectation`, and ``repetitions`` (required): shots per term.

    Returns:
        ``(batch, n_operators)`` float32.
    """

    _op = "sampled_expectation"

    def _check_repetitions(self, repetitions):
        if repetitions is None:
            raise RuntimeError(
                "Value for repetitions not provided. SampledExpectation needs "
                "repetitions=N shots per term."
            )
        return parse_repetitions(repetitions, "SampledExpectation")

    def _run(self, engine, values, shared, index, circuits, batch, observables=None):
        out = engine.backend.sampled_expectation(
            values,
            shared,
            observables,
            self._setup.repetitions,
            index=index,
            data=circuits,
        )
        return self._float_out(self._gather_operators(out))


def _ragged(padded, rank):
    """TFQ's layout: drop the -2 padding of mixed-size batches (uniform batches stay whole)."""
    if rank == 2 and padded.dtype.is_complex:  # unitaries: mask padded columns, then entries
        col = tf.abs(padded[:, 0]) < 1.1
        padded = tf.ragged.boolean_mask(padded, col)
        return tf.ragged.boolean_mask(padded, tf.abs(padded) < 1.1)
    if padded.dtype.is_complex:
        return tf.ragged.boolean_mask(padded, tf.abs(padded) < 1.1)
    return tf.ragged.boolean_mask(padded, tf.not_equal(padded, -2))


class _NoWeights(_Executor):
    _needs_operators = False
    _may_own_weights = False

    def _check_repetitions(self, repetitions):
        if repetitions is not None:
            raise TypeError(f"{type(self).__name__} takes no repetitions.")
        return None


@register("compat.Sample")
class Sample(_NoWeights):
    """TFQ's ``Sample``: bitstrings measured from circuits, as a ragged tensor.

    Args:
        backend: ``'noiseless'`` (default), ``'noisy'`` (each shot from its own trajectory), or
            ``'tfq'``/``'statevector'``.

    Call arguments: ``inputs``, ``symbol_names``, ``symbol_values`` as for :class:`Expectation`,
    and ``repetitions`` (required).

    Returns:
        ``tf.RaggedTensor`` int8 ``[batch, repetitions, n_qubits]`` (ragged in the last dimension
        when circuits of different sizes come as a tensor), qubits in sorted order.
    """

    _op = "sample"

    def __init__(self, backend="noiseless", **kwargs):
        kwargs.pop("differentiator", None)
        super().__init__(backend=backend, **kwargs)

    def _check_repetitions(self, repetitions):
        if repetitions is None:
            raise ValueError("Number of repetitions not specified: Sample needs repetitions=N.")
        return parse_repetitions(repetitions, "Sample")

    def _run(self, engine, values, shared, index, circuits, batch):
        out = engine.backend.sample(
            values, shared, self._setup.repetitions, index=index, data=circuits
        )
        return _ragged(tf.cast(out, tf.int8), 1)


@register("compat.State")
class State(_NoWeights):
    """TFQ's ``State``: final state vectors, as a ragged tensor.

    Differentiable with the statevector backend (the default for ``cirq.Circuit`` inputs);
    TFQ's state has no gradient.

    Returns:
        ``tf.RaggedTensor`` complex64 ``[batch, 2**n_qubits]``.
    """

    _op = "state"

    def __init__(self, backend=None, **kwargs):
        kwargs.pop("differentiator", None)
        super().__init__(backend=backend, **kwargs)

    def _run(self, engine, values, shared, index, circuits, batch):
        return _ragged(engine.backend.state(values, shared, index=index, data=circuits), 1)


@register("compat.Unitary")
class Unitary(_NoWeights):
    """TFQ's ``Unitary``: the unitary matrix of each circuit, as a ragged tensor.

    Differentiable with the statevector backend (the default for ``cirq.Circuit`` inputs).

    Returns:
        ``tf.RaggedTensor`` complex64 ``[batch, 2**n, 2**n]``.
    """

    _op = "unitary"

    def __init__(self, **kwargs):
        kwargs.pop("differentiator", None)
        kwargs.setdefault("backend", None)
        super().__init__(**kwargs)

    def _run(self, engine, values, shared, index, circuits, batch):
        return _ragged(engine.backend.unitary(values, shared, index=index, data=circuits), 2)
