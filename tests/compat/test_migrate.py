"""``python -m tfq_layers.migrate``: each rewrite on small inputs (and that Keras 3 runs the result
where it refuses the original), notebooks round trip, idempotence, the printed advice, the CLI."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from reference import ROOT
from tfq_layers.migrate import migrate_file, migrate_notebook, migrate_source


def _new(text):
    return migrate_source(textwrap.dedent(text))[0]


@pytest.mark.parametrize(
    "before, after",
    [
        ("import tensorflow_quantum as tfq\n", "import tfq_layers.compat as tfq\n"),
        ("import cirq, tensorflow_quantum as q\n", "import cirq, tfq_layers.compat as q\n"),
        (
            "from tensorflow_quantum import layers\n",
            "from tfq_layers.compat import layers\n",
        ),
        ("import os\nos.environ['TF_USE_LEGACY_KERAS'] = '1'\nx = 1\n", "import os\nx = 1\n"),
        ('os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # Keras 2\nx = 1\n', "x = 1\n"),
        ("if True:\n    os.environ['TF_USE_LEGACY_KERAS'] = '1'\n", "if True:\n    pass\n"),
        ("%env TF_USE_LEGACY_KERAS=1\nx = 1\n", "x = 1\n"),
        ("tf.keras.Input(shape=(1))\n", "tf.keras.Input(shape=(1,))\n"),
        (
            "tf.keras.layers.Input(shape=1, name='a')\n",
            "tf.keras.layers.Input(shape=(1,), name='a')\n",
        ),
        ("Dense(2, input_shape=( 4 ))\n", "Dense(2, input_shape=( 4, ))\n"),
        ("tf.keras.Input(shape=(2, 3))\n", "tf.keras.Input(shape=(2, 3))\n"),
        (
            "import tensorflow as tf\nloss = tf.keras.losses.mean_squared_error\n",
            "import tensorflow as tf\nloss = tf.keras.losses.MSE\n",
        ),
        (
            "from tensorflow import keras as k\nm = k.metrics.mean_absolute_error(a, b)\n",
            "from tensorflow import keras as k\nm = k.metrics.MAE(a, b)\n",
        ),
        (
            "from tensorflow.keras.losses import mean_squared_error, Huber\n",
            "from tensorflow.keras.losses import MSE as mean_squared_error, Huber\n",
        ),
        (
            "import tensorflow as tf\nopt = tf.keras.optimizers.experimental.Adam(lr=0.1)\n",
            "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=0.1)\n",
        ),
        ("model.fit_generator(gen, epochs=2)\n", "model.fit(gen, epochs=2)\n"),
        # keras (not tf.keras) has mean_squared_error: untouched
        ("import keras\nf = keras.losses.mean_squared_error\n", None),
        ("!pip install tensorflow-quantum\n%matplotlib inline\n", None),
    ],
)
def test_each_rewrite(before, after):
    assert _new(before) == (before if after is None else after)


def test_rewritten_code_runs_under_keras3_where_the_original_fails():
    """Against Keras itself: the Keras 2 spellings fail here, the rewrites run and agree."""
    import numpy as np
    import tensorflow as tf

    from tfq_layers._keras import LEGACY

    if LEGACY:
        pytest.skip("the Keras 3 lane")
    before = (
        "import tensorflow as tf\n"
        "inp = tf.keras.Input(shape=(1))\n"
        "err = tf.keras.losses.mean_squared_error(a, b)\n"
    )
    a, b = np.ones((2, 3)), np.zeros((2, 3))
    with pytest.raises((ValueError, TypeError, AttributeError)):
        exec(before, {"a": a, "b": b})
    scope = {"a": a, "b": b}
    exec(migrate_source(before)[0], scope)
    assert tuple(scope["inp"].shape) == (None, 1)
    np.testing.assert_allclose(scope["err"], tf.reduce_mean((a - b) ** 2, axis=-1))


def test_advice_names_line_and_exact_edit(tmp_path, capsys):
    src = tmp_path / "prog.py"
    src.write_text(
        textwrap.dedent(
            """\
            import numpy as np
            import tensorflow as tf
            import tensorflow_quantum as tfq

            circuits = tfq.convert_to_tensor([c])
            commands = np.array([[0.0]])
            out = model([circuits, commands])


            def acc(y_true, y_pred):
                return tf.reduce_mean(y_true * y_pred)


            model.compile(loss="mse", metrics=[acc])


            class Scale(tf.keras.layers.Layer):
                def __init__(self):
                    super().__init__()
                    self.w = tf.Variable(initial_value=tf.ones((1, 2)), trainable=True, name="w")


            with tf.GradientTape() as tape:
                tape.watch(model.trainable_variables)
            x = tf.keras.Input(shape=(n))
            """
        )
    )
    changes, advice = migrate_file(str(src), str(tmp_path / "out.py"))
    printed = capsys.readouterr().out
    assert f"{src}:3: import tensorflow_quantum" in printed
    want = [
        (7, "write `model([circuits, tf.convert_to_tensor(commands)])`"),
        (10, "make its first line `y_true = tf.cast(y_true, y_pred.dtype)`"),
        (
            20,
            '`value = tf.ones((1, 2))` and `self.w = self.add_weight(name="w", '
            "shape=tuple(value.shape), initializer=lambda shape, dtype=None: value, "
            "trainable=True)`",
        ),
        (24, "delete `tape.watch(model.trainable_variables)`"),
        (25, "write `shape=(n,)`"),
    ]
    assert len(advice) == len(want)
    for (line, text), got in zip(want, advice):
        assert got.startswith(f"{src}:{line}: EDIT BY HAND:"), got
        assert text in got, got
        assert f"{src}:{line}: EDIT BY HAND:" in printed


def _notebook():
    code = [
        'import os\n\nos.environ["TF_USE_LEGACY_KERAS"] = "1"',
        "!pip install tensorflow-quantum==0.7.6",
        "import tensorflow as tf\nimport tensorflow_quantum as tfq\n%matplotlib inline",
        "inp = tf.keras.Input(shape=(1))\nprint('é')",
        "%%bash\necho import tensorflow_quantum as tfq",
    ]
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"]}]
    for i, c in enumerate(code):
        cells.append(
            {
                "cell_type": "code",
                "execution_count": i,
                "metadata": {"id": f"c{i}"},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["x\n"]}],
                "source": c.splitlines(keepends=True),
            }
        )
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 0,
    }


def test_notebook_round_trip_and_idempotence(tmp_path):
    src = tmp_path / "tut.ipynb"
    src.write_text(json.dumps(_notebook(), indent=1, ensure_ascii=False) + "\n")
    out = tmp_path / "tut_keras3.ipynb"
    migrate_file(str(src), None)
    got = json.loads(out.read_text())
    before = _notebook()
    assert got["metadata"] == before["metadata"] and got["nbformat"] == 4
    assert len(got["cells"]) == len(before["cells"])
    for g, b in zip(got["cells"], before["cells"]):
        assert {k: v for k, v in g.items() if k != "source"} == {
            k: v for k, v in b.items() if k != "source"
        }
    sources = ["".join(c["source"]) for c in got["cells"]]
    assert sources[0] == "# Title\ntext"  # markdown untouched
    assert "TF_USE_LEGACY_KERAS" not in sources[1]
    assert sources[2] == "!pip install tensorflow-quantum==0.7.6"  # shell lines kept
    assert (
        sources[3] == "import tensorflow as tf\nimport tfq_layers.compat as tfq\n%matplotlib inline"
    )
    assert sources[4] == "inp = tf.keras.Input(shape=(1,))\nprint('é')"
    assert sources[5] == "%%bash\necho import tensorflow_quantum as tfq"  # not Python
    # a second run changes nothing
    again, changes, _ = migrate_notebook(json.loads(out.read_text()))
    assert changes == [] and again == got
    assert migrate_source(sources[3] + "\n")[1] == []


def test_python_file_idempotent_and_atomic(tmp_path):
    src = tmp_path / "p.py"
    src.write_text("import tensorflow_quantum as tfq\nx = tf.keras.Input(shape=(3))\n")
    dst = tmp_path / "p3.py"
    migrate_file(str(src), str(dst))
    first = dst.read_text()
    migrate_file(str(dst), str(dst))
    assert dst.read_text() == first
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".migrate-")] == []


def test_command_line_help_and_no_tensorflow(tmp_path):
    src = tmp_path / "p.py"
    src.write_text("import tensorflow_quantum as tfq\n")
    env = dict(os.environ, PYTHONPATH=ROOT)
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tfq_layers.migrate", str(src), "-o", "-"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "import tfq_layers.compat as tfq\n"
    imported = [line.split("|")[-1].strip() for line in run.stderr.splitlines() if "|" in line]
    assert not [m for m in imported if m.split(".")[0] in ("tensorflow", "cirq", "keras")]
    helped = subprocess.run(
        [sys.executable, "-m", "tfq_layers.migrate", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert helped.returncode == 0 and "SRC" in helped.stdout and "-o DST" in helped.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "tfq_layers.migrate", str(tmp_path / "none.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 2 and "no such file" in bad.stderr
