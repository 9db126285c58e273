"""QHBM and its energy models against independent references.

References: exact enumeration of ``exp(-E)`` over all bitstrings in NumPy (partition functions,
entropies, probabilities), Cirq's unitaries in float64 (the model's density matrix), eigenvalues of
the density matrix (von Neumann entropy), ``scipy.linalg.expm`` (thermal states), central finite
differences of the exact free energy and cross entropy (gradients), a fresh process for saving.
"""

import itertools
import json
import os
import textwrap

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cirq
import numpy as np
import pytest
import scipy.linalg
import sympy
import tensorflow as tf

import reference
from tfq_layers._keras import keras
from tfq_layers.errors import CircuitError
from tfq_layers.generative import QHBM, BernoulliEnergy, KOBEEnergy
from tfq_layers.generative import energy as energy_module
from tfq_layers.generative import qhbm as qhbm_module

Q = cirq.LineQubit.range(3)
A, B, C, D = sympy.symbols("a b c d")


def _bits(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.int64)


def _np_energies(model):
    """E(x) = Σ_S θ_S Π z_i by a plain double loop."""
    theta = model.theta.numpy()
    out = []
    for x in _bits(model.n_bits):
        z = 1 - 2 * x
        out.append(sum(t * np.prod([z[i] for i in s]) for t, s in zip(theta, model.terms)))
    return np.array(out)


def _circuit():
    return cirq.Circuit(
        cirq.ry(A).on(Q[0]),
        cirq.rx(B).on(Q[1]),
        cirq.CNOT(Q[0], Q[1]),
        cirq.ZZPowGate(exponent=C).on(Q[1], Q[2]),
        cirq.ry(D).on(Q[2]),
        cirq.rz(A * B).on(Q[0]),
    )


def _hamiltonian():
    return (
        cirq.Z(Q[0]) * cirq.Z(Q[1])
        - 0.7 * cirq.X(Q[1])
        + 0.4 * cirq.Y(Q[0]) * cirq.Y(Q[2])
        + 0.3 * cirq.Z(Q[2])
    )


def _model(backend, energy=None, **kw):
    energy = energy or KOBEEnergy(3, order=2, seed=1)
    model = QHBM(energy, _circuit(), backend=backend, seed=2, **kw)
    model.build()
    model.circuit_weights.assign([0.4, -0.8, 0.3, 1.1])
    return model


def _reference_rho(model, phi=None, theta=None):
    """Σ_x p(x) U|x><x|U† from Cirq's unitary (float64) and the enumerated Boltzmann weights."""
    phi = model.circuit_weights.numpy() if phi is None else phi
    theta = model.energy.theta.numpy() if theta is None else theta
    resolver = {s: float(v) for s, v in zip(model.weight_symbols, phi)}
    u = cirq.resolve_parameters(model.circuit, resolver).unitary(qubit_order=model.qubits)
    old = model.energy.theta.numpy()
    model.energy.theta.assign(theta)
    e = _np_energies(model.energy)
    model.energy.theta.assign(old)
    p = np.exp(-(e - e.min()))
    p /= p.sum()
    return (u * p) @ u.conj().T


def _free_energy(rho, ham, beta, qubits):
    lam = np.linalg.eigvalsh(rho)
    lam = lam[lam > 1e-15]
    return beta * np.trace(rho @ ham.matrix(qubits)).real + np.sum(lam * np.log(lam))


# ------------------------------------------------------------------------------------ energies
@pytest.mark.parametrize(
    "energy", [BernoulliEnergy(4, seed=0), KOBEEnergy(4, order=2, seed=0), KOBEEnergy(3, order=3)]
)
def test_energy_exact_quantities_match_enumeration(energy):
    energy.build()
    energy.theta.assign(np.random.default_rng(1).normal(size=len(energy.terms)))
    e = _np_energies(energy)
    np.testing.assert_allclose(energy.all_energies().numpy(), e, atol=1e-12)
    log_z = np.log(np.sum(np.exp(-e)))
    p = np.exp(-e) / np.exp(-e).sum()
    assert float(energy.log_partition()) == pytest.approx(log_z, abs=1e-12)
    np.testing.assert_allclose(energy.probabilities().numpy(), p, atol=1e-12)
    assert float(energy.entropy()) == pytest.approx(-np.sum(p * np.log(p)), abs=1e-12)
    bits = _bits(energy.n_bits)[[0, 3, 5]]
    np.testing.assert_allclose(energy.log_prob(bits).numpy(), np.log(p[[0, 3, 5]]), atol=1e-12)


