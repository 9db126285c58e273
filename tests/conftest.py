"""Shared set-up of the tests: the project on ``sys.path`` and fixtures every module may use.

Fixtures:

* ``backend``: each simulator backend in turn (``"tfq"``, then ``"statevector"``); a test that
  takes it runs once per backend. A test's own ``@pytest.mark.parametrize("backend", ...)``
  still overrides it.
* ``make_layer``: ``make_layer(cls, *args, **kwargs)`` builds ``cls`` (a layer or model taking
  ``backend=``) on the current ``backend``.

The independent references (Cirq's simulators in float64, central finite differences, the
fresh-process runner) are plain functions in ``tests/reference.py``: ``import reference``.
"""

import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

#: The simulator backends every layer supports.
BACKENDS = ("tfq", "statevector")


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The name of one simulator backend; tests using it run once per backend."""
    return request.param


@pytest.fixture
def make_layer(backend):
    """A factory for layers (or models) on the current ``backend``."""

    def make(cls, *args, **kwargs):
        return cls(*args, backend=backend, **kwargs)

    return make
