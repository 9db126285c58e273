"""TFQ's circuit-executor layers: Expectation, SampledExpectation, Sample, State, Unitary."""

import warnings

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
    repetition_counts,
    type_name,
)
from tfq_layers.compat import operator_tensors
from tfq_layers.compat.call_setup import CallSetup
from tfq_layers.compat.exceptions import TFQArgumentError, TFQInvalidArgumentError, tfq_message
from tfq_layers.engine import Engine
from tfq_layers.errors import CircuitError
from tfq_layers.expressions import checked_features
from tfq_layers.program import CompileOptions, Program

__all__ = ["Expectation", "SampledExpectation", "Sample", "State", "Unitary"]


def _initializer(identifier):
    """``keras.initializers.get`` with TFQ's (Keras 2's) message for an unknown name."""
    try:
        return keras.initializers.get(identifier)
    except ValueError as e:
        raise ValueError(
            f"Unknown initializer: {identifier!r}. Give a keras initializer or its name "
            f"(e.g. 'zeros', 'glorot_uniform'). ({e})"
        ) from None


def _repeat_key(inputs, symbol_names, symbol_values, operators, repetitions):
    """What decides an eager call's :class:`CallSetup`, when it can be told cheaply that a call
    repeats the last one (the loop of TFQ's gradient and RL tutorials); ``None`` otherwise.

    Only one circuit, symbol names as str, one ``cirq.PauliString`` (immutable) or none, and no
    repetitions: the circuit is compared by its frozen copy, which Cirq keeps until the circuit
    is mutated, so a circuit changed in place between calls is read again. With one circuit and
    one operator the number of value rows does not enter the setup."""
    if not is_circuit(inputs) or repetitions is not None:
        return None
    if operators is not None and not isinstance(operators, cirq.PauliString):
        return None
    if not isinstance(symbol_names, (list, tuple)) or not all(type(s) is str for s in symbol_names):
        return None
    return (inputs.freeze(), tuple(symbol_names), symbol_values is not None, operators)


def _same_call(key, last):
    """Whether :func:`_repeat_key` ``key`` repeats ``last``: the circuit by identity of its
    frozen copy (a new one after any change in place), the rest by value (immutable)."""
    return last is not None and key[0] is last[0] and key[1:] == last[1:]


def _check_value_rank(symbol_values, where):
    """The number of rows of concrete ``symbol_values`` (``None`` if symbolic or absent), after
    TFQ's rank check."""
    if symbol_values is None or is_keras_tensor(symbol_values):
        return None
    if tf.is_tensor(symbol_values):
        shape = tuple(symbol_values.shape)
    else:
        try:
            shape = np.shape(symbol_values)
        except ValueError:  # ragged nesting
            raise TFQArgumentError(
                f"symbol_values cannot be parsed to float32 tensor given input: "
                f"{symbol_values!r}; give one row of values per circuit, all of one length."
            ) from None
    if len(shape) != 2:
        raise TFQInvalidArgumentError(
            tfq_message(
                f"symbol_values must be rank 2. Got rank {len(shape)}.",
                f"{where}: pass shape (batch, n_symbols), e.g. [[0.5]] for one value of one "
                "symbol.",
            )
        )
    return shape[0]


def _check_repetition_shape(reps, ops, op_index, where):
    """Per-operator ``repetitions``: one count per operator, or a row of them per circuit."""
    n_ops = None
    if op_index is not None:
        n_ops = op_index.shape[1]
    elif ops is not None:
        n_ops = len(ops)
    shape = np.shape(reps)
    if n_ops is not None and shape[-1] != n_ops:
        raise TFQInvalidArgumentError(
            tfq_message(
                "repetitions and operators do not match.",
                f"{where}: repetitions has {shape[-1]} counts per row for {n_ops} operators; "
                "give one count per operator.",
            )
        )


