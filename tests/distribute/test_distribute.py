"""Tests for tfq_layers.distribute: multi-worker ``model.fit`` on two local worker processes.

The end-to-end tests start two workers on 127.0.0.1 (``launch_workers`` on this very file, whose
``__main__`` part is the worker program), train with plain ``model.fit`` under
``strategy.scope()``, and compare against an independent reference: the same model trained by
plain Keras in one process, without any strategy, on the same global batches. Both Keras lanes
run: Keras 3 (with the fix) and tf_keras (``TF_USE_LEGACY_KERAS=1``, no fix needed).

The worker is generic: ``--build-model MODULE:FUNCTION`` returns a compiled model (built inside
the strategy scope), ``--data MODULE:FUNCTION`` returns ``(x, y)`` NumPy arrays; swap in a PQC
model by pointing them elsewhere, e.g.
``python -m tfq_layers.distribute --workers 2 -- tests/distribute/test_distribute.py --out /tmp/run
--build-model mypkg.models:build_pqc --data mypkg.models:make_data``.
"""

import argparse
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
THIS = os.path.abspath(__file__)
GLOBAL_BATCH = 16
EPOCHS = 4
N_SAMPLES = 64


# ------------------------------------------------------------------------------------------
# Models and data for the worker (importable as tests.distribute.test_distribute:...)
# ------------------------------------------------------------------------------------------


def build_dense_model():
    """A small compiled Dense regression model (4 -> 8 tanh -> 1), plain SGD, MSE."""
    from tfq_layers._keras import keras

    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
    return model


def build_zoo_hybrid_classifier():
    """The zoo's hybrid classifier (models.hybrid_classifier, the `make demo` model).

    Recompiled with plain SGD: Adam's per-weight normalization turns the float32 rounding of the
    cross-worker gradient sum into ~1e-3 weight differences after a few epochs, which would hide
    a real mismatch against the single-process reference this test compares with at 1e-4.
    """
    from models import hybrid_classifier
    from tfq_layers._keras import keras

    model = hybrid_classifier.build_model(n_features=30)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.3),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


def zoo_hybrid_classifier_data():
    """64 training rows of the breast-cancer data the zoo's hybrid classifier uses."""
    from models import hybrid_classifier

    data = hybrid_classifier.load_data(seed=0)
    return data["x_train"][:64].astype("float32"), data["y_train"][:64].astype("float32")


def make_regression_data():
    """64 rows of 4 normal features and y = sin(x . v) + x0 / 2; fixed seed."""
    rng = np.random.default_rng(1234)
    x = rng.normal(size=(N_SAMPLES, 4)).astype("float32")
    y = (np.sin(x @ np.array([0.7, -1.1, 0.4, 0.9])) + 0.5 * x[:, 0])[:, None].astype("float32")
    return x, y


# ------------------------------------------------------------------------------------------
# Worker program
# ------------------------------------------------------------------------------------------


def _load(spec):
    module_name, _, function_name = spec.partition(":")
    if not function_name:
        raise ValueError(f"Expected MODULE:FUNCTION, received {spec!r}.")
    return getattr(importlib.import_module(module_name), function_name)


