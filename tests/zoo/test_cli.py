"""The recipes' command line: one shared parser, no prefix matching, parsed before TensorFlow."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPES = [
    "hybrid_classifier",
    "iris",
    "reuploading",
    "digits_qnn",
    "qcnn",
    "qbm",
    "born_machine_bas",
    "vqt",
    "qmhl",
    "qgan",
]
COMMON = ["--epochs", "--seed", "--export", "--plots", "--quick", "--workers"]

# Runs a recipe as __main__ with the given arguments; reports whether TensorFlow got imported.
PROBE = (
    "import runpy, sys\n"
    "name, args = sys.argv[1], sys.argv[2:]\n"
    "sys.argv = [name, *args]\n"
    "try:\n"
    "    runpy.run_module(name, run_name='__main__', alter_sys=True)\n"
    "except SystemExit as exit:\n"
    "    print('EXIT', exit.code)\n"
    "print('TENSORFLOW', 'tensorflow' in sys.modules)\n"
)


def _probe(module, *args, hide=()):
    env = {**os.environ, "PYTHONPATH": ROOT}
    # A module set to None in sys.modules is one that cannot be imported (find_spec: None).
    hidden = "".join(f"sys.modules[{name!r}] = None\n" for name in hide)
    proc = subprocess.run(
        [sys.executable, "-c", "import sys\n" + hidden + PROBE, module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    return proc.stdout, proc.stderr


@pytest.mark.parametrize("name", RECIPES)
def test_help_comes_before_tensorflow_and_lists_the_common_options(name):
    out, _ = _probe(f"models.{name}", "--help")
    assert "EXIT 0" in out and "TENSORFLOW False" in out, out
    assert out.startswith(f"usage: python -m models.{name}")
    for option in COMMON:
        assert option in out, (name, option)
    assert "``" not in out and ":class:" not in out  # no raw reStructuredText


def test_options_are_never_abbreviated():
    out, err = _probe("models.born_machine_bas", "--seed", "1", "--see", "2")
    assert "EXIT 2" in out and "TENSORFLOW False" in out
    assert "unrecognized arguments: --see 2" in err
    out, err = _probe("models.iris", "--epoch", "3")
    assert "EXIT 2" in out and "unrecognized arguments: --epoch 3" in err
    out, err = _probe("models.zoo", "--quic")
    assert "EXIT 2" in out and "unrecognized arguments: --quic" in err


def test_born_machine_reads_seed_and_seeds_apart():
    from models import born_machine_bas

    parser = born_machine_bas.parser()
    args = parser.parse_args(["--seed", "3", "--seeds", "2", "--export", "d", "--workers", "2"])
    assert (args.seed, args.seeds, args.export, args.workers) == (3, 2, "d", 2)
    assert parser.parse_args(["--seed", "1"]).seeds == 1


@pytest.mark.parametrize("name", ["iris", "hybrid_classifier", "digits_qnn"])
def test_missing_scikit_learn_names_the_extra_before_tensorflow(name):
    out, err = _probe(f"models.{name}", "--quick", hide=["sklearn"])
    assert "EXIT 2" in out and "TENSORFLOW False" in out, (out, err)
    assert "needs scikit-learn, which is not installed: pip install 'tfq-layers[models]'" in err


def test_missing_matplotlib_is_named_only_when_plots_are_asked_for():
    out, err = _probe("models.qbm", "--plots", "figures", hide=["matplotlib"])
    assert "EXIT 2" in out and "TENSORFLOW False" in out, (out, err)
    assert "needs matplotlib" in err and "tfq-layers[models]" in err
    out, _ = _probe("models.qbm", "--help", hide=["matplotlib"])
    assert "EXIT 0" in out


def test_installed_recipe_answers_help_without_importing_tensorflow():
    """``python -m tfq_layers.zoo.iris --help`` imports the package first; its start-up (which
    imports TensorFlow) waits until the recipe uses the API, after parsing."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tfq_layers.zoo.iris", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m tfq_layers.zoo.iris")
    imported = [line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line]
    assert "tfq_layers" in imported and "tensorflow" not in imported, imported


def test_package_run_as_a_program_starts_at_first_use():
    code = (
        "import sys\n"
        "sys.argv = ['-m']  # as while Python imports the packages of a module run with -m\n"
        "import tfq_layers\n"
        "print('TF AT IMPORT', 'tensorflow' in sys.modules)\n"
        "from tfq_layers import PQC, circuits\n"
        "print('STARTED', PQC.__name__, circuits.__name__, 'tensorflow' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        timeout=300,
    )
    assert "TF AT IMPORT False" in proc.stdout, proc.stderr[-2000:]
    assert "STARTED PQC tfq_layers.circuits True" in proc.stdout, proc.stderr[-2000:]
