"""Work around tf_keras 2.18.0's seeding on Python 3.12 (legacy lane only).

After ``tf_keras.utils.set_random_seed(s)``, tf_keras draws every layer's initializer seed with
``_SEED_GENERATOR.generator.randint(1, 1e9)`` (``tf_keras/src/backend.py``,
``tf_keras/src/utils/tf_utils.py``). ``random.randint`` stopped accepting floats in Python 3.12,
so building any layer with a seeded initializer then raises ``TypeError: 'float' object cannot be
interpreted as an integer``. Python 3.10 and 3.11 accept the float.

:func:`apply` gives ``tf_utils`` a ``random`` module whose ``Random`` class and ``randint`` take
integral floats, and converts a generator that ``set_random_seed`` already created (on the
calling thread) to that class, keeping its state. The numbers drawn are the ones Python 3.11
draws for the same seed. It changes nothing on Python < 3.12 or when tf_keras is not used, and
does nothing if tf_keras's internals are not what it expects.
"""

from __future__ import annotations

import random
import sys
import types

_MARK = "_tfq_layers_integral_randint"


def _integral(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class IntegralRandom(random.Random):
    """``random.Random`` whose ``randint`` takes integral floats, as before Python 3.12."""

    def randint(self, a, b):
        return super().randint(_integral(a), _integral(b))


def _randint(a, b):
    return random.randint(_integral(a), _integral(b))


def needed() -> bool:
    """Whether this Python rejects float bounds in ``random.randint`` (3.12 and later)."""
    return sys.version_info >= (3, 12)


def apply() -> bool:
    """Install the workaround in tf_keras; returns whether it is in effect."""
    if not needed():
        return False
    try:
        from tf_keras.src import backend
        from tf_keras.src.utils import tf_utils
    except ImportError:
        return False
    if not getattr(tf_utils.random, _MARK, False):
        shim = types.ModuleType("random")
        shim.__dict__.update(random.__dict__)
        shim.Random = IntegralRandom
        shim.randint = _randint
        setattr(shim, _MARK, True)
        tf_utils.random = shim
    seeds = getattr(backend, "_SEED_GENERATOR", None)
    current = getattr(seeds, "generator", None)
    if current is not None and not isinstance(current, IntegralRandom):
        replacement = IntegralRandom()
        replacement.setstate(current.getstate())
        seeds.generator = replacement
    return True
