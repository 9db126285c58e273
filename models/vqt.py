"""Variational quantum thermalizer (Verdon et al. 2019): thermal states of a 2x2 Ising model.

The transverse-field Ising model on a 2x2 grid of qubits (4 nearest-neighbour bonds, open
boundaries), ``H = -J Σ_<ij> Z_i Z_j - h Σ_i X_i`` with ``J = h = 1``, at inverse temperatures
``β = 0.5, 1, 2, 4``. A :class:`tfq_layers.generative.QHBM` (latent :class:`KOBEEnergy` of order
``n`` = 4, i.e. every product of spins: any distribution over the 16 bitstrings; unitary: 3 layers
of ``ry``, ``rz`` on every qubit and ``ZZ**w``, ``XX**w`` on every bond, then closing ``ry``,
``rz``; 56 circuit weights, 71 parameters in all) minimizes the free energy
``β tr(ρH) - S(ρ)`` with the exact estimator (all 16 latent strings per step), Adam with a cosine-decayed step size (to 2 % over each
phase). First, 4 initial weight draws are each trained 200 steps at ``β = 0.5`` (step size 0.05)
and the one with the lowest free energy is kept (the free energy is the learner's own objective:
no exact answer is used); the landscape has local minima, and a single draw can stall at a
fidelity near 0.98. The betas are then trained in increasing order, each starting from the
previous solution (the eigenbasis of the thermal state does not depend on ``β``; only the
latent distribution does): 600 steps at ``β = 0.5``, 300 at each next ``β``, step size 0.02.

Reported against exact diagonalization (NumPy): the Uhlmann fidelity
``(tr sqrt(sqrt(σ) ρ sqrt(σ)))²`` with ``σ = e^{-βH}/Z`` and the relative free-energy error
``|F - F*| / |F*|`` with ``F* = -log Z``. The run ends with ``fidelity: ...``, the smallest
fidelity over the four betas.

Run ``python -m models.vqt`` (``--plots DIR`` writes the free energy over training and the
learned vs exact density matrices; ``--export DIR`` saves ``model.keras``).

Example:
    >>> from models import vqt
    >>> ham, qubits = vqt.load_data()
    >>> len(qubits), len(ham)
    (4, 8)
"""

import os

from . import _cli  # noqa: E402

EPOCHS = 600  # gradient steps at the first beta; half as many at each next one
ARGS = _cli.parse_if_main(__name__, __package__, "vqt", __doc__, EPOCHS)

from . import _common  # noqa: E402  # first: it imports tfq_layers before TensorFlow

import cirq  # noqa: E402
import numpy as np  # noqa: E402
import sympy  # noqa: E402
from tfq_layers._keras import keras  # noqa: E402
from tfq_layers.generative import QHBM, KOBEEnergy  # noqa: E402
from tfq_layers.generative.qhbm import fidelity, thermal_state  # noqa: E402

NAME = "vqt"
TASK = "VQT: thermal states of the 2x2 transverse-field Ising model, beta = 0.5, 1, 2, 4"
BETAS = (0.5, 1.0, 2.0, 4.0)
QUICK_EPOCHS = 4
LEARNING_RATE = 0.05  # Adam, cosine-decayed to 2 % over each beta's steps
WARM_LEARNING_RATE = 0.02  # the same, for each beta after the first (warm start)
LAYERS = 3
RESTARTS = 4  # initial weights tried at the first beta; the lowest free energy is kept


def load_data(coupling=1.0, field=1.0):
    """The Hamiltonian ``-J Σ Z_i Z_j - h Σ X_i`` on a 2x2 grid and its qubits (row-major).

    Returns:
        ``(hamiltonian, qubits)``: a ``cirq.PauliSum`` and the 4 ``cirq.GridQubit`` in order.
    """
    qubits = cirq.GridQubit.rect(2, 2)
    ham = sum(-coupling * cirq.Z(a) * cirq.Z(b) for a, b in bonds(qubits))
    ham += sum(-field * cirq.X(q) for q in qubits)
    return ham, qubits


def bonds(qubits):
    """Nearest-neighbour pairs of the 2x2 grid (two rows, two columns)."""
    q = qubits
    return [(q[0], q[1]), (q[2], q[3]), (q[0], q[2]), (q[1], q[3])]


def ansatz(qubits, layers=LAYERS):
    """The unitary: per layer ``ry``, ``rz`` on every qubit, ``ZZ**w`` and ``XX**w`` on every
    bond; then a closing ``ry``, ``rz`` layer. Symbols ``w1, w2, ...``."""
    circuit = cirq.Circuit()
    count = 0

    def w():
        nonlocal count
        count += 1
        return sympy.Symbol(f"w{count}")

    def rotations():
        circuit.append(cirq.Moment(cirq.ry(w()).on(q) for q in qubits))
        circuit.append(cirq.Moment(cirq.rz(w()).on(q) for q in qubits))

    for _ in range(layers):
        rotations()
        for gate in (cirq.ZZPowGate, cirq.XXPowGate):
            for a, b in bonds(qubits):
                circuit.append(gate(exponent=w()).on(a, b))
    rotations()
    return circuit


def build_model(qubits, seed=0, backend="statevector"):
    """The QHBM: a full-order KOBE latent energy (zeros: uniform start) and :func:`ansatz`
    with angles uniform in ``[-pi, pi)``."""
    return QHBM(
        KOBEEnergy(len(qubits), order=len(qubits), initializer="zeros", seed=seed),
        ansatz(qubits),
        backend=backend,
        estimator="exact",
        initializer=keras.initializers.RandomUniform(-np.pi, np.pi, seed=seed),
        seed=seed,
        name="vqt_qhbm",
    )


