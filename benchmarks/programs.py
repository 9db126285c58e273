"""TFQ's tutorial programs end to end: ``python -m benchmarks.programs`` (issue #26).

Each program is the training part of a TensorFlow Quantum tutorial as notebooks 06-13 port it,
written once (:data:`PROGRAMS`) against a namespace ``q`` holding ``layers`` (``tfq.layers`` or
``tfq_layers.compat.layers``), ``keras`` (``tf.keras`` = tf_keras, or Keras 3),
``convert_to_tensor`` (``tfq.convert_to_tensor``, or ``tfq_layers.compat.convert_to_tensor`` as
the ported notebooks use it: the same bytes) and ``differentiators`` (TFQ's on both sides, as
notebook 07 uses them). The same source runs on

* ``tfq``: TensorFlow Quantum's own layers under legacy Keras (``TF_USE_LEGACY_KERAS=1``);
* ``ours``: ``tfq_layers.compat`` under Keras 3.

Every (program, side) runs in its own fresh process; within a round the two sides alternate
(which one goes first alternates too), so machine load drifts hit both alike. A child reports its
wall time, its phases (``first``: the first call or first ``fit`` epoch, trace and compile
included; ``fit step``: the median steady-state ``fit`` step; ``eager``: the median eager call of
the program's loop) and its peak RSS.

Two more measurements run on ``ours`` only (``--only`` names them too):

* ``compat-vs-native``: the RL tutorial's policy circuit (4 qubits, 5 layers of re-uploading) as
  TFQ's ``ControlledPQC`` (compat) against the native ``PQC`` on the same circuit: eager call and
  ``fit`` step, both on the ``statevector`` backend and on the ``tfq`` backend;
* ``new-batch``: a statevector ``PQC`` model with the whole step under XLA, called at batch sizes it
  has not seen: the cost of a new batch size over a seen one, and first-call latency at 4, 8 and
  12 qubits against TFQ's first call (the ``first-call`` program, both sides).

``--quick`` (the default) uses small settings (about 2 minutes in all on an idle 2-core machine);
``--full`` the notebooks' full training settings where they stay in minutes.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

# -- the namespace a program body runs against ------------------------------------------------


#: The two floors: the programs with every quantum layer replaced by a stand-in that does no
#: quantum work (:func:`_floor_layers`), under Keras 3 (with the ``ours`` side's imports and
#: serializer) and under tf_keras (with the ``tfq`` side's). A floor is what the framework
#: alone costs a program: no quantum backend can bring a side below its floor.
FLOORS = {"floor-keras3": "ours", "floor-tf_keras": "tfq"}


class Side:
    """What a program body sees: the layers, Keras, convert_to_tensor, differentiators."""

    def __init__(self, side):
        import tensorflow as tf

        self.side = side
        self.tf = tf
        floor = side in FLOORS
        side = FLOORS.get(side, side)
        if side == "tfq":
            import tensorflow_quantum as tfq

            self.keras = tf.keras  # tf_keras under TF_USE_LEGACY_KERAS=1
            self.layers = tfq.layers
        else:
            import keras

            from tfq_layers.compat import layers

            self.keras = keras
            self.layers = layers
        import tensorflow_quantum as tfq  # differentiators: TFQ's on both sides (notebook 07)

        if side == "tfq":
            self.convert_to_tensor = tfq.convert_to_tensor
        else:  # as notebooks 06-13 port it: the same bytes, written without TFQ
            from tfq_layers.compat import convert_to_tensor

            self.convert_to_tensor = convert_to_tensor
        self.differentiators = tfq.differentiators
        if floor:
            self.layers = _floor_layers(self.keras, tf)


def _floor_zeros(tf, operators):
    """``zeros(rows)``: ``(batch, n_operators)`` zeros to add a row's value to."""
    if tf.is_tensor(operators):
        return lambda rows: tf.zeros(tf.shape(operators))
    n = len(operators) if isinstance(operators, (list, tuple)) else 1
    return lambda rows: tf.zeros(tf.stack([tf.shape(rows)[0], n]))


