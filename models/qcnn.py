"""QCNN (Cong, Choi & Lukin 2019) detecting excitations of an 8-qubit cluster state.

Data (generated locally, no download): the circuits of ``tfq.datasets.excited_cluster_states`` on
8 qubits (built here from :func:`tfq_layers.circuits.cluster_state_circuit`, no TFQ needed), the
8-qubit ring cluster state with an ``X`` excitation on one qubit (label +1) or
without (label -1), each followed by a random ``rx(eps)`` on one qubit, ``eps`` uniform in
``[-pi/2, pi/2]``: on the excited qubit for an excited state, on a random qubit otherwise. Classes
are balanced (half the examples are the unexcited circuit). Since ``rx(eps) X = rx(eps + pi)`` up
to a global phase, this is the data of TensorFlow Quantum's QCNN tutorial, a cluster state with
``rx(theta)`` on one qubit, ``theta`` uniform in a circle, with the tutorial's labels negated (+1
here means ``|theta| > pi/2``). Near ``|theta| = pi/2`` the two classes become indistinguishable,
which bounds the attainable accuracy below 1.

Model: the data circuits are quantum-data inputs of a PQC whose circuit is the full QCNN of
:func:`tfq_layers.circuits.qcnn` (conv + pool, 8 -> 4 -> 2 -> 1 qubits, 63 shared parameters);
prediction ``<Z>`` of the last qubit; hinge loss on the +-1 labels.

Run ``python -m models.qcnn``; it prints ``test accuracy: ...`` (sign of ``<Z>`` vs label).

Example:
    >>> from models import qcnn
    >>> qcnn.build_model().count_params()
    63
"""

from . import _cli  # noqa: E402

EPOCHS = 25
# Parsed here, before TensorFlow is imported, when run as a program (fast --help and errors).
ARGS = _cli.parse_if_main(__name__, __package__, "qcnn", __doc__, EPOCHS)

import cirq  # noqa: E402
import numpy as np  # noqa: E402
from . import _common  # noqa: E402  # first: it imports tfq_layers before TensorFlow
from tfq_layers import PQC, circuits  # noqa: E402
from tfq_layers.compat import convert_to_tensor  # noqa: E402
from tfq_layers._keras import keras  # noqa: E402

NAME = "qcnn"
N_QUBITS = 8
QUBITS = cirq.GridQubit.rect(1, N_QUBITS)


def excited_cluster_states(qubits):
    """The circuits and labels of ``tfq.datasets.excited_cluster_states(qubits)``, without TFQ.

    The cluster state with ``X`` on ``qubits[i]`` (label 1) for each ``i``, then the cluster state
    itself (label -1); ``tests/circuits/test_circuits.py`` checks them against TFQ's where it is installed.

    Args:
        qubits: the register (at least 3 qubits).

    Returns:
        ``(circuits, labels)``: ``len(qubits) + 1`` ``cirq.Circuit`` and a list of +-1.

    Example:
        >>> circuits, labels = excited_cluster_states(cirq.GridQubit.rect(1, 3))
        >>> len(circuits), labels
        (4, [1, 1, 1, -1])
    """
    qubits = list(qubits)
    cluster = circuits.cluster_state_circuit(qubits)
    excited = [cluster + cirq.Circuit(cirq.X(q)) for q in qubits]
    return excited + [cluster], [1] * len(qubits) + [-1]


