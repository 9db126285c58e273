"""Write the tutorial notebooks ``notebooks/*.ipynb`` from the Python source in this file.

The notebooks are generated so that they stay reviewable as plain Python and carry no outputs.
Run ``python notebooks/_build.py`` after editing a cell here; ``tests/test_notebooks.py`` checks
that the committed ``.ipynb`` files are exactly what this script writes, and executes them.

Each notebook is a list of cells, ``md(...)`` (Markdown) or ``code(...)`` (Python). Every notebook
starts with the same Colab install cell (it does nothing outside Colab) and a parameters cell whose
sizes shrink when the environment variable ``TFQL_NOTEBOOK_QUICK=1`` is set (the tests set it).

Usage:
    python notebooks/_build.py            # (re)write notebooks/*.ipynb
    python notebooks/_build.py OUT_DIR    # write them to OUT_DIR instead (used by the test)
"""
import os
import re
import sys
import textwrap

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))

ROOT = os.path.dirname(HERE)


def _repository():
    """The source repository's URL: ``[project.urls] Source`` in pyproject.toml, its one home."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    urls = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, flags=re.M | re.S)
    match = urls and re.search(r'^Source\s*=\s*"(https://github\.com/[^"]+?)/?"', urls.group(1),
                               flags=re.M)
    if not match:
        raise SystemExit("pyproject.toml has no [project.urls] Source = \"https://github.com/...\"")
    return match.group(1)


#: ``https://github.com/<owner>/<repo>``, read from pyproject.toml.
REPOSITORY = _repository()
#: The pip requirement Colab installs from source (only when asked to; PyPI is the default).
GIT_URL = "git+" + REPOSITORY
#: The distribution name on PyPI.
DISTRIBUTION = "tfq-layers"
#: The Python versions TensorFlow Quantum 0.7.6 has wheels for (cp310, cp311, cp312).
PYTHONS = ((3, 10), (3, 12))
_OLDEST, _NEWEST = (".".join(map(str, v)) for v in PYTHONS)


def colab_badge(name):
    """Markdown for an "Open in Colab" badge of notebook ``name`` on the main branch."""
    path = REPOSITORY.replace("https://github.com/", "")
    url = f"https://colab.research.google.com/github/{path}/blob/main/notebooks/{name}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


#: The environment variable that switches every notebook to its quick (test) settings.
QUICK_ENV = "TFQL_NOTEBOOK_QUICK"


def md(text):
    return ("markdown", textwrap.dedent(text).strip("\n"))


def code(text):
    return ("code", textwrap.dedent(text).strip("\n"))


INSTALL = code(f'''
    # Google Colab only: install tfq-layers and its pinned stack (TensorFlow 2.18, TensorFlow
    # Quantum 0.7.6, Cirq 1.5), then restart the runtime once. Anywhere else this cell does
    # nothing: install the package yourself (see the repository README).
    import sys

    if "google.colab" in sys.modules:
        import importlib.metadata
        import importlib.util
        import os
        import signal
        import subprocess

        # TensorFlow Quantum 0.7.6 has wheels for Python {_OLDEST} to {_NEWEST}.
        if not {PYTHONS[0]} <= sys.version_info[:2] <= {PYTHONS[1]}:
            raise RuntimeError(
                "tfq-layers needs TensorFlow Quantum 0.7.6, which has wheels for Python "
                f"{_OLDEST} to {_NEWEST}; this runtime runs Python {{sys.version.split()[0]}}. "
                "Pick another runtime version under Runtime > Change runtime type, then run "
                "this cell again.")
        if importlib.util.find_spec("tfq_layers") is None:
            def installed(name):
                try:
                    return importlib.metadata.version(name)
                except importlib.metadata.PackageNotFoundError:
                    return None

            # From PyPI. To try the repository's current source instead, run
            # os.environ["TFQ_LAYERS_FROM_SOURCE"] = "1" before this cell.
            requirement = "{DISTRIBUTION}[models]"
            if os.environ.get("TFQ_LAYERS_FROM_SOURCE") == "1":
                requirement += " @ {GIT_URL}"
            stack = ("tensorflow", "keras", "numpy", "protobuf", "sympy")
            before = {{name: installed(name) for name in stack}}
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", requirement],
                           check=True)
            changed = [name for name in stack if installed(name) != before[name]]
            if changed:
                # Colab had other versions of these loaded or cached (it ships a newer
                # TensorFlow): only a fresh runtime sees the installed ones.
                print(f"Installed {{requirement}}; {{', '.join(changed)}} changed version. "
                      "Restarting the runtime: when Colab says it restarted, run the notebook "
                      "again from the top (this cell then does nothing).", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
''')


def params(body):
    """The parameters cell: ``QUICK`` from the environment, then the notebook's sizes."""
    head = textwrap.dedent(f'''
        # Parameters. The test suite sets {QUICK_ENV}=1 for a fast smoke run; by default you get
        # the real settings. Change the numbers here to experiment.
        import os

        QUICK = os.environ.get("{QUICK_ENV}", "0") == "1"
    ''').strip("\n")
    tail = 'print("quick mode" if QUICK else "full settings", ' \
           '{k: v for k, v in dict(globals()).items() if k.isupper() and k != "QUICK"})'
    return ("code", head + "\n" + textwrap.dedent(body).strip("\n") + "\n" + tail)