def test_kobe_terms_and_bernoulli_marginals():
    assert KOBEEnergy(4, order=2).terms == [
        (0,),
        (1,),
        (2,),
        (3,),
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 2),
        (1, 3),
        (2, 3),
    ]
    energy = BernoulliEnergy(2)
    energy.build()
    energy.theta.assign([0.3, -1.2])
    p = energy.probabilities().numpy().reshape(2, 2)
    expected = 1 / (1 + np.exp(-2 * np.array([0.3, -1.2])))  # p(x_i = 1) = sigmoid(2 θ_i)
    np.testing.assert_allclose([p[1].sum(), p[:, 1].sum()], expected, atol=1e-12)


@pytest.mark.parametrize("kind", ["bernoulli", "enumerated", "metropolis"])
def test_energy_sampling_follows_the_distribution(kind, monkeypatch):
    if kind == "bernoulli":
        energy = BernoulliEnergy(3, seed=0)
    else:
        energy = KOBEEnergy(3, order=2, seed=0)
    energy.build()
    energy.theta.assign(np.random.default_rng(3).normal(0, 0.6, size=len(energy.terms)))
    p = np.exp(-_np_energies(energy))
    p /= p.sum()
    if kind == "metropolis":
        monkeypatch.setattr(energy_module, "MAX_ENUMERATION_BITS", 2)
        assert not energy.exact
    samples = energy.sample(6000, seed=5)
    assert samples.shape == (6000, 3) and samples.dtype == np.int32
    freq = np.bincount(samples @ np.array([4, 2, 1]), minlength=8) / len(samples)
    # 6000 draws: the standard error of each frequency is below 0.0065
    np.testing.assert_allclose(freq, p, atol=0.03)


@pytest.mark.parametrize("cls,kw", [(BernoulliEnergy, {}), (KOBEEnergy, {"order": 2})])
def test_energy_keras_layer_contract(cls, kw, run_layer_test):
    run_layer_test(
        cls,
        dict(n_bits=3, **kw),
        input_data=np.array([[0, 1, 1], [1, 0, 0]], np.int32),
        expected_output_shape=(2,),
        expected_num_trainable_weights=1,
        supports_masking=False,
        run_training_check=False,
        run_mixed_precision_check=False,
    )


# ------------------------------------------------------------------------------------ the state
def test_density_matrix_and_entropy_match_cirq(backend):
    model = _model(backend)
    rho = model.density_matrix()
    expected = _reference_rho(model)
    np.testing.assert_allclose(rho, expected, atol=2e-6)
    lam = np.linalg.eigvalsh(expected)
    lam = lam[lam > 1e-15]
    assert model.entropy() == pytest.approx(-np.sum(lam * np.log(lam)), abs=1e-5)
    obs = cirq.X(Q[0]) * cirq.Z(Q[2]) + 0.5 * cirq.Y(Q[1])
    want = np.trace(expected @ obs.matrix(Q)).real
    assert float(model.expectation(obs)) == pytest.approx(want, abs=1e-5)


def test_free_energy_and_its_gradients_by_finite_differences(backend):
    """The paper's estimators with exact weights equal the gradient of the exact free energy."""
    model = _model(backend)
    ham, beta = _hamiltonian(), 1.3
    with tf.GradientTape() as tape:
        loss = model.vqt_loss(ham, beta)
    g_phi, g_theta = tape.gradient(loss, [model.circuit_weights, model.energy.theta])
    phi0, theta0 = model.circuit_weights.numpy(), model.energy.theta.numpy()
    f0 = _free_energy(_reference_rho(model), ham, beta, Q)
    assert float(loss) == pytest.approx(f0, abs=1e-5)
    assert model.free_energy(ham, beta) == pytest.approx(f0, abs=1e-5)
    fd_phi = reference.central_difference(
        lambda v: _free_energy(_reference_rho(model, phi=v), ham, beta, Q), phi0
    )
    fd_theta = reference.central_difference(
        lambda v: _free_energy(_reference_rho(model, theta=v), ham, beta, Q), theta0
    )
    np.testing.assert_allclose(g_phi.numpy(), fd_phi, atol=2e-4)
    np.testing.assert_allclose(g_theta.numpy(), fd_theta, atol=2e-5)


