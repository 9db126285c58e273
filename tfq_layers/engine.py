"""``Engine``: a compiled :class:`~tfq_layers.program.Program` bound to one backend.

This is the piece every quantum layer and generator holds. It owns the rules that connect the
three stages, so no layer repeats them:

* check the program against the gate set of the backend that will run it (``"auto"``: when the
  chosen backend is bound);
* map ``(features, weights)`` to the backend's ``(values, shared)`` with
  :class:`~tfq_layers.expressions.ParameterMap`;
* build the backend through :func:`tfq_layers.backends.make_backend`.

Data flows one way: circuit -> Program -> Engine(backend) -> layer.
"""

import tensorflow as tf

from tfq_layers import backends
from tfq_layers.errors import CircuitError
from tfq_layers.expressions import ParameterMap


class Engine:
    """A program plus the backend that runs it.

    Args:
        program: the compiled :class:`~tfq_layers.program.Program`; it is checked against the
            gate set of the requested backend here (of the chosen one in ``bind`` for ``"auto"``).
        backend: ``"auto"``, ``"tfq"``, ``"statevector"`` (or TFQ's ``"noiseless"``/``"noisy"``),
            or a Cirq simulator/sampler object; a backend that cannot run here raises
            :class:`~tfq_layers.errors.BackendUnavailableError`.
        differentiator: ``None``, a name, a ``tfq.differentiators`` instance or a spec.
        sampled: whether the layer's op is sampled (``repetitions`` with a noiseless circuit), for
            the default differentiator and its checks.
        trajectories: trajectories averaged for noisy circuits.
        noisy: simulate by trajectories even if the circuits have no channel (TFQ's noisy layers,
            whose quantum data may bring channels).
        share_weights: pass weight-only placeholders once per batch (``shared``); ``False`` makes
            every placeholder a batched column (``values`` then has one column per placeholder,
            in ``program.placeholder_names`` order, so callers may shift single columns).

    Attributes:
        program: the compiled program.
        backend: the bound :class:`~tfq_layers.backends.base.Backend` (``None`` until ``bind`` for
            an ``"auto"`` request).
        request: the normalized backend request.
    """

    def __init__(
        self,
        program,
        backend="auto",
        differentiator=None,
        sampled=False,
        trajectories=None,
        share_weights=True,
        noisy=False,
    ):
        self.request = backends.normalize_name(backend)
        backends.require(self.request)  # TFQ asked for where it cannot run: one clear error now
        self.program = program
        gate_set = backends.gate_set(self.request)
        if gate_set is not None and program.gate_set is not gate_set:
            program.check_gate_set(gate_set)
        noisy = self.program.has_channels or noisy
        self.noisy = noisy
        if self.request == "statevector" and differentiator is not None:
            raise ValueError(
                "differentiator applies to backend='tfq'; the statevector backend differentiates "
                "exactly by TensorFlow autodiff. Drop differentiator or use backend='tfq'."
            )
        self.differentiator = (
            None
            if differentiator is None
            else backends.differentiator_spec(differentiator, sampled or noisy)
        )
        if self.request == "auto":  # only TFQ applies one: is it here?
            backends.require_differentiator(differentiator)
        self.sampled = sampled
        self.share_weights = share_weights
        self.trajectories = trajectories
        self.backend = None
        self.values = None

    @property
    def bound(self):
        return self.backend is not None

    def choose(self, quantum_data=False):
        """The backend ``"auto"`` picks for this program (see ``backends.choose_backend``)."""
        return backends.choose_backend(
            self.program.n_qubits,
            quantum_data=quantum_data,
            differentiator=self.differentiator,
            repetitions=self.sampled,
            noisy=self.noisy,
            n_circuits=len(self.program.circuits),
        )

    def bind(self, name=None, reason=""):
        """Build the backend ``name`` (default: the request, or ``choose()`` for ``"auto"``)."""
        if name is None:
            name = self.choose() if self.request == "auto" else self.request
        gate_set = backends.gate_set(name)
        if self.program.gate_set is not gate_set:
            try:  # the compiled circuits do not depend on the gate set, only what is accepted
                self.program.check_gate_set(gate_set)
            except CircuitError as err:
                raise CircuitError(f"{err}{reason}") from None
        self.values = ParameterMap(self.program)
        if self.share_weights:
            batched, shared = self.values.split_names()
        else:
            batched, shared = list(self.program.placeholder_names), []
        self.backend = backends.make_backend(
            name,
            self.program,
            batched,
            shared,
            differentiator=self.differentiator,
            trajectories=self.trajectories,
            noisy=self.noisy,
        )
        return self.backend

    def parameters(self, features, weights, batch):
        """``(values (batch, n_batched), shared (n_shared,))`` for the backend."""
        if self.share_weights:
            return self.values.split(features, weights, batch)
        return self.values(features, weights, batch), tf.zeros([0], tf.float32)


__all__ = ["Engine"]
