"""Where a recipe runs: its command line, seeding, timing and the ``--workers`` strategy."""

import os
import time

import tfq_layers  # noqa: F401  # first: it keeps TensorFlow's start-up lines off stderr

from tfq_layers._keras import keras  # noqa: E402

from . import _cli  # noqa: E402

#: The recipes' package: ``models`` in the repository, ``tfq_layers.zoo`` in an installed wheel.
PACKAGE = __package__ or "models"
_HERE = os.path.dirname(os.path.abspath(__file__))
#: The repository root when running from a source checkout, else ``None`` (installed package).
ROOT = os.path.dirname(_HERE) if PACKAGE == "models" else None

__all__ = ["PACKAGE", "ROOT", "make_parser", "strategy_scope", "is_chief", "set_seed", "Timer"]


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