def _split_check(strategy, keras, tf):
    """Record which rows each worker's replica sees, per step (numpy input, shuffle=False)."""
    seen = []

    def record(batch):
        seen.append(batch.numpy()[:, 0].astype(int).tolist())
        return np.int64(0)

    class Recorder(keras.layers.Layer):
        def call(self, inputs, training=None):
            if training:
                token = tf.py_function(record, [inputs], Tout=tf.int64)
                with tf.control_dependencies([token]):
                    inputs = tf.identity(inputs)
            return inputs[:, 1:]

    n = 36  # 4 full global batches of 8 and a last partial one of 4
    x = np.stack([np.arange(n), np.linspace(-1, 1, n)], axis=1).astype("float32")
    y = (2 * x[:, 1:]).astype("float32")
    with strategy.scope():
        model = keras.Sequential([keras.Input((2,)), Recorder(), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return seen


def worker_main(argv=None):
    parser = argparse.ArgumentParser(description="one worker of the multi-worker fit test")
    parser.add_argument("--out", required=True, help="directory for worker{i}.npz")
    parser.add_argument(
        "--build-model", default="tests.distribute.test_distribute:build_dense_model"
    )
    parser.add_argument("--data", default="tests.distribute.test_distribute:make_regression_data")
    parser.add_argument("--batch-size", type=int, default=GLOBAL_BATCH)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--split-check", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, REPO)

    from tfq_layers import distribute

    strategy = distribute.multi_worker_strategy()
    import tensorflow as tf

    from tfq_layers._keras import LEGACY, keras

    build_model, make_data = _load(args.build_model), _load(args.data)
    x, y = make_data()
    keras.utils.set_random_seed(7)
    with strategy.scope():
        model = build_model()
        if not model.built:
            model(x[:2])
    initial = model.get_weights()
    validation = (x[: args.batch_size], y[: args.batch_size])
    history = model.fit(
        x,
        y,
        batch_size=args.batch_size,
        epochs=args.epochs,
        shuffle=False,
        verbose=0,
        validation_data=validation,
    ).history
    final = model.get_weights()
    evaluation = model.evaluate(x, y, batch_size=args.batch_size, verbose=0, return_dict=True)
    prediction = model.predict(x, batch_size=args.batch_size, verbose=0)

    local_prediction = np.asarray(model(x, training=False))  # eager, on this worker alone

    # Independent reference: plain Keras, one process, no strategy, same global batches.
    reference = build_model()
    if not reference.built:
        reference(x[:2])
    reference.set_weights(initial)
    ref_history = reference.fit(
        x,
        y,
        batch_size=args.batch_size,
        epochs=args.epochs,
        shuffle=False,
        verbose=0,
        validation_data=validation,
    ).history

    arrays = {f"initial_{i}": w for i, w in enumerate(initial)}
    arrays.update({f"final_{i}": w for i, w in enumerate(final)})
    arrays.update({f"reference_{i}": w for i, w in enumerate(reference.get_weights())})
    arrays["prediction"] = prediction
    arrays["local_prediction"] = local_prediction
    arrays["y"] = y
    info = {
        "worker": distribute.worker_index(),
        "legacy": LEGACY,
        "keras": keras.__version__,
        "replicas": strategy.num_replicas_in_sync,
        "fix_installed": distribute.multi_worker_fix_installed(),
        "n_weights": len(initial),
        "loss": [float(v) for v in history["loss"]],
        "ref_loss": [float(v) for v in ref_history["loss"]],
        "val_loss": [float(v) for v in history["val_loss"]],
        "ref_val_loss": [float(v) for v in ref_history["val_loss"]],
        "eval": {k: float(v) for k, v in evaluation.items()},
        "loss_name": model.loss if isinstance(model.loss, str) else type(model.loss).__name__,
        "split": _split_check(strategy, keras, tf) if args.split_check else None,
    }
    arrays["info"] = np.array(json.dumps(info))
    os.makedirs(args.out, exist_ok=True)
    np.savez(os.path.join(args.out, f"worker{info['worker']}.npz"), **arrays)
    print("WORKER DONE", json.dumps({k: info[k] for k in ("worker", "loss", "fix_installed")}))


# ------------------------------------------------------------------------------------------
# Test side
# ------------------------------------------------------------------------------------------


def _env(legacy):
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONHASHSEED"] = "0"
    env["CUDA_VISIBLE_DEVICES"] = ""
    env.pop("TF_CONFIG", None)
    if legacy:
        env["TF_USE_LEGACY_KERAS"] = "1"
    else:
        env.pop("TF_USE_LEGACY_KERAS", None)
    return env


FAIL_ONE_SCRIPT = """\
import json, os, sys, time
index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
print("worker", index, "argv", sys.argv[1:], flush=True)
if index == 1:
    sys.exit(3)
time.sleep(150)
"""

PLAIN_KERAS3_SCRIPT = """\
import numpy as np, tensorflow as tf, keras
keras.config.disable_traceback_filtering()
strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
x = np.ones((32, 4), "float32")
model.fit(x, x[:, :1], batch_size=8, epochs=1, verbose=0)
"""


# Exactly what a user writes, in either lane (tf.keras is Keras 3, or tf_keras under
# TF_USE_LEGACY_KERAS=1): the strategy first, then `import tfq_layers`, build and compile in the
# scope, fit. No launcher and no call into tfq_layers.distribute: the import has to be enough.
USER_ORDER_SCRIPT = """\
import json
import numpy as np
import tensorflow as tf

strategy = tf.distribute.MultiWorkerMirroredStrategy()

import cirq, sympy
import tfq_layers
from tfq_layers import PQC

keras = tf.keras
q = cirq.GridQubit.rect(1, 2)
x0, x1, w0, w1 = sympy.symbols("x0 x1 w0 w1")
circuit = cirq.Circuit(cirq.rx(x0).on(q[0]), cirq.rx(x1).on(q[1]), cirq.CNOT(q[0], q[1]),
                       cirq.ry(w0).on(q[0]), cirq.ry(w1).on(q[1]))
keras.utils.set_random_seed(0)
with strategy.scope():
    model = keras.Sequential([
        keras.Input((2,)),
        PQC(circuit, [cirq.Z(q[0]), cirq.Z(q[1])], input_symbols=[x0, x1]),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
x = np.random.default_rng(0).uniform(-1, 1, size=(64, 2)).astype("float32")
y = (x[:, 0] > 0).astype("float32")
history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
weights = float(sum(np.abs(w).sum() for w in model.get_weights()))
print("USER FIT", json.dumps({"replicas": strategy.num_replicas_in_sync,
                              "loss": history.history["loss"], "weights": weights,
                              "keras": type(model).__module__.split(".")[0]}), flush=True)
"""


def _run_as_user(script, legacy, out_dir, timeout=170):
    """Start ``python script`` twice with the two workers' TF_CONFIG, as a cluster manager would.

    Returns ``[(returncode, output), ...]``; a worker still running at ``timeout`` is killed.
    """
    import signal

    from tfq_layers.distribute import free_ports, tf_config

    ports = free_ports(2)
    procs, logs = [], []
    for index in range(2):
        env = _env(legacy)
        env["TF_CONFIG"] = tf_config(index, ports)
        env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
        log = open(os.path.join(out_dir, f"user_worker{index}.log"), "w+")
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [sys.executable, script],
                env=env,
                cwd=out_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    deadline = time.monotonic() + timeout
    results = []
    for proc, log in zip(procs, logs):
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.seek(0)
        results.append((proc.returncode, log.read()))
        log.close()
    return results


# The lane runs train the zoo's hybrid classifier (Dense -> PQC -> Dense on breast cancer).
PQC_ARGS = [
    "--build-model",
    "tests.distribute.test_distribute:build_zoo_hybrid_classifier",
    "--data",
    "tests.distribute.test_distribute:zoo_hybrid_classifier_data",
    "--epochs",
    "8",
]


@pytest.fixture(scope="module")
def cluster_runs(tmp_path_factory):
    """Six 2-worker runs, started together to share the wall-clock time.

    "keras3" and "tf_keras": this file's worker in each lane; "plain_keras3": stock Keras 3
    without the fix; "fail_one": worker 1 exits with 3 while worker 0 sleeps; "user_keras3" and
    "user_tf_keras": USER_ORDER_SCRIPT started without the launcher, in each lane.
    """
    from tfq_layers.distribute import launch_workers

    base = tmp_path_factory.mktemp("clusters")
    plain = base / "plain_keras3.py"
    plain.write_text(PLAIN_KERAS3_SCRIPT)
    fail_one = base / "fail_one.py"
    fail_one.write_text(FAIL_ONE_SCRIPT)
    jobs = {
        "keras3": (THIS, ["--out", str(base / "keras3"), "--split-check", *PQC_ARGS], False, 5),
        "tf_keras": (THIS, ["--out", str(base / "tf_keras"), *PQC_ARGS], True, 5),
        "plain_keras3": (str(plain), [], False, 30),
        "fail_one": (str(fail_one), ["--x", "1"], False, 1),
    }
    runs = {}

    def run(name, target, args, legacy, grace):
        start = time.monotonic()
        results = launch_workers(
            target, 2, args=args, env=_env(legacy), cwd=REPO, timeout=170, grace=grace
        )
        runs[name] = (args[1] if args[:1] == ["--out"] else None, results)
        runs[name + ":seconds"] = time.monotonic() - start

    user = base / "user_order.py"
    user.write_text(USER_ORDER_SCRIPT)

    def run_as_user(name, legacy):
        start = time.monotonic()
        out_dir = base / name
        out_dir.mkdir()
        runs[name] = _run_as_user(str(user), legacy, str(out_dir))
        runs[name + ":seconds"] = time.monotonic() - start

    threads = [
        threading.Thread(target=run, args=(name, *job), daemon=True) for name, job in jobs.items()
    ] + [
        threading.Thread(target=run_as_user, args=(f"user_{lane}", lane == "tf_keras"), daemon=True)
        for lane in ("keras3", "tf_keras")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=200)
    return runs


def _numpy_loss(name, arrays):
    """The model's loss over all rows, computed in NumPy from this worker's own forward pass."""
    pred, y = arrays["local_prediction"].astype(np.float64), arrays["y"].astype(np.float64)
    if name == "mse":
        return float(np.mean((pred - y) ** 2))
    if name == "binary_crossentropy":
        p = np.clip(pred.reshape(y.shape), 1e-7, 1 - 1e-7)  # Keras's epsilon clipping
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    raise AssertionError(f"no NumPy reference for loss {name!r}")


def _load_worker(out, index):
    with np.load(os.path.join(out, f"worker{index}.npz")) as data:
        info = json.loads(str(data["info"]))
        arrays = {key: data[key] for key in data.files if key != "info"}
    n = info["n_weights"]
    weights = {
        kind: [arrays[f"{kind}_{i}"] for i in range(n)]
        for kind in ("initial", "final", "reference")
    }
    return info, weights, arrays


# tf_keras (the legacy lane) comes with TFQ's dependencies; without it that lane cannot run.
LANES = [
    "keras3",
    pytest.param(
        "tf_keras",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("tf_keras") is None, reason="tf_keras is not installed"
        ),
    ),
]


@pytest.mark.parametrize("lane", LANES)
def test_two_workers_fit_matches_single_process(cluster_runs, lane):
    legacy = lane == "tf_keras"
    out, results = cluster_runs[lane]
    for result in results:
        assert result.returncode == 0, (result, result.output[-4000:])
    (info0, w0, a0), (info1, w1, a1) = _load_worker(out, 0), _load_worker(out, 1)

    assert info0["legacy"] is legacy and info0["replicas"] == 2
    assert info0["fix_installed"] is (not legacy)
    # Both workers start and end with bit-identical weights (mirrored variables).
    for a, b in zip(w0["initial"], w1["initial"]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(w0["final"], w1["final"]):
        np.testing.assert_array_equal(a, b)
    # Training happened and the loss fell.
    assert any(not np.allclose(a, b) for a, b in zip(w0["initial"], w0["final"]))
    assert info0["loss"][-1] < 0.7 * info0["loss"][0], info0["loss"]
    # Same steps as one process with the same global batch: weights and logged loss.
    for got, want in zip(w0["final"], w0["reference"]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(info0["loss"], info0["ref_loss"], rtol=1e-4)
    np.testing.assert_allclose(info0["val_loss"], info0["ref_val_loss"], rtol=1e-4)
    np.testing.assert_allclose(info1["loss"], info0["loss"], rtol=1e-6)
    # predict ("concat" reduction) returns every row, in order, on every worker; evaluate's
    # loss is the MSE over all rows.
    np.testing.assert_allclose(a0["prediction"], a0["local_prediction"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a1["prediction"], a0["prediction"], rtol=1e-6, atol=1e-7)
    assert info0["eval"]["loss"] == pytest.approx(_numpy_loss(info0["loss_name"], a0), rel=1e-4)
    assert info1["eval"]["loss"] == pytest.approx(info0["eval"]["loss"], rel=1e-6)

    if info0["split"] is not None:
        # Global batch 8 of 36 rows: worker i gets rows [8k + 4i, 8k + 4i + 4) of batch k,
        # and the last partial batch (rows 32-35) is split 2 + 2.
        expected = {
            index: [list(range(8 * k + 4 * index, 8 * k + 4 * index + 4)) for k in range(4)]
            + [[32 + 2 * index, 33 + 2 * index]]
            for index in (0, 1)
        }
        assert info0["split"] == expected[0]
        assert info1["split"] == expected[1]


@pytest.mark.parametrize("lane", LANES)
def test_user_order_strategy_then_import_then_fit(cluster_runs, lane):
    """Strategy, `import tfq_layers`, scope, compile, fit: trains on two workers in both lanes."""
    results = cluster_runs[f"user_{lane}"]
    reports = []
    for returncode, output in results:
        assert returncode == 0, output[-4000:]
        line = next(ln for ln in output.splitlines() if ln.startswith("USER FIT "))
        reports.append(json.loads(line[len("USER FIT ") :]))
    assert [r["replicas"] for r in reports] == [2, 2]
    assert reports[0]["keras"] == ("tf_keras" if lane == "tf_keras" else "keras")
    assert all(np.isfinite(r["loss"]).all() for r in reports)
    # Mirrored variables: the same weights and the same logged loss on both workers.
    assert reports[0]["weights"] == pytest.approx(reports[1]["weights"], rel=1e-6)
    np.testing.assert_allclose(reports[0]["loss"], reports[1]["loss"], rtol=1e-6)


def test_keras3_without_fix_reproduces_the_bug(cluster_runs):
    """Stock Keras 3 fails as reported upstream; if this starts passing, Keras fixed it."""
    _, results = cluster_runs["plain_keras3"]
    assert all(result.returncode != 0 for result in results), results
    output = next(r.output for r in results if not (r.stopped or r.timed_out))
    assert "in _maybe_symbolic_build" in output, output[-3000:]
    assert "Attempt to convert a value (PerReplica" in output, output[-3000:]


def test_fix_is_reversible_neutral_in_one_process_and_startup_error_is_actionable():
    """In one process (subprocess, Keras 3 lane):

    * with or without the fix, a local strategy trains to bit-identical weights and losses;
    * install/uninstall/context manager put exactly Keras's own functions back;
    * a worker whose TensorFlow started before its first strategy gets an error naming the fix.
    """
    script = r"""
import json, os, numpy as np, tensorflow as tf
from tfq_layers import distribute
from tfq_layers._keras import keras
from keras.src.backend.tensorflow import trainer
assert distribute.multi_worker_fix_installed()  # `import tfq_layers` installed it
distribute.uninstall_multi_worker_fix()
os.environ["TFQ_LAYERS_MULTI_WORKER_FIX"] = "0"  # the opt-out
assert distribute.install_on_import() is False and not distribute.multi_worker_fix_installed()
del os.environ["TFQ_LAYERS_MULTI_WORKER_FIX"]
originals = (trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica)
strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
x = np.linspace(-1, 1, 48, dtype="float32").reshape(24, 2); y = x.sum(1, keepdims=True) ** 2

def train():
    with strategy.scope():
        m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(1)])
        m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    m.set_weights([np.full(w.shape, 0.1 * (i + 1), "float32")
                   for i, w in enumerate(m.get_weights())])
    h = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
    return m.get_weights(), h

plain_w, plain_h = train()
assert distribute.install_multi_worker_fix() is True and distribute.install_multi_worker_fix()
assert distribute.multi_worker_fix_installed()
patched = (trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica)
assert patched[0] is not originals[0] and patched[1] is not originals[1]
fixed_w, fixed_h = train()
distribute.uninstall_multi_worker_fix()
assert not distribute.multi_worker_fix_installed()
assert (trainer.TensorFlowTrainer._maybe_symbolic_build, trainer.reduce_per_replica) == originals
with distribute.multi_worker_fix():
    assert distribute.multi_worker_fix_installed()
assert not distribute.multi_worker_fix_installed()
for a, b in zip(plain_w, fixed_w):
    np.testing.assert_array_equal(a, b)
assert plain_h == fixed_h and plain_h[-1] < plain_h[0]
print("SAME", json.dumps(plain_h))

os.environ["TF_CONFIG"] = distribute.tf_config(0, distribute.free_ports(2))
try:
    distribute.multi_worker_strategy()
except RuntimeError as err:
    print("ERROR:", err)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=_env(False),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "SAME" in proc.stdout, proc.stderr[-3000:]
    assert "ERROR: TensorFlow must create the first MultiWorkerMirroredStrategy" in proc.stdout
    # import tfq_layers alone leaves the runtime alone (test_quiet checks it); here layers ran
    assert (
        "some TensorFlow op already ran" in proc.stdout
        or "importing tensorflow_quantum initialises it" in proc.stdout
    )
    assert "python -m tfq_layers.distribute" in proc.stdout


def test_a_failing_worker_stops_the_others(cluster_runs):
    from tfq_layers.distribute.launcher import exit_status

    _, results = cluster_runs["fail_one"]
    assert cluster_runs["fail_one:seconds"] < 100  # not the 150 s worker 0 would sleep
    assert results[1].returncode == 3 and not results[1].stopped and not results[1].timed_out
    assert results[0].returncode != 0 and results[0].stopped and not results[0].timed_out
    assert "worker 0 argv ['--x', '1']" in results[0].output
    assert exit_status(results) == 3


def test_worker_config_and_tf_config():
    from tfq_layers.distribute import free_ports, tf_config, worker_config

    ports = free_ports(3)
    assert len(set(ports)) == 3 and all(0 < p < 65536 for p in ports)
    config = worker_config(2, ports)
    assert config == {
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
        "task": {"type": "worker", "index": 2},
    }
    assert json.loads(tf_config(0, ["10.0.0.1:2222", "10.0.0.2:2222"]))["cluster"]["worker"] == [
        "10.0.0.1:2222",
        "10.0.0.2:2222",
    ]
    with pytest.raises(ValueError, match=r"index=2"):
        worker_config(2, [1000, 1001])
    with pytest.raises(ValueError, match=r"index=True"):
        worker_config(True, [1000, 1001])
    with pytest.raises(ValueError, match="distinct"):
        worker_config(0, [1000, 1000])
    with pytest.raises(ValueError, match="70000"):
        worker_config(0, [70000])
    with pytest.raises(ValueError, match="'localhost'"):
        worker_config(0, ["localhost"])
    with pytest.raises(ValueError, match="1234"):
        worker_config(0, 1234)
    with pytest.raises(ValueError, match="n=0"):
        free_ports(0)


def test_reading_tf_config(monkeypatch):
    from tfq_layers import distribute

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert (distribute.is_worker(), distribute.worker_index(), distribute.num_workers()) == (
        False,
        0,
        1,
    )
    assert distribute.is_chief()
    monkeypatch.setenv("TF_CONFIG", distribute.tf_config(1, [1000, 1001, 1002]))
    assert distribute.is_worker() and distribute.worker_index() == 1
    assert distribute.num_workers() == 3 and not distribute.is_chief()
    monkeypatch.setenv("TF_CONFIG", distribute.tf_config(0, [1000, 1001]))
    assert distribute.is_chief()
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="not json"):
        distribute.is_worker()
    monkeypatch.setenv("TF_CONFIG", distribute.tf_config(0, [1000, 1001]))
    with pytest.raises(RuntimeError, match="inside a worker"):
        distribute.relaunch(2)  # a worker must not start workers


def test_bad_launch_arguments_are_rejected_early(capsys):
    from tfq_layers import distribute

    with pytest.raises(ValueError, match="n_workers=0"):
        distribute.launch_workers("models.x", 0)
    with pytest.raises(ValueError, match="does not exist"):
        distribute.launch_workers("no/such/script.py", 2)
    with pytest.raises(ValueError, match="neither a module"):
        distribute.launch_workers("not a module", 2)
    with pytest.raises(ValueError, match="timeout"):
        distribute.launch_workers("models.x", 2, timeout=-1)
    with pytest.raises(ValueError, match="communication='gloo'"):
        distribute.launch_workers("models.x", 2, communication="gloo")
    with pytest.raises(SystemExit):
        distribute.main(["--workers", "2"])  # no program after --
    assert "give the program after '--'" in capsys.readouterr().err


if __name__ == "__main__":
    worker_main()
