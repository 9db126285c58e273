"""The one place that talks to TensorFlow Quantum's ops, and TFQ's gate set.

The circuits are serialized once, when the backend is built; every call gathers (or tiles) them to
the batch and runs one TFQ op over the whole batch. Importing this module does not import TFQ:
TFQ is imported when a :class:`TFQBackend` is built or an op library is loaded.
"""

import copy
import functools
import math
import numbers

import cirq
import numpy as np

from tfq_layers.backends import memory, quantum_data
from tfq_layers.backends.base import Backend, GateSet
from tfq_layers.backends.check_once import CheckOnce

# The quantum-data checks of each setting (noisy, whole program, symbol names): a layer made
# per call (TFQ's tutorials do that) reuses the traced check and the contents that passed.
_DATA_CHECKS = {}

# -- TFQ's gate set (what TFQ 0.7.6 serializes) ----------------------------------------------------
_TFQ_EIGEN = (
    cirq.XPowGate,
    cirq.YPowGate,
    cirq.ZPowGate,
    cirq.HPowGate,
    cirq.CZPowGate,
    cirq.CXPowGate,
    cirq.SwapPowGate,
    cirq.ISwapPowGate,
    cirq.XXPowGate,
    cirq.YYPowGate,
    cirq.ZZPowGate,
)
_TFQ_OTHER = (cirq.PhasedXPowGate, cirq.PhasedISwapPowGate, cirq.FSimGate, cirq.IdentityGate)
TFQ_CHANNELS = (
    cirq.DepolarizingChannel,
    cirq.AsymmetricDepolarizingChannel,
    cirq.AmplitudeDampingChannel,
    cirq.GeneralizedAmplitudeDampingChannel,
    cirq.PhaseDampingChannel,
    cirq.PhaseFlipChannel,
    cirq.BitFlipChannel,
    cirq.ResetChannel,
)
# TFQ's serialized gate ids of its channels (tensorflow_quantum/core/serialize/serializer.py).
_CHANNEL_IDS = (b"DP", b"ADP", b"GAD", b"AD", b"RST", b"PD", b"PF", b"BF")
TFQ_GATES = GateSet(
    "tfq",
    lambda gate: isinstance(gate, _TFQ_EIGEN + _TFQ_OTHER + TFQ_CHANNELS),
    "rx/ry/rz, X/Y/Z/H/CZ/CNOT/SWAP/ISWAP/XX/YY/ZZ (any power), PhasedXPowGate, "
    "PhasedISwapPowGate, FSimGate, IdentityGate, .controlled_by(...) of those, and the noise "
    "channels depolarize, asymmetric_depolarize, (generalized_)amplitude_damp, phase_damp, "
    "phase_flip, bit_flip, reset",
    "Decompose it first, e.g. with cirq.optimize_for_target_gateset(circuit, "
    "gateset=cirq.CZTargetGateset()) (replaces MatrixGate, PhasedXZGate, TOFFOLI, CCZ, CSWAP), "
    "or use backend='statevector', which simulates any gate with a unitary.",
    title="TFQ",
)

# -- differentiators ------------------------------------------------------------------------------
DIFFERENTIATOR_NAMES = (
    "adjoint",
    "parameter_shift",
    "finite_difference",
    "central_difference",
    "forward_difference",
)
_CLASS_OF = {
    "adjoint": "Adjoint",
    "parameter_shift": "ParameterShift",
    "finite_difference": "CentralDifference",
    "central_difference": "CentralDifference",
    "forward_difference": "ForwardDifference",
}
_NAME_OF = {
    "Adjoint": "adjoint",
    "ParameterShift": "parameter_shift",
    "CentralDifference": "central_difference",
    "ForwardDifference": "forward_difference",
}
DIFFERENTIATORS = DIFFERENTIATOR_NAMES  # kept for callers that list the names

_OPS_LOADED = False
_OPS_ERROR = None  # why the op libraries did not load, if they did not


def import_tfq():
    """TensorFlow Quantum's Python package, imported on first use."""
    import tensorflow_quantum as tfq

    return tfq


