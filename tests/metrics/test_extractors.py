"""Feature extractors: Inception key layout and equality with pytorch-fid, the offline extractor's
determinism and its sensitivity to image quality on real MNIST."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganstudio.errors import GanStudioError
from ganstudio.metrics import (
    EXTRACTORS,
    INCEPTION_WEIGHTS_FILENAME,
    INCEPTION_WEIGHTS_URL,
    FeatureExtractor,
    InceptionFID,
    InceptionWeightsError,
    MetricsError,
    RandomConvFeatures,
    frechet_distance,
    get_extractor,
)
from ganstudio.metrics.inception import build_fid_inception


def _random_state_dict(seed: int = 1) -> dict[str, torch.Tensor]:
    """Random FID-Inception weights with sane scales (He-normal convs, BN near identity)."""
    g = torch.Generator().manual_seed(seed)
    state = build_fid_inception().state_dict()
    for key, value in state.items():
        if not value.dtype.is_floating_point:
            continue
        if key.endswith("running_var"):
            value.copy_(torch.rand(value.shape, generator=g) + 0.5)
        elif key.endswith(("running_mean", "bias")):
            value.copy_(torch.randn(value.shape, generator=g) * 0.1)
        elif value.dim() > 1:
            fan_in = int(np.prod(value.shape[1:]))
            value.copy_(torch.randn(value.shape, generator=g) * (2.0 / fan_in) ** 0.5)
        else:
            value.copy_(1.0 + 0.1 * torch.randn(value.shape, generator=g))
    return state


@pytest.fixture(scope="module")
def random_inception_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("weights") / INCEPTION_WEIGHTS_FILENAME
    torch.save(_random_state_dict(), path)
    return path


def _pytorch_fid_reference(monkeypatch, weights: Path):
    """pytorch-fid's own InceptionV3 (pool3), fed our file instead of its download."""
    inception = pytest.importorskip("pytorch_fid.inception")
    monkeypatch.setattr(inception, "load_state_dict_from_url",
                        lambda *args, **kwargs: torch.load(weights, weights_only=True))
    return inception.InceptionV3([3]).eval()


# ---------------------------------------------------------------------------------------------
# Inception


def test_inception_key_layout_equals_pytorch_fid(monkeypatch, random_inception_file):
    # pytorch-fid's fid_inception_v3() builds the network the weights file was saved from.
    inception = pytest.importorskip("pytorch_fid.inception")
    monkeypatch.setattr(inception, "load_state_dict_from_url",
                        lambda *args, **kwargs: torch.load(random_inception_file,
                                                           weights_only=True))
    theirs = inception.fid_inception_v3().state_dict()
    ours = build_fid_inception().state_dict()
    assert list(ours) == list(theirs)
    assert all(ours[k].shape == theirs[k].shape and ours[k].dtype == theirs[k].dtype
               for k in ours)


def test_inception_features_equal_pytorch_fid(monkeypatch, random_inception_file):
    # Inception at 299×299 costs ~1 CPU-second per image here: few images, each one counts.
    reference = _pytorch_fid_reference(monkeypatch, random_inception_file)
    extractor = InceptionFID(random_inception_file)
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (2, 3, 40, 52), generator=g, dtype=torch.uint8)
    images[1] = images[1, :1]                                 # a grey image in RGB form
    feats = extractor.features(images)
    assert feats.shape == (2, 2048) and feats.dtype == np.float64
    with torch.no_grad():
        expected = reference(images.float() / 255.0)[0].flatten(1).double().numpy()
    scale = np.abs(expected).max()
    np.testing.assert_allclose(feats, expected, rtol=1e-5, atol=1e-6 * scale)
    # Float [-1, 1] images are quantised like a saved PNG (same features as their uint8 form)
    # and grey images are repeated to RGB; an iterable of batches may mix both forms.
    mixed = [images[:1].float() / 127.5 - 1.0, images[1:, :1]]
    np.testing.assert_allclose(extractor.features(mixed), feats, rtol=1e-5, atol=1e-6 * scale)