def test_sampled_estimator_is_unbiased():
    """Monte-Carlo estimators over 20,000 draws agree with the exact gradient within noise."""
    exact = _model("statevector", estimator="exact")
    sampled = _model(
        "statevector", energy=KOBEEnergy(3, order=2, seed=0), estimator="sampled", num_samples=20000
    )
    sampled.energy.theta.assign(exact.energy.theta.numpy())
    ham = _hamiltonian()
    grads = []
    for m in (exact, sampled):
        with tf.GradientTape() as tape:
            loss = m.vqt_loss(ham, 0.8)
        grads.append(
            np.concatenate(
                [g.numpy() for g in tape.gradient(loss, [m.circuit_weights, m.energy.theta])]
            )
        )
        grads.append(float(loss))
    np.testing.assert_allclose(grads[2], grads[0], atol=0.05)
    assert grads[3] == pytest.approx(grads[1], abs=0.05)


def test_vqt_fit_reaches_the_thermal_state():
    """One qubit, H = Z + 0.6 X, beta = 1: fidelity with expm(-beta H)/Z above 0.999."""
    q = cirq.LineQubit(0)
    model = QHBM(
        BernoulliEnergy(1, seed=0),
        cirq.Circuit(cirq.ry(A).on(q), cirq.rz(B).on(q)),
        backend="statevector",
        seed=0,
    )
    ham = cirq.Z(q) + 0.6 * cirq.X(q)
    model.compile(keras.optimizers.Adam(0.1), loss="vqt", hamiltonian=ham, beta=1.0)
    history = model.fit(epochs=150, verbose=0)
    thermal = scipy.linalg.expm(-ham.matrix([q]))
    thermal /= np.trace(thermal)
    sq = scipy.linalg.sqrtm(thermal)
    fidelity = np.real(np.trace(scipy.linalg.sqrtm(sq @ model.density_matrix() @ sq))) ** 2
    assert fidelity > 0.999
    assert history.history["loss"][-1] == pytest.approx(
        -np.log(np.trace(scipy.linalg.expm(-ham.matrix([q])))), abs=2e-3
    )


# ------------------------------------------------------------------------------------ QMHL
def _ensemble(seed=0, n=40):
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(n, 8)) + 1j * rng.normal(size=(n, 8))
    return states / np.linalg.norm(states, axis=1, keepdims=True)


def _cross_entropy(model, sigma, phi=None, theta=None):
    rho = _reference_rho(model, phi=phi, theta=theta)
    lam, vec = np.linalg.eigh(rho)
    log_rho = (vec * np.log(lam)) @ vec.conj().T
    return -np.trace(sigma @ log_rho).real


def test_qmhl_loss_is_the_cross_entropy_with_its_gradient():
    model = _model("statevector")
    states = _ensemble()
    sigma = np.einsum("ja,jb->ab", states, states.conj()) / len(states)
    with tf.GradientTape() as tape:
        loss = model.qmhl_loss(states)
    g_phi, g_theta = tape.gradient(loss, [model.circuit_weights, model.energy.theta])
    assert float(loss) == pytest.approx(_cross_entropy(model, sigma), abs=1e-5)
    phi0, theta0 = model.circuit_weights.numpy(), model.energy.theta.numpy()
    fd_phi = reference.central_difference(lambda v: _cross_entropy(model, sigma, phi=v), phi0)
    fd_theta = reference.central_difference(lambda v: _cross_entropy(model, sigma, theta=v), theta0)
    np.testing.assert_allclose(g_phi.numpy(), fd_phi, atol=2e-4)
    np.testing.assert_allclose(g_theta.numpy(), fd_theta, atol=2e-5)


def test_qmhl_fit_lowers_the_cross_entropy():
    model = _model("statevector")
    states = _ensemble(1, 30)
    model.compile(keras.optimizers.Adam(0.05), loss="qmhl")
    history = model.fit(states, epochs=15, verbose=0)
    loss = history.history["loss"]
    assert loss[-1] < loss[0] - 0.05


@pytest.mark.tfq
def test_qmhl_on_a_backend_without_state_gradients_says_so():
    model = _model("tfq")
    with pytest.raises(ValueError, match="backend='statevector'"):
        model.qmhl_loss(_ensemble())


# ------------------------------------------------------------------------------------ sampling
def test_measurement_samples_follow_the_diagonal_of_rho():
    model = _model("statevector")
    diag = np.real(np.diag(_reference_rho(model)))
    samples = model.sample(6000, seed=3)
    assert samples.shape == (6000, 3)
    freq = np.bincount(samples @ np.array([4, 2, 1]), minlength=8) / len(samples)
    np.testing.assert_allclose(freq, diag, atol=0.03)
    latent = model.sample_latent(10, seed=0)
    assert latent.shape == (10, 3) and set(np.unique(latent)) <= {0, 1}