def _floor_layers(keras, tf):
    """Stand-ins for TFQ's layers as the programs call them: the same constructor and call
    arguments, the output shape ``(batch, n_operators)`` and a gradient with respect to the
    symbol values and weights, and no quantum work (the output is a cosine mean of the values or
    weights). ``keras`` is Keras 3 or tf_keras, whichever the side uses."""
    import types

    import cirq

    def width(operators):
        return _floor_zeros(tf, operators)

    class Expectation(keras.layers.Layer):
        def __init__(self, backend=None, differentiator=None, **kwargs):
            super().__init__(**kwargs)

        def __call__(self, inputs, **kwargs):
            if not hasattr(inputs, "dtype"):  # a Cirq circuit: Keras takes tensors only
                inputs = kwargs["symbol_values"]
            return super().__call__(inputs, **kwargs)

        def call(self, inputs, symbol_names=None, symbol_values=None, operators=None, **_):
            row = tf.reduce_mean(tf.cos(symbol_values), axis=1, keepdims=True)
            return row + width(operators)(symbol_values)

    class ControlledPQC(keras.layers.Layer):
        def __init__(self, model_circuit, operators, **kwargs):
            super().__init__(**{k: v for k, v in kwargs.items() if k == "name"})
            self.zeros = width(operators)

        def call(self, inputs):
            row = tf.reduce_mean(tf.cos(inputs[1]), axis=1, keepdims=True)
            return row + self.zeros(inputs[1])

    class PQC(keras.layers.Layer):
        def __init__(self, model_circuit, operators, **kwargs):
            super().__init__(**{k: v for k, v in kwargs.items() if k == "name"})
            self.zeros = width(operators)
            self.n_symbols = len(cirq.parameter_names(model_circuit))

        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(self.n_symbols,), initializer="uniform")

        def call(self, circuits):
            return tf.reduce_mean(tf.cos(self.w)) + self.zeros(circuits)

    class AddCircuit(keras.layers.Layer):
        def call(self, circuits, append=None, prepend=None):
            return tf.identity(circuits)

    return types.SimpleNamespace(
        Expectation=Expectation,
        SampledExpectation=Expectation,
        ControlledPQC=ControlledPQC,
        PQC=PQC,
        NoisyPQC=PQC,
        AddCircuit=AddCircuit,
    )


class Clock:
    """Phase timings of one program run."""

    def __init__(self):
        self.phases = {}

    def add(self, phase, seconds):
        self.phases.setdefault(phase, []).append(seconds)

    def time(self, phase, fn, *args, **kwargs):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        self.add(phase, time.perf_counter() - t)
        return out

    def fit(self, q, model, x, y, epochs, batch_size=None):
        """``model.fit`` with its first epoch timed as ``first`` and later steps as ``fit step``."""
        marks = []

        class Marks(q.keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                marks.append(time.perf_counter())

            def on_epoch_begin(self, epoch, logs=None):
                marks.append(None)

        t = time.perf_counter()
        model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[Marks()])
        total = time.perf_counter() - t
        epochs_marks, current = [], None
        for m in marks:
            if m is None:
                current = []
                epochs_marks.append(current)
            else:
                current.append(m)
        first_end = epochs_marks[0][-1]
        self.add("first", first_end - t)
        steps = []
        for ep in epochs_marks[1:]:
            steps += [b - a for a, b in zip(ep, ep[1:])]
        if len(epochs_marks) > 1:
            # a one-step epoch has no interval inside it: epoch to epoch, fit's overhead included
            starts = [ep[-1] for ep in epochs_marks]
            if not steps:
                steps = [b - a for a, b in zip(starts, starts[1:])]
        if steps:
            self.add("fit step", statistics.median(steps))
        return total


# -- the programs ----------------------------------------------------------------------------


def hello_many_worlds(q, quick, clock):
    """Tutorial 1 (notebook 06): a classical controller steers a qubit through ControlledPQC; then
    two-axis control with Expectation and an operators tensor input."""
    import cirq
    import numpy as np
    import sympy

    tf, keras = q.tf, q.keras
    epochs = 5 if quick else 30
    qubit = cirq.GridQubit(0, 0)
    control = sympy.symbols("theta_1 theta_2 theta_3")
    model_circuit = cirq.Circuit(
        cirq.rz(control[0])(qubit), cirq.ry(control[1])(qubit), cirq.rx(control[2])(qubit)
    )
    rng = np.random.default_rng(0)
    prep = cirq.Circuit(
        cirq.rx(rng.uniform() * 2)(qubit),
        cirq.ry(rng.uniform() * 2)(qubit),
        cirq.rz(rng.uniform() * 2)(qubit),
    )
    circuits_input = keras.Input(shape=(), dtype=tf.string, name="circuits_input")
    commands_input = keras.Input(shape=(1,), dtype=tf.float32, name="commands_input")
    controller = keras.Sequential([keras.layers.Dense(10, activation="elu"), keras.layers.Dense(3)])
    expectation = q.layers.ControlledPQC(model_circuit, operators=cirq.Z(qubit))(
        [circuits_input, controller(commands_input)]
    )
    model = keras.Model([circuits_input, commands_input], expectation)
    data = q.convert_to_tensor([prep] * 2)
    commands = tf.constant([[0.0], [1.0]])
    wanted = np.array([[1], [-1]], np.float32)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="mse")
    clock.fit(q, model, [data, commands], wanted, epochs)
    for _ in range(10 if quick else 40):
        clock.time("eager", model, [data, commands])

    # two-axis control: the operators come as a tensor input
    operators_input = keras.Input(shape=(1,), dtype=tf.string, name="operators_input")
    dense = keras.layers.Dense(3)(keras.layers.Dense(10, activation="elu")(commands_input))
    out = q.layers.Expectation()(
        circuits_input,
        symbol_names=list(control),
        symbol_values=dense,
        operators=operators_input,
    )
    two_axis = keras.Model([circuits_input, commands_input, operators_input], out)
    ops = q.convert_to_tensor([[cirq.X(qubit)], [cirq.Z(qubit)]])
    two_axis.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="mse")
    clock.fit(q, two_axis, [data, tf.constant([[1.0], [0.0]]), ops], wanted, epochs)


