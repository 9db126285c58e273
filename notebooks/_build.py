"""Build the tutorial notebooks ``notebooks/NN_name.ipynb`` from their sources ``NN_name.py``.

Each notebook's reviewable source is a jupytext percent file ``notebooks/NN_name.py`` (every
``notebooks/[0-9][0-9]_*.py`` is picked up): ``# %% [markdown]`` and ``# %%`` cells, first a
Markdown title and introduction, then the parameters cell ``# %% tags=["parameters"]`` whose first
statement is ``QUICK = False``. The sources are ordinary Python, linted by ``ruff check .``.

The built ``.ipynb`` is the source's cells with two additions, whose one home is this file: an
"Open in Colab" badge cell in front, and the Colab install cell (it does nothing outside Colab)
after the title. It carries no outputs and deterministic cell ids, so a rebuild is byte-for-byte
the same; ``tests/docs/test_notebooks.py`` checks that the committed ``.ipynb`` files are what this
script writes. ``quick(nb)`` rewrites the parameters cell's ``QUICK = False`` to ``QUICK = True``:
the tests execute every notebook that way; ``make tutorials`` runs them as written.

Usage:
    python notebooks/_build.py            # (re)write notebooks/NN_name.ipynb from the sources
    python notebooks/_build.py OUT_DIR    # write them to OUT_DIR instead (used by the test)
"""

import copy
import glob
import os
import re
import sys
import textwrap

import jupytext
import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))

ROOT = os.path.dirname(HERE)


