"""Quantum Boltzmann machine and the GenerativeModel base, against independent references.

References: dense Pauli Hamiltonians built with np.kron + scipy.linalg.expm + partial trace,
brute-force enumeration of exp(-E) for Γ = 0, central finite differences for gradients, a
chi-square test for sampling, and an explicit kernel matrix for MMD.
"""

import functools
import itertools
import json
import os
import textwrap

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import scipy.linalg
from scipy import stats

import tensorflow as tf

from tfq_layers._keras import keras
from tfq_layers.datasets import (
    bars_and_stripes,
    bits_to_index,
    empirical_distribution,
    validate_bitstrings,
)
from tfq_layers.generative import GenerativeModel, QuantumBoltzmannMachine
from tfq_layers.generative.qbm import thermal_diagonal
from tfq_layers.metrics import KLDivergenceToTarget, PatternCoverage, ValidFraction, kl_divergence

import reference

I2 = np.eye(2)
X = np.array([[0.0, 1.0], [1.0, 0.0]])
Z = np.diag([1.0, -1.0])


def _op(single, site, n):
    """`single` acting on qubit `site` of n (qubit 0 = leftmost kron factor = most significant)."""
    return functools.reduce(np.kron, [single if k == site else I2 for k in range(n)])


def reference_probabilities(model):
    """p(v) = Tr[Λ_v e^{-H}] / Tr e^{-H} from np.kron Paulis, scipy expm and a partial trace."""
    n = model.n_units
    b = model.biases.numpy().astype(np.float64)
    w = model.coupling_matrix()
    gamma = np.zeros(n) if model.gamma is None else model.gamma.numpy().astype(np.float64)
    ham = np.zeros((2**n, 2**n))
    for i in range(n):
        ham += b[i] * _op(Z, i, n) + gamma[i] * _op(X, i, n)
        for j in range(i + 1, n):
            ham += w[i, j] * _op(Z, i, n) @ _op(Z, j, n)
    rho = scipy.linalg.expm(-ham)
    rho /= np.trace(rho)
    nv, nh = model.n_visible, model.n_hidden
    rho4 = rho.reshape(2**nv, 2**nh, 2**nv, 2**nh)
    reduced = np.einsum("ahbh->ab", rho4)  # partial trace over the hidden units
    return np.real(np.diag(reduced))


def classical_enumeration(model):
    """p(v) ∝ Σ_h exp(-E(v,h)) with E from explicit loops over spins (z = 1 - 2 bit)."""
    n, nv = model.n_units, model.n_visible
    b = model.biases.numpy().astype(np.float64)
    w = model.coupling_matrix()
    p = np.zeros(2**nv)
    for bits in itertools.product((0, 1), repeat=n):
        z = [1 - 2 * s for s in bits]
        energy = sum(b[i] * z[i] for i in range(n))
        energy += sum(w[i, j] * z[i] * z[j] for i in range(n) for j in range(i + 1, n))
        v_index = int("".join(map(str, bits[:nv])), 2)
        p[v_index] += np.exp(-energy)
    return p / p.sum()


def _randomize(model, seed, scale=0.7):
    rng = np.random.default_rng(seed)
    for var in model.weights:
        var.assign(tf.cast(rng.normal(scale=scale, size=tuple(var.shape)), var.dtype))


@pytest.mark.parametrize(
    "nv,nh,field,conn",
    [(3, 0, True, "full"), (3, 2, True, "full"), (2, 2, 0.7, "restricted"), (4, 1, True, "full")],
)
def test_probabilities_match_scipy_reference(nv, nh, field, conn):
    model = QuantumBoltzmannMachine(nv, nh, transverse_field=field, connectivity=conn, seed=0)
    model.build()
    _randomize(model, seed=nv + nh)
    p = model.probabilities().numpy()
    assert p.shape == (2**nv,)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p, reference_probabilities(model), rtol=1e-8, atol=1e-12)
    # the transverse field really matters (not silently ignored)
    assert np.abs(p - classical_enumeration(model)).max() > 1e-3


