"""``TF_CONFIG``: free local ports, building the variable, and reading this task's place."""

from __future__ import annotations

import json
import os
import random
import re
import socket
from collections.abc import Sequence
from typing import Any

LOOPBACK = "127.0.0.1"


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
