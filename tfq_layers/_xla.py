"""Whether TensorFlow is building a graph that XLA compiles (no package imports)."""

import tensorflow as tf


def in_xla():
    """Whether the graph being built is compiled by XLA (``jit_compile=True``); False eagerly.

    The one home of this test: numeric checks (``tf.debugging`` asserts, which XLA drops) and the
    memory guard ask it before relying on an in-graph check.
    """
    if tf.executing_eagerly():
        return False
    try:
        from tensorflow.python.framework import ops
        from tensorflow.python.ops import control_flow_util

        return bool(control_flow_util.GraphOrParentsInXlaContext(ops.get_default_graph()))
    except (ImportError, AttributeError):  # pragma: no cover - a TensorFlow without them
        return False


__all__ = ["in_xla"]
