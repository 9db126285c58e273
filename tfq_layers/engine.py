"""``Engine``: a compiled :class:`~tfq_layers.program.Program` bound to one backend.

This is the piece every quantum layer and generator holds. It owns the rules that connect the
three stages, so no layer repeats them:

* compile the circuit for the gate set of the backend that will run it (``"auto"`` compiles for
  any gate first and re-checks against the chosen backend's gate set when it is bound);
* map ``(features, weights)`` to the backend's ``(values, shared)`` with
  :class:`~tfq_layers.expressions.ParameterMap`;
* build the backend through :func:`tfq_layers.backends.make_backend`.

Data flows one way: circuit -> Program -> Engine(backend) -> layer.
"""

from tfq_layers import backends
from tfq_layers.errors import CircuitError
from tfq_layers.expressions import ParameterMap
from tfq_layers.program import Program


class Engine:
    """A program plus the backend that runs it.

    Args:
        program_args: keyword arguments of :class:`~tfq_layers.program.Program` (``circuit``,
            ``observables``, ``input_symbols``, ``weight_symbols`` ...), without ``gate_set``.
        backend: ``"auto"``, ``"tfq"``, ``"statevector"`` (or TFQ's ``"noiseless"``/``"noisy"``);
            a backend that cannot run here raises
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
        program_args,
        backend="auto",
        differentiator=None,
        sampled=False,
        trajectories=None,
        share_weights=True,
        noisy=False,
    ):
        self.request = backends.normalize_name(backend)
        backends.require(self.request)  # TFQ asked for where it cannot run: one clear error now
        self._args = dict(program_args)
        self.program = Program(gate_set=backends.gate_set(self.request), **self._args)
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
            try:  # the same program, checked against the chosen backend's gate set
                if self.program.gate_set is None:
                    self.program.check_gate_set(gate_set)
                else:
                    self.program = Program(gate_set=gate_set, **self._args)
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
        import tensorflow as tf

        return self.values(features, weights, batch), tf.zeros([0], tf.float32)


__all__ = ["Engine"]