def test_restricted_connectivity_has_only_visible_hidden_pairs():
    model = QuantumBoltzmannMachine(3, 2, connectivity="restricted")
    assert model.pairs == ((0, 3), (0, 4), (1, 3), (1, 4), (2, 3), (2, 4))


def test_gamma_zero_is_exactly_a_classical_boltzmann_machine():
    classical = QuantumBoltzmannMachine(3, 2, transverse_field=False, seed=1)
    classical.build()
    assert classical.gamma is None
    _randomize(classical, seed=5)
    np.testing.assert_allclose(
        classical.probabilities().numpy(), classical_enumeration(classical), rtol=1e-12
    )
    # the quantum code path with its field set to 0 gives the same distribution
    quantum = QuantumBoltzmannMachine(3, 2, transverse_field=True, seed=1)
    quantum.build()
    quantum.biases.assign(classical.biases.numpy())
    quantum.couplings.assign(classical.couplings.numpy())
    quantum.gamma.assign(np.zeros(5, np.float32))
    np.testing.assert_allclose(
        quantum.probabilities().numpy(), classical_enumeration(classical), rtol=1e-10
    )


def test_sign_of_gamma_does_not_matter_and_bias_sign_convention():
    model = QuantumBoltzmannMachine(2, 1, seed=0)
    model.build()
    _randomize(model, seed=2)
    p = model.probabilities().numpy()
    model.gamma.assign(-model.gamma.numpy())
    np.testing.assert_allclose(model.probabilities().numpy(), p, rtol=1e-10)
    # H = b Z with Z|0> = +|0>: a positive bias raises the energy of bit 0, so bit 1 is favoured
    single = QuantumBoltzmannMachine(1, 0, transverse_field=False)
    single.build()
    single.biases.assign([2.0])
    np.testing.assert_allclose(
        single.probabilities().numpy(), [np.exp(-2.0), np.exp(2.0)] / (2 * np.cosh(2.0))
    )


def test_same_seed_gives_same_initial_biases_and_couplings_with_and_without_field():
    a = QuantumBoltzmannMachine(4, 2, transverse_field=True, seed=3)
    b = QuantumBoltzmannMachine(4, 2, transverse_field=False, seed=3)
    a.build()
    b.build()
    np.testing.assert_array_equal(a.biases.numpy(), b.biases.numpy())
    np.testing.assert_array_equal(a.couplings.numpy(), b.couplings.numpy())


def test_thermal_diagonal_gradient_matches_expm_autodiff_on_degenerate_spectra():
    rng = np.random.default_rng(0)
    g = rng.normal(size=8)
    generic = rng.normal(size=(8, 8))
    degenerate = np.diag([0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 0.0, 3.0])
    degenerate[0, 1] = degenerate[1, 0] = 0.0
    for mat in (generic + generic.T, degenerate):
        ham = tf.Variable(mat)
        with tf.GradientTape(persistent=True) as tape:
            ours = tf.reduce_sum(thermal_diagonal(ham) * g)
            e = tf.linalg.diag_part(tf.linalg.expm(-ham))
            ref = tf.reduce_sum(e / tf.reduce_sum(e) * g)
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
        grad_ours, grad_ref = tape.gradient(ours, ham), tape.gradient(ref, ham)
        assert np.all(np.isfinite(grad_ours.numpy()))
        np.testing.assert_allclose(grad_ours.numpy(), grad_ref.numpy(), atol=1e-12)


def _finite_difference(fn, variables, h=1e-5):
    """Central differences of ``fn()`` with respect to each variable (reference.central_difference)."""
    grads = []
    for var in variables:
        base = var.numpy().copy()

        def at(values, var=var):
            var.assign(values)
            return fn()

        grads.append(reference.central_difference(at, base, h=h))
        var.assign(base)
    return grads


