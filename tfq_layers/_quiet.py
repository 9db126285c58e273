"""Keep TensorFlow's C++ start-up lines off the terminal while ``tfq_layers`` imports it.

Importing TensorFlow 2.18 (and initialising its runtime, which importing TensorFlow Quantum does)
writes a handful of lines straight to file descriptor 2 from C++: CUDA plugin registration
errors, "Could not find cuda drivers", a ``cuInit`` failure on machines without a GPU, the oneDNN
and CPU-feature notices, and absl's "All log messages before absl::InitializeLog()". Some of them
come from absl, which ``TF_CPP_MIN_LOG_LEVEL`` does not govern, so an environment variable alone
cannot hide them.

:func:`filtered_startup_stderr` sends descriptor 2 to a temporary file for the duration of the
import, then writes everything back except lines that match :data:`STARTUP_NOISE`. Python
warnings and tracebacks written in that window are kept, in their order.

It stands aside (the lines print as TensorFlow writes them) when:

* TensorFlow was imported before ``tfq_layers``: the lines have already been printed;
* ``TF_CPP_MIN_LOG_LEVEL`` is ``0`` or ``1``: the user asked to see TensorFlow's messages
  (``TF_CPP_MIN_LOG_LEVEL=0`` shows every line again);
* the process has no file descriptor 2.

It works on descriptor 2 itself, not on ``sys.stderr``: TensorFlow's C++ code writes there
directly. In Jupyter (ipykernel forwards descriptor 2 into the cell's output) that keeps the lines
out of the notebook as well.

XLA prints a few more lines at its first compilation in a process. Importing ``tfq_layers`` does
not compile anything (an import that initialised TensorFlow's runtime would stop the user's
``tf.config`` calls from working): :func:`quiet_xla_start` compiles one tiny function with those
lines filtered the same way, once, when the first backend is built.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator

# One pattern per kind of line TensorFlow 2.18 prints at start-up on a CPU-only Linux machine, and
# the XLA lines it prints once per process at the first compilation (see :func:`warm_up_xla`).
STARTUP_NOISE = re.compile(
    rb"Unable to register cu(?:FFT|DNN|BLAS) factory"
    rb"|All log messages before absl::InitializeLog\(\) is called"
    rb"|Could not find cuda drivers on your machine"
    rb"|failed call to cuInit"
    rb"|oneDNN custom operations are on"
    rb"|This TensorFlow binary is optimized to use available CPU instructions"
    rb"|^To enable the following instructions: .* rebuild TensorFlow"
    rb"|XLA service 0x[0-9a-f]+ initialized for platform"
    rb"|StreamExecutor device \(\d+\): Host, Default Version"
    rb"|Compiled cluster using XLA!"
)


def warm_up_xla() -> None:
    """Compile one tiny XLA function, so XLA's once-per-process start-up lines print now.

    The statevector backend compiles with XLA; the first compilation in a process logs three
    INFO lines through absl, which ``TF_CPP_MIN_LOG_LEVEL`` does not silence. Called inside
    :func:`filtered_startup_stderr`, those lines are dropped with the other start-up lines.
    It initialises TensorFlow's runtime: never call it at import (see :func:`quiet_xla_start`).
    """
    import tensorflow as tf

    try:
        with tf.init_scope():  # eagerly, also when the first backend is built inside a trace
            tf.function(lambda x: x + 1.0, jit_compile=True)(tf.constant(0.0))
    except Exception:  # no XLA here: nothing to warm up, and a build must not fail for it
        pass


_XLA_STARTED = False


def quiet_xla_start() -> None:
    """The first time it is called in a process, :func:`warm_up_xla` with XLA's start-up lines
    filtered from descriptor 2 (unless ``TF_CPP_MIN_LOG_LEVEL`` is ``0`` or ``1``, or there is no
    descriptor 2). Called when a backend is built, so the import leaves the runtime alone."""
    global _XLA_STARTED
    if _XLA_STARTED:
        return
    _XLA_STARTED = True
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2").strip() in ("0", "1") or not _fd2_open():
        return
    with filtered_fd2():
        warm_up_xla()


class _GradientFunctionWarning(logging.Filter):
    """Drops TensorFlow's "Importing a function ... with ops with unsaved custom gradients" warning
    when the function is itself a gradient (TF's ``internal_grad_fn`` of a ``tf.custom_gradient``,
    or the statevector backend's ``vjp_py``). The custom gradients of the forward functions are
    saved, so first-order gradients through a loaded SavedModel work; only a gradient of such a
    gradient (second order) is missing, which the warning's "will likely fail if a gradient is
    requested" misstates on every load."""

    _GRADIENT_FUNCTION = re.compile(r"internal_grad_fn|vjp_py")

    def filter(self, record):
        if "unsaved custom gradients" not in str(record.msg):
            return True
        name = str(record.args[0]) if isinstance(record.args, tuple) and record.args else ""
        return not self._GRADIENT_FUNCTION.search(name)


def quiet_gradient_function_warnings() -> None:
    """Install :class:`_GradientFunctionWarning` on absl's Python logger (once; Python logging
    only, TensorFlow's runtime is not touched)."""
    log = logging.getLogger("absl")
    if not any(isinstance(f, _GradientFunctionWarning) for f in log.filters):
        log.addFilter(_GradientFunctionWarning())


def _fd2_open() -> bool:
    try:
        os.fstat(2)
    except OSError:
        return False
    return True


def should_filter(environ: dict | None = None) -> bool:
    """Whether :func:`filtered_startup_stderr` would filter in this process right now."""
    environ = os.environ if environ is None else environ
    return (
        "tensorflow" not in sys.modules
        and environ.get("TF_CPP_MIN_LOG_LEVEL", "2").strip() not in ("0", "1")
        and _fd2_open()
    )


@contextlib.contextmanager
def filtered_startup_stderr() -> Iterator[bool]:
    """Run the body with TensorFlow's known start-up lines dropped from descriptor 2.

    Yields whether it filters (see :func:`should_filter`).

    Unless the variable was already set (or TensorFlow already imported), it also sets
    ``TF_CPP_MIN_LOG_LEVEL=2`` for the rest of the process: TF's C++ INFO and WARNING lines
    hidden, errors shown.
    """
    active = should_filter()
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not active:
        yield False
        return
    with filtered_fd2():
        yield True


def not_startup_noise(line: bytes) -> bool:
    """Whether a line written to descriptor 2 is kept: it matches none of :data:`STARTUP_NOISE`."""
    return not STARTUP_NOISE.search(line)


@contextlib.contextmanager
def filtered_fd2(keep: Callable[[bytes], bool] = not_startup_noise) -> Iterator[None]:
    """Descriptor 2 into a temporary file for the body; then the lines for which ``keep`` is true
    written back, in their order (the default drops TensorFlow's start-up lines;
    ``keep=lambda line: False`` drops everything). Without a descriptor 2 the body just runs.

    Args:
        keep: called on each captured line (bytes, with its line ending).
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2: nothing to capture
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().splitlines(keepends=True) if keep(line)]
            if kept:
                os.write(2, b"".join(kept))
