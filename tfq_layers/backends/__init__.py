"""Simulator backends behind one interface (:class:`~tfq_layers.backends.base.Backend`).

* ``"tfq"``: TensorFlow Quantum's qsim ops (CPU; quantum-data inputs; TFQ's differentiators).
* ``"statevector"``: a pure-TensorFlow batched simulator: any gate with a unitary, exact autodiff
  gradients (states and unitaries included, Hessians too), XLA- and GPU-ready, and SavedModels
  that load with TensorFlow alone.
* ``"auto"``: picks per layer with :func:`choose_backend`, among the backends available here.

TFQ's own names are accepted too: ``"noiseless"`` and ``"noisy"`` (TFQ's ``backend`` argument)
mean ``"tfq"``. Importing this package (or :mod:`.statevector`) does not import TFQ.

Which backends can run here: :data:`REGISTRY` maps each name to a :class:`BackendInfo`
(``is_available()``, ``why_not()``, ``backend_class()``). TensorFlow Quantum is optional: where it
is not installed, or its op libraries do not load against the installed TensorFlow, asking for
``backend="tfq"`` raises :class:`~tfq_layers.errors.BackendUnavailableError` when the layer is
built, and ``"auto"`` takes the statevector backend.
"""

import numbers
import platform
import sys

from tfq_layers.backends.base import OPERATIONS, Backend, GateSet
from tfq_layers.backends.tfq_backend import (
    DIFFERENTIATOR_NAMES,
    DIFFERENTIATORS,
    TFQ_GATES,
    check_saved_differentiator,
    differentiator_spec,
    has_channels,
    load_tfq_ops,
    plain_spec,
    tfq_unavailable_reason,
)
from tfq_layers.errors import BackendUnavailableError

BACKENDS = ("auto", "tfq", "statevector")
TFQ_NAMES = {"noiseless": "tfq", "noisy": "tfq"}


class BackendInfo:
    """One simulator backend in :data:`REGISTRY`: where its class lives and whether it runs here.

    Args:
        name: the backend's name (``"tfq"``, ``"statevector"``).
        module: the module that defines its class (imported on demand).
        class_name: the :class:`Backend` subclass in ``module``.
        probe: ``f() -> None`` when the backend can run here, else a sentence saying why not
            (called once; the answer is cached).
        fix: what to do when it cannot run, for the error message.
    """

    def __init__(self, name, module, class_name, probe=None, fix=""):
        self.name = name
        self.module = module
        self.class_name = class_name
        self._probe = probe
        self.fix = fix
        self._checked = False
        self._reason = None

    def why_not(self):
        """``None`` if the backend can run here, else the reason (a sentence)."""
        if not self._checked:
            self._reason = None if self._probe is None else self._probe()
            self._checked = True
        return self._reason

    def is_available(self):
        return self.why_not() is None

    def backend_class(self):
        import importlib

        return getattr(importlib.import_module(self.module), self.class_name)

    def require(self):
        """Raise :class:`BackendUnavailableError` (reason, this platform, the fix) unless the
        backend can run here."""
        if not self.is_available():
            raise self.unavailable_error()

    def unavailable_error(self, prefix=""):
        """The :class:`BackendUnavailableError` that :meth:`require` raises."""
        reason = self.why_not() or "it is not available."
        return BackendUnavailableError(
            f"{prefix}backend={self.name!r} cannot run here: {reason} This machine: "
            f"{_platform()}. {self.fix}"
        )

    def __repr__(self):
        return f"BackendInfo({self.name!r}, available={self.is_available()})"


def _platform():
    import tensorflow as tf

    return (
        f"{platform.system()} {platform.machine()}, Python {sys.version_info[0]}."
        f"{sys.version_info[1]}, TensorFlow {tf.__version__}"
    )


#: Every simulator backend, by name. ``"statevector"`` needs TensorFlow alone; ``"tfq"`` needs
#: TensorFlow Quantum with op libraries that load against the installed TensorFlow.
REGISTRY = {
    "tfq": BackendInfo(
        "tfq",
        "tfq_layers.backends.tfq_backend",
        "TFQBackend",
        tfq_unavailable_reason,
        fix="TensorFlow Quantum 0.7.6 runs on Linux x86_64 with Python 3.10-3.12 and "
        "TensorFlow 2.18: there, pip install 'tfq-layers[tfq]'. Everywhere else use "
        "backend='statevector' (or 'auto'), which needs no TFQ.",
    ),
    "statevector": BackendInfo(
        "statevector", "tfq_layers.backends.statevector_backend", "StatevectorBackend"
    ),
}


def is_available(name):
    """Whether backend ``name`` (``"tfq"``, ``"statevector"``) can run here."""
    return _info(name).is_available()


def why_not(name):
    """``None`` if backend ``name`` can run here, else the reason."""
    return _info(name).why_not()


def available_backends():
    """The names of the backends that can run here, in :data:`REGISTRY` order."""
    return tuple(name for name, info in REGISTRY.items() if info.is_available())


def require(name):
    """Raise :class:`~tfq_layers.errors.BackendUnavailableError` unless backend ``name`` can run
    here (``"auto"`` always can)."""
    if isinstance(name, str) and name != "auto":  # a Cirq object runs wherever Cirq does
        _info(name).require()


