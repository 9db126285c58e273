"""The tutorial notebooks in ``notebooks/`` run top to bottom, render plots, and are committed clean.

* Each notebook's source is a jupytext percent file ``notebooks/NN_name.py`` (every
  ``[0-9][0-9]_*.py`` there is one); ``notebooks/_build.py`` writes ``NN_name.ipynb`` from it, and
  every committed ``.ipynb`` is byte-for-byte what it writes: no outputs, no execution counts (no
  stale results), a source for each notebook and a notebook for each source.
* The built notebook is: Colab badge, title, the Colab install cell, the parameters cell (tagged
  ``parameters``, starting with ``QUICK = False``), then the source's cells. The install cell is
  valid Python, installs ``tfq-layers`` only under Colab, and its Colab branch runs without error
  when the package is already importable (no network); ``tests/docs/test_colab_cell.py`` runs it
  through a clean Colab runtime with a faked ``google.colab``.
* Each notebook is executed in quick mode (``_build.quick`` rewrites the parameters cell's first
  line to ``QUICK = True``) with nbclient in a temporary directory (its files land there, not in
  the repository) by an IPython kernel started from THIS interpreter (``sys.executable``, the
  project's virtualenv; a cell added after the parameters cell checks it and that ``QUICK`` is
  ``True``). Any cell error fails the test. The notebooks contain their own numerical checks
  (PQC layer vs. ``cirq.Simulator``, input gradient vs. finite differences, QBM vs.
  ``scipy.linalg.expm``, reloaded/exported outputs bitwise equal, a tampered ``.keras`` file
  refused, ...), which run here.
* Plots render: each notebook shows at least its expected number of ``image/png`` outputs and of
  Cirq SVG circuit diagrams, and writes its named PNG file, which must be a real, non-trivial image.
"""

import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("jupytext")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NB_DIR = os.path.join(ROOT, "notebooks")


def _load_build():
    spec = importlib.util.spec_from_file_location(
        "notebooks_build", os.path.join(NB_DIR, "_build.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_build = _load_build()

# Every notebook, named after its source notebooks/NN_name.py.
SOURCES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(NB_DIR, "[0-9][0-9]_*.py")))
NAMES = [s[: -len(".py")] + ".ipynb" for s in SOURCES]

# notebook -> (minimum number of image/png outputs, of SVG circuit diagrams, PNG file it writes
# relative to its working directory). A notebook not listed must show at least one image.
EXPECTED = {
    "01_quickstart.ipynb": (1, 1, "01_training_curves.png"),
    "02_data_reuploading.ipynb": (1, 1, "02_decision_boundary.png"),
    "03_qcnn.ipynb": (1, 2, "03_qcnn_predictions.png"),
    "04_generators.ipynb": (3, 1, "04_histograms.png"),
    "05_save_export_serve.ipynb": (1, 1, os.path.join("tfq_layers_artifacts", "05_outputs.png")),
    "06_hello_many_worlds.ipynb": (2, 2, "06_control.png"),
    "07_gradients.ipynb": (4, 1, "07_gradients.png"),
    "08_barren_plateaus.ipynb": (1, 1, "08_barren_plateaus.png"),
    "09_noise.ipynb": (2, 3, "09_noise.png"),
    "10_qcnn_tfq.ipynb": (1, 2, "10_qcnn_tfq.png"),
    "11_mnist_qnn.ipynb": (2, 2, "11_mnist_qnn.png"),
    "12_quantum_data_pqk.ipynb": (1, 1, "12_quantum_data_pqk.png"),
    "13_quantum_rl.ipynb": (1, 1, "13_cartpole_rewards.png"),
    "14_qhbm.ipynb": (2, 1, "14_qhbm.png"),
}
CELL_TIMEOUT = 240  # seconds per cell, generous for a loaded 2-core machine


