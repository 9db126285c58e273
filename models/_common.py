"""Helpers shared by the model-zoo recipes: command line, seeding, results, plots and export.

Every recipe module (``models/<name>.py``) exposes ``load_data(seed=...)``, ``build_model(...)`` and
``main(argv=None)``; ``main`` parses the common flags below, trains, evaluates on a held-out split,
prints the result on its own line (``test accuracy: 0.953``) and returns a :class:`Result`.

Common flags: ``--epochs N``, ``--seed S``, ``--export DIR`` (SavedModel in ``DIR`` plus
``DIR/model.keras``), ``--plots DIR`` (PNG training curves and model-specific figures),
``--quick`` (a few steps on a small subset, for tests) and ``--workers N`` (data-parallel).

The classifier recipes describe themselves with a :class:`Recipe` and their ``main`` is
:func:`train_and_report`: seed, load, build (in the ``--workers`` strategy scope), ``fit`` with the
test split as validation, accuracy, :class:`Result`, plots, export on the chief, report.
"""
import dataclasses
import os
import subprocess
import sys
import tempfile
import time

import tfq_layers  # noqa: F401  # first: it keeps TensorFlow's start-up lines off stderr

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfq_layers._keras import keras  # noqa: E402

from . import _cli  # noqa: E402

#: The recipes' package: ``models`` in the repository, ``tfq_layers.zoo`` in an installed wheel.
PACKAGE = __package__ or "models"
_HERE = os.path.dirname(os.path.abspath(__file__))
#: The repository root when running from a source checkout, else ``None`` (installed package).
ROOT = os.path.dirname(_HERE) if PACKAGE == "models" else None

__all__ = [
    "Result", "make_parser", "set_seed", "Timer", "count_params", "binary_accuracy",
    "sign_accuracy", "hinge_accuracy", "report", "plot_history", "save_figure", "export_model",
    "serve_export", "serve_export_in_fresh_process", "command", "KERAS_FILE", "Recipe", "Run",
    "train_and_report", "final_training_loss", "argmax_accuracy", "strategy_scope", "is_chief",
    "stratified_split", "scaled_split",
]

#: Name of the ``.keras`` file written next to the SavedModel by :func:`export_model`.
KERAS_FILE = "model.keras"


@dataclasses.dataclass
class Result:
    """What one recipe run reached, for the zoo table.

    Args:
        name: module name (``"iris"``).
        task: one-line task description.
        qubits: number of qubits simulated.
        quantum_params: trainable circuit parameters.
        classical_params: trainable classical (Keras) parameters.
        epochs: epochs trained.
        metric: metric name, e.g. ``"test accuracy"``.
        value: the held-out value of ``metric``.
        wall_time: seconds for data + training + evaluation (not imports, export or plots).
        command: the command that reproduces the run.
        extra: further numbers (e.g. a classical baseline), ``{label: value}``.
        history: the ``keras.callbacks.History`` of the run (``history.model`` is the trained
            model), or ``None``.

    Example:
        >>> r = Result("iris", "Iris", 4, 36, 15, 60, "test accuracy", 0.96, 30.0, "python -m x")
        >>> r.line()
        'test accuracy: 0.960'
    """
    name: str
    task: str
    qubits: int
    quantum_params: int
    classical_params: int
    epochs: int
    metric: str
    value: float
    wall_time: float
    command: str
    extra: dict = dataclasses.field(default_factory=dict)
    history: object = dataclasses.field(default=None, repr=False, compare=False)

    def formatted_value(self):
        """``value`` as printed: 3 decimals for accuracies, 4 significant digits otherwise."""
        return f"{self.value:.3f}" if "accuracy" in self.metric else f"{self.value:.4g}"

    def line(self):
        """The result line every run ends with, e.g. ``test accuracy: 0.953``."""
        return f"{self.metric}: {self.formatted_value()}"


