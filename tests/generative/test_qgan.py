"""QGAN (Zoufal et al. 2019) and its recipe: losses by hand, the target by quadrature, quick run."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cirq
import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

from tfq_layers._keras import keras
from tfq_layers.generative import QGAN, BornMachine


def _disc(seed=0):
    return keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(
                4, activation="tanh", kernel_initializer=keras.initializers.GlorotUniform(seed)
            ),
            keras.layers.Dense(
                1,
                activation="sigmoid",
                kernel_initializer=keras.initializers.GlorotUniform(seed + 1),
            ),
        ]
    )


def test_one_step_applies_the_two_losses_of_the_paper():
    """One train_step equals one SGD step of each player on the hand-written losses."""
    gen = BornMachine(2, seed=0, backend="statevector")
    gan = QGAN(gen, _disc(), target=np.array([0.1, 0.2, 0.3, 0.4]))
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    gan.build()
    real = np.array([0.0, 1.0, 3.0, 3.0, 2.0], np.float32)
    d_weights = [v.numpy() for v in gan.discriminator.trainable_variables]
    g_weights = gen.circuit_weights.numpy()
    grid = np.arange(4, dtype=np.float32)[:, None]
    p = gen.probabilities().numpy()
    with tf.GradientTape() as tape:
        d_real = gan.discriminator(real[:, None])[:, 0]
        d_fake = gan.discriminator(grid)[:, 0]
        d_loss = -tf.reduce_mean(tf.math.log(d_real + 1e-8)) - tf.reduce_sum(
            p * tf.math.log(1 - d_fake + 1e-8)
        )
    d_grads = tape.gradient(d_loss, gan.discriminator.trainable_variables)
    logs = gan.train_step(tf.constant(real))
    expected_d = [w - 0.1 * g.numpy() for w, g in zip(d_weights, d_grads)]
    for v, e in zip(gan.discriminator.trainable_variables, expected_d):
        np.testing.assert_allclose(v.numpy(), e, atol=1e-6)
    assert float(logs["d_loss"]) == pytest.approx(float(d_loss), abs=1e-5)
    # generator: -Σ p_θ(j) log D(j) with the updated discriminator, gradient by central differences
    d_new = gan.discriminator(grid)[:, 0].numpy().astype(np.float64)

    def g_loss(w):
        gen.circuit_weights.assign(w.astype(np.float32))
        return -np.sum(gen.probabilities().numpy().astype(np.float64) * np.log(d_new + 1e-8))

    after = gen.circuit_weights.numpy()
    h = 1e-2
    fd = np.array(
        [
            (g_loss(g_weights + h * e) - g_loss(g_weights - h * e)) / (2 * h)
            for e in np.eye(len(g_weights))
        ]
    )
    np.testing.assert_allclose(after, g_weights - 0.1 * fd, atol=2e-4)
    t, q = np.array([0.1, 0.2, 0.3, 0.4]), p
    assert float(logs["kl"]) == pytest.approx(np.sum(t * np.log(t / q)), abs=1e-5)


def test_bad_input():
    with pytest.raises(TypeError, match="GenerativeModel"):
        QGAN(_disc(), _disc())
    with pytest.raises(ValueError, match="4 finite numbers"):
        QGAN(BornMachine(2), _disc(), values=[0, 1, 2])
    with pytest.raises(ValueError, match="probability vector"):
        QGAN(BornMachine(2), _disc(), target=[0.5, 0.5, 0.5, 0.5])
    with pytest.raises(RuntimeError, match="compile"):
        QGAN(BornMachine(2), _disc()).fit(np.zeros(4), epochs=1)


def test_recipe_target_is_the_discretized_log_normal():
    from models import qgan

    target = qgan.target_distribution()
    dist = scipy.stats.lognorm(s=1.0, scale=np.exp(1.0))
    edges = np.concatenate([[0.0], np.arange(8) + 0.5])
    mass = np.diff(dist.cdf(edges))
    np.testing.assert_allclose(target, mass / mass.sum(), atol=1e-12)
    data, _ = qgan.load_data(n_samples=20000, seed=0)
    freq = np.bincount(data.astype(int), minlength=8) / len(data)
    np.testing.assert_allclose(freq, target, atol=0.01)
    circuit = qgan.generator_circuit()
    assert len(cirq.parameter_symbols(circuit)) == 6
    assert sum(1 for op in circuit.all_operations() if op.gate == cirq.CZ) == 2


def test_published_generator_matches_an_explicit_matrix_build():
    """The rebuilt reference generator against NumPy matrices in Qiskit's bit order (qubit 0 the
    least significant bit), for the published angles and for random ones."""
    from models import qgan

    def ry(t):
        c, s = np.cos(t / 2), np.sin(t / 2)
        return np.array([[c, -s], [s, c]])

    def layer(ts):
        m = np.ones((1, 1))
        for t in reversed(ts):  # qubit 2 is the most significant factor
            m = np.kron(m, ry(t))
        return m

    bits = (np.arange(8)[:, None] >> np.arange(3)) & 1  # bits[j, i]: qubit i of value j
    cz_ring = (-1.0) ** (
        bits[:, 0] * bits[:, 1] + bits[:, 1] * bits[:, 2] + bits[:, 2] * bits[:, 0]
    )
    normal = scipy.stats.norm.pdf(np.arange(8), 1.0, 1.0)
    start = np.sqrt(normal / normal.sum())
    for angles in (qgan.PUBLISHED_ANGLES, np.random.default_rng(3).uniform(0, 2 * np.pi, 6)):
        psi = layer(angles[3:]) @ (cz_ring * (layer(angles[:3]) @ start))
        np.testing.assert_allclose(qgan.published_generator(angles), psi**2, atol=1e-12)
    p, t = qgan.published_generator(), qgan.target_distribution()
    assert qgan.relative_entropy(p, t) == pytest.approx(scipy.stats.entropy(p, t), abs=1e-12)
    assert qgan.relative_entropy(t, p) == pytest.approx(scipy.stats.entropy(t, p), abs=1e-12)


@pytest.mark.slow  # a recipe run end to end: `make test-slow`
def test_recipe_quick_run_prints_the_kl_line(tmp_path, capsys):
    from models import qgan

    result = qgan.main(["--quick", "--epochs", "1", "--plots", str(tmp_path)])
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == f"KL: {result.value:.4g}"
    assert any(line.startswith("epoch 1: KL ") for line in out)
    assert os.path.exists(tmp_path / "qgan.png")
