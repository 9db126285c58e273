"""In-graph checks of input tensors, made cheap for eager calls.

A check (e.g. :func:`tfq_layers.backends.quantum_data.checked`) decodes serialized circuits with
hundreds of small TensorFlow ops. Inside a graph they run as one graph; called eagerly they would
run op by op, each call. :class:`CheckOnce` runs them eagerly as one traced function, and only
for content it has not seen pass: a constant circuit tensor fed to every call is checked once.
"""

import hashlib

import numpy as np

from tfq_layers._digests import DigestTable

__all__ = ["CheckOnce"]


def _digest(array):
    """A digest of a string array's shape and every element (length-prefixed, so that no two
    different arrays share the bytes hashed)."""
    h = hashlib.blake2b(digest_size=20)
    h.update(repr(array.shape).encode())
    for item in array.reshape(-1):
        item = item if isinstance(item, bytes) else str(item).encode()
        h.update(len(item).to_bytes(8, "little"))
        h.update(item)
    return h.digest()


class CheckOnce:
    """``check(tensor) -> tensor`` (the tensor behind assertions), cheap when called eagerly.

    The check is one ``tf.function``, traced once (per input rank) and called by every graph
    that checks (``model.fit``'s, ``predict``'s, exports). Called eagerly, a tensor whose
    content already passed is returned at once. ``limit`` bounds the contents remembered
    (least recently used first out).

    Args:
        check: a function of one 1-D tensor returning it behind its checks (raising
            ``tf.errors.InvalidArgumentError`` when a check fails), row by row: a tensor passes
            if and only if each of its rows would pass alone (so repeated rows are checked once).
        limit: how many passed contents to remember.
        host: optional ``host(values) -> bool``: for an eager call, whether every element of the
            NumPy array ``values`` passes, decided in Python without tracing the check. It must
            never pass what ``check`` refuses; ``False`` (refused, or not known) runs ``check``.

    Example:
        >>> import tensorflow as tf
        >>> def positive(x):
        ...     with tf.control_dependencies([tf.debugging.assert_positive(x)]):
        ...         return tf.identity(x)
        >>> CheckOnce(positive)(tf.constant([1.0, 2.0])).shape
        TensorShape([2])
    """

    def __init__(self, check, limit=1024, host=None):
        self._check = check
        self._host = host
        self._graph = None
        self._passed = DigestTable(limit)  # digests of the contents that passed
        self.graph_runs = 0  # eager contents checked by the traced check
        self.host_runs = 0  # eager contents that ``host`` passed (no trace, no graph run)

    def __call__(self, tensor):
        import tensorflow as tf

        if self._graph is None:
            self._graph = tf.function(self._check, autograph=False, reduce_retracing=True)
        if not tf.executing_eagerly() or not hasattr(tensor, "numpy"):
            # traced once, shared by every graph that checks; each distinct row checked once
            checked = self._graph(tf.unique(tf.reshape(tensor, [-1])).y)
            with tf.control_dependencies([checked]):
                return tf.identity(tensor)
        value = np.asarray(tensor.numpy())
        key = _digest(value)
        if self._passed.get(key):
            return tensor
        if self._host is not None and self._host(value.reshape(-1)):
            self.host_runs += 1
            self._remember(key)
            return tensor
        try:
            out = self._graph(tensor)
        except (tf.errors.InvalidArgumentError, tf.errors.DataLossError):
            # again op by op, for the errors eager calls give (their messages name elements):
            # raises, and nothing is remembered
            return self._check(tensor)
        self.graph_runs += 1
        self._remember(key)
        return out

    def _remember(self, key):
        self._passed.put(key, True)
