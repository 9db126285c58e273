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

This module gathers the recipes' helpers under one name (``from . import _common``); they live in
``_runtime`` (command line, seeding, timing, ``--workers``), ``_splits`` (held-out splits),
``_scoring`` (accuracies, parameter counts), ``_results`` (:class:`Result`, report), ``_plots``,
``_export`` (export and serving it), ``_fresh`` (code in a fresh process) and ``_recipe`` (the
runner).
"""

import tfq_layers  # noqa: F401  # first: it keeps TensorFlow's start-up lines off stderr

from ._fresh import run_python
from ._export import KERAS_FILE, export_model, serve_export, serve_export_in_fresh_process
from ._plots import plot_history, save_figure
from ._recipe import Recipe, Run, final_training_loss, train_and_report
from ._results import Result, command, report
from ._runtime import PACKAGE, ROOT, Timer, is_chief, make_parser, set_seed, strategy_scope
from ._scoring import argmax_accuracy, binary_accuracy, count_params, hinge_accuracy, sign_accuracy
from ._splits import scaled_split, stratified_split

__all__ = [
    "Result",
    "make_parser",
    "set_seed",
    "Timer",
    "count_params",
    "binary_accuracy",
    "sign_accuracy",
    "hinge_accuracy",
    "report",
    "plot_history",
    "save_figure",
    "export_model",
    "serve_export",
    "serve_export_in_fresh_process",
    "command",
    "KERAS_FILE",
    "Recipe",
    "Run",
    "train_and_report",
    "final_training_loss",
    "argmax_accuracy",
    "strategy_scope",
    "is_chief",
    "stratified_split",
    "scaled_split",
    "PACKAGE",
    "run_python",
    "ROOT",
]
