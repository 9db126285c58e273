"""Shared set-up of the tests: the project on ``sys.path`` and fixtures every module may use.

Fixtures:

* ``backend``: each simulator backend in turn (``"tfq"``, then ``"statevector"``); a test that
  takes it runs once per backend. A test's own ``@pytest.mark.parametrize("backend", ...)``
  still overrides it.
* ``make_layer``: ``make_layer(cls, *args, **kwargs)`` builds ``cls`` (a layer or model taking
  ``backend=``) on the current ``backend``.
* ``run_layer_test``: Keras's own contract check of a layer (``keras.src.testing.TestCase.
  run_layer_test``: build, call, config round trip, saving, training, mixed precision); Keras 3
  only, so a test taking it skips in the legacy ``tf_keras`` lane.

Markers:

* ``@pytest.mark.tfq``: the test needs TensorFlow Quantum itself (its ops, its layers, or a
  comparison with it). Where ``tensorflow_quantum`` is not installed it is skipped with that
  reason; the ``"tfq"`` parameter of the ``backend`` fixture carries the marker too.
* ``@pytest.mark.slow``: a long end-to-end run whose outcome does not depend on the stack's
  version. ``make test`` and ``make test-313`` deselect it (``-m "not slow"``); ``make
  test-slow`` runs these alone, in CI on the 3.11 lane. Plain ``pytest tests`` runs everything.

The independent references (Cirq's simulators in float64, central finite differences, the
fresh-process runner) are plain functions in ``tests/reference.py``: ``import reference``.
"""

import importlib.util
import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
# The project (tfq_layers, models, benchmarks) and this directory (reference.py, compat_cases.py,
# unavailable.py, import_cycles.py) importable from test modules at any depth under tests/.
for _path in (TESTS, ROOT):
    if _path not in sys.path:
        sys.path.insert(0, _path)

#: Whether TensorFlow Quantum is installed in this environment (it is an optional backend).
HAVE_TFQ = importlib.util.find_spec("tensorflow_quantum") is not None
NO_TFQ_REASON = "needs tensorflow-quantum, which is not installed in this environment"

#: The simulator backends every layer supports ("tfq" skipped where TFQ is not installed).
BACKENDS = (pytest.param("tfq", marks=pytest.mark.tfq), "statevector")


#: Tests collected but deselected in this session (``-m "not slow"``, ``-k ...``): the no-TFQ
#: lane's check of the tfq-marked tests (tests/packaging/test_no_tfq_lane.py) counts them too.
DESELECTED = []


def pytest_configure(config):
    config.addinivalue_line("markers", "tfq: needs TensorFlow Quantum; skipped where it is absent")
    config.addinivalue_line(
        "markers",
        "slow: a long end-to-end run (notebooks executed, recipe runs, the legacy lane's re-run, "
        "fault injection) that "
        "does not depend on the stack's version: `make test-slow` (CI's 3.11 lane), not `make test`",
    )


def pytest_deselected(items):
    DESELECTED.extend(items)


def pytest_collection_modifyitems(config, items):
    if HAVE_TFQ:
        return
    skip = pytest.mark.skip(reason=NO_TFQ_REASON)
    for item in items:
        if item.get_closest_marker("tfq") is not None:
            item.add_marker(skip)


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


@pytest.fixture
def run_layer_test():
    """``run_layer_test(cls, init_kwargs, input_data=..., expected_output_shape=..., ...)``."""
    from tfq_layers._keras import LEGACY

    if LEGACY:
        pytest.skip("keras.src.testing is Keras 3")
    from keras.src import testing

    class _Case(testing.TestCase):
        def runTest(self):
            pass

    return _Case().run_layer_test
