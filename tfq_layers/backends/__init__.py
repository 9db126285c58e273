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
from tfq_layers.backends.tfq_backend import (
    DIFFERENTIATOR_NAMES,
    DIFFERENTIATORS,
    TFQ_GATES,
    differentiator_spec,
    has_channels,
    load_tfq_ops,
    plain_spec,
)

BACKENDS = ("auto", "tfq", "statevector")
TFQ_NAMES = {"noiseless": "tfq", "noisy": "tfq"}


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
    raise ValueError(
        f"backend must be one of {list(BACKENDS)} (or TFQ's 'noiseless'/'noisy'); got {backend!r}."
    )


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


def tfq_installed():
    """Whether TensorFlow Quantum can be imported (found without importing it)."""
    import importlib.util

    return importlib.util.find_spec("tensorflow_quantum") is not None


def choose_backend(
    n_qubits,
    quantum_data=False,
    differentiator=None,
    repetitions=None,
    noisy=False,
    n_circuits=1,
    batch=1,
    memory_bytes=None,
):
    """The backend ``"auto"`` resolves to.

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
    """
    from tfq_layers.backends import memory

    if quantum_data and tfq_installed():
        return "tfq"
    if differentiator is not None or n_circuits > STATEVECTOR_MAX_CIRCUITS:
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
    """Build backend ``name`` for a compiled :class:`~tfq_layers.program.Program`."""
    return backend_class(name)(
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
    "CROSSOVERS",
    "DIFFERENTIATORS",
    "DIFFERENTIATOR_NAMES",
    "OPERATIONS",
    "STATEVECTOR_MAX_CIRCUITS",
    "Backend",
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
]
