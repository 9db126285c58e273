"""Datasets, bitstring helpers and metrics, checked against independent brute-force computations."""

import itertools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from scipy import stats

from tfq_layers import datasets as ds


def _is_bar_or_stripe(pattern, rows, cols):
    img = np.asarray(pattern).reshape(rows, cols)
    rows_constant = all(len(set(r)) == 1 for r in img)
    cols_constant = all(len(set(c)) == 1 for c in img.T)
    return rows_constant or cols_constant


@pytest.mark.parametrize(
    "rows,cols,count", [(2, 2, 6), (3, 3, 14), (2, 3, 10), (3, 2, 10), (1, 3, 8)]
)
def test_bars_and_stripes_is_exactly_the_set_of_valid_images(rows, cols, count):
    data = ds.bars_and_stripes(rows, cols)
    assert data.shape == (count, rows * cols)
    assert data.dtype == np.int32
    got = {tuple(r) for r in data.tolist()}
    assert len(got) == count, "patterns must be unique"
    brute = {
        img
        for img in itertools.product((0, 1), repeat=rows * cols)
        if _is_bar_or_stripe(img, rows, cols)
    }
    assert got == brute
    assert all(_is_bar_or_stripe(r, rows, cols) for r in data)


def test_bars_and_stripes_pixel_order_is_row_major():
    data = {tuple(r) for r in ds.bars_and_stripes(2, 3).tolist()}
    # top row lit, bottom row dark: a stripe; pixels (0,0),(0,1),(0,2) are bits 0,1,2
    assert (1, 1, 1, 0, 0, 0) in data
    # left column lit: a bar; pixels (0,0) and (1,0) are bits 0 and 3
    assert (1, 0, 0, 1, 0, 0) in data
    assert (1, 0, 0, 0, 0, 0) not in data


def test_bars_and_stripes_rejects_bad_sizes():
    with pytest.raises(ValueError, match="rows"):
        ds.bars_and_stripes(0, 2)
    with pytest.raises(ValueError, match="cols"):
        ds.bars_and_stripes(2, 2.5)


def test_bit_order_most_significant_first():
    assert ds.bits_to_index([[1, 0, 0], [0, 0, 1], [1, 1, 0]]).tolist() == [4, 1, 6]
    idx = np.arange(32)
    bits = ds.index_to_bits(idx, 5)
    assert bits.tolist() == [[int(c) for c in format(i, "05b")] for i in idx]
    assert ds.bits_to_index(bits).tolist() == idx.tolist()
    assert ds.all_bitstrings(3).tolist() == [list(map(int, format(i, "03b"))) for i in range(8)]


@pytest.mark.parametrize("even", [True, False])
def test_parity_data(even):
    data = ds.parity_data(5, even=even)
    assert data.shape == (16, 5)
    assert set((data.sum(axis=1) % 2).tolist()) == {0 if even else 1}
    assert len({tuple(r) for r in data.tolist()}) == 16


def test_empirical_distribution_counts():
    data = [[0, 1], [0, 1], [1, 1], [0, 0]]
    p = ds.empirical_distribution(data, 2)
    np.testing.assert_allclose(p, [0.25, 0.5, 0.0, 0.25])


def _chi2_pvalue(samples, probs):
    n = int(np.log2(len(probs)))
    counts = np.bincount(ds.bits_to_index(samples), minlength=2**n)
    expected = probs * len(samples)
    keep = expected >= 5  # pool the sparse bins into one
    obs = np.append(counts[keep], counts[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    if exp[-1] == 0:
        assert obs[-1] == 0
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp).pvalue


def test_sample_from_matches_probabilities():
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(16))
    samples = ds.sample_from(probs, 20000, seed=11)
    assert samples.shape == (20000, 4) and samples.dtype == np.int32
    assert _chi2_pvalue(samples, probs) > 1e-3
    np.testing.assert_array_equal(samples, ds.sample_from(probs, 20000, seed=11))
    # a distribution concentrated on index 5 = 0101 only yields that string
    one_hot = np.zeros(16)
    one_hot[5] = 1
    assert set(map(tuple, ds.sample_from(one_hot, 50, seed=0).tolist())) == {(0, 1, 0, 1)}


def test_gaussian_mixture_against_scipy():
    n = 6
    centers, widths, weights = [10.0, 45.0], [3.0, 6.0], [0.3, 0.7]
    probs, sampler = ds.gaussian_mixture(n, centers, widths, weights)
    x = np.arange(2**n)
    ref = 0.3 * stats.norm.pdf(x, 10, 3) + 0.7 * stats.norm.pdf(x, 45, 6)
    np.testing.assert_allclose(probs, ref / ref.sum(), rtol=1e-12)
    assert probs.argmax() in (44, 45, 46) or probs.argmax() in (9, 10, 11)
    samples = sampler(20000, seed=5)
    assert samples.shape == (20000, n)
    assert _chi2_pvalue(samples, probs) > 1e-3


def test_bernoulli_mixture_against_bruteforce():
    centers = np.array([[0, 0, 1, 1, 0], [1, 0, 1, 0, 1], [1, 1, 1, 1, 1]])
    probs, sampler = ds.bernoulli_mixture(5, centers=centers, p=0.8, weights=[1, 2, 1])
    ref = np.zeros(32)
    for i, v in enumerate(itertools.product((0, 1), repeat=5)):
        for c, w in zip(centers, [0.25, 0.5, 0.25]):
            term = w
            for vb, cb in zip(v, c):
                term *= 0.8 if vb == cb else 0.2
            ref[i] += term
    np.testing.assert_allclose(probs, ref, rtol=1e-12)
    np.testing.assert_array_equal(sampler.centers, centers)
    assert _chi2_pvalue(sampler(20000, seed=1), probs) > 1e-3
    rand_probs, rand_sampler = ds.bernoulli_mixture(6, n_modes=4, seed=2)
    assert rand_sampler.centers.shape == (4, 6)
    assert len({tuple(c) for c in rand_sampler.centers.tolist()}) == 4
    assert abs(rand_probs.sum() - 1) < 1e-12