IMPORTS = '''
    # tfq_layers first: imported before TensorFlow, it keeps TensorFlow's C++ start-up messages
    # out of the notebook (set TF_CPP_MIN_LOG_LEVEL=0 before it to see them).
    import tfq_layers
    from tfq_layers import PQC, circuits

    import cirq
    import keras
    import matplotlib.pyplot as plt
    import numpy as np
    import sympy
    import tensorflow as tf
    from cirq.contrib.svg import SVGCircuit

    tf.get_logger().setLevel("ERROR")
    keras.utils.set_random_seed(SEED)   # Python, NumPy and TensorFlow seeds
    print("tfq_layers", tfq_layers.__version__, "| keras", keras.__version__,
          "| tensorflow", tf.__version__, "| cirq", cirq.__version__)
'''

# --------------------------------------------------------------------------------------------
# 01 quickstart
# --------------------------------------------------------------------------------------------
QUICKSTART = [
    md('''
    # 01 · Quick start: a hybrid quantum-classical classifier in Keras

    `tfq_layers.PQC` turns a **Cirq circuit with sympy symbols** into an ordinary Keras layer. Its
    output is a vector of expectation values `<psi(x, theta)| O_k |psi(x, theta)>`: the symbols
    listed as `input_symbols` take their values from the layer's input, every other symbol is a
    trainable weight. The circuit is simulated by TensorFlow Quantum's ops, one op call per batch,
    and gradients (adjoint method by default) flow to the circuit weights *and* to the layers
    before it, so the whole model trains with `model.fit`.

    This notebook builds the classic hybrid model

    `Dense(30 -> 4, tanh)` -> **4-qubit circuit** -> `Dense(1, sigmoid)`

    on the Wisconsin breast-cancer data that ships with scikit-learn (no download).

    Background: variational circuits as trainable models (Mitarai et al., *Quantum circuit
    learning*, PRA 98, 032309 (2018); Schuld et al., *Circuit-centric quantum classifiers*, PRA
    101, 032308 (2020)); hardware-efficient ansätze (Kandala et al., Nature 549, 242 (2017));
    TensorFlow Quantum (Broughton et al., arXiv:2003.02989).
    '''),
    INSTALL,
    params('''
        SEED = 0
        EPOCHS = 2 if QUICK else 20          # full: about 10 s on a laptop CPU
        LAYERS = 2                           # hardware-efficient ansatz layers
    '''),
    code(IMPORTS),
    md('''
    ## Data
    569 tumours, 30 real features, label 1 = benign. Standardize with statistics of the
    training split only.
    '''),
    code('''
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=SEED, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train = scaler.transform(x_train).astype("float32")
    x_test = scaler.transform(x_test).astype("float32")
    y_train, y_test = y_train.astype("float32"), y_test.astype("float32")
    print("train", x_train.shape, "test", x_test.shape)
    '''),
    md('''
    ## The circuit
    Each of the 4 classical outputs `h_i` (in `[-1, 1]` thanks to `tanh`) sets the angle of
    `ry(pi * h_i)` on qubit `i`. Any sympy expression is allowed as a gate angle; the layer
    compiles it to TensorFlow once. A 2-layer hardware-efficient ansatz (`ry`, `rz`, a ring of
    `CZ`) follows; we measure `Z` on every qubit.
    '''),
    code('''
    qubits = cirq.GridQubit.rect(1, 4)
    h = sympy.symbols("h0:4")                                        # input symbols
    encoding = cirq.Circuit(cirq.ry(sympy.pi * s).on(q) for q, s in zip(qubits, h))
    ansatz, weight_symbols = circuits.hardware_efficient(qubits, layers=LAYERS)
    circuit = encoding + ansatz
    observables = circuits.z_observables(qubits)                    # [Z0, Z1, Z2, Z3]
    print(len(weight_symbols), "trainable circuit parameters")
    SVGCircuit(circuit)
    '''),
    md('''
    ## The model: ten lines of Keras
    '''),
    code('''
    model = keras.Sequential([
        keras.Input((30,)),
        keras.layers.Dense(4, activation="tanh", name="compress"),
        PQC(circuit, observables, input_symbols=h, name="quantum"),
        keras.layers.Dense(1, activation="sigmoid", name="head"),
    ])
    model.compile(keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32,
                        validation_data=(x_test, y_test), verbose=2)
    model.summary()
    '''),
    code('''
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.3f}")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, name in zip(axes, ["loss", "accuracy"]):
        epochs = np.arange(1, len(history.history[name]) + 1)
        ax.plot(epochs, history.history[name], "o-", label="train")
        ax.plot(epochs, history.history["val_" + name], "s--", label="test")
        ax.set_xlabel("epoch"); ax.set_ylabel(name); ax.grid(alpha=0.3); ax.legend()
    fig.suptitle("hybrid classifier: training curves")
    fig.tight_layout()
    fig.savefig("01_training_curves.png", dpi=100)
    plt.show()
    '''),
    md('''
    ## What did the quantum layer compute?
    The layer is not a black box: its circuit weights are a `{symbol name: value}` dict away from
    an ordinary Cirq circuit. Resolving every symbol for one example and simulating with Cirq's own
    simulator gives the same expectation values as the layer.
    '''),
    code('''
    pqc = model.get_layer("quantum")
    features = model.get_layer("compress")(x_test[:1]).numpy()[0]     # h_i of one test example
    resolver = {**pqc.symbol_values(), **{s.name: float(v) for s, v in zip(h, features)}}
    state = cirq.Simulator().simulate(cirq.resolve_parameters(circuit, resolver)).final_state_vector
    index = {q: i for i, q in enumerate(qubits)}
    cirq_values = [obs.expectation_from_state_vector(state, index).real for obs in observables]
    layer_values = pqc(features[None, :]).numpy()[0]
    print("PQC layer :", np.round(layer_values, 5))
    print("cirq      :", np.round(cirq_values, 5))
    assert np.allclose(layer_values, cirq_values, atol=1e-5)
    '''),
    md('''
    ## Next
    * `02_data_reuploading.ipynb`: gate angles `w*x + b`, a 2-qubit universal classifier.
    * `03_qcnn.ipynb`: quantum data (circuits as inputs) and a quantum convolutional network.
    * `04_generators.ipynb`: Born machines and quantum Boltzmann machines.
    * `05_save_export_serve.ipynb`: `.keras` files, SavedModel export, serving in a fresh process.
    '''),
]

