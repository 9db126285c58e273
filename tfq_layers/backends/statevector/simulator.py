"""A pure-TensorFlow batched statevector simulator for parameterized Cirq circuits.

Why: TFQ's qsim ops are CPU-only, cannot be XLA-compiled, have a large per-call cost and no
gradient for the state. `StatevectorSimulator` simulates the whole batch as one tensor with
plain TensorFlow ops, so it is

* differentiable by TF autodiff (gradients, Hessians, any loss of the state),
* `tf.function(jit_compile=True)` compatible (below 14 qubits it XLA-compiles its own
  kernels by default),
* device-agnostic (GPU-ready), and
* exportable as a SavedModel with no custom ops (this module never imports
  `tensorflow_quantum`).

How: the circuit is compiled once (``compile.py``, run by ``engine.py``): every parameterized gate is written in
Fourier form `U(theta) = sum_k C_k exp(i w_k . theta)`; the single-qubit gates that come before
any multi-qubit gate on their qubit (angle encodings) prepare a product state, built by outer
products of per-qubit vectors; the other gates are greedily fused into blocks of a few qubits,
constant permutations (CNOT rings, SWAPs, X) become one gather and diagonal gates an
elementwise phase. At run time all gate matrices of the circuit come out of a few vectorized
ops, then each fused block is one matmul on a reshaped view of the state: a single GEMM over
the whole batch when the block depends only on `shared_symbols` (a layer's weights), a batched
matmul with one matrix per example otherwise.
The state is stored as float32 (batch, 2**n, 2) (real and imaginary parts interleaved, the
memory layout of complex64) and complex matrices act through real (2d, 2d) matrices: real
GEMMs are 2-5x faster than complex ones on CPU.

Noise channels are simulated by quantum trajectories: each batch element samples one Kraus
operator per channel with its Born probability, so expectations/probabilities of noisy
circuits are Monte-Carlo estimates averaged over `trajectories` runs.

Qubit order: `qubits[0]` is the most significant bit of the amplitude index, exactly like
`cirq.Simulator().simulate(circuit, qubit_order=qubits)`.
"""

from __future__ import annotations

from typing import Dict, Optional

import cirq
import numpy as np
import tensorflow as tf

from tfq_layers.backends import memory
from tfq_layers.backends.statevector.engine import SimulatorEngine
from tfq_layers.backends.statevector.kernels import RDTYPE, as_seed, to_complex

__all__ = ["StatevectorSimulator", "estimate_memory_bytes"]


def estimate_memory_bytes(
    n_qubits: int, batch: int, n_steps: Optional[int] = None, gradient: str = "autodiff"
) -> int:
    """Rough peak memory (bytes) of simulating and differentiating a batch of states; see
    :func:`tfq_layers.backends.memory.statevector_bytes` (the one home of this rule).

    Example:
        >>> estimate_memory_bytes(16, 32) / 2**20  # MiB
        592.0
    """
    return memory.statevector_bytes(n_qubits, batch, n_steps, gradient)


# ops that move no data (views, bookkeeping) in the traffic count
_FREE_OPS = frozenset(
    {
        "Reshape",
        "Identity",
        "IdentityN",
        "Const",
        "Placeholder",
        "Shape",
        "StopGradient",
        "Squeeze",
        "ExpandDims",
        "NoOp",
        "ZerosLike",
        "OnesLike",
        "ShapeN",
        "Size",
        "Rank",
    }
)


def _graph_traffic(graph, min_bytes):
    """(bytes, flops) of the ops of ``graph``: bytes of inputs and outputs of at least ``min_bytes``
    (ops in ``_FREE_OPS`` excluded), flops of matrix products (see `StatevectorSimulator.traffic`)."""

    def size(t):
        if not t.shape.is_fully_defined() or t.dtype == tf.resource or t.dtype == tf.variant:
            return 0
        return t.shape.num_elements() * t.dtype.size

    nbytes, flops = 0, 0
    for op in graph.get_operations():
        if op.type in _FREE_OPS:
            continue
        for t in list(op.inputs) + list(op.outputs):
            b = size(t)
            if b >= min_bytes:
                nbytes += b
        if op.type in ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"):
            a, b = op.inputs[0].shape, op.inputs[1].shape
            o = op.outputs[0].shape
            if a.is_fully_defined() and o.is_fully_defined():
                adj_a = op.get_attr("transpose_a") if op.type == "MatMul" else op.get_attr("adj_x")
                k = a[-2] if adj_a else a[-1]
                flops += 2 * o.num_elements() * k
    return nbytes, flops