@pytest.mark.parametrize("loss", ["nll", "kl", "mmd"])
def test_exact_gradients_match_finite_differences(loss):
    model = QuantumBoltzmannMachine(3, 1, seed=0, dtype="float64")
    model.compile(optimizer="adam", loss=loss)
    model.build()
    _randomize(model, seed=4, scale=0.5)
    data = np.array([[0, 1, 1], [1, 0, 0], [1, 1, 1], [0, 1, 1]])
    empirical = tf.constant(empirical_distribution(data, 3))
    loss_value, grads, _ = model.loss_and_gradients(tf.constant(data), empirical)

    def reference_loss():  # independent: scipy probabilities + numpy loss formulas
        p = reference_probabilities(model)
        q = empirical.numpy()
        if loss == "nll":
            return -np.sum(q * np.log(p + 1e-10))
        if loss == "kl":
            m = q > 0
            return np.sum(q[m] * np.log(q[m] / (p[m] + 1e-10)))
        bits = np.array(list(itertools.product((0, 1), repeat=3)))
        ham = (bits[:, None, :] != bits[None, :, :]).sum(-1)
        kernel = np.mean([np.exp(-ham / (2 * s)) for s in (0.75, 3.0, 12.0)], axis=0)
        d = q - p
        return d @ kernel @ d

    assert float(loss_value) == pytest.approx(reference_loss(), rel=1e-8)
    fd = _finite_difference(reference_loss, model.trainable_variables)
    assert len(grads) == 3  # biases, couplings, transverse field
    for g, ref in zip(grads, fd):
        np.testing.assert_allclose(g.numpy(), ref, rtol=1e-5, atol=1e-8)


def _reference_bound(model, empirical):
    """-Σ p̂(v) log(Tr e^{-H_v} / Tr e^{-H}) with explicitly clamped Hamiltonians (numpy/scipy)."""
    nv, nh, n = model.n_visible, model.n_hidden, model.n_units
    b = model.biases.numpy()
    w = model.coupling_matrix()
    gamma = model.gamma.numpy()
    ham = np.zeros((2**n, 2**n))
    for i in range(n):
        ham += b[i] * _op(Z, i, n) + gamma[i] * _op(X, i, n)
        for j in range(i + 1, n):
            ham += w[i, j] * _op(Z, i, n) @ _op(Z, j, n)
    log_z = np.log(np.trace(scipy.linalg.expm(-ham)))
    total = 0.0
    for v_index, q in enumerate(empirical):
        if q == 0:
            continue
        v = [1 - 2 * int(c) for c in format(v_index, f"0{nv}b")]
        h_v = np.zeros((2**nh, 2**nh))
        for k in range(nh):
            u = nv + k
            coeff = b[u] + sum(w[i, u] * v[i] for i in range(nv))
            h_v += coeff * _op(Z, k, nh) + gamma[u] * _op(X, k, nh)
            for m in range(k + 1, nh):
                h_v += w[u, nv + m] * _op(Z, k, nh) @ _op(Z, m, nh)
        const = sum(b[i] * v[i] for i in range(nv))
        const += sum(w[i, j] * v[i] * v[j] for i in range(nv) for j in range(i + 1, nv))
        log_zv = -const + np.log(np.trace(scipy.linalg.expm(-h_v)))
        total -= q * (log_zv - log_z)
    return total


