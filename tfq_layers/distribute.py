"""Multi-worker data-parallel training with ``tf.distribute.MultiWorkerMirroredStrategy``.

What is here:

1. :func:`multi_worker_strategy` and :func:`install_multi_worker_fix`, which make plain
   ``model.fit`` / ``model.evaluate`` work for **Keras 3** models under a
   ``MultiWorkerMirroredStrategy`` that spans two or more workers. In the legacy lane
   (``TF_USE_LEGACY_KERAS=1``, tf_keras) they change nothing: tf_keras already works.
2. :func:`launch_workers`, :func:`relaunch` and the command line
   ``python -m tfq_layers.distribute --workers 2 -- <module | script.py> [args...]``, which run a
   program as N local worker processes on the loopback interface, each with its own
   ``TF_CONFIG``, and create the strategy at each worker's start-up (see "Start-up order").
3. :func:`free_ports`, :func:`worker_config` and :func:`tf_config` to build ``TF_CONFIG``, and
   :func:`is_worker`, :func:`worker_index`, :func:`num_workers`, :func:`is_chief` to read it.

Why Keras 3 needs a fix (root cause)
------------------------------------
Every Keras 3 release that TensorFlow 2.18 accepts (3.5.0 to 3.15.1; 3.5, 3.6, 3.7, 3.10 and 3.15
were run) has two bugs in ``keras/src/backend/tensorflow/trainer.py`` that only show when the
strategy spans more than one worker, so single-process ``MirroredStrategy`` users never see them:

* ``TensorFlowTrainer._maybe_symbolic_build`` (run at the start of every ``fit`` and ``evaluate``)
  takes the first distributed batch, a *tuple* ``(x, y)`` of ``PerReplica`` values, and calls
  ``strategy.reduce("MEAN", batch, axis=None)`` on the whole tuple. ``Strategy.reduce`` takes one
  value, not a nest. With one worker ``CollectiveAllReduceExtended._reduce_to`` hands a
  non-distributed value back unchanged, but with several workers it passes the tuple to
  ``CollectiveAllReduce.reduce``, whose ``convert_to_tensor`` fails with
  ``ValueError: Attempt to convert a value (PerReplica:...) to a Tensor``. The batch is only needed
  for its shapes and dtypes (``_symbolic_build`` turns it into ``KerasTensor`` specs): no
  cross-worker reduction was needed at all.
* With that out of the way, the compiled train/test step fails: ``reduce_per_replica(...,
  reduction="auto")`` turns ``auto`` into ``mean`` and, in multi-worker mode, calls
  ``strategy.reduce("MEAN", v, axis=0)`` on every logged metric. The metrics are scalars, so
  TensorFlow raises ``Invalid reduction dimension 0 for input with 0 dimensions``. Within one
  worker Keras averages the replicas' values element-wise (``tf.reduce_mean(local_results,
  axis=0)``); across workers ``strategy.reduce("MEAN", v, axis=None)`` does the same.

Reported upstream as keras-team/keras#20585 (open) and tensorflow/tensorflow#72388 (second error).

:func:`install_multi_worker_fix` wraps those two functions. The wrappers call Keras's originals
unchanged unless the strategy is a ``MultiWorkerMirroredStrategy`` that really spans several
workers, the one case in which the originals always raise. In that case:

* the symbolic build is given this worker's *local* part of the first batch
  (``strategy.experimental_local_results(v)[0]``: same shapes and dtypes, no communication) and
  then runs Keras's own ``_maybe_symbolic_build``;
* ``mean`` (and ``auto``) reductions use ``strategy.reduce("MEAN", v, axis=None)``, so the logged
  loss and metrics are the mean of the workers' values, as with several GPUs in one process.
  ``sum``, ``concat`` (used by ``predict``) and ``first`` go to Keras unchanged.

Gradients, optimizer updates and variable synchronisation stay Keras's and TensorFlow's own: the
fix touches only shape discovery and metric reporting. :func:`uninstall_multi_worker_fix` restores
the originals.

``import tfq_layers`` installs the fix (Keras 3 only; ``TFQ_LAYERS_MULTI_WORKER_FIX=0`` opts out),
so the program users write works as it is: create ``tf.distribute.MultiWorkerMirroredStrategy()``,
``import tfq_layers``, build and compile in ``strategy.scope()``, ``model.fit``. With one worker,
without a strategy and in the legacy lane the wrappers hand every call to Keras unchanged.

Start-up order
--------------
TensorFlow configures collective ops only while its eager context is still uninitialised, and
``import tensorflow_quantum`` initialises it (``tensorflow_quantum/python/quantum_context.py``
creates a ``tf.CriticalSection`` at import time), as does any TensorFlow op. The first
``MultiWorkerMirroredStrategy`` of a worker must therefore be created before TFQ (and so
``tfq_layers``, whose ``__init__`` loads TFQ) is imported; once one exists, more can be created
later. :func:`launch_workers` (and so ``python -m tfq_layers.distribute`` and :func:`relaunch`)
takes care of this: each worker starts with a small bootstrap that creates the strategy and then
runs the target program, in which :func:`multi_worker_strategy` returns that strategy. A program
started by other means (a cluster scheduler) must create it first itself; see
:func:`multi_worker_strategy`.

How the batch is split (measured; see "Scaling out" in README.md)
--------------------------------------------------------------
``batch_size`` in ``fit`` is the **global** batch. Keras batches the data with it, and
``experimental_distribute_dataset`` splits every global batch between the replicas (one per worker
on CPU): with 2 workers and ``batch_size=16`` worker 0 gets rows 0-7 and worker 1 rows 8-15 of
each batch. Each worker reads the whole data set; NumPy inputs and in-memory ``tf.data`` sets are
sharded by data (``AutoShardPolicy.DATA``). The loss is averaged over the global batch, so N
workers with global batch B take the same steps as one process with batch B.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TextIO

__all__ = [
    "multi_worker_strategy",
    "install_multi_worker_fix",
    "uninstall_multi_worker_fix",
    "multi_worker_fix",
    "multi_worker_fix_installed",
    "free_ports",
    "worker_config",
    "tf_config",
    "is_worker",
    "worker_index",
    "num_workers",
    "is_chief",
    "launch_workers",
    "relaunch",
    "WorkerResult",
    "main",
]

LOOPBACK = "127.0.0.1"
_COMMUNICATIONS = ("auto", "ring", "nccl")
# sys.modules key under which the worker bootstrap leaves the strategy it created.
_LAUNCHER_MODULE = "_tfq_layers_launched_strategy"
_TRAINER_MODULE = "keras.src.backend.tensorflow.trainer"


def _legacy():
    from tfq_layers._keras import LEGACY

    return LEGACY


# --------------------------------------------------------------------------------------------
# The Keras 3 fix
# --------------------------------------------------------------------------------------------

_MARK = "_tfq_layers_multi_worker_fix"
_originals = {}


def _keras_tf_trainer():
    """Keras 3's TensorFlow trainer module, or a RuntimeError saying why the fix cannot apply."""
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise RuntimeError(
            "MultiWorkerMirroredStrategy needs the TensorFlow Keras backend, but "
            f"keras.backend.backend() is {backend!r}. Set KERAS_BACKEND=tensorflow before "
            "importing keras."
        )
    version = _version_tuple(keras.__version__)
    if version < (3, 8):
        raise RuntimeError(
            f"Keras {keras.__version__} trains wrongly under tf.distribute: before 3.8 the loss "
            "is not divided by the number of replicas, so gradients are summed over replicas "
            "(measured: weights diverge from single-process training). Install keras>=3.10 "
            "(pip install 'keras>=3.10,<4')."
        )
    if version < (3, 10):
        warnings.warn(
            f"Keras {keras.__version__}: multi-worker training gives the right weights, but the "
            "logged loss/metrics differ by a few percent from a single-process run (measured on "
            "3.8 and 3.9; exact from 3.10 on). Install keras>=3.10 for exact metrics.",
            stacklevel=3,
        )
    from keras.src.backend.tensorflow import trainer as tf_trainer

    missing = [
        name
        for name, owner in (
            ("TensorFlowTrainer._maybe_symbolic_build", tf_trainer.TensorFlowTrainer),
            ("reduce_per_replica", tf_trainer),
        )
        if not hasattr(owner, name.split(".")[-1])
    ]
    if missing:
        raise RuntimeError(
            f"Keras {keras.__version__} has no {', '.join(missing)} in {_TRAINER_MODULE}, so "
            "tfq_layers' multi-worker fix (written for Keras 3.8-3.15) does not apply. Try "
            "plain model.fit: this Keras may have fixed keras-team/keras#20585."
        )
    return tf_trainer