def gradients(q, quick, clock):
    """Tutorial 'gradients' (notebook 07): d<X>/dalpha over many angles, per differentiator, in
    eager calls under GradientTape."""
    import cirq
    import numpy as np
    import sympy

    tf = q.tf
    qubit = cirq.GridQubit(0, 0)
    alpha = sympy.Symbol("alpha")
    circuit = cirq.Circuit(cirq.Y(qubit) ** alpha)
    pauli_x = cirq.X(qubit)
    values = tf.convert_to_tensor(
        np.linspace(0, 5, 40 if quick else 200, dtype=np.float32)[:, None]
    )
    d = q.differentiators
    layers = [
        q.layers.Expectation(),
        q.layers.Expectation(differentiator=d.ParameterShift()),
        q.layers.Expectation(differentiator=d.ForwardDifference(grid_spacing=0.01)),
        q.layers.SampledExpectation(differentiator=d.ParameterShift()),
    ]
    for layer in layers:
        sampled = "Sampled" in type(layer).__name__
        for k in range(5 if quick else 20):
            extra = {"repetitions": 500} if sampled else {}

            def step(layer=layer, extra=extra):
                with tf.GradientTape() as tape:
                    tape.watch(values)
                    out = layer(
                        circuit,
                        operators=pauli_x,
                        symbol_names=["alpha"],
                        symbol_values=values,
                        **extra,
                    )
                return tape.gradient(out, values).numpy()

            clock.time("first" if k == 0 else "eager", step)


def qcnn(q, quick, clock):
    """Tutorial QCNN (notebook 10): excitations of a cluster state classified by a quantum
    convolutional network, AddCircuit + PQC on tf.string inputs, hinge loss."""
    import cirq
    import numpy as np
    import sympy

    tf, keras = q.tf, q.keras
    n = 8
    qubits = cirq.GridQubit.rect(1, n)
    rng = np.random.default_rng(1)
    examples, labels = [], []
    for _ in range(2 if quick else 20):
        for k in range(n):
            rot = rng.uniform(-np.pi, np.pi)
            examples.append(cirq.Circuit(cirq.rx(rot)(qubits[k])))
            labels.append(1.0 if -np.pi / 2 <= rot <= np.pi / 2 else -1.0)
    x = q.convert_to_tensor(examples)
    y = np.array(labels, np.float32)
    cluster = cirq.Circuit(cirq.H.on_each(qubits))
    for a, b in zip(qubits, qubits[1:] + [qubits[0]]):
        cluster.append(cirq.CZ(a, b))

    symbols = iter(sympy.symbols("qconv0:400"))

    def one_qubit(bit):
        return [
            cirq.X(bit) ** next(symbols),
            cirq.Y(bit) ** next(symbols),
            cirq.Z(bit) ** next(symbols),
        ]

    def two_qubit(a, b):
        ops = one_qubit(a) + one_qubit(b)
        ops += [cirq.ZZ(a, b) ** next(symbols), cirq.YY(a, b) ** next(symbols)]
        return ops + [cirq.XX(a, b) ** next(symbols)] + one_qubit(a) + one_qubit(b)

    def conv(bits):
        c = cirq.Circuit()
        for a, b in zip(bits[0::2], bits[1::2]):
            c += two_qubit(a, b)
        for a, b in zip(bits[1::2], bits[2::2] + [bits[0]]):
            c += two_qubit(a, b)
        return c

    def pool(sources, sinks):
        c = cirq.Circuit()
        for s, t in zip(sources, sinks):
            c += one_qubit(t) + one_qubit(s) + [cirq.CNOT(s, t)]
        return c

    model_circuit = conv(qubits) + pool(qubits[:4], qubits[4:])
    model_circuit += conv(qubits[4:]) + pool(qubits[4:6], qubits[6:])
    model_circuit += conv(qubits[6:]) + pool(qubits[6:7], qubits[7:])
    readout = cirq.Z(qubits[-1])
    inp = keras.Input(shape=(), dtype=tf.string)
    state = q.layers.AddCircuit()(inp, prepend=cluster)
    out = q.layers.PQC(model_circuit, readout)(state)
    model = keras.Model(inp, out)

    def hinge_accuracy(y_true, y_pred):
        y_true = tf.squeeze(y_true) > 0.0
        y_pred = tf.squeeze(y_pred) > 0.0
        return tf.reduce_mean(tf.cast(y_true == y_pred, tf.float32))

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.02),
        loss=keras.losses.MeanSquaredError(),
        metrics=[hinge_accuracy],
    )
    clock.fit(q, model, x, y, epochs=3 if quick else 25, batch_size=16)


