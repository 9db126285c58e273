"""The one home of memory rules: how many bytes a simulation needs, and the guards that refuse a
register or a batch that cannot fit before anything is allocated.

Every backend and layer asks this module; none keeps its own arithmetic.
"""

import numbers
import os

# Bytes per amplitude (complex64).
BYTES_PER_AMPLITUDE = 8
# State vectors a TFQ-style adjoint simulation keeps alive per example (state, co-state, scratch).
TFQ_STATES_KEPT = 4


def physical_memory_bytes():
    """Total physical memory of this machine, or ``None`` when it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return None


def state_bytes(n_qubits, batch=1):
    """Bytes of ``batch`` complex64 state vectors on ``n_qubits`` qubits."""
    return BYTES_PER_AMPLITUDE * (2 ** int(n_qubits)) * max(int(batch), 1)


# The adjoint gradient of the statevector backend runs *lean* when the batch's states exceed
# LEAN_STATE_BYTES: in chunks of as many examples as fit in it (at least one), one chunk after the
# other, each chunk's forward pass recomputed in the backward pass, so only a few states of one
# chunk are alive at any time (at 24 qubits, batch 2: one example's 128 MiB at a time).
LEAN_STATE_BYTES = 2**27
# Otherwise the adjoint sweep keeps the input states of up to CHECKPOINT_STATES steps from the
# forward pass instead of un-computing them (one GEMM and one transpose each), as many as fit in
# CHECKPOINT_BYTES (`checkpoint_states`), on registers whose single state is at most a quarter of
# LEAN_STATE_BYTES (up to 22 qubits). Either way the number of states alive is bounded by a constant, not by the depth of
# the circuit.
CHECKPOINT_STATES = 16
CHECKPOINT_BYTES = 2**30


def adjoint_chunk(n_qubits):
    """Examples per chunk of the lean adjoint gradient (the whole batch runs at once up to this)."""
    return max(1, LEAN_STATE_BYTES // state_bytes(n_qubits, 1))


def checkpoint_states(n_qubits, n_candidates, batch=None):
    """How many step inputs the adjoint sweep keeps from the forward pass: as many of
    ``n_candidates`` (at most CHECKPOINT_STATES) as fit in CHECKPOINT_BYTES for ``batch`` examples
    (None, a batch unknown while tracing: the largest batch that runs without chunks); none on
    registers whose single state exceeds a quarter of LEAN_STATE_BYTES."""
    one = state_bytes(n_qubits, 1)
    if 4 * one > LEAN_STATE_BYTES:
        return 0
    chunk = adjoint_chunk(n_qubits)
    b = chunk if batch is None else min(max(int(batch), 1), chunk)
    return max(0, min(int(n_candidates), CHECKPOINT_STATES, CHECKPOINT_BYTES // (b * one)))


def statevector_bytes(n_qubits, batch, n_steps=None, gradient="autodiff"):
    """Rough peak bytes of simulating (and differentiating) a batch on the statevector backend.

    The forward pass needs a few states of the batch; autodiff keeps the input of every fused step
    for the backward pass; the adjoint method un-computes the steps one op at a time, with at most
    three states alive in its sweep (state, co-state, one result) plus the readout's, and keeps
    the inputs of up to CHECKPOINT_STATES steps when they fit in CHECKPOINT_BYTES
    (`checkpoint_states`). A batch larger than `adjoint_chunk` runs its expectations in chunks,
    with less memory than this estimate, which stays the guard's conservative bound.

    Args:
        n_qubits: number of qubits.
        batch: batch size (times the number of trajectories for noisy circuits).
        n_steps: number of fused simulation steps; defaults to ``2 * n_qubits`` when unknown.
        gradient: ``"autodiff"``, ``"adjoint"`` or ``"none"`` (forward only).

    Calibration (TF allocator peak of a PQC layer's training step, graph mode, reference workload):
    16 qubits, batch 32, 21 steps: autodiff 382 MiB (estimate 416); adjoint (the large-register
    plan): 20 qubits, batch 8: 236 MiB (320); 22 qubits, batch 4: 538 MiB (640); 24 qubits,
    batch 2: 787 MiB (1280).

    Example:
        >>> statevector_bytes(16, 32) / 2**20  # MiB
        592.0
    """
    state = state_bytes(n_qubits, batch)
    if n_steps is None:
        n_steps = 2 * int(n_qubits)
    if gradient == "none":
        return 3 * state
    if gradient == "adjoint":
        # Not lowered for the lean chunks: states, probabilities and samples of the whole batch
        # are outputs, and a batch refused here would take hours in chunks anyway.
        return (5 + checkpoint_states(n_qubits, n_steps, batch)) * state
    return (int(n_steps) + 5) * state


def check_register(n_qubits, batch=1, states_kept=TFQ_STATES_KEPT, what="this circuit"):
    """Raise ``MemoryError`` naming qubits, batch and bytes when the state cannot fit in memory.

    Nothing is allocated: the check is arithmetic on ``2**n_qubits`` amplitudes.
    """
    need = state_bytes(n_qubits, batch) * states_kept
    have = physical_memory_bytes()
    if have is not None and need > have:
        raise MemoryError(
            f"{what} acts on {n_qubits} qubits: simulating a batch of {batch} needs about "
            f"{need / 2**30:.1f} GiB of state ({states_kept} complex64 vectors of 2**{n_qubits} "
            f"amplitudes each), but this machine has {have / 2**30:.1f} GiB. Use fewer qubits "
            "or a smaller batch."
        )
    return need


# Under XLA an unknown batch cannot be checked at run time; registers where fewer examples than
# this fit in memory are refused at trace time instead (below it, e.g. up to 16 qubits on a
# 24 GiB machine, any batch a program can hold in memory as features fits).
XLA_UNCHECKED_BATCH = 2**16


def _in_xla():
    # lazy: TensorFlow, imported only when a guard is built (this module is arithmetic)
    from tfq_layers._xla import in_xla

    return in_xla()


def guard_batch(values, bytes_for_batch, n_qubits, output="state vectors", fix=None):
    """Refuse a batch whose states cannot fit in memory, before any state is allocated.

    Args:
        values: ``(batch, ...)`` tensor whose leading dimension is the batch.
        bytes_for_batch: ``f(batch) -> bytes`` for this simulation.
        n_qubits: for the message.
        output: what takes the memory, for the message.
        fix: what to change besides the batch size, for the message.

    Returns:
        ``values`` (behind an assertion when the batch is only known at run time).
    """
    import tensorflow as tf

    have = physical_memory_bytes()
    if have is None:
        return values
    batch = values.shape[0]
    if batch is not None:  # known now: refuse in Python
        need = bytes_for_batch(batch)
        if need > have:
            raise MemoryError(
                f"simulating a batch of {batch} on {n_qubits} qubits needs about "
                f"{need / 2**30:.1f} GiB of {output}, but this machine has "
                f"{have / 2**30:.1f} GiB. Use a smaller batch_size or {fix or 'fewer qubits'}."
            )
        return values
    per_sample = bytes_for_batch(1)
    if per_sample > have:  # not even one example fits: refuse whatever the batch
        raise MemoryError(
            f"one example on {n_qubits} qubits needs about {per_sample / 2**30:.1f} GiB of "
            f"{output}, but this machine has {have / 2**30:.1f} GiB. Use "
            f"{fix or 'fewer qubits'}."
        )
    max_batch = max(1, have // max(per_sample, 1))
    if max_batch < XLA_UNCHECKED_BATCH and _in_xla():
        # XLA drops runtime assertions ("Ignoring Assert operator"): a batch that is unknown
        # while tracing could not be checked, and XLA would try to allocate whatever it gets.
        raise MemoryError(
            f"this layer simulates {n_qubits} qubits: each example needs about "
            f"{per_sample / 2**20:.1f} MiB of {output} and at most {max_batch} fit in "
            f"{have / 2**30:.1f} GiB, but under jit_compile=True (XLA) the batch size is unknown "
            "when the function is traced and XLA drops the run-time check. Give the batch size a "
            "fixed value (keras.Input(shape, batch_size=B), or a tf.function input_signature "
            "with a fixed first dimension), or compile without jit_compile."
        )
    check = tf.debugging.assert_less_equal(
        tf.shape(values)[0],
        tf.constant(int(min(max_batch, 2**31 - 1)), tf.int32),
        message=f"batch too large for memory: each sample on {n_qubits} qubits needs about "
        f"{per_sample / 2**20:.1f} MiB of {output}, at most {max_batch} fit in "
        f"{have / 2**30:.1f} GiB; use a smaller batch_size or {fix or 'fewer qubits'}",
    )
    with tf.control_dependencies([check]):
        return tf.identity(values)


# TFQ's ops count shots in int32; no backend takes more shots per example than this. A larger
# count would wrap around (2**32 + 3 shots ran as 3) if it reached an op.
MAX_REPETITIONS = 2**31 - 1


def check_repetitions(repetitions, what, minimum=1, optional=False):
    """``repetitions`` as a Python int, checked before any op sees it.

    Refuses a bool, a non-integer, a count below ``minimum`` and one above
    :data:`MAX_REPETITIONS` (checked as an unbounded Python int, so nothing wraps around).

    Args:
        repetitions: the count as given (a Python or NumPy integer).
        what: the layer or argument, for the message.
        minimum: the smallest count allowed.
        optional: ``None`` is allowed (and returned).

    Example:
        >>> check_repetitions(1000, "PQC")
        1000
    """
    if repetitions is None and optional:
        return None
    kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    if isinstance(repetitions, bool) or not isinstance(repetitions, numbers.Integral):
        raise ValueError(
            f"{what}: repetitions must be {kind}{' or None' if optional else ''}; "
            f"got {repetitions!r}."
        )
    count = int(repetitions)
    if count < minimum:
        raise ValueError(f"{what}: repetitions must be {kind}; got {count}.")
    if count > MAX_REPETITIONS:
        raise ValueError(
            f"{what}: repetitions={count} exceeds {MAX_REPETITIONS} (2**31 - 1), the most shots "
            "a simulation takes (TFQ's ops count them in int32). Use fewer repetitions, or "
            "average several calls."
        )
    return count


def sample_bytes(n_qubits, repetitions, batch=1):
    """Peak bytes of drawing ``repetitions`` bitstrings on ``n_qubits`` qubits per example: the
    int32 bits, and a float64 uniform and an int64 index per shot while drawing."""
    return max(int(batch), 1) * int(repetitions) * (4 * max(int(n_qubits), 1) + 16)


def unitary_bytes(n_qubits, batch=1):
    """Bytes of ``batch`` complex64 unitaries on ``n_qubits`` qubits, with the columns of the
    identity they are computed from (twice the output)."""
    return 2 * BYTES_PER_AMPLITUDE * (4 ** int(n_qubits)) * max(int(batch), 1)


def check_size(need, what, fix):
    """Raise ``MemoryError`` when ``need`` bytes exceed this machine's memory.

    Args:
        need: bytes the output (or its computation) takes.
        what: the input that asks for it, for the message.
        fix: what to change, for the message.
    """
    have = physical_memory_bytes()
    if have is not None and need > have:
        raise MemoryError(
            f"{what} needs about {need / 2**30:.1f} GiB, but this machine has "
            f"{have / 2**30:.1f} GiB. {fix}"
        )
    return need


def guard_data_width(data, width, n_qubits, repetitions=None, unitary=False):
    """``data`` behind an in-graph check that quantum data of ``width`` qubits fits in memory.

    Quantum data is read when the graph runs, so its register is known only then: ``width`` is a
    scalar int tensor (the distinct qubits the data circuits act on), ``n_qubits`` the layer's
    own register. For the larger of the two and the whole batch, the states
    (:func:`state_bytes` times :data:`TFQ_STATES_KEPT`), or the unitaries with ``unitary``
    (:func:`unitary_bytes`), and the samples when ``repetitions`` shots are drawn per example
    (:func:`sample_bytes`) must fit.
    """
    import tensorflow as tf

    have = physical_memory_bytes()
    if have is None:
        return data
    # the largest register of which one example fits (2**q amplitudes, or 4**q for a unitary)
    per_qubit_power = 2 if unitary else 1
    unit = 2 * BYTES_PER_AMPLITUDE if unitary else BYTES_PER_AMPLITUDE * TFQ_STATES_KEPT
    most = max((int(have // unit).bit_length() - 1) // per_qubit_power, 0)
    if _fits_now(data, width, n_qubits, per_qubit_power, unit, repetitions, have):
        return data  # an eager call that fits: no ops to run
    batch = tf.cast(tf.maximum(tf.shape(data)[0], 1), tf.float64)
    width = tf.maximum(tf.cast(width, tf.int32), int(n_qubits))
    exponent = tf.cast(per_qubit_power * tf.minimum(width, 500), tf.float64)
    need = batch * float(unit) * tf.pow(tf.constant(2.0, tf.float64), exponent)
    fits = need <= float(have)
    shots = 0 if repetitions is None else int(repetitions)
    if shots:
        sample = batch * float(shots) * (4.0 * tf.cast(width, tf.float64) + 16.0)
        fits = tf.logical_and(fits, sample <= float(have))
    what = "unitaries" if unitary else "states"
    check = tf.debugging.Assert(
        fits,
        [
            "tfq_layers: the quantum data does not fit in memory: "
            f"{have / 2**30:.1f} GiB holds a batch's {what} only up to {most} qubits per "
            "example (fewer for larger batches)"
            + (
                f", and {shots} samples per example take {4 * shots / 2**30:.2g} GiB per qubit"
                if shots
                else ""
            )
            + ". Use data on fewer qubits, a smaller batch"
            + (" or fewer repetitions" if shots else "")
            + ". Qubits in the data, batch size:",
            width,
            tf.shape(data)[0],
        ],
    )
    with tf.control_dependencies([check]):
        return tf.identity(data)


def _fits_now(data, width, n_qubits, per_qubit_power, unit, repetitions, have):
    """For an eager call (concrete ``data`` and ``width``), whether :func:`guard_data_width`'s
    check passes, computed in Python; ``False`` when it does not or cannot be known now (the
    check's ops then run, and raise)."""
    import tensorflow as tf

    if not tf.executing_eagerly() or not hasattr(data, "numpy"):
        return False
    try:
        width = int(width)
    except TypeError:
        return False
    batch = max(int(data.shape[0]), 1)
    width = min(max(width, int(n_qubits)), 500)
    if batch * float(unit) * 2.0 ** (per_qubit_power * width) > have:
        return False
    shots = 0 if repetitions is None else int(repetitions)
    return not shots or batch * float(shots) * (4.0 * width + 16.0) <= have


__all__ = [
    "BYTES_PER_AMPLITUDE",
    "CHECKPOINT_BYTES",
    "CHECKPOINT_STATES",
    "LEAN_STATE_BYTES",
    "MAX_REPETITIONS",
    "XLA_UNCHECKED_BATCH",
    "adjoint_chunk",
    "check_register",
    "check_repetitions",
    "check_size",
    "checkpoint_states",
    "guard_batch",
    "guard_data_width",
    "physical_memory_bytes",
    "sample_bytes",
    "state_bytes",
    "statevector_bytes",
    "unitary_bytes",
]
