"""TensorFlow Quantum's ten Keras layers, on Keras 3 (and legacy tf_keras), on this package's core.

A TFQ program migrates by replacing ``tfq.layers`` with ``tfq_layers.compat.layers``: the class
names, constructor and call signatures, defaults, symbol order (lexicographic) and output types
(ragged tensors for ``Sample``, ``State`` and ``Unitary``) are TFQ's. What changes is what runs
underneath: every layer compiles its circuits with :class:`~tfq_layers.program.Program` and runs
them through the :class:`~tfq_layers.backends.base.Backend` interface, so

* a gate parameter may be any sympy expression (``2*t + 1``, ``atan(x)``), not only ``c*symbol``;
* with ``backend="statevector"`` (or the default when circuits are ``cirq.Circuit`` objects),
  ``State`` and ``Unitary`` are differentiable and gates TFQ cannot serialize (``MatrixGate``,
  ``PhasedXZGate``, ``TOFFOLI``) run;
* every layer has ``get_config`` and saves, loads (``safe_mode=True``) and exports;
* bad input gets an error that names the problem and the fix.

``backend``: TFQ's ``'noiseless'`` (default) and ``None`` let the package choose a noiseless
simulator (TFQ's qsim for ``tf.string`` circuit tensors or a TFQ differentiator, the statevector
backend for ``cirq.Circuit`` inputs); ``'noisy'`` does the same for noisy circuits (trajectories,
``repetitions`` required); ``'tfq'`` or ``'statevector'`` force one. A ``cirq`` simulator object
(TFQ's Cirq-backed mode) is not supported.

Calling convention in Keras 3: Keras 3 accepts only tensors as positional layer inputs. These
layers take TFQ's arguments as TFQ does (``layer(circuit, symbol_names=..., symbol_values=...)``)
and keep the non-tensor ones (circuits given as ``cirq.Circuit``, symbol names, operators,
repetitions) as part of the layer's configuration, so a functional model saves and reloads them.
"""
import numbers

import cirq
import numpy as np
import sympy
import tensorflow as tf

from tfq_layers import backends, serialization
from tfq_layers._keras import build_at_init, keras, register
from tfq_layers.engine import Engine
from tfq_layers.expressions import as_real_features
from tfq_layers.errors import CircuitError
from tfq_layers.backends.tfq_backend import import_tfq
from tfq_layers.layers import pqc as _pqc

__all__ = ["AddCircuit", "ControlledPQC", "Expectation", "NoisyControlledPQC", "NoisyPQC", "PQC",
           "Sample", "SampledExpectation", "State", "Unitary"]

_TFQ_BACKENDS = ("noiseless", "noisy", None, "auto", "tfq", "statevector")


def default_initializer():
    """TFQ's default for circuit weights: uniform angles in ``[0, 2*pi)``."""
    return keras.initializers.RandomUniform(minval=0.0, maxval=2.0 * np.pi)


def _type_name(x):
    """The user's type: Keras wraps lists it tracks (``TrackedList``/``ListWrapper``)."""
    if isinstance(x, (list, tuple)) or type(x).__name__ in ("TrackedList", "ListWrapper"):
        return "list"
    return type(x).__name__


def _is_circuit(x):
    return isinstance(x, (cirq.Circuit, cirq.FrozenCircuit))


def _is_circuit_list(x):
    return isinstance(x, (list, tuple, np.ndarray)) and len(x) > 0 and all(
        _is_circuit(c) for c in x)


def _check_backend(backend):
    if backend not in _TFQ_BACKENDS:
        if isinstance(backend, (cirq.Sampler, cirq.SimulatesExpectationValues)):
            raise TypeError(
                "a Cirq simulator object as backend (TFQ's Cirq-backed mode) is not supported; "
                "use backend='noiseless' (the default), 'noisy', 'tfq' or 'statevector'.")
        raise ValueError(f"backend must be one of {list(_TFQ_BACKENDS)}; got {backend!r}.")
    return backend