def barren_plateaus(q, quick, clock):
    """Tutorial 'barren plateaus' (notebook 08): the variance of d<Z0 Z1>/dtheta over random
    circuits, per qubit count, from Expectation under GradientTape (a new layer per batch, as the
    tutorial writes it)."""
    import cirq
    import numpy as np
    import sympy

    tf = q.tf
    rng = np.random.default_rng(2)
    theta = sympy.Symbol("theta")
    gates = [cirq.rx, cirq.ry, cirq.rz]
    for n in [2, 4, 6] if quick else [2, 4, 6, 8, 10, 12]:
        qubits = cirq.GridQubit.rect(1, n)
        circuits = []
        for _ in range(40 if quick else 200):
            where = (rng.integers(n), rng.integers(20 if quick else 50))
            c = cirq.Circuit(cirq.ry(np.pi / 4).on_each(qubits))
            for layer in range(20 if quick else 50):
                for i, qb in enumerate(qubits):
                    angle = theta if (i, layer) == where else rng.uniform(0, 2 * np.pi)
                    c.append(gates[rng.integers(3)](angle)(qb))
                c.append(cirq.CZ(a, b) for a, b in zip(qubits, qubits[1:]))
            circuits.append(c)
        op = cirq.Z(qubits[0]) * cirq.Z(qubits[1])
        tensor = q.convert_to_tensor(circuits)
        values = tf.convert_to_tensor(
            rng.uniform(0, 2 * np.pi, (len(circuits), 1)).astype("float32")
        )

        def step(tensor=tensor, op=op, values=values):
            with tf.GradientTape() as tape:
                tape.watch(values)
                out = q.layers.Expectation()(
                    tensor, operators=op, symbol_names=[theta], symbol_values=values
                )
            return np.var(tape.gradient(out, values).numpy())

        clock.time("eager", step)


def noise(q, quick, clock):
    """Tutorial 'noise' (notebook 09): a NoisyPQC classifier of depolarized data, trajectories,
    fit on tf.string circuits."""
    import cirq
    import numpy as np
    import sympy

    tf, keras = q.tf, q.keras
    n, p = 4, 0.01
    qubits = cirq.GridQubit.rect(1, n)
    rng = np.random.default_rng(3)
    symbols = sympy.symbols(f"w0:{3 * n}")
    model_circuit = cirq.Circuit()
    for i, qb in enumerate(qubits):
        model_circuit.append([cirq.rx(symbols[i])(qb), cirq.ry(symbols[n + i])(qb)])
    model_circuit.append(cirq.CNOT(a, b) for a, b in zip(qubits, qubits[1:]))
    for i, qb in enumerate(qubits):
        model_circuit.append(cirq.rz(symbols[2 * n + i])(qb))
    model_circuit = model_circuit.with_noise(cirq.depolarize(p))
    count = 16 if quick else 64
    phases = rng.uniform(0, np.pi, count)
    data = [
        cirq.Circuit(cirq.rx(a)(qb) for qb in qubits).with_noise(cirq.depolarize(p)) for a in phases
    ]
    x = q.convert_to_tensor(data)
    y = (phases > np.pi / 2).astype(np.float32)[:, None]
    inp = keras.Input(shape=(), dtype=tf.string)
    out = q.layers.NoisyPQC(
        model_circuit,
        [cirq.Z(qb) for qb in qubits],
        repetitions=2 if quick else 10,
        sample_based=False,
    )(inp)
    model = keras.Model(inp, keras.layers.Dense(1)(out))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="mse")
    clock.fit(q, model, x, y, epochs=2 if quick else 10, batch_size=8)


