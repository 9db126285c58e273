"""The Keras 3 multi-worker fix: wrappers for two functions of Keras's TensorFlow trainer.

The root cause and what the wrappers change are described in :mod:`tfq_layers.distribute`.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import warnings
from collections.abc import Iterator

_TRAINER_MODULE = "keras.src.backend.tensorflow.trainer"


def _legacy():
    from tfq_layers._keras import LEGACY

    return LEGACY


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


def install_on_import() -> bool:
    """What ``import tfq_layers`` calls: install the fix when it can apply, silently otherwise.

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
