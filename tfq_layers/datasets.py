"""Small, exactly known distributions over n-bit strings for generative models (NumPy only).

Conventions shared by every generator of this package:

* a sample is a row of ``n`` integers, each 0 or 1; a data set is an int array of shape ``(N, n)``;
* bit (unit, qubit) 0 is the **most significant** bit, so the bitstring ``b_0 b_1 ... b_{n-1}``
  has the index ``sum_i b_i 2**(n - 1 - i)`` in a probability vector of length ``2**n``;
* for images (bars and stripes) pixels are read row-major, so pixel ``(r, c)`` of a
  ``rows x cols`` image is bit ``r * cols + c``.

Example:
    >>> data = bars_and_stripes(2, 2)
    >>> data.shape
    (6, 4)
    >>> p = empirical_distribution(data, 4)
    >>> float(p.sum())
    1.0
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "validate_bitstrings",
    "bits_to_index",
    "index_to_bits",
    "all_bitstrings",
    "bars_and_stripes",
    "gaussian_mixture",
    "bernoulli_mixture",
    "parity_data",
    "empirical_distribution",
    "sample_from",
    "validate_distribution",
]

# Dense probability vectors have 2**n entries; beyond this the helpers refuse (memory).
MAX_BITS = 24


def check_n_bits(n, what="n_bits"):
    """``n`` as an int when it is a valid bit count (1 to ``MAX_BITS``), else ``ValueError``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"`{what}` must be a positive integer number of bits; received {n!r}.")
    if n > MAX_BITS:
        raise ValueError(
            f"`{what}`={n} is too large: dense probability vectors over 2**{n} outcomes do not "
            f"fit in memory. Use at most {MAX_BITS} bits."
        )
    return int(n)


def validate_bitstrings(data: ArrayLike, n: int | None, name: str = "data") -> np.ndarray:
    """Check that ``data`` is a non-empty ``(N, n)`` array of 0/1 values and return it as int32.

    Every generative model of the package calls this before training, so a data set with the wrong
    width, stray values or NaNs fails early with a message naming the problem.

    Args:
        data: array-like of shape ``(N, n)`` (NumPy array, nested lists, ``tf.Tensor``). Floats are
            accepted when every entry is exactly 0.0 or 1.0; booleans are accepted.
        n: the number of bits each row must have.
        name: how the data is called in error messages (e.g. ``"x"``, ``"validation_data"``).

    Returns:
        ``np.ndarray`` of dtype int32 and shape ``(N, n)``.

    Raises:
        ValueError: wrong rank, wrong width, no rows, NaN/inf, or values other than 0 and 1.
        TypeError: non-numeric data (e.g. strings).

    Example:
        >>> validate_bitstrings([[0, 1], [1, 1]], 2).dtype
        dtype('int32')
    """
    n = check_n_bits(n, "n")
    arr = _as_number_array(data, n, name)
    _check_bitstring_shape(arr, n, name)
    _check_bit_values(arr, name)
    return arr.astype(np.int32)


# The phrases of the bitstring checks: one home for validate_bitstrings (NumPy, up front) and
# GenerativeModel.check_bitstrings_tf (TensorFlow, each batch of a tf.data set or generator).
BINARIZE_HINT = "Binarize the data first, e.g. `(x > 0.5).astype(int)`."


def not_numbers_message(name: str, received: str) -> str:
    return (
        f"`{name}` must hold numbers 0 and 1; received {received}. "
        "Convert bitstrings such as '0110' to lists of ints first."
    )


def rank_message(name: str, n: int) -> str:
    return f"`{name}` must have rank 2, shape (N, n_bits) = (N, {n})"


def width_message(name: str, width: int | None, n: int) -> str:
    """``width`` None: not known when the message is written (an in-graph assertion)."""
    of = "the wrong width" if width is None else f"width {width}"
    return (
        f"`{name}` has bitstrings of {of}, but the model expects n = {n} bits per sample "
        f"(shape (N, {n}))"
    )


def non_finite_message(name: str) -> str:
    return f"`{name}` contains NaN or infinite values"


def not_bits_message(name: str) -> str:
    return f"`{name}` must contain only 0 and 1; found"