def _reuploading(n_qubits, n_layers):
    """The RL tutorial's circuit: variational rotations, CZ ring, encoding rx(lambda*s) per layer."""
    import cirq
    import sympy

    qubits = cirq.GridQubit.rect(1, n_qubits)
    params = sympy.symbols(f"theta(0:{3 * (n_layers + 1) * n_qubits})")
    inputs = sympy.symbols(f"x(0:{n_layers})_(0:{n_qubits})")
    circuit = cirq.Circuit()
    for layer in range(n_layers + 1):
        for i, qb in enumerate(qubits):
            a, b, c = params[3 * (layer * n_qubits + i) : 3 * (layer * n_qubits + i) + 3]
            circuit.append([cirq.rx(a)(qb), cirq.ry(b)(qb), cirq.rz(c)(qb)])
        circuit.append(cirq.CZ(a, b) for a, b in zip(qubits, qubits[1:] + qubits[:1]))
        if layer < n_layers:
            circuit.append(cirq.rx(inputs[layer * n_qubits + i])(qb) for i, qb in enumerate(qubits))
    return qubits, circuit, list(params), list(inputs)


def _policy(q, n_qubits=4, n_layers=5, n_actions=2):
    """The RL tutorial's softmax-PQC policy: ControlledPQC fed [empty circuits, values]."""
    import cirq
    import numpy as np

    tf = q.tf
    qubits, circuit, params, inputs = _reuploading(n_qubits, n_layers)
    names = [s.name for s in params + inputs]
    order = np.argsort(names)  # ControlledPQC takes its symbols in lexicographic order
    pqc = q.layers.ControlledPQC(circuit, cirq.PauliString({qb: cirq.Z for qb in qubits}))
    empty = q.convert_to_tensor([cirq.Circuit()])
    theta = tf.Variable(np.random.default_rng(4).uniform(0, np.pi, len(params)).astype("float32"))
    lmbd = tf.Variable(np.ones(n_layers * n_qubits, np.float32))
    w = tf.Variable(np.array([[1.0, -1.0][:n_actions]], np.float32))

    def policy(states):
        batch = tf.shape(states)[0]
        values = tf.concat(
            [tf.tile(theta[None, :], [batch, 1]), tf.tile(states, [1, n_layers]) * lmbd], axis=1
        )
        expectation = pqc([tf.repeat(empty, batch), tf.gather(values, order, axis=1)])
        return tf.nn.softmax(expectation @ w)

    return policy, [theta, lmbd, w]


def quantum_reinforcement_learning(q, quick, clock):
    """Tutorial 'quantum RL' (notebook 13): REINFORCE with a softmax-PQC policy, the episode loop
    of eager policy calls on a batch of environments (random CartPole-like states: the policy's
    cost, not the environment's), one compiled update per batch of episodes."""
    import numpy as np

    tf = q.tf
    policy, variables = _policy(q)
    optimizer = q.keras.optimizers.Adam(learning_rate=0.01)
    rng = np.random.default_rng(5)

    @tf.function
    def update(states, actions, returns):
        with tf.GradientTape() as tape:
            probs = policy(states)
            picked = tf.gather(probs, actions, batch_dims=1)
            loss = -tf.reduce_mean(tf.math.log(picked) * returns)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

    n_envs = 10
    for episode in range(3 if quick else 10):
        states, actions = [], []
        for t in range(20 if quick else 40):
            s = rng.normal(size=(n_envs, 4)).astype(np.float32)
            probs = clock.time(
                "first" if (episode, t) == (0, 0) else "eager", policy, tf.constant(s)
            )
            a = np.array([rng.choice(2, p=p / p.sum()) for p in probs.numpy()])
            states.append(s)
            actions.append(a)
        s = np.concatenate(states)
        a = np.concatenate(actions).astype(np.int32)
        r = rng.normal(size=len(a)).astype(np.float32)
        clock.time("update", update, tf.constant(s), tf.constant(a), tf.constant(r))


def first_call(q, quick, clock):
    """First-call latency (trace + compile) of a PQC model at 4, 8 and 12 qubits: one predict and
    one training step each. ``ours`` runs the native statevector PQC (its kernels XLA-compiled),
    ``tfq`` TFQ's ControlledPQC; the floors the same model with a Dense layer for the circuit."""
    import cirq
    import numpy as np

    tf, keras = q.tf, q.keras
    for n in [4, 8, 12]:
        qubits, circuit, params, inputs = _reuploading(n, 1)
        x = np.random.default_rng(n).normal(size=(32, n)).astype(np.float32)
        y = np.zeros((32, 1), np.float32)
        features = keras.Input((n,))
        obs = cirq.Z(qubits[0])
        if q.side in FLOORS:  # the framework's own first call: the same model, no circuit
            values = keras.layers.Dense(len(params) + len(inputs))(features)
            out = keras.layers.Dense(1)(values)
            jit = False
        elif q.side == "tfq":
            empty = q.convert_to_tensor([cirq.Circuit()])
            values = keras.layers.Dense(len(params) + len(inputs))(features)
            circuits = keras.layers.Lambda(lambda f, empty=empty: tf.repeat(empty, tf.shape(f)[0]))(
                features
            )
            out = q.layers.ControlledPQC(circuit, obs)([circuits, values])
            jit = False
        else:
            from tfq_layers import PQC

            values = keras.layers.Dense(len(params) + len(inputs))(features)
            out = PQC(circuit, obs, input_symbols=params + inputs, backend="statevector")(values)
            jit = False  # the simulator XLA-compiles its own kernels (batch buckets)
        model = keras.Model(features, out)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", jit_compile=jit)
        clock.time(f"predict {n}q", model.predict, x, verbose=0)
        clock.time(f"train {n}q", model.train_on_batch, x, y)


