"""The one place that talks to TensorFlow Quantum's ops.

The circuit is serialized once, when the backend is built; every call tiles it (and the observables)
to the batch and runs one TFQ op over the whole batch.
"""
import importlib
import pkgutil

import cirq
import numpy as np
import tensorflow as tf
import tensorflow_quantum as tfq
from tensorflow_quantum.core.ops import load_module as _tfq_load_module

DIFFERENTIATORS = {
    "adjoint": tfq.differentiators.Adjoint,
    "parameter_shift": tfq.differentiators.ParameterShift,
    "finite_difference": tfq.differentiators.CentralDifference,
    "central_difference": tfq.differentiators.CentralDifference,
    "forward_difference": tfq.differentiators.ForwardDifference,
}
_CLASS_NAMES = {
    "Adjoint": "adjoint", "ParameterShift": "parameter_shift",
    "CentralDifference": "central_difference", "ForwardDifference": "forward_difference",
}

_OPS_LOADED = False


def load_tfq_ops():
    """Load every TFQ op library now.

    TFQ 0.7.6 loads its kernels lazily, on first use from Python. A SavedModel that contains TFQ ops
    needs them registered *before* ``tf.saved_model.load``; importing ``tfq_layers`` calls this, so a
    fresh process that imports ``tfq_layers`` reloads such exports without further ado.
    """
    global _OPS_LOADED
    if _OPS_LOADED:
        return
    import tensorflow_quantum.core.ops as ops_pkg
    for info in pkgutil.walk_packages(ops_pkg.__path__, ops_pkg.__name__ + "."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # pragma: no cover - optional pieces of TFQ
            continue
        for value in vars(module).values():
            if isinstance(value, _tfq_load_module._LazyLoader):
                value._load()
    _OPS_LOADED = True


def differentiator_spec(differentiator, sampled):
    """Normalize a differentiator argument into a JSON-able spec ``{"name": ..., "config": {...}}``.

    Args:
        differentiator: ``None`` (adjoint, or parameter shift when ``sampled``), a name from
            ``DIFFERENTIATORS``, a ``tfq.differentiators`` instance, or a spec dict.
        sampled: whether the op is a sampled-expectation op (``repetitions`` was given).
    """
    if differentiator is None:
        return {"name": "parameter_shift" if sampled else "adjoint", "config": {}}
    if isinstance(differentiator, dict):
        name, config = differentiator.get("name"), dict(differentiator.get("config") or {})
    elif isinstance(differentiator, str):
        name, config = differentiator, {}
    elif isinstance(differentiator, tfq.differentiators.Differentiator):
        cls = type(differentiator).__name__
        name = _CLASS_NAMES.get(cls)
        config = {}
        if name is None:
            raise ValueError(
                f"differentiator {cls} cannot be saved by name; use one of "
                f"{sorted(DIFFERENTIATORS)} (or an instance of Adjoint, ParameterShift, "
                "CentralDifference, ForwardDifference).")
        if name == "forward_difference":
            config = {"error_order": int(differentiator.error_order),
                      "grid_spacing": float(differentiator.grid_spacing)}
        elif name == "central_difference":
            pert = np.asarray(differentiator.perturbations)
            positive = pert[pert > 0]
            config = {"error_order": int(2 * positive.size),
                      "grid_spacing": float(f"{positive.min():.7g}")}
    else:
        raise TypeError(
            f"differentiator must be None, a name ({sorted(DIFFERENTIATORS)}) or a "
            f"tfq.differentiators instance; got {differentiator!r}.")
    if name not in DIFFERENTIATORS:
        raise ValueError(f"unknown differentiator {name!r}; choose one of {sorted(DIFFERENTIATORS)}.")
    if sampled and name == "adjoint":
        raise ValueError("the adjoint differentiator needs exact expectations, but repetitions "
                         "was given (sampled expectations). Use differentiator='parameter_shift' "
                         "or drop repetitions.")
    return {"name": name, "config": config}


def has_channels(circuit):
    """Whether ``circuit`` contains a noise channel (an operation with no unitary)."""
    return any(not cirq.has_unitary(op) for op in circuit.all_operations()
               if not cirq.is_parameterized(op))


class TFQExpectation:
    """Batched expectation values of one compiled circuit through TFQ's qsim ops.

    Args:
        compiled_circuit: ``cirq.Circuit`` whose parameters are numbers or bare placeholder symbols.
        placeholder_names: names of those placeholders, in the column order of ``symbol_values``.
        observables: list of ``cirq.PauliSum``.
        differentiator: spec from :func:`differentiator_spec`.
        repetitions: ``None`` for exact expectations, else shots per observable. For a circuit
            with noise channels it is the number of quantum trajectories averaged (required).
    """

    def __init__(self, compiled_circuit, placeholder_names, observables, differentiator,
                 repetitions=None):
        spec = differentiator_spec(differentiator, repetitions is not None)
        self.spec = spec
        self.repetitions = repetitions
        self.n_observables = len(observables)
        # Serialized once; call() only tiles these strings.
        self._program = tfq.convert_to_tensor([compiled_circuit]).numpy()
        self._observables = tfq.convert_to_tensor([observables]).numpy()
        self._names = np.array(placeholder_names, dtype=object).astype(bytes)
        diff = DIFFERENTIATORS[spec["name"]](**spec["config"])
        self.noisy = has_channels(compiled_circuit)
        if self.noisy:
            # Trajectories: each of `repetitions` runs samples one Kraus branch per channel.
            self._op = diff.generate_differentiable_op(sampled_op=tfq.noise.expectation)
        elif repetitions is None:
            self._op = diff.generate_differentiable_op(analytic_op=tfq.get_expectation_op())
        else:
            self._op = diff.generate_differentiable_op(
                sampled_op=tfq.get_sampled_expectation_op())

    def __call__(self, symbol_values, circuits=None):
        """Expectations ``(batch, n_observables)`` float32.

        Args:
            symbol_values: ``(batch, n_placeholders)`` float32.
            circuits: optional ``(batch,)`` tf.string of serialized circuits (quantum data) that the
                model circuit is appended to.
        """
        batch = tf.shape(symbol_values)[0]
        programs = tf.tile(tf.constant(self._program), tf.reshape(batch, [1]))
        if circuits is not None:
            programs = tfq.append_circuit(circuits, programs)
        pauli = tf.tile(tf.constant(self._observables), tf.stack([batch, 1]))
        names = tf.constant(self._names, dtype=tf.string)
        if self.repetitions is None:
            return self._op(programs, names, symbol_values, pauli)
        shots = tf.fill(tf.stack([batch, self.n_observables]), tf.constant(self.repetitions,
                                                                           tf.int32))
        return self._op(programs, names, symbol_values, pauli, shots)
