"""tfq_layers: Keras layers and models for hybrid quantum-classical machine learning.

Where TensorFlow Quantum is installed, importing this package also registers its op libraries with
TensorFlow (without importing TFQ's Python package), so SavedModels that contain TFQ ops load in a
fresh process. TFQ is optional: without it, or when its libraries do not load against the
installed TensorFlow, the import works and the statevector backend runs everything
(``tfq_layers.backends.why_not("tfq")`` says why TFQ cannot).
TFQ's layer family on Keras 3 lives in ``tfq_layers.compat.layers``.

TensorFlow's C++ start-up lines (CUDA plugin and driver messages, oneDNN and CPU-feature
notices) are kept off the terminal when this package imports TensorFlow, and
``TF_CPP_MIN_LOG_LEVEL`` defaults to ``2`` (TF's C++ INFO and WARNING lines hidden, errors shown).
``TF_CPP_MIN_LOG_LEVEL=0`` (or ``1``) before the import turns this off and shows every line;
importing TensorFlow before this package makes it moot. See :mod:`tfq_layers._quiet`. The import
does not initialise TensorFlow's runtime: ``tf.config`` calls (devices, threads, memory growth)
after ``import tfq_layers`` still work.

With Keras 3 the import also installs :func:`tfq_layers.distribute.install_multi_worker_fix`,
which does nothing unless a ``MultiWorkerMirroredStrategy`` spans several workers (opt out with
``TFQ_LAYERS_MULTI_WORKER_FIX=0``).

``python -m tfq_layers.<module>`` (a zoo recipe, the migration tool, the multi-worker launcher)
imports this package before it runs the module. Then the start-up above waits until the program
first uses the package's API (``from tfq_layers import PQC``, ``tfq_layers.circuits``), so such a
command answers ``--help`` at once, without importing TensorFlow.
"""

import importlib
import sys

# Python sets sys.argv[0] to "-m" while it imports the packages of a module it is about to run.
_start_now = globals().get("_start_now", False) or sys.argv[:1] != ["-m"]
if _start_now:
    globals().pop("__getattr__", None)
    from tfq_layers._quiet import filtered_startup_stderr as _filtered_startup_stderr
    from tfq_layers._quiet import quiet_gradient_function_warnings as _quiet_gradient_warnings

    with _filtered_startup_stderr():
        from tfq_layers import circuits, datasets, distribute, export, metrics, saving
        from tfq_layers.backends import load_tfq_ops as _load_tfq_ops
        from tfq_layers.generative import BornMachine, GenerativeModel, QuantumBoltzmannMachine
        from tfq_layers.layers import PQC, PQCProbabilities, PQCSample, PQCState, PQCUnitary
        from tfq_layers.program import CircuitError, Program
        from tfq_layers.serialization import SerializationError

        _load_tfq_ops()
    distribute.install_on_import()
    _quiet_gradient_warnings()

else:

    def __getattr__(name):
        """The first use of the API starts the package (re-running this file eagerly)."""
        global _start_now
        if name.startswith("__"):
            raise AttributeError(name)
        _start_now = True
        module = importlib.reload(sys.modules[__name__])
        return getattr(module, name)


from tfq_layers._version import version as _version  # noqa: E402

__version__ = _version()
__all__ = [
    "PQC",
    "PQCProbabilities",
    "PQCSample",
    "PQCState",
    "PQCUnitary",
    "BornMachine",
    "QuantumBoltzmannMachine",
    "GenerativeModel",
    "Program",
    "CircuitError",
    "SerializationError",
    "circuits",
    "datasets",
    "metrics",
    "saving",
    "export",
    "__version__",
]
