"""Cost model of a compiled statevector plan: the one home of the rule that picks between plans.

On large registers a simulation step costs passes over the batch's state, so a plan's cost is
counted in *passes* (one read and one write of the whole state). The unit costs below were
measured on the 2-core AMD EPYC machine of BENCHMARKS.md at 20 qubits, batch 8 (64 MiB of
state; one elementwise pass 5.8 ms), with the ops the steps run (re-measure with
``benchmarks/simulator.py --fusion``):

* transpose that brings a block's qubits to the trailing axes: 6-8 ms, about 1.2 passes;
* realified GEMM of a k-qubit block: 7-9 ms up to k = 4 (memory-bound), 15 ms at k = 5, 23 ms at
  6, 42 ms at 7 (compute-bound, doubling per qubit); the gradient's GEMM (x^T g) costs the same;
* gather of the whole state by a full index (a permutation step): 35 ms, about 6 passes;
* diagonal step (complex multiply, a few elementwise ops): about 4 passes;
* product-state prefix: its outer products write the state once or twice; their gradient reads
  the cotangent through two thin GEMMs, about 3 passes.

The model only ranks plans of one circuit against each other; it does not predict wall time.
"""

from __future__ import annotations

from typing import Sequence

TRANSPOSE = 1.2
PERMUTATION = 6.0
DIAGONAL = 4.0
PREFIX_BUILD = 1.5
PREFIX_GRADIENT = 3.0


def gemm(k: int) -> float:
    """Passes of a GEMM applying a k-qubit block (memory-bound up to 4 qubits)."""
    return max(1.2, 2.6 * 2.0 ** (k - 5))


def step_cost(step) -> float:
    """Passes over the state of applying (or un-computing) one step."""
    if step.kind in ("dense", "channel"):
        return (TRANSPOSE if step.mode == "general" else 0.0) + gemm(len(step.targets))
    if step.kind == "diag":
        return DIAGONAL
    if step.kind == "perm":
        return PERMUTATION
    return 0.0


def _parameterized(step) -> bool:
    return step.kind in ("dense", "diag") and step.chain is not None


def plan_cost(steps: Sequence, prefix: bool, prefix_parameterized: bool, gradient: str) -> float:
    """Passes over the state of one forward + gradient evaluation of a plan.

    Args:
        steps: the plan's compile-time steps (`compile.Step`), in order.
        prefix: whether the plan starts from a product-state prefix (else from |0...0>).
        prefix_parameterized: whether the prefix depends on symbols (then it has a gradient).
        gradient: 'adjoint' (the backward sweep un-computes the state from the parameterized
            steps on, as `SimulatorEngine._state_adjoint` does) or 'autodiff' (stored states).
    """
    forward = (PREFIX_BUILD if prefix else 0.0) + sum(step_cost(s) for s in steps)
    first_param = next((i for i, s in enumerate(steps) if _parameterized(s)), len(steps))
    backward = PREFIX_GRADIENT if (prefix and prefix_parameterized) else 0.0
    for i, s in enumerate(steps):
        cost = step_cost(s)
        backward += cost  # the cotangent
        if _parameterized(s):
            backward += gemm(len(s.targets)) if s.kind == "dense" else DIAGONAL
        if gradient == "adjoint" and i >= first_param:
            backward += cost  # un-computing the state
    return forward + backward