# --------------------------------------------------------------------------------------------
# 02 data re-uploading
# --------------------------------------------------------------------------------------------
REUPLOADING = [
    md('''
    # 02 · Data re-uploading: a universal classifier with two qubits

    Pérez-Salinas, Cervera-Lierta, Gil-Fuster & Latorre, *Data re-uploading for a universal quantum
    classifier*, Quantum 4, 226 (2020), showed that a single qubit becomes a flexible classifier if
    the data is loaded **again in every layer**, each time with trainable weights and biases:

    `U(x) = L_N(x) ... L_2(x) L_1(x)`, with `L_l(x) = R(w_l * x + b_l)`,

    where `R` is a general rotation (`ry -> rz -> ry` here). The repeated encoding makes the model a
    Fourier series in `x` whose frequencies grow with the number of layers (Schuld, Sweke & Meyer,
    PRA 103, 032430 (2021)).

    The gate angles are the sympy expressions `w*x + b`. TensorFlow Quantum alone accepts only
    `c * symbol` as an angle; the `PQC` layer compiles any expression to TensorFlow, so the weights
    `w`, `b` and the input `x` all get exact gradients.

    Task (the paper's "circle"): points uniform in `[-1, 1]^2`, label 1 inside the circle of radius
    `sqrt(2/pi)`, which splits the square in two equal areas.
    '''),
    INSTALL,
    params('''
        SEED = 0
        LAYERS = 3                           # re-uploading layers
        EPOCHS = 2 if QUICK else 40          # full: about 20 s on a laptop CPU
        N_TRAIN, N_TEST = (64, 32) if QUICK else (400, 200)
        GRID = 25 if QUICK else 80           # resolution of the decision-boundary plot
    '''),
    code(IMPORTS),
    code('''
    RADIUS = np.sqrt(2 / np.pi)
    rng = np.random.default_rng(SEED)
    x_all = rng.uniform(-1, 1, size=(N_TRAIN + N_TEST, 2)).astype("float32")
    y_all = (np.linalg.norm(x_all, axis=1) < RADIUS).astype("float32")
    x_train, y_train = x_all[:N_TRAIN], y_all[:N_TRAIN]
    x_test, y_test = x_all[N_TRAIN:], y_all[N_TRAIN:]
    print(f"{len(x_train)} training points, {y_train.mean():.0%} inside the circle")
    '''),
    md('''
    ## The circuit
    `circuits.reuploading_circuit(2, n_features=2, layers=LAYERS)` builds, per layer and per qubit,
    `ry(w0*x0 + b0) -> rz(w1*x1 + b1) -> ry(b2)` (the third slot has no feature, only a bias),
    then a `CZ` between the two qubits.
    '''),
    code('''
    circuit, xs, ws = circuits.reuploading_circuit(2, n_features=2, layers=LAYERS)
    qubits = sorted(circuit.all_qubits())
    print("inputs:", xs, "|", len(ws), "trainable symbols | first layer on qubit 0:")
    for op in [op for op in circuit.all_operations() if op.qubits == (qubits[0],)][:3]:
        angle = op.gate.exponent * sympy.pi                 # cirq stores angle / pi
        print(f"  {type(op.gate).__name__.lower()}({angle}) on {op.qubits[0]}")
    SVGCircuit(circuit)
    '''),
    code('''
    model = keras.Sequential([
        keras.Input((2,)),
        PQC(circuit, circuits.z_observables(qubits), input_symbols=xs, name="quantum",
            initializer=keras.initializers.RandomUniform(-np.pi, np.pi)),
        keras.layers.Dense(1, activation="sigmoid", name="head"),
    ])
    model.compile(keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32,
                        validation_data=(x_test, y_test), verbose=0)
    print(f"test accuracy: {model.evaluate(x_test, y_test, verbose=0)[1]:.3f}")
    '''),
    md('''
    ## Decision boundary
    The colour is the predicted probability of "inside"; the solid line is where it crosses 0.5,
    the dashed line the true circle.
    '''),
    code('''
    grid = np.linspace(-1, 1, GRID, dtype="float32")
    gx, gy = np.meshgrid(grid, grid)
    prob = model.predict(np.stack([gx.ravel(), gy.ravel()], axis=1), batch_size=1024,
                         verbose=0).reshape(gx.shape)

    fig, (ax, ax_curve) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1.2, 1]})
    mesh = ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
    ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=1.5)
    t = np.linspace(0, 2 * np.pi, 200)
    ax.plot(RADIUS * np.cos(t), RADIUS * np.sin(t), "k--", lw=1)
    inside = y_test == 1
    ax.scatter(*x_test[inside].T, s=10, c="darkred", label="test: inside")
    ax.scatter(*x_test[~inside].T, s=10, c="navy", label="test: outside")
    fig.colorbar(mesh, ax=ax, label="P(inside)")
    ax.set_aspect("equal"); ax.legend(loc="lower left", fontsize=7)
    ax.set_title(f"data re-uploading, {LAYERS} layers")

    epochs = np.arange(1, EPOCHS + 1)
    ax_curve.plot(epochs, history.history["accuracy"], label="train")
    ax_curve.plot(epochs, history.history["val_accuracy"], label="test")
    ax_curve.set_xlabel("epoch"); ax_curve.set_ylabel("accuracy"); ax_curve.grid(alpha=0.3)
    ax_curve.legend()
    fig.tight_layout()
    fig.savefig("02_decision_boundary.png", dpi=100)
    plt.show()
    '''),
    md('''
    ## Gradients reach the inputs too
    Because `w*x + b` is compiled to TensorFlow, the layer is differentiable in its *input* as
    well. Here we check `d<Z_0>/dx` against a central finite difference of the layer itself.
    '''),
    code('''
    pqc = model.get_layer("quantum")
    point = tf.constant([[0.3, -0.2]])
    with tf.GradientTape() as tape:
        tape.watch(point)
        z0 = pqc(point)[:, 0]
    autodiff = tape.gradient(z0, point).numpy()[0]
    eps = 3e-3
    finite = [(pqc(point + eps * np.eye(2, dtype="float32")[i]).numpy()[0, 0]
               - pqc(point - eps * np.eye(2, dtype="float32")[i]).numpy()[0, 0]) / (2 * eps)
              for i in range(2)]
    print("autodiff         :", np.round(autodiff, 4))
    print("finite difference:", np.round(finite, 4))
    assert np.allclose(autodiff, finite, atol=2e-3)
    '''),
]