def _version_tuple(text):
    numbers = re.findall(r"\d+", str(text))[:2]
    return tuple(int(n) for n in numbers) + (0,) * (2 - len(numbers))


def _spans_workers(strategy, tf_trainer):
    """True for a MultiWorkerMirroredStrategy with several workers: the case Keras breaks."""
    check = getattr(tf_trainer, "_collective_all_reduce_multi_worker", None)
    if check is not None:  # Keras's own test for the branch that fails
        return bool(check(strategy))
    import tensorflow as tf

    in_multi_worker_mode = getattr(strategy.extended, "_in_multi_worker_mode", None)
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        in_multi_worker_mode and in_multi_worker_mode()
    )


def _first_batch(iterator):
    """The first (distributed) batch of a Keras TF epoch iterator, across Keras 3.5-3.15."""
    # Keras 3.5 yields (step, iterator) from enumerate_epoch(); 3.6-3.10 iterate (step, iterator);
    # 3.11+ iterate (begin_step, end_step, iterator).
    items = iterator if hasattr(iterator, "__iter__") else iterator.enumerate_epoch()
    for item in items:
        data = item[-1]
        if hasattr(data, "__next__"):
            return next(data)
        if isinstance(data, list):  # a buffer of batches
            return data[0] if data else None
        return data
    return None