def test_get_extractor_builds_inception_from_a_local_file(random_inception_file):
    extractor = get_extractor("inception-v3-fid", inception_weights=str(random_inception_file))
    assert isinstance(extractor, InceptionFID)
    assert (extractor.name, extractor.dim) == ("inception-v3-fid", 2048)
    assert extractor.weights_path == random_inception_file


def test_missing_inception_weights_explain_how_to_get_them(tmp_path):
    missing = tmp_path / "nowhere" / INCEPTION_WEIGHTS_FILENAME
    with pytest.raises(InceptionWeightsError) as info:
        get_extractor("inception-v3-fid", inception_weights=missing)
    message = str(info.value)
    assert str(missing) in message and INCEPTION_WEIGHTS_URL in message
    assert "random-conv-v1" in message
    assert info.value.path == missing
    assert isinstance(info.value, GanStudioError)
    with pytest.raises(InceptionWeightsError, match="No Inception weights file is set"):
        get_extractor("inception-v3-fid")


def test_wrong_inception_weights_are_refused(tmp_path):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(InceptionWeightsError, match="cannot be read"):
        InceptionFID(garbage)
    state = _random_state_dict()
    del state["Mixed_7c.branch_pool.conv.weight"]
    state["fc.weight"] = torch.zeros(1000, 2048)   # torchvision's ImageNet head, not FID's
    wrong = tmp_path / "wrong.pth"
    torch.save(state, wrong)
    with pytest.raises(InceptionWeightsError, match="missing: Mixed_7c.branch_pool") as info:
        InceptionFID(wrong)
    assert "wrong shape: fc.weight" in str(info.value) and INCEPTION_WEIGHTS_URL in str(info.value)
    with pytest.raises(InceptionWeightsError, match="folder"):
        InceptionFID(tmp_path)


# ---------------------------------------------------------------------------------------------
# Registry and input handling


def test_registry():
    assert set(EXTRACTORS) == {"inception-v3-fid", "random-conv-v1"}
    assert EXTRACTORS["inception-v3-fid"].needs_weights
    assert not EXTRACTORS["random-conv-v1"].needs_weights
    extractor = get_extractor("random-conv-v1", inception_weights="/ignored")
    assert isinstance(extractor, FeatureExtractor) and extractor.dim == 496
    with pytest.raises(MetricsError, match="random-conv-v1"):
        get_extractor("vgg")


def test_bad_images_are_refused():
    extractor = RandomConvFeatures()
    with pytest.raises(MetricsError, match="1 or 3 channels"):
        extractor.features(torch.zeros(2, 4, 8, 8, dtype=torch.uint8))
    with pytest.raises(MetricsError, match=r"\(N, C, H, W\)"):
        extractor.features(torch.zeros(3, 8, 8, dtype=torch.uint8))
    with pytest.raises(MetricsError, match="uint8"):
        extractor.features(torch.zeros(2, 3, 8, 8, dtype=torch.int64))
    assert extractor.features(torch.zeros(0, 3, 8, 8)).shape == (0, 496)


# ---------------------------------------------------------------------------------------------
# The offline extractor


def _pattern_images() -> torch.Tensor:
    n, c, h, w = torch.meshgrid(torch.arange(2), torch.arange(3), torch.arange(40),
                                torch.arange(40), indexing="ij")
    return ((n * 91 + c * 50 + h * 7 + w * 13 + (h * w) % 17) % 256).to(torch.uint8)


def test_random_conv_is_frozen():
    """Golden values: if these change, the numbers change, and the name must change too."""
    weights = RandomConvFeatures.make_weights()
    assert [tuple(w.shape) for w in weights] == [(16, 3, 3, 3), (32, 16, 3, 3), (64, 32, 3, 3),
                                                 (128, 64, 3, 3), (256, 128, 3, 3)]
    np.testing.assert_allclose([float(w.double().sum()) for w in weights],
                               [-0.1527332621590176, 1.4547156791932139, 9.048461632769204,
                                -8.752933458425332, 19.209393678395188], rtol=1e-6)
    feats = RandomConvFeatures().features(_pattern_images())
    assert feats.shape == (2, 496) and feats.dtype == np.float64
    np.testing.assert_allclose(feats.sum(1), [720.36105142, 718.94496727], rtol=1e-5)
    np.testing.assert_allclose(feats[:, [0, 15, 100, 300, 495]],
                               [[1.61569381, 2.60252905, 0.23578285, 0.79119116, 1.36072457],
                                [1.60724068, 2.58168793, 0.22131144, 0.84384394, 1.29480767]],
                               rtol=1e-4)