# --------------------------------------------------------------------------------------------
# 03 QCNN
# --------------------------------------------------------------------------------------------
QCNN = [
    md('''
    # 03 · Quantum convolutional neural network on excited cluster states

    A QCNN (Cong, Choi & Lukin, *Quantum convolutional neural networks*, Nature Physics 15, 1273
    (2019)) mirrors a CNN: **convolution** layers apply the same parameterized two-qubit unitary
    to neighbouring qubits, **pooling** layers measure-and-control (here: a controlled unitary from
    each discarded qubit into a kept one), halving the qubits at every level, `8 -> 4 -> 2 -> 1`.
    The parameters are shared within a level, so the network has only 63 of them.

    The input here is **quantum data**: each example is a circuit preparing a state, not a
    vector of numbers. We use the 8-qubit ring *cluster state* (Briegel & Raussendorf, PRL 86, 910
    (2001)) and ask the QCNN whether one qubit is excited, as in TensorFlow Quantum's QCNN
    tutorial. `tfq.datasets.excited_cluster_states` gives the cluster state with an `X` on one
    qubit (label +1) or none (label -1); a random `rx(eps)`, `|eps| < pi/2`, on one qubit makes
    every example different. Because `rx(eps) X = rx(eps + pi)` up to a phase, an example is
    "a cluster state with `rx(theta)` on one qubit" and the label says whether `|theta| > pi/2`.
    Near `|theta| = pi/2` the two classes are indistinguishable, so 100 % is out of reach.
    '''),
    INSTALL,
    params('''
        SEED = 0
        EPOCHS = 2 if QUICK else 25          # full: about 40 s on a laptop CPU
        N_TRAIN, N_TEST = (32, 16) if QUICK else (160, 80)
    '''),
    code(IMPORTS + '''
    import tensorflow_quantum as tfq
    '''),
    code('''
    qubits = cirq.GridQubit.rect(1, 8)
    base_circuits, base_labels = tfq.datasets.excited_cluster_states(qubits)
    excited = [i for i, label in enumerate(base_labels) if label == 1]     # X on qubit i
    ground = base_circuits[[i for i, label in enumerate(base_labels) if label == -1][0]]

    def make_examples(n, rng):
        """n circuits (cluster state, maybe excited, then rx(eps) on one qubit), labels, angles."""
        data, labels, thetas = [], [], []
        for _ in range(n):
            eps = rng.uniform(-np.pi / 2, np.pi / 2)
            if rng.random() < 0.5:                       # excited: rx(eps) on the excited qubit
                k = int(rng.choice(excited))
                data.append(base_circuits[k] + cirq.rx(eps).on(qubits[k]))
                labels.append(1.0); thetas.append(eps + np.pi)
            else:                                        # not excited: rx(eps) on a random qubit
                k = int(rng.integers(len(qubits)))
                data.append(ground + cirq.rx(eps).on(qubits[k]))
                labels.append(-1.0); thetas.append(eps)
        return data, np.array(labels, "float32"), np.array(thetas, "float32")

    rng = np.random.default_rng(SEED)
    train_circuits, y_train, theta_train = make_examples(N_TRAIN, rng)
    test_circuits, y_test, theta_test = make_examples(N_TEST, rng)
    x_train = tfq.convert_to_tensor(train_circuits)      # tf.string tensor of serialized circuits
    x_test = tfq.convert_to_tensor(test_circuits)
    print(x_train.shape, x_train.dtype, "| labels +1:", int((y_train > 0).sum()), "of", len(y_train))
    SVGCircuit(train_circuits[0])
    '''),
    md('''
    ## The QCNN
    `circuits.qcnn(qubits)` stacks, per level, a periodic convolution (the same general 15-parameter
    two-qubit unitary on every neighbouring pair) and a pooling block (6 parameters) from the first
    half of the active qubits into the second half. Below: the convolution unitary on two qubits.
    '''),
    code('''
    conv_symbols = sympy.symbols(f"c0:{circuits.CONV_PARAMS}")
    SVGCircuit(circuits.two_qubit_unitary(qubits[0], qubits[1], conv_symbols))
    '''),
    md('''
    A `PQC` without `input_symbols` takes quantum data: its input is the `tf.string` tensor of
    circuits, and the model circuit is appended to each. The output is `<Z>` of the last qubit,
    trained with the hinge loss against the ±1 labels.
    '''),
    code('''
    qcnn_circuit, qcnn_symbols, readout = circuits.qcnn(qubits)
    print(len(qcnn_symbols), "parameters, readout on", readout)

    def hinge_accuracy(y_true, y_pred):
        """Fraction of examples whose prediction has the sign of the +-1 label."""
        y_true = tf.reshape(tf.cast(y_true, tf.float32), [-1])
        y_pred = tf.reshape(y_pred, [-1])
        return tf.reduce_mean(tf.cast((y_true > 0) == (y_pred > 0), tf.float32))

    inputs = keras.Input(shape=(), dtype="string", name="cluster_states")
    outputs = PQC(qcnn_circuit, cirq.Z(readout), name="qcnn")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.05), loss=keras.losses.Hinge(), metrics=[hinge_accuracy])
    history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=16,
                        validation_data=(x_test, y_test), verbose=2)
    '''),
    code('''
    out = model.predict(x_test, verbose=0).reshape(-1)
    print(f"test accuracy: {np.mean(np.sign(out) == y_test):.3f}")
    theta = (theta_test + np.pi) % (2 * np.pi) - np.pi          # wrap to [-pi, pi)

    fig, (ax, ax_curve) = plt.subplots(1, 2, figsize=(11, 3.6))
    for label, colour, name in ((1.0, "darkred", "excited (+1)"), (-1.0, "navy", "not excited (-1)")):
        mask = y_test == label
        ax.scatter(theta[mask], out[mask], s=14, c=colour, label=name)
    for edge in (-np.pi / 2, np.pi / 2):
        ax.axvline(edge, color="gray", ls=":")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("equivalent excitation angle theta"); ax.set_ylabel("QCNN output <Z>")
    ax.legend(fontsize=7); ax.set_title("test predictions")
    epochs = np.arange(1, EPOCHS + 1)
    ax_curve.plot(epochs, history.history["loss"], label="train")
    ax_curve.plot(epochs, history.history["val_loss"], label="test")
    ax_curve.set_xlabel("epoch"); ax_curve.set_ylabel("hinge loss"); ax_curve.grid(alpha=0.3)
    ax_curve.legend()
    fig.tight_layout()
    fig.savefig("03_qcnn_predictions.png", dpi=100)
    plt.show()
    '''),
    md('''
    ## Check against Cirq
    The model's output for one test example equals `<Z>` on the readout qubit of the data circuit
    followed by the QCNN with the trained weights, simulated by Cirq.
    '''),
    code('''
    weights = model.get_layer("qcnn").symbol_values()
    full = test_circuits[0] + cirq.resolve_parameters(qcnn_circuit, weights)
    state = cirq.Simulator().simulate(full, qubit_order=qubits).final_state_vector
    expected = cirq.Z(readout).expectation_from_state_vector(
        state, {q: i for i, q in enumerate(qubits)}).real
    print(f"model {out[0]:+.5f}   cirq {expected:+.5f}")
    assert abs(out[0] - expected) < 1e-4
    '''),
]