def _repository():
    """The source repository's URL: ``[project.urls] Source`` in pyproject.toml, its one home."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    urls = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, flags=re.M | re.S)
    match = urls and re.search(
        r'^Source\s*=\s*"(https://github\.com/[^"]+?)/?"', urls.group(1), flags=re.M
    )
    if not match:
        raise SystemExit('pyproject.toml has no [project.urls] Source = "https://github.com/..."')
    return match.group(1)


#: ``https://github.com/<owner>/<repo>``, read from pyproject.toml.
REPOSITORY = _repository()
#: The pip requirement Colab installs from source (only when asked to; PyPI is the default).
GIT_URL = "git+" + REPOSITORY
#: The distribution name on PyPI.
DISTRIBUTION = "tfq-layers"
#: The Python versions the package supports, and those TensorFlow Quantum 0.7.6 has wheels for.
PYTHONS = ((3, 10), (3, 13))
TFQ_PYTHONS = ((3, 10), (3, 12))
#: The TensorFlow releases the package supports (pyproject.toml's range), as (major, minor).
TENSORFLOWS = ((2, 18), (2, 21))
_OLDEST, _NEWEST = (".".join(map(str, v)) for v in PYTHONS)
_TFQ_OLDEST, _TFQ_NEWEST = (".".join(map(str, v)) for v in TFQ_PYTHONS)
_TF_OLDEST, _TF_NEWEST = (".".join(map(str, v)) for v in TENSORFLOWS)


def colab_badge(name):
    """Markdown for an "Open in Colab" badge of notebook ``name`` on the main branch."""
    path = REPOSITORY.replace("https://github.com/", "")
    url = f"https://colab.research.google.com/github/{path}/blob/main/notebooks/{name}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


#: The Colab install cell every notebook starts with (after its badge and title); its one home.
INSTALL = textwrap.dedent(f'''
    # Google Colab only: install tfq-layers next to Colab's own TensorFlow (only what is missing:
    # seconds, no restart, when Colab's TensorFlow is {_TF_OLDEST} to {_TF_NEWEST}); the layers then run on
    # the statevector backend. Anywhere else this cell does nothing: see the repository README.
    import sys

    # TensorFlow Quantum's backend too (Python {_TFQ_OLDEST}-{_TFQ_NEWEST}; moves TensorFlow to 2.18 and
    # restarts the runtime once): set WITH_TFQ = True.
    WITH_TFQ = False

    if "google.colab" in sys.modules:
        import importlib.metadata
        import importlib.util
        import os
        import signal
        import subprocess

        low, high = {TFQ_PYTHONS} if WITH_TFQ else {PYTHONS}
        if not low <= sys.version_info[:2] <= high:
            raise RuntimeError(
                f"tfq-layers{{' with TensorFlow Quantum' if WITH_TFQ else ''}} supports Python "
                f"{{low[0]}}.{{low[1]}} to {{high[0]}}.{{high[1]}}; this runtime runs Python "
                f"{{sys.version.split()[0]}}. Pick another runtime version under Runtime > "
                "Change runtime type, then run this cell again.")
        if importlib.util.find_spec("tfq_layers") is None:
            def installed(name):
                try:
                    return importlib.metadata.version(name)
                except importlib.metadata.PackageNotFoundError:
                    return None

            # From PyPI. Instead, from the repository: os.environ["TFQ_LAYERS_FROM_SOURCE"] = "1";
            # from a wheel or source archive uploaded to Colab: set it to the file's path.
            extras = "models,tfq" if WITH_TFQ else "models"
            source = os.environ.get("TFQ_LAYERS_FROM_SOURCE", "")
            requirement = "{DISTRIBUTION}[" + extras + "]"
            if source == "1":
                requirement += " @ {GIT_URL}"
            elif source:
                requirement += " @ file://" + os.path.abspath(source)
            stack = ("tensorflow", "keras", "numpy", "protobuf", "sympy")
            before = {{name: installed(name) for name in stack}}
            keep = []
            tf_version = before["tensorflow"]
            if tf_version and not WITH_TFQ:
                release = tuple(int(p) for p in tf_version.split(".")[:2])
                if {TENSORFLOWS[0]} <= release <= {TENSORFLOWS[1]}:
                    keep = ["tensorflow==" + tf_version]  # Colab's own: never reinstalled
            done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", requirement, *keep],
                                  capture_output=True, text=True)
            if done.returncode:
                if "No matching distribution found for {DISTRIBUTION}" in done.stderr:
                    raise RuntimeError(
                        "{DISTRIBUTION} is not on PyPI yet: set os.environ['TFQ_LAYERS_FROM_SOURCE'] "
                        "to the path of its wheel or source archive uploaded to Colab, or to '1' to "
                        "install it from {REPOSITORY}, then run this cell again.")
                raise RuntimeError("pip could not install " + requirement + ":\\n" + done.stderr[-2000:])
            changed = [name for name in stack if before[name] and installed(name) != before[name]]
            if changed:
                # Colab had other versions of these loaded (TensorFlow Quantum needs TensorFlow
                # 2.18): only a fresh runtime sees the installed ones.
                print(f"Installed {{requirement}}; {{', '.join(changed)}} changed version. "
                      "Restarting the runtime: when Colab says it restarted, run the notebook "
                      "again from the top (this cell then does nothing).", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
''').strip("\n")


#: The line a parameters cell starts with; ``quick`` turns it into ``QUICK = True``.
QUICK_LINE = "QUICK = False"


def sources(directory=HERE):
    """The notebook sources ``NN_name.py`` in ``directory``, sorted."""
    return sorted(glob.glob(os.path.join(directory, "[0-9][0-9]_*.py")))


def _parameters_index(cells, where):
    found = [i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])]
    if len(found) != 1:
        raise SystemExit(
            f"{where}: {len(found)} cells are tagged parameters, want exactly one "
            '(the second cell: # %% tags=["parameters"])'
        )
    return found[0]


def read_source(path):
    """The cells of the percent source ``path``, checked against the agreed layout."""
    with open(path, encoding="utf-8") as f:
        nb = jupytext.reads(f.read(), fmt="py:percent")
    name = os.path.basename(path)
    cells = nb.cells
    if not cells or cells[0].cell_type != "markdown" or not cells[0].source.startswith("# "):
        raise SystemExit(
            f"{name}: the first cell must be a Markdown title (# %% [markdown] "
            "then '# # NN · Title')"
        )
    if _parameters_index(cells, name) != 1:
        raise SystemExit(
            f"{name}: the parameters cell must be the second cell, right after the title"
        )
    if cells[1].source.split("\n", 1)[0].strip() != QUICK_LINE:
        raise SystemExit(
            f"{name}: the parameters cell must start with `{QUICK_LINE}` (the tests "
            "rewrite that line to run the notebook in quick mode)"
        )
    return cells


def build(path):
    """The ``nbformat`` notebook built from the source ``path`` (no outputs, stable ids)."""
    name = os.path.basename(path)[: -len(".py")] + ".ipynb"
    stem = name.split("_")[0]
    cells = read_source(path)
    new = nbformat.v4
    parts = [
        new.new_markdown_cell(colab_badge(name)),
        new.new_markdown_cell(cells[0].source),
        new.new_code_cell(INSTALL),
    ]
    for cell in cells[1:]:
        tags = cell.metadata.get("tags")
        part = (
            new.new_markdown_cell(cell.source)
            if cell.cell_type == "markdown"
            else new.new_code_cell(cell.source)
        )
        if tags:
            part.metadata["tags"] = list(tags)
        parts.append(part)
    nb = new.new_notebook()
    for i, cell in enumerate(parts):
        cell["id"] = f"nb{stem}-cell{i:02d}"
        nb.cells.append(cell)
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    }
    nbformat.validate(nb)
    return nb


def quick(nb):
    """A copy of the built notebook ``nb`` whose parameters cell sets ``QUICK = True``."""
    nb = copy.deepcopy(nb)
    cell = nb.cells[_parameters_index(nb.cells, "notebook")]
    first, _, rest = cell.source.partition("\n")
    if first.strip() != QUICK_LINE:
        raise ValueError(f"the parameters cell starts with {first!r}, not {QUICK_LINE!r}")
    cell.source = "QUICK = True" + ("\n" + rest if rest else "")
    return nb


def main(argv=None):
    """Write every notebook to ``argv[0]`` (default: this directory); return the paths."""
    argv = sys.argv[1:] if argv is None else argv
    out_dir = argv[0] if argv else HERE
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for source in sources():
        path = os.path.join(out_dir, os.path.basename(source)[: -len(".py")] + ".ipynb")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            nbformat.write(build(source), f)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in main():
        print("wrote", p)
