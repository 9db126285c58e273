"""The recipes' command line: one shared parser, no prefix matching, parsed before TensorFlow."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


def _probe(module, *args):
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, module, *args],
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
