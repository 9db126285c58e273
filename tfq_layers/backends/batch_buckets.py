"""Batch sizes rounded up to a few buckets, so that an XLA-compiled simulation compiles once per
bucket instead of once per batch size.

XLA compiles a function anew for every input shape it meets. ``model.fit``'s partial last batch,
validation and ``predict`` batches, and loops over varying batch sizes would each pay a compile.
:func:`bucketed` pads the batch of values with zero rows up to the next power of two (at least
:data:`MIN_BUCKET`), runs the function, and returns the rows of the real examples: the padded
rows are valid inputs (every symbol at 0), their outputs are dropped, and no gradient reaches
them.
"""

__all__ = ["MIN_BUCKET", "bucket_size", "bucketed"]

MIN_BUCKET = 8


def bucket_size(batch):
    """The bucket of ``batch`` (a Python int or an int32 scalar tensor): the next power of two,
    at least :data:`MIN_BUCKET`; 0 stays 0.

    Example:
        >>> [bucket_size(b) for b in (0, 1, 8, 9, 100)]
        [0, 8, 8, 16, 128]
    """
    import tensorflow as tf

    if isinstance(batch, int):
        return 0 if batch == 0 else max(MIN_BUCKET, 1 << (batch - 1).bit_length())
    # the smallest power of two from MIN_BUCKET up that holds the batch, with ops TFLite has as
    # built-ins (comparison, select, min), so an exported model converts without select TF ops
    batch = tf.cast(batch, tf.int32)
    powers = tf.constant([MIN_BUCKET << k for k in range(31 - MIN_BUCKET.bit_length() + 1)])
    size = tf.reduce_min(tf.where(powers >= batch, powers, tf.int32.max))
    return tf.where(tf.equal(batch, 0), 0, size)


def bucketed(fn, values):
    """``fn(values)`` computed on ``values`` padded to its bucket, sliced back to the batch.

    Args:
        fn: a function of ``(batch, n)`` values returning a tensor whose first axis is the batch
            (row ``i`` depending on row ``i`` of the values only).
        values: ``(batch, n)`` float tensor.

    Example:
        >>> import tensorflow as tf
        >>> bucketed(lambda v: 2 * v, tf.ones((3, 1))).shape
        TensorShape([3, 1])
    """
    import tensorflow as tf

    from tfq_layers.expressions import in_xla

    if in_xla():  # a surrounding XLA computation compiles per shape anyway: padding would only add
        return fn(values)
    values = tf.convert_to_tensor(values)
    static = values.shape[0]
    batch = static if static is not None else tf.shape(values)[0]
    size = bucket_size(batch)
    if isinstance(size, int) and size == static:
        return fn(values)
    padded = tf.pad(values, tf.stack([tf.stack([0, size - batch]), [0, 0]]))
    out = fn(padded)
    return out[:batch]