def _make_symbolic_build(original, tf_trainer):
    import tensorflow as tf

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = getattr(self, "_distribute_strategy", None)
        if iterator is None or strategy is None or not _spans_workers(strategy, tf_trainer):
            return original(self, iterator=iterator, data_batch=data_batch)
        # Only the shapes and dtypes of one batch are needed: use this worker's own part of the
        # first batch instead of all-reducing a nest (which Strategy.reduce does not support).
        batch = _first_batch(iterator)
        if batch is None:  # no data: let Keras report it
            return original(self, iterator=iterator, data_batch=data_batch)

        def local(value):
            if isinstance(value, tf.distribute.DistributedValues):
                return strategy.experimental_local_results(value)[0]
            return value

        return original(self, iterator=None, data_batch=tf.nest.map_structure(local, batch))

    _maybe_symbolic_build.__doc__ = original.__doc__
    setattr(_maybe_symbolic_build, _MARK, True)
    return _maybe_symbolic_build


def _make_reduce_per_replica(original, tf_trainer):
    import tensorflow as tf

    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not _spans_workers(strategy, tf_trainer):
            return original(values, strategy, reduction)
        # Element-wise mean over all replicas of all workers, as Keras does within one worker.
        return tf.nest.map_structure(
            lambda value: strategy.reduce("MEAN", value, axis=None), values
        )

    reduce_per_replica.__doc__ = original.__doc__
    setattr(reduce_per_replica, _MARK, True)
    return reduce_per_replica


def multi_worker_fix_installed() -> bool:
    """Whether :func:`install_multi_worker_fix` is in effect in this process.

    Returns:
        ``True`` when Keras 3's trainer runs the wrapped functions; always ``False`` in the legacy
        lane, where no fix is needed.

    Example:
        >>> from tfq_layers import distribute
        >>> isinstance(distribute.multi_worker_fix_installed(), bool)
        True
    """
    if _legacy() or _TRAINER_MODULE not in sys.modules:
        return False
    tf_trainer = sys.modules[_TRAINER_MODULE]
    build = getattr(tf_trainer.TensorFlowTrainer, "_maybe_symbolic_build", None)
    reduce = getattr(tf_trainer, "reduce_per_replica", None)
    return bool(getattr(build, _MARK, False) and getattr(reduce, _MARK, False))


def install_multi_worker_fix() -> bool:
    """Let Keras 3 ``fit``/``evaluate`` run under a multi-worker ``MultiWorkerMirroredStrategy``.

    Wraps ``TensorFlowTrainer._maybe_symbolic_build`` and ``reduce_per_replica`` of
    ``keras.src.backend.tensorflow.trainer``; the wrappers defer to Keras except when the strategy
    spans several workers (the module docstring gives the root cause). Idempotent, process-wide,
    undone by :func:`uninstall_multi_worker_fix`. Does nothing in the legacy lane
    (``TF_USE_LEGACY_KERAS=1``), where tf_keras needs no fix. It may be called before or after the
    strategy is created, but before the first ``fit``. ``import tfq_layers`` already calls it
    (unless ``TFQ_LAYERS_MULTI_WORKER_FIX=0``), so explicit calls are needed only after
    :func:`uninstall_multi_worker_fix` or with the opt-out.

    Returns:
        ``True`` if the fix is in effect after the call, ``False`` in the legacy lane.

    Raises:
        RuntimeError: if Keras's backend is not TensorFlow, if Keras is older than 3.8 (whose
            distributed training sums gradients over replicas), or if this Keras lacks the
            functions the fix wraps (a restructured Keras newer than 3.15).

    Example:
        >>> from tfq_layers import distribute
        >>> distribute.install_multi_worker_fix() in (True, False)
        True
        >>> distribute.uninstall_multi_worker_fix()
    """
    if _legacy():
        return False
    tf_trainer = _keras_tf_trainer()
    cls = tf_trainer.TensorFlowTrainer
    if not getattr(cls._maybe_symbolic_build, _MARK, False):
        _originals["_maybe_symbolic_build"] = cls._maybe_symbolic_build
        cls._maybe_symbolic_build = _make_symbolic_build(cls._maybe_symbolic_build, tf_trainer)
    if not getattr(tf_trainer.reduce_per_replica, _MARK, False):
        _originals["reduce_per_replica"] = tf_trainer.reduce_per_replica
        tf_trainer.reduce_per_replica = _make_reduce_per_replica(
            tf_trainer.reduce_per_replica, tf_trainer
        )
    return True


