"""Running Python code in a fresh process that imports this copy of ``tfq_layers``.

The helper behind "reload the export in a fresh process" (:func:`models._export.
serve_export_in_fresh_process`).
"""

import os
import subprocess
import sys

from ._runtime import ROOT

__all__ = ["run_python"]


def run_python(code, args=(), env_extra=None, timeout=600, cwd=None):
    """Run ``python -c code args...`` in a new process and return its standard output.

    The child finds this checkout's ``tfq_layers`` and ``models`` first (``PYTHONPATH`` starts
    with the repository root when running from a source checkout) and keeps TensorFlow's C++
    start-up lines quiet (``TF_CPP_MIN_LOG_LEVEL=2`` unless set).

    Args:
        code: Python source to run.
        args: the child's command-line arguments (``sys.argv[1:]``), strings.
        env_extra: environment variables to add or override.
        timeout: seconds before the child is killed (``subprocess.TimeoutExpired``).
        cwd: working directory; default the repository root (a source checkout) or this one.

    Returns:
        The child's standard output.

    Raises:
        RuntimeError: if the child exits with a non-zero status; the message holds the end of
            its standard output and standard error.

    Example:
        >>> run_python("print(6 * 7)")
        '42\\n'
    """
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if ROOT is not None:
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd or ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"a fresh Python process failed (exit {proc.returncode}):\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        )
    return proc.stdout