def make_parser(prog, description, epochs, seed=0):
    """The common argument parser of a recipe (:func:`models._cli.make_parser`).

    Example:
        >>> args = make_parser("p", "d", epochs=10).parse_args(["--quick"])
        >>> args.quick, args.epochs
        (True, None)
    """
    return _cli.make_parser(prog, description, epochs, seed=seed)


def strategy_scope(args):
    """Where to build the model: a ``MultiWorkerMirroredStrategy`` scope when ``--workers N > 1``.

    With ``--workers N`` and not yet inside a worker, this relaunches the same command as N local
    workers (see ``tfq_layers.distribute``) and exits with their status; inside a worker it
    returns the strategy's scope; otherwise a no-op context.

    Example:
        >>> args = make_parser("p", "d", epochs=1).parse_args([])
        >>> with strategy_scope(args):
        ...     pass
    """
    import contextlib
    import sys

    from tfq_layers import distribute
    if distribute.is_worker():
        return distribute.multi_worker_strategy().scope()
    if getattr(args, "workers", 1) > 1:
        sys.exit(distribute.relaunch(args.workers))
    return contextlib.nullcontext()


def is_chief():
    """True unless this process is a non-chief worker of a multi-worker run."""
    from tfq_layers import distribute
    return not distribute.is_worker() or distribute.is_chief()