def test_bound_gradient_mode():
    with pytest.raises(ValueError, match="does not train the transverse field"):
        QuantumBoltzmannMachine(3, 2, gradient="bound", train_transverse_field=True)
    model = QuantumBoltzmannMachine(3, 2, gradient="bound", seed=0, dtype="float64")
    model.compile(optimizer="adam", loss="nll")
    model.build()
    _randomize(model, seed=8, scale=0.6)
    assert [v.name.split("/")[-1].split(":")[0] for v in model.trainable_variables] == [
        "biases",
        "couplings",
    ]
    assert not model.gamma.trainable
    data = np.array([[0, 1, 1], [1, 0, 0], [1, 1, 0]])
    emp = empirical_distribution(data, 3)
    loss, grads, _ = model.loss_and_gradients(tf.constant(data), tf.constant(emp))
    assert float(loss) == pytest.approx(_reference_bound(model, emp), rel=1e-9)
    # Golden-Thompson: the bound is an upper bound of the exact NLL
    exact_nll = -np.sum(emp * np.log(reference_probabilities(model)))
    assert float(loss) > exact_nll + 1e-4
    fd = _finite_difference(lambda: _reference_bound(model, emp), model.trainable_variables)
    for g, ref in zip(grads, fd):
        np.testing.assert_allclose(g.numpy(), ref, rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match="mmd"):
        model.compile(optimizer="adam", loss="mmd")


def test_bound_equals_exact_nll_without_transverse_field():
    model = QuantumBoltzmannMachine(3, 2, transverse_field=False, gradient="bound", seed=2)
    model.compile(optimizer="adam", loss="nll")
    model.build()
    _randomize(model, seed=1)
    emp = empirical_distribution(np.array([[0, 1, 1], [1, 0, 1]]), 3)
    bound = float(model.bound_nll(tf.constant(emp)))
    exact = -np.sum(emp * np.log(classical_enumeration(model)))
    assert bound == pytest.approx(exact, rel=1e-6)


@pytest.mark.parametrize("gradient", ["exact", "bound"])
def test_fit_lowers_kl_on_bars_and_stripes(gradient):
    data = bars_and_stripes(2, 2)
    target = empirical_distribution(data, 4)
    model = QuantumBoltzmannMachine(
        4,
        2,
        transverse_field=0.5,
        gradient=gradient,
        train_transverse_field=gradient == "exact",
        seed=0,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.1),
        loss="kl",
        metrics=[KLDivergenceToTarget(target), ValidFraction(data), PatternCoverage(data)],
    )
    model.build()
    before = kl_divergence(target, model.probabilities().numpy())
    history = model.fit(
        np.tile(data, (20, 1)), batch_size=len(data), epochs=3, shuffle=False, verbose=0
    )
    after = kl_divergence(target, model.probabilities().numpy())
    assert before > 0.5
    assert after < 0.15 < before
    for key in ("loss", "kl_to_target", "valid_fraction", "coverage"):
        assert len(history.history[key]) == 3
    assert history.history["kl_to_target"][-1] < history.history["kl_to_target"][0]
    logs = model.evaluate(data, verbose=0, return_dict=True)
    assert logs["kl_to_target"] == pytest.approx(after, rel=1e-4)
    p = model.probabilities().numpy()
    assert logs["valid_fraction"] == pytest.approx(p[bits_to_index(data)].sum(), rel=1e-5)
    if gradient == "exact":  # the loss shown is KL(batch || model) = KL(target || model) here
        assert logs["loss"] == pytest.approx(after, rel=1e-4)
    else:  # the bound on the KL is above the exact KL
        assert logs["loss"] == pytest.approx(after, rel=1e-4)  # evaluate reports the exact loss
        assert history.history["loss"][-1] >= history.history["kl_to_target"][-1] - 1e-6