def load_tfq_ops():
    """Register every TFQ op library with TensorFlow now, without importing TFQ's Python package.

    TFQ 0.7.6 loads its kernels lazily, on first use from Python. A SavedModel that contains TFQ ops
    needs them registered *before* ``tf.saved_model.load``; importing ``tfq_layers`` calls this, so a
    fresh process that imports ``tfq_layers`` reloads such exports without further ado. The shared
    libraries are found through the installed package's location and loaded with
    ``tf.load_op_library`` (TFQ's own loader later finds them already loaded). Returns the number
    of libraries loaded: 0 when TFQ is not installed, or when its libraries do not load against
    the installed TensorFlow (built for another version: :func:`tfq_unavailable_reason` then says
    so, and ``backend="tfq"`` raises it). Never raises.
    """
    global _OPS_LOADED, _OPS_ERROR
    if _OPS_LOADED or _OPS_ERROR is not None:
        return _OPS_LOADED
    import glob
    import importlib.util
    import os

    import tensorflow as tf

    spec = importlib.util.find_spec("tensorflow_quantum")
    if spec is None or spec.origin is None:  # TFQ not installed
        return 0
    root = os.path.join(os.path.dirname(spec.origin), "core", "ops")
    libraries = sorted(glob.glob(os.path.join(root, "**", "_tfq_*.so"), recursive=True))
    try:
        for path in libraries:
            tf.load_op_library(path)
    except Exception as err:  # any loader failure means "does not load here"
        _OPS_ERROR = f"{type(err).__name__}: {str(err).strip().splitlines()[0][:300]}"
        return 0
    _OPS_LOADED = len(libraries)
    return _OPS_LOADED


def tfq_unavailable_reason():
    """``None`` if TensorFlow Quantum can run here, else why not, in one sentence.

    TFQ runs when it is installed, its op libraries load against the installed TensorFlow (they
    are built for one TF version: 2.18 for TFQ 0.7.6), and its Python package imports."""
    import importlib.metadata
    import importlib.util

    import tensorflow as tf

    if importlib.util.find_spec("tensorflow_quantum") is None:
        return "TensorFlow Quantum (tensorflow-quantum) is not installed."
    try:
        version = importlib.metadata.version("tensorflow-quantum")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a source checkout
        version = "(unknown version)"
    if not load_tfq_ops() and _OPS_ERROR is not None:
        return (
            f"tensorflow-quantum {version} is installed, but its op libraries do not load "
            f"against TensorFlow {tf.__version__} ({_OPS_ERROR})."
        )
    try:
        import_tfq()
    except Exception as err:  # an import that fails for any reason
        return (
            f"tensorflow-quantum {version} is installed, but does not import "
            f"({type(err).__name__}: {str(err).strip().splitlines()[0][:300]})."
        )
    return None


def differentiator_spec(differentiator, sampled):
    """Normalize a differentiator argument into a spec ``{"name": ..., "config": {...}}``.

    Args:
        differentiator: ``None`` (adjoint, or parameter shift when ``sampled``), a name from
            ``DIFFERENTIATOR_NAMES``, any ``tfq.differentiators.Differentiator`` instance (TFQ's
            own or a user-written subclass), or a spec dict.
        sampled: whether the op is a sampled one (``repetitions`` given, or a noisy circuit).

    A user-written subclass gives ``{"name": "custom", "class": <registered name or None>,
    "config": ..., "instance": obj}``; such a layer saves only when the class is registered with
    ``keras.saving.register_keras_serializable`` (see :func:`plain_spec`).
    """
    if differentiator is None:
        return {"name": "parameter_shift" if sampled else "adjoint", "config": {}}
    if hasattr(differentiator, "tfq_layers_spec"):  # tfq_layers.compat.differentiators
        return differentiator_spec(differentiator.tfq_layers_spec(), sampled)
    if isinstance(differentiator, dict):
        _check_spec(differentiator)
        name, config = differentiator.get("name"), dict(differentiator.get("config") or {})
        if name == "custom":
            return _custom_from_spec(differentiator, sampled)
    elif isinstance(differentiator, str):
        name, config = differentiator, {}
    else:
        tfq = import_tfq()
        if not isinstance(differentiator, tfq.differentiators.Differentiator):
            raise TypeError(
                f"differentiator must be None, a name ({list(DIFFERENTIATOR_NAMES)}) or a "
                f"tfq.differentiators.Differentiator instance; got {differentiator!r} of type "
                f"{type(differentiator).__name__}."
            )
        cls = type(differentiator).__name__
        name = (
            _NAME_OF.get(cls)
            if type(differentiator).__module__.startswith("tensorflow_quantum")
            else None
        )
        if name is None:
            return _custom_spec(differentiator, sampled)
        config = {}
        if name == "forward_difference":
            config = {
                "error_order": int(differentiator.error_order),
                "grid_spacing": float(differentiator.grid_spacing),
            }
        elif name == "central_difference":
            pert = np.asarray(differentiator.perturbations)
            positive = pert[pert > 0]
            config = {
                "error_order": int(2 * positive.size),
                "grid_spacing": float(f"{positive.min():.7g}"),
            }
    if name not in DIFFERENTIATOR_NAMES:
        raise ValueError(
            f"unknown differentiator {name!r}; choose one of "
            f"{list(DIFFERENTIATOR_NAMES)} or pass a tfq.differentiators instance."
        )
    if sampled and name == "adjoint":
        raise ValueError(
            "the adjoint differentiator needs exact expectations, but this op is "
            "sampled (repetitions given, or a noisy circuit). Use "
            "differentiator='parameter_shift' or drop repetitions."
        )
    return {"name": name, "config": config}


