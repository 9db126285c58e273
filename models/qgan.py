"""Quantum GAN (Zoufal, Lucchi & Woerner 2019): a log-normal distribution loaded into 3 qubits.

Target: the log-normal distribution with ``mu = 1``, ``sigma = 1`` (of the underlying normal),
discretized to the 8 integers ``0 .. 7`` (bin ``j`` collects ``[j - 1/2, j + 1/2)``, the first bin
starts at 0; the mass above 7.5 is cut off and the rest renormalized). Training data: 20,000
samples of it (fixed seed).

Generator: :class:`tfq_layers.generative.BornMachine` on 3 qubits with the paper's circuit shape:
Hadamards (a uniform initial distribution), a layer of ``ry``, then ``DEPTH`` blocks of a ``CZ``
chain and a layer of ``ry`` (``DEPTH = 1``: 6 angles). Outcome ``j`` (qubit 0 the most significant
bit) stands for the value ``j``. Discriminator: a Keras MLP ``1 -> 50 -> 20 -> 1`` (leaky ReLU,
sigmoid output) on the value rescaled to ``[-1, 1]``. Both players: Adam (``amsgrad``,
``beta_1 = 0.7``, ``beta_2 = 0.99``), learning rate 0.001 for the generator and 0.003 for the
discriminator, batch 2,000, 100 epochs of 10 steps, each step one update of each player
(:class:`tfq_layers.generative.QGAN`, trained with ``fit``).

Reported: the relative entropy after every epoch and at the end, in both directions:
``KL(generated || target)`` is the paper's (Qiskit's qGAN computes ``scipy.stats.entropy(p_generated,
p_data)``), ``KL(target || generated)`` the one :meth:`QGAN.kl_to_target` tracks; for context, the KL
the same 6-angle circuit reaches when fit to the target directly (:func:`circuit_floor`), which no
GAN with this generator can beat.

The reference value: the paper's results table (npj Quantum Information 5:103, Table 1) could not be
retrieved and checked from the sources available here, so the recipe compares with the trained
3-qubit log-normal generator the paper's authors published (Zoufal and Woerner's qGAN option-pricing
tutorial, Qiskit/qiskit-tutorials, ``qiskit/finance/machine_learning/qgan_option_pricing.ipynb`` at
commit 877c9f9, 2019-04-18): :func:`published_generator` rebuilds it from its six published angles,
and the recipe prints its relative entropy against the same target next to ours. See
models/README.md.

Run ``python -m models.qgan`` (``--plots DIR`` writes the learned vs target histogram and the KL
curve; ``--export DIR`` saves the generator as ``model.keras``).

Example:
    >>> from models import qgan
    >>> data, target = qgan.load_data(n_samples=100)
    >>> data.shape, round(float(target.sum()), 6)
    ((100,), 1.0)
"""

import os

from . import _cli  # noqa: E402

EPOCHS = 100  # epochs of 10 steps (batches of 2,000 out of 20,000 samples)
ARGS = _cli.parse_if_main(__name__, __package__, "qgan", __doc__, EPOCHS)

from . import _common  # noqa: E402  # first: it imports tfq_layers before TensorFlow

import cirq  # noqa: E402
import numpy as np  # noqa: E402
import sympy  # noqa: E402
from tfq_layers._keras import keras  # noqa: E402
from tfq_layers.generative import QGAN, BornMachine  # noqa: E402

NAME = "qgan"
TASK = "qGAN: log-normal (mu=1, sigma=1) on 8 bins, 3-qubit Born machine vs Keras discriminator"
N_QUBITS = 3
DEPTH = 1
N_SAMPLES = 20000
BATCH = 2000
QUICK_EPOCHS = 2
G_LEARNING_RATE = 0.001
D_LEARNING_RATE = 0.003


def target_distribution(mu=1.0, sigma=1.0, n_bins=8):
    """The discretized, truncated log-normal over ``0 .. n_bins - 1`` (NumPy float64)."""
    from math import erf, log, sqrt

    def cdf(x):
        return 0.0 if x <= 0 else 0.5 * (1.0 + erf((log(x) - mu) / (sigma * sqrt(2.0))))

    edges = [0.0] + [j + 0.5 for j in range(n_bins)]
    mass = np.array([cdf(edges[j + 1]) - cdf(edges[j]) for j in range(n_bins)])
    return mass / mass.sum()


def load_data(n_samples=N_SAMPLES, seed=0):
    """``(samples, target)``: float32 values ``(n_samples,)`` in ``0 .. 7`` and the target."""
    target = target_distribution()
    rng = np.random.default_rng(seed)
    return rng.choice(len(target), size=n_samples, p=target).astype(np.float32), target


