"""Held-out data splits of the recipes."""

import numpy as np

__all__ = ["stratified_split", "scaled_split"]


def stratified_split(features, labels, test_fraction, seed, keep=None):
    """Stratified train/test split (scikit-learn ``train_test_split``), optionally cut short.

    Args:
        features: array ``(N, ...)``.
        labels: array ``(N,)``; also the strata.
        test_fraction: held-out fraction (0 < f < 1).
        seed: ``random_state`` of the split.
        keep: ``None``, or ``(n_train, n_test)``: keep only the first ``n_train`` training and
            ``n_test`` test examples (the ``--quick`` subsets).

    Returns:
        ``(x_train, y_train, x_test, y_test)``.

    Raises:
        ValueError: if ``test_fraction`` is not in ``(0, 1)``.

    Example:
        >>> x, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
        >>> x_train, y_train, x_test, y_test = stratified_split(x, y, 0.2, seed=0)
        >>> x_train.shape, np.bincount(y_test).tolist()
        ((8, 2), [1, 1])
    """
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction!r}.")
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_fraction, random_state=seed, stratify=labels
    )
    if keep is not None:
        n_train, n_test = keep
        x_train, y_train, x_test, y_test = (
            x_train[:n_train],
            y_train[:n_train],
            x_test[:n_test],
            y_test[:n_test],
        )
    return x_train, y_train, x_test, y_test


def scaled_split(scaler, x_train, y_train, x_test, y_test):
    """Fit ``scaler`` on the training features only and apply it to both splits.

    Args:
        scaler: an unfitted scikit-learn transformer (``StandardScaler()``, ``MinMaxScaler()``).
        x_train, y_train, x_test, y_test: the split (e.g. from :func:`stratified_split`).

    Returns:
        dict with ``x_train, y_train, x_test, y_test``: float32 scaled features, int64 labels.

    Example:
        >>> from sklearn.preprocessing import StandardScaler
        >>> d = scaled_split(StandardScaler(), np.array([[1.0], [3.0]]), np.array([0, 1]),
        ...                  np.array([[5.0]]), np.array([1]))
        >>> d["x_test"].tolist()
        [[3.0]]
    """
    scaler.fit(x_train)
    return {
        "x_train": scaler.transform(x_train).astype(np.float32),
        "y_train": np.asarray(y_train).astype(np.int64),
        "x_test": scaler.transform(x_test).astype(np.float32),
        "y_test": np.asarray(y_test).astype(np.int64),
    }