def _names(symbol_names):
    """TFQ's ``symbol_names`` (list of str/sympy.Symbol, or a string tensor) as a list of str."""
    if symbol_names is None:
        return []
    if tf.is_tensor(symbol_names):
        if not tf.executing_eagerly() and not hasattr(symbol_names, "numpy"):
            raise TypeError("symbol_names must be known when the layer is built: pass a list of "
                            "names (or an eager tf.string tensor).")
        symbol_names = [s.decode() for s in np.asarray(symbol_names.numpy()).reshape(-1)]
    if isinstance(symbol_names, (str, sympy.Symbol)):
        symbol_names = [symbol_names]
    if not isinstance(symbol_names, (list, tuple, np.ndarray)):
        raise TypeError(f"symbol_names must be a list of str or sympy.Symbol; got "
                        f"{_type_name(symbol_names)}.")
    out = []
    for s in symbol_names:
        if not isinstance(s, (str, sympy.Symbol)):
            raise TypeError(f"each element of symbol_names must be a str or sympy.Symbol; got "
                            f"{s!r} of type {type(s).__name__}.")
        out.append(str(s))
    dups = sorted({s for s in out if out.count(s) > 1})
    if dups:
        raise ValueError(f"symbol_names contains duplicates {dups}; give each symbol once.")
    return out


def _operators(operators):
    """``(distinct, index)``: the distinct observables and, for per-circuit operator lists, an
    ``(n_circuits, n_ops)`` index into them (``None`` when every circuit shares one list)."""
    if isinstance(operators, (cirq.PauliSum, cirq.PauliString)) or (
            isinstance(operators, cirq.GateOperation) and isinstance(operators.gate, cirq.Pauli)):
        operators = [operators]
    if isinstance(operators, np.ndarray):
        operators = operators.tolist()
    if not isinstance(operators, (list, tuple)) or not operators:
        raise TypeError(
            f"operators must be a cirq.PauliSum/PauliString, a list of them, or one such list "
            f"per circuit; got {_type_name(operators)}"
            f"{'' if operators is None else ': ' + repr(operators)[:80]}.")
    if not isinstance(operators[0], (list, tuple)):
        return list(operators), None
    widths = {len(row) for row in operators}
    if len(widths) != 1:
        raise ValueError(f"every circuit needs the same number of operators; got rows of "
                         f"lengths {sorted(widths)}.")
    distinct, index = [], []
    for row in operators:
        index_row = []
        for op in row:
            key = str(op)
            pos = next((i for i, d in enumerate(distinct) if str(d) == key), None)
            if pos is None:
                distinct.append(op)
                pos = len(distinct) - 1
            index_row.append(pos)
        index.append(index_row)
    return distinct, np.array(index, np.int32)


def _repetitions(repetitions, what):
    if isinstance(repetitions, bool) or not isinstance(repetitions, numbers.Integral):
        if tf.is_tensor(repetitions) and repetitions.shape.rank in (0, 1) and hasattr(
                repetitions, "numpy"):
            values = np.unique(np.asarray(repetitions.numpy()).reshape(-1))
            if values.size == 1:
                return _repetitions(int(values[0]), what)
        raise TypeError(f"repetitions must be a positive int for {what}; got {repetitions!r}.")
    if repetitions < 1:
        raise ValueError(f"repetitions must be greater than zero; got {repetitions}.")
    return int(repetitions)