def set_seed(seed):
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``).

    Args:
        seed: int.

    Example:
        >>> set_seed(0)
    """
    keras.utils.set_random_seed(int(seed))


class Timer:
    """Wall-clock stopwatch: ``with Timer() as t: ...; t.seconds``.

    Example:
        >>> with Timer() as t:
        ...     pass
        >>> t.seconds >= 0
        True
    """

    def __enter__(self):
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        return False


def count_params(model):
    """Trainable parameters of ``model`` split into ``(quantum, classical)``.

    Quantum parameters are the ``circuit_weights`` of every layer that has them (PQC layers);
    everything else trainable is classical.

    Args:
        model: a built Keras model.

    Returns:
        ``(quantum, classical)`` ints.

    Example:
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> count_params(m)
        (0, 8)
    """
    quantum = 0
    for layer in _all_layers(model):
        w = getattr(layer, "circuit_weights", None)
        if w is not None and layer.trainable:
            quantum += int(np.prod(w.shape))
    total = int(sum(np.prod(v.shape) for v in model.trainable_weights))
    return quantum, total - quantum


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def stratified_split(features, labels, test_fraction, seed, keep=None):
    """Stratified train/test split (scikit-learn ``train_test_split``), optionally cut short.

    Args:
        features: array ``(N, ...)``.
        labels: array ``(N,)``; also the strata.
        test_fraction: held-out fraction (0 < f < 1).
        seed: ``random_state`` of the split.
        keep: ``None``, or ``(n_train, n_test)``: keep only the first ``n_train`` training and
            ``n_test`` test examples (the ``--quick`` subsets).

    Returns:
        ``(x_train, y_train, x_test, y_test)``.

    Raises:
        ValueError: if ``test_fraction`` is not in ``(0, 1)``.

    Example:
        >>> x, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
        >>> x_train, y_train, x_test, y_test = stratified_split(x, y, 0.2, seed=0)
        >>> x_train.shape, np.bincount(y_test).tolist()
        ((8, 2), [1, 1])
    """
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction!r}.")
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_fraction, random_state=seed, stratify=labels)
    if keep is not None:
        n_train, n_test = keep
        x_train, y_train, x_test, y_test = (x_train[:n_train], y_train[:n_train],
                                            x_test[:n_test], y_test[:n_test])
    return x_train, y_train, x_test, y_test


def scaled_split(scaler, x_train, y_train, x_test, y_test):
    """Fit ``scaler`` on the training features only and apply it to both splits.

    Args:
        scaler: an unfitted scikit-learn transformer (``StandardScaler()``, ``MinMaxScaler()``).
        x_train, y_train, x_test, y_test: the split (e.g. from :func:`stratified_split`).

    Returns:
        dict with ``x_train, y_train, x_test, y_test``: float32 scaled features, int64 labels.

    Example:
        >>> from sklearn.preprocessing import StandardScaler
        >>> d = scaled_split(StandardScaler(), np.array([[1.0], [3.0]]), np.array([0, 1]),
        ...                  np.array([[5.0]]), np.array([1]))
        >>> d["x_test"].tolist()
        [[3.0]]
    """
    scaler.fit(x_train)
    return {
        "x_train": scaler.transform(x_train).astype(np.float32),
        "y_train": np.asarray(y_train).astype(np.int64),
        "x_test": scaler.transform(x_test).astype(np.float32),
        "y_test": np.asarray(y_test).astype(np.int64),
    }


def binary_accuracy(probabilities, labels):
    """Accuracy of probabilities of class 1 (threshold 0.5) against 0/1 labels.

    Example:
        >>> binary_accuracy(np.array([[0.9], [0.2]]), np.array([1, 1]))
        0.5
    """
    p = np.asarray(probabilities).reshape(-1)
    y = np.asarray(labels).reshape(-1)
    return float(np.mean((p > 0.5).astype(np.int64) == y))


def argmax_accuracy(probabilities, labels):
    """Accuracy of class scores ``(N, classes)`` (the argmax is the prediction) against int labels.

    Args:
        probabilities: array ``(N, classes)`` (probabilities or logits).
        labels: int class indices ``(N,)``.

    Example:
        >>> argmax_accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
        0.5
    """
    return float(np.mean(np.asarray(probabilities).argmax(axis=1) == np.asarray(labels)))


def sign_accuracy(outputs, labels):
    """Accuracy of real outputs against +-1 labels (the hinge-loss convention): ``sign`` agrees.

    Example:
        >>> sign_accuracy(np.array([0.3, -0.1, 0.2]), np.array([1, 1, 1]))
        0.6666666666666666
    """
    out = np.asarray(outputs).reshape(-1)
    y = np.asarray(labels).reshape(-1)
    return float(np.mean(np.where(out > 0, 1, -1) == np.where(y > 0, 1, -1)))


@keras.saving.register_keras_serializable(package="tfq_layers_models", name="hinge_accuracy")
def hinge_accuracy(y_true, y_pred):
    """Keras metric: fraction of examples where ``y_pred`` has the sign of the +-1 ``y_true``.

    Args:
        y_true: labels in ``{-1, +1}``.
        y_pred: real predictions (e.g. ``<Z>`` in ``[-1, 1]``).

    Returns:
        A scalar float32 tensor.

    Example:
        >>> float(hinge_accuracy(tf.constant([1.0, -1.0]), tf.constant([0.2, 0.3])))
        0.5
    """
    y_true = tf.reshape(tf.cast(y_true, tf.float32), [-1])
    y_pred = tf.reshape(tf.cast(y_pred, tf.float32), [-1])
    return tf.reduce_mean(tf.cast(tf.equal(y_true > 0.0, y_pred > 0.0), tf.float32))


def report(result):
    """Print ``result``'s extra numbers, then its result line (last, on a line of its own)."""
    for label, value in result.extra.items():
        print(f"{label}: {value:.3f}" if isinstance(value, float) else f"{label}: {value}")
    print(f"wall time: {result.wall_time:.1f} s; trainable parameters: "
          f"{result.quantum_params} quantum / {result.classical_params} classical")
    print(result.line(), flush=True)