def test_random_conv_is_deterministic_and_input_form_independent():
    g = torch.Generator().manual_seed(3)
    images = torch.randint(0, 256, (48, 3, 32, 32), generator=g, dtype=torch.uint8)
    a = RandomConvFeatures(batch_size=24).features(images)
    np.testing.assert_array_equal(RandomConvFeatures(batch_size=24).features(images), a)
    calls = []
    from_batches = RandomConvFeatures(batch_size=24).features(
        list(images.split(20)), progress=lambda *args: calls.append(args))   # 20, 20, 8
    np.testing.assert_allclose(from_batches, a, rtol=1e-5, atol=1e-6)    # rounding at most
    assert [c[:2] for c in calls] == [(20, 0), (40, 0), (48, 0)]
    np.testing.assert_allclose(RandomConvFeatures().features(images), a, rtol=1e-5, atol=1e-6)
    as_float = images.float() / 127.5 - 1.0
    np.testing.assert_allclose(RandomConvFeatures(batch_size=24).features(as_float), a,
                               rtol=1e-6, atol=1e-7)
    grey = images[:, :1]
    np.testing.assert_allclose(RandomConvFeatures().features(grey),
                               RandomConvFeatures().features(grey.expand(-1, 3, -1, -1)),
                               rtol=1e-6, atol=1e-7)


def _read_idx_images(path: Path) -> torch.Tensor:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, count, rows, cols = np.frombuffer(raw[:16], dtype=">u4")
    assert magic == 0x00000803
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(int(count), 1, int(rows),
                                                                   int(cols))
    return torch.from_numpy(pixels.copy())


def _gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = int(3 * sigma + 0.5)
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-t ** 2 / (2 * sigma ** 2))
    kernel /= kernel.sum()
    x = images.double()
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), kernel.view(1, 1, -1, 1))
    return x.round().clamp(0, 255).to(torch.uint8)


def test_random_conv_fd_tracks_quality_on_real_mnist(mnist_t10k):
    images = _read_idx_images(mnist_t10k / "t10k-images-idx3-ubyte.gz")
    assert images.shape == (10000, 1, 28, 28)
    # Even vs odd indices: two samples of one distribution (first/last halves differ).
    even, odd = images[0::4], images[1::4]                   # 2500 each
    extractor = RandomConvFeatures()
    stats_even = extractor.features(even)
    baseline = frechet_distance(stats_even, extractor.features(odd))

    probe = odd[:500]
    g = torch.Generator().manual_seed(0)
    noise = torch.randint(0, 256, probe.shape, generator=g, dtype=torch.uint8)
    perm = torch.randperm(28 * 28, generator=g)
    shuffled = probe.reshape(len(probe), 1, -1)[:, :, perm].reshape(probe.shape)

    def fd(x: torch.Tensor) -> float:
        return frechet_distance(stats_even, extractor.features(x))

    # The same data with 500 samples: FD is then mostly small-sample bias (measured: 1.1, vs
    # 0.13 for 2500 vs 2500), the floor every degraded set is compared against.
    clean = fd(probe)
    assert baseline < clean
    assert fd(noise) > 300 * clean                           # measured ~2000×
    assert fd(shuffled) > 20 * clean                         # ~70×
    blurred = [fd(_gaussian_blur(probe, s)) for s in (0.5, 1.0, 2.0, 3.0)]
    assert blurred[0] > 3 * clean                            # ~8×, then ~74×, ~220×, ~270×
    assert all(b > a for a, b in zip(blurred, blurred[1:])), blurred