def fit_overhead(q, quick, clock):
    """The fixed cost of a ``fit`` step for tiny models, Keras 3 against tf_keras: a Dense model
    (no circuit), and ``tfq_layers.PQC`` (2 qubits, statevector) with fit's defaults, with the
    whole step under XLA (``jit_compile=True``) and with ``steps_per_execution=8``. The same
    tfq_layers code on both sides; only Keras differs. A step's time is its epoch's (32 steps of
    batch 4) divided by 32, median over epochs after the first. Also the Dense model's epoch of
    one step (the whole data as one batch): ``fit``'s fixed cost per epoch."""
    import cirq
    import numpy as np
    import sympy

    from tfq_layers import PQC

    keras = q.keras
    qubits = cirq.GridQubit.rect(1, 2)
    x0, x1, w0, w1 = sympy.symbols("x0 x1 w0 w1")
    circuit = cirq.Circuit(
        cirq.rx(x0)(qubits[0]),
        cirq.rx(x1)(qubits[1]),
        cirq.ry(w0)(qubits[0]),
        cirq.ry(w1)(qubits[1]),
        cirq.CNOT(*qubits),
    )
    rng = np.random.default_rng(8)
    x = rng.normal(size=(128, 2)).astype(np.float32)
    y = rng.normal(size=(128, 1)).astype(np.float32)
    variants = {
        "Dense": ({}, False),
        "PQC": ({}, True),
        "PQC jit_compile": ({"jit_compile": True}, True),
        "PQC steps_per_execution=8": ({"steps_per_execution": 8}, True),
    }
    for label, (options, quantum) in variants.items():
        inp = keras.Input((2,))
        if quantum:
            out = PQC(circuit, cirq.Z(qubits[1]), input_symbols=[x0, x1], backend="statevector")(
                inp
            )
        else:
            out = keras.layers.Dense(1)(keras.layers.Dense(4)(inp))
        model = keras.Model(inp, out)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", **options)
        ends = []
        cb = keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda e, logs, ends=ends: ends.append(time.perf_counter()),
            on_epoch_end=lambda e, logs, ends=ends: ends.append(time.perf_counter()),
        )
        model.fit(x, y, batch_size=4, epochs=4 if quick else 10, verbose=0, callbacks=[cb])
        epochs = [b - a for a, b in zip(ends[0::2], ends[1::2])]
        clock.add(f"fit step, {label}", statistics.median(epochs[1:]) / 32)
        if label == "Dense":
            clock.add("first epoch, Dense", epochs[0])  # Keras's trace of its train step
            # one step per epoch, as hello_many_worlds trains: epoch start to epoch start,
            # fit's per-epoch work (a new dataset iterator, callbacks, metrics) included
            starts = []
            cb = keras.callbacks.LambdaCallback(
                on_epoch_begin=lambda e, logs, starts=starts: starts.append(time.perf_counter())
            )
            model.fit(x, y, batch_size=128, epochs=10, verbose=0, callbacks=[cb])
            clock.add(
                "epoch of one step, Dense",
                statistics.median([b - a for a, b in zip(starts[1:], starts[2:])]),
            )


