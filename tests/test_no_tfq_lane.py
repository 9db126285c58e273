"""The no-TFQ lane skips only what needs TensorFlow Quantum itself, and says which tests those are.

``TFQ_TESTS`` names every test function with a ``tfq``-marked case (the ``"tfq"`` parameter of the
``backend`` fixture, or ``@pytest.mark.tfq``). Where TFQ is absent (``make test-313``) exactly
these skip; a new test that needs TFQ must be added here by name, so the lane's skip list stays
small and reviewed. The collection is this session's own when it ran the whole suite, otherwise a
``pytest --collect-only -m tfq`` of ``tests/`` in a fresh process (about a minute).
"""

import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

#: Every test function that has a case needing TFQ (file::function).
TFQ_TESTS = ()

#: At most this many test cases (parametrized ids) carry the mark.
MAX_TFQ_CASES = 0


def _tfq_cases(session):
    files = {os.path.basename(str(item.path)) for item in session.items}
    everything = {os.path.basename(p) for p in glob.glob(os.path.join(HERE, "test_*.py"))}
    if everything <= files:  # this session collected the whole suite
        return [item.nodeid for item in session.items if item.get_closest_marker("tfq")]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--collect-only",
            "-m",
            "tfq",
            "-p",
            "no:cacheprovider",
        ],
        cwd=os.path.dirname(HERE),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_the_tfq_marked_tests_are_the_named_ones(request):
    cases = _tfq_cases(request.session)
    functions = sorted({case.split("[", 1)[0].removeprefix("tests/") for case in cases})
    assert functions == sorted(TFQ_TESTS), (
        "tests with a tfq-marked case changed; update TFQ_TESTS in tests/test_no_tfq_lane.py:\n"
        + "\n".join(f"    {f!r}," for f in functions)
    )
    assert len(cases) <= MAX_TFQ_CASES, len(cases)


def test_tfq_is_skipped_only_through_the_marker():
    """No test skips itself for TFQ's absence outside the marker (``pytest.importorskip(
    "tensorflow_quantum")``, a ``skipif`` on ``HAVE_TFQ``): the marker is the one way, so the
    list above is the whole list."""
    import re

    offenders = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if re.search(
            r"importorskip\(\s*[\"']tensorflow_quantum|skipif\(\s*not\s+(conftest\.)?HAVE_TFQ", text
        ):
            offenders.append(os.path.basename(path))
    assert offenders == [], offenders
