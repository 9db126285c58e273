"""Simulator backends behind one interface (:class:`~tfq_layers.backends.base.Backend`).

* ``"tfq"``: TensorFlow Quantum's qsim ops (CPU; quantum-data inputs; TFQ's differentiators).
* ``"statevector"``: a pure-TensorFlow batched simulator: any gate with a unitary, exact autodiff
  gradients (states and unitaries included, Hessians too), XLA- and GPU-ready, and SavedModels
  that load with TensorFlow alone.
* ``"auto"``: picks per layer with :func:`choose_backend`.

TFQ's own names are accepted too: ``"noiseless"`` and ``"noisy"`` (TFQ's ``backend`` argument)
mean ``"tfq"``. Importing this package (or :mod:`.statevector`) does not import TFQ.
"""
from tfq_layers.backends.base import OPERATIONS, Backend, GateSet
from tfq_layers.backends.tfq_backend import (DIFFERENTIATOR_NAMES, DIFFERENTIATORS, TFQ_GATES,
                                             differentiator_spec, has_channels, load_tfq_ops,
                                             plain_spec)

BACKENDS = ("auto", "tfq", "statevector")
TFQ_NAMES = {"noiseless": "tfq", "noisy": "tfq"}
# Measured crossover (BENCHMARKS.md): the statevector backend was faster than TFQ's op at every
# size measured (4 to 20 qubits); above 20 qubits we have no measurement, so "auto" keeps TFQ.
STATEVECTOR_MAX_QUBITS = 20


def backend_class(name):
    """The :class:`Backend` subclass for ``"tfq"`` or ``"statevector"`` (imported on demand)."""
    if name == "tfq":
        from tfq_layers.backends.tfq_backend import TFQBackend
        return TFQBackend
    if name == "statevector":
        from tfq_layers.backends.statevector_backend import StatevectorBackend
        return StatevectorBackend
    raise ValueError(f"backend must be one of {BACKENDS}; got {name!r}.")


def gate_set(name):
    """The :class:`GateSet` of backend ``name``; ``None`` for ``"auto"`` (decided later)."""
    if name == "tfq":
        return TFQ_GATES
    if name == "statevector":
        from tfq_layers.backends.statevector_backend import STATEVECTOR_GATES
        return STATEVECTOR_GATES
    return None


def normalize_name(backend):
    """``backend`` as one of :data:`BACKENDS` (TFQ's ``'noiseless'``/``'noisy'`` and ``None``
    accepted), or a ``ValueError`` that lists the choices."""
    if backend is None:
        return "auto"
    if isinstance(backend, str):
        backend = TFQ_NAMES.get(backend, backend)
        if backend in BACKENDS:
            return backend
    raise ValueError(f"backend must be one of {list(BACKENDS)} (or TFQ's 'noiseless'/'noisy'); "
                     f"got {backend!r}.")


# Above this many distinct circuits in one program, "auto" takes TFQ: its op runs any batch of
# different circuits in one call, while the statevector backend compiles one simulator per
# distinct circuit.
STATEVECTOR_MAX_CIRCUITS = 4


def choose_backend(n_qubits, quantum_data=False, differentiator=None, repetitions=None,
                   noisy=False, n_circuits=1):
    """The backend ``"auto"`` resolves to.

    TFQ when the layer takes quantum data (serialized circuits only TFQ can read), when a TFQ
    differentiator was asked for, for sampled expectations of a noiseless circuit (TFQ samples
    shots and differentiates them by parameter shift, as on hardware), for more than
    ``STATEVECTOR_MAX_CIRCUITS`` distinct circuits in one batch, or above
    ``STATEVECTOR_MAX_QUBITS``; the statevector backend otherwise.
    """
    if quantum_data or differentiator is not None or (repetitions and not noisy) or \
            n_qubits > STATEVECTOR_MAX_QUBITS or n_circuits > STATEVECTOR_MAX_CIRCUITS:
        return "tfq"
    return "statevector"


def make_backend(name, program, batched_names, shared_names, differentiator=None,
                 trajectories=None, noisy=False):
    """Build backend ``name`` for a compiled :class:`~tfq_layers.program.Program`."""
    return backend_class(name)(program.compiled_circuits, batched_names, shared_names,
                               program.qubits, differentiator=differentiator,
                               trajectories=trajectories, noisy=noisy)


__all__ = ["BACKENDS", "DIFFERENTIATORS", "DIFFERENTIATOR_NAMES", "OPERATIONS",
           "STATEVECTOR_MAX_CIRCUITS", "STATEVECTOR_MAX_QUBITS", "Backend", "GateSet", "backend_class", "choose_backend",
           "differentiator_spec", "gate_set", "has_channels", "load_tfq_ops", "make_backend",
           "normalize_name", "plain_spec"]
