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
takes care of this: each worker starts with :mod:`tfq_layers.distribute.bootstrap`, which creates
the strategy and then runs the target program, in which :func:`multi_worker_strategy` returns that strategy. A program
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

Modules
-------
``keras_fix`` (the Keras 3 fix), ``strategy`` (:func:`multi_worker_strategy`), ``cluster``
(``TF_CONFIG``), ``launcher`` (local workers and the command line), ``bootstrap`` (the first code
each launched worker runs) and ``__main__`` (``python -m tfq_layers.distribute``). Everything
public is importable from ``tfq_layers.distribute`` itself.
"""

from tfq_layers.distribute.cluster import (
    LOOPBACK as LOOPBACK,  # not in __all__, as before
    free_ports,
    is_chief,
    is_worker,
    num_workers,
    tf_config,
    worker_config,
    worker_index,
)
from tfq_layers.distribute.keras_fix import (
    install_multi_worker_fix,
    install_on_import as install_on_import,  # called by `import tfq_layers`
    multi_worker_fix,
    multi_worker_fix_installed,
    uninstall_multi_worker_fix,
)
from tfq_layers.distribute.launcher import WorkerResult, launch_workers, main, relaunch
from tfq_layers.distribute.strategy import multi_worker_strategy

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