# --------------------------------------------------------------------------------------------
# 04 generators
# --------------------------------------------------------------------------------------------
GENERATORS = [
    md('''
    # 04 · Generative models: Born machine and quantum Boltzmann machine

    Two quantum models of a probability distribution over bitstrings, both Keras models trained
    with `model.fit(bitstrings)`:

    * **Quantum circuit Born machine** (`BornMachine`): a parameterized circuit `U(theta)` on `n`
      qubits defines `p(x) = |<x|U(theta)|0...0>|^2` by Born's rule (Benedetti et al., npj Quantum
      Information 5, 45 (2019); Liu & Wang, PRA 98, 062324 (2018)). The default ansatz has
      `rx`/`rz` rotations and all-to-all `ZZ` couplings.
    * **Quantum Boltzmann machine** (`QuantumBoltzmannMachine`): the thermal state of a transverse-
      field Ising Hamiltonian `H = sum_i b_i Z_i + sum_ij w_ij Z_i Z_j + sum_i Gamma_i X_i` over
      visible and hidden units, `p(v) = Tr[(|v><v| (x) 1_hidden) exp(-H)] / Tr[exp(-H)]` (Amin
      et al., *Quantum Boltzmann Machine*, PRX 8, 021050 (2018)). With `Gamma = 0` it is a
      classical Boltzmann machine.

    Both compute their distribution exactly for these small sizes, and are trained by minimizing
    `loss="kl"` (the KL divergence from the data histogram; `"nll"` and `"mmd"`, the maximum mean
    discrepancy of Liu & Wang, are the alternatives).

    Data: **bars and stripes** on a 2x2 grid (MacKay, *Information Theory, Inference, and Learning
    Algorithms* (2003)): the 6 images whose rows are all equal or whose columns are all equal, out
    of 16. The target puts probability 1/6 on each.
    '''),
    INSTALL,
    params('''
        SEED = 0
        BORN_EPOCHS = 20 if QUICK else 200   # full-batch steps; full: about 15 s
        QBM_EPOCHS = 20 if QUICK else 300    # full: about 10 s for both machines
        N_SAMPLES = 12                       # samples drawn from each trained model
    '''),
    code(IMPORTS.replace("    from tfq_layers import PQC, circuits\n", "") + '''
    from tfq_layers.datasets import bars_and_stripes, bits_to_index
    from tfq_layers.generative import BornMachine, QuantumBoltzmannMachine
    '''),
    code('''
    data = bars_and_stripes(2, 2)                  # (6, 4) int array, pixel (r, c) = bit 2r + c
    target = np.zeros(16)
    target[bits_to_index(data)] = 1 / len(data)    # bit 0 is the most significant

    def show_images(bitstrings, title, path=None):
        fig, axes = plt.subplots(1, len(bitstrings), figsize=(1.1 * len(bitstrings), 1.4))
        for ax, bits in zip(np.atleast_1d(axes), bitstrings):
            ax.imshow(np.reshape(bits, (2, 2)), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([]); ax.set_yticks([])
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        if path:
            fig.savefig(path, dpi=100)
        plt.show()

    def kl(p, q):
        keep = p > 0
        return float(np.sum(p[keep] * np.log(p[keep] / np.maximum(q[keep], 1e-12))))

    print(data)
    show_images(data, "bars and stripes 2x2: the training set")
    '''),
    md('''
    ## Born machine
    Four qubits, one per pixel. `fit` takes the bitstrings themselves (no labels); with
    `batch_size=6` every step sees the whole data set.
    '''),
    code('''
    born = BornMachine(4, layers=2, seed=SEED)
    born.compile(keras.optimizers.Adam(0.05), loss="kl")
    born_history = born.fit(data, epochs=BORN_EPOCHS, batch_size=len(data), verbose=0)
    born_probs = born.probabilities().numpy().astype("float64")
    print(f"{born.circuit_weights.shape[0]} parameters; "
          f"KL(target || Born) = {kl(target, born_probs):.4f}; "
          f"probability on valid images = {born_probs[target > 0].sum():.3f}")
    SVGCircuit(born.circuit)
    '''),
    code('''
    show_images(born.sample(N_SAMPLES, seed=SEED), "samples from the Born machine")
    '''),
    md('''
    ## Quantum Boltzmann machine
    4 visible units (the pixels) and 2 hidden units, every pair coupled, a trainable transverse
    field starting at `Gamma = 1`. For comparison we train the same machine with `Gamma = 0`
    (a classical Boltzmann machine) from the same initial biases and couplings.
    '''),
    code('''
    qbms = {}
    for label, field in (("QBM", True), ("Gamma = 0", False)):
        machine = QuantumBoltzmannMachine(n_visible=4, n_hidden=2, transverse_field=field, seed=SEED)
        machine.compile(keras.optimizers.Adam(0.05), loss="kl")
        hist = machine.fit(data, epochs=QBM_EPOCHS, batch_size=len(data), verbose=0)
        probs = machine.probabilities().numpy().astype("float64")
        qbms[label] = dict(model=machine, history=hist, probs=probs)
        print(f"{label:9s}: KL(target || model) = {kl(target, probs):.4f}")
    qbm = qbms["QBM"]["model"]
    print("learned |Gamma| per unit:", np.round(np.abs(qbm.gamma.numpy()), 3))
    '''),
    md('''
    Both machines fit the six images well. The trained transverse field ends up close to zero,
    so here the QBM behaves almost like its classical twin: bars and stripes 2x2 is easy for a
    Boltzmann machine with two hidden units, and a transverse field does not make the
    distribution any sharper. Amin et al. report the quantum advantage in training on larger,
    multimodal distributions; the model-zoo recipe `models/qbm.py` repeats that comparison. For
    more units, `gradient="bound"` trains the bound-based QBM of the paper (no derivative of the
    matrix exponential, fixed `Gamma`).

    ### Check: the QBM distribution from the Hamiltonian
    `p(v)` is a partial trace of `exp(-H)`. Recompute it with SciPy's matrix exponential from the
    model's dense Hamiltonian (units ordered visible then hidden, unit 0 most significant).
    '''),
    code('''
    from scipy.linalg import expm

    rho = expm(-qbm.hamiltonian().numpy())
    p_units = np.diag(rho) / np.trace(rho)
    p_visible = p_units.reshape(16, 4).sum(axis=1)       # sum over the 2 hidden units
    print("max |difference|:", np.abs(p_visible - qbms["QBM"]["probs"]).max())
    assert np.allclose(p_visible, qbms["QBM"]["probs"], atol=1e-8)
    '''),
    md('''
    ## Learned vs. target distributions
    '''),
    code('''
    index = np.arange(16)
    labels = ["".join(map(str, (i >> np.arange(3, -1, -1)) & 1)) for i in index]
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw={"width_ratios": [2.2, 1]})
    ax.bar(index, target, width=0.9, color="0.8", label="target")
    ax.bar(index - 0.25, born_probs, width=0.25, color="C0",
           label=f"Born machine (KL {kl(target, born_probs):.3f})")
    ax.bar(index, qbms["QBM"]["probs"], width=0.25, color="C1",
           label=f"QBM (KL {kl(target, qbms['QBM']['probs']):.3f})")
    ax.bar(index + 0.25, qbms["Gamma = 0"]["probs"], width=0.25, color="C3",
           label=f"Gamma = 0 (KL {kl(target, qbms['Gamma = 0']['probs']):.3f})")
    ax.set_xticks(index, labels, rotation=90, fontsize=8)
    ax.set_xlabel("bitstring (pixels 0..3)"); ax.set_ylabel("probability"); ax.set_ylim(0, 0.25)
    ax.legend(fontsize=8, ncol=2, loc="upper center")
    ax.set_title("bars and stripes 2x2: learned vs. target")
    ax_loss.semilogy(born_history.history["loss"], label="Born machine")
    for label, colour in (("QBM", "C1"), ("Gamma = 0", "C3")):
        ax_loss.semilogy(qbms[label]["history"].history["loss"], color=colour, label=label)
    ax_loss.set_xlabel("step"); ax_loss.set_ylabel("training loss (KL)"); ax_loss.grid(alpha=0.3)
    ax_loss.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig("04_histograms.png", dpi=100)
    plt.show()
    '''),
    md('''
    Both generators are Keras models: `model(bitstrings)` returns `p(x)` of each bitstring, and
    they save to `.keras` files like any other model (see notebook 05).
    '''),
    code('''
    print("p(x) of the training images under the Born machine:", np.round(born(data).numpy(), 3))
    '''),
]