def compat_vs_native(q, quick, clock):
    """The RL policy circuit as compat ControlledPQC against native PQC (eager call, fit step),
    on the statevector and on the TFQ backend (``ours`` only)."""
    import cirq
    import numpy as np

    from tfq_layers import PQC

    tf, keras = q.tf, q.keras
    n, layers_ = 4, 5
    qubits, circuit, params, inputs = _reuploading(n, layers_)
    obs = cirq.PauliString({qb: cirq.Z for qb in qubits})
    order = np.argsort([s.name for s in params + inputs])
    x = np.random.default_rng(6).normal(size=(32, len(order))).astype(np.float32)
    y = np.zeros((32, 1), np.float32)
    names = sorted(s.name for s in params + inputs)
    xs, xc = tf.constant(x), tf.constant(x[:, order])
    empty = q.convert_to_tensor([cirq.Circuit()] * 32)
    features = keras.Input((len(order),))
    strings = keras.Input((), dtype=tf.string)
    for backend in ("statevector", "tfq"):
        native = PQC(circuit, obs, input_symbols=params + inputs, backend=backend)
        if backend == "statevector":  # cirq.Circuit input: TFQ's Expectation layer
            compat = q.layers.Expectation()

            def call_compat(v, compat=compat):
                return compat(circuit, symbol_names=names, symbol_values=v, operators=obs)

            calls = {"native": lambda n=native: n(xs), "compat": lambda: call_compat(xc)}
            models = {
                "native": (keras.Model(features, native(features)), xs),
                "compat": (keras.Model(features, call_compat(features)), xc),
            }
        else:  # quantum data (empty circuits), as the RL tutorial feeds ControlledPQC
            compat = q.layers.ControlledPQC(circuit, obs)
            calls = {
                "native": lambda native=native: native([empty, xs]),
                "compat": lambda compat=compat: compat([empty, xc]),
            }
            models = {
                "native": (
                    keras.Model([strings, features], native([strings, features])),
                    [empty, xs],
                ),
                "compat": (
                    keras.Model([strings, features], compat([strings, features])),
                    [empty, xc],
                ),
            }
        np.testing.assert_allclose(calls["native"]().numpy(), calls["compat"]().numpy(), atol=1e-5)
        for name in ("native", "compat") * (2 if quick else 4):
            for _ in range(10):
                clock.time(f"eager {name} {backend}", calls[name])
        for model, data in models.values():
            model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
            model.fit(data, y, epochs=1, batch_size=8, verbose=0)  # trace
        for name in ("native", "compat") * (2 if quick else 4):
            model, data = models[name]
            marks = []
            cb = keras.callbacks.LambdaCallback(
                on_train_batch_end=lambda b, logs, marks=marks: marks.append(time.perf_counter())
            )
            model.fit(data, y, epochs=2, batch_size=4, verbose=0, callbacks=[cb])
            clock.add(
                f"fit step {name} {backend}",
                statistics.median([b - a for a, b in zip(marks, marks[1:])]),
            )


def new_batch(q, quick, clock):
    """The cost of a batch size not seen before: a statevector PQC model (``fit``'s default
    step: the simulator XLA-compiles its kernels, batches bucketed) trained at batch 32, then at
    new batch sizes 17-29 (bucket 32, after one retrace of Keras's step) and 5, 9 (new buckets)
    (``ours`` only)."""
    import cirq
    import numpy as np

    from tfq_layers import PQC

    keras = q.keras
    for n in (4, 8):
        qubits, circuit, params, inputs = _reuploading(n, 2)
        features = keras.Input((len(inputs),))
        layer = PQC(circuit, cirq.Z(qubits[0]), input_symbols=inputs, backend="statevector")
        model = keras.Model(features, layer(features))
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        rng = np.random.default_rng(n)

        def data(b, rng=rng, inputs=inputs):
            return rng.normal(size=(b, len(inputs))).astype(np.float32), np.zeros((b, 1), "f")

        clock.time(f"first step {n}q", model.train_on_batch, *data(32))
        for _ in range(5):
            clock.time(f"seen batch {n}q", model.train_on_batch, *data(32))
        clock.time(f"first new batch {n}q", model.train_on_batch, *data(17))  # Keras retraces
        for b in (23, 29, 19, 27):
            clock.time(f"new batch {n}q", model.train_on_batch, *data(b))
        for b in (9, 5):
            clock.time(f"new bucket {n}q", model.train_on_batch, *data(b))


PROGRAMS = {
    "hello_many_worlds": hello_many_worlds,
    "gradients": gradients,
    "qcnn": qcnn,
    "barren_plateaus": barren_plateaus,
    "noise": noise,
    "quantum_reinforcement_learning": quantum_reinforcement_learning,
    "first-call": first_call,
    "fit-overhead": fit_overhead,
}
#: The tutorials' programs, which the floors run too.
TUTORIALS = [
    "hello_many_worlds",
    "gradients",
    "qcnn",
    "barren_plateaus",
    "noise",
    "quantum_reinforcement_learning",
]
OURS_ONLY = {"compat-vs-native": compat_vs_native, "new-batch": new_batch}


def child(name, side, quick):
    """Run one program in this (fresh) process; print its JSON line."""
    import resource

    t0 = time.perf_counter()
    q = Side(side)
    import_s = time.perf_counter() - t0
    q.keras.utils.set_random_seed(0)
    clock = Clock()
    t = time.perf_counter()
    {**PROGRAMS, **OURS_ONLY}[name](q, quick, clock)
    total = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    phases = {k: (statistics.median(v) if len(v) > 1 else v[0]) for k, v in clock.phases.items()}
    sums = {k: sum(v) for k, v in clock.phases.items()}
    print(
        "RESULT "
        + json.dumps(
            {"total": total, "import": import_s, "phases": phases, "sums": sums, "rss_mb": rss}
        )
    )


