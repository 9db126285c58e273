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

# --------------------------------------------------------------------------------------------
# 06 hello, many worlds (TFQ tutorial "hello_many_worlds" on Keras 3)
# --------------------------------------------------------------------------------------------
HELLO = [
    md('''
    # 06 · Hello, many worlds: a neural network that steers a qubit (TFQ tutorial on Keras 3)

    TensorFlow Quantum's first tutorial, *Hello, many worlds*, trains a classical network to
    **correct a miscalibrated qubit**: an unknown rotation prepares the qubit in some state, and a
    small `Dense` controller learns the angles of a correcting rotation so that a command `0`
    gives `<Z> = +1` and a command `1` gives `<Z> = -1`. The tutorial needs legacy Keras 2
    (`TF_USE_LEGACY_KERAS=1`); here the same program runs on Keras 3 by changing one import,
    `tfq.layers` -> `tfq_layers.compat.layers`. We then go a step further than the tutorial
    (any commanded value of `<Z>` in `[-1, 1]`), write the same model with the native
    `tfq_layers.PQC`, and finish with the tutorial's second model, in which the controller's
    output is fed to an `Expectation` layer as `symbol_values`.

    What stays TensorFlow Quantum's: `tfq.convert_to_tensor` (circuits as `tf.string` tensors) and
    its simulator. What changes: the layers are Keras 3 layers (they save to `.keras`, take any
    sympy expression as a gate angle, and say what is wrong when called wrongly).
    '''),
    INSTALL,
    params('''
        SEED = 1234
        EPOCHS = 5 if QUICK else 30          # the tutorial trains 30 full-batch steps
        RANGE_EPOCHS = 5 if QUICK else 150   # extension: any commanded <Z> in [-1, 1]
    '''),
    code(IMPORTS + '''
    import tensorflow_quantum as tfq                  # convert_to_tensor and the simulator only
    from tfq_layers.compat import layers as tfql      # was: tfql = tfq.layers
    '''),
    md('''
    ## 1. The basics: a parameterized circuit, Cirq, and a batch of expectation values
    Two symbols `a`, `b` set the angles of `rx` and `ry` on two qubits, followed by a `CNOT`.
    Cirq simulates one parameter assignment at a time.
    '''),
    code('''
    a, b = sympy.symbols("a b")
    q0, q1 = cirq.GridQubit.rect(1, 2)
    circuit = cirq.Circuit(cirq.rx(a).on(q0), cirq.ry(b).on(q1), cirq.CNOT(q0, q1))

    state = cirq.Simulator().simulate(circuit, cirq.ParamResolver({a: 0.5, b: -0.5})).final_state_vector
    z0 = cirq.Z(q0)
    z0x1 = 0.5 * z0 + cirq.X(q1)
    index = {q0: 0, q1: 1}
    print("state:", np.round(state, 3))
    print("<Z0> =", round(z0.expectation_from_state_vector(state, index).real, 4),
          "| <0.5 Z0 + X1> =", round(z0x1.expectation_from_state_vector(state, index).real, 4))
    SVGCircuit(circuit)
    '''),
    md('''
    `Expectation` evaluates a whole batch of parameter values in one call, with TFQ's call
    signature. The Cirq loop gives the same numbers.
    '''),
    code('''
    batch = np.random.default_rng(SEED).uniform(0, 2 * np.pi, (5, 2)).astype("float32")
    layer_values = tfql.Expectation()(circuit, symbol_names=[a, b], symbol_values=batch,
                                      operators=[z0, z0x1]).numpy()
    cirq_values = []
    for va, vb in batch:
        psi = cirq.Simulator().simulate(circuit, {a: va, b: vb}).final_state_vector
        cirq_values.append([op.expectation_from_state_vector(psi, index).real for op in (z0, z0x1)])
    print("Expectation layer:", np.round(layer_values.astype(float), 4).tolist())
    print("cirq loop        :", np.round(cirq_values, 4).tolist())
    assert np.allclose(layer_values, cirq_values, atol=1e-4)
    '''),
    md('''
    ## 2. A classical controller for a miscalibrated qubit
    * The **datapoint circuit** is the miscalibration: `rx`, `ry`, `rz` by three random angles
      that the model never sees as numbers. It enters as quantum data, a `tf.string` tensor.
    * The **controlled circuit** is a general rotation `rz(θ1) ry(θ2) rx(θ3)`.
    * The **controller** `Dense(10, elu) -> Dense(3)` maps a command to `(θ1, θ2, θ3)`.

    `ControlledPQC` appends the controlled circuit to each datapoint circuit and reads `<Z>`. This
    cell is the tutorial's model with `tf.keras` replaced by `keras`.
    '''),
    code('''
    control_params = sympy.symbols("theta_1 theta_2 theta_3")
    qubit = cirq.GridQubit(0, 0)
    model_circuit = cirq.Circuit(cirq.rz(control_params[0])(qubit),
                                 cirq.ry(control_params[1])(qubit),
                                 cirq.rx(control_params[2])(qubit))

    rng = np.random.default_rng(SEED)
    random_rotations = rng.uniform(0, 2 * np.pi, 3)
    noisy_preparation = cirq.Circuit(cirq.rx(random_rotations[0])(qubit),
                                     cirq.ry(random_rotations[1])(qubit),
                                     cirq.rz(random_rotations[2])(qubit))
    print("hidden miscalibration angles:", np.round(random_rotations, 3))

    def make_controller():
        return keras.Sequential([keras.layers.Dense(10, activation="elu"), keras.layers.Dense(3)],
                                name="controller")

    controller = make_controller()
    circuits_input = keras.Input(shape=(), dtype="string", name="circuits_input")
    commands_input = keras.Input(shape=(1,), name="commands_input")
    expectation = tfql.ControlledPQC(model_circuit, operators=cirq.Z(qubit))(
        [circuits_input, controller(commands_input)])
    model = keras.Model([circuits_input, commands_input], expectation)
    SVGCircuit(noisy_preparation + model_circuit)
    '''),
    code('''
    commands = np.array([[0], [1]], dtype="float32")
    expected_outputs = np.array([[1], [-1]], dtype="float32")
    datapoint_circuits = tfq.convert_to_tensor([noisy_preparation] * 2)
    # Keras 3 does not mix tf.Tensor and NumPy inputs in a direct model call: wrap NumPy arrays
    # in tf.constant there (fit and predict take either).

    print("before training:", model([datapoint_circuits, tf.constant(commands)]).numpy().ravel().round(3))
    model.compile(keras.optimizers.Adam(learning_rate=0.05), loss="mse")
    history = model.fit([datapoint_circuits, commands], expected_outputs, epochs=EPOCHS, verbose=0)
    steered = model([datapoint_circuits, tf.constant(commands)]).numpy().ravel()
    final_mse = float(np.mean((steered - expected_outputs.ravel()) ** 2))
    print("after training :", steered.round(4), "| commanded:", expected_outputs.ravel(),
          f"| final MSE {final_mse:.2e}")
    '''),
    md('''
    ### Check with Cirq
    The controller's angles, put into the circuit and simulated by Cirq, give the steered
    expectation values: the controller really corrects the hidden rotation.
    '''),
    code('''
    def steered_by_cirq(controller, command_values):
        """<Z> after the miscalibration and the controller's correction, simulated by Cirq."""
        angles = controller(command_values).numpy()
        values = []
        for row in angles:
            psi = cirq.Simulator().simulate(noisy_preparation + model_circuit,
                                            dict(zip(control_params, row))).final_state_vector
            values.append(cirq.Z(qubit).expectation_from_state_vector(psi, {qubit: 0}).real)
        return np.array(values), angles

    cirq_z, angles = steered_by_cirq(controller, commands)
    for c, th, z in zip(commands.ravel(), angles, cirq_z):
        print(f"command {c:.0f}: theta = {np.round(th, 3)} -> <Z> (cirq) = {z:+.4f}")
    assert np.allclose(cirq_z, steered, atol=1e-4)
    if not QUICK:
        assert final_mse < 0.01, final_mse
    '''),
    md('''
    ### Beyond the tutorial: any commanded value of `<Z>`
    The same model learns a continuous map: the command is the wanted `<Z>` itself, anywhere in
    `[-1, 1]`. We train on 9 commands and test on 41 others, with the same hidden miscalibration.
    '''),
    code('''
    range_controller = make_controller()
    range_model = keras.Model(
        [circuits_input, commands_input],
        tfql.ControlledPQC(model_circuit, operators=cirq.Z(qubit))(
            [circuits_input, range_controller(commands_input)]))
    train_commands = np.linspace(-1, 1, 9, dtype="float32")[:, None]
    test_commands = np.linspace(-0.98, 0.98, 41, dtype="float32")[:, None]
    prep = lambda n: tfq.convert_to_tensor([noisy_preparation] * n)

    range_model.compile(keras.optimizers.Adam(learning_rate=0.05), loss="mse")
    range_history = range_model.fit([prep(9), train_commands], train_commands,
                                    epochs=RANGE_EPOCHS, verbose=0)
    test_z = range_model([prep(41), tf.constant(test_commands)]).numpy().ravel()
    range_mse = float(np.mean((test_z - test_commands.ravel()) ** 2))
    print(f"commanded vs steered <Z> on 41 unseen commands: MSE {range_mse:.2e}")

    fig, (ax_loss, ax_map) = plt.subplots(1, 2, figsize=(11, 3.8))
    ax_loss.semilogy(np.arange(1, EPOCHS + 1), history.history["loss"], label="commands 0 / 1")
    ax_loss.semilogy(np.arange(1, RANGE_EPOCHS + 1), range_history.history["loss"],
                     label="commanded <Z> in [-1, 1]")
    ax_loss.set_xlabel("training step (full batch)"); ax_loss.set_ylabel("MSE of <Z>")
    ax_loss.set_title("learning to control a qubit"); ax_loss.grid(alpha=0.3); ax_loss.legend()
    ax_map.plot([-1, 1], [-1, 1], "k--", lw=1, label="ideal")
    ax_map.plot(test_commands, test_z, "o", ms=4, label="steered (unseen commands)")
    ax_map.plot(train_commands, train_commands, "x", color="C3", label="training commands")
    ax_map.set_xlabel("commanded <Z>"); ax_map.set_ylabel("measured <Z> after correction")
    ax_map.set_title(f"test MSE {range_mse:.1e}"); ax_map.grid(alpha=0.3); ax_map.legend()
    fig.tight_layout()
    fig.savefig("06_control.png", dpi=100)
    plt.show()
    '''),
    md('''
    ### The same controller with the native layer
    Natively there is no need for quantum data here: the miscalibration is a fixed part of the
    circuit, so it is prepended in Cirq and the commands alone are the model's input.
    `PQC(..., input_symbols=...)` takes the controller's output as the values of `θ1, θ2, θ3`.
    '''),
    code('''
    native_controller = make_controller()
    native = keras.Sequential([
        keras.Input((1,)),
        native_controller,
        PQC(noisy_preparation + model_circuit, cirq.Z(qubit), input_symbols=control_params),
    ])
    native.compile(keras.optimizers.Adam(learning_rate=0.05), loss="mse")
    native.fit(commands, expected_outputs, epochs=EPOCHS, verbose=0)
    native_z = native(commands).numpy().ravel()
    print("native PQC, steered <Z>:", native_z.round(4),
          f"| MSE {np.mean((native_z - expected_outputs.ravel()) ** 2):.2e}")
    '''),
    md('''
    ## 3. The controller's output as `symbol_values`: eigenstates of different operators
    The tutorial's second model lets the command also choose **which operator** to measure:
    command `0` must give `<X> = +1`, command `1` must give `<Z> = -1`. There is no
    `ControlledPQC` for this: an `Expectation` layer receives the controller's output as
    `symbol_values`, a batch of angles `(θ1, θ2, θ3)`, one row per example.

    **Migration notes.** Two things differ from the tutorial's code, both limits of the compat
    layers at the time of writing (reported to be fixed in the library):
    * TFQ appends the controlled circuit to the datapoint circuits with `AddCircuit` and feeds the
      resulting `tf.string` tensor to `Expectation`. Here the compat `Expectation` refuses a
      quantum-data tensor whose circuits contain the symbols in `symbol_names`, so we hand it the
      composed `cirq.Circuit` (miscalibration + controlled circuit), which it evaluates for every
      row of `symbol_values`: the same circuits, the same values.
    * TFQ passes the operators as a third model input (a `tf.string` tensor of serialized Pauli
      sums, one per example). The compat `Expectation` takes `operators` only as Cirq objects, so
      the layer measures both `X` and `Z` for every example and a one-hot input picks, per
      example, the one that command asked for. The loss and its gradients are the tutorial's.
    '''),
    code('''
    commands_in = keras.Input(shape=(1,), name="commands_input")
    choice_in = keras.Input(shape=(2,), name="operator_choice")        # one-hot over [X, Z]

    eigen_controller = make_controller()
    both = tfql.Expectation()(noisy_preparation + model_circuit, symbol_names=control_params,
                              symbol_values=eigen_controller(commands_in),
                              operators=[cirq.X(qubit), cirq.Z(qubit)])
    chosen = keras.layers.Dot(axes=1, name="measured_operator")([both, choice_in])
    two_axis_control_model = keras.Model([commands_in, choice_in], chosen)

    operator_choice = np.array([[1, 0], [0, 1]], dtype="float32")     # command 0 -> X, 1 -> Z
    two_axis_control_model.compile(keras.optimizers.Adam(learning_rate=0.05), loss="mse")
    two_axis_history = two_axis_control_model.fit(
        [commands, operator_choice], expected_outputs, epochs=EPOCHS, verbose=0)
    measured = two_axis_control_model([tf.constant(commands), tf.constant(operator_choice)]).numpy().ravel()
    two_axis_mse = float(np.mean((measured - expected_outputs.ravel()) ** 2))
    print(f"command 0: <X> = {measured[0]:+.4f} (want +1) | command 1: <Z> = {measured[1]:+.4f} "
          f"(want -1) | final MSE {two_axis_mse:.2e}")
    print("controller angles:", eigen_controller(commands).numpy().astype(float).round(3).tolist())

    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.semilogy(np.arange(1, EPOCHS + 1), two_axis_history.history["loss"], "o-", ms=3)
    ax.set_xlabel("training step (full batch)"); ax.set_ylabel("MSE")
    ax.set_title("command 0 -> <X> = +1, command 1 -> <Z> = -1"); ax.grid(alpha=0.3)
    fig.tight_layout()
    plt.show()
    if not QUICK:
        assert two_axis_mse < 0.01, two_axis_mse
    '''),
    md('''
    ## Saving
    Unlike TFQ's layers under Keras 2, the compat layers save to a `.keras` file and reload with
    `safe_mode=True`; the reloaded controller gives the same steered values.
    '''),
    code('''
    model.save("06_controller.keras")
    reloaded = keras.models.load_model("06_controller.keras", safe_mode=True)
    again = reloaded([datapoint_circuits, tf.constant(commands)]).numpy().ravel()
    print("reloaded:", again.round(4), "| identical:", np.array_equal(again, steered))
    assert np.allclose(again, steered, atol=1e-6)
    '''),
]

