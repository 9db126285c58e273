"""The worker's ``MultiWorkerMirroredStrategy``: the launcher's, or a new one."""

from __future__ import annotations

import sys
from typing import Any

from tfq_layers.distribute.bootstrap import check_communication, launched_strategy, new_strategy
from tfq_layers.distribute.keras_fix import install_multi_worker_fix


def multi_worker_strategy(communication: str = "auto", **kwargs: Any) -> Any:
    """The ``tf.distribute.MultiWorkerMirroredStrategy`` of this worker, ready for ``model.fit``.

    In a worker started by :func:`launch_workers`, ``python -m tfq_layers.distribute`` or
    :func:`relaunch`, this returns the strategy the worker's bootstrap created at start-up (so the
    call may come after ``import tfq_layers``). Otherwise it creates one from ``TF_CONFIG`` (a
    single-worker strategy without it), which TensorFlow only allows before its runtime is
    initialised, i.e. before the first TensorFlow op or layer (``import tfq_layers`` leaves the
    runtime alone; importing ``tensorflow_quantum`` does not); if your program
    is started by something else, make the first statement
    ``tf.distribute.MultiWorkerMirroredStrategy()`` and call this (or
    :func:`install_multi_worker_fix`) later. With Keras 3 it also installs
    :func:`install_multi_worker_fix`. Build and compile the model in ``strategy.scope()`` and
    call ``model.fit``: ``batch_size`` is the global batch, split evenly between the workers.

    Args:
        communication: collective implementation: ``"auto"``, ``"ring"`` (gRPC, the one used on
            CPU) or ``"nccl"`` (GPUs).
        **kwargs: passed to ``tf.distribute.MultiWorkerMirroredStrategy`` (e.g.
            ``cluster_resolver``); not ``communication_options``, which this function builds.
            Giving any forces a new strategy instead of the launcher's.

    Returns:
        The strategy.

    Raises:
        ValueError: for an unknown ``communication`` or if ``communication_options`` is given.
        RuntimeError: if TensorFlow was initialised before the first strategy of the process
            could be created; the message says how to order the program.

    Example:
        >>> from tfq_layers import distribute                  # doctest: +SKIP
        >>> strategy = distribute.multi_worker_strategy()    # doctest: +SKIP
        >>> with strategy.scope():                           # doctest: +SKIP
        ...     model = build_model()
        ...     model.compile(optimizer="adam", loss="mse")
        >>> model.fit(x, y, batch_size=64, epochs=5)         # doctest: +SKIP
    """
    communication = check_communication(communication)
    if "communication_options" in kwargs:
        raise ValueError(
            "multi_worker_strategy builds communication_options itself; pass communication="
            f"'ring'|'nccl'|'auto' instead of communication_options="
            f"{kwargs['communication_options']!r}."
        )
    launched = launched_strategy()
    if launched is not None and not kwargs and communication in ("auto", launched[1]):
        strategy = launched[0]
    else:
        try:
            strategy = new_strategy(communication, **kwargs)
        except RuntimeError as err:
            if "program startup" not in str(err):
                raise
            culprit = (
                "importing tensorflow_quantum initialises it"
                if "tensorflow_quantum" in sys.modules
                else "some TensorFlow op already ran (building a quantum layer runs one)"
            )
            raise RuntimeError(
                "TensorFlow must create the first MultiWorkerMirroredStrategy of a worker before "
                f"its runtime is initialised, and {culprit}. Either start the program with "
                "`python -m tfq_layers.distribute --workers N -- <program>` or "
                "tfq_layers.distribute.relaunch(N), whose workers create it at start-up, or make "
                "`import tensorflow as tf; tf.distribute.MultiWorkerMirroredStrategy()` the first "
                "lines of the program, before importing tfq_layers."
            ) from err
    install_multi_worker_fix()
    return strategy
