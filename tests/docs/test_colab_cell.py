"""The notebooks' Colab install cell, executed with a faked ``google.colab`` module.

Each case runs the committed cell in a fresh interpreter whose ``google.colab``, ``pip`` call,
installed versions, ``importlib.util.find_spec("tfq_layers")``, Python version and ``os.kill``
are stand-ins that record what the cell asked for. Nothing is installed and no network is used.
One case runs the cell's real ``pip`` (``--dry-run``, from this checkout) in this test's own
environment, which already has a supported TensorFlow: pip must not want to install TensorFlow.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import reference

nbformat = pytest.importorskip("nbformat")

ROOT = reference.ROOT


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
    if scenario.get("with_tfq"):  # the opt-in line, as a user edits it
        cell = cell.replace("WITH_TFQ = False", "WITH_TFQ = True")

    if scenario["colab"]:
        sys.modules["google.colab"] = types.ModuleType("google.colab")
    if scenario.get("python"):
        sys.version_info = tuple(scenario["python"]) + (0, "final", 0)

    def fake_run(args, **kwargs):
        record["pip"].append(list(args))
        if scenario.get("pip_error"):
            return subprocess.CompletedProcess(args, 1, "", scenario["pip_error"])
        versions.update(scenario["after"])
        return subprocess.CompletedProcess(args, 0, "", "")

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
NEWER_STACK = {**COLAB_STACK, "tensorflow": "2.22.0"}  # a TensorFlow above the supported range
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


PIP = [sys.executable, "-m", "pip", "install", "-q"]


def test_colab_with_a_supported_tensorflow_adds_only_what_is_missing(tmp_path):
    """Colab's own TensorFlow (2.19 here) is kept: pip is told to keep exactly that version, so
    only the missing packages are installed, nothing changes version and nothing restarts."""
    record, _ = _run(tmp_path, env={"TFQ_LAYERS_FROM_SOURCE": ""})
    assert record["error"] is None
    assert record["pip"] == [PIP + ["tfq-layers[models]", "tensorflow==2.19.0"]]
    assert record["kill"] == []


def test_tfq_is_an_opt_in_that_moves_tensorflow_and_restarts(tmp_path):
    record, out = _run(
        tmp_path,
        python=(3, 12),
        with_tfq=True,
        after=PINNED_STACK,
        env={"TFQ_LAYERS_FROM_SOURCE": ""},
    )
    assert record["error"] is None
    assert record["pip"] == [PIP + ["tfq-layers[models,tfq]"]]
    assert record["kill"] == [[True, 9]]  # SIGKILL to itself: Colab restarts the runtime
    assert "tensorflow, keras, protobuf changed version" in out
    assert "run the notebook again from the top" in out


def test_a_tensorflow_outside_the_range_is_left_to_pip_and_restarts_if_it_changed(tmp_path):
    record, out = _run(tmp_path, before=NEWER_STACK, after=PINNED_STACK)
    assert record["pip"] == [PIP + ["tfq-layers[models]"]]  # no pin: pip picks a supported TF
    assert record["kill"] == [[True, 9]] and "tensorflow" in out


def test_not_on_pypi_is_one_sentence_with_the_two_alternatives(tmp_path):
    record, _ = _run(
        tmp_path,
        pip_error="ERROR: Could not find a version that satisfies the requirement tfq-layers\n"
        "ERROR: No matching distribution found for tfq-layers[models]\n",
        env={"TFQ_LAYERS_FROM_SOURCE": ""},
    )
    error = record["error"]
    assert error.startswith("tfq-layers is not on PyPI yet") and error.count(". ") == 0, error
    assert "wheel or source archive" in error and _source_url() in error
    assert record["kill"] == []


def test_another_pip_failure_shows_pip_s_own_words(tmp_path):
    record, _ = _run(tmp_path, pip_error="ERROR: disk quota exceeded\n")
    assert "pip could not install tfq-layers[models]" in record["error"]
    assert "disk quota exceeded" in record["error"]


def test_install_from_source_uses_the_repository_url_of_pyproject(tmp_path):
    record, _ = _run(tmp_path, env={"TFQ_LAYERS_FROM_SOURCE": "1"})
    requirement = f"tfq-layers[models] @ git+{_source_url()}"
    assert record["pip"] == [PIP + [requirement, "tensorflow==2.19.0"]]


def test_install_from_an_uploaded_wheel(tmp_path):
    wheel = "/content/tfq_layers-0.1.0-py3-none-any.whl"
    record, _ = _run(tmp_path, env={"TFQ_LAYERS_FROM_SOURCE": wheel})
    assert record["pip"] == [PIP + [f"tfq-layers[models] @ file://{wheel}", "tensorflow==2.19.0"]]


def test_after_the_restart_the_cell_does_nothing(tmp_path):
    record, _ = _run(tmp_path, present=True)
    assert record == {"pip": [], "kill": [], "error": None}


@pytest.mark.parametrize("python", [(3, 10), (3, 11), (3, 12), (3, 13)])
def test_supported_pythons_install(tmp_path, python):
    record, _ = _run(tmp_path, python=python)
    assert record["error"] is None and len(record["pip"]) == 1


@pytest.mark.parametrize("python, with_tfq", [((3, 9), False), ((3, 14), False), ((3, 13), True)])
def test_unsupported_python_stops_before_pip(tmp_path, python, with_tfq):
    record, _ = _run(tmp_path, python=python, with_tfq=with_tfq)
    assert record["pip"] == [] and record["kill"] == []
    assert ("supports Python 3.10 to 3.12" if with_tfq else "supports Python 3.10 to 3.13") in (
        record["error"]
    )
    assert "Change runtime type" in record["error"]


REAL_PIP = textwrap.dedent(
    """
    import importlib.util, sys, types

    sys.modules["google.colab"] = types.ModuleType("google.colab")
    real_find_spec = importlib.util.find_spec
    importlib.util.find_spec = lambda name, *a: None if name == "tfq_layers" else real_find_spec(name, *a)
    exec(compile(open(sys.argv[1]).read(), "install cell", "exec"), {})
    print("CELL DONE")
    """
)


def test_the_real_cell_keeps_the_installed_tensorflow(tmp_path):
    """The committed cell with its real pip call, in this environment (TensorFlow 2.18 in the
    main lane, 2.21 in the Python 3.13 lane), installing a wheel of this checkout as an uploaded
    one: pip's --dry-run report (PIP_DRY_RUN/PIP_REPORT) lists nothing of the TensorFlow stack."""
    import importlib.metadata

    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), ROOT],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = tmp_path.glob("tfq_layers-*.whl")
    cell = tmp_path / "cell.py"
    cell.write_text(_install_cell())
    report = tmp_path / "report.json"
    env = {
        **os.environ,
        "PIP_DRY_RUN": "1",
        "PIP_REPORT": str(report),
        "TFQ_LAYERS_FROM_SOURCE": str(wheel),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-c", REAL_PIP, str(cell)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0 and "CELL DONE" in proc.stdout, proc.stderr[-3000:]
    wanted = {i["metadata"]["name"].lower() for i in json.loads(report.read_text())["install"]}
    assert "tfq-layers" in wanted, wanted
    assert not wanted & {"tensorflow", "keras", "numpy", "protobuf", "tensorflow-quantum"}, wanted
    assert "Restarting" not in proc.stdout
    assert importlib.metadata.version("tensorflow")  # the TensorFlow that was kept


def test_outside_colab_the_cell_does_nothing(tmp_path):
    record, _ = _run(tmp_path, colab=False)
    assert record == {"pip": [], "kill": [], "error": None}