def require_differentiator(differentiator, available=None):
    """Raise :class:`~tfq_layers.errors.BackendUnavailableError` if a ``differentiator`` is given
    (only TFQ's backend applies one) but TFQ cannot run here (``"tfq"`` not in ``available``,
    default :func:`available_backends`)."""
    if differentiator is None:
        return
    if "tfq" not in (available_backends() if available is None else available):
        raise REGISTRY["tfq"].unavailable_error(
            "differentiator= applies to TFQ's backend only (the statevector backend "
            "differentiates exactly by autodiff: drop differentiator), and "
        )


def _info(name):
    if name not in REGISTRY:
        raise ValueError(f"backend must be one of {BACKENDS}; got {name!r}.")
    return REGISTRY[name]


def backend_class(name):
    """The :class:`Backend` subclass for ``"tfq"`` or ``"statevector"`` (imported on demand), or
    for a Cirq simulator/sampler object (a subclass bound to it; ``"cirq"``: the unbound class)."""
    if not isinstance(name, str) or name == "cirq":
        from tfq_layers.backends.cirq_backend import CirqBackend

        return CirqBackend if name == "cirq" else CirqBackend.bound(name)
    return _info(name).backend_class()


def gate_set(name):
    """The :class:`GateSet` of backend ``name``; ``None`` for ``"auto"`` (decided later)."""
    if name == "tfq":
        return TFQ_GATES
    if name == "statevector":
        from tfq_layers.backends.statevector_backend import STATEVECTOR_GATES

        return STATEVECTOR_GATES
    if name is not None and not isinstance(name, str):  # a Cirq object
        from tfq_layers.backends.cirq_backend import CIRQ_GATES

        return CIRQ_GATES
    return None


def normalize_name(backend):
    """``backend`` as one of :data:`BACKENDS` (TFQ's ``'noiseless'``/``'noisy'`` and ``None``
    accepted), a Cirq simulator/sampler object as it is (a saved one, see :func:`request_config`,
    rebuilt), or a ``ValueError`` that lists the choices."""
    from tfq_layers.backends import cirq_backend

    if backend is None:
        return "auto"
    if cirq_backend.is_cirq_backend(backend):
        return backend
    if cirq_backend.is_config(backend):
        return cirq_backend.from_config(backend)
    if isinstance(backend, str):
        backend = TFQ_NAMES.get(backend, backend)
        if backend in BACKENDS:
            return backend
    raise ValueError(
        f"backend must be one of {list(BACKENDS)} (or TFQ's 'noiseless'/'noisy'), or a "
        f"cirq.Sampler / cirq.SimulatesExpectationValues object; got {backend!r}."
    )


def request_config(backend):
    """A normalized backend request as a layer's config saves it: the name, or for a Cirq object
    a description (:func:`.cirq_backend.to_config`; a ``ValueError`` for one that cannot be saved)."""
    if isinstance(backend, str) or backend is None:
        return backend
    from tfq_layers.backends import cirq_backend

    return cirq_backend.to_config(backend)


# Above this many distinct circuits in one program, "auto" takes TFQ: its op runs any batch of
# different circuits in one call, while the statevector backend compiles one simulator per
# distinct circuit (BENCHMARKS.md, "Many different circuits in one call").
STATEVECTOR_MAX_CIRCUITS = 4

# Measured crossovers: for each kind of simulation, the largest qubit count up to which the
# statevector backend may be taken (``None``: it was faster than TFQ at every point measured, so it
# is taken as long as its memory estimate fits).
CROSSOVERS = {"exact": None, "shots": None, "noisy": None}


def crossover_table():
    """The measured crossovers ``auto`` follows: ``{kind: largest n for the statevector backend}``.

    How it was measured: ``make bench-crossovers`` (``python -m benchmarks.crossovers``) times a
    PQC layer with ``backend="tfq"`` and ``backend="statevector"`` on the benchmark workload
    (``benchmarks/workload.py``), one step = forward + gradient, interleaved in one process (a
    fresh process per point from 20 qubits), over qubits 4-22 (24 in issue #13's measurement),
    depth 1-4 layers, batch 1-32, and for ``"shots"`` (``repetitions`` on a noiseless circuit:
    TFQ's sampled op with parameter shift) and ``"noisy"`` (depolarizing channels, trajectories:
    TFQ's noisy op) 4-12 qubits, 100-1000 repetitions; 2026-11-29, a shared 2-core machine.
    The statevector backend was faster at every point (exact 2.4-12x, shots 7.6-1200x, noisy
    14-89x). Results and the machine: BENCHMARKS.md, "Crossovers". Re-measure with
    ``make bench-crossovers`` and update :data:`CROSSOVERS` when a point changes side.

    Kinds: ``"exact"`` analytic expectations, ``"shots"`` sampled expectations of a noiseless
    circuit, ``"noisy"`` circuits with noise channels (trajectories).
    """
    return dict(CROSSOVERS)