#: The settings each built-in differentiator takes in a spec, and their allowed ranges.
_SPEC_SETTINGS = {
    "error_order": (numbers.Integral, 1, 8),
    "grid_spacing": (numbers.Real, 1e-12, 1.0),
}
_SPEC_KEYS = {"name", "config", "class", "instance"}


def _is_tfq_differentiator(obj):
    """Whether ``obj`` is a ``tfq.differentiators.Differentiator``, judged by its classes alone
    (no import of TFQ)."""
    return any(
        c.__name__ == "Differentiator" and c.__module__.startswith("tensorflow_quantum")
        for c in type(obj).__mro__
    )


def _check_spec(spec):
    """Refuse a differentiator spec (as read from a saved config) whose fields have the wrong
    type or range, naming the field: a spec is data and is never called or evaluated."""

    def bad(field, problem):
        return ValueError(
            f"differentiator spec {field} {problem}; the saved config was altered or written by "
            "something else. Save the layer again, or pass differentiator=<name>."
        )

    extra = set(spec) - _SPEC_KEYS
    if extra:
        raise bad("has unknown field(s)", f"{sorted(map(str, extra))}")
    name = spec.get("name")
    if not isinstance(name, str):
        raise bad("'name'", f"must be a string; got {type(name).__name__}")
    config = spec.get("config")
    if config is not None and not isinstance(config, dict):
        raise bad("'config'", f"must be an object; got {type(config).__name__}")
    if name == "custom":
        cls = spec.get("class")
        if cls is not None and not isinstance(cls, str):
            raise bad("'class'", f"must be a registered class name; got {type(cls).__name__}")
        instance = spec.get("instance")
        if instance is not None and not _is_tfq_differentiator(instance):
            raise bad(
                "'instance'",
                f"must be a tfq.differentiators.Differentiator; got {type(instance).__name__}",
            )
        return
    if spec.get("class") is not None or spec.get("instance") is not None:
        raise bad("'class'/'instance'", f"belong to name 'custom' only, not {name!r}")
    for key, value in (config or {}).items():
        if key not in _SPEC_SETTINGS or name not in ("forward_difference", "central_difference"):
            raise bad(f"setting {key!r}", f"is not a setting of differentiator {name!r}")
        kind, low, high = _SPEC_SETTINGS[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, kind)
            or not math.isfinite(value)
            or not low <= value <= high
        ):
            raise bad(f"setting {key}={value!r}", f"is not a number in [{low}, {high}]")