def generator_circuit(n_qubits=N_QUBITS, depth=DEPTH):
    """Hadamards, ``ry`` on every qubit, then ``depth`` blocks of a CZ chain and ``ry``."""
    qubits = cirq.LineQubit.range(n_qubits)
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    count = 0
    for block in range(depth + 1):
        if block:
            circuit.append(cirq.CZ(a, b) for a, b in zip(qubits, qubits[1:]))
        circuit.append(
            cirq.Moment(cirq.ry(sympy.Symbol(f"t{count + i}")).on(q) for i, q in enumerate(qubits))
        )
        count += n_qubits
    return circuit


#: The six trained angles of the authors' published 3-qubit log-normal generator (see the module
#: docstring for the source): ``ry`` angles of qubits 0, 1, 2, then of qubits 0, 1, 2 after the CZs.
PUBLISHED_ANGLES = (0.29399714, 0.38853322, 0.9557694, 0.07245791, 6.02626428, 0.13537225)


def published_generator(angles=PUBLISHED_ANGLES):
    """Probabilities of the authors' published trained generator over the values ``0 .. 7``.

    Their circuit, rebuilt with Cirq: the register starts in the discretized normal distribution
    (``mu = 1``, ``sigma = 1``: the density at the grid points ``0 .. 7``, normalized, loaded as
    amplitudes ``sqrt(p)``), then ``ry`` on each qubit, ``CZ`` on the ring ``(0, 1), (1, 2), (2, 0)``,
    and ``ry`` on each qubit again. Value ``j`` is the basis state whose qubit 0 is the least
    significant bit (Qiskit's order).

    Args:
        angles: the six ``ry`` angles (default: the published ones).

    Returns:
        A float64 NumPy array of 8 probabilities.
    """
    from math import exp

    grid = np.arange(2**N_QUBITS, dtype=np.float64)
    normal = np.array([exp(-0.5 * (x - 1.0) ** 2) for x in grid])
    normal /= normal.sum()
    qubits = cirq.LineQubit.range(N_QUBITS)
    circuit = cirq.Circuit(cirq.ry(a).on(q) for a, q in zip(angles[:N_QUBITS], qubits))
    circuit.append(cirq.CZ(qubits[i], qubits[(i + 1) % N_QUBITS]) for i in range(N_QUBITS))
    circuit.append(cirq.ry(a).on(q) for a, q in zip(angles[N_QUBITS:], qubits))
    state = cirq.final_state_vector(
        circuit,
        initial_state=np.sqrt(normal).astype(np.complex128),
        qubit_order=qubits[::-1],  # Cirq's first qubit is the most significant bit
        dtype=np.complex128,
    )
    probs = np.abs(state) ** 2
    return probs / probs.sum()