def test_mixture_argument_errors():
    with pytest.raises(ValueError, match=r"centers.*\[0, 15\]"):
        ds.gaussian_mixture(4, [20], 1.0)
    with pytest.raises(ValueError, match="widths must be positive|`widths` must be positive"):
        ds.gaussian_mixture(4, [3], 0.0)
    with pytest.raises(ValueError, match="n_modes"):
        ds.bernoulli_mixture(4)
    with pytest.raises(ValueError, match=r"\(0.5, 1\]"):
        ds.bernoulli_mixture(4, n_modes=2, p=0.3)


# ---------------------------------------------------------------- validation of training data
def test_validate_bitstrings_accepts_ints_floats_bools():
    assert ds.validate_bitstrings([[0, 1, 1]], 3).dtype == np.int32
    np.testing.assert_array_equal(ds.validate_bitstrings(np.array([[0.0, 1.0]]), 2), [[0, 1]])
    np.testing.assert_array_equal(ds.validate_bitstrings(np.array([[True, False]]), 2), [[1, 0]])


@pytest.mark.parametrize(
    "data,pattern",
    [
        (np.zeros((5, 3)), r"width 3.*n = 4"),
        (np.array([[0, 1, 2, 0]]), r"only 0 and 1.*\[2\]"),
        (np.array([[0, 1, -1, 0]]), r"only 0 and 1"),
        (np.zeros((0, 4)), r"empty"),
        (np.array([[0.0, np.nan, 1.0, 0.0]]), r"NaN"),
        (np.zeros(4), r"rank 2.*single bitstring"),
        (np.zeros((2, 2, 4)), r"rank 2.*rank 3"),
        (np.array([[0, 0.5, 1, 0]]), r"only 0 and 1.*0.5"),
    ],
)
def test_validate_bitstrings_errors(data, pattern):
    with pytest.raises(ValueError, match=pattern):
        ds.validate_bitstrings(data, 4)


def test_validate_bitstrings_rejects_strings_and_ragged():
    with pytest.raises(TypeError, match="dtype"):
        ds.validate_bitstrings(np.array([["0", "1"]]), 2)
    with pytest.raises(ValueError, match="ragged|rectangular"):
        ds.validate_bitstrings([[0, 1], [1]], 2)


# ---------------------------------------------------------------- metrics
def test_kl_divergence_against_scipy():
    from tfq_layers.metrics import kl_divergence

    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(8)), rng.dirichlet(np.ones(8))
    assert kl_divergence(p, q) == pytest.approx(stats.entropy(p, q), rel=1e-12)
    p[:3] = 0
    p /= p.sum()
    assert kl_divergence(p, q) == pytest.approx(stats.entropy(p, q), rel=1e-12)
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="sum to 1|sums to"):
        kl_divergence([0.5, 0.6], [0.5, 0.5])


def test_keras_metrics_values_and_config_roundtrip():
    from tfq_layers.metrics import (
        KLDivergenceToTarget,
        PatternCoverage,
        ValidFraction,
        kl_divergence,
    )

    valid = ds.bars_and_stripes(2, 2)
    target = ds.empirical_distribution(valid, 4)
    rng = np.random.default_rng(1)
    q = rng.dirichlet(np.ones(16))
    valid_idx = ds.bits_to_index(valid)

    kl = KLDivergenceToTarget(target)
    kl.update_state(None, q[None, :])
    assert float(kl.result()) == pytest.approx(kl_divergence(target, q), rel=1e-5)

    vf = ValidFraction(valid)
    vf.update_state(None, q[None, :])
    assert float(vf.result()) == pytest.approx(q[valid_idx].sum(), rel=1e-6)

    thr = PatternCoverage(valid, threshold=0.05)
    thr.update_state(None, q[None, :])
    assert float(thr.result()) == pytest.approx(np.mean(q[valid_idx] > 0.05))

    k = 10
    cov = PatternCoverage(valid, n_samples=k)
    cov.update_state(None, q[None, :])
    # Monte Carlo reference: fraction of the valid patterns seen in k samples, averaged
    draws = rng.choice(16, size=(20000, k), p=q)
    seen = np.mean([[v in row for v in valid_idx] for row in draws[:4000]])
    assert float(cov.result()) == pytest.approx(seen, abs=0.02)

    # averaging over updates, reset, and config round trip
    kl.update_state(None, target[None, :])
    assert float(kl.result()) == pytest.approx(kl_divergence(target, q) / 2, rel=1e-4)
    kl.reset_state()
    assert float(kl.result()) == 0.0
    for m in (kl, vf, thr, cov):
        clone = type(m).from_config(m.get_config())
        clone.update_state(None, q[None, :])
        m.reset_state()
        m.update_state(None, q[None, :])
        assert float(clone.result()) == pytest.approx(float(m.result()), rel=1e-6)

    with pytest.raises(ValueError, match="16 outcomes"):
        vf.update_state(None, np.ones((1, 8)) / 8)
    with pytest.raises(ValueError, match="not both"):
        PatternCoverage(valid, threshold=0.1, n_samples=3)