def _install_on_import() -> bool:
    """Called by ``import tfq_layers``: install the fix when it can apply, silently otherwise.

    The wrappers defer to Keras except under a multi-worker strategy, so installing them in every
    Keras 3 process changes nothing for single-process training; it is what lets a program that
    creates ``tf.distribute.MultiWorkerMirroredStrategy()`` itself, then imports ``tfq_layers``,
    train with plain ``model.fit``. ``TFQ_LAYERS_MULTI_WORKER_FIX=0`` opts out. Unsupported set-ups
    (another Keras backend, Keras older than 3.8, a restructured trainer) are left alone here:
    :func:`multi_worker_strategy` and :func:`install_multi_worker_fix` report them when asked.

    Returns:
        Whether the fix is in effect afterwards.
    """
    if os.environ.get("TFQ_LAYERS_MULTI_WORKER_FIX", "1").strip().lower() in ("0", "false", "no"):
        return False
    if _legacy():
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return install_multi_worker_fix()
    except (RuntimeError, ImportError, AttributeError):
        return False


def uninstall_multi_worker_fix() -> None:
    """Undo :func:`install_multi_worker_fix`, restoring Keras's own functions.

    Safe to call when the fix is not installed. A ``train_function`` that a model has already
    traced keeps the reduction it was traced with; ``model.make_train_function(force=True)``
    drops it.

    Example:
        >>> from tfq_layers import distribute
        >>> distribute.uninstall_multi_worker_fix()
        >>> distribute.multi_worker_fix_installed()
        False
    """
    if _TRAINER_MODULE not in sys.modules:
        _originals.clear()
        return
    tf_trainer = sys.modules[_TRAINER_MODULE]
    cls = tf_trainer.TensorFlowTrainer
    original = _originals.pop("_maybe_symbolic_build", None)
    if original is not None and getattr(cls._maybe_symbolic_build, _MARK, False):
        cls._maybe_symbolic_build = original
    original = _originals.pop("reduce_per_replica", None)
    if original is not None and getattr(tf_trainer.reduce_per_replica, _MARK, False):
        tf_trainer.reduce_per_replica = original


@contextlib.contextmanager
def multi_worker_fix() -> Iterator[None]:
    """Context manager form of :func:`install_multi_worker_fix`.

    Installs the fix on entry and, if it was not installed before, removes it on exit. ``fit``
    must run inside the block; the model may be built outside it.

    Example:
        >>> from tfq_layers import distribute
        >>> with distribute.multi_worker_fix():
        ...     pass  # model.fit(...) here
    """
    was_installed = multi_worker_fix_installed()
    install_multi_worker_fix()
    try:
        yield
    finally:
        if not was_installed:
            uninstall_multi_worker_fix()


def _check_communication(communication):
    key = str(communication).lower()
    if key not in _COMMUNICATIONS:
        raise ValueError(
            f"communication must be one of {list(_COMMUNICATIONS)}; received "
            f"communication={communication!r}. Use 'ring' (or 'auto') on CPU-only machines."
        )
    return key


def _new_strategy(communication, **kwargs):
    import tensorflow as tf

    implementation = getattr(
        tf.distribute.experimental.CommunicationImplementation, communication.upper()
    )
    options = tf.distribute.experimental.CommunicationOptions(implementation=implementation)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options, **kwargs)


def multi_worker_strategy(communication: str = "auto", **kwargs: Any) -> Any:
    """The ``tf.distribute.MultiWorkerMirroredStrategy`` of this worker, ready for ``model.fit``.

    In a worker started by :func:`launch_workers`, ``python -m tfq_layers.distribute`` or
    :func:`relaunch`, this returns the strategy the worker's bootstrap created at start-up (so the
    call may come after ``import tfq_layers``). Otherwise it creates one from ``TF_CONFIG`` (a
    single-worker strategy without it), which TensorFlow only allows before its runtime is
    initialised, i.e. before ``tensorflow_quantum``/``tfq_layers`` are imported; if your program
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
    communication = _check_communication(communication)
    if "communication_options" in kwargs:
        raise ValueError(
            "multi_worker_strategy builds communication_options itself; pass communication="
            f"'ring'|'nccl'|'auto' instead of communication_options="
            f"{kwargs['communication_options']!r}."
        )
    launched = sys.modules.get(_LAUNCHER_MODULE)
    if (
        launched is not None
        and not kwargs
        and communication in ("auto", getattr(launched, "communication", "auto"))
    ):
        strategy = launched.strategy
    else:
        try:
            strategy = _new_strategy(communication, **kwargs)
        except RuntimeError as err:
            if "program startup" not in str(err):
                raise
            culprit = (
                "importing tfq_layers initialises it (it registers TensorFlow Quantum's op "
                "libraries)"
                if "tfq_layers.backends.tfq_backend" in sys.modules
                else "some TensorFlow op already ran"
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


# --------------------------------------------------------------------------------------------
# TF_CONFIG
# --------------------------------------------------------------------------------------------


def _ephemeral_range():
    """The kernel's range for outgoing connections' local ports (Linux), else IANA's."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(v) for v in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 49152, 65535


