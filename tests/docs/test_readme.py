"""The README's quick start works when pasted: run it in a fresh process in an empty folder."""

import os
import re
import subprocess
import sys

import reference

from tfq_layers._quiet import STARTUP_NOISE


def _blocks_after(heading):
    text = open(os.path.join(reference.ROOT, "README.md")).read()
    section = text.split(heading, 1)[1]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_quick_start_runs_learns_and_reloads(tmp_path):
    """As written (seed, 10 epochs): the last epoch's accuracy is above 0.9, and it reloads."""
    train, reload = _blocks_after("## Quick start")[:2]
    code = (
        f"import os; os.chdir({str(tmp_path)!r})\n"
        + train
        + "\nprint('FINAL ACCURACY', model.history.history['accuracy'][-1])\n"
    )
    out = reference.run_python(code)
    accuracy = float(out.split("FINAL ACCURACY")[1].split()[0])
    assert accuracy > 0.9, out[-2000:]
    assert "Captures" not in out  # model.export(..., verbose=False)
    assert (tmp_path / "quantum_model.keras").exists()
    # The reload snippet and the TFLite snippet after it, as pasted, in one fresh process: no
    # TensorFlow start-up line may reach the terminal (the snippet imports the package first).
    tflite = _blocks_after("## Quick start")[2]
    proc = subprocess.run(
        [sys.executable, "-c", reload + tflite],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": reference.ROOT},
        timeout=600,
    )
    out = proc.stdout.decode()
    err = proc.stderr.decode()
    # where the TFLite interpreter has no Flex delegate (TensorFlow 2.21), to_tflite says so
    flexless = "select ops (tf.Atan)" in err and "cannot run" in err
    assert proc.returncode == 0 or flexless, err[-3000:]
    assert "[[" in out and ("needs the Flex delegate for Atan" in out or flexless), out
    noise = [line for line in proc.stderr.splitlines() if STARTUP_NOISE.search(line)]
    assert not noise, noise
    assert (tmp_path / "quantum_model.tflite").exists() != flexless


def test_generators_example_runs():
    (code,) = _blocks_after("## Generators")[:1]
    out = reference.run_python(code.replace("epochs=200", "epochs=2"))
    assert "[[" in out


def test_coming_from_tfq_example_trains_and_saves(tmp_path):
    (code,) = _blocks_after("## Coming from TFQ")[:1]
    out = reference.run_python(f"import os; os.chdir({str(tmp_path)!r})\n" + code)
    pred = [float(v) for v in out.replace("[", " ").replace("]", " ").split()]
    assert len(pred) == 2 and pred[0] > 0.9 and pred[1] < -0.9, out
    assert (tmp_path / "controller.keras").exists()