def check_saved_differentiator(value):
    """Refuse a saved ``differentiator`` setting (from a layer's config in a file) that is not
    ``None``, a name or a well-formed spec, before any backend is chosen: so a tampered file
    gets the same error with or without TensorFlow Quantum installed.

    Args:
        value: the ``"differentiator"`` entry of a saved layer config.

    Example:
        >>> check_saved_differentiator({"name": "adjoint", "config": {}})
        >>> try:
        ...     check_saved_differentiator({"name": "adjoint", "eval": "1"})
        ... except ValueError as err:
        ...     print(str(err).split(";")[0])
        differentiator spec has unknown field(s) ['eval']
    """
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, dict):
        raise ValueError(
            f"differentiator spec must be a name or an object; got {type(value).__name__}: the "
            "saved config was altered or written by something else. Save the layer again, or "
            "pass differentiator=<name>."
        )
    _check_spec(value)
    if value.get("name") != "custom" and value["name"] not in DIFFERENTIATOR_NAMES:
        raise ValueError(
            f"differentiator spec 'name' {value['name']!r} is not one of "
            f"{list(DIFFERENTIATOR_NAMES)} or 'custom'; the saved config was altered or written "
            "by something else. Save the layer again, or pass differentiator=<name>."
        )


def _custom_spec(instance, sampled):
    from tfq_layers._keras import keras

    cls = type(instance)
    registered = keras.saving.get_registered_name(cls)
    if registered == cls.__name__:  # get_registered_name falls back to the bare class name
        registered = None
    config = instance.get_config() if hasattr(instance, "get_config") else {}
    if sampled and type(instance).__name__ == "Adjoint":  # pragma: no cover - subclass of Adjoint
        raise ValueError("an adjoint differentiator cannot differentiate a sampled op.")
    return {"name": "custom", "class": registered, "config": dict(config), "instance": instance}


def _custom_from_spec(spec, sampled):
    from tfq_layers._keras import keras

    if spec.get("instance") is not None:
        return dict(spec)
    cls_name = spec.get("class")
    cls = keras.saving.get_registered_object(cls_name) if cls_name else None
    if cls is None:
        raise ValueError(
            f"the saved layer uses the custom differentiator {cls_name!r}, which is not "
            "registered in this process. Import the module that defines it (decorated with "
            "@keras.saving.register_keras_serializable()) before loading."
        )
    return _custom_spec(cls(**dict(spec.get("config") or {})), sampled)


def plain_spec(spec):
    """A JSON-able copy of a differentiator spec, for ``get_config``.

    Raises ``ValueError`` (at save time) for a user-written differentiator that is not registered,
    naming the fix.
    """
    if spec is None:
        return None
    if spec["name"] == "custom":
        if spec.get("class") is None:
            cls = type(spec["instance"]).__name__
            raise ValueError(
                f"this layer uses the custom differentiator {cls}, which cannot be saved by "
                f"name. Register it: decorate class {cls} with "
                "@keras.saving.register_keras_serializable() and give it a get_config() method "
                "(returning its constructor arguments), or save with a built-in differentiator."
            )
        return {
            "name": "custom",
            "class": str(spec["class"]),
            "config": {str(k): v for k, v in spec["config"].items()},
        }
    return {"name": str(spec["name"]), "config": {str(k): v for k, v in spec["config"].items()}}


def _make_differentiator(spec):
    if spec["name"] == "custom":
        diff = copy.copy(spec["instance"])
        diff.refresh()
        return diff
    tfq = import_tfq()
    return getattr(tfq.differentiators, _CLASS_OF[spec["name"]])(**spec["config"])


def has_channels(circuit):
    """Whether ``circuit`` contains a noise channel (an operation with no unitary)."""
    return any(
        not cirq.has_unitary(op) for op in circuit.all_operations() if not cirq.is_parameterized(op)
    )


