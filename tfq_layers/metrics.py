"""Metrics for generative models over n-bit strings.

* :func:`kl_divergence`: plain NumPy ``KL(p || q)``.
* Keras metrics for ``GenerativeModel.compile(metrics=[...])``: :class:`KLDivergenceToTarget`,
  :class:`ValidFraction` (precision) and :class:`PatternCoverage` (recall).

How a metric gets the model's distribution: a generator's prediction is its whole probability
vector, so ``GenerativeModel.train_step``/``test_step`` call
``metric.update_state(y_true, y_pred)`` once per batch with ``y_true`` the batch histogram and
``y_pred`` the model's ``probabilities()`` (computed before the gradient step), both of shape
``(1, 2**n)``. These metrics read ``y_pred`` only (``y_true`` is ignored) and, like every Keras
metric, report the mean over the batches seen since the last reset, i.e. over the epoch; with one
batch per epoch that is the value at that step. Any tensor whose last axis has ``2**n`` entries is
accepted (leading axes are averaged over).

Example:
    >>> import numpy as np
    >>> from tfq_layers.datasets import bars_and_stripes, empirical_distribution
    >>> target = empirical_distribution(bars_and_stripes(2, 2), 4)
    >>> m = KLDivergenceToTarget(target)
    >>> m.update_state(None, np.full((1, 16), 1 / 16))
    >>> round(float(m.result()), 4)  # log(16 / 6)
    0.9808
"""

import numbers

import numpy as np
import tensorflow as tf

from tfq_layers._keras import keras, register
from tfq_layers.datasets import bits_to_index, validate_bitstrings, validate_distribution

__all__ = ["kl_divergence", "KLDivergenceToTarget", "ValidFraction", "PatternCoverage"]


def kl_divergence(p, q, epsilon=1e-12):
    """``KL(p || q) = Σ_{x: p(x) > 0} p(x) log(p(x) / max(q(x), ε))`` in nats (NumPy).

    Terms where ``p(x) = 0`` contribute 0; ``q`` is floored at ``epsilon`` so the result stays
    finite when ``q`` misses support of ``p`` (it is then about ``p(x) log(p(x)/ε)``, large).

    Args:
        p: reference distribution (array-like, e.g. the target), sums to 1.
        q: model distribution of the same length, sums to 1.
        epsilon: floor of ``q`` (>= 0).

    Returns:
        Python float.

    Example:
        >>> round(kl_divergence([0.5, 0.5], [0.9, 0.1]), 4)
        0.5108
    """
    p, _ = validate_distribution(p, name="p")
    q, _ = validate_distribution(q, n=p.size.bit_length() - 1, name="q")
    mask = p > 0
    return float(np.sum(p[mask] * (np.log(p[mask]) - np.log(np.maximum(q[mask], epsilon)))))


def _valid_indices(valid, name="valid"):
    """Validate an (M, n) array of valid bitstrings; return (sorted unique indices, n, patterns)."""
    arr = np.asarray(valid)
    if arr.ndim != 2:
        raise ValueError(
            f"`{name}` must be the valid bitstrings as an (M, n) array of 0/1; received shape "
            f"{arr.shape}."
        )
    arr = validate_bitstrings(arr, arr.shape[1], name=name)
    idx = np.unique(bits_to_index(arr))
    return idx, arr.shape[1], arr


