"""FD, KID and precision/recall against pytorch-fid and torch-fidelity, and on hard inputs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from ganstudio.errors import GanStudioError
from ganstudio.metrics import (
    KIDResult,
    MetricsError,
    PrecisionRecall,
    feature_statistics,
    frechet_distance,
    kernel_inception_distance,
    knn_radii,
    precision_recall,
)

# pytorch-fid 0.3.0 passes scipy's deprecated ``disp`` argument; not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:The `disp` argument:DeprecationWarning")


def _pair(n1: int, n2: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two correlated, differently distributed feature sets (non-negative like CNN features)."""
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((d, d)) / math.sqrt(d)
    a = np.abs(rng.standard_normal((n1, d)) @ mix)
    b = np.abs(rng.standard_normal((n2, d)) @ mix * 1.2 + 0.1)
    return a, b


def _exact_fd_low_rank(a: np.ndarray, b: np.ndarray) -> float:
    """FD through the (N, N) matrix X S2 X^T: exact reference when N < D (sigma1 = X^T X)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    x = (a - mu1) / math.sqrt(len(a) - 1)
    lam = np.clip(np.linalg.eigvalsh(x @ s2 @ x.T), 0, None)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(lam).sum())


# ---------------------------------------------------------------------------------------------
# Fréchet distance


def test_feature_statistics_match_numpy_cov():
    a, _ = _pair(3000, 10, 40, seed=0)   # > one 8192-row chunk is not needed: chunks are exact
    mu, sigma = feature_statistics(a.astype(np.float32))
    assert mu.dtype == sigma.dtype == np.float64
    a32 = a.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(mu, a32.mean(0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(a32, rowvar=False), rtol=1e-10, atol=1e-14)
    assert np.array_equal(sigma, sigma.T)


def test_feature_statistics_chunked_accumulation(monkeypatch):
    import ganstudio.metrics.distances as distances
    a, _ = _pair(1000, 10, 16, seed=1)
    monkeypatch.setattr(distances, "_COV_CHUNK", 97)   # many uneven chunks
    mu, sigma = feature_statistics(torch.from_numpy(a))
    np.testing.assert_allclose(mu, a.mean(0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(a, rowvar=False), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("n1, n2, d, seed", [(500, 400, 32, 0), (2000, 1500, 128, 1),
                                             (2500, 2500, 160, 2)])
def test_frechet_distance_matches_pytorch_fid(n1, n2, d, seed):
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    a, b = _pair(n1, n2, d, seed)
    mu1, s1 = a.mean(0), np.cov(a, rowvar=False)
    mu2, s2 = b.mean(0), np.cov(b, rowvar=False)
    expected = fid_score.calculate_frechet_distance(mu1, s1, mu2, s2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance((mu1, s1), (mu2, s2)) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(a, (mu2, s2)) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance([mu1, s1], torch.from_numpy(b)) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(b, a) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_small_distance_matches_pytorch_fid():
    """Two samples of one distribution: FD is a small difference of large traces."""
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    a, _ = _pair(8000, 10, 64, seed=3)
    x, y = a[:4000], a[4000:]
    expected = fid_score.calculate_frechet_distance(x.mean(0), np.cov(x, rowvar=False),
                                                    y.mean(0), np.cov(y, rowvar=False))
    assert 0 < expected < 0.05 * np.trace(np.cov(a, rowvar=False))
    assert frechet_distance(x, y) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("n, d", [(50, 128), (127, 128), (10, 64)])
def test_frechet_distance_fewer_samples_than_dims(n, d):
    a, b = _pair(n, n + 7, d, seed=n)
    fd = frechet_distance(a, b)
    assert math.isfinite(fd) and fd > 0
    assert fd == pytest.approx(_exact_fd_low_rank(a, b), rel=1e-8)
    # Identical rank-deficient sets: exactly zero up to rounding, never negative.
    same = frechet_distance(a, a)
    assert 0.0 <= same <= 1e-9 * np.trace(np.cov(a, rowvar=False))


def test_frechet_distance_singular_covariances_never_nan():
    rng = np.random.default_rng(5)
    base = rng.standard_normal((300, 48))
    duplicated_dims = np.concatenate([base, base[:, :16]], axis=1)            # rank 48 of 64
    zero_var = rng.standard_normal((300, 64)) + 0.2
    zero_var[:, [3, 10, 40]] = 2.5                                           # constant dims
    duplicated_rows = np.repeat(rng.standard_normal((5, 64)), 60, axis=0)    # 5 distinct rows
    collapsed = np.tile(rng.standard_normal((1, 64)), (300, 1))              # zero covariance
    sets = [duplicated_dims, zero_var, duplicated_rows, collapsed]
    for x in sets:
        for y in sets:
            fd = frechet_distance(x, y)
            assert math.isfinite(fd) and fd >= 0.0
        assert frechet_distance(x, x) <= 1e-9 * max(1.0, np.trace(np.cov(x, rowvar=False)))
    # Collapse onto one point: sqrt term vanishes, FD = |mu diff|² + tr(sigma_real).
    mu, sigma = feature_statistics(zero_var)
    diff = collapsed[0] - mu
    assert frechet_distance(collapsed, zero_var) == pytest.approx(
        diff @ diff + np.trace(sigma), rel=1e-12)


def test_frechet_distance_singular_agrees_with_pytorch_fid_where_it_works():
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    rng = np.random.default_rng(6)
    a = rng.standard_normal((400, 40))
    a = np.concatenate([a, a[:, :8] * 2.0], axis=1)           # singular, product too
    b = rng.standard_normal((400, 48)) * 1.3 + 0.2
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")                       # scipy: "matrix is singular"
        expected = fid_score.calculate_frechet_distance(*feature_statistics(a),
                                                        *feature_statistics(b))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_bad_input_is_a_user_error():
    a, b = _pair(20, 20, 8, seed=7)
    with pytest.raises(MetricsError, match="same feature extractor"):
        frechet_distance(a, b[:, :7])
    with pytest.raises(MetricsError, match="at least 2"):
        frechet_distance(a[:1], b)
    bad = a.copy()
    bad[3, 2] = np.nan
    with pytest.raises(MetricsError, match="NaN"):
        frechet_distance(bad, b)
    with pytest.raises(MetricsError, match="pair"):
        frechet_distance((a.mean(0), np.cov(a, rowvar=False), 3), b)
    with pytest.raises(MetricsError, match="do not match"):
        frechet_distance((a.mean(0), np.eye(5)), b)
    with pytest.raises(GanStudioError):
        frechet_distance(a[0], b)


# ---------------------------------------------------------------------------------------------
# KID


def _fidelity_kid(a: np.ndarray, b: np.ndarray, **kwargs) -> tuple[float, float]:
    metric_kid = pytest.importorskip("torch_fidelity.metric_kid")
    args = dict(kid_subsets=100, kid_subset_size=1000, kid_kernel="poly",
                kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1,
                rng_seed=2020, verbose=False)
    args.update(kwargs)
    out = metric_kid.kid_features_to_metric(torch.from_numpy(a), torch.from_numpy(b), **args)
    return out["kernel_inception_distance_mean"], out["kernel_inception_distance_std"]


def test_kid_defaults_are_torch_fidelitys():
    defaults = pytest.importorskip("torch_fidelity.defaults").DEFAULTS
    import inspect
    params = inspect.signature(kernel_inception_distance).parameters
    assert params["subsets"].default == defaults["kid_subsets"]
    assert params["subset_size"].default == defaults["kid_subset_size"]
    assert params["degree"].default == defaults["kid_kernel_poly_degree"]
    assert params["gamma"].default == defaults["kid_kernel_poly_gamma"]
    assert params["coef0"].default == defaults["kid_kernel_poly_coef0"]
    assert params["seed"].default == defaults["rng_seed"]


@pytest.mark.parametrize("options", [
    dict(subsets=10),
    dict(subsets=7, subset_size=150, seed=3),
    dict(subsets=5, subset_size=200, degree=2, gamma=0.05, coef0=0.5),
])
def test_kid_matches_torch_fidelity(options):
    a, b = _pair(700, 600, 48, seed=11)
    if "subset_size" not in options:   # the default 1000 needs >= 1000 samples per set
        a, b = _pair(1300, 1100, 48, seed=12)
    mapping = dict(subsets="kid_subsets", subset_size="kid_subset_size", seed="rng_seed",
                   degree="kid_kernel_poly_degree", gamma="kid_kernel_poly_gamma",
                   coef0="kid_kernel_poly_coef0")
    expected = _fidelity_kid(a, b, **{mapping[k]: v for k, v in options.items()})
    result = kernel_inception_distance(a, b, **options)
    assert isinstance(result, KIDResult)
    assert result.mean == pytest.approx(expected[0], rel=1e-6)
    assert result.std == pytest.approx(expected[1], rel=1e-6)


def test_kid_subset_size_is_capped_and_deterministic():
    a, b = _pair(300, 250, 16, seed=13)
    capped = kernel_inception_distance(a, b, subsets=4, subset_size=1000)
    assert capped == kernel_inception_distance(a, b, subsets=4, subset_size=250)
    a32 = a.astype(np.float32)   # float32 features are computed in float64 all the same
    assert (kernel_inception_distance(a32, b, subsets=4)
            == kernel_inception_distance(a32.astype(np.float64), b, subsets=4))
    assert capped != kernel_inception_distance(a, b, subsets=4, subset_size=250, seed=1)
    assert capped == pytest.approx(_fidelity_kid(a, b, kid_subsets=4, kid_subset_size=250),
                                   rel=1e-6)


def test_kid_near_zero_for_same_distribution_and_positive_otherwise():
    a, b = _pair(1200, 600, 32, seed=14)
    same = kernel_inception_distance(a[:600], a[600:], subsets=20, subset_size=300)
    different = kernel_inception_distance(a[:600], b, subsets=20, subset_size=300)
    assert abs(same.mean) < 3 * same.std + 1e-3 * different.mean
    assert different.mean > 10 * max(abs(same.mean), same.std)


def test_kid_bad_input():
    a, b = _pair(20, 20, 8, seed=15)
    with pytest.raises(MetricsError):
        kernel_inception_distance(a, b[:, :4])
    with pytest.raises(MetricsError):
        kernel_inception_distance(a, b, subsets=0)
    with pytest.raises(MetricsError):
        kernel_inception_distance(a, b, subset_size=1)


# ---------------------------------------------------------------------------------------------
# Precision / recall


def _brute_force_pr(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    """Kynkäänniemi et al. straight from the definition, float64 numpy."""
    def dists(x, y):
        return np.sqrt(np.maximum(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1), 0))

    def radii(x):
        d = dists(x, x)
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    r_real, r_fake = radii(real), radii(fake)
    d = dists(real, fake)                                     # (n_real, n_fake)
    precision = (d <= r_real[:, None]).any(0).mean()
    recall = (d <= r_fake[None, :]).any(1).mean()
    return float(precision), float(recall)


@pytest.mark.parametrize("k, batch", [(3, 4096), (3, 37), (1, 50), (5, 64)])
def test_precision_recall_matches_brute_force(k, batch):
    real, fake = _pair(230, 170, 12, seed=20 + k)
    result = precision_recall(real, fake, k, batch_size=batch, dtype=torch.float64)
    assert isinstance(result, PrecisionRecall)
    assert tuple(result) == pytest.approx(_brute_force_pr(real, fake, k), abs=1e-12)
    assert 0 < result.precision < 1 and 0 < result.recall < 1


def test_precision_recall_matches_torch_fidelity():
    metric_prc = pytest.importorskip("torch_fidelity.metric_prc")
    real, fake = _pair(900, 700, 64, seed=30)
    # torch-fidelity's convention: features_1 = generated, features_2 = real.
    expected = metric_prc.calculate_precision_recall_full(torch.from_numpy(fake),
                                                          torch.from_numpy(real), 3, 10000)
    result = precision_recall(real, fake, batch_size=256, dtype=torch.float64)
    assert tuple(result) == pytest.approx(expected, abs=1e-6)   # it averages in float32
    # float32 (the fast default) may flip a sample lying on a ball's edge, nothing more.
    fast = precision_recall(real, fake, batch_size=256)
    assert abs(fast.precision - expected[0]) <= 2 / len(fake)
    assert abs(fast.recall - expected[1]) <= 2 / len(real)


def test_precision_recall_real_radii_reuse_and_subsets():
    real, fake = _pair(400, 300, 16, seed=31)
    full = precision_recall(real, fake, dtype=torch.float64, batch_size=100)
    radii = knn_radii(real, 3, dtype=torch.float64, batch_size=64)
    assert radii.shape == (400,)
    assert precision_recall(real, fake, dtype=torch.float64, real_radii=radii) == full
    d = np.sqrt(((real[:, None] - real[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(radii.numpy(), np.sort(d, 1)[:, 2], rtol=1e-10)
    sub = precision_recall(real, fake, max_samples=150, seed=4, dtype=torch.float64)
    assert sub == precision_recall(torch.from_numpy(real), torch.from_numpy(fake),
                                   max_samples=150, seed=4, dtype=torch.float64)
    rng = np.random.RandomState(4)
    ir, if_ = (np.sort(rng.choice(n, 150, replace=False)) for n in (400, 300))
    assert tuple(sub) == pytest.approx(_brute_force_pr(real[ir], fake[if_], 3), abs=1e-12)


def test_precision_recall_identical_and_disjoint_sets():
    real, fake = _pair(200, 200, 8, seed=32)
    assert tuple(precision_recall(real, real)) == (1.0, 1.0)
    far = precision_recall(real, fake + 100.0)
    assert tuple(far) == (0.0, 0.0) and far.f_score == 0.0
    dup = np.repeat(real[:20], 5, axis=0)   # ties at distance 0 count as inside
    assert precision_recall(dup, dup, dtype=torch.float64) == (1.0, 1.0)


def test_precision_recall_bad_input():
    real, fake = _pair(10, 10, 4, seed=33)
    with pytest.raises(MetricsError, match="at least 4"):
        precision_recall(real[:3], fake)
    with pytest.raises(MetricsError, match="same feature extractor"):
        precision_recall(real, fake[:, :3])
    with pytest.raises(MetricsError):
        precision_recall(real, fake, k=0)
