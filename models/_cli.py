"""The command line every recipe shares. Standard library only, so that a recipe parses its
arguments (and answers ``--help`` or a usage error) before TensorFlow is imported.

A recipe module builds its parser with :func:`make_parser` near its top and, when it runs as
``__main__``, parses ``sys.argv`` there, above its TensorFlow imports::

    def make_parser():
        return _cli.make_parser(f"python -m {__package__}.{NAME}", __doc__, EPOCHS)

    ARGS = make_parser().parse_args() if __name__ == "__main__" else None

Options must be spelled out (``allow_abbrev=False``): ``--seed 1`` is never read as ``--seeds 1``.
"""

from __future__ import annotations

import argparse
import importlib.util
import re

__all__ = ["make_parser", "positive_int", "plain"]


def plain(text: str | None) -> str:
    """The first paragraph of a docstring without reStructuredText markup, for ``--help``.

    Example:
        >>> plain("Train a :class:`tfq_layers.BornMachine` with ``--seeds N``.\\n\\nMore.")
        'Train a tfq_layers.BornMachine with --seeds N.'
    """
    paragraph = (text or "").strip().split("\n\n")[0]
    paragraph = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", paragraph)
    paragraph = re.sub(r"``([^`]+)``", r"\1", paragraph)
    return " ".join(paragraph.split())


def positive_int(text: str) -> int:
    """``argparse`` type: an int >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def make_parser(
    prog: str, description: str | None, epochs: int | None, seed: int = 0
) -> argparse.ArgumentParser:
    """The common parser of a recipe; add the recipe's own options before parsing.

    Args:
        prog: program name shown in ``--help`` (``"python -m models.iris"``).
        description: the recipe's docstring (its first paragraph is shown, markup removed).
        epochs: default number of epochs of the full recipe (``None``: the recipe decides).
        seed: default random seed.

    Returns:
        An ``argparse.ArgumentParser`` (``allow_abbrev=False``) with ``--epochs``, ``--seed``,
        ``--export``, ``--plots``, ``--quick`` and ``--workers``.

    Example:
        >>> args = make_parser("p", "d", epochs=10).parse_args(["--quick"])
        >>> args.quick, args.epochs, args.seed, args.workers
        (True, None, 0, 1)
    """
    parser = argparse.ArgumentParser(prog=prog, description=plain(description), allow_abbrev=False)
    default = f"default {epochs}; " if epochs else ""
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help=f"training epochs ({default}fewer with --quick)",
    )
    parser.add_argument("--seed", type=int, default=seed, help=f"random seed (default {seed})")
    parser.add_argument(
        "--export",
        metavar="DIR",
        default=None,
        help="write a SavedModel to DIR (endpoint serve) and DIR/model.keras",
    )
    parser.add_argument(
        "--plots",
        metavar="DIR",
        default=None,
        help="write PNG figures (training curves, model-specific plots) to DIR",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few steps on a small subset (smoke test; numbers meaningless)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="train data-parallel on N local worker processes "
        "(tf.distribute.MultiWorkerMirroredStrategy; batch = global batch)",
    )
    return parser


def recipe_parser(
    package: str | None, name: str, doc: str | None, epochs: int | None, add_options=None
) -> argparse.ArgumentParser:
    """:func:`make_parser` for recipe ``name`` of ``package``, plus its own options.

    Args:
        package: the recipe's ``__package__`` (``models``, or ``tfq_layers.zoo`` when installed).
        name: the recipe's module name.
        doc: the recipe's docstring.
        epochs: its default epochs.
        add_options: optional ``add_options(parser)`` adding the recipe's own options.
    """
    parser = make_parser(f"python -m {package or 'models'}.{name}", doc, epochs)
    if add_options is not None:
        add_options(parser)
    return parser


# The import name of each optional dependency a recipe may need -> (its PyPI name, the extra of
# tfq-layers that installs it).
EXTRAS = {"sklearn": ("scikit-learn", "models"), "matplotlib": ("matplotlib", "models")}


def missing_extra(modules) -> str | None:
    """The error text for the first of ``modules`` that is not installed, else ``None``.

    Example:
        >>> missing_extra(["argparse"]) is None
        True
    """
    for module in modules:
        if importlib.util.find_spec(module) is None:
            package, extra = EXTRAS.get(module, (module, "models"))
            return (
                f"this recipe needs {package}, which is not installed: "
                f"pip install 'tfq-layers[{extra}]' (from a clone: pip install -e '.[{extra}]')"
            )
    return None


def parse_if_main(module_name: str, *args, needs=(), **kwargs) -> argparse.Namespace | None:
    """Parse ``sys.argv`` with :func:`recipe_parser` if the recipe runs as ``__main__``.

    Called at the top of a recipe, before TensorFlow is imported, so ``--help`` and usage errors
    return at once. Returns ``None`` when the recipe is imported. A missing optional dependency
    (``needs``, import names such as ``"sklearn"``; ``matplotlib`` when ``--plots`` is given) is a
    usage error naming the extra that installs it, before anything is trained.
    """
    if module_name != "__main__":
        return None
    parser = recipe_parser(*args, **kwargs)
    parsed = parser.parse_args()
    message = missing_extra([*needs, *(["matplotlib"] if parsed.plots else [])])
    if message:
        parser.error(message)
    return parsed