class _Executor(keras.layers.Layer):
    """Shared machinery of the circuit-executor layers (TFQ's ``circuit_executors``)."""

    _op = "expectation"
    _expects = "cirq.sim.simulator.SimulatesExpectationValues or None."
    _may_own_weights = True
    _ragged_rank = 0

    def __init__(self, backend="noiseless", differentiator=None, **kwargs):
        setup = kwargs.pop("setup", None)
        initializer = kwargs.pop("initializer", None)
        super().__init__(**kwargs)
        self.backend_request = check_backend(backend, self._expects)
        backends.require(native_backend(self.backend_request))  # TFQ where it cannot run: now
        self.noisy = backend == "noisy"
        if isinstance(differentiator, str) and differentiator not in backends.DIFFERENTIATOR_NAMES:
            raise TFQArgumentError(
                tfq_message(
                    "Differentiator must inherit from tfq.differentiators.Differentiator.",
                    f"Got {differentiator!r}; pass a tfq_layers.compat.differentiators (or "
                    f"tfq.differentiators) instance or one of {list(backends.DIFFERENTIATOR_NAMES)}.",
                )
            )
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
            backends.require_differentiator(differentiator)
        self.differentiator_arg = differentiator
        request = native_backend(self.backend_request)
        if request != "auto":  # what the backend cannot run, named at construction
            backends.backend_class(request).check_operation(self._op)
        self.initializer = keras.initializers.get(initializer or default_initializer())
        self.circuit_weights = None
        # one engine per call setup, keyed by CallSetup.key() (which holds Cirq circuits): kept out
        # of attribute tracking, whose dict wrapper (tf_keras's) sorts keys, and circuits do not
        # sort; engines hold no Keras state (the weights are the layer's own)
        object.__setattr__(self, "_engines", {})
        self._setup = None if setup is None else CallSetup.from_config(setup)
        # what the last call was given (see _repeat_key); set around Keras's attribute tracking,
        # which would wrap the tuple (and tf_keras's cannot wrap one holding Cirq objects)
        object.__setattr__(self, "_last_call", None)
        if not self._may_own_weights:
            build_at_init(self)

    def _read_circuits(self, inputs):
        """``(circuits, single)``: the call's circuits as a list (``None`` for a tensor of
        serialized circuits, read when the graph runs) and whether one circuit was given."""
        if is_circuit(inputs):
            circuits, single = [inputs], True
        elif is_circuit_list(inputs):
            circuits, single = list(inputs), False
        elif isinstance(inputs, (list, tuple)) and not inputs:
            raise ValueError("the list of circuits is empty; give at least one cirq.Circuit.")
        elif isinstance(inputs, (list, tuple, np.ndarray)) and all(
            is_circuit_list(row) for row in inputs
        ):
            raise TFQInvalidArgumentError(
                tfq_message(
                    "programs must be rank 1. Got rank 2.",
                    f"{self.name}: circuits are one cirq.Circuit or a flat list of them, not a "
                    "nested list.",
                )
            )
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
        return circuits, single

    # -- the static part of a call ----------------------------------------------------------
    def _configure(self, inputs, symbol_names, symbol_values, operators, repetitions, initializer):
        if initializer is not None:
            self.initializer = _initializer(initializer)
        circuits, single = self._read_circuits(inputs)
        names = parse_symbol_names(symbol_names)
        values_given = symbol_values is not None
        value_rows = _check_value_rank(symbol_values, self.name)
        if value_rows is not None and circuits is not None and not single:
            if value_rows != len(circuits):
                raise TFQInvalidArgumentError(
                    tfq_message(
                        "Number of circuits and symbol_values do not match.",
                        f"{self.name}: {len(circuits)} circuits but symbol_values has "
                        f"{value_rows} rows; give one row of values per circuit (or one "
                        "cirq.Circuit, which is tiled to the rows of symbol_values).",
                    )
                )
        ops, op_index, op_input = self._parse_operators(operators)
        reps = self._check_repetitions(repetitions)
        if reps is not None and not isinstance(reps, (int, str)):
            _check_repetition_shape(reps, ops, op_index, self.name)
        # One circuit is tiled to the batch of symbol_values (one row without them, as TFQ
        # does), so its operator rows must match that batch.
        if single and op_index is not None and len(op_index) > 1:
            rows = 1 if symbol_values is None else value_rows
            if rows is not None and rows != len(op_index):
                raise TFQInvalidArgumentError(
                    tfq_message(
                        "Number of circuits and PauliSums do not match.",
                        f"{self.name}: operators has {len(op_index)} rows but the batch has "
                        f"{rows} (one circuit is tiled to the rows of symbol_values, one row "
                        "without them); give one list of paulisums for all, or a list of "
                        "circuits with one operator row each.",
                    )
                )
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
                f"{self.name}: operators (or repetitions) come as a tensor known only when the "
                f"model runs, which the {name} backend cannot read; use backend='noiseless' "
                "(the default) or 'tfq', or pass the values themselves (cirq.PauliSum objects, "
                "a concrete tensor from tfq.convert_to_tensor, a list of counts)."
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
        if repetitions is None:
            return None
        return parse_repetitions(repetitions, type(self).__name__, per_operator=True)

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
        """TFQ's call signature, in front of Keras' own ``__call__``.

        TFQ's arguments are Python objects (``cirq.Circuit`` lists, PauliSums, symbol names)
        that Keras would try to turn into tensors or could not save. They are resolved here
        into a :class:`CallSetup` (kept in the layer's config) and the tensors of the call;
        Keras' ``__call__`` then sees tensors only (so functional models, tracing and saving
        work as for any layer) and :meth:`call` does the simulation.
        """
        inputs = self._read_circuit_tensor(inputs)
        static = (
            is_circuit(inputs)
            or is_circuit_list(inputs)
            or any(a is not None for a in (symbol_names, symbol_values, operators, repetitions))
            or self._setup is None
        )
        if static:
            memo = _repeat_key(inputs, symbol_names, symbol_values, operators, repetitions)
            repeat = memo is not None and initializer is None and _same_call(memo, self._last_call)
            object.__setattr__(self, "_last_call", None)  # until this call's setup is in use
            if repeat:
                _check_value_rank(symbol_values, self.name)  # rows may differ from call to call
                setup = self._setup
            else:
                setup = self._configure(
                    inputs, symbol_names, symbol_values, operators, repetitions, initializer
                )
            if isinstance(symbol_values, (list, tuple, np.ndarray)):
                symbol_values = tf.convert_to_tensor(np.asarray(symbol_values, np.float32))
            tensors = self._pack(setup, inputs, symbol_values, operators, repetitions)
            self._use(setup)
            object.__setattr__(self, "_last_call", memo)
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

    def _pack(self, setup, inputs, symbol_values, operators=None, repetitions=None):
        packed = self._pack_circuits_and_values(setup, inputs, symbol_values)
        extra = [operators] if setup.operator_input else []  # then the operators tensor
        if setup.repetitions_input:  # and last the repetitions tensor
            extra.append(repetitions)
        if extra:
            return (packed if isinstance(packed, list) else [packed]) + extra
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
        options = CompileOptions(
            allow_unused_inputs=True, symbol_order="lexicographic", allow_empty=setup.data_mode
        )
        engine = Engine(
            Program._with_options(
                options,
                circuits if len(circuits) > 1 else circuits[0],
                observables=setup.operators,
                input_symbols=setup.names,
            ),
            backend=request,
            differentiator=self.differentiator_arg,
            sampled=sampled,
            trajectories=repetition_counts(setup.repetitions) if self.noisy else None,
            share_weights=False,
            noisy=self.noisy,
        )
        program = engine.program
        if program.weight_symbols:
            missing = [s.name for s in program.weight_symbols]
            raise TFQInvalidArgumentError(
                tfq_message(
                    f"Could not find symbol in parameter map: {missing[0]}.",
                    f"{self.name}: the circuit uses symbols {missing} that are not in "
                    f"symbol_names {setup.names}; list every circuit symbol in symbol_names.",
                )
            )
        if not setup.data_mode:
            used = {s.name for c in setup.distinct for s in cirq.parameter_symbols(c)}
            unused = [n for n in setup.names if n not in used]
            if unused:  # TFQ ignores them; say so once per configuration
                warnings.warn(
                    f"{self.name}: symbol_names {unused} do not appear in any circuit (their "
                    f"symbols are {sorted(used)}); their values are ignored.",
                    stacklevel=2,
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
            name = engine.choose(
                quantum_data=setup.data_mode or setup.operator_input or setup.repetitions_input
            )
        engine.bind(
            name,
            reason=" (TFQ's simulator was chosen because the circuits or the operators come "
            "as a tf.string tensor, or a TFQ differentiator was given.)",
        )
        if setup.operator_input or setup.repetitions_input:
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
        operators = reps = None
        if setup.operator_input or setup.repetitions_input:
            inputs = list(inputs)
            reps = inputs.pop() if setup.repetitions_input else None
            operators = inputs.pop() if setup.operator_input else None
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
            values, batch = self._given_values(values, batch)
        else:
            values, batch = self._default_values(batch, operators)
        index = None
        if not setup.data_mode and not setup.single:
            index = tf.constant(setup.index)
        return circuits, values, batch, index, operators, reps

    def _given_values(self, values, batch):
        """The call's ``symbol_values``, checked against the symbol names and the circuits,
        and the batch size (theirs unless the circuits are data)."""
        setup = self._setup
        values = checked_features(values, self.name, "symbol_values")
        width = values.shape[-1]
        if values.shape.rank != 2 or (width is not None and width != len(setup.names)):
            raise ValueError(
                f"{self.name}: symbol_values has shape {tuple(values.shape)} but "
                f"symbol_names has {len(setup.names)} names {setup.names}; pass shape "
                f"(batch, {len(setup.names)})."
            )
        if batch is None:
            known = values.shape[0] if tf.executing_eagerly() else None
            # eagerly the batch is known: one constant instead of two ops
            batch = tf.shape(values)[0] if known is None else tf.constant(known)
            rows = setup.n_rows
            if not setup.single and values.shape[0] is not None and values.shape[0] != rows:
                raise ValueError(
                    f"{self.name}: {rows} circuits but symbol_values has "
                    f"{values.shape[0]} rows; give one row of values per circuit."
                )
        return values, batch

    def _default_values(self, batch, operators):
        """Values when the call gives none: the layer's weights (or zeros) on every row, and the
        batch size."""
        setup = self._setup
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
        return values, batch

    def _observables(self, operators, batch):
        """What the backend measures: the call's PauliSums, or the operators tensor behind
        in-graph checks (qubits checked against the circuits when they are known)."""
        setup = self._setup
        if operators is None:
            return setup.operator_tuple
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
        if self._setup.empty:  # only empty circuits: nothing to simulate (TFQ's width 0)
            return self._run_empty(self._unpack(inputs)[2])
        engine = self._engine()
        circuits, values, batch, index, operators, reps = self._unpack(inputs)
        placeholders, shared = self._values(engine, values, batch)
        return self._run_with(engine, placeholders, shared, index, circuits, batch, operators, reps)

    # -- what differs between the two families (operator readers and the others) ----------
    def _parse_operators(self, operators):
        """``(ops, op_index, op_input)`` of the call's ``operators`` argument."""
        raise NotImplementedError

    def _run_with(self, engine, values, shared, index, circuits, batch, operators, reps):
        """The simulation of one call, given the unpacked operator and repetition inputs."""
        raise NotImplementedError

    def _run(self, engine, values, shared, index, circuits, batch):
        raise NotImplementedError

    def _run_empty(self, batch):
        raise CircuitError(
            f"{self.name}: the circuits act on no qubits, so there is nothing to measure; add "
            "gates (or cirq.I on each qubit the operators measure)."
        )

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
                "backend": backends.request_config(self.backend_request),
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
        backends.check_saved_differentiator(config.get("differentiator"))
        if config.get("initializer") is not None:
            config["initializer"] = keras.initializers.deserialize(config["initializer"])
        return cls(**config)


class _ManagedWeights(_Executor):
    """An executor of expectation values: it reads ``operators``, and creates TFQ's
    ``circuit_learnable_parameters`` when called without ``symbol_values``."""

    def _parse_operators(self, operators):
        if operators is None:
            raise RuntimeError(
                "Value for operators not provided. operators must be one of "
                "cirq.PauliSum, cirq.PauliString, a list of them, or a tf.string tensor "
                "from tfq_layers.compat.convert_to_tensor([[psum, ...], ...])."
            )
        if operator_tensors.is_symbolic(operators):  # known when the graph runs
            operator_tensors.check_symbolic(operators, self.name)
            self._check_reads_operator_tensors(native_backend(self.backend_request))
            return None, None, True
        ops, op_index = parse_operators(operators, f"{self.name}")
        return ops, op_index, False

    def _run_with(self, engine, values, shared, index, circuits, batch, operators, reps):
        observables = self._observables(operators, batch)
        if reps is not None:  # counts per (circuit, operator), known when the graph runs
            return self._run(engine, values, shared, index, circuits, batch, observables, reps)
        return self._run(engine, values, shared, index, circuits, batch, observables)

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

    def __init__(self, backend="noiseless", differentiator=None, **kwargs):
        if isinstance(backend, cirq.Sampler) and not isinstance(
            backend, cirq.SimulatesExpectationValues
        ):
            raise TFQArgumentError(
                tfq_message(
                    "Sampler backends are not supported by Expectation; use SampledExpectation.",
                    f"{backend!r} only samples: tfq_layers.compat.layers.SampledExpectation "
                    "estimates expectations from its samples (repetitions=N shots per term).",
                )
            )
        super().__init__(backend=backend, differentiator=differentiator, **kwargs)

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
    _expects = "Cirq.Sampler or None."

    def _check_repetitions(self, repetitions):
        if repetitions is None:
            raise RuntimeError(
                "Value for repetitions not provided. SampledExpectation needs "
                "repetitions=N shots per term."
            )
        if is_keras_tensor(repetitions) or (
            tf.is_tensor(repetitions) and not hasattr(repetitions, "numpy")
        ):  # a model input: counts per (circuit, operator) read by TFQ's op
            self._check_reads_operator_tensors(native_backend(self.backend_request))
            rank = len(repetitions.shape)
            if rank != 2:
                raise TFQInvalidArgumentError(
                    tfq_message(
                        f"num_samples must be rank 2. Got rank {rank}.",
                        f"{self.name}: a repetitions tensor holds one count per circuit and "
                        "operator, shape (batch, n_operators).",
                    )
                )
            return "input"
        return parse_repetitions(repetitions, "SampledExpectation", per_operator=True)

    def _run(self, engine, values, shared, index, circuits, batch, observables=None, counts=None):
        if counts is not None:
            out = engine.backend.sampled_expectation(
                values, shared, observables, counts, index=index, data=circuits
            )
            return self._float_out(out)
        reps = self._setup.repetitions
        counts = [reps] if isinstance(reps, int) else sorted(set(np.ravel(reps).tolist()))
        out = None
        for count in counts:  # per-operator counts: one run per distinct count, then pick
            est = engine.backend.sampled_expectation(
                values, shared, observables, count, index=index, data=circuits
            )
            est = self._gather_operators(est)
            if out is None:
                out = est
            else:
                pick = tf.constant(np.asarray(reps) == count)
                out = tf.where(tf.broadcast_to(pick, tf.shape(est)), est, out)
        return self._float_out(out)


def _union_positions(circuits, qubits):
    """For each circuit, the positions of its (sorted) qubits in the sorted register ``qubits``
    the backend simulated them on (every circuit of a batch padded to the union of qubits)."""
    where = {q: i for i, q in enumerate(qubits)}
    return [[where[q] for q in sorted(c.all_qubits())] for c in circuits]


def _basis_index(positions, n):
    """Indices, in the ``n``-qubit register, of the basis states of the qubits at ``positions``
    with every other qubit in ``|0>`` (qubit 0 is the most significant bit)."""
    k = len(positions)
    local = np.arange(2**k, dtype=np.int64)
    index = np.zeros(2**k, np.int64)
    for a, p in enumerate(positions):
        index |= ((local >> (k - 1 - a)) & 1) << (n - 1 - p)
    return index


def _per_circuit(padded, setup, qubits, kind):
    """TFQ's layout for a list of circuits on different qubits: each row on its own circuit's
    qubits, cut out of the union register the batch ran on (the other qubits stay ``|0>``).

    ``kind``: ``"state"`` (``[batch, 2**n]``), ``"unitary"`` (``[batch, 2**n, 2**n]``) or
    ``"sample"`` (``[batch, repetitions, n]``). Returns a ragged tensor whose inner lengths
    follow each row's circuit, ``None`` when every circuit uses the whole register (the
    uniform path applies)."""
    positions = _union_positions(setup.distinct, qubits)
    n = len(qubits)
    if all(len(p) == n for p in positions):
        return None
    flat, outer, inner = [], [], []
    if kind == "sample":
        reps = int(padded.shape[1]) if padded.shape[1] is not None else setup.repetitions
        for r, c in enumerate(setup.index):
            p = np.array(positions[c], np.int64)
            for s in range(reps):
                flat.append((r * reps + s) * n + p)
                inner.append(len(p))
            outer.append(reps)
    else:
        dim = 2**n
        for r, c in enumerate(setup.index):
            basis = _basis_index(positions[c], n)
            if kind == "state":
                flat.append(r * dim + basis)
            else:
                flat.append((r * dim + basis[:, None]) * dim + basis[None, :])
                inner.extend([len(basis)] * len(basis))
            outer.append(len(basis))
    flat = np.concatenate([np.reshape(f, [-1]) for f in flat]) if flat else np.zeros(0, np.int64)
    values = tf.gather(tf.reshape(padded, [-1]), tf.constant(flat, tf.int64))
    lengths = [np.array(outer, np.int64)] + ([] if kind == "state" else [np.array(inner, np.int64)])
    return tf.RaggedTensor.from_nested_row_lengths(values, lengths)


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
    """An executor of circuits alone (samples, states, unitaries): no operators, no weights."""

    _may_own_weights = False
    _kind = None

    def _parse_operators(self, operators):
        if operators is not None:
            raise TypeError(f"{type(self).__name__} takes no operators.")
        return None, None, False

    def _run_with(self, engine, values, shared, index, circuits, batch, operators, reps):
        return self._run(engine, values, shared, index, circuits, batch)

    def _check_repetitions(self, repetitions):
        if repetitions is not None:
            raise TypeError(f"{type(self).__name__} takes no repetitions.")
        return None

    def _configure(self, inputs, symbol_names, symbol_values, operators, repetitions, initializer):
        setup = super()._configure(
            inputs, symbol_names, symbol_values, operators, repetitions, initializer
        )
        if setup.names and not setup.values_given:  # no weights to fall back on, as in TFQ
            raise TFQInvalidArgumentError(
                tfq_message(
                    "symbol_names and symbol_values do not match:",
                    f"{type(self).__name__} was given symbol_names {setup.names} but no "
                    "symbol_values; pass symbol_values of shape (batch, "
                    f"{len(setup.names)}), or drop symbol_names.",
                )
            )
        return setup

    def _rows(self, padded, engine, rank, kind=None):
        """TFQ's ragged layout: each circuit of a list on its own qubits, else ``_ragged``
        (``kind``: the layout of ``padded``, default the layer's)."""
        setup = self._setup
        if not setup.data_mode and not setup.single:
            out = _per_circuit(padded, setup, engine.program.qubits, kind or self._kind)
            if out is not None:
                return out
        return _ragged(padded, rank)


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
    _expects = "Cirq.Sampler or None."
    _kind = "sample"

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
        return self._rows(tf.cast(out, tf.int8), engine, 1)

    def _run_empty(self, batch):
        reps = self._setup.repetitions
        return tf.RaggedTensor.from_tensor(
            tf.zeros(tf.stack([batch, reps, 0]), tf.int8), ragged_rank=2
        )


@register("compat.State")
class State(_NoWeights):
    """TFQ's ``State``: final state vectors, as a ragged tensor (density matrices
    ``[batch, 2**n, 2**n]`` with ``backend=cirq.DensityMatrixSimulator()``, as TFQ).

    Differentiable with the statevector backend (the default for ``cirq.Circuit`` inputs);
    TFQ's state has no gradient.

    Returns:
        ``tf.RaggedTensor`` complex64 ``[batch, 2**n_qubits]``.
    """

    _op = "state"
    _expects = "Cirq.SimulatesFinalState or None."
    _kind = "state"

    def __init__(self, backend=None, **kwargs):
        kwargs.pop("differentiator", None)
        super().__init__(backend=backend, **kwargs)

    def _run(self, engine, values, shared, index, circuits, batch):
        out = engine.backend.state(values, shared, index=index, data=circuits)
        if out.shape.rank == 3:  # density matrices (a density-matrix simulator as backend)
            return self._rows(out, engine, 2, kind="unitary")
        return self._rows(out, engine, 1)

    def _run_empty(self, batch):
        return tf.RaggedTensor.from_tensor(tf.ones(tf.stack([batch, 1]), tf.complex64))


@register("compat.Unitary")
class Unitary(_NoWeights):
    """TFQ's ``Unitary``: the unitary matrix of each circuit, as a ragged tensor.

    Differentiable with the statevector backend (the default for ``cirq.Circuit`` inputs).

    Returns:
        ``tf.RaggedTensor`` complex64 ``[batch, 2**n, 2**n]``.
    """

    _op = "unitary"
    _kind = "unitary"

    def __init__(self, **kwargs):
        kwargs.pop("differentiator", None)
        kwargs.setdefault("backend", None)
        super().__init__(**kwargs)

    def _run(self, engine, values, shared, index, circuits, batch):
        out = engine.backend.unitary(values, shared, index=index, data=circuits)
        return self._rows(out, engine, 2)

    def _run_empty(self, batch):
        return tf.RaggedTensor.from_tensor(
            tf.ones(tf.stack([batch, 1, 1]), tf.complex64), ragged_rank=2
        )