# --------------------------------------------------------------------------------------
# the simulator
# --------------------------------------------------------------------------------------
class StatevectorSimulator(SimulatorEngine):
    """Batched, differentiable, XLA-compilable statevector simulator in pure TensorFlow.

    Args:
        circuit: a `cirq.Circuit`. Every gate parameter is a number, a bare `sympy.Symbol`
            from `symbol_names` or an affine `a*symbol + b` of one such symbol. Supported:
            X/Y/Z/H/CZ/CNOT/SWAP/ISWAP/XX/YY/ZZ power gates with any exponent and global
            shift (rx/ry/rz, S, T, ...), PhasedXPowGate, PhasedISwapPowGate, PhasedXZGate,
            FSimGate, CCX/CCZ powers, any EigenGate with a symbolic exponent,
            `.controlled_by(...)` of those (with control values), IdentityGate, any
            non-parameterized gate with a `cirq.unitary` (MatrixGate, TOFFOLI, CSWAP, ...),
            noise channels with a mixture or Kraus representation (depolarize, bit/phase
            flip, amplitude/phase damping, reset, ...; simulated by trajectories) and
            terminal measurements (ignored).
        symbol_names: names (str or sympy.Symbol) of the columns of `symbol_values`.
        qubits: ordered register; defaults to `sorted(circuit.all_qubits())`. `qubits[0]` is
            the most significant bit of the amplitude index.
        observables: optional default list of `cirq.PauliSum` for `expectation`.
        gradient: "autodiff" (plain TF autodiff through the simulation; supports Hessians
            and noise), "adjoint" (Jones & Gacon 2020: keeps only the final state and
            un-computes the gates backwards, at most three states of the batch alive at a time
            whatever the depth; first order only, noiseless circuits only) or "auto" (default:
            adjoint in the large-register plan for noiseless circuits, else autodiff).
        jit_compile: XLA-compile the simulation kernels (`tf.function(jit_compile=True)`);
            "auto" (default) does so below 14 qubits, where per-op overhead dominates. Above,
            plain graph mode is as fast and uses less memory. Either way the simulator also
            runs inside a user's `tf.function(jit_compile=True)`.
        fusion_qubits: maximum size of fused gate blocks (default 2 up to 6 qubits, 3 up to
            13, 4 up to 19; 4 or 5 in the large-register plan, whichever its cost model ranks
            cheaper for the circuit).
        trajectories: default number of trajectories per batch element for noisy circuits.
        max_fused_terms: cap on the Fourier terms of a fused parameterized matrix.
        fused_vjp: with XLA, compute gradients by re-running the simulation inside one XLA
            computation (faster on small registers; see `_fn`). Ignored without XLA.
        shared_symbols: names of symbols whose values are the same for the whole batch (a
            layer's trainable weights). Their values are passed once, as the 1-D
            ``shared_values`` argument of the simulation methods, and the blocks that depend on
            them alone are computed once and applied with one GEMM over the whole batch instead
            of one small matrix product per batch element.
        large_register: take the large-register plan (default: from `LARGE_REGISTER_QUBITS` = 20
            qubits on): the adjoint gradient (with "auto", noiseless circuits), 4- or 5-qubit
            fused blocks with or without the product-state prefix (the plan with the fewest
            passes over the state, by `cost.plan_cost`), no XLA (with "auto"), Pauli readouts through
            sign tables of 2**(n/2) rows. ``True`` forces it on any register (tests do, on small
            ones); explicit `gradient`, `jit_compile` and `fusion_qubits` still win.

    Example:
        >>> q = cirq.LineQubit.range(2)
        >>> a = sympy.Symbol("a")
        >>> sim = StatevectorSimulator(cirq.Circuit(cirq.rx(a).on(q[0]), cirq.CNOT(*q)), ["a"])
        >>> sim.expectation(tf.constant([[0.0], [np.pi]]), [cirq.Z(q[1])]).numpy()
        array([[ 1.],
               [-1.]], dtype=float32)
    """

    def __repr__(self):
        return (
            f"StatevectorSimulator(n_qubits={self.n_qubits}, symbols={len(self.symbol_names)}, "
            f"steps={self.n_steps}, gradient={self.gradient!r}, noise={self.has_noise})"
        )

    def memory_estimate_bytes(self, batch: int) -> int:
        """Rough peak bytes of a forward + gradient pass for `batch` (see `estimate_memory_bytes`)."""
        return estimate_memory_bytes(self.n_qubits, batch, self.n_steps, self.gradient)

    def traffic(self, batch: int, observables=None) -> Dict[str, float]:
        """Memory traffic and arithmetic of one call on ``batch`` examples, counted from the graph.

        The forward call (state and expectation readout) and the forward + gradient call (with
        respect to ``symbol_values`` and ``shared_values``, as a layer's training step asks) are
        traced for a fixed batch, without running them, and every op of the graph is counted:
        reshapes, identities and constants move no data; any other op reading or writing a tensor
        of at least a quarter of the batch's state adds those bytes. One *pass* is one read plus one
        write of the whole batch's state (``2 * state_bytes``), so a transpose, a gather or a
        matrix product over the state counts one pass, and a step of the adjoint method working on
        the state and its cotangent counts two. Matrix products add ``2 * M * N * K`` flops.

        Under XLA (``jit_compile``) the gradient re-runs the forward computation inside the
        backward one (see ``fused_vjp``): that forward is added to the gradient counts, and XLA's
        own fusion may then save passes the count cannot see. A batch that the adjoint gradient
        runs in chunks (`memory.adjoint_chunk`) is counted as one chunk, scaled to the batch, with
        the chunk's forward pass counted again in the gradient (the lean backward recomputes it).

        Args:
            batch: number of examples (batch elements; times ``trajectories`` for a noisy
                circuit averaged over trajectories).
            observables: the readout; defaults to the constructor's observables, or <Z> on
                every qubit when there are none.

        Returns:
            dict with ``state_bytes`` (bytes of the batch's state, complex64), ``passes_forward``
            and ``passes_gradient`` (passes in a forward call and in a forward + gradient call),
            ``bytes_forward``/``bytes_gradient`` (bytes read and written by those ops) and
            ``flops_forward``/``flops_gradient`` (matrix-product flops).

        Example:
            >>> t = sim.traffic(8)
            >>> t["state_bytes"] == 8 * 2**sim.n_qubits * 8
            True
        """
        batch = int(batch)
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch!r}")
        if observables is None and self._default_obs is None:
            observables = [cirq.Z(q) for q in self.qubits]
        plan = self._obs_plan(observables)
        state_bytes = memory.state_bytes(self.n_qubits, batch)
        chunk = memory.adjoint_chunk(self.n_qubits)
        lean = self.gradient == "adjoint" and not self.has_noise and batch > chunk
        traced = chunk if lean else batch
        specs = (
            tf.TensorSpec([traced, len(self.symbol_names)], RDTYPE),
            tf.TensorSpec([len(self.shared_symbols)], RDTYPE),
        )

        def forward(v, s):
            return self._layout_plan(plan).expectation(
                self._state_fn(v, s, self._rand(traced, tf.zeros([2], tf.int32)), finish=False)
            )

        def gradient(v, s):
            with tf.GradientTape() as tape:
                tape.watch([v, s])
                loss = tf.reduce_sum(forward(v, s))
            return tape.gradient(loss, [v, s], unconnected_gradients=tf.UnconnectedGradients.ZERO)

        out = {"state_bytes": state_bytes}
        for name, fn in (("forward", forward), ("gradient", gradient)):
            graph = tf.function(fn, autograph=False).get_concrete_function(*specs).graph
            nbytes, flops = _graph_traffic(graph, memory.state_bytes(self.n_qubits, traced) / 4)
            out[f"bytes_{name}"] = nbytes
            out[f"flops_{name}"] = flops
        if (self.jit_compile and self.fused_vjp) or lean:
            out["bytes_gradient"] += out["bytes_forward"]
            out["flops_gradient"] += out["flops_forward"]
        if lean:
            for key in ("bytes_forward", "flops_forward", "bytes_gradient", "flops_gradient"):
                out[key] *= batch / chunk
        for name in ("forward", "gradient"):
            out[f"passes_{name}"] = round(out[f"bytes_{name}"] / (2 * state_bytes), 2)
        return out

    def state(self, symbol_values, seed=None, shared_values=None) -> tf.Tensor:
        """Final state vectors.

        Args:
            symbol_values: (batch, n_symbols) float values, columns in `symbol_names` order.
            seed: for noisy circuits, the trajectory seed (int or shape-[2] tensor); each
                returned state is then ONE random trajectory (a pure state).
            shared_values: (n_shared,) values of `shared_symbols` (only with shared symbols).

        Returns:
            (batch, 2**n_qubits) complex64, `qubits[0]` the most significant bit.

        Example:
            >>> sim.state(tf.zeros([3, len(sim.symbol_names)])).shape
            TensorShape([3, 4])
        """
        v, s = self._values(symbol_values, shared_values)
        sd = as_seed(seed) if self.has_noise else tf.zeros([2], tf.int32)

        def build():
            def f(v, s, sd):
                return to_complex(self._state_fn(v, s, self._rand(tf.shape(v)[0], sd)))

            return f

        return self._fn(("state",), build)(v, s, sd)

    def probabilities(
        self, symbol_values, trajectories: Optional[int] = None, seed=None, shared_values=None
    ) -> tf.Tensor:
        """Probabilities of the computational basis states.

        Args:
            symbol_values: (batch, n_symbols) float values.
            trajectories: noisy circuits only: number of trajectories averaged per element
                (default: the constructor's `trajectories`).
            seed: noisy circuits only: trajectory seed.
            shared_values: (n_shared,) values of `shared_symbols` (only with shared symbols).

        Returns:
            (batch, 2**n_qubits) float32.

        Example:
            >>> sim.probabilities(tf.zeros([2, len(sim.symbol_names)])).shape
            TensorShape([2, 4])
        """
        v, s = self._values(symbol_values, shared_values)
        t = self._n_traj(trajectories)
        sd = as_seed(seed) if self.has_noise else tf.zeros([2], tf.int32)

        def build():
            return lambda v, s, sd: self._trajectory_mean(
                v, s, sd, t, lambda psi: tf.reduce_sum(tf.square(psi), axis=-1)
            )

        return self._fn(("probs", t), build)(v, s, sd)

    def _trajectory_mean(self, v, s, sd, t, readout, finish=True):
        """``readout(psi)`` of the states for values ``v``, averaged over ``t`` trajectories
        (``finish``: as in `_forward`)."""
        b = tf.shape(v)[0]
        vt = self._tile(v, t) if t > 1 else v
        out = readout(self._state_fn(vt, s, self._rand(tf.shape(vt)[0], sd), finish))
        if t > 1:
            out = tf.reduce_mean(tf.reshape(out, [t, b, -1]), axis=0)
        return out

    def _n_traj(self, trajectories):
        if not self.has_noise:
            return 1
        t = self.trajectories if trajectories is None else int(trajectories)
        if t < 1:
            raise ValueError(f"trajectories must be >= 1, got {trajectories!r}")
        return t

    def expectation(
        self,
        symbol_values,
        observables=None,
        trajectories: Optional[int] = None,
        seed=None,
        shared_values=None,
    ) -> tf.Tensor:
        """Exact expectation values <psi|O|psi> (Monte-Carlo over trajectories if noisy).

        Args:
            symbol_values: (batch, n_symbols) float values.
            observables: list of `cirq.PauliSum`/`cirq.PauliString` on register qubits
                (compiled once and cached); defaults to the constructor's `observables`.
            trajectories: noisy circuits only: trajectories averaged per batch element.
            seed: noisy circuits only: trajectory seed (int or shape-[2] tensor).
            shared_values: (n_shared,) values of `shared_symbols` (only with shared symbols).

        Returns:
            (batch, n_observables) float32, differentiable w.r.t. `symbol_values` and
            `shared_values`.

        Example:
            >>> sim.expectation(tf.zeros([1, 1]), [cirq.Z(q[0]) + 0.5 * cirq.X(q[1])])
        """
        v, s = self._values(symbol_values, shared_values)
        plan = self._obs_plan(observables)
        t = self._n_traj(trajectories)
        sd = as_seed(seed) if self.has_noise else tf.zeros([2], tf.int32)

        # read out in the plan's final qubit layout: no closing transpose (nor its inverse in the
        # adjoint sweep); the global phase cancels in <psi|O|psi>
        layout_plan = self._layout_plan(plan)

        def build():
            if self.gradient == "adjoint" and not self.has_noise:
                return lambda v, s, sd: self._adjoint_readout(
                    v, s, layout_plan.expectation, plan.n_obs
                )
            return lambda v, s, sd: self._trajectory_mean(
                v, s, sd, t, layout_plan.expectation, finish=False
            )

        return self._fn(("expectation", id(plan), t), build)(v, s, sd)

    def sample(self, symbol_values, repetitions: int, seed=None, shared_values=None) -> tf.Tensor:
        """Sample bitstrings in the computational basis.

        For noisy circuits every shot comes from its own trajectory while
        `repetitions <= trajectories`; beyond that, `trajectories` trajectories per batch
        element are each sampled several times.

        Args:
            symbol_values: (batch, n_symbols) float values.
            repetitions: shots per batch element.
            seed: int or shape-[2] tensor for reproducible samples (None: fresh randomness).
            shared_values: (n_shared,) values of `shared_symbols` (only with shared symbols).

        Returns:
            (batch, repetitions, n_qubits) int32 bits, column j is `qubits[j]`.

        Example:
            >>> sim.sample(tf.zeros([2, 1]), 5, seed=1).shape
            TensorShape([2, 5, 2])
        """
        reps = int(repetitions)
        if reps < 1:
            raise ValueError(f"repetitions must be >= 1, got {repetitions!r}")
        v, s = self._values(symbol_values, shared_values)
        sd = as_seed(seed)
        n = self.n_qubits
        b = tf.shape(v)[0]
        if self.has_noise:
            t = min(reps, self.trajectories)
            per = -(-reps // t)
            vt = self._tile(v, t)
            sd1, sd2 = tf.unstack(tf.random.experimental.stateless_split(sd, 2))
            p = self._probs_raw(vt, s, sd1)  # (t*b, 2**n)
            idx = self._draw(p, per, sd2)  # (t*b, per)
            idx = tf.transpose(tf.reshape(idx, [t, b, per]), [1, 0, 2])
            idx = tf.reshape(idx, [b, t * per])[:, :reps]
        else:
            p = self._probs_raw(v, s, sd)
            idx = self._draw(p, reps, sd)
        shifts = tf.constant(np.arange(n - 1, -1, -1), tf.int32)
        return tf.bitwise.bitwise_and(
            tf.bitwise.right_shift(idx[:, :, None], shifts[None, None, :]), 1
        )

    def _probs_raw(self, v, s, sd):
        def build():
            def f(v, s, sd):
                psi = self._state_fn(v, s, self._rand(tf.shape(v)[0], sd))
                return tf.reduce_sum(tf.square(psi), axis=-1)

            return f

        return self._fn(("probs_raw",), build)(v, s, sd)

    @staticmethod
    def _draw(p, reps, sd):
        cdf = tf.math.cumsum(tf.cast(p, tf.float64), axis=1)
        cdf = cdf / cdf[:, -1:]
        u = tf.random.stateless_uniform([tf.shape(p)[0], reps], seed=sd, dtype=tf.float64)
        idx = tf.searchsorted(cdf, u, side="right")
        return tf.minimum(tf.cast(idx, tf.int32), tf.shape(p)[1] - 1)

    def sampled_expectation(
        self,
        symbol_values,
        observables=None,
        repetitions: int = 1000,
        seed=None,
        trajectories: Optional[int] = None,
        shared_values=None,
    ) -> tf.Tensor:
        """Shot-noise estimate of expectation values (like TFQ's sampled expectation).

        Each Pauli term of each observable is estimated from its own `repetitions` shots
        measured in the term's eigenbasis: its +/-1 outcomes are Binomial(repetitions,
        (1 + <P>)/2), drawn directly from the exact <P>. The gradient is the exact
        (analytic) gradient of the expectation (straight-through estimator).

        Args:
            symbol_values: (batch, n_symbols) float values.
            observables: list of `cirq.PauliSum` (defaults to the constructor's).
            repetitions: shots per Pauli term.
            seed: int or shape-[2] tensor (None: fresh randomness).
            trajectories: noisy circuits only: trajectories used for <P>.
            shared_values: (n_shared,) values of `shared_symbols` (only with shared symbols).

        Returns:
            (batch, n_observables) float32.

        Example:
            >>> sim.sampled_expectation(tf.zeros([1, 1]), [cirq.Z(q[0])], repetitions=100, seed=3)
        """
        reps = int(repetitions)
        if reps < 1:
            raise ValueError(f"repetitions must be >= 1, got {repetitions!r}")
        plan = self._obs_plan(observables)
        v, s = self._values(symbol_values, shared_values)
        sd = as_seed(seed)
        exact = self.expectation(
            v, plan.term_plan(), trajectories=trajectories, seed=sd, shared_values=s
        )  # (B, T)
        terms = plan.terms
        b = tf.shape(v)[0]
        if not terms:
            return tf.zeros([b, plan.n_obs], RDTYPE) + plan.offset.astype(np.float32)[None, :]
        p_plus = tf.clip_by_value((tf.stop_gradient(exact) + 1.0) / 2.0, 0.0, 1.0)
        counts = tf.random.stateless_binomial(
            tf.shape(p_plus),
            seed=tf.random.experimental.stateless_fold_in(sd, 7),
            counts=float(reps),
            probs=p_plus,
            output_dtype=RDTYPE,
        )
        est = 2.0 * counts / reps - 1.0
        noisy = exact + tf.stop_gradient(est - exact)
        coef = np.zeros((len(terms), plan.n_obs), np.float32)
        for j, (o, c, _, _, _) in enumerate(terms):
            coef[j, o] = c
        return tf.matmul(noisy, coef) + plan.offset.astype(np.float32)[None, :]