def run_child(name, side, quick):
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.pop("TF_USE_LEGACY_KERAS", None)
    if FLOORS.get(side, side) == "tfq":
        env["TF_USE_LEGACY_KERAS"] = "1"
    args = [sys.executable, "-m", "benchmarks.programs", "--child", name, "--side", side]
    args.append("--quick" if quick else "--full")
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{name} on {side} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def _fmt(s):
    return "-" if s is None else (f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s")


def _ratio(a, b):
    return "-" if not a or not b else f"{a / b:.2f}"


def machine():
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        model, cores = names[0], len(names)
    except (OSError, IndexError):
        cores = os.cpu_count()
    return f"{model}, {cores} cores, load average {os.getloadavg()[0]:.1f} at start"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child")
    parser.add_argument("--side", choices=["tfq", "ours", *FLOORS])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", default=True)
    mode.add_argument("--full", action="store_true")
    parser.add_argument("--only", nargs="*", help="program names (default: all)")
    parser.add_argument("--rounds", type=int, default=1, help="fresh processes per side")
    parser.add_argument(
        "--no-floors",
        action="store_true",
        help="skip the floors (the programs with stand-ins for the quantum layers)",
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    quick = not args.full
    if args.child:
        return child(args.child, args.side, quick)
    names = args.only or list(PROGRAMS) + list(OURS_ONLY)
    print(f"# {machine()}; {'quick' if quick else 'full'} settings; {args.rounds} round(s)")
    for i, name in enumerate(names):
        if name in OURS_ONLY:
            runs = {"ours": [run_child(name, "ours", quick) for _ in range(args.rounds)]}
        else:
            sides = ["tfq", "ours"]
            if not args.no_floors and name in TUTORIALS + ["first-call"]:
                sides += list(FLOORS)
            runs = {side: [] for side in sides}
            for r in range(args.rounds):
                for side in sides if (i + r) % 2 == 0 else sides[::-1]:
                    runs[side].append(run_child(name, side, quick))
        report(name, runs)
    return 0


def report(name, runs):
    def med(side, key, sub=None):
        vals = [r[key] if sub is None else r[key].get(sub) for r in runs.get(side, [])]
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    print(f"\n## {name}")
    if "tfq" in runs:
        floors = [f for f in FLOORS if f in runs]
        head = f"{'phase':<24}{'TFQ (tf_keras)':>16}{'ours (Keras 3)':>16}{'TFQ / ours':>12}"
        print(head + "".join(f"{f:>16}" for f in floors))

        def row(label, key, sub=None):
            t, o = med("tfq", key, sub), med("ours", key, sub)
            cells = "".join(f"{_fmt(med(f, key, sub)):>16}" for f in floors)
            print(f"{label:<24}{_fmt(t):>16}{_fmt(o):>16}{_ratio(t, o):>12}{cells}")

        row("end to end", "total")
        phases = sorted(set().union(*(r["phases"] for rs in runs.values() for r in rs)))
        for p in phases:
            row(p, "phases", p)
        t, o = med("tfq", "rss_mb"), med("ours", "rss_mb")
        print(f"{'peak RSS':<24}{t:>13.0f} MB{o:>13.0f} MB{_ratio(t, o):>12}")
        if floors:
            t, f3 = med("tfq", "total"), med("floor-keras3", "total")
            print(
                f"the most TFQ / ours can reach under Keras 3 (no quantum work at all): "
                f"TFQ / floor-keras3 = {_ratio(t, f3)}"
            )
        return
    phases = {p for r in runs["ours"] for p in r["phases"]}
    for p in sorted(phases):
        print(f"{p:<32}{_fmt(med('ours', 'phases', p)):>12}")
    if name == "compat-vs-native":
        for kind in ("eager", "fit step"):
            for backend in ("statevector", "tfq"):
                c = med("ours", "phases", f"{kind} compat {backend}")
                n = med("ours", "phases", f"{kind} native {backend}")
                print(f"compat / native, {kind}, {backend}: {_ratio(c, n)} (target <= 1.2)")
    if name == "new-batch":
        for n in (4, 8):
            new = med("ours", "phases", f"new batch {n}q")
            seen = med("ours", "phases", f"seen batch {n}q")
            print(f"new-batch-size cost at {n} qubits: {_fmt(new - seen)} over a seen batch")
            first = med("ours", "phases", f"first new batch {n}q")
            print(f"  (the first size change, Keras's retrace included: {_fmt(first)})")


if __name__ == "__main__":
    sys.exit(main())
