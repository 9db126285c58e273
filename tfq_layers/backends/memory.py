"""The one home of memory rules: how many bytes a simulation needs, and the guards that refuse a
register or a batch that cannot fit before anything is allocated.

Every backend and layer asks this module; none keeps its own arithmetic.
"""

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


def guard_batch(values, bytes_for_batch, n_qubits):
    """Refuse a batch whose states cannot fit in memory, before any state is allocated.

    Args:
        values: ``(batch, ...)`` tensor whose leading dimension is the batch.
        bytes_for_batch: ``f(batch) -> bytes`` for this simulation.
        n_qubits: for the message.

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
                f"{need / 2**30:.1f} GiB of state vectors, but this machine has "
                f"{have / 2**30:.1f} GiB. Use a smaller batch_size or fewer qubits."
            )
        return values
    per_sample = bytes_for_batch(1)
    max_batch = max(1, have // max(per_sample, 1))
    if max_batch < XLA_UNCHECKED_BATCH and _in_xla():
        # XLA drops runtime assertions ("Ignoring Assert operator"): a batch that is unknown
        # while tracing could not be checked, and XLA would try to allocate whatever it gets.
        raise MemoryError(
            f"this layer simulates {n_qubits} qubits: each example needs about "
            f"{per_sample / 2**20:.1f} MiB of state vectors and at most {max_batch} fit in "
            f"{have / 2**30:.1f} GiB, but under jit_compile=True (XLA) the batch size is unknown "
            "when the function is traced and XLA drops the run-time check. Give the batch size a "
            "fixed value (keras.Input(shape, batch_size=B), or a tf.function input_signature "
            "with a fixed first dimension), or compile without jit_compile."
        )
    check = tf.debugging.assert_less_equal(
        tf.shape(values)[0],
        tf.constant(int(min(max_batch, 2**31 - 1)), tf.int32),
        message=f"batch too large for memory: each sample on {n_qubits} qubits needs about "
        f"{per_sample / 2**20:.1f} MiB, at most {max_batch} fit in "
        f"{have / 2**30:.1f} GiB; use a smaller batch_size",
    )
    with tf.control_dependencies([check]):
        return tf.identity(values)


__all__ = [
    "BYTES_PER_AMPLITUDE",
    "CHECKPOINT_BYTES",
    "CHECKPOINT_STATES",
    "LEAN_STATE_BYTES",
    "XLA_UNCHECKED_BATCH",
    "adjoint_chunk",
    "check_register",
    "checkpoint_states",
    "guard_batch",
    "physical_memory_bytes",
    "state_bytes",
    "statevector_bytes",
]