# --------------------------------------------------------------------------------------------
# 05 save / export / serve
# --------------------------------------------------------------------------------------------
SAVE = [
    md('''
    # 05 · Save, export and serve a hybrid model

    Three ways to keep a trained model:

    1. **`model.save("model.keras")`** and `keras.models.load_model(path, safe_mode=True)`: the
       native Keras file (config + weights). The quantum layer stores its circuit, observables and
       gate-angle expressions as plain JSON and rebuilds them from an allow-list of Cirq and sympy
       types: no `eval`, no pickle, so `safe_mode=True` works.
    2. **`model.export(dir)`**: a TensorFlow SavedModel with a `serve` endpoint, for TF Serving,
       TFLite-free servers or any TensorFlow program; no Python class needed to run it.
    3. Reloading either in a **fresh process**: the SavedModel contains TensorFlow Quantum ops,
       whose kernels TFQ registers lazily, so the process must `import tfq_layers` before
       `tf.saved_model.load` (that registers them all).

    We train a small hybrid model, then show that every reloaded copy, including one in a brand-new
    Python process, returns *identical* outputs.
    '''),
    INSTALL,
    params('''
        SEED = 0
        EPOCHS = 2 if QUICK else 10
        WORKDIR = "tfq_layers_artifacts"     # where the files are written
    '''),
    code(IMPORTS + '''
    import json
    import subprocess
    import sys
    import zipfile
    '''),
    md('''
    ## A model to save
    Four features enter through arbitrary expressions (`atan(x0)`, `w*x1 + b`, `x2*x3`) on 2
    qubits, between two classical layers.
    '''),
    code('''
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(256, 6)).astype("float32")
    y = (x[:, 0] * x[:, 1] + x[:, 2] > 0).astype("float32")

    q = cirq.GridQubit.rect(1, 2)
    x0, x1, x2, x3 = sympy.symbols("x0:4")
    w = sympy.symbols("w0:6")
    circuit = cirq.Circuit(
        cirq.rx(sympy.atan(x0)).on(q[0]), cirq.rx(w[0] * x1 + w[1]).on(q[1]),
        cirq.CNOT(q[0], q[1]),
        cirq.ry(x2 * x3 + w[2]).on(q[0]), cirq.ry(w[3]).on(q[1]),
        cirq.CZ(q[0], q[1]),
        cirq.rx(w[4]).on(q[0]), cirq.rx(w[5]).on(q[1]),
    )
    model = keras.Sequential([
        keras.Input((6,), name="features"),
        keras.layers.Dense(4, activation="tanh", name="encode"),
        PQC(circuit, [cirq.Z(q[0]), cirq.Z(q[1]), cirq.Z(q[0]) * cirq.Z(q[1])],
            input_symbols=[x0, x1, x2, x3], name="quantum"),
        keras.layers.Dense(1, activation="sigmoid", name="head"),
    ], name="hybrid")
    model.compile(keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=EPOCHS, batch_size=32, verbose=2)
    SVGCircuit(circuit)
    '''),
    md('''
    ## 1. The `.keras` file
    '''),
    code('''
    os.makedirs(WORKDIR, exist_ok=True)
    keras_path = os.path.join(WORKDIR, "hybrid.keras")
    model.save(keras_path)

    x_check = x[:8]
    reference = model.predict(x_check, verbose=0)
    reloaded = keras.models.load_model(keras_path, safe_mode=True)
    same = np.array_equal(reloaded.predict(x_check, verbose=0), reference)
    print("reloaded .keras gives identical outputs:", same)
    assert same

    with zipfile.ZipFile(keras_path) as archive:
        print(archive.namelist())
        config = json.loads(archive.read("config.json"))
    quantum_config = next(layer for layer in config["config"]["layers"]
                          if layer["class_name"] == "PQC")["config"]
    print("the circuit is stored as JSON text:", quantum_config["circuit"][:300], "...")
    '''),
    md('''
    ## 2. SavedModel export
    `model.export` writes a SavedModel with a `serve` endpoint taking a `float32` tensor of shape
    `(batch, 6)`.
    '''),
    code('''
    export_dir = os.path.join(WORKDIR, "hybrid_export")
    model.export(export_dir, verbose=False)
    served = tf.saved_model.load(export_dir)
    signature = served.signatures["serve"]
    print("signatures:", list(served.signatures))
    print("serve:", signature.structured_input_signature[1], "->", signature.structured_outputs)
    same = np.array_equal(served.serve(tf.constant(x_check)).numpy(), reference)
    print("SavedModel in this process gives identical outputs:", same)
    assert same
    '''),
    md('''
    ## 3. A fresh process
    A new Python interpreter (`sys.executable`, the one running this notebook) loads both files and
    writes its outputs to a `.npy` file. Note the `import tfq_layers` before loading.
    '''),
    code('''
    np.save(os.path.join(WORKDIR, "inputs.npy"), x_check)
    child = """
    import os, sys
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np, keras, tensorflow as tf
    import tfq_layers   # registers the TFQ ops (and the PQC layer) before loading

    x = np.load("inputs.npy")
    served = tf.saved_model.load("hybrid_export")
    model = keras.models.load_model("hybrid.keras", safe_mode=True)
    np.save("served.npy", served.serve(tf.constant(x)).numpy())
    np.save("keras.npy", model.predict(x, verbose=0))
    print("fresh process: python", sys.version.split()[0], "| tfq_layers", tfq_layers.__version__)
    """
    result = subprocess.run([sys.executable, "-c", child], cwd=WORKDIR, capture_output=True, text=True)
    print(result.stdout.strip())
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])

    for name in ("served.npy", "keras.npy"):
        fresh = np.load(os.path.join(WORKDIR, name))
        print(f"{name}: identical to the training process: {np.array_equal(fresh, reference)}")
        assert np.array_equal(fresh, reference)
    '''),
    md('''
    ## Plot: the outputs side by side
    '''),
    code('''
    fresh = np.load(os.path.join(WORKDIR, "served.npy"))
    fig, ax = plt.subplots(figsize=(6, 3))
    index = np.arange(len(reference))
    ax.bar(index - 0.2, reference[:, 0], width=0.4, label="trained model (this process)")
    ax.bar(index + 0.2, fresh[:, 0], width=0.4, label="SavedModel (fresh process)")
    ax.set_xlabel("example"); ax.set_ylabel("P(y = 1)"); ax.set_ylim(0, 1.3)
    ax.legend(fontsize=8, ncol=2, loc="upper center")
    ax.set_title(f"max |difference| = {np.abs(fresh - reference).max():.1e}")
    fig.tight_layout()
    fig.savefig(os.path.join(WORKDIR, "05_outputs.png"), dpi=100)
    plt.show()
    '''),
    md('''
    ## What `safe_mode=True` protects against
    A `.keras` file whose circuit JSON names a function or type outside the allow-list is
    rejected before anything in it is built. Here we tamper with the saved circuit, replacing the
    `atan` of the first gate by `sympify` (which would evaluate arbitrary strings), and try to
    load it.
    '''),
    code('''
    tampered_path = os.path.join(WORKDIR, "tampered.keras")
    with zipfile.ZipFile(keras_path) as src, zipfile.ZipFile(tampered_path, "w") as dst:
        for item in src.namelist():
            content = src.read(item)
            if item == "config.json":
                # Ask the loader to call sympy.sympify (which evaluates strings) instead of atan.
                content = content.replace(b"atan", b"sympify")
                assert b"sympify" in content
            dst.writestr(item, content)
    try:
        keras.models.load_model(tampered_path, safe_mode=True)
    except Exception as error:   # tfq_layers.SerializationError, possibly wrapped by Keras
        print(type(error).__name__, ":", str(error)[:300])
    else:
        raise AssertionError("the tampered file loaded")
    '''),
]

NOTEBOOKS = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_data_reuploading.ipynb": REUPLOADING,
    "03_qcnn.ipynb": QCNN,
    "04_generators.ipynb": GENERATORS,
    "05_save_export_serve.ipynb": SAVE,
}


def build(name, cells):
    """The ``nbformat`` notebook ``name`` (no outputs, deterministic cell ids)."""
    nb = nbformat.v4.new_notebook()
    stem = name.split("_")[0]
    for i, (kind, source) in enumerate([md(colab_badge(name)), *cells]):
        cell = (nbformat.v4.new_markdown_cell(source) if kind == "markdown"
                else nbformat.v4.new_code_cell(source))
        cell["id"] = f"nb{stem}-cell{i:02d}"
        nb.cells.append(cell)
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    }
    nbformat.validate(nb)
    return nb


def main(argv=None):
    """Write every notebook to ``argv[0]`` (default: this directory); return the paths."""
    argv = sys.argv[1:] if argv is None else argv
    out_dir = argv[0] if argv else HERE
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, cells in NOTEBOOKS.items():
        path = os.path.join(out_dir, name)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            nbformat.write(build(name, cells), f)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in main():
        print("wrote", p)
