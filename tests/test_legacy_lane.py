"""The legacy tf_keras lane: the layer test modules run again with TF_USE_LEGACY_KERAS=1."""
import os
import subprocess
import sys

import pytest

from tfq_layers._keras import LEGACY

HERE = os.path.dirname(os.path.abspath(__file__))
LEGACY_MODULES = ["test_pqc.py", "test_pqc_errors.py", "test_saving.py", "test_compat_layers.py",
                  "test_bounded_expressions.py", "test_generator_data_checks.py",
                  "test_outputs.py", "test_mixed_precision.py"]


@pytest.mark.skipif(LEGACY, reason="already running in the legacy lane")
def test_layer_suite_passes_under_tf_keras():
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         *[os.path.join(HERE, m) for m in LEGACY_MODULES]],
        capture_output=True, text=True, env=env, cwd=os.path.dirname(HERE), timeout=1200)
    tail = "\n".join(proc.stdout.splitlines()[-25:])
    assert proc.returncode == 0, f"legacy lane failed:\n{tail}\n{proc.stderr[-3000:]}"
    assert " passed" in tail and "failed" not in tail, tail