def _fits_statevector(n_qubits, batch, noisy, have):
    """Whether the statevector backend's memory estimate (:mod:`.memory`) fits in ``have`` bytes.

    A noiseless circuit is estimated with the adjoint gradient, which the simulator uses from 20
    qubits on (below that every register fits anyway); a noisy one with autodiff."""
    from tfq_layers.backends import memory

    need = memory.statevector_bytes(n_qubits, batch, gradient="autodiff" if noisy else "adjoint")
    return have is None or need <= have


def choose_backend(
    n_qubits,
    quantum_data=False,
    differentiator=None,
    repetitions=None,
    noisy=False,
    n_circuits=1,
    batch=1,
    memory_bytes=None,
    available=None,
):
    """The backend ``"auto"`` resolves to, among the ``available`` ones.

    TFQ where only TFQ can, or where it is installed and the layer takes quantum data (TFQ reads
    serialized circuits in the graph; the statevector backend decodes them on the host), a
    TFQ differentiator was asked for, or the statevector backend's memory estimate for ``batch``
    examples does not fit in ``memory_bytes`` (default: this machine's physical memory) while
    TFQ's smaller one may (TFQ's own check then names the bytes if it does not fit either). Also
    TFQ for more than ``STATEVECTOR_MAX_CIRCUITS`` distinct circuits in one batch. Otherwise the
    measured crossover table (:func:`crossover_table`) decides by kind (exact, shots, noisy) and
    qubit count; depth and batch did not move any crossover in the measured range.

    ``batch`` is 1 when the batch is unknown (a layer chooses when it is built, before it sees
    data): the memory rule then asks whether one example fits.

    Where TFQ cannot run (``"tfq"`` not in ``available``, default :func:`available_backends`),
    every rule above that would take TFQ takes the statevector backend instead, except a TFQ
    differentiator, which only TFQ applies: that raises
    :class:`~tfq_layers.errors.BackendUnavailableError`.
    """
    for what, value, low in (
        ("n_qubits", n_qubits, 0),
        ("n_circuits", n_circuits, 1),
        ("batch", batch, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"choose_backend: `{what}` must be an int >= {low}; got {value!r}.")
    if available is not None:
        if isinstance(available, str) or not all(isinstance(a, str) for a in available):
            raise ValueError(
                "choose_backend: `available` must be a tuple of backend names, e.g. "
                f"('statevector',); got {available!r}."
            )
        unknown = sorted(set(available) - set(REGISTRY))
        if unknown:
            raise ValueError(
                f"choose_backend: `available` names unknown backend(s) {unknown}; the backends "
                f"are {list(REGISTRY)}."
            )
    name = _preferred_backend(
        n_qubits, quantum_data, differentiator, repetitions, noisy, n_circuits, batch, memory_bytes
    )
    if name == "tfq" and "tfq" not in (available_backends() if available is None else available):
        require_differentiator(differentiator, available)
        return "statevector"
    return name


def _preferred_backend(
    n_qubits, quantum_data, differentiator, repetitions, noisy, n_circuits, batch, memory_bytes
):
    """:func:`choose_backend`'s rules, as if every backend were installed."""
    from tfq_layers.backends import memory

    if quantum_data or differentiator is not None or n_circuits > STATEVECTOR_MAX_CIRCUITS:
        return "tfq"
    have = memory.physical_memory_bytes() if memory_bytes is None else memory_bytes
    if not _fits_statevector(n_qubits, batch, noisy, have):
        return "tfq"
    kind = "noisy" if noisy else ("shots" if repetitions else "exact")
    limit = CROSSOVERS[kind]
    if limit is not None and n_qubits > limit:
        return "tfq"
    return "statevector"


def make_backend(
    name, program, batched_names, shared_names, differentiator=None, trajectories=None, noisy=False
):
    """Build backend ``name`` for a compiled :class:`~tfq_layers.program.Program`.

    The first one built in a process that compiles with XLA starts XLA with its start-up lines
    filtered (:func:`tfq_layers._quiet.quiet_xla_start`): the import of the package leaves
    TensorFlow's runtime alone, so ``tf.config`` calls after it still work."""
    from tfq_layers._quiet import quiet_xla_start

    cls = backend_class(name)
    if cls.supports_xla:  # TFQ's and Cirq's backends never compile with XLA
        quiet_xla_start()
    return cls(
        program.compiled_circuits,
        batched_names,
        shared_names,
        program.qubits,
        differentiator=differentiator,
        trajectories=trajectories,
        noisy=noisy,
    )


__all__ = [
    "BACKENDS",
    "REGISTRY",
    "BackendInfo",
    "available_backends",
    "is_available",
    "require",
    "require_differentiator",
    "why_not",
    "CROSSOVERS",
    "DIFFERENTIATORS",
    "DIFFERENTIATOR_NAMES",
    "OPERATIONS",
    "STATEVECTOR_MAX_CIRCUITS",
    "Backend",
    "check_saved_differentiator",
    "crossover_table",
    "GateSet",
    "backend_class",
    "choose_backend",
    "differentiator_spec",
    "gate_set",
    "has_channels",
    "load_tfq_ops",
    "make_backend",
    "normalize_name",
    "plain_spec",
    "request_config",
]
