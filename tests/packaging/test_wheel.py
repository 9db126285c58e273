"""The wheel works on its own: built, installed (not editable) into a clean venv, used elsewhere.

Slow (a fresh venv with TensorFlow: about two minutes with a warm pip cache), so it runs only when
``TFQ_LAYERS_WHEEL_TEST=1``: ``make test-wheel`` and CI set it.

Steps: ``python -m build`` makes the sdist and, from the unpacked sdist, the wheel (so a file
missing from the sdist fails here too); ``twine check``; a venv from the same base Python installs
``<wheel>[models]`` with the pinned dependencies; then, from a directory outside the repository and
with no ``PYTHONPATH``, it runs the README's quick start and reload, and the zoo's hybrid
classifier as ``python -m tfq_layers.zoo.hybrid_classifier --quick``.
"""

import os
import re
import subprocess
import sys
import zipfile

import pytest

import reference

ROOT = reference.ROOT


def _toml():
    return reference.toml_module()


pytestmark = pytest.mark.skipif(
    os.environ.get("TFQ_LAYERS_WHEEL_TEST") != "1",
    reason="slow: set TFQ_LAYERS_WHEEL_TEST=1 (make test-wheel)",
)


def _run(args, cwd, env=None, timeout=900):
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _readme_blocks(heading):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        section = f.read().split(heading, 1)[1]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a clean venv with the wheel installed, a working directory outside the repo)."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), ROOT], cwd=ROOT)
    wheels = sorted(dist.glob("tfq_layers-*-py3-none-any.whl"))
    assert len(wheels) == 1, list(dist.iterdir())
    _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())], ROOT)
    names = zipfile.ZipFile(wheels[0]).namelist()
    for required in ("tfq_layers/py.typed", "tfq_layers/zoo/hybrid_classifier.py"):
        assert required in names, required
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert not any(n.startswith(("models/", "tests/")) for n in names)

    venv = base / "venv"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], cwd=base)
    python = str(venv / "bin" / "python")
    constraints = os.path.join(ROOT, "constraints.txt")
    _run([python, "-m", "pip", "install", "-q", "-c", constraints, f"{wheels[0]}[models]"], base)
    work = base / "elsewhere"
    work.mkdir()
    return python, work


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TF_USE_LEGACY_KERAS")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def test_quick_start_runs_from_the_wheel(installed):
    python, work = installed
    train, reload = _readme_blocks("## Quick start")[:2]
    probe = "\nprint('PACKAGE', tfq_layers.__file__, tfq_layers.__version__)\n"
    out = _run([python, "-c", train + probe], cwd=work, env=_env())
    assert (work / "quantum_model.keras").exists()
    assert "[[" in _run([python, "-c", reload], cwd=work, env=_env())
    path, version = out.split("PACKAGE ")[1].split()[:2]
    assert "site-packages" in path and not path.startswith(ROOT), path
    tomllib = _toml()
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        assert version == tomllib.load(f)["project"]["version"]


def test_zoo_recipe_runs_from_the_wheel(installed):
    python, work = installed
    out = _run(
        [python, "-m", "tfq_layers.zoo.hybrid_classifier", "--quick", "--epochs", "1"],
        cwd=work,
        env=_env(),
    )
    assert re.search(r"^test accuracy: \d\.\d{3}$", out, flags=re.M), out[-2000:]
    usage = _run([python, "-m", "tfq_layers.zoo.hybrid_classifier", "--help"], cwd=work, env=_env())
    assert usage.startswith("usage: python -m tfq_layers.zoo.hybrid_classifier"), usage