def free_ports(n: int, host: str = LOOPBACK) -> list[int]:
    """Find ``n`` distinct TCP ports that are free on ``host`` right now.

    Ports are drawn at random from 10000 up to just below the kernel's ephemeral range, so that
    outgoing connections (which take ephemeral ports) cannot grab one in the seconds between
    this call and the workers binding it; each is checked by binding it. Only another program
    binding the same port on purpose could still collide.

    Args:
        n: how many ports, a positive int.
        host: the address to probe; the loopback address by default.

    Returns:
        A list of ``n`` distinct port numbers.

    Raises:
        ValueError: if ``n`` is not a positive int.

    Example:
        >>> from tfq_layers.distribute import free_ports
        >>> len(set(free_ports(2)))
        2
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"free_ports needs a positive int n; received n={n!r}.")
    low = 10000
    high = min(_ephemeral_range()[0], 65536)
    rng = random.SystemRandom()
    sockets = []
    try:  # keep every socket open until all are chosen: no duplicates
        attempts = 0
        while len(sockets) < n:
            attempts += 1
            port = rng.randrange(low, high) if high - low > 4 * n and attempts < 200 else 0
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                continue
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _addresses(workers, host):
    if isinstance(workers, (str, bytes)) or not hasattr(workers, "__iter__"):
        raise ValueError(
            "workers must be a list with one entry per worker, each a port (int, on host) or a "
            f"'host:port' string; received workers={workers!r}."
        )
    workers = list(workers)
    if not workers:
        raise ValueError("workers must name at least one worker; received an empty list.")
    addresses = []
    for item in workers:
        if isinstance(item, int) and not isinstance(item, bool):
            if not 0 < item < 65536:
                raise ValueError(f"A port must be in 1..65535; received {item!r}.")
            addresses.append(f"{host}:{item}")
        elif isinstance(item, str) and re.fullmatch(r"\S+:[0-9]{1,5}", item):
            addresses.append(item)
        else:
            raise ValueError(
                f"A worker must be a port (int) or a 'host:port' string; received {item!r}."
            )
    if len(set(addresses)) != len(addresses):
        raise ValueError(f"Worker addresses must be distinct; received {addresses}.")
    return addresses


def worker_config(index: int, workers: Sequence[int | str], host: str = LOOPBACK) -> dict[str, Any]:
    """Build the ``TF_CONFIG`` dict of worker ``index`` in a cluster of workers.

    Args:
        index: this worker's position, ``0 <= index < len(workers)``; worker 0 is the chief.
        workers: one entry per worker: a port (int, on ``host``) or a ``'host:port'`` string.
            For a local cluster use ``free_ports(n)``.
        host: the host of entries given as bare ports; the loopback address by default.

    Returns:
        ``{"cluster": {"worker": [...]}, "task": {"type": "worker", "index": index}}``.

    Raises:
        ValueError: for an index out of range, or malformed or repeated addresses.

    Example:
        >>> from tfq_layers.distribute import worker_config
        >>> config = worker_config(1, [12345, 12346])
        >>> config["cluster"]
        {'worker': ['127.0.0.1:12345', '127.0.0.1:12346']}
        >>> config["task"]
        {'type': 'worker', 'index': 1}
    """
    addresses = _addresses(workers, host)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(addresses):
        raise ValueError(
            f"index must be an int in [0, {len(addresses) - 1}] for {len(addresses)} workers; "
            f"received index={index!r}."
        )
    return {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}


def tf_config(index: int, workers: Sequence[int | str], host: str = LOOPBACK) -> str:
    """:func:`worker_config` as the JSON string for the ``TF_CONFIG`` environment variable.

    Args:
        index: this worker's position (worker 0 is the chief).
        workers: ports or ``'host:port'`` strings, one per worker.
        host: the host of bare ports.

    Returns:
        A JSON string.

    Example:
        >>> import os
        >>> from tfq_layers.distribute import tf_config
        >>> os.environ["TF_CONFIG"] = tf_config(0, [12345, 12346])  # doctest: +SKIP
    """
    return json.dumps(worker_config(index, workers, host=host))


def _task():
    raw = os.environ.get("TF_CONFIG", "").strip()
    if not raw:
        return {}, {}
    try:
        config = json.loads(raw)
        cluster, task = config.get("cluster") or {}, config.get("task") or {}
    except (ValueError, AttributeError):
        raise ValueError(
            f"TF_CONFIG must be a JSON object like tfq_layers.distribute.tf_config(0, [port0, "
            f"port1]) returns; received TF_CONFIG={raw!r}."
        ) from None
    return cluster, task


def is_worker() -> bool:
    """Whether this process is one task of a cluster (``TF_CONFIG`` names a cluster and task).

    Example:
        >>> from tfq_layers.distribute import is_worker
        >>> isinstance(is_worker(), bool)
        True
    """
    cluster, task = _task()
    return bool(cluster) and bool(task)


def num_workers() -> int:
    """Number of training tasks (workers and chief) in ``TF_CONFIG``; 1 without it.

    Example:
        >>> from tfq_layers.distribute import num_workers
        >>> num_workers() >= 1
        True
    """
    cluster, _ = _task()
    if not cluster:
        return 1
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def worker_index() -> int:
    """This task's index in ``TF_CONFIG`` (0 without it).

    Example:
        >>> from tfq_layers.distribute import worker_index
        >>> worker_index() >= 0
        True
    """
    _, task = _task()
    return int(task.get("index", 0))


def is_chief() -> bool:
    """Whether this process should write shared outputs (exports, plots, final reports).

    True for a single process, for the task of type ``chief``, and for worker 0 of a cluster
    without a chief (TensorFlow's convention). Weights are identical on every worker after
    ``fit``, so saving on the chief alone is enough.

    Example:
        >>> from tfq_layers.distribute import is_chief
        >>> isinstance(is_chief(), bool)
        True
    """
    cluster, task = _task()
    if not task:
        return True
    if task.get("type") == "chief":
        return True
    return (
        task.get("type") == "worker" and int(task.get("index", 0)) == 0 and not cluster.get("chief")
    )


# --------------------------------------------------------------------------------------------
# Launching local workers
# --------------------------------------------------------------------------------------------

# Runs first in every worker (python -c BOOTSTRAP kind target args...): creates the strategy while
# TensorFlow is still uninitialised, leaves it for multi_worker_strategy(), then runs the target
# as __main__ like `python -m target` or `python target.py` would.
_BOOTSTRAP = f"""
import os, runpy, sys, types
import tensorflow as tf
_communication = os.environ.get("TFQ_LAYERS_COMMUNICATION", "auto")
_implementation = getattr(tf.distribute.experimental.CommunicationImplementation,
                          _communication.upper())
_module = types.ModuleType({_LAUNCHER_MODULE!r})
_module.communication = _communication
_module.strategy = tf.distribute.MultiWorkerMirroredStrategy(
    communication_options=tf.distribute.experimental.CommunicationOptions(
        implementation=_implementation))
sys.modules[{_LAUNCHER_MODULE!r}] = _module
_kind, _target, _args = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.argv = [_target, *_args]
if _kind == "module":
    runpy.run_module(_target, run_name="__main__", alter_sys=True)
else:
    sys.path[0] = os.path.dirname(os.path.abspath(_target))
    runpy.run_path(_target, run_name="__main__")
"""


class WorkerResult:
    """What one worker process did.

    Attributes:
        index: the worker's index.
        returncode: its exit code (negative: stopped by that signal).
        output: everything it printed, stdout and stderr interleaved.
        timed_out: ``True`` if the launcher stopped it at the time limit.
        stopped: ``True`` if the launcher stopped it because another worker had failed.
    """

    def __init__(
        self,
        index: int,
        returncode: int,
        output: str,
        timed_out: bool = False,
        stopped: bool = False,
    ) -> None:
        self.index = index
        self.returncode = returncode
        self.output = output
        self.timed_out = timed_out
        self.stopped = stopped

    def __repr__(self) -> str:
        return (
            f"WorkerResult(index={self.index}, returncode={self.returncode}, "
            f"timed_out={self.timed_out}, stopped={self.stopped}, "
            f"output=<{len(self.output)} chars>)"
        )


def _target_kind(target, cwd=None):
    """('module', name) or ('script', absolute path) for a launch target."""
    if not isinstance(target, str) or not target.strip():
        raise ValueError(
            "target must be a module name ('models.hybrid_classifier') or a script path "
            f"('train.py'); received target={target!r}."
        )
    if target.endswith(".py") or os.path.sep in target:
        base = os.getcwd() if cwd is None else os.path.abspath(cwd)
        path = os.path.join(base, target)  # an absolute target stays as it is
        if not os.path.isfile(path):
            raise ValueError(f"Script {target!r} does not exist (relative to {base!r}).")
        return "script", path
    if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*", target):
        raise ValueError(f"{target!r} is neither a module name nor a path to a .py script.")
    return "module", target


def launch_workers(
    target: str,
    n_workers: int,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cwd: str | None = None,
    stream: TextIO | None = None,
    log_dir: str | None = None,
    grace: float = 10.0,
    communication: str = "auto",
    host: str = LOOPBACK,
) -> list[WorkerResult]:
    """Run a Python module or script as ``n_workers`` local processes forming one cluster.

    Each worker gets ``TF_CONFIG`` for its index (ports from :func:`free_ports` on ``host``),
    creates its ``MultiWorkerMirroredStrategy`` at start-up (so the target may import
    ``tfq_layers`` first and call :func:`multi_worker_strategy` later), then runs the target as
    ``__main__`` with ``args`` as its command line. If a worker fails, the others would wait in a
    collective op forever, so they are stopped ``grace`` seconds later.

    Args:
        target: a module name (``"models.hybrid_classifier"``, run like ``python -m``) or the
            path of a ``.py`` script.
        n_workers: number of worker processes, a positive int.
        args: the target's command-line arguments (a list of strings).
        env: environment of the workers (default ``os.environ``); ``TF_CONFIG`` is added.
        timeout: seconds after which remaining workers are stopped (``None``: no limit).
        cwd: working directory of the workers (module targets are found relative to it).
        stream: a text file (e.g. ``sys.stdout``) to echo each output line to as it arrives,
            prefixed with ``[worker i]``; ``None`` to stay quiet.
        log_dir: if given, worker ``i``'s output is also written to ``log_dir/worker{i}.log``.
        grace: seconds the other workers get after one fails before they are stopped.
        communication: ``"auto"``, ``"ring"`` or ``"nccl"``, for the start-up strategy.
        host: the address the workers listen on; keep the loopback address for local runs.

    Returns:
        A list of :class:`WorkerResult`, in worker order.

    Raises:
        ValueError: for a bad target, ``n_workers``, ``timeout`` or ``communication``.

    Example:
        >>> from tfq_layers.distribute import launch_workers               # doctest: +SKIP
        >>> results = launch_workers(                                      # doctest: +SKIP
        ...     "train.py", 2, args=["--epochs", "2"], timeout=600)
        >>> [r.returncode for r in results]                                # doctest: +SKIP
        [0, 0]
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive int; received n_workers={n_workers!r}.")
    if timeout is not None and not (
        isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0
    ):
        raise ValueError(f"timeout must be a positive number or None; received {timeout!r}.")
    if isinstance(args, str) or not all(isinstance(arg, str) for arg in args):
        raise ValueError(f"args must be a list of strings; received args={args!r}.")
    communication = _check_communication(communication)
    kind, target = _target_kind(target, cwd)
    command = [sys.executable, "-c", _BOOTSTRAP, kind, target, *args]
    ports = free_ports(n_workers, host=host)
    base_env = dict(os.environ if env is None else env)
    if log_dir:
        os.makedirs(log_dir, exist_ok=True)

    procs, outputs, readers, lock = [], [], [], threading.Lock()
    for index in range(n_workers):
        worker_env = dict(base_env)
        worker_env["TF_CONFIG"] = tf_config(index, ports, host=host)
        worker_env["TFQ_LAYERS_COMMUNICATION"] = communication
        worker_env.setdefault("PYTHONUNBUFFERED", "1")
        proc = subprocess.Popen(
            command,
            env=worker_env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            start_new_session=True,  # its own process group: stoppable with its children
        )
        procs.append(proc)
        outputs.append([])
        log = open(os.path.join(log_dir, f"worker{index}.log"), "w") if log_dir else None
        reader = threading.Thread(
            target=_pump, args=(proc, outputs[index], index, log, stream, lock), daemon=True
        )
        reader.start()
        readers.append(reader)

    deadline = None if timeout is None else time.monotonic() + timeout
    failed_at = None
    timed_out = [False] * n_workers
    stopped = [False] * n_workers
    while any(proc.poll() is None for proc in procs):
        now = time.monotonic()
        if failed_at is None and any(proc.poll() not in (None, 0) for proc in procs):
            failed_at = now
        late = deadline is not None and now > deadline
        if late or (failed_at is not None and now > failed_at + grace):
            for index, proc in enumerate(procs):
                if proc.poll() is None:
                    timed_out[index], stopped[index] = late, not late
                    _stop(proc)
            break
        time.sleep(0.05)
    for proc in procs:
        proc.wait()
    for reader in readers:
        reader.join(timeout=5)
    return [
        WorkerResult(
            index, proc.returncode, "".join(outputs[index]), timed_out[index], stopped[index]
        )
        for index, proc in enumerate(procs)
    ]


def _pump(proc, sink, index, log, stream, lock):
    """Copy a worker's output lines into ``sink`` (and the log file and stream)."""
    try:
        for line in proc.stdout:
            sink.append(line)
            if log is not None:
                log.write(line)
            if stream is not None:
                with lock:
                    stream.write(f"[worker {index}] {line}")
                    stream.flush()
    finally:
        proc.stdout.close()
        if log is not None:
            log.close()


def _stop(proc):
    """Stop a worker's process group: SIGINT, then SIGKILL if it is still there after 3 s.

    Not SIGTERM: a worker's TensorFlow coordination service catches it (preemption notice).
    """
    for sig in (signal.SIGINT, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=3)
            return
        except subprocess.TimeoutExpired:
            continue


def _current_target():
    """(target, args) that re-run this program: its module name, or its script path."""
    main_module = sys.modules.get("__main__")
    spec = getattr(main_module, "__spec__", None)
    if spec is not None and spec.name:
        name = spec.name
        if name.endswith(".__main__"):
            name = name[: -len(".__main__")]
        return name, list(sys.argv[1:])
    script = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if not script or script == "-c" or not os.path.isfile(script):
        raise RuntimeError(
            "relaunch() needs a program started as `python -m module` or `python script.py`; "
            f"this one was started with sys.argv[0]={script!r}. Use launch_workers(target, n)."
        )
    return script, list(sys.argv[1:])


def _exit_status(results):
    """0 if all succeeded; else the exit code of the first worker that failed by itself."""
    failed = [r for r in results if r.returncode != 0 and not (r.timed_out or r.stopped)]
    if failed:
        return failed[0].returncode if failed[0].returncode > 0 else 1
    return 1 if any(r.returncode != 0 for r in results) else 0


def relaunch(
    n_workers: int,
    timeout: float | None = None,
    stream: TextIO | str | None = "stdout",
    log_dir: str | None = None,
    communication: str = "auto",
) -> int:
    """Re-run the current program as ``n_workers`` local workers and return their exit status.

    The one-liner behind a ``--workers N`` option of a training script::

        args = parser.parse_args()
        if args.workers > 1 and not distribute.is_worker():
            sys.exit(distribute.relaunch(args.workers))
        strategy = distribute.multi_worker_strategy() if distribute.is_worker() else None

    The workers run the same command line (a ``python -m pkg.mod`` program stays a module run)
    with ``TF_CONFIG`` set, so :func:`is_worker` is ``True`` in them and they do not relaunch.

    Args:
        n_workers: number of local workers, a positive int.
        timeout: seconds after which the workers are stopped (``None``: no limit).
        stream: a text file where worker output is echoed with a ``[worker i]`` prefix; the
            default ``"stdout"`` means ``sys.stdout`` at call time; ``None``: quiet.
        log_dir: optional directory for ``worker{i}.log`` files.
        communication: ``"auto"``, ``"ring"`` or ``"nccl"``.

    Returns:
        0 if every worker exited with 0, else the first non-zero exit code (1 for a timeout).

    Raises:
        RuntimeError: if called inside a worker (``TF_CONFIG`` is set), or if the program was
            not started as a module or a script.

    Example:
        >>> import sys                                           # doctest: +SKIP
        >>> from tfq_layers import distribute                   # doctest: +SKIP
        >>> if not distribute.is_worker():                      # doctest: +SKIP
        ...     sys.exit(distribute.relaunch(2))
    """
    if is_worker():
        raise RuntimeError(
            "relaunch() was called inside a worker (TF_CONFIG is set); guard it with "
            "`if not distribute.is_worker():` so workers do not start workers."
        )
    target, args = _current_target()
    if isinstance(stream, str) and stream == "stdout":
        stream = sys.stdout
    results = launch_workers(
        target,
        n_workers,
        args=args,
        timeout=timeout,
        stream=stream,
        log_dir=log_dir,
        communication=communication,
    )
    return _exit_status(results)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m tfq_layers.distribute --workers N -- <target> [args...]``.

    ``<target>`` is a module name (run like ``python -m <target>``; a leading ``-m`` is
    accepted) or a ``.py`` script path. Each worker's output is echoed with a ``[worker i]``
    prefix. The exit status is 0 when every worker succeeds.

    Args:
        argv: the arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status.

    Example:
        >>> from tfq_layers.distribute import main                       # doctest: +SKIP
        >>> main(["--workers", "2", "--", "train.py", "--epochs", "2"])  # doctest: +SKIP
        0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" in argv:
        split = argv.index("--")
        own, program = argv[:split], argv[split + 1 :]
    else:
        own, program = argv, []
    parser = argparse.ArgumentParser(
        prog="python -m tfq_layers.distribute",
        description="Run a training program as N local TensorFlow workers "
        "(MultiWorkerMirroredStrategy over 127.0.0.1), e.g. "
        "python -m tfq_layers.distribute --workers 2 -- models.hybrid_classifier --epochs 3",
    )
    parser.add_argument("--workers", type=int, default=2, help="number of workers (default 2)")
    parser.add_argument("--timeout", type=float, default=None, help="stop workers after S s")
    parser.add_argument("--log-dir", default=None, help="also write worker{i}.log files here")
    parser.add_argument(
        "--communication", default="auto", choices=_COMMUNICATIONS, help="collective ops"
    )
    parser.add_argument("--quiet", action="store_true", help="do not echo worker output")
    options = parser.parse_args(own)
    if program[:1] == ["-m"]:
        program = program[1:]
    if not program:
        parser.error("give the program after '--', e.g. -- models.hybrid_classifier --epochs 3")
    if options.workers < 1:
        parser.error(f"--workers must be >= 1; received {options.workers}")
    try:
        results = launch_workers(
            program[0],
            options.workers,
            args=program[1:],
            timeout=options.timeout,
            stream=None if options.quiet else sys.stdout,
            log_dir=options.log_dir,
            communication=options.communication,
        )
    except ValueError as err:
        parser.error(str(err))
    summary = ", ".join(
        f"worker {r.index}: "
        + ("timed out" if r.timed_out else "stopped" if r.stopped else f"exit {r.returncode}")
        for r in results
    )
    print(f"[tfq_layers.distribute] {summary}", file=sys.stderr)
    return _exit_status(results)


if __name__ == "__main__":
    sys.exit(main())