# --------------------------------------------------------------------------------------------
# 07 gradients (TFQ tutorial "gradients" on Keras 3)
# --------------------------------------------------------------------------------------------
GRADIENTS = [
    md('''
    # 07 · Gradients of quantum circuits: differentiators, shots, and autodiff (TFQ tutorial on Keras 3)

    A simulator can return `<psi(α)| O |psi(α)>` exactly, but a quantum computer only estimates
    it from a finite number of measurements, and it gives no derivative at all: the gradient must
    itself be assembled from expectation values of other circuits. TensorFlow Quantum's
    *gradients* tutorial compares the ways of doing that, TFQ's **differentiators**. This notebook
    does the same on Keras 3 with `tfq_layers.compat.layers` (TFQ's `Expectation` and
    `SampledExpectation` signatures, TFQ's own differentiator objects):

    1. one circuit whose expectation and derivative are known in closed form;
    2. finite differences, the parameter-shift rule and the adjoint method, exact and from shots;
    3. how sampled gradients approach the exact one as the number of shots grows;
    4. a differentiator written by the user;
    5. what the pure-TensorFlow statevector backend adds: plain autodiff, hence second
       derivatives (a Hessian) too.
    '''),
    INSTALL,
    params('''
        SEED = 0
        EPOCHS = 0                               # nothing is trained in this notebook
        N_POINTS = 40 if QUICK else 200          # angles on the plots
        SHOTS = 500                              # shots per expectation, as in the tutorial
        SHOT_LADDER = [10, 100, 1000] if QUICK else [10, 30, 100, 300, 1000, 3000, 10000, 30000]
    '''),
    code(IMPORTS + '''
    import tensorflow_quantum as tfq                  # its differentiators are used as they are
    from tfq_layers.compat import layers as tfql      # was: tfql = tfq.layers
    '''),
    md('''
    ## 1. A circuit with a known answer
    One qubit, the gate `Y**α` (a rotation about `y` by the angle `πα`), and the observable `X`:
    `f(α) = <X> = sin(πα)`, so `f'(α) = π cos(πα)` and `f''(α) = -π² sin(πα)`.
    '''),
    code('''
    qubit = cirq.GridQubit(0, 0)
    alpha = sympy.Symbol("alpha")
    my_circuit = cirq.Circuit(cirq.Y(qubit) ** alpha)
    pauli_x, pauli_z = cirq.X(qubit), cirq.Z(qubit)

    def cirq_expectation(op, value):
        psi = cirq.Simulator().simulate(my_circuit, {alpha: value}).final_state_vector
        return op.expectation_from_state_vector(psi, {qubit: 0}).real

    f = lambda a: np.sin(np.pi * a)
    df = lambda a: np.pi * np.cos(np.pi * a)
    d2f = lambda a: -np.pi ** 2 * np.sin(np.pi * a)
    print(f"alpha = 0.3: cirq <X> = {cirq_expectation(pauli_x, 0.3):.5f}, sin(0.3 pi) = {f(0.3):.5f}")
    SVGCircuit(my_circuit)
    '''),
    md('''
    ## 2. Differentiators
    A TFQ differentiator given to a compat layer runs on TFQ's simulator, exactly as in TFQ:

    | differentiator | what it evaluates for `df/dα` |
    | --- | --- |
    | `ForwardDifference(grid_spacing=h)` | `(f(α + h) - f(α)) / h` |
    | `ParameterShift()` | `π/2 · (f(α + 1/2) - f(α - 1/2))`, exact for this gate (no `h`) |
    | `Adjoint()` | the exact derivative from one backward pass through the state (simulators only) |

    With `Expectation` every `f` is exact; with `SampledExpectation` every `f` is an estimate from
    `SHOTS` measurements.
    '''),
    code('''
    points = np.linspace(0, 5, N_POINTS, dtype="float32")[:, None]
    values = tf.constant(points)

    def gradient(layer, operators=pauli_x, **call):
        """(f, df/dalpha) of `layer` at every angle, with TensorFlow's GradientTape."""
        with tf.GradientTape() as tape:
            tape.watch(values)
            out = layer(my_circuit, symbol_names=[alpha], symbol_values=values,
                        operators=operators, **call)
        return out.numpy()[:, 0], tape.gradient(out, values).numpy()[:, 0]

    diff = tfq.differentiators
    exact = {
        "forward difference (h = 0.01)": tfql.Expectation(
            differentiator=diff.ForwardDifference(grid_spacing=0.01)),
        "parameter shift": tfql.Expectation(differentiator=diff.ParameterShift()),
        "adjoint": tfql.Expectation(differentiator=diff.Adjoint()),
    }
    sampled = {
        "forward difference (h = 0.01)": tfql.SampledExpectation(
            differentiator=diff.ForwardDifference(grid_spacing=0.01)),
        "parameter shift": tfql.SampledExpectation(differentiator=diff.ParameterShift()),
    }
    results = {f"exact, {k}": gradient(layer) for k, layer in exact.items()}
    results.update({f"{SHOTS} shots, {k}": gradient(layer, repetitions=SHOTS)
                    for k, layer in sampled.items()})
    truth = df(points[:, 0])
    for name, (_, grad) in results.items():
        print(f"{name:42s} max |error of df/dalpha| = {np.abs(grad - truth).max():8.4f}")
    print("the layers ran on:", {k: type(v.simulator_backend).__name__ for k, v in exact.items()})
    '''),
    md('''
    The exact differentiators agree with `π cos(πα)` (finite differences up to `O(h)`). With
    shots, the forward difference divides a statistical error of about `1/sqrt(SHOTS)` by
    `h = 0.01`, and the gradient drowns in noise; the parameter-shift rule divides by nothing
    small and stays close to the truth.
    '''),
    code('''
    x = points[:, 0]
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5))
    ax = axes[0, 0]
    ax.plot(x, f(x), "k-", lw=2, label="sin(πα)")
    ax.plot(x, results[f"{SHOTS} shots, parameter shift"][0], ".", ms=4, label=f"{SHOTS} shots")
    ax.set_xlabel("α"); ax.set_ylabel("f(α) = <X>"); ax.set_title("forward pass"); ax.legend()
    ax = axes[0, 1]
    ax.plot(x, truth, "k-", lw=3, alpha=0.4, label="π cos(πα)")
    for name, (_, grad) in results.items():
        if name.startswith("exact"):
            ax.plot(x, grad, "--", lw=1.2, label=name)
    ax.set_xlabel("α"); ax.set_ylabel("df/dα"); ax.set_title("exact expectations"); ax.legend(fontsize=8)
    ax = axes[1, 0]
    ax.plot(x, truth, "k-", lw=3, alpha=0.4, label="π cos(πα)")
    for name, (_, grad) in results.items():
        if not name.startswith("exact"):
            ax.plot(x, grad, ".-", lw=0.6, ms=3, label=name)
    ax.set_ylim(-25, 25)
    ax.set_xlabel("α"); ax.set_ylabel("df/dα"); ax.set_title(f"{SHOTS} shots per expectation")
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    for name, (_, grad) in results.items():
        ax.plot(truth, grad, ".", ms=4, label=name)
    ax.plot([-np.pi, np.pi], [-np.pi, np.pi], "k-", lw=1)
    ax.set_ylim(-8, 8)
    ax.set_xlabel("analytic df/dα = π cos(πα)"); ax.set_ylabel("differentiator's df/dα")
    ax.set_title("every method against the analytic derivative"); ax.legend(fontsize=7)
    for ax in axes.ravel():
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig("07_gradients.png", dpi=100)
    plt.show()

    for name, (_, grad) in results.items():
        if name.startswith("exact"):
            assert np.allclose(grad, truth, atol=0.06), name
    '''),
    md('''
    ## 3. Sampled gradients converge as the shots grow
    The parameter-shift gradient from `N` shots is an unbiased estimate; its error over all the
    angles falls like `1/sqrt(N)`. The forward difference estimate does too, but its error is
    `1/h = 100` times larger at every `N` (and it keeps an `O(h)` bias).
    '''),
    code('''
    ladder = {"parameter shift": [], "forward difference (h = 0.01)": []}
    for shots in SHOT_LADDER:
        for name in ladder:
            _, grad = gradient(sampled[name], repetitions=shots)
            ladder[name].append(float(np.sqrt(np.mean((grad - truth) ** 2))))
        print(f"{shots:6d} shots: RMS error parameter shift {ladder['parameter shift'][-1]:.4f}, "
              f"forward difference {ladder['forward difference (h = 0.01)'][-1]:.3f}")

    shots_axis = np.array(SHOT_LADDER, dtype=float)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, errors in ladder.items():
        ax.loglog(shots_axis, errors, "o-", label=name)
    ref = ladder["parameter shift"][0] * np.sqrt(shots_axis[0] / shots_axis)
    ax.loglog(shots_axis, ref, "k:", label="∝ 1/sqrt(N)")
    ax.set_xlabel("shots N per expectation"); ax.set_ylabel("RMS error of df/dα over the angles")
    ax.set_title("sampled gradients converge to the analytic one"); ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    plt.show()
    assert ladder["parameter shift"][-1] < ladder["parameter shift"][0] / 5
    '''),
    md('''
    ## 4. Multiple observables
    With several operators, the gradient TensorFlow returns is that of the **sum** of the
    outputs (the tape's default upstream gradient is all ones): for `[X, Z]`,
    `d(sin(πα) + cos(πα))/dα = π cos(πα) - π sin(πα)`.
    '''),
    code('''
    value = tf.constant([[0.3]])
    with tf.GradientTape() as tape:
        tape.watch(value)
        both = exact["parameter shift"](my_circuit, symbol_names=[alpha], symbol_values=value,
                                         operators=[pauli_x, pauli_z])
    summed = tape.gradient(both, value).numpy()[0, 0]
    print("outputs [<X>, <Z>]:", both.numpy().round(5), "| gradient:", round(float(summed), 5),
          "| formula:", round(float(df(0.3) - np.pi * np.sin(np.pi * 0.3)), 5))
    assert abs(summed - (df(0.3) - np.pi * np.sin(np.pi * 0.3))) < 1e-3
    '''),
    md('''
    ## 5. A differentiator of your own
    A TFQ differentiator describes the gradient as a weighted sum of expectation values of
    *other* circuits: `get_gradient_circuits` returns those circuits and their symbol values,
    the weights, and which circuits each symbol's derivative combines. TFQ's base class does the
    rest (batched evaluation, the TensorFlow custom gradient), for exact and sampled expectations.

    Ours is a **general-shift rule**. For a gate `P**t` (`P` a Pauli, so `t` is an angle in
    units of `π`), `f(t) = A + B cos(πt) + C sin(πt)`, and for any shift `s` (not a multiple of 1)

    `df/dt = π · (f(t + s) - f(t - s)) / (2 sin(πs))`.

    `s = 1/2` is TFQ's parameter shift; `s = 1/4` is used below. It handles any number of
    symbols (two shifted circuits per symbol), provided each symbol is the exponent of one
    Pauli gate, as here.
    '''),
    code('''
    class GeneralShift(tfq.differentiators.Differentiator):
        """df/dt = pi * (f(t + s) - f(t - s)) / (2 sin(pi s)) for every symbol t (Pauli exponents)."""

        def __init__(self, shift=0.25):
            self.shift = float(shift)

        @tf.function
        def get_gradient_circuits(self, programs, symbol_names, symbol_values):
            n_symbols = tf.shape(symbol_names)[0]
            batch = tf.shape(programs)[0]
            # Two circuits per symbol k: values + s e_k and values - s e_k.
            eye = tf.eye(n_symbols, dtype=symbol_values.dtype)
            shifts = tf.reshape(tf.stack([eye, -eye], axis=1), [2 * n_symbols, n_symbols])
            batch_values = symbol_values[:, None, :] + self.shift * shifts[None, :, :]
            batch_programs = tf.tile(programs[:, None], [1, 2 * n_symbols])
            scale = np.pi / (2.0 * np.sin(np.pi * self.shift))
            weights = tf.tile(tf.constant([[[scale, -scale]]], symbol_values.dtype),
                              [batch, n_symbols, 1])
            pairs = tf.reshape(tf.range(2 * n_symbols), [1, n_symbols, 2])
            mapper = tf.tile(pairs, [batch, 1, 1])
            return batch_programs, symbol_names, batch_values, weights, mapper

    mine = tfql.Expectation(differentiator=GeneralShift(0.25))
    _, my_grad = gradient(mine)
    mine_sampled = tfql.SampledExpectation(differentiator=GeneralShift(0.25))
    _, my_sampled_grad = gradient(mine_sampled, repetitions=SHOTS)
    print(f"general shift s = 1/4, exact     : max |error| = {np.abs(my_grad - truth).max():.2e}")
    print(f"general shift s = 1/4, {SHOTS} shots: RMS error = "
          f"{np.sqrt(np.mean((my_sampled_grad - truth) ** 2)):.3f}")
    assert np.allclose(my_grad, truth, atol=1e-3)

    # Two symbols at once: f = <X> after Y**a then Z**b; check against central differences.
    a2, b2 = sympy.symbols("a b")
    two = cirq.Circuit(cirq.Y(qubit) ** a2, cirq.Z(qubit) ** b2)
    point = tf.constant([[0.3, 0.2]])
    with tf.GradientTape() as tape:
        tape.watch(point)
        out = mine(two, symbol_names=[a2, b2], symbol_values=point, operators=pauli_x)
    mine_two = tape.gradient(out, point).numpy()[0]
    def fx(v):
        return tfql.Expectation()(two, symbol_names=[a2, b2], symbol_values=v[None, :].astype("float32"),
                                  operators=pauli_x).numpy()[0, 0]
    h, p = 1e-3, np.array([0.3, 0.2])
    central = [(fx(p + h * e) - fx(p - h * e)) / (2 * h) for e in np.eye(2)]
    print("two symbols, general shift:", mine_two.round(4), "| central differences:",
          np.round(central, 4))
    assert np.allclose(mine_two, central, atol=1e-2)

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(x, truth, "k-", lw=3, alpha=0.4, label="π cos(πα)")
    ax.plot(x, my_grad, "--", label="general shift s = 1/4, exact")
    ax.plot(x, my_sampled_grad, ".", ms=4, label=f"general shift s = 1/4, {SHOTS} shots")
    ax.set_xlabel("α"); ax.set_ylabel("df/dα"); ax.grid(alpha=0.3); ax.legend(fontsize=8)
    ax.set_title("a user-written differentiator")
    fig.tight_layout()
    plt.show()
    '''),
    md('''
    ## 6. The statevector backend: plain autodiff, and second derivatives
    `backend="statevector"` simulates the circuit with ordinary TensorFlow operations (it is the
    default for `cirq.Circuit` inputs when no TFQ differentiator is given). No differentiator is
    involved: TensorFlow differentiates the simulation itself, exactly, and can do it again.
    Nested tapes give the second derivative, and `tape.jacobian` of a gradient a full Hessian,
    which TFQ's differentiators do not provide.
    '''),
    code('''
    sv = tfql.Expectation(backend="statevector")
    with tf.GradientTape() as outer:
        outer.watch(values)
        with tf.GradientTape() as inner:
            inner.watch(values)
            out = sv(my_circuit, symbol_names=[alpha], symbol_values=values, operators=pauli_x)
        first = inner.gradient(out, values)
    second = outer.gradient(first, values)
    first, second = first.numpy()[:, 0], second.numpy()[:, 0]
    print(f"autodiff  : max |f' - pi cos(pi a)|      = {np.abs(first - truth).max():.1e}")
    print(f"2nd order : max |f'' + pi^2 sin(pi a)|   = {np.abs(second - d2f(x)).max():.1e}")
    assert np.allclose(first, truth, atol=1e-3) and np.allclose(second, d2f(x), atol=1e-2)

    # A Hessian of a two-parameter expectation: g(a, b) = <X> after Y**a then Z**b
    # = sin(pi a) cos(pi b).
    ab = tf.Variable([0.3, 0.2])
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            g = sv(two, symbol_names=[a2, b2], symbol_values=ab[None, :], operators=pauli_x)[0, 0]
        grad_ab = inner.gradient(g, ab)
    hessian = outer.jacobian(grad_ab, ab).numpy()
    A, B = np.pi * 0.3, np.pi * 0.2
    expected = np.pi ** 2 * np.array([[-np.sin(A) * np.cos(B), -np.cos(A) * np.sin(B)],
                                      [-np.cos(A) * np.sin(B), -np.sin(A) * np.cos(B)]])
    print("Hessian (autodiff):", hessian.astype(float).round(4).tolist())
    print("Hessian (formula) :", expected.round(4).tolist())
    assert np.allclose(hessian, expected, atol=1e-3)

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(x, f(x), "k-", lw=1, label="f = sin(πα)")
    ax.plot(x, first, "-", label="f' by autodiff")
    ax.plot(x, second, "-", label="f'' by autodiff")
    ax.plot(x, truth, "k:", x, d2f(x), "k:")
    ax.set_xlabel("α"); ax.set_ylabel("value"); ax.grid(alpha=0.3); ax.legend(fontsize=8)
    ax.set_title("statevector backend: first and second derivatives (dotted: formulas)")
    fig.tight_layout()
    plt.show()
    '''),
]