class _DistributionMetric(keras.metrics.Metric):
    """Mean over updates of a scalar function of the model's probability vector ``y_pred``."""

    def __init__(self, n_bits, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.n_bits = int(n_bits)
        self.total = self.add_weight(name="total", shape=(), initializer="zeros")
        self.count = self.add_weight(name="count", shape=(), initializer="zeros")

    def _value(self, probs):  # probs: (B, 2**n) float64 -> (B,)
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add the metric of ``y_pred`` (model probabilities, last axis ``2**n``); ``y_true`` unused."""
        probs = tf.cast(tf.convert_to_tensor(y_pred), tf.float64)
        size = probs.shape[-1]
        if size is not None and size != 2**self.n_bits:
            raise ValueError(
                f"{type(self).__name__} expects y_pred to be the model's probability vector over "
                f"2**{self.n_bits} = {2**self.n_bits} outcomes; received shape {probs.shape}."
            )
        probs = tf.reshape(probs, (-1, 2**self.n_bits))
        values = self._value(probs)
        self.total.assign_add(tf.cast(tf.reduce_sum(values), self.total.dtype))
        self.count.assign_add(tf.cast(tf.shape(values)[0], self.count.dtype))

    def result(self):
        return tf.math.divide_no_nan(self.total, self.count)

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@register("KLDivergenceToTarget")
class KLDivergenceToTarget(_DistributionMetric):
    """``KL(target || model)`` in nats: how far the model is from a fixed target distribution.

    ``Σ_{x: t(x) > 0} t(x) log(t(x) / (p(x) + ε))``, with ``p`` the model probabilities (``y_pred``).

    Args:
        target: target probability vector of length ``2**n`` (e.g. the exact data distribution).
        epsilon: added to the model probabilities inside the logarithm.
        name: metric name shown in logs (default ``"kl_to_target"``).
        dtype: result dtype.

    Example:
        >>> m = KLDivergenceToTarget([0.5, 0.5])
        >>> m.update_state(None, [[0.5, 0.5]])
        >>> abs(float(m.result())) < 1e-6
        True
    """

    def __init__(self, target, epsilon=1e-10, name="kl_to_target", dtype=None):
        target, n = validate_distribution(target, name="target")
        super().__init__(n_bits=n, name=name, dtype=dtype)
        self.target = target
        self.epsilon = float(epsilon)

    def _value(self, probs):
        t = tf.constant(self.target, tf.float64)
        safe_t = tf.where(t > 0, t, tf.ones_like(t))
        terms = t * (tf.math.log(safe_t) - tf.math.log(probs + self.epsilon))
        return tf.reduce_sum(terms, axis=-1)

    def get_config(self):
        return {**super().get_config(), "target": self.target.tolist(), "epsilon": self.epsilon}


@register("ValidFraction")
class ValidFraction(_DistributionMetric):
    """Precision of a generator: the probability mass the model puts on valid patterns.

    ``Σ_{x valid} p(x)``, in ``[0, 1]``; 1 means every sample the model draws is valid.

    Args:
        valid: the valid bitstrings, an ``(M, n)`` array of 0/1 (e.g. ``bars_and_stripes(2, 2)``).
        name: metric name (default ``"valid_fraction"``).
        dtype: result dtype.

    Example:
        >>> m = ValidFraction([[0, 0], [1, 1]])
        >>> m.update_state(None, [[0.4, 0.1, 0.1, 0.4]])
        >>> round(float(m.result()), 6)
        0.8
    """

    def __init__(self, valid, name="valid_fraction", dtype=None):
        idx, n, arr = _valid_indices(valid)
        super().__init__(n_bits=n, name=name, dtype=dtype)
        self.valid = arr
        self._index = idx

    def _value(self, probs):
        return tf.reduce_sum(tf.gather(probs, self._index, axis=-1), axis=-1)

    def get_config(self):
        return {**super().get_config(), "valid": self.valid.tolist()}


@register("PatternCoverage")
class PatternCoverage(_DistributionMetric):
    """Recall of a generator: the fraction of valid patterns the model produces.

    Two definitions, both computed exactly from the model probabilities ``p`` (no sampling noise):

    * ``threshold`` mode (default): the fraction of valid patterns ``x`` with ``p(x) > threshold``;
      the default threshold is half the uniform share, ``0.5 / M`` for ``M`` valid patterns.
    * ``n_samples=k`` mode: the *expected* fraction of valid patterns that appear at least once
      among ``k`` independent samples, ``mean_{x valid} [1 - (1 - p(x))**k]``.

    Args:
        valid: the valid bitstrings, an ``(M, n)`` array of 0/1.
        threshold: probability above which a pattern counts as covered (threshold mode).
        n_samples: number of samples ``k`` (sample mode); give at most one of the two.
        name: metric name (default ``"coverage"``).
        dtype: result dtype.

    Example:
        >>> m = PatternCoverage([[0, 0], [1, 1]])        # threshold 0.25
        >>> m.update_state(None, [[0.7, 0.1, 0.0, 0.2]])
        >>> float(m.result())
        0.5
    """

    def __init__(self, valid, threshold=None, n_samples=None, name="coverage", dtype=None):
        idx, n, arr = _valid_indices(valid)
        super().__init__(n_bits=n, name=name, dtype=dtype)
        if threshold is not None and n_samples is not None:
            raise ValueError(
                f"Give either `threshold` or `n_samples` to PatternCoverage, not both; received "
                f"threshold={threshold!r}, n_samples={n_samples!r}."
            )
        if n_samples is not None and (
            isinstance(n_samples, bool)
            or not isinstance(n_samples, numbers.Integral)
            or n_samples < 1
        ):
            raise ValueError(f"`n_samples` must be a positive integer; received {n_samples!r}.")
        if n_samples is None:
            threshold = 0.5 / idx.size if threshold is None else float(threshold)
            if not 0.0 <= threshold < 1.0:
                raise ValueError(f"`threshold` must lie in [0, 1); received {threshold!r}.")
        self.valid = arr
        self._index = idx
        self.threshold = threshold
        self.n_samples = None if n_samples is None else int(n_samples)

    def _value(self, probs):
        p_valid = tf.gather(probs, self._index, axis=-1)
        if self.n_samples is not None:
            seen = 1.0 - tf.pow(tf.clip_by_value(1.0 - p_valid, 0.0, 1.0), float(self.n_samples))
            return tf.reduce_mean(seen, axis=-1)
        return tf.reduce_mean(tf.cast(p_valid > self.threshold, tf.float64), axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "valid": self.valid.tolist(),
            "threshold": self.threshold,
            "n_samples": self.n_samples,
        }
