"""The first code every launched worker runs, and the one place a worker strategy is created.

:func:`tfq_layers.distribute.launch_workers` starts each worker as
``python <path of this file> module|script <target> [args...]``. Run that way, this file creates
the worker's ``MultiWorkerMirroredStrategy`` while TensorFlow is still uninitialised, leaves it in
``sys.modules[LAUNCHED_MODULE]`` for :func:`tfq_layers.distribute.multi_worker_strategy`, then runs
the target as ``__main__``, as ``python -m target`` or ``python target.py`` would.

It is run by its path, not with ``python -m tfq_layers.distribute.bootstrap``: ``-m`` would import
the ``tfq_layers`` package first, and that import initialises TensorFlow (it registers TensorFlow
Quantum's op libraries), after which TensorFlow refuses to configure collective ops. For the same
reason this file imports only the standard library and TensorFlow, never ``tfq_layers``.
"""

from __future__ import annotations

import os
import runpy
import sys
import types
from collections.abc import Sequence
from typing import Any

COMMUNICATIONS = ("auto", "ring", "nccl")
# sys.modules key under which the bootstrap leaves the strategy it created.
LAUNCHED_MODULE = "_tfq_layers_launched_strategy"
# Environment variable through which the launcher passes ``communication`` to the bootstrap.
COMMUNICATION_ENV = "TFQ_LAYERS_COMMUNICATION"


def check_communication(communication: str) -> str:
    """``communication`` lower-cased, or a ValueError naming the accepted values."""
    key = str(communication).lower()
    if key not in COMMUNICATIONS:
        raise ValueError(
            f"communication must be one of {list(COMMUNICATIONS)}; received "
            f"communication={communication!r}. Use 'ring' (or 'auto') on CPU-only machines."
        )
    return key


def new_strategy(communication: str, **kwargs: Any) -> Any:
    """A new ``tf.distribute.MultiWorkerMirroredStrategy`` with the given collective implementation.

    Args:
        communication: ``"auto"``, ``"ring"`` or ``"nccl"`` (already checked).
        **kwargs: passed to ``tf.distribute.MultiWorkerMirroredStrategy``.
    """
    import tensorflow as tf

    implementation = getattr(
        tf.distribute.experimental.CommunicationImplementation, communication.upper()
    )
    options = tf.distribute.experimental.CommunicationOptions(implementation=implementation)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options, **kwargs)


def launched_strategy() -> tuple[Any, str] | None:
    """``(strategy, communication)`` created by this bootstrap in this process, else ``None``."""
    launched = sys.modules.get(LAUNCHED_MODULE)
    if launched is None:
        return None
    return launched.strategy, getattr(launched, "communication", "auto")


def run(argv: Sequence[str]) -> None:
    """Create the strategy, then run ``argv = [kind, target, *args]`` as ``__main__``.

    Args:
        argv: ``kind`` (``"module"`` or ``"script"``), the target (a module name or a script
            path) and the target's own command-line arguments.
    """
    kind, target, args = argv[0], argv[1], list(argv[2:])
    # Run by path, Python put this file's folder first on sys.path; put back what the target
    # expects there: the working directory for a module (as `python -c` has it), the script's
    # folder for a script. Done before importing TensorFlow, so nothing resolves against it.
    sys.path[0] = "" if kind == "module" else os.path.dirname(os.path.abspath(target))
    communication = os.environ.get(COMMUNICATION_ENV, "auto")
    launched = types.ModuleType(LAUNCHED_MODULE)
    launched.communication = communication
    launched.strategy = new_strategy(communication)
    sys.modules[LAUNCHED_MODULE] = launched
    sys.argv = [target, *args]
    if kind == "module":
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(target, run_name="__main__")


if __name__ == "__main__":
    run(sys.argv[1:])