def plot_history(history, path, title):
    """Training curves (every metric in ``history.history``, train and validation) as a PNG.

    Args:
        history: the ``keras.callbacks.History`` returned by ``fit``.
        path: output file (``.png``); parent directories are created.
        title: figure title.

    Returns:
        ``path``.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist = history.history
    names = [k for k in hist if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(hist[name]) + 1)
        ax.plot(epochs, hist[name], label="train")
        if f"val_{name}" in hist:
            ax.plot(epochs, hist[f"val_{name}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
    return path


def save_figure(fig, path):
    """Save a Matplotlib figure as PNG (creating directories), close it and print the path."""
    import matplotlib.pyplot as plt
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


_save_figure = save_figure  # older name, used by some recipes


def export_model(model, export_dir):
    """Export ``model`` as a SavedModel in ``export_dir`` and save ``export_dir/model.keras``.

    Keras 3 uses ``model.export`` (endpoint ``serve``); tf_keras saves a ``tf.Module`` with an
    equivalent ``serve`` function through ``tf.saved_model.save``. A fresh process must
    ``import tfq_layers`` before ``tf.saved_model.load`` (that registers the TFQ ops).

    Args:
        model: a built functional/sequential Keras model with one input.
        export_dir: directory (created; existing files are overwritten).

    Returns:
        ``(export_dir, keras_path)``.
    """
    from tfq_layers.export import save_serving
    os.makedirs(export_dir, exist_ok=True)
    save_serving(model, export_dir)
    keras_path = os.path.join(export_dir, KERAS_FILE)
    model.save(keras_path)
    print(f"exported SavedModel to {export_dir} and saved {keras_path}")
    return export_dir, keras_path


def serve_export(export_dir, inputs):
    """Load the SavedModel in this process and run its ``serve`` endpoint on ``inputs``.

    Returns:
        ``(outputs, loaded)``: a NumPy array and the loaded object (keep it alive while you use
        the outputs of further calls: it owns the variables).
    """
    loaded = tf.saved_model.load(export_dir)
    return loaded.serve(tf.constant(inputs)).numpy(), loaded


def serve_export_in_fresh_process(export_dir, inputs, timeout=600):
    """Run the exported ``serve`` endpoint on ``inputs`` in a FRESH Python process.

    The child does only ``import tfq_layers`` (registers the TFQ ops) and ``tf.saved_model.load``;
    inputs and outputs travel as serialized tensors, so string (circuit) inputs survive exactly.

    Args:
        export_dir: the SavedModel directory.
        inputs: array-like or tensor accepted by the ``serve`` endpoint.
        timeout: seconds before the child is killed.

    Returns:
        The outputs as a NumPy array.
    """
    with tempfile.TemporaryDirectory() as tmp:
        x_path, y_path = os.path.join(tmp, "x.tfrec"), os.path.join(tmp, "y.tfrec")
        x = tf.constant(inputs)
        tf.io.write_file(x_path, tf.io.serialize_tensor(x))
        code = (
            "import tensorflow as tf\n"
            "import tfq_layers  # registers the TFQ ops the SavedModel calls\n"
            f"loaded = tf.saved_model.load({os.path.abspath(export_dir)!r})\n"
            f"x = tf.io.parse_tensor(tf.io.read_file({x_path!r}), out_type=tf.{x.dtype.name})\n"
            f"tf.io.write_file({y_path!r}, tf.io.serialize_tensor(loaded.serve(x)))\n"
        )
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if ROOT is not None:  # a source checkout: the child imports this copy of tfq_layers
            env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=ROOT or tmp)
        if proc.returncode != 0:
            raise RuntimeError(f"reloading {export_dir} in a fresh process failed "
                               f"(exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return tf.io.parse_tensor(tf.io.read_file(y_path), out_type=tf.float32).numpy()


def command(module, argv):
    """The reproduce command of a run: ``python -m models.NAME [args]``."""
    argv = sys.argv[1:] if argv is None else argv
    return " ".join(["python -m", module] + list(argv))


def final_training_loss(run):
    """The default extra number of a recipe: ``{"final training loss": <last epoch's loss>}``.

    Args:
        run: the :class:`Run` after training.

    Example:
        >>> h = keras.callbacks.History(); h.history = {"loss": [0.9, 0.25]}
        >>> final_training_loss(Run(args=None, epochs=2, history=h))
        {'final training loss': 0.25}
    """
    return {"final training loss": float(run.history.history["loss"][-1])}


@dataclasses.dataclass
class Run:
    """What :func:`train_and_report` has produced so far; the argument of the Recipe hooks.

    Args:
        args: the parsed command line (``argparse.Namespace``).
        epochs: epochs trained (``--epochs``, else the recipe's full or quick setting).
        data: the dict returned by the recipe's ``load_data``.
        model: the compiled (after training: trained) Keras model.
        history: the ``keras.callbacks.History`` of ``fit``.
        outputs: ``model.predict`` on the test inputs (a NumPy array).
        accuracy: the recipe's accuracy of ``outputs`` against the test labels.
        wall_time: seconds for data + training + evaluation.

    Example:
        >>> Run(args=None, epochs=3).epochs
        3
    """
    args: object
    epochs: int
    data: dict = None
    model: object = None
    history: object = None
    outputs: object = None
    accuracy: float = None
    wall_time: float = None


def _check_positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int; got {value!r}.")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A classifier recipe of the zoo: what :func:`train_and_report` needs to run it.

    Hooks receive the :class:`Run` (``run.args``, ``run.data``, ``run.model``, ...), so a recipe's
    own flags (added to :meth:`parser`) can steer them.

    Args:
        name: module name (``"iris"``); the program is ``python -m models.<name>``, figures are
            ``<name>_training.png`` and ``<name>_<figure>.png``.
        task: one-line task description (the zoo table's "task").
        description: ``--help`` text; only its first line is used (pass the module's ``__doc__``).
        qubits: number of qubits simulated.
        epochs: epochs of the full recipe.
        batch_size: ``fit`` batch size.
        load_data: ``load_data(seed=..., quick=...) -> dict`` with ``<inputs>_train``,
            ``<inputs>_test``, ``y_train`` and ``y_test``.
        build: ``build(data) -> model``, the compiled Keras model (called inside the
            ``--workers`` strategy scope, after ``load_data``).
        accuracy: ``accuracy(outputs, labels) -> float`` on ``model.predict`` of the test inputs,
            e.g. :func:`binary_accuracy`, :func:`sign_accuracy`, :func:`argmax_accuracy`.
        inputs: prefix of the input keys of the data dict (``"x"`` -> ``x_train``, ``x_test``).
        quick_epochs: epochs with ``--quick``.
        after_load: optional ``hook(run)`` run (timed) right after ``load_data``, e.g. to print
            data statistics.
        after_training: ``hook(run) -> dict`` run after the timed part; returns the result's
            extra numbers ``{label: value}`` (default :func:`final_training_loss`).
        figures: ``{figure: hook(run, path)}``: each hook writes a PNG to ``path``
            (``<plots>/<name>_<figure>.png``) when ``--plots`` is given, after the training curves.
        after_export: optional ``hook(run)`` run on the chief after ``--export`` wrote
            ``run.args.export``.

    Raises:
        ValueError: if a number is not a positive int or a hook is not callable.

    Example:
        >>> from models import iris
        >>> iris.RECIPE.name, iris.RECIPE.batch_size
        ('iris', 16)
    """
    name: str
    task: str
    description: str
    qubits: int
    epochs: int
    batch_size: int
    load_data: object
    build: object
    accuracy: object
    inputs: str = "x"
    quick_epochs: int = 2
    after_load: object = None
    after_training: object = final_training_loss
    figures: dict = dataclasses.field(default_factory=dict)
    after_export: object = None

    def __post_init__(self):
        owner = f"Recipe {self.name!r}"
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"Recipe: name must be the recipe's module name (an identifier, "
                             f"e.g. 'iris'); got {self.name!r}.")
        for field in ("qubits", "epochs", "batch_size", "quick_epochs"):
            _check_positive_int(owner, field, getattr(self, field))
        for field in ("load_data", "build", "accuracy", "after_training"):
            if not callable(getattr(self, field)):
                raise ValueError(f"{owner}: {field} must be callable; got "
                                 f"{getattr(self, field)!r}.")
        for field in ("after_load", "after_export"):
            if getattr(self, field) is not None and not callable(getattr(self, field)):
                raise ValueError(f"{owner}: {field} must be callable or None; got "
                                 f"{getattr(self, field)!r}.")
        if not isinstance(self.figures, dict) or not all(
                isinstance(k, str) and callable(v) for k, v in self.figures.items()):
            raise ValueError(f"{owner}: figures must be a dict {{name: hook(run, path)}}; got "
                             f"{self.figures!r}.")

    def parser(self):
        """The recipe's :func:`make_parser` (``python -m models.<name>``); add flags, then parse.

        Example:
            >>> from models import iris
            >>> iris.RECIPE.parser().parse_args(["--quick"]).quick
            True
        """
        return make_parser(f"python -m {PACKAGE}.{self.name}", self.description or self.task,
                           self.epochs)

    def keys(self):
        """The data keys ``(inputs_train, y_train, inputs_test, y_test)``."""
        return (f"{self.inputs}_train", "y_train", f"{self.inputs}_test", "y_test")


def train_and_report(recipe, argv=None, *, args=None, verbose=2):
    """The ``main`` of a classifier recipe: train, evaluate, plot, export, report.

    In order: parse ``argv`` (unless ``args`` is given), seed (:func:`set_seed`), then timed:
    ``load_data``, ``after_load``, ``build`` inside :func:`strategy_scope` (``--workers N``
    relaunches the program here), ``fit`` with the test split as validation data, ``predict`` on
    the test inputs and ``accuracy``; then ``after_training`` (extra numbers), the
    :class:`Result`, figures (``--plots``), export and ``after_export`` (``--export``, chief only)
    and :func:`report`, whose last line is ``test accuracy: 0.xxx``.

    Args:
        recipe: the :class:`Recipe`.
        argv: command-line arguments (default ``sys.argv[1:]``); also the reproduce command.
        args: an already parsed namespace (from ``recipe.parser()`` plus recipe flags), or
            ``None`` to parse ``argv``.
        verbose: ``fit`` verbosity (2: one line per epoch; 1: progress bars).

    Returns:
        The :class:`Result` (``result.history.model`` is the trained model).

    Example:
        >>> from models import iris
        >>> r = train_and_report(iris.RECIPE, ["--quick", "--epochs", "1"])  # doctest: +SKIP
        >>> r.line()                                                          # doctest: +SKIP
        'test accuracy: 0.562'
    """
    if args is None:
        args = recipe.parser().parse_args(argv)
    run = Run(args=args, epochs=args.epochs or (recipe.quick_epochs if args.quick
                                                 else recipe.epochs))
    set_seed(args.seed)
    with Timer() as timer:
        run.data = recipe.load_data(seed=args.seed, quick=args.quick)
        if recipe.after_load is not None:
            recipe.after_load(run)
        with strategy_scope(args):
            run.model = recipe.build(run.data)
        x_train, y_train, x_test, y_test = (run.data[k] for k in recipe.keys())
        run.history = run.model.fit(x_train, y_train, epochs=run.epochs,
                                    batch_size=recipe.batch_size,
                                    validation_data=(x_test, y_test), verbose=verbose)
        run.outputs = run.model.predict(x_test, verbose=0)
        run.accuracy = recipe.accuracy(run.outputs, y_test)
    run.wall_time = timer.seconds
    extra = recipe.after_training(run)
    quantum, classical = count_params(run.model)
    result = Result(recipe.name, recipe.task, recipe.qubits, quantum, classical, run.epochs,
                    "test accuracy", run.accuracy, run.wall_time,
                    command(f"{PACKAGE}.{recipe.name}", argv), extra, history=run.history)
    if args.plots:
        plot_history(run.history, os.path.join(args.plots, f"{recipe.name}_training.png"),
                     f"{recipe.name}: {recipe.task} (validation = held-out test split)")
        for figure, hook in recipe.figures.items():
            hook(run, os.path.join(args.plots, f"{recipe.name}_{figure}.png"))
    if args.export and is_chief():
        export_model(run.model, args.export)
        if recipe.after_export is not None:
            recipe.after_export(run)
    report(result)
    return result
