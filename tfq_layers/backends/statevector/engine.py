"""The compiled side of :class:`~tfq_layers.backends.statevector.StatevectorSimulator`: its base class
`SimulatorEngine` compiles the circuit in its constructor (parse, product-state prefix, fusion,
scheduling, runtime steps) and runs the state forward and through the adjoint sweep; the public
methods (state, probabilities, expectation, sample, ...) are in ``simulator.py``.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import cirq
import numpy as np
import tensorflow as tf

from tfq_layers.backends.statevector.compile import (
    ChannelItem,
    fuse,
    merge_chain,
    parse_circuit,
    plan,
    schedule,
    split_prefix,
)
from tfq_layers.backends import memory
from tfq_layers.backends.statevector.cost import plan_cost, step_cost
from tfq_layers.backends.statevector.kernels import (
    RDTYPE,
    cmul,
    diag_real,
    group_transpose,
    kron_state,
    name_list,
    outer_state,
    row_real,
    transpose_grouped,
)
from tfq_layers.backends.statevector.observables import ObsPlan, obs_key
from tfq_layers.backends.statevector.steps import Buckets, Sequencer, runtime_step

# The product-state prefix pays an input gradient at the first simulation step; up to this many
# qubits it saves more than that, so small registers always take it. Above, it can cost more than
# it saves (when the blocks it shrinks are no cheaper) or turn every block into a constant:
# `cost.plan_cost` decides (measurements: BENCHMARKS.md, "Simulator design measurements").
_PREFIX_MAX_QUBITS = 16
# From this many qubits on the simulator takes its large-register plan (see the constructor's
# `large_register`): passes over the state, not per-op overhead, set the cost there.
LARGE_REGISTER_QUBITS = 20


def _symbol_lists(symbol_names, shared_symbols):
    """``(names, shared)`` as lists of str, checked to have no symbol twice."""
    names = name_list(symbol_names, "symbol_names")
    shared = name_list(shared_symbols, "shared_symbols")
    if len(set(names + shared)) != len(names) + len(shared):
        both = names + shared
        dup = sorted({s for s in both if both.count(s) > 1})
        raise ValueError(
            f"symbol_names and shared_symbols have duplicates {dup}; each symbol must "
            "appear once, either per batch element or shared."
        )
    return names, shared


def _register(circuit, qubits):
    """The simulated qubits: ``qubits`` (default: the circuit's, sorted), checked to hold every
    qubit of the circuit once."""
    if qubits is None:
        qubits = sorted(circuit.all_qubits())
    qubits = list(qubits)
    if len(set(qubits)) != len(qubits):
        raise ValueError(f"qubits has duplicates: {qubits!r}")
    missing = set(circuit.all_qubits()) - set(qubits)
    if missing:
        raise ValueError(
            f"qubits={qubits!r} misses circuit qubits {sorted(missing)!r}; pass the whole register."
        )
    if not qubits:
        raise ValueError(
            "The register is empty: the circuit acts on no qubits and qubits= was not given."
        )
    return qubits


class SimulatorEngine:
    """Compiles a circuit and runs it (the base class of `StatevectorSimulator`, which documents the
    constructor's arguments)."""

    def __init__(
        self,
        circuit: cirq.AbstractCircuit,
        symbol_names: Sequence,
        qubits=None,
        *,
        observables=None,
        gradient: str = "auto",
        jit_compile="auto",
        fusion_qubits: Optional[int] = None,
        trajectories: int = 100,
        max_fused_terms: int = 16,
        fused_vjp: bool = True,
        shared_symbols: Sequence = (),
        large_register: Optional[bool] = None,
    ):
        if not isinstance(circuit, cirq.AbstractCircuit):
            raise TypeError(
                f"circuit must be a cirq.Circuit, got {type(circuit).__name__}: {circuit!r}"
            )
        names, shared = _symbol_lists(symbol_names, shared_symbols)
        self.symbol_names: Tuple[str, ...] = tuple(names)
        self.shared_symbols: Tuple[str, ...] = tuple(shared)
        qubits = _register(circuit, qubits)
        if gradient not in ("auto", "autodiff", "adjoint"):
            raise ValueError(f"gradient must be 'auto', 'autodiff' or 'adjoint', got {gradient!r}")
        if int(trajectories) < 1:
            raise ValueError(f"trajectories must be >= 1, got {trajectories!r}")
        self.qubits = tuple(qubits)
        self.n_qubits = n = len(qubits)
        self._qindex = {q: i for i, q in enumerate(qubits)}
        sym_index = {s: i for i, s in enumerate(names + shared)}

        self.large_register = (
            (n >= LARGE_REGISTER_QUBITS) if large_register is None else bool(large_register)
        )
        items, self._global_phase = parse_circuit(circuit, qubits, sym_index)
        self.has_noise = any(isinstance(it, ChannelItem) for it in items)
        if gradient == "auto":
            gradient = "adjoint" if (self.large_register and not self.has_noise) else "autodiff"
        if gradient == "adjoint" and self.has_noise:
            raise ValueError(
                "gradient='adjoint' needs a noiseless circuit (the adjoint method un-computes "
                "gates); use gradient='autodiff' for circuits with noise channels."
            )
        self.gradient = gradient
        if fusion_qubits is not None:
            sizes = (int(fusion_qubits),)
        elif self.large_register:  # bigger blocks: fewer passes over the state, costlier GEMMs
            sizes = (4, 5)
        else:  # the fastest on the reference workload (`benchmarks/simulator.py --fusion`)
            sizes = (2 if n <= 6 else (3 if n <= 13 else 4),)
        self._buckets = Buckets(len(names) + len(shared), len(names))
        prefix, steps, self._final_layout, self.fusion_qubits = self._choose_plan(
            items, n, sizes, max_fused_terms
        )
        self._prefix = self._prefix_plan(prefix, max_fused_terms)
        self._steps = [runtime_step(s, n, self._buckets) for s in steps]
        self._buckets.finalize()
        self.n_steps = len(self._steps)
        self.n_channels = sum(1 for s in self._steps if s.kind == "channel")
        if jit_compile == "auto":
            jit_compile = n < 14 and not self.large_register
        self.jit_compile = bool(jit_compile)
        self.fused_vjp = bool(fused_vjp)
        for st in self._steps:
            st.tiny = self.jit_compile
        self.trajectories = int(trajectories)
        fperm = [0] + [1 + self._final_layout.index(q) for q in range(n)] + [n + 1]
        self._final_t = group_transpose(n, fperm)
        self._final_inv_t = group_transpose(n, list(np.argsort(fperm)))
        self._obs_cache: Dict[tuple, ObsPlan] = {}
        self._obs_last = None  # (tuple of PauliStrings, its plan): a repeated call's fast path
        self._fn_cache: Dict[tuple, object] = {}
        self._default_obs = None
        if observables is not None:
            self._default_obs = self._obs_plan(observables)

    def _choose_plan(self, items, n, sizes, max_terms):
        """``(prefix, steps, final layout, block size)``: the circuit's plan, with or without a
        product-state prefix, for one of the block sizes ``sizes``. Small registers always take
        the prefix (see `_PREFIX_MAX_QUBITS`) and have one block size; from 17 qubits on
        every candidate is compiled and `cost.plan_cost` picks the one with the fewest passes over
        the state (the prefix wins when it turns per-example blocks into constants, as an angle
        encoding followed by entangling gates does, and loses when it only adds its own passes)."""
        prefix, rest = split_prefix(items, n)
        param = any(not f.is_const for chain in prefix.values() for f in chain)
        candidates = []
        for k in sizes:
            for use_prefix in (
                [True]
                if prefix and n <= _PREFIX_MAX_QUBITS and not self.large_register
                else [False, True]
                if prefix
                else [False]
            ):
                steps, layout = plan(schedule(fuse(rest if use_prefix else items, k, max_terms)), n)
                cost = plan_cost(steps, use_prefix, use_prefix and param, self.gradient)
                candidates.append(
                    (cost, len(candidates), prefix if use_prefix else {}, steps, layout, k)
                )
        _, _, chosen_prefix, steps, layout, k = min(candidates, key=lambda c: c[:2])
        return chosen_prefix, steps, layout, k

    # ------------------------------------------------------------------ helpers
    # -- the compiled plan, read-only (what a test or a benchmark inspects) ----------------------
    @property
    def steps(self):
        """The fused steps applied after the product-state prefix, in order (each has a ``kind``:
        'dense', 'diag', 'perm', 'channel', ...)."""
        return tuple(self._steps)

    @property
    def prefix(self):
        """The product-state prefix as ``(kind, item)`` groups, kind 'param' or 'const' (empty when
        the plan starts from |0...0>)."""
        return tuple(self._prefix or ())

    @property
    def parameter_blocks(self):
        """How the parameterized blocks are evaluated: ``{(dim, diagonal, shared): BucketArrays}``,
        ``shared`` whether the blocks read only batch-shared symbols, the record's ``method``
        'dense' (one matrix product) or 'gather' (see `steps.BucketArrays`)."""
        return dict(self._buckets.arrays)

    def _obs_plan(self, observables) -> ObsPlan:
        if observables is None:
            if self._default_obs is None:
                raise ValueError("No observables given and none were passed to the constructor.")
            return self._default_obs
        if isinstance(observables, ObsPlan):
            return observables
        last = self._obs_last
        if last is not None and observables is last[0]:
            return last[1]
        key = obs_key(observables)
        plan = self._obs_cache.get(key)
        if plan is None:
            plan = ObsPlan(observables, self._qindex, self.n_qubits, self.large_register)
            self._obs_cache[key] = plan
        # a tuple of PauliStrings cannot change: the same object next time is the same plan
        # (a list, or a PauliSum, can change in place, so those are keyed by their reprs)
        if type(observables) is tuple and all(isinstance(o, cirq.PauliString) for o in observables):
            self._obs_last = (observables, plan)
        return plan

    def _layout_plan(self, plan: ObsPlan) -> ObsPlan:
        """``plan`` compiled for states in the final qubit layout of the simulation plan."""
        if self._final_t is None:
            return plan
        key = ("layout", id(plan))
        lp = self._obs_cache.get(key)
        if lp is None:
            lp = ObsPlan(
                plan.observables,
                {q: self._final_layout.index(i) for q, i in self._qindex.items()},
                self.n_qubits,
                plan.factored,
            )
            self._obs_cache[key] = lp
        return lp

    def _values(self, symbol_values, shared_values=None):
        v = tf.convert_to_tensor(symbol_values)
        if v.dtype != RDTYPE:
            v = tf.cast(v, RDTYPE)
        if v.shape.rank != 2:
            raise ValueError(
                f"symbol_values must have shape (batch, {len(self.symbol_names)}), got shape {v.shape}."
            )
        if v.shape[1] is not None and v.shape[1] != len(self.symbol_names):
            raise ValueError(
                f"symbol_values has {v.shape[1]} columns but the simulator has {len(self.symbol_names)} symbols "
                f"{list(self.symbol_names)[:10]}; pass shape (batch, {len(self.symbol_names)})."
            )
        return v, self._shared(shared_values)

    def _shared(self, shared_values):
        n_shared = len(self.shared_symbols)
        if shared_values is None:
            if n_shared:
                raise ValueError(
                    f"this simulator has shared_symbols {list(self.shared_symbols)[:10]}; pass "
                    f"their values as shared_values=, shape ({n_shared},)."
                )
            return tf.zeros([0], RDTYPE)
        s = tf.convert_to_tensor(shared_values)
        if s.dtype != RDTYPE:
            s = tf.cast(s, RDTYPE)
        if s.shape.rank != 1 or (s.shape[0] is not None and s.shape[0] != n_shared):
            raise ValueError(
                f"shared_values must have shape ({n_shared},) (one value per shared symbol "
                f"{list(self.shared_symbols)[:10]}), got shape {s.shape}."
            )
        return s

    def _fn(self, key, builder):
        """The compiled function `f(values, shared_values, seed)` for `key`.

        In XLA mode the first eager calls of a noiseless circuit run as a plain graph
        (:func:`_eager_tiers`), and the compiled callable has a custom gradient that re-runs the
        simulation inside ONE XLA computation (forward + backward), instead of letting TF
        differentiate the XLA call: that would make the forward computation export every
        intermediate to the TF executor, which costs more than recomputing them on small
        registers. Higher derivatives still work: the vector-Jacobian product is itself an
        ordinary differentiable TF function.
        """
        fn = self._fn_cache.get(key)
        if fn is not None:
            return fn
        f = builder()
        fwd = tf.function(f, jit_compile=self.jit_compile, reduce_retracing=True, autograph=False)
        if not self.jit_compile:
            self._fn_cache[key] = fwd
            return fwd
        fwd = _batch_relaxed(fwd, batched=(0,))
        fn = fwd if not self.fused_vjp else self._with_fused_vjp(f, fwd)
        if not self.n_channels:  # noise trajectories draw random numbers: one compiled function
            fn = _eager_tiers(f, fn)
        self._fn_cache[key] = fn
        return fn

    @staticmethod
    def _with_fused_vjp(f, fwd):
        """``fwd`` (XLA) with a custom gradient: one XLA computation runs forward and backward."""

        def vjp_py(v, s, sd, dy):
            with tf.GradientTape() as tape:
                tape.watch([v, s])
                out = f(v, s, sd)
            return tape.gradient(
                out, [v, s], output_gradients=dy, unconnected_gradients=tf.UnconnectedGradients.ZERO
            )

        vjp = tf.function(vjp_py, jit_compile=True, reduce_retracing=True, autograph=False)
        vjp = _batch_relaxed(vjp, batched=(0, 3))

        def call(v, s, sd):
            @tf.custom_gradient
            def op(v, s):
                def grad(dy):
                    return vjp(v, s, sd, dy)

                return fwd(v, s, sd), grad

            return op(v, s)

        return call

    # ------------------------------------------------------------------ core
    def _prefix_plan(self, prefix, max_terms):
        """Per-qubit plan of the product state the leading single-qubit gates prepare.

        Returns a list of groups: ``("const", v)`` with ``v`` a numpy (1, 2**m, 2) product state
        of a run of m qubits whose leading gates are all constant (or absent), or
        ``("param", refs)`` for one qubit whose leading gates depend on symbols, ``refs`` its
        merged chain (numpy realified matrices or bucket references). None without prefix gates.
        """
        if not prefix:
            return None
        groups = []
        for q in range(self.n_qubits):
            chain = merge_chain(prefix.get(q, []), max_terms)
            if all(f.is_const for f in chain):
                u = np.eye(2, dtype=complex)
                for f in chain:
                    u = f.const_matrix() @ u
                if groups and groups[-1][0] == "const":  # extend the run: a numpy kron
                    groups[-1] = ("const", np.kron(groups[-1][1], u[:, 0]))
                else:
                    groups.append(("const", u[:, 0]))  # U|0>
            else:
                refs = [
                    ("const", row_real(f.const_matrix()).astype(np.float32))
                    if f.is_const
                    else ("param", self._buckets.add(f, False))
                    for f in chain
                ]
                groups.append(("param", refs))
        # constant runs as (1, 2**m, 2) [re, im] arrays, the layout of the state
        return [
            (kind, diag_real(item)[None].astype(np.float32) if kind == "const" else item)
            for kind, item in groups
        ]

    def _initial_state(self, mats, batch):
        """The state after the leading single-qubit gates: a product state, built from one
        two-amplitude vector per qubit by outer products (canonical layout, (B, 2**n, 2))."""
        if self._prefix is None:
            return self._zero_state(batch)
        # Each half of the register by a chain of small outer products, then the two halves by
        # one batched matmul that writes the full state once (a chain up to the full size would
        # make several full-size broadcasting passes). Under XLA the broadcasting products fuse
        # into one loop instead, and XLA's CPU batched matmul of tiny matrices has a high fixed
        # cost per call: there the halves are joined by broadcasting too.
        tiny = self.jit_compile
        halves, half, size = [None, None], 0, 1
        for kind, item in self._prefix:
            if kind == "const":
                v = item
            else:
                v = None
                for ref_kind, ref in item:
                    m = ref if ref_kind == "const" else mats[ref[0]][ref[1]]
                    if v is None:  # U|0>: the first row of the realified row matrix
                        v = m[..., :1, :]
                    elif tiny:  # row vector times matrix as a fused multiply-reduce
                        v = tf.reduce_sum(
                            tf.expand_dims(v[..., 0, :], -1) * m, axis=-2, keepdims=True
                        )
                    else:  # row vector times the next (realified row) matrix, broadcasting
                        v = tf.matmul(v, m)
                v = tf.reshape(v, [-1, 2, 2])
            if half == 0 and halves[0] is not None and size * size >= 2**self.n_qubits:
                half = 1
            halves[half] = v if halves[half] is None else kron_state(halves[half], v)
            size *= v.shape[1]
        join = kron_state if tiny else outer_state
        psi = halves[0] if halves[1] is None else join(halves[0], halves[1])
        psi = tf.convert_to_tensor(psi, RDTYPE)
        if psi.shape[0] != 1:
            return psi
        return tf.broadcast_to(psi, tf.stack([batch, 2**self.n_qubits, 2]))

    def _zero_state(self, batch):
        n = self.n_qubits
        return tf.reshape(
            tf.one_hot(tf.zeros([batch], tf.int32), 2 ** (n + 1), dtype=RDTYPE), [-1, 2**n, 2]
        )

    def _forward(self, mats, batch, rand, finish=True):
        """Run all steps from |0...0>; returns the canonical real-layout state (B, 2**n, 2), or with
        ``finish=False`` the state in the plan's final qubit layout, without the global phase."""
        x = self._initial_state(mats, batch)
        for st in self._steps:
            x = st.apply(x, st.matrix(mats, product=False), rand)
        return self._finish(x) if finish else x

    def _finish(self, x):
        n = self.n_qubits
        x = transpose_grouped(x, self._final_t, [-1, 2**n, 2])
        if self._global_phase != 1:
            x = cmul(x, diag_real(np.array(self._global_phase)).astype(np.float32))
        return x

    def _unfinish(self, x):
        n = self.n_qubits
        if self._global_phase != 1:
            x = cmul(x, diag_real(np.conj(np.array(self._global_phase))).astype(np.float32))
        return transpose_grouped(x, self._final_inv_t, [-1, 2**n, 2])

    def _state_adjoint(self, values, shared, finish=True):
        """Final state with an adjoint-method custom gradient (w.r.t. the step matrices and the
        initial product state; those are differentiated by autodiff, which is cheap); step inputs
        are kept within the memory module's budget (`memory.checkpoint_states`) instead of being
        un-computed. ``finish``: as in `_forward`."""
        mats = self._buckets.evaluate(values, shared)
        batch = tf.shape(values)[0]
        param_steps = [i for i, st in enumerate(self._steps) if st.parameterized]
        us = [self._steps[i].matrix(mats) for i in param_steps]
        if not us and self._prefix is None:
            return self._forward(mats, batch, None, finish)
        psi0 = self._initial_state(mats, batch)
        steps = self._steps
        first_param = min(param_steps, default=len(steps))
        # Steps whose input the sweep needs (from the first parameterized one on), the costliest to
        # un-compute first: the memory module says how many of their inputs to keep from the
        # forward pass (for the batch, or the largest unchunked one when it is unknown).
        ckpt = sorted(
            (i for i in range(first_param, len(steps)) if steps[i].invertible),
            key=lambda i: -step_cost(steps[i].step),
        )
        ckpt = set(ckpt[: memory.checkpoint_states(self.n_qubits, len(ckpt), values.shape[0])])

        @tf.custom_gradient
        def core(x0, *us_in):
            umap = dict(zip(param_steps, us_in))

            def mat(i):
                st = steps[i]
                return umap[i] if i in umap else st.const

            x, saved = x0, {}
            for i, st in enumerate(steps):
                if i in ckpt:
                    x, saved[i] = st.apply(x, mat(i), keep=True)
                else:
                    x = st.apply(x, mat(i))
            psi = self._finish(x) if finish else x

            def grad(dpsi):
                def reads_state(i):  # whether step i un-computes its input from its output
                    return i >= first_param and i not in saved

                seq = Sequencer()
                y = None
                if steps and reads_state(len(steps) - 1):
                    y = seq(lambda: self._unfinish(psi) if finish else psi)
                g = seq(lambda: self._unfinish(dpsi) if finish else dpsi)
                grads = {}
                for i in range(len(steps) - 1, -1, -1):
                    y, g, gu = steps[i].backward(
                        y, g, mat(i), seq, need_x=i > 0 and reads_state(i - 1), saved=saved.get(i)
                    )
                    if i in umap:
                        grads[i] = gu
                return [g] + [grads[i] for i in param_steps]

            return psi, grad

        return core(psi0, *us)

    def _adjoint_readout(self, values, shared, readout, n_out):
        """``readout`` (final state in the plan's layout -> (B, n_out)) of the batch, differentiated
        by the adjoint sweep. A batch larger than `memory.adjoint_chunk` runs lean, in chunks
        (`_chunked_readout`); when the batch is unknown while tracing, the choice is made at run
        time."""
        chunk = memory.adjoint_chunk(self.n_qubits)
        batch = values.shape[0]

        # inside a branch of tf.cond, the branch's own copies of the inputs: gradient functions
        # must capture tensors of the branch's graph, not the enclosing one
        def direct():
            return readout(
                self._state_adjoint(tf.identity(values), tf.identity(shared), finish=False)
            )

        def chunked():
            return self._chunked_readout(
                tf.identity(values), tf.identity(shared), readout, n_out, chunk
            )

        if batch is not None:
            return direct() if batch <= chunk else chunked()
        return tf.cond(tf.shape(values)[0] <= chunk, direct, chunked)

    def _chunked_readout(self, values, shared, readout, n_out, chunk):
        """The lean adjoint: chunks of ``chunk`` examples run one after the other, keeping only
        their outputs; the backward pass recomputes each chunk's states and sweeps them back, again
        one chunk at a time, so the states of one chunk are alive at any time (one more forward
        pass than `_state_adjoint`)."""

        def rows(x, i, size):
            lo = i * chunk
            return x[lo : tf.minimum(lo + chunk, size)]

        def run(v, s):
            return readout(self._state_adjoint(v, s, finish=False))

        @tf.custom_gradient
        def lean(v, s):
            size = tf.shape(v)[0]
            n_chunks = (size + chunk - 1) // chunk
            outs = tf.TensorArray(
                RDTYPE, size=n_chunks, infer_shape=False, element_shape=[None, n_out]
            )
            _, outs = tf.while_loop(
                lambda i, ta: i < n_chunks,
                lambda i, ta: (i + 1, ta.write(i, run(rows(v, i, size), s))),
                [0, outs],
                parallel_iterations=1,
            )

            out = outs.concat()

            def grad(dy):
                # after the forward chunks: the upstream gradient often does not depend on the
                # outputs, and both loops running at once would keep two chunks' states alive
                with tf.control_dependencies([out]):
                    dy = tf.identity(dy)
                gvs = tf.TensorArray(
                    RDTYPE, size=n_chunks, infer_shape=False, element_shape=[None, v.shape[1]]
                )

                def body(i, ta, gs):
                    vc, dyc = rows(v, i, size), rows(dy, i, size)
                    with tf.GradientTape() as tape:
                        tape.watch([vc, s])
                        out = run(vc, s)
                    gv, gsc = tape.gradient(
                        out,
                        [vc, s],
                        output_gradients=dyc,
                        unconnected_gradients=tf.UnconnectedGradients.ZERO,
                    )
                    return i + 1, ta.write(i, gv), gs + gsc

                _, gvs, gs = tf.while_loop(
                    lambda i, ta, gs: i < n_chunks,
                    body,
                    [0, gvs, tf.zeros_like(s)],
                    parallel_iterations=1,
                )
                return gvs.concat(), gs

            return out, grad

        return lean(values, shared)

    def _state_fn(self, values, shared, rand, finish=True):
        if self.gradient == "adjoint" and not self.has_noise:
            return self._state_adjoint(values, shared, finish)
        mats = self._buckets.evaluate(values, shared)
        return self._forward(mats, tf.shape(values)[0], rand, finish)

    def _rand(self, batch, seed):
        if self.n_channels == 0:
            return None
        return tf.random.stateless_uniform([batch, self.n_channels], seed=seed, dtype=RDTYPE)

    def _tile(self, values, t):
        return tf.tile(values, [t, 1])

    # ------------------------------------------------------------------ public API


#: Eager calls of one compiled function that run as a plain graph before XLA compiles it: XLA's
#: compile (0.1-0.3 s for a one-qubit circuit, seconds at 12 qubits) is paid only by a loop that
#: goes on calling, not by a few calls (BENCHMARKS.md, "TFQ's programs, fourth session").
EAGER_PLAIN_CALLS = 5


def _eager_tiers(f, compiled):
    """``compiled`` (the XLA function of ``f``), except that the first :data:`EAGER_PLAIN_CALLS`
    eager calls run ``f`` as a plain graph (traced, not compiled). Calls inside a graph
    (``model.fit``, ``predict``, exports) always take ``compiled``."""
    plain = tf.function(f, reduce_retracing=True, autograph=False)
    eager_calls = [0]

    def call(v, s, sd):
        if eager_calls[0] < EAGER_PLAIN_CALLS and tf.executing_eagerly():
            eager_calls[0] += 1
            return plain(v, s, sd)
        return compiled(v, s, sd)

    return call


def _batch_relaxed(function, batched):
    """``function`` (an XLA-compiled ``tf.function``) called through one trace per argument
    structure whose batch axis (axis 0 of the arguments at positions ``batched``) is unknown.

    A ``tf.function`` first traces the static shapes it is called with, and a caller that later
    traces again with the batch unknown (Keras retraces its train step when a batch of another
    size arrives) gets a second trace, which XLA compiles again for a batch it has compiled
    already. Through one relaxed trace, XLA compiles once per batch size it meets (once per
    bucket, see :mod:`tfq_layers.backends.batch_buckets`), whoever traces the call."""
    traces = {}

    def call(*args):
        specs = []
        for i, a in enumerate(args):
            a = tf.convert_to_tensor(a)
            shape = a.shape
            if i in batched and shape.rank:
                shape = tf.TensorShape([None]).concatenate(shape[1:])
            specs.append(tf.TensorSpec(shape, a.dtype))
        key = tuple(specs)
        concrete = traces.get(key)
        if concrete is None:
            concrete = traces[key] = function.get_concrete_function(*specs)
        return concrete(*args)

    return call
