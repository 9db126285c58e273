"""The legacy tf_keras lane: the layer test modules run again with TF_USE_LEGACY_KERAS=1."""

import os
import subprocess
import sys

import pytest

from tfq_layers._keras import LEGACY

import reference

#: The layer test modules run again under tf_keras, relative to tests/.
LEGACY_MODULES = [
    "layers/test_pqc.py",
    "errors/test_pqc_errors.py",
    "saving/test_saving.py",
    "compat/test_compat_layers.py",
    "compile/test_bounded_expressions.py",
    "generative/test_generator_data_checks.py",
    "layers/test_outputs.py",
    "layers/test_mixed_precision.py",
]


@pytest.mark.slow  # the eight modules again, in a subprocess: `make test-slow`
@pytest.mark.skipif(LEGACY, reason="already running in the legacy lane")
def test_layer_suite_passes_under_tf_keras():
    pytest.importorskip("tf_keras", reason="the legacy lane (tf_keras) is not installed here")
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *[os.path.join(reference.TESTS, m) for m in LEGACY_MODULES],
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=reference.ROOT,
        timeout=1200,
    )
    tail = "\n".join(proc.stdout.splitlines()[-25:])
    assert proc.returncode == 0, f"legacy lane failed:\n{tail}\n{proc.stderr[-3000:]}"
    assert " passed" in tail and "failed" not in tail, tail


SEEDED_BUILD = """
import sys
import tf_keras
tf_keras.utils.set_random_seed(3)      # a seed set before tfq_layers is imported ...
import tfq_layers
from tfq_layers import _tf_keras_seed
first = tf_keras.layers.Dense(3)
first.build((None, 2))                 # ... and after it: tf_keras 2.18.0 draws randint(1, 1e9)
tf_keras.utils.set_random_seed(3)
second = tf_keras.layers.Dense(3)
second.build((None, 2))
assert (first.kernel.numpy() == second.kernel.numpy()).all()
print("SEEDED BUILD OK", _tf_keras_seed.needed(), sys.version_info[:2])
"""


@pytest.mark.skipif(LEGACY, reason="runs its own tf_keras process")
def test_seeded_tf_keras_layers_build_on_every_python():
    """tf_keras 2.18.0's seeding fails on Python 3.12 without tfq_layers' workaround."""
    pytest.importorskip("tf_keras", reason="the legacy lane (tf_keras) is not installed here")
    out = reference.run_python(SEEDED_BUILD, env_extra={"TF_USE_LEGACY_KERAS": "1"}, timeout=600)
    assert "SEEDED BUILD OK" in out