# -- the backend ------------------------------------------------------------------------------------
class TFQBackend(Backend):
    """TFQ's qsim ops: CPU, quantum-data inputs, TFQ's differentiators.

    Gradients of expectations come from the differentiator (adjoint by default; parameter shift
    for sampled and noisy ops); probabilities are differentiable through Z-string expectations;
    ``state``, ``sample`` and ``unitary`` have no gradient (as in TFQ).
    """

    name = "tfq"
    gate_set = TFQ_GATES
    reads_quantum_data = True
    quantum_data_in_graph = True
    reads_operator_tensors = True
    differentiable_state = False
    supports_xla = False  # TFQ's kernels are CPU custom ops that XLA cannot compile

    def __init__(
        self,
        circuits,
        batched_names,
        shared_names,
        qubits,
        differentiator=None,
        trajectories=None,
        noisy=False,
    ):
        super().__init__(
            circuits, batched_names, shared_names, qubits, differentiator, trajectories, noisy
        )
        tfq = import_tfq()
        self._tfq = tfq
        self.noisy = bool(noisy) or any(has_channels(c) for c in self.circuits)
        if differentiator is not None and not isinstance(differentiator, dict):
            raise TypeError("TFQBackend takes a differentiator spec; use differentiator_spec().")
        self._diff_arg = differentiator
        # Serialized once; calls only gather/tile these strings. Identity on every register qubit
        # keeps observables on idle qubits valid for TFQ's ops.
        padded = [
            c + cirq.Circuit(cirq.I.on_each(*[q for q in self.qubits if q not in c.all_qubits()]))
            for c in self.circuits
        ]
        import tensorflow as tf

        with tf.init_scope():
            self._programs = tfq.convert_to_tensor(padded).numpy()
        self._empty = all(len(c) == 0 for c in self.circuits)
        self._names = np.array(self.batched_names + self.shared_names, dtype=object).astype(bytes)
        self._observables = {}
        self._data_checks = None
        self._eager_consts = {}
        self._ops = {}
        self._hadamard = None
        self._qubit_ids = None

    def differentiator_for(self, sampled=False):
        spec = self._diff_arg or differentiator_spec(None, sampled or self.noisy)
        return (
            plain_spec(spec)
            if spec["name"] != "custom"
            else {"name": "custom", "config": dict(spec["config"])}
        )

    # -- helpers --------------------------------------------------------------------------------
    def _op(self, kind):
        """The differentiable op of ``kind`` ("analytic", "sampled", "noisy", "noisy_sampled")."""
        op = self._ops.get(kind)
        if op is None:
            tfq = self._tfq
            sampled = kind != "analytic"
            spec = self._diff_arg
            if spec is None:
                spec = differentiator_spec(None, sampled)
            elif sampled and spec["name"] == "adjoint":
                raise ValueError(
                    "the adjoint differentiator needs exact, noiseless expectations; "
                    "this op is sampled or noisy. Use 'parameter_shift'."
                )
            diff = _make_differentiator(spec)
            if kind == "analytic":
                op = diff.generate_differentiable_op(analytic_op=tfq.get_expectation_op())
            elif kind == "sampled":
                op = diff.generate_differentiable_op(sampled_op=tfq.get_sampled_expectation_op())
            elif kind == "noisy":
                op = diff.generate_differentiable_op(sampled_op=tfq.noise.expectation)
            else:
                op = diff.generate_differentiable_op(sampled_op=tfq.noise.sampled_expectation)
            self._ops[kind] = op
        return op

    def _serialized_observables(self, observables):
        key = tuple(str(o) for o in observables)
        out = self._observables.get(key)
        if out is None:
            import tensorflow as tf

            with tf.init_scope():  # serialize eagerly, also when first called inside a graph
                out = self._tfq.convert_to_tensor([list(observables)]).numpy()
            self._observables[key] = out
        return out

    def _pauli(self, observables, batch):
        """TFQ's operator tensor ``(batch, n_ops)`` and ``n_ops``: serialized once from a list of
        PauliSums, or a string tensor of them passed through."""
        import tensorflow as tf

        if tf.is_tensor(observables):
            return observables, tf.shape(observables)[1]
        pauli = tf.tile(
            self._const(self._serialized_observables(observables)), tf.stack([batch, 1])
        )
        return pauli, len(observables)

    def _inputs(self, values, shared, index, data, repetitions=None, unitary=False):
        import tensorflow as tf

        batch = tf.shape(values)[0]
        if index is None:
            programs = tf.tile(self._const(self._programs, first=True), tf.reshape(batch, [1]))
        else:
            programs = tf.gather(self._const(self._programs), index)
        if data is not None:
            data = self._checked_data(data, repetitions, unitary)
            programs = data if self._empty else self._tfq.append_circuit(data, programs)
        symbol_values = values
        if self.shared_names:
            symbol_values = tf.concat(
                [values, tf.tile(tf.reshape(shared, [1, -1]), tf.stack([batch, 1]))], axis=1
            )
        return programs, self._const(self._names), symbol_values, batch

    def _const(self, array, first=False):
        """``tf.constant(array)`` (its first row with ``first``); called eagerly, the tensor is
        made once and kept (string constants cost a conversion each time)."""
        import tensorflow as tf

        if not tf.executing_eagerly():
            return tf.constant(array[:1] if first else array)
        key = (id(array), first)
        out = self._eager_consts.get(key)
        if out is None or out[0] is not array:
            out = (array, tf.constant(array[:1] if first else array))
            self._eager_consts[key] = out
        return out[1]

    def _checked_data(self, data, repetitions=None, unitary=False):
        """``data`` behind in-graph checks of what TFQ's ops would get wrong or report opaquely
        (:mod:`tfq_layers.backends.quantum_data`), of its register,
        and that it fits in memory."""
        import tensorflow as tf

        if self._data_checks is None:  # one traced check, shared by backends of one setting
            names = tuple(n.decode() for n in self._names)
            register = None if self._empty else tuple(self._register_ids())
            key = (self.noisy, self._empty, names, register)
            self._data_checks = _DATA_CHECKS.get(key)
            if self._data_checks is None:
                setting = dict(
                    noisy=self.noisy,
                    layer_names=None if self._empty else list(names),
                    register=None if register is None else list(register),
                )
                self._data_checks = _DATA_CHECKS[key] = CheckOnce(
                    functools.partial(
                        _data_check, names=list(names), qubits=self.qubits, **setting
                    ),
                    host=functools.partial(
                        quantum_data.host_passes,
                        value_names=list(names),
                        channel_ids=_CHANNEL_IDS,
                        **setting,
                    ),
                )
        data = self._data_checks(data)
        if self._empty:  # the data is the whole program: its own register sets the width
            width = None
            if tf.executing_eagerly() and hasattr(data, "numpy"):
                width = quantum_data.host_width(data.numpy().reshape(-1))
            if width is None:
                width = _data_width()(tf.reshape(data, [-1]))
        else:  # the data's qubits are among the layer's (checked above)
            width = self.n_qubits
        return memory.guard_data_width(data, width, self.n_qubits, repetitions, unitary)

    def _register_ids(self):
        """TFQ's ids of the layer's qubits (``"row_col"``, ``"x"``), sorted."""
        import tensorflow as tf

        if self._qubit_ids is None:
            with tf.init_scope():  # the register's ids as TFQ writes them, once
                register = self._tfq.convert_to_tensor([cirq.Circuit(cirq.I.on_each(self.qubits))])
                summary = quantum_data.host_summary(bytes(register.numpy()[0]))
                self._qubit_ids = sorted(summary[2])
        return self._qubit_ids

    def _trajectories(self):
        if self.trajectories is None:
            raise ValueError(
                "this circuit has noise channels, simulated by trajectories: pass "
                "repetitions=N (e.g. 1000) to set how many are averaged."
            )
        return int(self.trajectories)

    # -- operations -----------------------------------------------------------------------------
    def expectation(self, values, shared, observables, index=None, data=None, seed=None):
        import tensorflow as tf

        programs, names, sv, batch = self._inputs(values, shared, index, data)
        pauli, n_ops = self._pauli(observables, batch)
        if self.noisy:
            reps = tf.fill(tf.stack([batch, n_ops]), self._trajectories())
            return self._op("noisy")(programs, names, sv, pauli, reps)
        return self._op("analytic")(programs, names, sv, pauli)

    def sampled_expectation(
        self, values, shared, observables, repetitions, index=None, data=None, seed=None
    ):
        import tensorflow as tf

        programs, names, sv, batch = self._inputs(values, shared, index, data)
        pauli, n_ops = self._pauli(observables, batch)
        if tf.is_tensor(repetitions) and repetitions.shape.rank == 2:  # per (circuit, operator)
            reps = tf.cast(repetitions, tf.int32)
        else:
            reps = tf.fill(tf.stack([batch, n_ops]), tf.cast(repetitions, tf.int32))
        return self._op("noisy_sampled" if self.noisy else "sampled")(
            programs, names, sv, pauli, reps
        )

    def sample(self, values, shared, repetitions, index=None, data=None, seed=None):
        import tensorflow as tf

        values = self.guard_output(values, "sample", repetitions)
        programs, names, sv, _ = self._inputs(values, shared, index, data, repetitions)
        reps = tf.reshape(tf.cast(repetitions, tf.int32), [1])
        if self.noisy:
            out = self._tfq.noise.samples(programs, names, sv, reps)
        else:  # TFQ's raw op: padded with -2 where circuits of a batch differ in size
            from tensorflow_quantum.core.ops import tfq_simulate_ops

            out = tfq_simulate_ops.tfq_simulate_samples(programs, names, sv, reps)
        if isinstance(out, tf.RaggedTensor):
            out = out.to_tensor(default_value=-2)
        return tf.cast(out, tf.int32)

    def state(self, values, shared, index=None, data=None):
        if self.noisy:
            raise ValueError(
                "the TFQ backend computes states of noiseless circuits only; this "
                "circuit has noise channels. Use backend='statevector' (one random "
                "trajectory per example) or drop the channels."
            )
        from tensorflow_quantum.core.ops import tfq_simulate_ops

        programs, names, sv, _ = self._inputs(values, shared, index, data)
        return tfq_simulate_ops.tfq_simulate_state(programs, names, sv)  # -2 padded

    def probabilities(self, values, shared, index=None, seed=None):
        """Differentiable probabilities: ``<Z_S>`` of every qubit subset S, then the Hadamard
        transform (TFQ's state op has no gradient)."""
        import tensorflow as tf
        from scipy.linalg import hadamard

        n = self.n_qubits
        if self._hadamard is None:
            self._hadamard = (hadamard(2**n) / 2**n).astype(np.float32)
            self._z_strings = [
                cirq.PauliSum.from_pauli_strings([z_string(self.qubits, mask)])
                for mask in range(1, 2**n)
            ]
        z = self.expectation(values, shared, self._z_strings, index=index)
        z = tf.concat([tf.ones_like(z[:, :1]), z], axis=1)  # <I> = 1
        return tf.matmul(z, tf.constant(self._hadamard))  # H is symmetric

    def unitary(self, values, shared, index=None, data=None):
        if self.noisy:
            raise ValueError("a circuit with noise channels has no unitary; drop the channels.")
        from tensorflow_quantum.core.ops import tfq_unitary_op

        values = self.guard_output(values, "unitary")
        programs, names, sv, _ = self._inputs(values, shared, index, data, unitary=True)
        return tfq_unitary_op.OP_MODULE.tfq_calculate_unitary(programs, names, sv)  # -2 padded

    def memory_bytes(self, batch):
        runs = self.trajectories if self.noisy and self.trajectories else 1
        return memory.state_bytes(self.n_qubits, batch * runs) * memory.TFQ_STATES_KEPT


