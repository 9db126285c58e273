"""``DigestTable``: a bounded, thread-safe table keyed by digests of byte strings (no package
imports, so any module may hold one from import time)."""

import collections
import hashlib
import threading

__all__ = ["DigestTable"]


class DigestTable:
    """A bounded, thread-safe table keyed by a 20-byte BLAKE2b digest of ``bytes`` (never the
    bytes themselves, so its memory does not grow with their size); least recently used out.

    Args:
        limit: how many entries it holds.

    Example:
        >>> table = DigestTable(2)
        >>> table.put(b"circuit bytes", "summary")
        >>> table.get(b"circuit bytes"), table.get(b"other bytes")
        ('summary', None)
    """

    def __init__(self, limit):
        self._limit = int(limit)
        self._entries = collections.OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(raw):
        return hashlib.blake2b(raw, digest_size=20).digest()

    def get(self, raw):
        """The value put for ``raw`` (``None`` is never stored), or ``None``."""
        key = self._key(raw)
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, raw, value):
        """Keep ``value`` (not ``None``) for ``raw``, dropping the least recently used beyond the
        limit."""
        key = self._key(raw)
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)
