"""The notebooks' Colab install cell, executed with a faked ``google.colab`` module.

Each case runs the committed cell in a fresh interpreter whose ``google.colab``, ``pip`` call,
installed versions, ``importlib.util.find_spec("tfq_layers")``, Python version and ``os.kill``
are stand-ins that record what the cell asked for. Nothing is installed and no network is used.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import reference

nbformat = pytest.importorskip("nbformat")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _toml():
    return reference.toml_module()


NB_DIR = os.path.join(ROOT, "notebooks")
NOTEBOOKS = sorted(n for n in os.listdir(NB_DIR) if n.endswith(".ipynb"))

# Runs the cell (argv[1]) under the scenario (argv[2], JSON); prints what happened as JSON.
DRIVER = textwrap.dedent(
    """
    import importlib.metadata, importlib.util, json, os, subprocess, sys, types

    cell, scenario = open(sys.argv[1]).read(), json.loads(sys.argv[2])
    record = {"pip": [], "kill": [], "error": None}
    versions = dict(scenario["before"])

    if scenario["colab"]:
        sys.modules["google.colab"] = types.ModuleType("google.colab")
    if scenario.get("python"):
        sys.version_info = tuple(scenario["python"]) + (0, "final", 0)

    def fake_run(args, **kwargs):
        record["pip"].append(list(args))
        versions.update(scenario["after"])
        return subprocess.CompletedProcess(args, 0)

    def fake_version(name):
        if versions.get(name) is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return versions[name]

    real_find_spec = importlib.util.find_spec

    def fake_find_spec(name, *args):
        if name == "tfq_layers":
            return object() if scenario["present"] else None
        return real_find_spec(name, *args)

    subprocess.run = fake_run
    importlib.metadata.version = fake_version
    importlib.util.find_spec = fake_find_spec
    os.kill = lambda pid, sig: record["kill"].append([pid == os.getpid(), int(sig)])
    try:
        exec(compile(cell, "install cell", "exec"), {})
    except RuntimeError as err:
        record["error"] = str(err)
    print("RECORD " + json.dumps(record))
    """
)

COLAB_STACK = {"tensorflow": "2.19.0", "keras": "3.10.0", "numpy": "2.0.2", "protobuf": "5.29.5"}
PINNED_STACK = {"tensorflow": "2.18.1", "keras": "3.15.1", "numpy": "2.0.2", "protobuf": "5.29.6"}


def _install_cell(name="01_quickstart.ipynb"):
    with open(os.path.join(NB_DIR, name), encoding="utf-8") as f:
        nb = nbformat.read(f, as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code")


def _source_url():
    tomllib = _toml()
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Source"]


def _run(tmp_path, env=None, **scenario):
    scenario = {"colab": True, "present": False, "before": COLAB_STACK, "after": {}, **scenario}
    cell = tmp_path / "cell.py"
    cell.write_text(_install_cell())
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(cell), json.dumps(scenario)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RECORD "))
    return json.loads(line[len("RECORD ") :]), proc.stdout


def test_every_notebook_starts_with_the_same_cell_and_a_colab_badge():
    cells = {name: _install_cell(name) for name in NOTEBOOKS}
    assert len(set(cells.values())) == 1, "the notebooks' install cells differ"
    repo = _source_url().replace("https://github.com/", "")
    for name in NOTEBOOKS:
        with open(os.path.join(NB_DIR, name), encoding="utf-8") as f:
            first = nbformat.read(f, as_version=4).cells[0]
        link = f"https://colab.research.google.com/github/{repo}/blob/main/notebooks/{name}"
        assert first.cell_type == "markdown" and f"]({link})" in first.source, first.source


def test_clean_colab_runtime_installs_from_pypi_and_restarts(tmp_path):
    record, out = _run(tmp_path, after=PINNED_STACK, env={"TFQ_LAYERS_FROM_SOURCE": ""})
    assert record["error"] is None
    assert record["pip"] == [[sys.executable, "-m", "pip", "install", "-q", "tfq-layers[models]"]]
    assert record["kill"] == [[True, 9]]  # SIGKILL to itself: Colab restarts the runtime
    assert "tensorflow, keras, protobuf changed version" in out
    assert "run the notebook again from the top" in out


def test_install_from_source_uses_the_repository_url_of_pyproject(tmp_path):
    record, _ = _run(tmp_path, after=PINNED_STACK, env={"TFQ_LAYERS_FROM_SOURCE": "1"})
    requirement = f"tfq-layers[models] @ git+{_source_url()}"
    assert record["pip"] == [[sys.executable, "-m", "pip", "install", "-q", requirement]]
    assert record["kill"] == [[True, 9]]


def test_no_restart_when_nothing_already_installed_changed(tmp_path):
    record, _ = _run(tmp_path, before=PINNED_STACK, after=PINNED_STACK)
    assert len(record["pip"]) == 1 and record["kill"] == []


def test_after_the_restart_the_cell_does_nothing(tmp_path):
    record, _ = _run(tmp_path, present=True)
    assert record == {"pip": [], "kill": [], "error": None}


@pytest.mark.parametrize("python", [(3, 10), (3, 11), (3, 12)])
def test_supported_pythons_install(tmp_path, python):
    record, _ = _run(tmp_path, python=python, after=PINNED_STACK)
    assert record["error"] is None and len(record["pip"]) == 1


@pytest.mark.parametrize("python", [(3, 9), (3, 13)])
def test_unsupported_python_stops_before_pip(tmp_path, python):
    record, _ = _run(tmp_path, python=python)
    assert record["pip"] == [] and record["kill"] == []
    assert "wheels for Python 3.10 to 3.12" in record["error"]
    assert "Change runtime type" in record["error"]


def test_outside_colab_the_cell_does_nothing(tmp_path):
    record, _ = _run(tmp_path, colab=False)
    assert record == {"pip": [], "kill": [], "error": None}