class _Setup:
    """The static part of one call: circuits (or ``None`` when they come as a tensor), symbol
    names, operators, repetitions; JSON-able through ``to_config``/``from_config``."""

    def __init__(self, circuits, names, values_given, operators=None, op_index=None,
                 repetitions=None, single=True):
        self.circuits = circuits  # list of cirq.Circuit, or None (tf.string tensor input)
        self.names = names
        self.values_given = values_given
        self.operators = operators
        self.op_index = op_index
        self.repetitions = repetitions
        self.single = single
        self._key = None
        self.distinct, self.index = None, None
        if circuits is not None:
            keys, self.distinct, index = {}, [], []
            for c in circuits:
                key = c.freeze()
                if key not in keys:
                    keys[key] = len(self.distinct)
                    self.distinct.append(c.unfreeze() if isinstance(c, cirq.FrozenCircuit) else c)
                index.append(keys[key])
            self.index = np.array(index, np.int32)

    @property
    def data_mode(self):
        return self.circuits is None

    @property
    def n_rows(self):
        return None if self.circuits is None else len(self.circuits)

    def key(self):
        """What identifies this configuration (computed once: a setup never changes)."""
        if self._key is None:
            self._key = (
                None if self.circuits is None else tuple(c.freeze() for c in self.circuits),
                tuple(self.names), self.values_given,
                None if self.operators is None else tuple(str(o) for o in self.operators),
                None if self.op_index is None else self.op_index.tobytes(), self.repetitions,
                self.single)
        return self._key

    def to_config(self):
        return {
            "circuits": None if self.circuits is None else serialization.dumps(self.circuits),
            "single": self.single,
            "symbol_names": list(self.names), "values_given": self.values_given,
            "operators": None if self.operators is None else serialization.dumps(self.operators),
            "operator_index": None if self.op_index is None else self.op_index.tolist(),
            "repetitions": self.repetitions,
        }

    @classmethod
    def from_config(cls, cfg):
        circuits = None if cfg.get("circuits") is None else serialization.loads(cfg["circuits"])
        if circuits is not None and (not isinstance(circuits, list) or not all(
                isinstance(c, cirq.Circuit) for c in circuits)):
            raise serialization.SerializationError(
                "saved 'circuits' is not a list of cirq.Circuit; the file was altered or is not a "
                "tfq_layers model.")
        ops = None if cfg.get("operators") is None else serialization.loads(cfg["operators"])
        index = cfg.get("operator_index")
        return cls(circuits, [str(n) for n in cfg.get("symbol_names") or []],
                   bool(cfg.get("values_given")), ops,
                   None if index is None else np.array(index, np.int32), cfg.get("repetitions"),
                   bool(cfg.get("single", True)))


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
        self.backend_arg = _check_backend(backend)
        self.noisy = backend == "noisy"
        if differentiator is not None:  # checked now: a clear error at construction
            backends.differentiator_spec(differentiator, self._op == "sampled_expectation" or
                                         self.noisy)
            if backend == "statevector":
                raise ValueError("differentiator applies to TFQ's simulator; the statevector "
                                 "backend differentiates exactly by autodiff. Drop "
                                 "differentiator or use backend='tfq'.")
        self.differentiator_arg = differentiator
        self.initializer = keras.initializers.get(initializer or default_initializer())
        self.circuit_weights = None
        self._engines = {}
        self._setup = None if setup is None else _Setup.from_config(setup)
        if not self._may_own_weights:
            build_at_init(self)

    # -- the static part of a call ----------------------------------------------------------
    def _configure(self, inputs, symbol_names, symbol_values, operators, repetitions,
                   initializer):
        if initializer is not None:
            self.initializer = keras.initializers.get(initializer)
        if _is_circuit(inputs):
            circuits, single = [inputs], True
        elif _is_circuit_list(inputs):
            circuits, single = list(inputs), False
        elif isinstance(inputs, (list, tuple)) and not inputs:
            raise ValueError("the list of circuits is empty; give at least one cirq.Circuit.")
        elif tf.is_tensor(inputs) or _is_keras_tensor(inputs):
            if inputs.dtype not in (tf.string, "string"):
                raise TypeError(
                    f"{self.name}: circuits must be cirq.Circuit objects, a list of them or a "
                    f"tf.string tensor from tfq.convert_to_tensor; got a tensor of dtype "
                    f"{inputs.dtype}.")
            circuits, single = None, False
        else:
            raise TypeError(
                f"{self.name}: circuits must be cirq.Circuit objects, a list of them or a "
                f"tf.string tensor from tfq.convert_to_tensor; got {_type_name(inputs)}.")
        names = _names(symbol_names)
        values_given = symbol_values is not None
        ops, op_index = (None, None)
        if self._needs_operators:
            if operators is None:
                raise RuntimeError("Value for operators not provided. operators must be one of "
                                   "cirq.PauliSum, cirq.PauliString, or a list of them.")
            ops, op_index = _operators(operators)
        elif operators is not None:
            raise TypeError(f"{type(self).__name__} takes no operators.")
        reps = self._check_repetitions(repetitions)
        if op_index is not None and circuits is not None and len(op_index) != len(circuits):
            raise ValueError(f"operators has {len(op_index)} rows but there are {len(circuits)} "
                             "circuits; give one list of operators per circuit, or one list "
                             "for all.")
        return _Setup(circuits, names, values_given, ops, op_index, reps, single)

    def _check_repetitions(self, repetitions):
        if self.noisy and repetitions is None:
            raise RuntimeError(
                "Value for repetitions not provided. With backend='noisy' a number of trajectory "
                "repetitions must be provided in the layer call.")
        if not self.noisy and repetitions is not None:
            raise RuntimeError("repetitions value provided for an analytic (noiseless) "
                               "expectation; drop repetitions, use SampledExpectation for "
                               "shot noise, or backend='noisy' for trajectories.")
        return None if repetitions is None else _repetitions(repetitions, type(self).__name__)

    def __call__(self, inputs, *, symbol_names=None, symbol_values=None, operators=None,
                 repetitions=None, initializer=None, **kwargs):
        static = _is_circuit(inputs) or _is_circuit_list(inputs) or any(
            a is not None for a in (symbol_names, symbol_values, operators, repetitions)) or \
            self._setup is None
        if static:
            setup = self._configure(inputs, symbol_names, symbol_values, operators, repetitions,
                                    initializer)
            if isinstance(symbol_values, (list, tuple, np.ndarray)):
                symbol_values = tf.convert_to_tensor(np.asarray(symbol_values, np.float32))
            tensors = self._pack(setup, inputs, symbol_values)
            self._use(setup)
        else:  # a reloaded model calls again with the tensors it recorded
            tensors = inputs
        return super().__call__(tensors, **kwargs)

    def _pack(self, setup, inputs, symbol_values):
        if setup.data_mode:
            return inputs if symbol_values is None else [inputs, symbol_values]
        if symbol_values is not None:
            return symbol_values
        return tf.zeros((setup.n_rows, 0), tf.float32)

    def _use(self, setup):
        if self._setup is not None and self._setup.key() != setup.key() and \
                self.circuit_weights is not None:
            if not setup.values_given and len(setup.names) != int(self.circuit_weights.shape[0]):
                raise ValueError(
                    f"{self.name} already manages weights for symbols {self._setup.names}; "
                    f"it cannot take {setup.names} too. Use a new layer for these circuits.")
        self._setup = setup

    # -- engines --------------------------------------------------------------------------------
    def _engine(self):
        setup = self._setup
        key = setup.key()
        engine = self._engines.get(key)
        if engine is not None:
            return engine
        request = _native_backend(self.backend_arg)
        sampled = self._op == "sampled_expectation"
        circuits = [cirq.Circuit()] if setup.data_mode else setup.distinct
        engine = Engine(
            dict(circuit=circuits if len(circuits) > 1 else circuits[0],
                 observables=setup.operators, input_symbols=setup.names,
                 require_observables=False, allow_unused_inputs=True,
                 symbol_order="lexicographic", allow_empty=setup.data_mode),
            backend=request, differentiator=self.differentiator_arg, sampled=sampled,
            trajectories=setup.repetitions if self.noisy else None, share_weights=False,
            noisy=self.noisy)
        program = engine.program
        if program.weight_symbols:
            raise ValueError(
                f"{self.name}: the circuit uses symbols {[s.name for s in program.weight_symbols]}"
                f" that are not in symbol_names {setup.names}; list every circuit symbol in "
                "symbol_names.")
        if not setup.data_mode:
            used = {s.name for c in setup.distinct for s in cirq.parameter_symbols(c)}
            unused = [n for n in setup.names if n not in used]
            if unused:
                raise ValueError(
                    f"{self.name}: symbol_names {unused} do not appear in any circuit (their "
                    f"symbols are {sorted(used)}); remove them from symbol_names.")
            if program.has_channels and not self.noisy:
                raise ValueError(
                    f"{self.name}: the circuit has noise channels; use backend='noisy' and pass "
                    "repetitions=N trajectories.")
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
                            "of the circuit, or add cirq.I on those qubits.")
        name = None
        if request == "auto":
            name = engine.choose(quantum_data=setup.data_mode)
        engine.bind(name, reason=" (TFQ's simulator was chosen because the circuits come as a "
                                 "tf.string tensor or a TFQ differentiator was given.)")
        self.supports_jit = engine.backend.supports_xla  # Keras's jit_compile="auto"
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
            raise ValueError(f"{self.name} was called without circuits; call it as TFQ's layer: "
                             "layer(circuits, symbol_names=..., symbol_values=..., ...).")
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
                    f"(batch, {len(setup.names)}).")
            if batch is None:
                batch = tf.shape(values)[0]
                rows = setup.n_rows
                if not setup.single and values.shape[0] is not None and values.shape[0] != rows:
                    raise ValueError(
                        f"{self.name}: {rows} circuits but symbol_values has "
                        f"{values.shape[0]} rows; give one row of values per circuit.")
        else:
            if batch is None:
                batch = tf.constant(setup.n_rows)
            if self.circuit_weights is not None:
                values = tf.tile(tf.convert_to_tensor(self.circuit_weights)[None, :],
                                 tf.stack([batch, 1]))
            else:
                values = tf.zeros(tf.stack([batch, len(setup.names)]), tf.float32)
        index = None
        if not setup.data_mode and not setup.single:
            index = tf.constant(setup.index)
        return circuits, values, batch, index

    def _values(self, engine, values, batch):
        return engine.parameters(values, None, batch)

    def call(self, inputs):
        engine = self._engine()
        circuits, values, batch, index = self._unpack(inputs)
        placeholders, shared = self._values(engine, values, batch)
        return self._run(engine, placeholders, shared, index, circuits, batch)

    def _run(self, engine, values, shared, index, circuits, batch):
        raise NotImplementedError

    def _gather_operators(self, out):
        setup = self._setup
        if setup.op_index is None:
            return out
        idx = tf.constant(setup.op_index)
        if not setup.data_mode and setup.single:
            idx = tf.tile(idx[:1], tf.stack([tf.shape(out)[0], 1]))
        return tf.gather(out, idx, batch_dims=1)

    def _float_out(self, out):
        if self.compute_dtype not in (None, "float32"):
            out = tf.cast(out, self.compute_dtype)
        return out

    def get_config(self):
        config = super().get_config()
        config.update({
            "backend": self.backend_arg,
            "differentiator": None if self.differentiator_arg is None else backends.plain_spec(
                backends.differentiator_spec(self.differentiator_arg,
                                             self._op == "sampled_expectation" or self.noisy)),
            "initializer": keras.initializers.serialize(self.initializer),
            "setup": None if self._setup is None else self._setup.to_config(),
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("initializer") is not None:
            config["initializer"] = keras.initializers.deserialize(config["initializer"])
        return cls(**config)


def _is_keras_tensor(x):
    fn = getattr(keras, "KerasTensor", None)
    if fn is not None and isinstance(x, fn):
        return True
    try:
        return keras.backend.is_keras_tensor(x)
    except (AttributeError, ValueError, TypeError):
        return False


class _ManagedWeights(_Executor):
    """An executor that creates TFQ's ``circuit_learnable_parameters`` when called without
    ``symbol_values``."""

    def build(self, input_shape):
        setup = self._setup
        if setup is not None and not setup.values_given and setup.names and \
                self.circuit_weights is None:
            self.circuit_weights = self.add_weight(
                name="circuit_learnable_parameters", shape=(len(setup.names),),
                initializer=self.initializer, trainable=True, dtype="float32",
                autocast=False)  # circuit angles stay float32 under mixed precision
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
    list for all circuits, or one list per circuit), ``repetitions`` (``'noisy'`` only).

    Returns:
        ``(batch, n_operators)`` float32.

    Example:
        >>> q = cirq.GridQubit(0, 0)
        >>> a = sympy.Symbol("a")
        >>> Expectation()(cirq.Circuit(cirq.rx(2 * a + 0.1).on(q)), symbol_names=[a],
        ...               symbol_values=[[0.0], [0.5]], operators=cirq.Z(q)).shape
        TensorShape([2, 1])
    """

    def _run(self, engine, values, shared, index, circuits, batch):
        out = engine.backend.expectation(values, shared, self._setup.operators, index=index,
                                         data=circuits)
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
            raise RuntimeError("Value for repetitions not provided. SampledExpectation needs "
                               "repetitions=N shots per term.")
        return _repetitions(repetitions, "SampledExpectation")

    def _run(self, engine, values, shared, index, circuits, batch):
        out = engine.backend.sampled_expectation(values, shared, self._setup.operators,
                                                 self._setup.repetitions, index=index,
                                                 data=circuits)
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
        return _repetitions(repetitions, "Sample")

    def _run(self, engine, values, shared, index, circuits, batch):
        out = engine.backend.sample(values, shared, self._setup.repetitions, index=index,
                                    data=circuits)
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


@register("compat.AddCircuit")
class AddCircuit(keras.layers.Layer):
    """TFQ's ``AddCircuit``: append or prepend circuits to a batch of serialized circuits.

    Call arguments: ``inputs`` (a ``cirq.Circuit``, a list, or a ``tf.string`` tensor) and exactly
    one of ``append``/``prepend`` (a ``cirq.Circuit`` for every input, a list with one per input,
    or a ``tf.string`` tensor).

    Returns:
        ``(batch,)`` tf.string tensor of serialized circuits.

    Example:
        >>> q = cirq.GridQubit(0, 0)
        >>> out = AddCircuit()(cirq.Circuit(cirq.X(q)), append=cirq.Circuit(cirq.Y(q)))
        >>> out.shape
        TensorShape([1])
    """

    def __init__(self, append=None, prepend=None, **kwargs):
        super().__init__(**kwargs)
        self._static = {"append": None, "prepend": None}
        for key, value in (("append", append), ("prepend", prepend)):
            if value is not None:
                self._static[key] = serialization.loads(value) if isinstance(value, str) \
                    else value
        build_at_init(self)

    def __call__(self, inputs, *, append=None, prepend=None, **kwargs):
        if append is not None and prepend is not None:
            raise ValueError("Values cannot be given for both append and prepend.")
        extra = None
        if append is not None or prepend is not None:
            key, value = ("append", append) if append is not None else ("prepend", prepend)
            self._static = {"append": None, "prepend": None}
            if _is_circuit(value) or _is_circuit_list(value):
                self._static[key] = value
            elif tf.is_tensor(value) or _is_keras_tensor(value):
                self._static[key] = "tensor"
                extra = value
            else:
                raise TypeError(f"{key} circuits cannot be parsed from {_type_name(value)}; give "
                                "a cirq.Circuit, a list of them or a tf.string tensor.")
        elif self._static["append"] is None and self._static["prepend"] is None:
            raise ValueError("Values must be provided for append or prepend.")
        if _is_circuit(inputs):
            inputs = [inputs]
        if isinstance(inputs, (list, tuple, np.ndarray)) and not any(
                tf.is_tensor(x) or _is_keras_tensor(x) for x in inputs):
            if not _is_circuit_list(inputs):
                raise TypeError(f"Circuits cannot be parsed with given input of type "
                                f"{_type_name(inputs)}.")
            inputs = import_tfq().convert_to_tensor(list(inputs))
        tensors = inputs if extra is None else [inputs, extra]
        return super().__call__(tensors, **kwargs)

    def call(self, inputs):
        tfq = import_tfq()
        key = "append" if self._static["append"] is not None else "prepend"
        value = self._static[key]
        if isinstance(value, str):  # "tensor": the second input
            inputs, other = inputs
        else:
            other = None
        inputs = tf.convert_to_tensor(inputs)
        if inputs.dtype != tf.string:
            raise TypeError(f"{self.name}: circuits must be a tf.string tensor; got dtype "
                            f"{inputs.dtype}.")
        batch = tf.shape(inputs)[0]
        if other is None:
            if _is_circuit(value):
                with tf.init_scope():
                    serialized = tfq.convert_to_tensor([value]).numpy()
                other = tf.tile(tf.constant(serialized), tf.reshape(batch, [1]))
            else:
                with tf.init_scope():
                    serialized = tfq.convert_to_tensor(list(value)).numpy()
                other = tf.constant(serialized)
        if key == "append":
            return tfq.append_circuit(inputs, other)
        return tfq.append_circuit(other, inputs)

    def compute_output_shape(self, input_shape):
        shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        return (tuple(shape)[0],)

    def compute_output_spec(self, inputs):
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        return keras.KerasTensor((first.shape[0],), dtype="string")

    def get_config(self):
        config = super().get_config()
        for key in ("append", "prepend"):
            value = self._static[key]
            config[key] = value if value is None or isinstance(value, str) and value == \
                "tensor" else serialization.dumps(value)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        static = {k: config.pop(k, None) for k in ("append", "prepend")}
        layer = cls(**config)
        for key, value in static.items():
            if value == "tensor":
                layer._static[key] = "tensor"
            elif value is not None:
                loaded = serialization.loads(value)
                layer._static[key] = loaded
        return layer


# -- the high-level layers ------------------------------------------------------------------------
def _lexicographic(circuit):
    if not isinstance(circuit, (cirq.Circuit, cirq.FrozenCircuit)):
        raise TypeError(f"model_circuit must be a cirq.Circuit; got {_type_name(circuit)}.")
    return sorted((s.name for s in cirq.parameter_symbols(circuit)))


def _native_backend(backend):
    """TFQ's backend argument as a native request: 'noiseless'/'noisy' let the package choose."""
    backend = _check_backend(backend)
    return backends.normalize_name(None if backend in ("noiseless", "noisy") else backend)


class _HighLevel(_pqc.PQC):
    """TFQ's high-level layers are the native PQC with TFQ's argument names and symbol order."""

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
        return {sympy.Symbol(s.name): float(v)
                for s, v in zip(self._program.weight_symbols, values)}

    def get_config(self):
        base = keras.layers.Layer.get_config(self)
        base.update(self._tfq_config())
        base["model_circuit"] = serialization.dumps(self._program.circuit)
        base["operators"] = serialization.dumps(self._program.observables)
        base["repetitions"] = self.repetitions
        base["backend"] = self._tfq_backend
        base["differentiator"] = backends.plain_spec(self._engine.differentiator)
        return base

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["model_circuit"] = _pqc._load_circuit(config["model_circuit"])
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

    def __init__(self, model_circuit, operators, *, repetitions=None, backend="noiseless",
                 differentiator=None, initializer=None, regularizer=None, constraint=None,
                 **kwargs):
        self._tfq_backend = _check_backend(backend)
        if backend == "noisy":
            raise ValueError("PQC is noiseless; use NoisyPQC for circuits with noise channels.")
        super().__init__(model_circuit, operators, input_symbols=None,
                         differentiator=differentiator, repetitions=repetitions,
                         initializer=initializer or default_initializer(),
                         regularizer=regularizer, constraint=constraint,
                         weight_symbols=_lexicographic(model_circuit),
                         backend=_native_backend(backend), **kwargs)

    def _tfq_config(self):
        return {"initializer": keras.initializers.serialize(self.initializer),
                "regularizer": None if self.regularizer is None else
                keras.regularizers.serialize(self.regularizer),
                "constraint": None if self.constraint is None else
                keras.constraints.serialize(self.constraint)}


@register("compat.NoisyPQC")
class NoisyPQC(PQC):
    """TFQ's ``NoisyPQC``: ``PQC`` for circuits with noise channels.

    Args:
        model_circuit, operators, differentiator, initializer, regularizer, constraint: as
            :class:`PQC`.
        repetitions: trajectories (required).
        sample_based: ``False``: average exact expectations over ``repetitions`` trajectories;
            ``True``: estimate each from one shot per trajectory (required, as in TFQ).
    """

    def __init__(self, model_circuit, operators, *, repetitions=None, sample_based=None,
                 differentiator=None, initializer=None, regularizer=None, constraint=None,
                 backend="noisy", **kwargs):
        self._force_noisy = True
        if repetitions is None:
            raise ValueError("NoisyPQC requires repetitions=N (trajectories).")
        if sample_based is None:
            raise ValueError("NoisyPQC requires sample_based=True or False.")
        self.sample_based = bool(sample_based)
        super().__init__(model_circuit, operators, repetitions=repetitions,
                         backend="noiseless" if backend == "noisy" else backend,
                         differentiator=differentiator, initializer=initializer,
                         regularizer=regularizer, constraint=constraint, **kwargs)
        self._tfq_backend = backend

    def _bind(self, name):
        super()._bind(name)
        self._sampled = self.sample_based

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

    def __init__(self, model_circuit, operators, *, repetitions=None, backend="noiseless",
                 differentiator=None, **kwargs):
        self._tfq_backend = _check_backend(backend)
        if backend == "noisy":
            raise ValueError("ControlledPQC is noiseless; use NoisyControlledPQC.")
        super().__init__(model_circuit, operators, input_symbols=_lexicographic(model_circuit),
                         differentiator=differentiator, repetitions=repetitions,
                         backend=_native_backend(backend), **kwargs)
        if not self._engine.bound:  # its input is always quantum data
            self._bind(self._engine.choose(quantum_data=True))
        if type(self).build is _pqc.PQC.build:  # no weights: built at instantiation, as Keras
            self.built = True                  # expects of a layer whose build is not its own

    def _tfq_config(self):
        return {}

    def _split_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"{self.name} takes [circuits, symbol_values]; got "
                             f"{_type_name(inputs)}.")
        return super()._split_inputs(inputs)


@register("compat.NoisyControlledPQC")
class NoisyControlledPQC(ControlledPQC):
    """TFQ's ``NoisyControlledPQC``: ``ControlledPQC`` for circuits with noise channels.

    Args: as :class:`ControlledPQC`, with ``repetitions`` (trajectories) and ``sample_based``
    required, as :class:`NoisyPQC`.
    """

    def __init__(self, model_circuit, operators, *, repetitions=None, sample_based=None,
                 differentiator=None, backend="noisy", **kwargs):
        self._force_noisy = True
        if repetitions is None:
            raise ValueError("NoisyControlledPQC requires repetitions=N (trajectories).")
        if sample_based is None:
            raise ValueError("NoisyControlledPQC requires sample_based=True or False.")
        self.sample_based = bool(sample_based)
        super().__init__(model_circuit, operators, repetitions=repetitions,
                         backend="noiseless" if backend == "noisy" else backend,
                         differentiator=differentiator, **kwargs)
        self._tfq_backend = backend

    def _bind(self, name):
        super()._bind(name)
        self._sampled = self.sample_based

    def _tfq_config(self):
        return {"sample_based": self.sample_based}