def _read(name):
    with open(os.path.join(NB_DIR, name), encoding="utf-8") as f:
        return nbformat.read(f, as_version=4)


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_every_notebook_has_a_source_and_every_source_a_notebook():
    found = sorted(f for f in os.listdir(NB_DIR) if f.endswith(".ipynb"))
    assert found == NAMES, f"notebooks on disk {found} != built from sources {NAMES}"
    assert set(EXPECTED) <= set(NAMES), sorted(set(EXPECTED) - set(NAMES))


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_has_no_outputs(name):
    nb = _read(name)
    nbformat.validate(nb)
    for i, cell in enumerate(_code_cells(nb)):
        assert cell.outputs == [], f"{name}: code cell {i} has committed outputs"
        assert cell.execution_count is None, f"{name}: code cell {i} has an execution count"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_committed_notebooks_are_what_build_script_writes(tmp_path):
    proc = subprocess.run(
        [sys.executable, os.path.join(NB_DIR, "_build.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(tmp_path)) == NAMES
    for name in NAMES:
        with open(tmp_path / name, "rb") as f:
            built = f.read()
        with open(os.path.join(NB_DIR, name), "rb") as f:
            committed = f.read()
        assert built == committed, (
            f"notebooks/{name} differs from what notebooks/_build.py "
            f"writes from {name[:-6]}.py; run `python notebooks/_build.py`"
        )


@pytest.mark.parametrize("name", NAMES)
def test_layout_badge_title_install_then_parameters(name):
    nb = _read(name)
    badge, title = nb.cells[0], nb.cells[1]
    assert badge.cell_type == "markdown" and "colab-badge.svg" in badge.source
    assert title.cell_type == "markdown" and title.source.startswith("# ")
    cells = _code_cells(nb)
    install, params = cells[0], cells[1]
    assert nb.cells[2] is install and nb.cells[3] is params
    compile(install.source, f"{name}:install", "exec")  # valid Python, no `!pip` magics
    assert install.source == _build.INSTALL
    assert '"google.colab" in sys.modules' in install.source
    assert '"tfq-layers["' in install.source and "WITH_TFQ = False" in install.source
    assert "pip" in install.source and "!" not in install.source.replace("!=", "")
    assert params.metadata["tags"] == ["parameters"]
    assert params.source.split("\n")[0] == "QUICK = False"
    quick = _build.quick(nb)
    assert _code_cells(quick)[1].source.split("\n")[0] == "QUICK = True"
    assert _code_cells(quick)[1].source.split("\n")[1:] == params.source.split("\n")[1:]
    assert _code_cells(nb)[1].source == params.source  # the original is left alone


def test_percent_source_round_trips_through_jupytext():
    """The sources are plain jupytext percent files: jupytext writes back what it read."""
    import jupytext

    for source in SOURCES:
        with open(os.path.join(NB_DIR, source), encoding="utf-8") as f:
            text = f.read()
        nb = jupytext.reads(text, fmt="py:percent")
        assert jupytext.writes(nb, fmt="py:percent") == text, f"{source} is not canonical percent"


@pytest.mark.parametrize(
    "bad, message",
    [
        ("# %%\nx = 1\n", "first cell must be a Markdown title"),
        ("# %% [markdown]\n# # T\n\n# %%\nQUICK = False\n", "0 cells are tagged parameters"),
        (
            '# %% [markdown]\n# # T\n\n# %% tags=["parameters"]\nSEED = 0\nQUICK = False\n',
            "must start with `QUICK = False`",
        ),
        (
            '# %% [markdown]\n# # T\n\n# %%\nx = 1\n\n# %% tags=["parameters"]\nQUICK = False\n',
            "must be the second cell",
        ),
    ],
)
def test_build_refuses_a_source_off_the_agreed_layout(tmp_path, bad, message):
    path = tmp_path / "99_bad.py"
    path.write_text(bad)
    with pytest.raises(SystemExit) as err:
        _build.build(str(path))
    assert str(err.value).startswith("99_bad.py: ") and message in str(err.value), str(err.value)


def test_install_cell_outside_and_inside_colab(tmp_path):
    """Outside Colab the cell does nothing; under a (stub) Colab with the package importable, the
    Colab branch runs to the end without calling pip (no network is touched either way)."""
    install = _code_cells(_read("01_quickstart.ipynb"))[0].source
    script = tmp_path / "install_cell.py"
    driver = textwrap.dedent("""
        import subprocess, sys, types
        calls = []
        subprocess.run = lambda *a, **k: calls.append(a)      # would be a pip call: record it
        if sys.argv[1] == "colab":
            sys.modules["google.colab"] = types.ModuleType("google.colab")
        exec(compile(open(sys.argv[2]).read(), "install", "exec"), {})
        print(len(calls))
    """)
    script.write_text(install)
    for mode in ("local", "colab"):
        proc = subprocess.run(
            [sys.executable, "-c", driver, mode, str(script)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": ROOT},
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "0", f"{mode}: pip would have run: {proc.stdout}"


def _kernel_manager(tmp_path):
    """A KernelManager whose only ``python3`` kernelspec runs ``sys.executable``."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = tmp_path / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "tfq_layers venv",
                "language": "python",
            }
        )
    )
    ksm = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    assert ksm.get_kernel_spec("python3").argv[0] == sys.executable
    return KernelManager(kernel_name="python3", kernel_spec_manager=ksm)


@pytest.fixture
def notebook_env(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("PYTHONPATH", ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws PNGs
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)


def _outputs(nb, mime):
    return [
        o["data"][mime]
        for c in _code_cells(nb)
        for o in c.outputs
        if o.output_type in ("display_data", "execute_result") and mime in o.get("data", {})
    ]


def _uses_tfq(name):
    """Whether the notebook's source imports TensorFlow Quantum (its datasets, differentiators)
    or asks for its backend by name (09 compares it with the statevector backend)."""
    with open(os.path.join(NB_DIR, name[: -len(".ipynb")] + ".py"), encoding="utf-8") as f:
        source = f.read()
    return (
        "import tensorflow_quantum" in source or 'backend="tfq"' in source or name in NEEDS_TFQ_OP
    )


#: Notebooks whose quantum data is too wide for the statevector backend's way of reading it (the
#: model circuit's 2**n x 2**n unitary): TFQ's op runs them.
NEEDS_TFQ_OP = {"11_mnist_qnn.ipynb"}  # 17 qubits


@pytest.mark.slow  # 14 notebooks, each in its own kernel: `make test-slow`
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.tfq) if _uses_tfq(n) else n for n in NAMES]
)
def test_notebook_executes(name, tmp_path, notebook_env):
    min_images, min_svgs, png = EXPECTED.get(name, (1, 0, None))
    work = tmp_path / "run"
    work.mkdir()
    shutil.copy(os.path.join(NB_DIR, name), work / name)
    nb = _build.quick(_read(name))
    probe = nbformat.v4.new_code_cell(
        "import os, sys\nprint(sys.executable)\nprint(os.getcwd())\nprint(QUICK)"
    )
    probe["id"] = "test-probe"
    at = nb.cells.index(_code_cells(nb)[1]) + 1  # right after the parameters cell
    nb.cells.insert(at, probe)

    client = nbclient.NotebookClient(
        nb,
        km=_kernel_manager(tmp_path),
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()  # raises CellExecutionError on any error

    kernel_python, cwd, quick = nb.cells[at].outputs[0]["text"].split("\n")[:3]
    assert kernel_python == sys.executable, "the notebook did not run on this virtualenv's Python"
    assert os.path.realpath(cwd) == os.path.realpath(work)
    assert quick == "True"
    for cell in _code_cells(nb):
        for out in cell.outputs:
            assert out.output_type != "error", f"{name}: {out.get('ename')}: {out.get('evalue')}"

    images = _outputs(nb, "image/png")
    assert len(images) >= min_images, f"{name}: {len(images)} PNG outputs, want >= {min_images}"
    svgs = [s for s in _outputs(nb, "image/svg+xml") if "<svg" in s and "<text" in s]
    assert len(svgs) >= min_svgs, f"{name}: {len(svgs)} SVG circuit diagrams, want >= {min_svgs}"
    if png is None:
        return
    path = work / png
    assert path.exists(), f"{name} did not write {png}"
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert width >= 300 and height >= 200, (width, height)
    assert path.stat().st_size > 10_000, "suspiciously small plot"
    # Nothing was written next to the committed notebooks.
    assert not os.path.exists(os.path.join(NB_DIR, png.split(os.sep)[0]))