def test_mmd_training_and_call_predict():
    data = bars_and_stripes(2, 2)
    model = QuantumBoltzmannMachine(4, 1, seed=1)
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mmd")
    h = model.fit(np.tile(data, (10, 1)), batch_size=len(data), epochs=3, shuffle=False, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    p = model.probabilities().numpy()
    np.testing.assert_allclose(model.predict(data, verbose=0), p[bits_to_index(data)], rtol=1e-5)


def test_sampling_frequencies_follow_probabilities():
    model = QuantumBoltzmannMachine(4, 1, seed=0)
    model.build()
    _randomize(model, seed=3, scale=0.5)
    p = model.probabilities().numpy()
    samples = model.sample(20000, seed=7)
    assert samples.shape == (20000, 4) and samples.dtype == np.int32
    counts = np.bincount(bits_to_index(samples), minlength=16)
    expected = p * len(samples)
    keep = expected >= 5
    obs = np.append(counts[keep], counts[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    assert stats.chisquare(obs, exp).pvalue > 1e-3
    np.testing.assert_array_equal(samples, model.sample(20000, seed=7))


def test_save_and_load_roundtrip(tmp_path):
    data = bars_and_stripes(2, 2)
    target = empirical_distribution(data, 4)
    model = QuantumBoltzmannMachine(4, 2, transverse_field=0.8, connectivity="restricted", seed=2)
    model.compile(
        optimizer=keras.optimizers.Adam(0.05), loss="nll", metrics=[KLDivergenceToTarget(target)]
    )
    model.fit(data, epochs=2, verbose=0)
    path = str(tmp_path / "qbm.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, QuantumBoltzmannMachine)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.probabilities().numpy(), model.probabilities().numpy())
    assert loaded.generative_loss == "nll"
    assert [m.name for m in loaded.metrics] == ["loss", "kl_to_target"]
    # optimizer state came back: one more identical step on both gives identical weights
    model.fit(data, epochs=1, verbose=0)
    loaded.fit(data, epochs=1, verbose=0)
    np.testing.assert_allclose(
        loaded.probabilities().numpy(), model.probabilities().numpy(), rtol=1e-6
    )
    # an unbuilt, uncompiled model round-trips through its config too
    clone = QuantumBoltzmannMachine.from_config(model.get_config())
    clone.build()
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    # built but never compiled: weights come back, no compile state
    plain = QuantumBoltzmannMachine(3, 1, gradient="bound", train_transverse_field=False, seed=4)
    plain.build()
    _randomize(plain, seed=9)
    plain.save(str(tmp_path / "plain.keras"))
    plain_loaded = keras.models.load_model(str(tmp_path / "plain.keras"))
    assert plain_loaded.gradient == "bound" and not plain_loaded.gamma.trainable
    np.testing.assert_array_equal(
        plain_loaded.probabilities().numpy(), plain.probabilities().numpy()
    )


def test_bad_data_and_arguments_raise_clear_errors():
    model = QuantumBoltzmannMachine(4, 1)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(bars_and_stripes(2, 2))
    model.compile(optimizer="adam", loss="kl")
    with pytest.raises(ValueError, match=r"width 3.*n = 4"):
        model.fit(np.zeros((5, 3), int), verbose=0)
    with pytest.raises(ValueError, match=r"only 0 and 1.*\[2\]"):
        model.fit(np.full((5, 4), 2), verbose=0)
    with pytest.raises(ValueError, match="empty"):
        model.fit(np.zeros((0, 4), int), verbose=0)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(np.array([[0, 1, np.nan, 1.0]]), verbose=0)
    with pytest.raises(ValueError, match="rank"):
        model.fit(np.zeros((2, 2, 4), int), verbose=0)
    with pytest.raises(ValueError, match="x alone"):
        model.fit(np.zeros((2, 4), int), np.zeros(2), verbose=0)
    with pytest.raises(ValueError, match="validation_data.*width 5"):
        model.fit(np.zeros((2, 4), int), validation_data=np.zeros((2, 5), int), verbose=0)
    with pytest.raises(ValueError, match="width 3"):
        model.fit(tf.data.Dataset.from_tensor_slices(np.zeros((4, 3), int)).batch(2), verbose=0)
    with pytest.raises(ValueError, match="Unsupported loss 'mse'"):
        model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="Unsupported loss"):
        model.compile(optimizer="adam", loss=keras.losses.KLDivergence())
    with pytest.raises(TypeError, match="metric objects"):
        model.compile(optimizer="adam", loss="kl", metrics=["accuracy"])
    with pytest.raises(ValueError, match=r"N = n_visible \+ n_hidden = 10 \+ 3 = 13"):
        QuantumBoltzmannMachine(10, 3)
    with pytest.raises(ValueError, match="gradient"):
        QuantumBoltzmannMachine(3, gradient="sampled")
    with pytest.raises(ValueError, match="n_hidden >= 1"):
        QuantumBoltzmannMachine(3, 0, connectivity="restricted")
    with pytest.raises(ValueError, match="n_visible"):
        QuantumBoltzmannMachine(0)
    with pytest.raises(ValueError, match="transverse_field"):
        QuantumBoltzmannMachine(3, transverse_field="yes")
    # the reusable validator is the one fit uses
    assert validate_bitstrings(bars_and_stripes(2, 2), 4).shape == (6, 4)


def test_base_class_requires_probabilities():
    base = GenerativeModel(n_bits=2)
    with pytest.raises(NotImplementedError, match="probabilities"):
        base.probabilities()
    with pytest.raises(ValueError, match="n_bits"):
        GenerativeModel(n_bits=0)


def test_legacy_tf_keras_lane_fits_and_saves(tmp_path):
    pytest.importorskip("tf_keras", reason="the legacy lane (tf_keras) is not installed here")
    script = textwrap.dedent(
        f"""
        import json, numpy as np
        from tfq_layers._keras import keras, LEGACY
        from tfq_layers.generative import QuantumBoltzmannMachine
        from tfq_layers.datasets import bars_and_stripes, empirical_distribution
        from tfq_layers.metrics import KLDivergenceToTarget, kl_divergence
        assert LEGACY and keras.__name__ == "tf_keras", keras.__name__
        data = bars_and_stripes(2, 2)
        target = empirical_distribution(data, 4)
        m = QuantumBoltzmannMachine(4, 1, transverse_field=0.5, seed=0)
        m.compile(optimizer=keras.optimizers.Adam(0.1), loss="kl",
                  metrics=[KLDivergenceToTarget(target)])
        m.build()
        before = kl_divergence(target, m.probabilities().numpy())
        h = m.fit(np.tile(data, (20, 1)), batch_size=6, epochs=2, shuffle=False, verbose=0)
        m.save({str(tmp_path / "legacy.keras")!r})
        loaded = keras.models.load_model({str(tmp_path / "legacy.keras")!r})
        print(json.dumps(dict(
            before=before, after=kl_divergence(target, m.probabilities().numpy()),
            same=bool(np.array_equal(loaded.probabilities().numpy(), m.probabilities().numpy())),
            keys=sorted(h.history), cls=type(loaded).__name__)))
        """
    )
    stdout = reference.run_python(script, env_extra={"TF_USE_LEGACY_KERAS": "1"})
    out = json.loads(stdout.strip().splitlines()[-1])
    assert out["cls"] == "QuantumBoltzmannMachine"
    assert out["same"]
    assert out["after"] < out["before"] / 2
    assert out["keys"] == ["kl_to_target", "loss"]


@pytest.mark.slow  # a recipe run end to end: `make test-slow`
def test_recipe_quick_run_prints_kl_line(tmp_path, capsys):
    from models import qbm as recipe

    result = recipe.main(["--quick", "--epochs", "5", "--plots", str(tmp_path)])
    out = capsys.readouterr().out.strip().splitlines()
    assert result.metric == "KL" and np.isfinite(result.value)
    assert out[-1].startswith("KL: ") and float(out[-1].split()[1]) == pytest.approx(
        result.value, rel=1e-2
    )
    assert sorted(os.listdir(tmp_path)) == ["qbm_bas.png", "qbm_multimodal.png"]
    data, target = recipe.load_data("multimodal", quick=True)
    assert data.shape == (2000, 7) and target.shape == (128,)
