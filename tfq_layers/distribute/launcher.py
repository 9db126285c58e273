"""Running a program as N local worker processes, and the command line behind
``python -m tfq_layers.distribute``.

Each worker starts with :mod:`tfq_layers.distribute.bootstrap` (run by its path), which creates
the worker's strategy before anything initialises TensorFlow and then runs the target program.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TextIO

from tfq_layers.distribute import bootstrap
from tfq_layers.distribute.bootstrap import COMMUNICATION_ENV, COMMUNICATIONS, check_communication
from tfq_layers.distribute.cluster import LOOPBACK, free_ports, is_worker, tf_config


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
    _check_launch_arguments(n_workers, timeout, args)
    communication = check_communication(communication)
    kind, target = _target_kind(target, cwd)
    command = [sys.executable, os.path.abspath(bootstrap.__file__), kind, target, *args]
    ports = free_ports(n_workers, host=host)
    base_env = dict(os.environ if env is None else env)
    if log_dir:
        os.makedirs(log_dir, exist_ok=True)

    procs, outputs, readers, lock = [], [], [], threading.Lock()
    for index in range(n_workers):
        worker_env = dict(base_env)
        worker_env["TF_CONFIG"] = tf_config(index, ports, host=host)
        worker_env[COMMUNICATION_ENV] = communication
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

    timed_out, stopped = _supervise(procs, timeout, grace)
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


def _check_launch_arguments(n_workers, timeout, args):
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be a positive int; received n_workers={n_workers!r}.")
    if timeout is not None and not (
        isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0
    ):
        raise ValueError(f"timeout must be a positive number or None; received {timeout!r}.")
    if isinstance(args, str) or not all(isinstance(arg, str) for arg in args):
        raise ValueError(f"args must be a list of strings; received args={args!r}.")


def _supervise(procs, timeout, grace):
    """Wait for the workers; stop the rest at the deadline or ``grace`` seconds after one fails.
    Returns ``(timed_out, stopped)`` flags per worker."""
    n_workers = len(procs)
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
    return timed_out, stopped


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


def exit_status(results: Sequence[WorkerResult]) -> int:
    """The exit status of a launch: what :func:`relaunch` and the command line return.

    Args:
        results: what :func:`launch_workers` returned.

    Returns:
        0 if every worker exited with 0; else the exit code of the first worker that failed by
        itself (not stopped by the launcher), or 1 if there is none or that code is a signal's.
    """
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
    return exit_status(results)


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
        "--communication", default="auto", choices=COMMUNICATIONS, help="collective ops"
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
    return exit_status(results)
