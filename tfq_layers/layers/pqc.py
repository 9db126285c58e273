"""``PQC``: a parameterized quantum circuit as a Keras layer."""

import json
import math
import threading
from typing import Any, Optional, Sequence, Union

import cirq
import sympy
import numpy as np
import tensorflow as tf

from tfq_layers import serialization
from tfq_layers._keras import keras, register
from tfq_layers import backends
from tfq_layers.backends import memory
from tfq_layers.engine import Engine
from tfq_layers.expressions import checked_features
from tfq_layers.errors import CircuitError
from tfq_layers.program import Program


Symbols = Sequence[Union[str, sympy.Symbol]]
Observables = Union[
    cirq.PauliSum, cirq.PauliString, Sequence[Union[cirq.PauliSum, cirq.PauliString]], None
]


def default_initializer():
    """Uniform angles in ``[0, 2*pi)``: the default for circuit weights."""
    return keras.initializers.RandomUniform(minval=0.0, maxval=2.0 * math.pi)


@register("PQC")
class PQC(keras.layers.Layer):
    """Expectation values of a parameterized Cirq circuit, as a Keras layer.

    The circuit's free sympy symbols are split in two: ``input_symbols`` take their values from the
    input features, column by column; every other symbol is a trainable weight. Gate angles may be
    any sympy expression of these symbols (``w*x + b``, ``atan(x)``, ``2*pi*x``, ``x0*x1``): the
    layer compiles them to TensorFlow once, and the whole batch is simulated by one TFQ op call.
    Gradients reach the weights and, through the expressions, the inputs (so layers before this one
    train too).

    Args:
        circuit: ``cirq.Circuit`` on ``cirq.GridQubit``/``cirq.LineQubit`` qubits. Terminal
            measurements are ignored.
        observables: a ``cirq.PauliSum``/``cirq.PauliString`` or a list of them; one output
            column each.
        input_symbols: symbols (or their names) fed from the input features, in column order.
            ``None`` when the layer's input is quantum data only.
        differentiator: ``"adjoint"`` (default, exact), ``"parameter_shift"``,
            ``"finite_difference"``/``"central_difference"``, ``"forward_difference"``, or a
            ``tfq.differentiators`` instance. With ``repetitions`` the default is parameter shift.
        repetitions: ``None`` for exact expectation values; an int for sampled expectations with
            that many shots per observable (as on hardware). A circuit with noise channels
            (``cirq.depolarize`` ...) needs it: the number of quantum trajectories averaged.
        initializer: Keras initializer of the circuit weights; default uniform in ``[0, 2*pi)``.
        regularizer: Keras regularizer of the circuit weights.
        constraint: Keras constraint of the circuit weights.
        weight_symbols: optional explicit order of the trainable symbols; default natural order
            (``w2`` before ``w10``).
        backend: ``"auto"`` (default), ``"tfq"`` or ``"statevector"``. ``"tfq"`` runs TFQ's qsim
            ops (needed for quantum-data inputs and TFQ differentiators); ``"statevector"`` is a
            pure-TensorFlow simulator: any gate with a unitary (``MatrixGate``, ``TOFFOLI`` ...),
            exact autodiff gradients (Hessians too), ``jit_compile=True``, GPU, and exports that
            load with TensorFlow alone. ``"auto"`` picks per layer in ``build`` (see
            ``tfq_layers.backends.choose_backend``, from measured crossovers): statevector unless
            the layer takes quantum data, asks for a TFQ differentiator, or its statevector
            memory estimate does not fit in memory (TFQ's smaller one may). A Cirq object
            (``cirq.Simulator()``, ``cirq.DensityMatrixSimulator(noise=...)``, any
            ``cirq.Sampler``) runs the circuit on it, with parameter-shift gradients
            (:mod:`tfq_layers.backends.cirq_backend`).
        **kwargs: ``name``, ``trainable``, ``dtype`` as for any Keras layer.

    Input shape:
        ``(batch, len(input_symbols))`` float features; or a ``(batch,)`` ``tf.string`` tensor of
        circuits from ``tfq.convert_to_tensor`` (quantum data, the model circuit is appended to each);
        or ``[circuits, features]`` for both.

    Output shape:
        ``(batch, len(observables))`` float32.

    Example:
        >>> import cirq, sympy, keras
        >>> q = cirq.GridQubit.rect(1, 2)
        >>> x0, x1, w0, w1 = sympy.symbols("x0 x1 w0 w1")
        >>> circuit = cirq.Circuit(cirq.rx(sympy.atan(x0)).on(q[0]), cirq.rx(w0 * x1 + w1).on(q[1]),
        ...                        cirq.CNOT(q[0], q[1]))
        >>> layer = PQC(circuit, [cirq.Z(q[0]), cirq.Z(q[1])], input_symbols=["x0", "x1"])
        >>> layer(tf.zeros((3, 2))).shape
        TensorShape([3, 2])
    """

    _requires_observables = True
    _sampled_op = True  # repetitions on a noiseless circuit: shot-noise expectations
    _force_noisy = False  # TFQ's noisy layers simulate by trajectories whatever the circuit

    def __init__(
        self,
        circuit: cirq.AbstractCircuit,
        observables: Observables,
        input_symbols: Optional[Symbols] = None,
        differentiator: Any = None,
        repetitions: Optional[int] = None,
        initializer: Any = None,
        regularizer: Any = None,
        constraint: Any = None,
        weight_symbols: Optional[Symbols] = None,
        backend: Any = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._build_lock = threading.RLock()  # a first call from several threads builds once
        repetitions = memory.check_repetitions(repetitions, type(self).__name__, optional=True)
        self.backend_request = backends.normalize_name(backend)  # as given; `backend`: resolved
        self.repetitions = repetitions
        program = Program(circuit, observables, input_symbols, weight_symbols)
        if self._requires_observables and observables is None:
            raise CircuitError(
                "observables is required: pass e.g. tfq_layers.circuits.z_observables(qubits)."
            )
        self._engine = Engine(
            program,
            backend=self.backend_request,
            differentiator=differentiator,
            sampled=repetitions is not None and self._sampled_op,
            trajectories=repetitions,
            noisy=self._force_noisy,
        )
        self._program = self._engine.program
        if repetitions is None and self._program.has_channels:
            raise ValueError(
                "the circuit has noise channels, which are simulated by sampling quantum "
                "trajectories; pass repetitions=N (e.g. 1000) to set how many are averaged."
            )
        if self.backend_request != "auto":
            self._bind(self.backend_request)
        elif not self._program.n_inputs:  # no features: the input is quantum data
            self._bind(self._engine.choose(quantum_data=True))
        self.initializer = keras.initializers.get(initializer or default_initializer())
        self.regularizer = keras.regularizers.get(regularizer)
        self.constraint = keras.constraints.get(constraint)
        self.circuit_weights = None

    def _bind(self, name):
        """Build the simulator backend ``name``; a sampled expectation of a noiseless circuit
        runs the backend's ``sampled_expectation``, everything else its ``expectation``."""
        self._engine.bind(
            name,
            reason=(
                " (This layer needs the TFQ backend because it takes quantum data, a TFQ "
                "differentiator or sampled expectations.)"
                if self.backend_request == "auto"
                else ""
            ),
        )
        self._program = self._engine.program
        self._sampled = self.repetitions is not None and not self._engine.backend.noisy
        self.supports_jit = self._engine.backend.supports_xla  # Keras's jit_compile="auto"

    @property
    def simulator(self):
        """The simulator running this layer, ``"tfq"`` or ``"statevector"``, once resolved
        (``backend="auto"`` resolves in ``build``); ``None`` before."""
        return None if self._engine.backend is None else self._engine.backend.name

    @property
    def backend(self):
        """The same as :attr:`simulator` (the name of the ``backend=`` argument, kept for TFQ's
        signature and existing code; it is not the Keras backend)."""
        return self.simulator

    @property
    def simulator_backend(self):
        """The bound :class:`~tfq_layers.backends.base.Backend` (``None`` before ``build`` for
        ``backend="auto"``)."""
        return self._engine.backend

    # -- introspection ------------------------------------------------------------------------
    @property
    def circuit(self):
        """The user's circuit (terminal measurements removed)."""
        return self._program.circuit

    @property
    def observables(self):
        """The observables, as a list of ``cirq.PauliSum``."""
        return list(self._program.observables)

    @property
    def input_symbols(self):
        return list(self._program.input_symbols)

    @property
    def weight_symbols(self):
        """Trainable symbols, in the order of ``circuit_weights``."""
        return list(self._program.weight_symbols)

    @property
    def program(self):
        """The compiled :class:`~tfq_layers.program.Program`."""
        return self._program

    @property
    def differentiator(self):
        """The differentiator in use, ``{"name": ..., "config": ...}`` (``"autodiff"`` for the
        statevector backend); ``None`` before an ``"auto"`` backend is resolved in ``build``."""
        if self._engine.backend is None:
            return None
        return self._engine.backend.differentiator_for(self._sampled)

    def symbol_values(self):
        """Current weights as a ``{symbol name: float}`` dict.

        Keys are the symbol names (``str``), as in ``get_config()["weight_symbols"]`` and the saved
        weights, so the dict survives a save/load and JSON; ``cirq.resolve_parameters`` accepts
        it as it is. (``tfq_layers.compat`` layers key by ``sympy.Symbol``, as TFQ's do.)

        Example:
            >>> resolved = cirq.resolve_parameters(layer.circuit, layer.symbol_values())  # doctest: +SKIP
        """
        if self.circuit_weights is None:
            return {}
        values = self.circuit_weights.numpy()
        return {s.name: float(v) for s, v in zip(self._program.weight_symbols, values)}

    def __repr__(self):
        names = lambda symbols: "[" + ", ".join(s.name for s in symbols) + "]"  # noqa: E731
        parts = [
            f"name={self.name}",
            f"qubits={self._program.n_qubits}",
            f"inputs={names(self._program.input_symbols)}",
            f"weights={names(self._program.weight_symbols)}",
        ]
        if self._requires_observables:
            obs = [str(o) for o in self._program.observables]
            shown = ", ".join(obs[:3]) + (f", ... ({len(obs)} in all)" if len(obs) > 3 else "")
            parts.append(f"observables=[{shown}]")
        simulator = self.simulator or f"{self.backend_request} (chosen in build)"
        parts += [f"simulator={simulator}", f"built={self.built}"]
        return f"<{type(self).__name__} {', '.join(parts)}>"

    # -- Keras --------------------------------------------------------------------------------
    def _split_shapes(self, shapes):
        """``shapes`` from :func:`_as_shape_list` -> ``(circuits_shape, features_shape)``."""
        if shapes is None:
            return None, None
        if isinstance(shapes, list):
            if len(shapes) != 2:
                raise ValueError(
                    f"{self.name} takes one input or [circuits, features]; got {len(shapes)} inputs."
                )
            return shapes[0], shapes[1]
        if self._program.n_inputs:
            return None, shapes
        return shapes, None

    def build(self, input_shape):
        circuits_shape, features_shape = self._split_shapes(_as_shape_list(input_shape))
        if features_shape is not None:
            self._check_feature_shape(features_shape)
        with self._build_lock:
            if not self._engine.bound:
                self._bind(self._engine.choose(quantum_data=circuits_shape is not None))
            if circuits_shape is not None and not self._engine.backend.quantum_data_in_graph:
                self.supports_jit = False  # the backend reads quantum data on the host
            if self._program.n_weights and self.circuit_weights is None:
                self._add_circuit_weights()
        self.built = True

    def _add_circuit_weights(self):
        self.circuit_weights = self.add_weight(
            name="circuit_weights",
            shape=(self._program.n_weights,),
            initializer=self.initializer,
            regularizer=self.regularizer,
            constraint=self.constraint,
            trainable=True,
            dtype="float32",
            autocast=False,
        )  # circuit angles stay float32 under mixed precision

    def _check_feature_shape(self, shape):
        n = self._program.n_inputs
        names = [s.name for s in self._program.input_symbols]
        if len(shape) != 2 or (shape[-1] is not None and shape[-1] != n):
            if n == 0:
                raise ValueError(
                    f"{self.name} has no input_symbols, so it takes quantum data (a tf.string "
                    f"tensor of circuits) and no features, but got features of shape {shape}. "
                    "Pass input_symbols=[...] naming the circuit symbols the features feed."
                )
            hint = (
                " If this input is quantum data (a tf.string tensor of circuits), the layer "
                "takes [circuits, features]."
                if len(shape) == 1
                else ""
            )
            raise ValueError(
                f"{self.name} expects inputs of shape (batch, {n}), one feature per input symbol "
                f"{names}, but got shape {shape}. Make the previous layer output {n} features "
                f"or change input_symbols.{hint}"
            )

    def compute_output_shape(self, input_shape):
        circuits_shape, features_shape = self._split_shapes(_as_shape_list(input_shape))
        batch = (features_shape or circuits_shape or (None,))[0]
        return (batch,) + self._output_shape()

    def _output_shape(self):
        """The output shape after the batch dimension."""
        return (len(self._program.observables),)

    def call(self, inputs):
        circuits, features = self._split_inputs(inputs)
        if features is not None:
            features = checked_features(features, self.name)
            batch = tf.shape(features)[0]
        else:
            batch = tf.shape(circuits)[0]
        weights = None
        if self.circuit_weights is not None:
            weights = tf.convert_to_tensor(self.circuit_weights)
        values, shared = self._engine.parameters(features, weights, batch)
        out = self._run(self._engine.backend, values, shared, circuits)
        if out.dtype == tf.float32 and self.compute_dtype not in (None, "float32"):
            out = tf.cast(out, self.compute_dtype)
        return out

    def _run(self, sim, values, shared, circuits):
        """The backend operation this layer outputs (subclasses output other quantities)."""
        if self._sampled:
            return sim.sampled_expectation(
                values, shared, self._program.observables, self.repetitions, data=circuits
            )
        return sim.expectation(values, shared, self._program.observables, data=circuits)

    def _split_inputs(self, inputs):
        if inputs is None or isinstance(inputs, tf.SparseTensor):
            checked_features(inputs, self.name)  # raises, naming the fix
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 2:
                raise ValueError(
                    f"{self.name} takes one input or [circuits, features]; got "
                    f"{len(inputs)} inputs."
                )
            circuits, features = inputs
            circuits = tf.convert_to_tensor(circuits)
            if circuits.dtype != tf.string:
                raise TypeError(
                    f"{self.name}: the first of [circuits, features] must be a tf.string tensor "
                    f"from tfq_layers.compat.convert_to_tensor; got dtype {circuits.dtype.name}."
                )
            return circuits, tf.convert_to_tensor(features)
        if isinstance(inputs, tf.RaggedTensor):
            raise TypeError(
                f"{self.name} got a ragged tensor; every example needs the same "
                f"{self._program.n_inputs} features. Pad or truncate first (e.g. "
                "x.to_tensor())."
            )
        inputs = tf.convert_to_tensor(inputs)
        if inputs.dtype == tf.string:
            if self._program.n_inputs:
                raise ValueError(
                    f"{self.name} has input_symbols {[s.name for s in self.input_symbols]}, so "
                    "with quantum data it takes [circuits, features]."
                )
            return inputs, None
        if not self._program.n_inputs:
            raise TypeError(
                f"{self.name} has no input_symbols, so its input must be quantum data: a tf.string "
                "tensor from tfq_layers.compat.convert_to_tensor(circuits). To feed features, pass "
                "input_symbols=[...]."
            )
        if inputs.shape.rank != 2 or (
            inputs.shape[-1] is not None and inputs.shape[-1] != self._program.n_inputs
        ):
            self._check_feature_shape(tuple(inputs.shape))
        return None, inputs

    # -- weights are saved with their symbol names and loaded by name ----------------------------
    def save_own_variables(self, store):
        super().save_own_variables(store)
        if self.circuit_weights is not None:
            # names as UTF-8 JSON in a uint8 array (the weights stores take numeric arrays only)
            text = json.dumps([s.name for s in self.weight_symbols]).encode()
            store["weight_symbols"] = np.frombuffer(text, dtype=np.uint8)

    def load_own_variables(self, store):
        if self.circuit_weights is None or "weight_symbols" not in store:
            return super().load_own_variables(store)  # older files: by position, as saved
        try:
            saved = json.loads(np.asarray(store["weight_symbols"], np.uint8).tobytes().decode())
        except (ValueError, UnicodeDecodeError) as err:
            raise ValueError(
                f"{self.name}: the saved weight symbol names are unreadable ({err}); "
                "the weights file was altered."
            ) from None
        if not isinstance(saved, list) or not all(isinstance(n, str) for n in saved):
            raise ValueError(
                f"{self.name}: the saved weight symbol names are not a list of "
                "strings; the weights file was altered."
            )
        mine = [s.name for s in self.weight_symbols]
        if sorted(saved) != sorted(mine):
            raise ValueError(
                f"{self.name}: the saved weights belong to symbols {saved}, but this layer's "
                f"circuit has weight symbols {mine} (missing here: "
                f"{sorted(set(saved) - set(mine))}, new here: {sorted(set(mine) - set(saved))}). "
                "Load into a layer built from the same circuit."
            )
        values = np.asarray(store["0"])
        if values.shape != (len(saved),):
            raise ValueError(
                f"{self.name}: the saved weights hold {values.size} value(s) of shape "
                f"{values.shape} for the {len(saved)} weight symbols {saved}; the weights file "
                "was altered or is damaged. Save the weights again from the trained model."
            )
        by_name = dict(zip(saved, values))
        self.circuit_weights.assign(np.array([by_name[n] for n in mine], dtype=np.float32))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "circuit": serialization.dumps(self._program.circuit),
                "observables": serialization.dumps(self._program.observables)
                if self._requires_observables
                else None,
                "input_symbols": [s.name for s in self._program.input_symbols],
                "weight_symbols": [s.name for s in self._program.weight_symbols],
                "differentiator": backends.plain_spec(self._engine.differentiator),
                "repetitions": self.repetitions,
                "backend": backends.request_config(self.backend_request),
                "initializer": keras.initializers.serialize(self.initializer),
                "regularizer": keras.regularizers.serialize(self.regularizer)
                if self.regularizer is not None
                else None,
                "constraint": keras.constraints.serialize(self.constraint)
                if self.constraint is not None
                else None,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        backends.check_saved_differentiator(config.get("differentiator"))
        config["circuit"] = load_circuit(config["circuit"])
        if config.get("observables") is not None:
            config["observables"] = serialization.loads(config["observables"])
        return cls(**deserialize_weight_arguments(config))


def deserialize_weight_arguments(config):
    """``config`` with its serialized initializer, regularizer and constraint rebuilt."""
    for key, module in (
        ("initializer", keras.initializers),
        ("regularizer", keras.regularizers),
        ("constraint", keras.constraints),
    ):
        if config.get(key) is not None:
            config[key] = module.deserialize(config[key])
    return config


def load_circuit(text):
    circuit = serialization.loads(text)
    if not isinstance(circuit, cirq.Circuit):
        raise serialization.SerializationError(
            f"saved 'circuit' is a {type(circuit).__name__}, not a cirq.Circuit; the file was "
            "altered or is not a tfq_layers model."
        )
    return circuit


def _as_shape_list(input_shape):
    """Normalize Keras 3 / tf_keras shapes (tuples, TensorShapes, lists of them) to tuples."""
    if input_shape is None:
        return None
    if isinstance(input_shape, tf.TensorShape):
        return tuple(input_shape.as_list()) if input_shape.rank is not None else (None,)
    if (
        isinstance(input_shape, (list, tuple))
        and input_shape
        and all(isinstance(s, (list, tuple, tf.TensorShape)) or s is None for s in input_shape)
        and any(isinstance(s, (list, tuple, tf.TensorShape)) for s in input_shape)
    ):
        return [_as_shape_list(s) if s is not None else None for s in input_shape]
    return tuple(input_shape)