def train_phase(model, n_steps, rate, eager, data=None, **compile_args):
    """``n_steps`` full-batch steps of Adam with a cosine-decayed step size (``rate`` -> 2 %).

    ``compile_args`` go to :meth:`QHBM.compile` (``loss``, ``hamiltonian``, ``beta``); ``data``
    is the quantum data of QMHL (``None`` for VQT). Returns the History.
    """
    schedule = keras.optimizers.schedules.CosineDecay(rate, n_steps, alpha=0.02)
    # run_eagerly for a few quick steps: cheaper than tracing one graph per compile
    model.compile(keras.optimizers.Adam(schedule), run_eagerly=eager, **compile_args)
    if data is None:
        return model.fit(epochs=n_steps, verbose=0)
    return model.fit(data, epochs=n_steps, verbose=0)


def best_of_restarts(build, train, seed, steps, restarts=None):
    """Train ``restarts`` models from different initial weights for ``steps`` steps each and keep
    the one with the lowest training objective (the free energy or the cross entropy, which the
    learner can compute: no exact answer is used).

    Args:
        build: ``build(seed) -> model``.
        train: ``train(model, steps, rate) -> History``.
        seed: the run's seed; candidate ``r`` gets ``seed * restarts + r``.
        steps: screening steps per candidate.
        restarts: number of candidates (default :data:`RESTARTS`).

    Returns:
        ``(best model, [final objective of each candidate])``.
    """
    restarts = restarts or RESTARTS
    results = []
    for r in range(restarts):
        model = build(seed * restarts + r)
        history = train(model, steps, LEARNING_RATE)
        results.append((history.history["loss"][-1], r, model))
    best = min(results, key=lambda item: item[0])
    return best[2], [round(float(item[0]), 5) for item in results]


def _plot(path, curves, rhos):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    start = 0
    for beta, (loss, exact) in curves.items():
        steps = np.arange(start, start + len(loss))
        axes[0].plot(steps, loss, label=f"beta = {beta:g}")
        axes[0].hlines(exact, steps[0], steps[-1], colors="k", linestyles=":")
        start += len(loss)
    axes[0].set_xlabel("gradient step")
    axes[0].set_ylabel("free energy beta tr(rho H) - S")
    axes[0].legend()
    learned, exact = rhos
    for ax, mat, title in ((axes[1], learned, "learned |rho|"), (axes[2], exact, "exact |rho|")):
        im = ax.imshow(np.abs(mat), cmap="viridis")
        ax.set_title(title)
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    _common.save_figure(fig, path)


def main(argv=None):
    """Train the four betas in turn; print fidelity and free-energy error; end with ``fidelity:``.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``); ``--epochs`` is the number of
            steps at the first beta (half as many at each next one).

    Returns:
        A :class:`models._common.Result` whose value is the smallest fidelity.
    """
    if argv is None and ARGS is not None:
        args = ARGS
    else:
        args = _cli.recipe_parser(__package__, NAME, __doc__, EPOCHS).parse_args(argv)
    if args.workers > 1:
        raise SystemExit(f"{NAME}: --workers is not supported; run without it.")
    steps = args.epochs or (QUICK_EPOCHS if args.quick else EPOCHS)
    _common.set_seed(args.seed)
    ham, qubits = load_data()
    extra, curves, fids = {}, {}, []
    with _common.Timer() as timer:
        screen = max(1, steps // 3)
        model, screened = best_of_restarts(
            lambda seed: build_model(qubits, seed=seed),
            lambda m, n, rate: train_phase(
                m, n, rate, args.quick, loss="vqt", hamiltonian=ham, beta=BETAS[0]
            ),
            args.seed,
            screen,
            restarts=1 if args.quick else None,
        )
        print(f"restarts: free energies {screened} after {screen} steps each; kept the lowest")
        for i, beta in enumerate(BETAS):
            n_steps = steps if i == 0 else max(1, steps // 2)
            history = train_phase(
                model,
                n_steps,
                WARM_LEARNING_RATE,
                args.quick,
                loss="vqt",
                hamiltonian=ham,
                beta=beta,
            )
            exact, log_z = thermal_state(ham, beta, qubits)
            rho = model.density_matrix()
            fid = fidelity(rho, exact)
            free = model.free_energy(ham, beta)
            rel = abs(free + log_z) / abs(log_z)
            fids.append(fid)
            curves[beta] = (history.history["loss"], -log_z)
            extra[f"beta={beta:g} fidelity"] = f"{fid:.5f}"
            extra[f"beta={beta:g} relative free-energy error"] = f"{rel:.2e}"
            print(
                f"beta = {beta:g}: {n_steps} steps, fidelity {fid:.5f}, free energy {free:.5f} "
                f"(exact {-log_z:.5f}, relative error {rel:.2e})",
                flush=True,
            )
    n_params = int(sum(np.prod(v.shape) for v in model.trainable_weights))
    result = _common.Result(
        NAME,
        TASK,
        len(qubits),
        n_params,
        0,
        steps,
        "fidelity",
        float(min(fids)),
        timer.seconds,
        _common.command(f"{_common.PACKAGE}.{NAME}", argv),
        extra,
    )
    if args.plots:
        _plot(os.path.join(args.plots, f"{NAME}.png"), curves, (rho, exact))
    if args.export:
        os.makedirs(args.export, exist_ok=True)
        model.save(os.path.join(args.export, _common.KERAS_FILE))
    _common.report(result)
    return result


if __name__ == "__main__":
    main()
