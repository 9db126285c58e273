"""Faults and data safety: a killed training run resumes, a SavedModel serves 8 threads at once."""

import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

import reference

# Every test here runs Keras in subprocesses (killed, or writing into a full disk): `make
# test-slow`. What they check is this package's atomic writes and Keras's BackupAndRestore, not
# anything that changes with the TensorFlow version, so CI runs them on the 3.11 lane only.
pytestmark = pytest.mark.slow

TRAIN_SCRIPT = r"""
import os, sys, json, numpy as np, cirq, sympy
import tfq_layers
from tfq_layers import PQC
from tfq_layers._keras import keras

workdir, kill_after = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 2)).astype("float32")
y = (x[:, 0] > 0).astype("float32")
q = cirq.GridQubit.rect(1, 2)
xs, ws = sympy.symbols("x0:2"), sympy.symbols("w0:4")
circuit = cirq.Circuit(cirq.rx(xs[0]).on(q[0]), cirq.rx(xs[1]).on(q[1]), cirq.ry(ws[0]).on(q[0]),
                       cirq.ry(ws[1]).on(q[1]), cirq.CZ(*q), cirq.ry(ws[2]).on(q[0]),
                       cirq.ry(ws[3]).on(q[1]))
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((2,)), PQC(circuit, [cirq.Z(q[0])], input_symbols=xs),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(keras.optimizers.Adam(0.1), "binary_crossentropy")

class Journal(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        with open(os.path.join(workdir, "journal.txt"), "a") as f:
            f.write(f"{os.getpid()} begin {epoch}\n")
    def on_epoch_end(self, epoch, logs=None):
        with open(os.path.join(workdir, "journal.txt"), "a") as f:
            f.write(f"{os.getpid()} end {epoch} {logs['loss']:.6f}\n")
        if kill_after >= 0 and epoch == kill_after:
            os.kill(os.getpid(), 9)   # SIGKILL: no cleanup, no atexit, no flush of Keras state

backup = keras.callbacks.BackupAndRestore(os.path.join(workdir, "backup"))
model.fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=[backup, Journal()])
model.save(os.path.join(workdir, "final.keras"))
print("finished")
"""


def test_sigkilled_training_resumes_from_the_last_completed_epoch(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=reference.ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    first = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
    second = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "-1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert second.returncode == 0 and "finished" in second.stdout, second.stderr[-3000:]

    lines = [line.split() for line in (tmp_path / "journal.txt").read_text().splitlines()]
    pids = list(dict.fromkeys(p for p, *_ in lines))
    assert len(pids) == 2
    first_epochs = [int(e) for p, kind, e, *_ in lines if p == pids[0] and kind == "end"]
    second_epochs = [int(e) for p, kind, e, *_ in lines if p == pids[1] and kind == "begin"]
    assert first_epochs == [0, 1, 2]
    assert second_epochs == [3, 4, 5]  # resumed after the last completed epoch
    assert (tmp_path / "final.keras").exists()
    assert not (tmp_path / "backup").exists() or not os.listdir(tmp_path / "backup")


def test_saved_model_serves_eight_threads_like_sequential_calls(tmp_path):
    import cirq
    import sympy
    import tensorflow as tf

    from tfq_layers import PQC
    from tfq_layers._keras import keras

    q = cirq.GridQubit.rect(1, 3)
    xs, ws = sympy.symbols("x0:3"), sympy.symbols("w0:6")
    circuit = cirq.Circuit(
        [cirq.rx(sympy.atan(xs[i]) + ws[i]).on(q[i]) for i in range(3)],
        cirq.CNOT(q[0], q[1]),
        cirq.CNOT(q[1], q[2]),
        [cirq.ry(ws[3 + i]).on(q[i]) for i in range(3)],
    )
    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [keras.Input((3,)), PQC(circuit, [cirq.Z(qq) for qq in q], input_symbols=xs)]
    )
    export_dir = str(tmp_path / "export")
    serve = tf.function(lambda t: model(t), input_signature=[tf.TensorSpec((None, 3), tf.float32)])
    module = tf.Module()
    module.model, module.serve = model, serve
    tf.saved_model.save(module, export_dir)
    loaded = tf.saved_model.load(export_dir)

    rng = np.random.default_rng(5)
    batches = [rng.normal(size=(int(rng.integers(1, 40)), 3)).astype(np.float32) for _ in range(32)]
    sequential = [loaded.serve(tf.constant(b)).numpy() for b in batches]
    results = [None] * len(batches)
    errors = []
    start = threading.Barrier(8)

    def worker(k):
        try:
            start.wait()
            for i in range(k, len(batches), 8):
                results[i] = loaded.serve(tf.constant(batches[i])).numpy()
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for got, want in zip(results, sequential):
        np.testing.assert_array_equal(got, want)