# --------------------------------------------------------------------------------------------
# 08 barren plateaus (TFQ tutorial "barren_plateaus" on Keras 3)
# --------------------------------------------------------------------------------------------
BARREN = [
    md('''
    # 08 · Barren plateaus: gradients vanish exponentially in random circuits (TFQ tutorial on Keras 3)

    McClean, Boixo, Smelyanskiy, Babbush & Neven, *Barren plateaus in quantum neural network
    training landscapes*, Nat. Commun. 9, 4812 (2018), showed that for deep enough random
    parameterized circuits the gradient of an expectation value with respect to any one angle has
    mean zero and a **variance that shrinks exponentially with the number of qubits**: a randomly
    initialized deep circuit sits on a plateau where gradient descent sees nothing but noise.
    Grant, Wossnig, Ostaszewski & Benedetti, *An initialization strategy for addressing barren
    plateaus in parametrized quantum circuits*, Quantum 3, 214 (2019), proposed starting from
    blocks `U V†`-style that compose to the identity, which keeps the gradients large.

    TensorFlow Quantum's *barren plateaus* tutorial reproduces both effects with random circuits
    of depth 50 and a `Z Z` observable. We do the same on Keras 3 with
    `tfq_layers.compat.layers.Expectation`, which evaluates hundreds of distinct circuits in one
    batched call on TFQ's simulator, and fit the decay rate on a log plot.
    '''),
    INSTALL,
    params('''
        SEED = 1234
        EPOCHS = 0                                           # nothing is trained here
        QUBITS = [2, 4, 6] if QUICK else [2, 4, 6, 8, 10, 12]
        DEPTH = 20 if QUICK else 50                          # layers of the random circuits,
        LAYERS_PER_QUBIT = 0 if QUICK else 10                # at least this many per qubit
        N_CIRCUITS = 40 if QUICK else 200                    # random circuits per qubit count
        BLOCK_DEPTH, BLOCKS = (4, 2) if QUICK else (5, 5)    # identity-block circuits
    '''),
    code(IMPORTS + '''
    import tensorflow_quantum as tfq                  # convert_to_tensor only
    from tfq_layers.compat import layers as tfql      # was: tfql = tfq.layers
    '''),
    md('''
    ## Random circuits
    Every qubit starts in `ry(π/4)|0>`. Each of the `DEPTH` layers applies to every qubit a
    rotation about a random axis (`x`, `y` or `z`) by a random angle, then a ladder of `CZ`s. The
    very first rotation, on qubit 0, is the symbol `θ` whose gradient we study; all other angles
    are numbers. The circuits are built moment by moment (faster than appending gate by gate).

    Depth: TFQ's tutorial uses 50 layers for every size. McClean et al. show that the variance
    reaches its plateau value only once the circuit is deep enough to look random (a 2-design),
    and that this depth grows with the number of qubits; with 50 layers the variance measured here
    stopped falling beyond 8 qubits. So the circuits get `max(DEPTH, LAYERS_PER_QUBIT * n)`
    layers.
    '''),
    code('''
    ROTATIONS = (cirq.rx, cirq.ry, cirq.rz)

    def random_layers(qubits, depth, rng, symbol=None):
        """`depth` layers of random single-qubit rotations + a CZ ladder, as a list of moments.
        With `symbol`, the first rotation on qubits[0] has the angle `symbol`."""
        moments = []
        for d in range(depth):
            axes = rng.integers(3, size=len(qubits))
            angles = rng.uniform(0, 2 * np.pi, size=len(qubits))
            ops = []
            for i, q in enumerate(qubits):
                angle = symbol if (symbol is not None and d == 0 and i == 0) else angles[i]
                ops.append(ROTATIONS[axes[i]](angle).on(q))
            moments.append(cirq.Moment(ops))
            moments.append(cirq.Moment(cirq.CZ(a, b) for a, b in zip(qubits[0::2], qubits[1::2])))
            moments.append(cirq.Moment(cirq.CZ(a, b) for a, b in zip(qubits[1::2], qubits[2::2])))
        return [m for m in moments if len(m)]

    def preparation(qubits):
        return cirq.Moment(cirq.ry(np.pi / 4).on(q) for q in qubits)

    def random_circuit(qubits, symbol, depth, rng):
        return cirq.Circuit([preparation(qubits)] + random_layers(qubits, depth, rng, symbol))

    theta = sympy.Symbol("theta")
    rng = np.random.default_rng(SEED)
    SVGCircuit(random_circuit(cirq.GridQubit.rect(1, 3), theta, 2, rng))
    '''),
    md('''
    ## The gradient over a batch of random circuits
    `θ` enters through one `rx`, `ry` or `rz` gate, so the **parameter-shift rule** (notebook 07)
    gives its derivative exactly from two expectation values:
    `∂f/∂θ = (f(θ + π/2) - f(θ - π/2)) / 2`. For every circuit we draw a random `θ`, resolve the
    two shifted copies in Cirq, convert all of them to one `tf.string` tensor, and one
    `Expectation` call returns every `<Z0 Z1>`. We keep the whole sample of gradients: its
    variance is the quantity of interest (TFQ's tutorial plots the standard deviation; we plot the
    variance itself).

    **Why not `tf.GradientTape` as in TFQ's tutorial?** TFQ feeds the circuits, symbol `θ`
    included, as a `tf.string` tensor and differentiates with respect to `symbol_values`. The
    compat `Expectation` currently refuses quantum data that contain a symbol of `symbol_names`
    (a check meant for the native `PQC`; reported to be fixed in the library), and the other
    route, a Python list of `cirq.Circuit`s, converts each circuit several times (about a second
    per 8-qubit circuit on this machine), too slow for thousands of circuits. The cell after the
    next one checks, on a small batch, that the parameter-shift values equal the tape's gradient
    through that list route.
    '''),
    code('''
    def gradient_sample(circuits, qubits, rng):
        """d<Z0 Z1>/dtheta of every circuit at a random theta, by the parameter-shift rule."""
        values = rng.uniform(0, 2 * np.pi, len(circuits))
        shifted = [cirq.resolve_parameters(c, {theta: v + s})
                   for c, v in zip(circuits, values) for s in (np.pi / 2, -np.pi / 2)]
        out = tfql.Expectation()(tfq.convert_to_tensor(shifted),
                                 operators=cirq.Z(qubits[0]) * cirq.Z(qubits[1]))
        out = out.numpy()[:, 0].reshape(len(circuits), 2)
        return (out[:, 0] - out[:, 1]) / 2, values

    import time

    random_var, random_mean = [], []
    for n in QUBITS:
        start = time.perf_counter()
        qubits = cirq.GridQubit.rect(1, n)
        depth = max(DEPTH, LAYERS_PER_QUBIT * n)
        batch = [random_circuit(qubits, theta, depth, rng) for _ in range(N_CIRCUITS)]
        grads, _ = gradient_sample(batch, qubits, rng)
        random_var.append(float(np.var(grads, ddof=1)))
        random_mean.append(float(np.mean(grads)))
        print(f"{n:2d} qubits, depth {depth}: mean {random_mean[-1]:+.4f}, variance "
              f"{random_var[-1]:.3e} ({N_CIRCUITS} circuits, {time.perf_counter() - start:.1f} s)")
    '''),
    md('''
    ### Check: the same numbers from `tf.GradientTape`
    On a few 4-qubit circuits, the tape's gradient through `Expectation` (circuits given as a
    list of `cirq.Circuit` with the symbol `θ`, TFQ's adjoint differentiator underneath) equals
    the parameter-shift values.
    '''),
    code('''
    qubits = cirq.GridQubit.rect(1, 4)
    few = [random_circuit(qubits, theta, 10, rng) for _ in range(8)]
    shift_grads, thetas = gradient_sample(few, qubits, rng)
    values = tf.constant(thetas[:, None].astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(values)
        out = tfql.Expectation()(few, symbol_names=[theta], symbol_values=values,
                                 operators=cirq.Z(qubits[0]) * cirq.Z(qubits[1]))
    tape_grads = tape.gradient(out, values).numpy()[:, 0]
    print("parameter shift:", shift_grads.round(4))
    print("GradientTape   :", tape_grads.round(4))
    assert np.allclose(shift_grads, tape_grads, atol=1e-3)
    '''),
    md('''
    ## Identity-block initialization
    Grant et al. build the circuit from blocks `U(θ) U(θ')†`: a random block followed by its own
    inverse, so every block starts as the identity (it stops being one as soon as the angles
    move apart during training). Here the first block contains `θ`, and its inverse has the
    same random structure with an independent random value in `θ`'s place, as in TFQ's
    tutorial; `BLOCKS - 1` further random identity blocks follow. The circuit is as deep as
    before, but the state it sees around `θ` is close to the simple initial state, so the
    gradient does not average out.
    '''),
    code('''
    def identity_block_circuit(qubits, symbol, block_depth, blocks, rng):
        first = random_layers(qubits, block_depth, rng, symbol)
        undo = cirq.inverse(cirq.resolve_parameters(
            cirq.Circuit(first), {symbol: rng.uniform(0, 2 * np.pi)}))
        moments = [preparation(qubits)] + first + list(undo)
        for _ in range(blocks - 1):
            block = cirq.Circuit(random_layers(qubits, block_depth, rng))
            moments += list(block) + list(cirq.inverse(block))
        return cirq.Circuit(moments)

    # check: with theta set to the value used in the inverse, the whole circuit is the identity
    # after the preparation
    q3 = cirq.GridQubit.rect(1, 3)
    check_rng = np.random.default_rng(7)
    c = identity_block_circuit(q3, theta, 2, 2, check_rng)
    check_rng = np.random.default_rng(7)                       # replay: the value drawn for theta
    random_layers(q3, 2, check_rng, theta); value = check_rng.uniform(0, 2 * np.pi)
    u = cirq.unitary(cirq.resolve_parameters(c[1:], {theta: value}))
    print("identity blocks compose to the identity:", np.allclose(u, u[0, 0] * np.eye(8), atol=1e-6))
    assert np.allclose(u, u[0, 0] * np.eye(8), atol=1e-6)

    identity_var = []
    for n in QUBITS:
        qubits = cirq.GridQubit.rect(1, n)
        batch = [identity_block_circuit(qubits, theta, BLOCK_DEPTH, BLOCKS, rng)
                 for _ in range(N_CIRCUITS)]
        identity_var.append(float(np.var(gradient_sample(batch, qubits, rng)[0], ddof=1)))
        print(f"{n:2d} qubits: identity-block variance {identity_var[-1]:.3e}")
    '''),
    md('''
    ## The log plot and the fitted decay rate
    A straight line on a log scale is an exponential: we fit `ln Var = c - k n` by least squares
    to the random circuits and report the decay factor per added qubit, `e^(-k)`.
    '''),
    code('''
    n = np.array(QUBITS, dtype=float)
    k, c = np.polyfit(n, np.log(random_var), 1)          # ln Var = c + k n (k < 0)
    k_id, c_id = np.polyfit(n, np.log(identity_var), 1)
    print(f"random circuits: ln Var = {c:.2f} {k:+.3f} n  -> variance x {np.exp(k):.3f} per qubit "
          f"(x {np.exp(2 * k):.3f} per 2 qubits)")
    print(f"identity blocks: ln Var = {c_id:.2f} {k_id:+.3f} n  -> variance x {np.exp(k_id):.3f} per qubit")

    fig, ax = plt.subplots(figsize=(7, 4.3))
    ax.semilogy(n, random_var, "o", color="C0",
                label=f"random circuits, depth max({DEPTH}, {LAYERS_PER_QUBIT} n)")
    ax.semilogy(n, np.exp(c + k * n), "-", color="C0", alpha=0.6,
                label=f"fit: Var ∝ e^({k:.2f} n)  (x{np.exp(k):.2f} per qubit)")
    ax.semilogy(n, identity_var, "s", color="C1",
                label=f"identity blocks ({BLOCKS} x {BLOCK_DEPTH} layers x 2)")
    ax.semilogy(n, np.exp(c_id + k_id * n), "--", color="C1", alpha=0.6,
                label=f"fit: Var ∝ e^({k_id:.2f} n)")
    ax.set_xlabel("number of qubits n"); ax.set_ylabel("Var[∂<Z0 Z1>/∂θ] over random circuits")
    ax.set_xticks(QUBITS); ax.grid(alpha=0.3, which="both"); ax.legend(fontsize=8)
    ax.set_title(f"barren plateaus ({N_CIRCUITS} circuits per point)")
    fig.tight_layout()
    fig.savefig("08_barren_plateaus.png", dpi=100)
    plt.show()

    assert random_var[-1] < random_var[0] and k < 0
    if not QUICK:
        assert identity_var[-1] > 10 * random_var[-1]
    '''),
]

