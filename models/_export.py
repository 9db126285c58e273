"""Exporting a trained recipe model and serving the export (here or in a fresh process)."""

import os
import tempfile

import tfq_layers  # noqa: F401  # first: it keeps TensorFlow's start-up lines off stderr

import tensorflow as tf  # noqa: E402

from ._fresh import run_python  # noqa: E402
from ._runtime import ROOT  # noqa: E402

__all__ = ["KERAS_FILE", "export_model", "serve_export", "serve_export_in_fresh_process"]

#: Name of the ``.keras`` file written next to the SavedModel by :func:`export_model`.
KERAS_FILE = "model.keras"


def export_model(model, export_dir):
    """Export ``model`` as a SavedModel in ``export_dir`` and save ``export_dir/model.keras``.

    Keras 3 uses ``model.export`` (endpoint ``serve``); tf_keras saves a ``tf.Module`` with an
    equivalent ``serve`` function through ``tf.saved_model.save``. A fresh process must
    ``import tfq_layers`` before ``tf.saved_model.load`` (that registers the TFQ ops).

    Args:
        model: a built functional/sequential Keras model with one input.
        export_dir: directory (created; existing files are overwritten).

    Returns:
        ``(export_dir, keras_path)``.
    """
    from tfq_layers.export import save_serving

    os.makedirs(export_dir, exist_ok=True)
    save_serving(model, export_dir)
    keras_path = os.path.join(export_dir, KERAS_FILE)
    model.save(keras_path)
    print(f"exported SavedModel to {export_dir} and saved {keras_path}")
    return export_dir, keras_path


def serve_export(export_dir, inputs):
    """Load the SavedModel in this process and run its ``serve`` endpoint on ``inputs``.

    Returns:
        ``(outputs, loaded)``: a NumPy array and the loaded object (keep it alive while you use
        the outputs of further calls: it owns the variables).
    """
    loaded = tf.saved_model.load(export_dir)
    return loaded.serve(tf.constant(inputs)).numpy(), loaded


def serve_export_in_fresh_process(export_dir, inputs, timeout=600):
    """Run the exported ``serve`` endpoint on ``inputs`` in a FRESH Python process.

    The child does only ``import tfq_layers`` (registers the TFQ ops) and ``tf.saved_model.load``;
    inputs and outputs travel as serialized tensors, so string (circuit) inputs survive exactly.

    Args:
        export_dir: the SavedModel directory.
        inputs: array-like or tensor accepted by the ``serve`` endpoint.
        timeout: seconds before the child is killed.

    Returns:
        The outputs as a NumPy array.
    """
    with tempfile.TemporaryDirectory() as tmp:
        x_path, y_path = os.path.join(tmp, "x.tfrec"), os.path.join(tmp, "y.tfrec")
        x = tf.constant(inputs)
        tf.io.write_file(x_path, tf.io.serialize_tensor(x))
        code = (
            "import tensorflow as tf\n"
            "import tfq_layers  # registers the TFQ ops the SavedModel calls\n"
            f"loaded = tf.saved_model.load({os.path.abspath(export_dir)!r})\n"
            f"x = tf.io.parse_tensor(tf.io.read_file({x_path!r}), out_type=tf.{x.dtype.name})\n"
            f"tf.io.write_file({y_path!r}, tf.io.serialize_tensor(loaded.serve(x)))\n"
        )
        try:
            run_python(code, timeout=timeout, cwd=ROOT or tmp)
        except RuntimeError as err:
            raise RuntimeError(f"reloading {export_dir} in a fresh process failed: {err}") from None
        return tf.io.parse_tensor(tf.io.read_file(y_path), out_type=tf.float32).numpy()
