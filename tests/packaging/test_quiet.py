"""`import tfq_layers` keeps TensorFlow's C++ start-up lines off stderr, and can be told not to.

The import itself initialises nothing in TensorFlow's runtime (so ``tf.config`` calls may follow
it: ``tests/errors/test_bad_input_surfaces.py`` checks that in a fresh process); XLA's once-per-process
lines are filtered when the first backend is built, which the program below does before its
XLA-compiled ``fit``.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOISE = [
    "cuda_dnn.cc",
    "cuda_blas.cc",
    "cuda_fft.cc",
    "absl::InitializeLog",
    "cuInit",
    "XLA service",
    "Compiled cluster using XLA",
]

# Imports tfq_layers first, then trains a statevector (XLA-compiled) PQC model for one step.
PROGRAM = """
import tfq_layers
import cirq, sympy, numpy as np
from tfq_layers import PQC
from tfq_layers._keras import keras
q = cirq.GridQubit(0, 0)
x = sympy.Symbol("x")
model = keras.Sequential([keras.Input((1,)),
                          PQC(cirq.Circuit(cirq.rx(x).on(q), cirq.ry(sympy.Symbol("w")).on(q)),
                              [cirq.Z(q)], input_symbols=[x])])
model.compile("sgd", "mse", jit_compile=True)
model.fit(np.zeros((4, 1), "float32"), np.zeros((4, 1), "float32"), verbose=0)
print("DONE")
"""


def _run(code, **env):
    base = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    base["PYTHONPATH"] = ROOT
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**base, **env},
        cwd=ROOT,
    )


def test_import_and_first_fit_leave_stderr_free_of_start_up_lines():
    proc = _run(PROGRAM)
    assert proc.returncode == 0 and "DONE" in proc.stdout, proc.stderr[-3000:]
    found = [line for line in proc.stderr.splitlines() if any(n in line for n in NOISE)]
    assert found == [], found


def test_level_zero_shows_tensorflows_lines_again():
    proc = _run("import tfq_layers", TF_CPP_MIN_LOG_LEVEL="0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "cpu_feature_guard" in proc.stderr or "oneDNN" in proc.stderr, proc.stderr[-3000:]


def test_other_output_written_during_the_import_is_kept():
    code = (
        "import os, sys\n"
        "from tfq_layers._quiet import filtered_startup_stderr\n"
        "with filtered_startup_stderr() as active:\n"
        "    os.write(2, b'E0000 cuda_dnn.cc:8310] Unable to register cuDNN factory: x\\n')\n"
        "    print('a real warning', file=sys.stderr)\n"
        "    os.write(2, b'I tensorflow/core/util/port.cc:153] oneDNN custom operations are on.\\n')\n"
        "print('ACTIVE', active)\n"
    )
    # The filter module alone, as a top-level module: importing it through the package would
    # import TensorFlow first, and the filter only acts before that.
    proc = subprocess.run(
        [sys.executable, "-c", code.replace("from tfq_layers._quiet", "from _quiet")],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
        cwd=os.path.join(ROOT, "tfq_layers"),
    )
    assert "ACTIVE True" in proc.stdout, proc.stdout + proc.stderr
    assert proc.stderr == "a real warning\n", proc.stderr
