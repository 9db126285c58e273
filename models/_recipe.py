"""The classifier recipe runner: :class:`Recipe`, :class:`Run` and :func:`train_and_report`."""

import dataclasses
import os

import numpy as np

from tfq_layers._keras import keras  # noqa: F401  # used in the doctests

from ._export import export_model
from ._plots import plot_history
from ._results import Result, command, report
from ._runtime import PACKAGE, Timer, is_chief, make_parser, set_seed, strategy_scope
from ._scoring import count_params

__all__ = ["Recipe", "Run", "train_and_report", "final_training_loss"]


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
            raise ValueError(
                f"Recipe: name must be the recipe's module name (an identifier, "
                f"e.g. 'iris'); got {self.name!r}."
            )
        for field in ("qubits", "epochs", "batch_size", "quick_epochs"):
            _check_positive_int(owner, field, getattr(self, field))
        for field in ("load_data", "build", "accuracy", "after_training"):
            if not callable(getattr(self, field)):
                raise ValueError(
                    f"{owner}: {field} must be callable; got {getattr(self, field)!r}."
                )
        for field in ("after_load", "after_export"):
            if getattr(self, field) is not None and not callable(getattr(self, field)):
                raise ValueError(
                    f"{owner}: {field} must be callable or None; got {getattr(self, field)!r}."
                )
        if not isinstance(self.figures, dict) or not all(
            isinstance(k, str) and callable(v) for k, v in self.figures.items()
        ):
            raise ValueError(
                f"{owner}: figures must be a dict {{name: hook(run, path)}}; got {self.figures!r}."
            )

    def parser(self):
        """The recipe's :func:`make_parser` (``python -m models.<name>``); add flags, then parse.

        Example:
            >>> from models import iris
            >>> iris.RECIPE.parser().parse_args(["--quick"]).quick
            True
        """
        return make_parser(
            f"python -m {PACKAGE}.{self.name}", self.description or self.task, self.epochs
        )

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
    run = Run(
        args=args, epochs=args.epochs or (recipe.quick_epochs if args.quick else recipe.epochs)
    )
    set_seed(args.seed)
    with Timer() as timer:
        run.data = recipe.load_data(seed=args.seed, quick=args.quick)
        if recipe.after_load is not None:
            recipe.after_load(run)
        with strategy_scope(args):
            run.model = recipe.build(run.data)
        x_train, y_train, x_test, y_test = (run.data[k] for k in recipe.keys())
        run.history = run.model.fit(
            x_train,
            y_train,
            epochs=run.epochs,
            batch_size=recipe.batch_size,
            validation_data=(x_test, y_test),
            verbose=verbose,
        )
        run.outputs = run.model.predict(x_test, verbose=0)
        run.accuracy = recipe.accuracy(run.outputs, y_test)
    run.wall_time = timer.seconds
    extra = recipe.after_training(run)
    quantum, classical = count_params(run.model)
    result = Result(
        recipe.name,
        recipe.task,
        recipe.qubits,
        quantum,
        classical,
        run.epochs,
        "test accuracy",
        run.accuracy,
        run.wall_time,
        command(f"{PACKAGE}.{recipe.name}", argv),
        extra,
        history=run.history,
    )
    if args.plots:
        plot_history(
            run.history,
            os.path.join(args.plots, f"{recipe.name}_training.png"),
            f"{recipe.name}: {recipe.task} (validation = held-out test split)",
        )
        for figure, hook in recipe.figures.items():
            hook(run, os.path.join(args.plots, f"{recipe.name}_{figure}.png"))
    if args.export and is_chief():
        export_model(run.model, args.export)
        if recipe.after_export is not None:
            recipe.after_export(run)
    report(result)
    return result