def _as_number_array(data, n, name):
    """``data`` as a NumPy array of numbers (bool, int or float)."""
    if hasattr(data, "numpy") and callable(data.numpy):
        data = data.numpy()
    try:
        arr = np.asarray(data)
    except Exception as err:  # ragged lists and the like
        raise ValueError(
            f"`{name}` must be a rectangular array of shape (N, {n}) of 0/1 values; it could not "
            f"be converted to an array ({err})."
        ) from err
    if arr.dtype == object:
        raise ValueError(
            f"`{name}` must be a rectangular array of shape (N, {n}) of 0/1 values; received a "
            f"ragged or object array. Make every row a list of {n} integers."
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(not_numbers_message(name, f"an array of dtype {arr.dtype}"))
    return arr


def _check_bitstring_shape(arr, n, name):
    if arr.ndim == 1 and arr.size == n and n > 1:
        raise ValueError(
            f"`{name}` must have rank 2, shape (N, {n}); received a single bitstring of shape "
            f"{arr.shape}. Wrap it as [[...]] or use `np.atleast_2d`."
        )
    if arr.ndim != 2:
        raise ValueError(
            f"{rank_message(name, n)}; received rank {arr.ndim} with shape {arr.shape}."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"`{name}` is empty (shape {arr.shape}); pass at least one bitstring.")
    if arr.shape[1] != n:
        raise ValueError(f"{width_message(name, arr.shape[1], n)}; received shape {arr.shape}.")


def _check_bit_values(arr, name):
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise ValueError(
                f"{non_finite_message(name)} (first in row {row}: {arr[row].tolist()}); "
                "bitstrings must contain only 0 and 1."
            )
    if arr.dtype.kind != "b":
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            values = np.unique(arr[bad])[:5].tolist()
            raise ValueError(
                f"{not_bits_message(name)} {values} (first at row {row}, column {col}). "
                + BINARIZE_HINT
            )


def bits_to_index(bitstrings: ArrayLike) -> np.ndarray:
    """Map bitstrings ``(N, n)`` to integer indices ``(N,)`` with bit 0 the most significant.

    Args:
        bitstrings: int array of shape ``(N, n)`` of 0/1 values.

    Returns:
        ``np.ndarray`` of int64 indices in ``[0, 2**n)``.

    Example:
        >>> bits_to_index([[0, 1, 1], [1, 0, 0]]).tolist()
        [3, 4]
    """
    arr = np.asarray(bitstrings, dtype=np.int64)
    if arr.ndim != 2:
        raise ValueError(f"`bitstrings` must have shape (N, n); received shape {arr.shape}.")
    n = arr.shape[1]
    weights = 2 ** np.arange(n - 1, -1, -1, dtype=np.int64)
    return arr @ weights


def index_to_bits(indices: ArrayLike, n: int) -> np.ndarray:
    """Map integer indices to bitstrings of width ``n`` (bit 0 the most significant).

    Args:
        indices: int or array of ints in ``[0, 2**n)``.
        n: number of bits.

    Returns:
        int32 array of shape ``indices.shape + (n,)``.

    Example:
        >>> index_to_bits([3, 4], 3).tolist()
        [[0, 1, 1], [1, 0, 0]]
    """
    n = check_n_bits(n, "n")
    idx = np.asarray(indices, dtype=np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= 2**n):
        raise ValueError(
            f"indices must lie in [0, 2**{n}) = [0, {2**n}); received {idx.min()}..{idx.max()}."
        )
    shifts = np.arange(n - 1, -1, -1, dtype=np.int64)
    return ((idx[..., None] >> shifts) & 1).astype(np.int32)


def all_bitstrings(n: int) -> np.ndarray:
    """All ``2**n`` bitstrings of width ``n`` in index order, shape ``(2**n, n)``.

    Args:
        n: number of bits.

    Example:
        >>> all_bitstrings(2).tolist()
        [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    n = check_n_bits(n, "n")
    return index_to_bits(np.arange(2**n), n)


def bars_and_stripes(rows: int, cols: int) -> np.ndarray:
    """Every valid bars-and-stripes image of size ``rows x cols``, flattened row-major.

    A *stripe* pattern has every row constant (each row all 0 or all 1); a *bar* pattern has every
    column constant. The all-0 and all-1 images are both, and are listed once, so there are
    ``2**rows + 2**cols - 2`` patterns: 6 for 2x2, 14 for 3x3. Pixel ``(r, c)`` is bit
    ``r * cols + c`` (bit 0 most significant); rows are sorted by their integer index.

    Args:
        rows: number of image rows (>= 1).
        cols: number of image columns (>= 1).

    Returns:
        int32 array of shape ``(2**rows + 2**cols - 2, rows * cols)``.

    Example:
        >>> bars_and_stripes(2, 2).tolist()
        [[0, 0, 0, 0], [0, 0, 1, 1], [0, 1, 0, 1], [1, 0, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]]
    """
    for what, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"`{what}` must be a positive integer; received {v!r}.")
    check_n_bits(rows * cols, "rows * cols")
    patterns = set()
    for row_bits in index_to_bits(np.arange(2**rows), rows):  # stripes: each row constant
        patterns.add(tuple(np.repeat(row_bits, cols).tolist()))
    for col_bits in index_to_bits(np.arange(2**cols), cols):  # bars: each column constant
        patterns.add(tuple(np.tile(col_bits, rows).tolist()))
    out = np.array(sorted(patterns), dtype=np.int32)
    return out[np.argsort(bits_to_index(out))]


def parity_data(n_bits: int, even: bool = True) -> np.ndarray:
    """All bitstrings of ``n_bits`` bits with even (or odd) parity, sorted by index.

    Args:
        n_bits: width of the bitstrings.
        even: ``True`` for an even number of ones, ``False`` for an odd number.

    Returns:
        int32 array of shape ``(2**(n_bits - 1), n_bits)``.

    Example:
        >>> parity_data(2).tolist()
        [[0, 0], [1, 1]]
    """
    n = check_n_bits(n_bits, "n_bits")
    bits = all_bitstrings(n)
    keep = (bits.sum(axis=1) % 2) == (0 if even else 1)
    return bits[keep]


def validate_distribution(
    probs: ArrayLike, n: int | None = None, name: str = "probs", atol: float = 1e-6
) -> np.ndarray:
    """Check that ``probs`` is a probability vector of length ``2**n``; return it as float64.

    Args:
        probs: array-like of non-negative numbers summing to 1.
        n: expected number of bits, or ``None`` to infer it from the length (must be a power of 2).
        name: name used in error messages.
        atol: tolerance on the sum.

    Returns:
        ``(probs, n)``: the float64 vector and its number of bits.

    Example:
        >>> validate_distribution([0.5, 0.5])[1]
        1
    """
    if hasattr(probs, "numpy") and callable(probs.numpy):
        probs = probs.numpy()
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    size = p.size
    if n is None:
        if size < 2 or size & (size - 1):
            raise ValueError(
                f"`{name}` must have length 2**n for n >= 1 bits; received length {size}."
            )
        n = size.bit_length() - 1
    elif size != 2**n:
        raise ValueError(f"`{name}` must have length 2**{n} = {2**n}; received length {size}.")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"`{name}` must be finite and non-negative; received min {p.min()!r}.")
    if abs(p.sum() - 1.0) > atol:
        raise ValueError(
            f"`{name}` must sum to 1; it sums to {p.sum():.8g}. Normalize it with p / p.sum()."
        )
    return p, int(n)


def empirical_distribution(bitstrings: ArrayLike, n: int) -> np.ndarray:
    """Histogram of a data set over the ``2**n`` outcomes, normalized to sum to 1.

    Args:
        bitstrings: ``(N, n)`` array of 0/1 values (validated with :func:`validate_bitstrings`).
        n: number of bits.

    Returns:
        float64 array of shape ``(2**n,)``.

    Example:
        >>> empirical_distribution([[0, 1], [0, 1], [1, 1]], 2).tolist()
        [0.0, 0.6666666666666666, 0.0, 0.3333333333333333]
    """
    data = validate_bitstrings(bitstrings, n, name="bitstrings")
    counts = np.bincount(bits_to_index(data), minlength=2**n).astype(np.float64)
    return counts / counts.sum()


def sample_from(probs: ArrayLike, k: int, seed: int | None = None) -> np.ndarray:
    """Draw ``k`` bitstrings from a probability vector over ``2**n`` outcomes.

    Args:
        probs: probability vector of length ``2**n`` (tiny negative round-off is clipped, then it
            is renormalized).
        k: number of samples (non-negative integer).
        seed: int, ``None`` or ``np.random.Generator``.

    Returns:
        int32 array of shape ``(k, n)``.

    Example:
        >>> sample_from([0.0, 1.0], 3, seed=0).tolist()
        [[1], [1], [1]]
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
        raise ValueError(f"`k` (number of samples) must be a non-negative integer; received {k!r}.")
    if hasattr(probs, "numpy") and callable(probs.numpy):
        probs = probs.numpy()
    p = np.clip(np.asarray(probs, dtype=np.float64).reshape(-1), 0.0, None)
    p, n = validate_distribution(p / p.sum() if p.sum() > 0 else p, name="probs", atol=1e-6)
    from tfq_layers.backends import memory

    memory.check_size(
        memory.sample_bytes(n, k),
        f"drawing k={k} bitstrings of {n} bits",
        "Draw fewer samples (several calls of a smaller k).",
    )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    idx = rng.choice(p.size, size=int(k), p=p)
    return index_to_bits(idx, n)


def gaussian_mixture(
    n_bits: int,
    centers: Sequence[float],
    widths: Sequence[float] | float,
    weights: Sequence[float] | None = None,
) -> tuple[np.ndarray, Callable[..., np.ndarray]]:
    """A mixture of Gaussians over the integers ``0 .. 2**n_bits - 1``, read as ``n_bits``-bit strings.

    ``p(x) ∝ sum_m weights[m] * exp(-(x - centers[m])**2 / (2 * widths[m]**2)) / widths[m]`` (each
    mode a Gaussian density, so ``weights`` are the modes' masses) for every integer ``x``,
    normalized over the ``2**n_bits`` outcomes; the bitstring of ``x`` is its binary
    expansion with bit 0 the most significant (the classic Born-machine benchmark, Liu & Wang 2018).

    Args:
        n_bits: number of bits.
        centers: mode positions, numbers in ``[0, 2**n_bits - 1]`` (one per mode).
        widths: standard deviations (> 0), a number or one per mode.
        weights: non-negative mode weights (normalized here); default equal weights.

    Returns:
        ``(probs, sampler)``: the float64 target vector of length ``2**n_bits`` and a function
        ``sampler(k, seed=None)`` returning ``(k, n_bits)`` int32 samples drawn from it.

    Example:
        >>> probs, sampler = gaussian_mixture(6, centers=[16, 48], widths=4)
        >>> sampler(5, seed=0).shape
        (5, 6)
    """
    n = check_n_bits(n_bits, "n_bits")
    centers = np.atleast_1d(np.asarray(centers, dtype=np.float64))
    if centers.ndim != 1 or centers.size == 0:
        raise ValueError(f"`centers` must be a non-empty list of numbers; received {centers!r}.")
    if np.any(centers < 0) or np.any(centers > 2**n - 1) or not np.all(np.isfinite(centers)):
        raise ValueError(
            f"`centers` must lie in [0, 2**{n} - 1] = [0, {2**n - 1}]; received {centers.tolist()}."
        )
    widths = (
        np.broadcast_to(np.asarray(widths, dtype=np.float64), centers.shape).copy()
        if np.ndim(widths) == 0
        else np.asarray(widths, dtype=np.float64)
    )
    if widths.shape != centers.shape:
        raise ValueError(
            f"`widths` must be a number or have one entry per center ({centers.size}); "
            f"received {np.asarray(widths).tolist()}."
        )
    if np.any(~np.isfinite(widths)) or np.any(widths <= 0):
        raise ValueError(f"`widths` must be positive; received {widths.tolist()}.")
    if weights is None:
        weights = np.ones_like(centers)
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    if weights.shape != centers.shape:
        raise ValueError(
            f"`weights` must have one entry per center ({centers.size}); received {weights.tolist()}."
        )
    if np.any(~np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(
            f"`weights` must be non-negative and not all 0; received {weights.tolist()}."
        )
    weights = weights / weights.sum()
    x = np.arange(2**n, dtype=np.float64)[:, None]
    dens = np.exp(-((x - centers) ** 2) / (2 * widths**2)) / widths  # each Gaussian normalized
    probs = dens @ weights
    probs = probs / probs.sum()

    def sampler(k, seed=None):
        """Draw ``k`` bitstrings ``(k, n_bits)`` from the mixture; ``seed`` as in `sample_from`."""
        return sample_from(probs, k, seed)

    return probs, sampler


def bernoulli_mixture(
    n_bits: int,
    centers: ArrayLike | None = None,
    n_modes: int | None = None,
    p: float = 0.9,
    weights: Sequence[float] | None = None,
    seed: int | None = None,
) -> tuple[np.ndarray, Callable[..., np.ndarray]]:
    """A mixture of product (Bernoulli) distributions around centre bitstrings (Amin et al. 2018).

    ``p(v) = sum_k weights[k] * p**(n - d_k(v)) * (1 - p)**d_k(v)``, with ``d_k(v)`` the Hamming
    distance from ``v`` to the centre ``s^k``: each mode copies its centre and flips every bit
    independently with probability ``1 - p``. This is the multimodal data set of the quantum
    Boltzmann machine paper (Phys. Rev. X 8, 021050, Sec. IV).

    Args:
        n_bits: number of bits.
        centers: ``(M, n_bits)`` 0/1 array of mode centres; or ``None`` to draw ``n_modes``
            distinct random centres with ``seed``.
        n_modes: number of random centres (when ``centers`` is ``None``), at most ``2**n_bits``.
        p: probability that a bit equals its centre's bit, in ``(0.5, 1]``.
        weights: non-negative mode weights (normalized); default equal.
        seed: seed of the random centres.

    Returns:
        ``(probs, sampler)`` as in :func:`gaussian_mixture`; the centres are ``sampler.centers``.

    Example:
        >>> probs, sampler = bernoulli_mixture(4, centers=[[0, 0, 0, 0], [1, 1, 1, 1]], p=0.9)
        >>> round(float(probs[0]), 4)   # 0.5 * 0.9**4 + 0.5 * 0.1**4
        0.3281
    """
    n = check_n_bits(n_bits, "n_bits")
    if centers is None:
        if (
            isinstance(n_modes, bool)
            or not isinstance(n_modes, numbers.Integral)
            or not 1 <= n_modes <= 2**n
        ):
            raise ValueError(
                f"Give `centers` or a number of modes `n_modes` in [1, 2**{n}]; received "
                f"centers=None, n_modes={n_modes!r}."
            )
        rng = np.random.default_rng(seed)
        centers = index_to_bits(np.sort(rng.choice(2**n, size=int(n_modes), replace=False)), n)
    else:
        if n_modes is not None and n_modes != len(centers):
            raise ValueError(
                f"`n_modes`={n_modes!r} disagrees with the {len(centers)} centres given; pass one."
            )
        centers = validate_bitstrings(centers, n, name="centers")
    p = float(p)
    if not 0.5 < p <= 1.0:
        raise ValueError(
            f"`p` (probability of keeping a centre's bit) must lie in (0.5, 1]; received {p!r}."
        )
    m = centers.shape[0]
    if weights is None:
        weights = np.full(m, 1.0 / m)
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    if (
        weights.shape != (m,)
        or np.any(~np.isfinite(weights))
        or np.any(weights < 0)
        or weights.sum() <= 0
    ):
        raise ValueError(
            f"`weights` must be {m} non-negative numbers, not all 0; received {weights.tolist()}."
        )
    weights = weights / weights.sum()
    dist = (all_bitstrings(n)[:, None, :] != centers[None, :, :]).sum(axis=-1)
    probs = (p ** (n - dist) * (1.0 - p) ** dist) @ weights
    probs = probs / probs.sum()

    def sampler(k, seed=None):
        """Draw ``k`` bitstrings ``(k, n_bits)`` from the mixture; ``seed`` as in `sample_from`."""
        return sample_from(probs, k, seed)

    sampler.centers = centers
    return probs, sampler