# -- a save that fails part-way (disk full) keeps the previous file -----------------------------

SAVE_SCRIPT = r"""
import os, resource, signal, sys
import numpy as np, cirq, sympy
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a too-large write then fails with EFBIG
import tfq_layers
from tfq_layers import PQC, export, saving
from tfq_layers._keras import keras

target, how, seed, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
q = cirq.GridQubit.rect(1, 2)
xs, ws = sympy.symbols("x0:2"), sympy.symbols("w0:2")
circuit = cirq.Circuit(cirq.rx(xs[0]).on(q[0]), cirq.rx(xs[1]).on(q[1]), cirq.CZ(*q),
                       cirq.ry(ws[0]).on(q[0]), cirq.ry(ws[1]).on(q[1]))
keras.utils.set_random_seed(seed)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="tanh"),
                          PQC(circuit, [cirq.Z(q[0]), cirq.Z(q[1])], input_symbols=xs,
                              backend="statevector"),
                          keras.layers.Dense(256), keras.layers.Dense(1)])
x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
np.save(target + f".seed{seed}.npy", model.predict(x, verbose=0))
if limit > 0:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    if how == "keras":
        model.save(target)
    elif how == "helper":
        saving.save_model(model, target)
    else:
        export.save_serving(model, target)
    print("SAVED")
except Exception as err:
    print("FAILED", type(err).__name__, err)
"""


def _save_in_subprocess(tmp_path, target, how, seed, limit):
    script = tmp_path / "save.py"
    script.write_text(SAVE_SCRIPT)
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=reference.ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    done = subprocess.run(
        [sys.executable, str(script), str(target), how, str(seed), str(limit)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _predict(model_or_served, x):
    import tensorflow as tf

    if hasattr(model_or_served, "predict"):
        return model_or_served.predict(x, verbose=0)
    return model_or_served.serve(tf.constant(x)).numpy()


X_FAULT = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)


def test_disk_full_during_save_keeps_the_previous_model(tmp_path):
    from tfq_layers import saving

    target = tmp_path / "m.keras"
    assert "SAVED" in _save_in_subprocess(tmp_path, target, "helper", 1, 0)
    good_size = target.stat().st_size
    out = _save_in_subprocess(tmp_path, target, "helper", 2, good_size // 2)  # disk "full"
    assert "FAILED" in out and "File too large" in out, out
    assert sorted(p.name for p in tmp_path.iterdir() if ".tmp-" in p.name) == []
    assert target.stat().st_size == good_size
    model = saving.load_model(str(target), safe_mode=True)
    np.testing.assert_array_equal(_predict(model, X_FAULT), np.load(str(target) + ".seed1.npy"))


def test_keras_own_save_destroys_the_file_and_load_model_says_so(tmp_path):
    """Why saving.save_model exists: Keras truncates the target first. The damage is reported
    clearly by saving.load_model instead of Keras' "File not found"."""
    from tfq_layers import SerializationError, saving

    target = tmp_path / "m.keras"
    assert "SAVED" in _save_in_subprocess(tmp_path, target, "helper", 1, 0)
    out = _save_in_subprocess(tmp_path, target, "keras", 2, target.stat().st_size // 2)
    assert "FAILED" in out, out
    with pytest.raises(SerializationError, match=r"m.keras is not a complete .keras archive"):
        saving.load_model(str(target), safe_mode=True)


def test_failed_export_leaves_the_previous_export_in_place(tmp_path):
    import tensorflow as tf

    target = tmp_path / "served"
    assert "SAVED" in _save_in_subprocess(tmp_path, target, "export", 1, 0)
    before = sorted(str(p.relative_to(target)) for p in target.rglob("*"))
    out = _save_in_subprocess(tmp_path, target, "export", 2, 4096)
    assert "FAILED" in out, out
    assert sorted(p.name for p in tmp_path.iterdir() if ".tmp-" in p.name) == []
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == before
    served = tf.saved_model.load(str(target))
    np.testing.assert_allclose(
        _predict(served, X_FAULT), np.load(str(target) + ".seed1.npy"), rtol=1e-6, atol=1e-6
    )
    # and a successful export replaces it
    assert "SAVED" in _save_in_subprocess(tmp_path, target, "export", 2, 0)
    served = tf.saved_model.load(str(target))
    np.testing.assert_allclose(
        _predict(served, X_FAULT), np.load(str(target) + ".seed2.npy"), rtol=1e-6, atol=1e-6
    )
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old" in p.name] == []
