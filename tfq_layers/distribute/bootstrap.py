"""The first code every launched worker runs, and the one place a worker strategy is created.

:func:`tfq_layers.distribute.launch_workers` starts each worker as
``python <path of this file> module|script <target> [args...]``. Run that way, this file creates
the worker's ``MultiWorkerMirroredStrategy`` while TensorFlow is still uninitialised, leaves it in
``sys.modules[LAUNCHED_MODULE]`` for :func:`tfq_layers.distribute.multi_worker_strategy`, then runs
the target as ``__main__``, as ``python -m target`` or ``python target.py`` would.

It is run by its path, not with ``python -m tfq_layers.distribute.bootstrap``: ``-m`` would import
the ``tfq_layers`` package first, and anything that initialises TensorFlow's runtime before the
strategy exists (a TensorFlow op, importing TensorFlow Quantum) makes TensorFlow refuse to
configure collective ops. So this file imports only the standard library and TensorFlow.
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

    check_own_port()
    implementation = getattr(
        tf.distribute.experimental.CommunicationImplementation, communication.upper()
    )
    options = tf.distribute.experimental.CommunicationOptions(implementation=implementation)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options, **kwargs)


def check_own_port() -> None:
    """Raise ``RuntimeError`` naming the port when this task's address in ``TF_CONFIG`` is taken
    by another process (TensorFlow's own error, "Could not start gRPC server", names none)."""
    import json
    import socket

    try:
        config = json.loads(os.environ.get("TF_CONFIG", "") or "{}")
        task = config["task"]
        address = config["cluster"][task["type"]][int(task["index"])]
        host, port = str(address).rsplit(":", 1)
        port = int(port)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return  # no cluster, or a malformed one: TensorFlow reports that itself
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("", port))
    except OSError as err:
        raise RuntimeError(
            f"worker {task['type']}:{task['index']} cannot listen on port {port} (its address "
            f"{address!r} in TF_CONFIG): {err.strerror or err}. Another process uses the port: "
            "stop it, or give the workers free ports (tfq_layers.distribute.free_ports(n), or "
            "let the launcher choose them)."
        ) from None
    finally:
        sock.close()


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
