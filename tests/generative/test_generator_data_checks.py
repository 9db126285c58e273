"""Generators check tf.data batches in the graph like NumPy input (issue 14, item 5)."""

import numpy as np
import pytest
import tensorflow as tf

from tfq_layers import BornMachine, QuantumBoltzmannMachine
from tfq_layers._keras import keras

GOOD = np.array([[0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0]], np.float32)


def _with(row, col, value, dtype=np.float32):
    data = GOOD.astype(dtype)
    data[row, col] = value
    return data


def _dataset(array):
    return tf.data.Dataset.from_tensor_slices(array).batch(2)


def _unshaped(array):
    """A data set whose width is unknown until run time (a Python generator)."""
    return tf.data.Dataset.from_generator(
        lambda: iter([array]), output_signature=tf.TensorSpec((None, None), array.dtype)
    )


def _born(run_eagerly=False):
    keras.utils.set_random_seed(3)
    model = BornMachine(4, layers=1, backend="statevector", seed=3)
    model.compile(keras.optimizers.Adam(0.1), loss="kl", run_eagerly=run_eagerly)
    return model


@pytest.mark.parametrize(
    "data, phrase",
    [
        (
            _with(1, 2, np.nan),
            r"`x` contains NaN or infinite values; bitstrings must contain only 0 and 1",
        ),
        (_with(0, 0, np.inf), r"`x` contains NaN or infinite values"),
        (_with(2, 3, 3, np.int64), r"`x` must contain only 0 and 1; found.*3.*Binarize"),
        (_with(2, 3, 0.5), r"`x` must contain only 0 and 1; found.*0.5.*Binarize"),
    ],
)
@pytest.mark.parametrize("make", [_dataset, _unshaped], ids=["dataset", "generator"])
def test_bad_values_in_a_tf_data_set_are_refused(make, data, phrase):
    model = _born()
    before = model.get_weights() if model.built else None
    with pytest.raises(tf.errors.InvalidArgumentError, match=phrase):
        model.fit(make(data), epochs=1, verbose=0)
    if before is not None:
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_nan_in_a_tf_data_set_refused_by_the_qbm_too():
    model = QuantumBoltzmannMachine(4, seed=0)
    model.compile("adam", loss="nll")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"contains NaN"):
        model.fit(_dataset(_with(3, 1, np.nan)), epochs=1, verbose=0)


def test_wrong_width_known_only_at_run_time_is_refused():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"wrong width.*expects n = 4"):
        _born().fit(_unshaped(np.zeros((4, 5), np.int32)), epochs=1, verbose=0)


def test_run_eagerly_gives_the_numpy_messages():
    with pytest.raises(
        ValueError,
        match=r"`x` must contain only 0 and 1; found \[3\] "
        r"\(first at row 0, column 3\)",
    ):
        _born(run_eagerly=True).fit(_dataset(_with(2, 3, 3, np.int64)), epochs=1, verbose=0)


def test_good_tf_data_trains_exactly_like_numpy():
    numpy_model, data_model = _born(), _born()
    numpy_model.fit(GOOD, epochs=3, batch_size=2, shuffle=False, verbose=0)
    data_model.fit(_dataset(GOOD), epochs=3, verbose=0)
    for a, b in zip(numpy_model.get_weights(), data_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