def _data_check(data, *, noisy, names, layer_names, register, qubits):
    """The quantum-data checks of one setting (:func:`quantum_data.checked`, with the register
    check when the layer has a circuit), as one function for :class:`CheckOnce`."""
    return quantum_data.checked(
        data,
        noisy=noisy,
        layer_names=layer_names,
        value_names=names,
        channel_ids=_CHANNEL_IDS,
        register=register,
        qubits=qubits,
    )


_WIDTH = []


def _data_width():
    """``f(data) -> int32``: how many distinct qubits the 1-D ``data``'s circuits act on; one
    traced function for every graph (and eager call) of the process."""
    if not _WIDTH:
        import tensorflow as tf

        def width(data):
            return tf.size(tf.unique(quantum_data.qubit_ids(data)).y)

        _WIDTH.append(tf.function(width, autograph=False, reduce_retracing=True))
    return _WIDTH[0]


def z_string(qubits, mask):
    """The Pauli string of Z on the qubits whose bit is set in ``mask`` (qubit 0 = the MSB)."""
    n = len(qubits)
    return cirq.PauliString({qubits[i]: cirq.Z for i in range(n) if (mask >> (n - 1 - i)) & 1})


__all__ = [
    "DIFFERENTIATOR_NAMES",
    "TFQBackend",
    "TFQ_CHANNELS",
    "TFQ_GATES",
    "differentiator_spec",
    "has_channels",
    "load_tfq_ops",
    "tfq_unavailable_reason",
    "plain_spec",
    "z_string",
]