def make_examples(n, rng, qubits=QUBITS):
    """``n`` perturbed circuits of ``tfq.datasets.excited_cluster_states(qubits)`` and labels.

    Args:
        n: number of examples (int >= 1).
        rng: ``numpy.random.Generator``.
        qubits: the ``cirq.GridQubit`` register (at least 3 qubits).

    Returns:
        ``(circuits, labels, angles)``: a list of ``cirq.Circuit``, float32 labels +-1, and the
        equivalent excitation angle ``theta`` of each example (``eps`` or ``eps + pi``).

    Example:
        >>> cs, ys, _ = make_examples(4, np.random.default_rng(0))
        >>> len(cs), set(ys.tolist()) <= {-1.0, 1.0}
        (4, True)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int; got {n!r}.")
    qubits = list(qubits)
    base, base_labels = excited_cluster_states(qubits)
    excited = [i for i, y in enumerate(base_labels) if y == 1]  # X on qubits[i]
    unexcited = [i for i, y in enumerate(base_labels) if y == -1][0]
    out, labels, angles = [], [], []
    for _ in range(n):
        eps = rng.uniform(-np.pi / 2, np.pi / 2)
        if rng.random() < 0.5:
            k = int(rng.choice(excited))
            circuit, label, theta = base[k], 1.0, eps + np.pi
        else:
            k = int(rng.integers(len(qubits)))
            circuit, label, theta = base[unexcited], -1.0, eps
        out.append(circuit + cirq.Circuit(cirq.rx(eps).on(qubits[k])))
        labels.append(label)
        angles.append(theta)
    return out, np.array(labels, np.float32), np.array(angles, np.float32)


def load_data(seed=0, n_train=160, n_test=80, quick=False):
    """Train and test sets of perturbed excited cluster states (independent draws).

    Args:
        seed: NumPy seed.
        n_train: training examples.
        n_test: held-out examples.
        quick: 32 training and 16 test examples.

    Returns:
        dict with ``circuits_train, circuits_test`` (``tf.string`` tensors), ``y_train, y_test``
        (float32 +-1) and ``theta_train, theta_test`` (equivalent excitation angles).

    Example:
        >>> d = load_data(seed=0, quick=True)
        >>> d["circuits_train"].shape, d["y_train"].shape
        (TensorShape([32]), (32,))
    """
    if quick:
        n_train, n_test = 32, 16
    rng = np.random.default_rng(seed)
    train, y_train, t_train = make_examples(n_train, rng)
    test, y_test, t_test = make_examples(n_test, rng)
    return {
        "circuits_train": convert_to_tensor(train),
        "y_train": y_train,
        "theta_train": t_train,
        "circuits_test": convert_to_tensor(test),
        "y_test": y_test,
        "theta_test": t_test,
    }


def build_model(learning_rate=0.05):
    """The compiled QCNN on quantum data: ``<Z>`` of the last qubit after conv/pool levels.

    Args:
        learning_rate: Adam learning rate.

    Returns:
        A compiled ``keras.Model`` with a ``(batch,)`` ``tf.string`` input and ``(batch, 1)``
        output in ``[-1, 1]``; hinge loss.

    Example:
        >>> build_model().output_shape
        (None, 1)
    """
    circuit, _, readout = circuits.qcnn(QUBITS)
    inputs = keras.Input(shape=(), dtype="string", name="cluster_states")
    outputs = PQC(circuit, cirq.Z(readout), name="quantum")(inputs)
    model = keras.Model(inputs, outputs, name=NAME)
    model.compile(
        keras.optimizers.Adam(learning_rate), keras.losses.Hinge(), metrics=[_common.hinge_accuracy]
    )
    return model


def plot_predictions(model, data, path):
    """``<Z>`` of the readout against the equivalent excitation angle, test set, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = model.predict(data["circuits_test"], verbose=0).reshape(-1)
    theta = (data["theta_test"] + np.pi) % (2 * np.pi) - np.pi
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for label, colour in ((1.0, "darkred"), (-1.0, "navy")):
        mask = data["y_test"] == label
        ax.scatter(
            theta[mask],
            out[mask],
            s=12,
            c=colour,
            label="excited (+1)" if label > 0 else "not excited (-1)",
        )
    for x in (-np.pi / 2, np.pi / 2):
        ax.axvline(x, color="gray", ls=":")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xlabel("equivalent excitation angle theta")
    ax.set_ylabel("QCNN output <Z>")
    ax.legend(fontsize=7)
    ax.set_title("QCNN test predictions")
    fig.tight_layout()
    _common.save_figure(fig, path)
    return path


RECIPE = _common.Recipe(
    NAME,
    "excited 8-qubit cluster states (quantum data)",
    __doc__,
    qubits=N_QUBITS,
    epochs=EPOCHS,
    batch_size=16,
    load_data=load_data,
    build=lambda data: build_model(),
    inputs="circuits",
    accuracy=_common.sign_accuracy,
    figures={"predictions": lambda run, path: plot_predictions(run.model, run.data, path)},
)


def main(argv=None):
    """Train, evaluate, optionally export/plot; return a :class:`models._common.Result`.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``); see ``--help``.
    """
    return _common.train_and_report(RECIPE, argv, args=ARGS if argv is None else None)


if __name__ == "__main__":
    main()