# --------------------------------------------------------------------------------------------
# 10 QCNN, TFQ's version (TFQ tutorial "qcnn" on Keras 3)
# --------------------------------------------------------------------------------------------
QCNN_TFQ = [
    md('''
    # 10 · TFQ's QCNN tutorial on Keras 3: `AddCircuit`, `PQC`, and hybrid quantum filters

    Notebook 03 builds a QCNN with the native `tfq_layers.PQC`. This one follows TensorFlow
    Quantum's own *Quantum Convolutional Neural Network* tutorial with its layers, now
    `tfq_layers.compat.layers` on Keras 3:

    * quantum data in: each example is a one-gate circuit, `rx(φ)` on one of 8 qubits, and the
      label says whether the rotation is small (`|φ| <= π/2`, label `+1`) or large (label `-1`);
    * `AddCircuit` **prepends** the 8-qubit cluster-state preparation to every example inside the
      model (so the data only carry the excitation);
    * three models: the full QCNN `8 -> 4 -> 2 -> 1` (a `PQC` reading `<Z>` of the last qubit), a
      hybrid with one quantum filter (one convolution + pooling level, `<Z>` of 4 qubits, then
      `Dense(8) -> Dense(1)`), and a hybrid with three independent quantum filters whose 12
      outputs a `Dense(8) -> Dense(1)` head combines.

    The circuit pieces (two-qubit unitary, pooling, convolution and pooling layers, cluster state)
    come from `tfq_layers.circuits`, which builds exactly the tutorial's gates.
    '''),
    INSTALL,
    params('''
        SEED = 0
        EPOCHS = 1 if QUICK else 25          # the tutorial: 25 epochs, batch 16, Adam(0.02), MSE
        ROUNDS = 2 if QUICK else 20          # examples = ROUNDS * 8 (70 % train, 30 % test)
    '''),
    code(IMPORTS + '''
    import tensorflow_quantum as tfq                  # convert_to_tensor / from_tensor only
    from tfq_layers.compat import layers as tfql      # was: tfql = tfq.layers
    '''),
    md('''
    ## `AddCircuit`: building circuits inside the graph
    `AddCircuit` appends (or prepends) a fixed circuit to every circuit of a `tf.string` batch.
    '''),
    code('''
    q = cirq.GridQubit(0, 0)
    batch = tfq.convert_to_tensor([cirq.Circuit(cirq.X(q)), cirq.Circuit(cirq.H(q))])
    appended = tfql.AddCircuit()(batch, append=cirq.Circuit(cirq.Y(q)))
    for before, after in zip(tfq.from_tensor(batch), tfq.from_tensor(appended)):
        print(repr(str(before)), "->", repr(str(after)))
    '''),
    md('''
    ## Data
    `ROUNDS` times, one example per qubit: `rx(φ)` with `φ` uniform in `[-π, π]`. The cluster
    state is added by the model, not by the data.
    '''),
    code('''
    qubits = cirq.GridQubit.rect(1, 8)
    rng = np.random.default_rng(SEED)
    examples, labels = [], []
    for _ in range(ROUNDS):
        for bit in qubits:
            phi = rng.uniform(-np.pi, np.pi)
            examples.append(cirq.Circuit(cirq.rx(phi).on(bit)))
            labels.append(1.0 if abs(phi) <= np.pi / 2 else -1.0)
    split = int(0.7 * len(examples))
    x_train, x_test = tfq.convert_to_tensor(examples[:split]), tfq.convert_to_tensor(examples[split:])
    y_train = np.array(labels[:split], "float32")
    y_test = np.array(labels[split:], "float32")
    print(f"{split} training and {len(examples) - split} test circuits; first: "
          f"{examples[0]!s} -> label {labels[0]:+.0f}")
    cluster = circuits.cluster_state_circuit(qubits)
    SVGCircuit(cluster)
    '''),
    md('''
    ## The QCNN: 63 parameters, 8 -> 4 -> 2 -> 1
    `circuits.qcnn(qubits)` stacks three levels of (periodic convolution with 15 shared
    parameters, pooling with 6 shared parameters). Below, one level on 8 qubits.
    '''),
    code('''
    qcnn_circuit, qcnn_symbols, readout = circuits.qcnn(qubits)
    print(len(qcnn_symbols), "parameters; readout qubit", readout)

    def filter_circuit(prefix):
        """One QCNN level on 8 qubits: convolution, then pooling of qubits 0-3 into 4-7."""
        conv, _ = circuits.quantum_conv(qubits, prefix=prefix + "c")
        pool, _ = circuits.quantum_pool(qubits[:4], qubits[4:], prefix=prefix + "p")
        return conv + pool

    SVGCircuit(filter_circuit("f"))
    '''),
    code('''
    def hinge_accuracy(y_true, y_pred):
        """1 where the output has the sign of the +-1 label (Keras averages over examples)."""
        y_true = tf.reshape(tf.cast(y_true, tf.float32), [-1])
        y_pred = tf.reshape(tf.cast(y_pred, tf.float32), [-1])
        return tf.cast((y_true > 0) == (y_pred >= 0), tf.float32)

    def train(model, name):
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.02), loss="mse",
                      metrics=[hinge_accuracy])
        history = model.fit(x_train, y_train, batch_size=16, epochs=EPOCHS, verbose=0,
                            validation_data=(x_test, y_test))
        accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
        print(f"{name:36s}: {model.count_params():4d} parameters, test accuracy {accuracy:.3f}")
        return history, accuracy

    readouts = [cirq.Z(bit) for bit in qubits[4:]]
    excitations = keras.Input(shape=(), dtype="string", name="excitations")
    cluster_states = tfql.AddCircuit()(excitations, prepend=cluster)

    qcnn = keras.Model(excitations, tfql.PQC(qcnn_circuit, cirq.Z(readout))(cluster_states),
                       name="qcnn")
    one = tfql.PQC(filter_circuit("f"), readouts)(cluster_states)
    hybrid = keras.Model(excitations, keras.layers.Dense(1)(keras.layers.Dense(8)(one)),
                         name="hybrid")
    filters = [tfql.PQC(filter_circuit("f"), readouts, name=f"quantum_filter_{k}")(cluster_states)
               for k in range(3)]
    multi = keras.Model(excitations, keras.layers.Dense(1)(keras.layers.Dense(8)(
        keras.layers.Concatenate()(filters))), name="multi_filter")

    runs = {}
    for name, model in (("QCNN", qcnn), ("hybrid, 1 quantum filter", hybrid),
                        ("hybrid, 3 quantum filters", multi)):
        runs[name] = train(model, name)
    '''),
    code('''
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.8))
    epochs = np.arange(1, EPOCHS + 1)
    for name, (history, accuracy) in runs.items():
        ax_loss.plot(epochs, history.history["val_loss"], "o-", ms=3, label=name)
        ax_acc.plot(epochs, history.history["val_hinge_accuracy"], "o-", ms=3,
                    label=f"{name} ({accuracy:.2f})")
    ax_loss.set_xlabel("epoch"); ax_loss.set_ylabel("test loss (MSE)")
    ax_acc.set_xlabel("epoch"); ax_acc.set_ylabel("test accuracy")
    ax_acc.set_title("quantum vs. hybrid CNNs on excited cluster states")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3); ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig("10_qcnn_tfq.png", dpi=100)
    plt.show()
    if not QUICK:
        assert min(accuracy for _, accuracy in runs.values()) > 0.8
    '''),
    md('''
    ## The same QCNN with the native layer
    Natively, circuits are composed in Cirq before they reach a layer: the test data become
    `cluster + example` (the excitation comes *after* the cluster-state preparation, which is
    what `AddCircuit(prepend=...)` did inside the model) and `tfq_layers.PQC(qcnn_circuit, Z)`
    appends the QCNN. Given the compat model's trained weights, matched by symbol name, it
    computes the same outputs.
    '''),
    code('''
    native_test = tfq.convert_to_tensor([cluster + example for example in examples[split:]])
    native = PQC(qcnn_circuit, cirq.Z(readout))
    native(native_test)                                # builds the weights
    compat_layer = [layer for layer in qcnn.layers if isinstance(layer, tfql.PQC)][0]
    # TFQ's symbol_values() is keyed by sympy.Symbol, the native layer's by name
    trained = {str(symbol): value for symbol, value in compat_layer.symbol_values().items()}
    native.set_weights([np.array([trained[s] for s in native.symbol_values()], "float32")])
    same = np.allclose(native(native_test).numpy(), qcnn.predict(x_test, verbose=0), atol=1e-5)
    print("native PQC with the trained weights gives the same outputs:", same)
    assert same
    '''),
]