# ------------------------------------------------------------------------------------ saving
def test_keras_round_trip_in_a_fresh_process(tmp_path):
    model = _model("statevector")
    path = str(tmp_path / "qhbm.keras")
    model.save(path)
    np.save(tmp_path / "rho.npy", model.density_matrix())
    script = textwrap.dedent(
        f"""
        import json, numpy as np
        import tfq_layers
        from tfq_layers._keras import keras
        m = keras.models.load_model({path!r}, safe_mode=True)
        rho = m.density_matrix()
        want = np.load({str(tmp_path / "rho.npy")!r})
        print(json.dumps({{"cls": type(m).__name__, "energy": type(m.energy).__name__,
                          "diff": float(np.abs(rho - want).max())}}))
        """
    )
    out = json.loads(reference.run_python(script).strip().splitlines()[-1])
    assert out == {"cls": "QHBM", "energy": "KOBEEnergy", "diff": 0.0}


# ------------------------------------------------------------------------------------ bad input
def test_bad_input_gets_clear_errors(monkeypatch):
    with pytest.raises(CircuitError, match="n_bits=2"):
        QHBM(BernoulliEnergy(2), _circuit())
    with pytest.raises(TypeError, match="EnergyModel"):
        QHBM("bernoulli", _circuit())
    with pytest.raises(ValueError, match="order"):
        KOBEEnergy(3, order=4)
    model = _model("statevector")
    with pytest.raises(ValueError, match="not Hermitian"):
        model.vqt_loss(cirq.PauliSum.from_pauli_strings(1j * cirq.Z(Q[0])), 1.0)
    with pytest.raises(ValueError, match="does not have"):
        model.vqt_loss(cirq.Z(cirq.LineQubit(7)), 1.0)
    for beta in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="beta"):
            model.vqt_loss(_hamiltonian(), beta)
    with pytest.raises(ValueError, match="beta"):
        model.compile("adam", loss="vqt", hamiltonian=_hamiltonian(), beta=0)
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        model.qmhl_loss(np.ones((4, 4), np.complex64))
    with pytest.raises(RuntimeError, match="compile"):
        QHBM(BernoulliEnergy(3), _circuit()).fit(epochs=1)
    monkeypatch.setattr(qhbm_module, "MAX_DENSITY_QUBITS", 2)
    with pytest.raises(ValueError, match="limit is 2 qubits"):
        model.density_matrix()


def test_density_matrix_refuses_large_registers():
    qubits = cirq.LineQubit.range(13)
    circuit = cirq.Circuit(cirq.ry(A).on_each(*qubits))
    model = QHBM(BernoulliEnergy(13), circuit, backend="statevector")
    with pytest.raises(ValueError, match="limit is 12 qubits"):
        model.density_matrix()
    assert model.estimator == "sampled"
    assert np.isfinite(float(model.expectation(cirq.Z(qubits[0]))))


# ------------------------------------------------------------------------------------ recipes
@pytest.mark.slow  # a recipe run end to end: `make test-slow`
@pytest.mark.parametrize("name", ["vqt", "qmhl"])
def test_recipe_quick_run_prints_the_fidelity_line(name, tmp_path, capsys):
    import importlib

    recipe = importlib.import_module(f"models.{name}")
    result = recipe.main(["--quick", "--epochs", "2", "--plots", str(tmp_path)])
    out = capsys.readouterr().out.strip().splitlines()
    assert result.metric == "fidelity" and 0.0 < result.value <= 1.0 + 1e-9
    assert out[-1] == f"fidelity: {result.value:.4g}"
    assert os.path.exists(tmp_path / f"{name}.png")


def test_recipe_thermal_state_and_fidelity_helpers_match_scipy():
    from models import vqt

    from tfq_layers.generative.qhbm import fidelity, thermal_state

    ham, qubits = vqt.load_data()
    rho, log_z = thermal_state(ham, 2.0, qubits)
    expm = scipy.linalg.expm(-2.0 * ham.matrix(qubits))
    np.testing.assert_allclose(rho, expm / np.trace(expm), atol=1e-12)
    assert log_z == pytest.approx(np.log(np.trace(expm).real), abs=1e-10)
    sigma = np.diag(np.linspace(1, 2, 16)) / np.linspace(1, 2, 16).sum()
    root = scipy.linalg.sqrtm(sigma)
    want = np.real(np.trace(scipy.linalg.sqrtm(root @ rho @ root))) ** 2
    assert fidelity(rho, sigma) == pytest.approx(want, abs=1e-8)
