"""Run every recipe of the model zoo with its full settings and print the results table.

``python -m models.zoo`` (``make zoo``) trains the classifiers (``hybrid_classifier``, ``iris``,
``reuploading``, ``digits_qnn``, ``qcnn``) and, when their modules are present, the generators
(``qbm``, ``born_machine_bas``, ``vqt``, ``qmhl``, ``qgan``), one after the other in this process, then prints a Markdown
table: task, qubits, trainable parameters (quantum / classical), epochs, the held-out number,
wall time and the reproduce command. ``--only NAME ...`` runs a subset; ``--plots DIR`` and
``--export DIR`` pass through (exports go to ``DIR/<name>``); ``--quick`` runs every recipe in its
smoke-test mode (numbers meaningless); ``--markdown FILE`` also writes the table to ``FILE``.

Example:
    >>> from models import zoo
    >>> zoo.MODELS[:2]
    ('hybrid_classifier', 'iris')
"""

import argparse
import importlib
import importlib.util
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from . import CLASSIFIERS  # noqa: E402

GENERATORS = ("qbm", "born_machine_bas", "vqt", "qmhl", "qgan")
MODELS = CLASSIFIERS + GENERATORS

_HEADER = (
    "| model | task | qubits | trainable params (quantum / classical) | epochs | result "
    "| wall time | reproduce |"
)
_RULE = "|---|---|---|---|---|---|---|---|"


def available(names=MODELS):
    """The names in ``names`` whose module ``models.<name>`` exists.

    Example:
        >>> "iris" in available()
        True
    """
    return tuple(n for n in names if importlib.util.find_spec(f"{__package__}.{n}") is not None)


def format_row(result):
    """One Markdown table row for a :class:`models._common.Result`.

    Args:
        result: the object a recipe's ``main`` returned.

    Returns:
        A string ``| name | task | ... |``.

    Example:
        >>> from models._common import Result
        >>> format_row(Result("iris", "Iris", 4, 36, 15, 30, "test accuracy", 1.0, 20.0,
        ...                   "python -m models.iris"))
        '| iris | Iris | 4 | 36 / 15 | 30 | test accuracy 1.000 | 20 s | `python -m models.iris` |'
    """
    return (
        f"| {result.name} | {result.task} | {result.qubits} | {result.quantum_params} / "
        f"{result.classical_params} | {result.epochs} | {result.metric} "
        f"{result.formatted_value()} | {result.wall_time:.0f} s | `{result.command}` |"
    )


def format_table(results):
    """The Markdown table (header, rule, one row per result) as one string.

    Example:
        >>> format_table([]).splitlines()[0].startswith("| model |")
        True
    """
    return "\n".join([_HEADER, _RULE] + [format_row(r) for r in results])


def main(argv=None):
    """Run the selected recipes; print and return their results.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``); see ``--help``.

    Returns:
        A list of :class:`models._common.Result`, in run order.
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}.zoo", description=__doc__.split("\n")[0], allow_abbrev=False
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="NAME",
        choices=MODELS,
        default=None,
        help=f"run only these recipes (from {', '.join(MODELS)})",
    )
    parser.add_argument("--quick", action="store_true", help="smoke-test settings for every recipe")
    parser.add_argument("--plots", metavar="DIR", default=None, help="figures for every recipe")
    parser.add_argument(
        "--export", metavar="DIR", default=None, help="export every model to DIR/<name>"
    )
    parser.add_argument(
        "--markdown", metavar="FILE", default=None, help="also write the results table to FILE"
    )
    args = parser.parse_args(argv)
    names = available(args.only or MODELS)
    missing = [n for n in (args.only or ()) if n not in names]
    if missing:
        parser.error(f"no module for {missing}; available: {list(available())}")
    results = []
    for name in names:
        sub = (["--quick"] if args.quick else []) + (["--plots", args.plots] if args.plots else [])
        if args.export:
            sub += ["--export", os.path.join(args.export, name)]
        print(f"\n=== {__package__}.{name} {' '.join(sub)} ===", flush=True)
        module = importlib.import_module(f"{__package__}.{name}")
        results.append(module.main(sub))
    table = format_table(results)
    print("\n" + table, flush=True)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(table + "\n")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