def relative_entropy(p, q):
    """``KL(p || q) = sum p log(p / q)`` in nats (terms with ``p = 0`` count 0)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.maximum(np.asarray(q, dtype=np.float64), 1e-12)
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


def build_model(seed=0, target=None, depth=DEPTH, run_eagerly=False):
    """The compiled :class:`QGAN` (generator angles start near 0: the uniform distribution)."""
    generator = BornMachine(
        N_QUBITS,
        circuit=generator_circuit(depth=depth),
        initializer=keras.initializers.RandomNormal(0.0, 0.1, seed=seed),
        backend="statevector",
        name="generator",
    )
    discriminator = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Rescaling(2.0 / 7.0, offset=-1.0),  # values 0..7 -> [-1, 1]
            keras.layers.Dense(50, kernel_initializer=keras.initializers.GlorotUniform(seed)),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Dense(20, kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Dense(
                1,
                activation="sigmoid",
                kernel_initializer=keras.initializers.GlorotUniform(seed + 2),
            ),
        ],
        name="discriminator",
    )
    gan = QGAN(generator, discriminator, target=target, name="qgan")
    gan.compile(
        keras.optimizers.Adam(G_LEARNING_RATE, beta_1=0.7, beta_2=0.99, amsgrad=True),
        keras.optimizers.Adam(D_LEARNING_RATE, beta_1=0.7, beta_2=0.99, amsgrad=True),
        run_eagerly=run_eagerly,
    )
    return gan


def circuit_floor(target, depth=DEPTH, steps=300, seed=0):
    """The smallest ``KL(target || p_θ)`` this generator circuit reaches when it is fit to the
    target directly (no discriminator; Adam 0.05 on the exact KL, ``steps`` steps): the floor a
    GAN with this generator can approach.

    Returns:
        float, nats.
    """
    import tensorflow as tf

    gen = BornMachine(
        N_QUBITS,
        circuit=generator_circuit(depth=depth),
        initializer=keras.initializers.RandomNormal(0.0, 0.1, seed=seed),
        backend="statevector",
    )
    gen.build()
    opt = keras.optimizers.Adam(0.05)
    t = tf.constant(target, tf.float32)

    def step():
        with tf.GradientTape() as tape:
            kl = tf.reduce_sum(t * tf.math.log(t / tf.maximum(gen.probabilities(), 1e-12)))
        opt.apply_gradients([(tape.gradient(kl, gen.circuit_weights), gen.circuit_weights)])
        return kl

    run = tf.function(step) if steps > 20 else step  # a few steps: cheaper than tracing
    for _ in range(steps):
        run()
    return relative_entropy(target, gen.probabilities())


def _plot(path, target, probs, kl_curve):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax_kl) = plt.subplots(1, 2, figsize=(11, 3.8))
    x = np.arange(len(target))
    ax.bar(x, target, color="0.75", label="target (log-normal, 8 bins)")
    ax.plot(x, probs, "o-", color="C0", label="generated")
    ax.set_xlabel("value")
    ax.set_ylabel("probability")
    ax.legend()
    ax_kl.semilogy(np.arange(1, len(kl_curve) + 1), kl_curve)
    ax_kl.set_xlabel("epoch")
    ax_kl.set_ylabel("KL(target || generated)")
    ax_kl.grid(alpha=0.3)
    fig.tight_layout()
    _common.save_figure(fig, path)


def main(argv=None):
    """Train the qGAN with ``fit``; print the KL after each epoch; end with ``KL: ...``.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).

    Returns:
        A :class:`models._common.Result` whose value is the final KL.
    """
    if argv is None and ARGS is not None:
        args = ARGS
    else:
        args = _cli.recipe_parser(__package__, NAME, __doc__, EPOCHS).parse_args(argv)
    if args.workers > 1:
        raise SystemExit(f"{NAME}: --workers is not supported; run without it.")
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else EPOCHS)
    _common.set_seed(args.seed)
    with _common.Timer() as timer:
        data, target = load_data(4000 if args.quick else N_SAMPLES, seed=args.seed)
        gan = build_model(seed=args.seed, target=target, run_eagerly=args.quick)
        kl_start = gan.kl_to_target()
        print(f"epoch 0: KL {kl_start:.4f}", flush=True)
        log = keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: print(
                f"epoch {epoch + 1}: KL {logs['kl']:.4f} (d_loss {logs['d_loss']:.3f}, "
                f"g_loss {logs['g_loss']:.3f})",
                flush=True,
            )
        )
        history = gan.fit(
            data, epochs=epochs, batch_size=BATCH, shuffle=True, verbose=0, callbacks=[log]
        )
        kl = gan.kl_to_target()
    floor = circuit_floor(target, steps=5 if args.quick else 300, seed=args.seed)
    print(f"KL of the same circuit fit to the target directly (no GAN): {floor:.4f}", flush=True)
    probs = np.asarray(gan.generator.probabilities(), dtype=np.float64)
    published = published_generator()
    ours_paper = relative_entropy(probs, target)
    theirs_paper = relative_entropy(published, target)
    print(
        f"relative entropy KL(generated || target), the paper's direction: {ours_paper:.4f}; "
        f"the authors' published generator: {theirs_paper:.4f} "
        f"(KL(target || generated): {kl:.4f} vs {relative_entropy(target, published):.4f})",
        flush=True,
    )
    result = _common.Result(
        NAME,
        TASK,
        N_QUBITS,
        int(gan.generator.circuit_weights.shape[0]),
        int(sum(np.prod(v.shape) for v in gan.discriminator.trainable_weights)),
        epochs,
        "KL",
        kl,
        timer.seconds,
        _common.command(f"{_common.PACKAGE}.{NAME}", argv),
        {
            "KL at the start": f"{kl_start:.4f}",
            "KL floor of the circuit (direct fit)": f"{floor:.4f}",
            "KL(generated || target), the paper's direction": f"{ours_paper:.4f}",
            "the same for the authors' published generator": f"{theirs_paper:.4f}",
            "generated": " ".join(f"{p:.3f}" for p in probs),
            "target": " ".join(f"{p:.3f}" for p in target),
        },
        history,
    )
    if args.plots:
        _plot(os.path.join(args.plots, f"{NAME}.png"), target, probs, history.history["kl"])
    if args.export:
        os.makedirs(args.export, exist_ok=True)
        gan.generator.save(os.path.join(args.export, _common.KERAS_FILE))
    _common.report(result)
    return result


if __name__ == "__main__":
    main()