# --------------------------------------------------------------------------------------------
# 11 MNIST-style QNN (TFQ tutorial "mnist" on Keras 3, scikit-learn digits)
# --------------------------------------------------------------------------------------------
MNIST_QNN = [
    md('''
    # 11 · A quantum neural network for digits, 3 vs. 6 (TFQ's MNIST tutorial on Keras 3)

    TensorFlow Quantum's *MNIST classification* tutorial follows Farhi & Neven, *Classification
    with quantum neural networks on near term processors*, arXiv:1802.06002: shrink the images to
    4x4, remove images that appear with both labels, binarize the pixels, load each image as a
    **basis state of 16 qubits**, and train a readout-qubit network with the hinge loss. It then
    compares the QNN with a classical model of similar size and a full classical CNN.

    This notebook runs the same pipeline end to end on Keras 3 with `tfq_layers.compat.layers.PQC`.
    MNIST would be downloaded, so we use scikit-learn's bundled 8x8 **digits** instead (364
    images of 3s and 6s, 70 % for training): every step is the tutorial's, only the data are
    smaller. `tfq_layers.circuits` provides the data encoding (`bits_to_circuits`) and the
    Farhi-Neven network (`readout_qnn`).
    '''),
    INSTALL,
    params('''
        SEED = 0
        EPOCHS = 1 if QUICK else 40          # QNN epochs (batch 32)
        N_TRAIN = 48 if QUICK else None      # None: all training images
        THRESHOLD = 0.5                      # binarization threshold on [0, 1] pixels
    '''),
    code(IMPORTS + '''
    import collections

    import tensorflow_quantum as tfq                  # convert_to_tensor only
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from tfq_layers.compat import layers as tfql      # was: tfql = tfq.layers
    '''),
    md('''
    ## 1. Data: 3s and 6s, downscaled to 4x4
    Labels: `True` for 3, `False` for 6. Pixels are scaled to `[0, 1]` and the 8x8 images resized
    to 4x4 with `tf.image.resize` (bilinear), as the tutorial resizes its 28x28 images.
    '''),
    code('''
    x, y = load_digits(return_X_y=True)
    keep = (y == 3) | (y == 6)
    x, y = x[keep].reshape(-1, 8, 8, 1).astype("float32") / 16.0, y[keep] == 3
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=SEED,
                                                        stratify=y)
    x_train_small = tf.image.resize(x_train, (4, 4)).numpy()
    x_test_small = tf.image.resize(x_test, (4, 4)).numpy()
    print(f"{len(x_train)} training images ({y_train.sum()} threes), {len(x_test)} test images")

    fig, axes = plt.subplots(1, 4, figsize=(8, 2.3))
    for ax, k, image, size in zip(axes, [0, 0, 1, 1],
                                  [x_train[0], x_train_small[0], x_train[1], x_train_small[1]],
                                  ["8x8", "4x4", "8x8", "4x4"]):
        ax.imshow(image[..., 0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{size}, label {'3' if y_train[k] else '6'}")
        ax.set_xticks([]); ax.set_yticks([])
    fig.tight_layout()
    plt.show()
    '''),
    md('''
    ## 2. Remove contradicting examples
    Farhi & Neven keep only images that occur with a single label. Like the tutorial, we apply
    the filter to the 4x4 images before binarization (where it removes little) and then show how
    many distinct images are left after binarization.
    '''),
    code('''
    def drop_contradictions(images, labels, verbose=True):
        """Keep one copy of each distinct image whose copies all have the same label."""
        seen = collections.OrderedDict()
        for image, label in zip(images, labels):
            entry = seen.setdefault(image.tobytes(), [image, set()])
            entry[1].add(bool(label))
        kept = [(image, next(iter(ls))) for image, ls in seen.values() if len(ls) == 1]
        if verbose:
            both = sum(len(ls) == 2 for _, ls in seen.values())
            threes = sum(ls == {True} for _, ls in seen.values())
            print(f"{len(images)} images, {len(seen)} distinct: {threes} only 3, "
                  f"{len(seen) - threes - both} only 6, {both} with both labels (dropped)")
        return np.array([k[0] for k in kept]), np.array([k[1] for k in kept])

    x_train_nocon, y_train_nocon = drop_contradictions(x_train_small, y_train)
    x_train_bin = (x_train_nocon > THRESHOLD).astype("float32")
    x_test_bin = (x_test_small > THRESHOLD).astype("float32")
    print("after binarization:", end=" ")
    _ = drop_contradictions(x_train_bin, y_train_nocon)
    '''),
    md('''
    ## 3. Images as quantum data
    One qubit per pixel on a 4x4 grid: an `X` gate wherever the pixel is 1, so each image becomes
    the basis state it spells.
    '''),
    code('''
    if N_TRAIN is not None:
        x_train_bin, y_train_nocon = x_train_bin[:N_TRAIN], y_train_nocon[:N_TRAIN]
    data_qubits = cirq.GridQubit.rect(4, 4)
    train_circuits = circuits.bits_to_circuits(x_train_bin.reshape(len(x_train_bin), -1), data_qubits)
    test_circuits = circuits.bits_to_circuits(x_test_bin.reshape(len(x_test_bin), -1), data_qubits)
    x_train_q = tfq.convert_to_tensor(train_circuits)
    x_test_q = tfq.convert_to_tensor(test_circuits)
    print("pixels set in the first image:", np.argwhere(x_train_bin[0, ..., 0]).tolist())
    SVGCircuit(train_circuits[0])
    '''),
    md('''
    ## 4. The quantum neural network
    A readout qubit is prepared in `|->` (`X` then `H`); then every data qubit couples to it
    through `XX**w` and then through `ZZ**w` (two layers, 32 weights); a final `H` and we read
    `<Z>` of the readout, a number in `[-1, 1]`. Labels become `±1` and the loss is the hinge
    loss, with an accuracy that compares signs.
    '''),
    code('''
    readout = cirq.GridQubit(-1, -1)
    qnn_circuit, qnn_symbols = circuits.readout_qnn(data_qubits, readout, gates=("xx", "zz"))
    print(len(qnn_symbols), "weights")

    def hinge_accuracy(y_true, y_pred):
        """1 where the sign of <Z> is the +-1 label's (one value per example: Keras averages them
        over all examples; a per-batch mean would be averaged over batches instead)."""
        y_true = tf.reshape(tf.cast(y_true, tf.float32), [-1]) > 0
        y_pred = tf.reshape(tf.cast(y_pred, tf.float32), [-1]) > 0
        return tf.cast(y_true == y_pred, tf.float32)

    y_train_hinge = 2.0 * y_train_nocon.astype("float32") - 1.0
    y_test_hinge = 2.0 * y_test.astype("float32") - 1.0

    qnn = keras.Sequential([
        keras.Input(shape=(), dtype="string"),
        tfql.PQC(qnn_circuit, cirq.Z(readout)),
    ], name="qnn")
    qnn.compile(loss=keras.losses.Hinge(), optimizer=keras.optimizers.Adam(learning_rate=0.01),
                metrics=[hinge_accuracy])
    qnn_history = qnn.fit(x_train_q, y_train_hinge, batch_size=32, epochs=EPOCHS, verbose=0,
                          validation_data=(x_test_q, y_test_hinge))
    qnn_accuracy = qnn.evaluate(x_test_q, y_test_hinge, verbose=0)[1]
    print(f"QNN: {qnn.count_params()} parameters, test accuracy {qnn_accuracy:.3f}")
    SVGCircuit(circuits.readout_qnn(cirq.GridQubit.rect(4, 1), readout)[0])
    '''),
    md('''
    ## 5. Classical baselines
    * a **fair** classical model: the same binarized 4x4 images, `Dense(2, relu) -> Dense(1)`,
      37 parameters (the QNN has 32);
    * a **full** classical CNN on the original 8x8 images (two convolutions, pooling, dropout,
      `Dense(128)`), as in the tutorial.
    '''),
    code('''
    fair = keras.Sequential([
        keras.Input((4, 4, 1)), keras.layers.Flatten(),
        keras.layers.Dense(2, activation="relu"), keras.layers.Dense(1)], name="fair_classical")
    fair.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
                 optimizer=keras.optimizers.Adam(learning_rate=0.01), metrics=["accuracy"])
    fair_history = fair.fit(x_train_bin, y_train_nocon.astype("float32"), batch_size=32,
                            epochs=max(EPOCHS, 1) * 5, verbose=0,
                            validation_data=(x_test_bin, y_test.astype("float32")))
    fair_accuracy = fair.evaluate(x_test_bin, y_test.astype("float32"), verbose=0)[1]

    cnn = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Dropout(0.25),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1)], name="full_cnn")
    cnn.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
                optimizer=keras.optimizers.Adam(), metrics=["accuracy"])
    cnn.fit(x_train, y_train.astype("float32"), batch_size=32, epochs=max(EPOCHS // 4, 1),
            verbose=0)
    cnn_accuracy = cnn.evaluate(x_test, y_test.astype("float32"), verbose=0)[1]

    results = {"QNN (4x4 binary)": (qnn_accuracy, qnn.count_params()),
               "fair classical (4x4 binary)": (fair_accuracy, fair.count_params()),
               "full classical CNN (8x8)": (cnn_accuracy, cnn.count_params())}
    for name, (accuracy, n_params) in results.items():
        print(f"{name:28s} {n_params:6d} parameters, test accuracy {accuracy:.3f}")

    fig, (ax_bar, ax_curve) = plt.subplots(1, 2, figsize=(11, 3.8))
    names = list(results)
    ax_bar.bar(range(3), [results[n][0] for n in names], color=["C0", "C1", "C2"])
    ax_bar.set_xticks(range(3), [f"{n}\\n{results[n][1]} params" for n in names], fontsize=8)
    ax_bar.set_ylim(0.5, 1.0); ax_bar.set_ylabel("test accuracy")
    ax_bar.set_title("digits 3 vs. 6"); ax_bar.grid(alpha=0.3, axis="y")
    epochs = np.arange(1, EPOCHS + 1)
    ax_curve.plot(epochs, qnn_history.history["hinge_accuracy"], "o-", ms=3, label="QNN train")
    ax_curve.plot(epochs, qnn_history.history["val_hinge_accuracy"], "s-", ms=3, label="QNN test")
    ax_curve.set_xlabel("epoch"); ax_curve.set_ylabel("accuracy"); ax_curve.grid(alpha=0.3)
    ax_curve.legend(); ax_curve.set_title("QNN training")
    fig.tight_layout()
    fig.savefig("11_mnist_qnn.png", dpi=100)
    plt.show()
    if not QUICK:
        assert qnn_accuracy >= 0.85, qnn_accuracy
    '''),
]

NOTEBOOKS = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_data_reuploading.ipynb": REUPLOADING,
    "03_qcnn.ipynb": QCNN,
    "04_generators.ipynb": GENERATORS,
    "05_save_export_serve.ipynb": SAVE,
    "06_hello_many_worlds.ipynb": HELLO,
    "07_gradients.ipynb": GRADIENTS,
    "08_barren_plateaus.ipynb": BARREN,
    "10_qcnn_tfq.ipynb": QCNN_TFQ,
    "11_mnist_qnn.ipynb": MNIST_QNN,
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
