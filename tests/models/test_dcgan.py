"""DCGAN layout, sizes, init and the canonical-example compatibility."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganstudio.models import GeneratorSpec, build_discriminator, build_generator
from ganstudio.models.dcgan import DCGANGenerator


class CanonicalGenerator(nn.Module):
    """netG exactly as in the PyTorch examples repository (dcgan/main.py)."""

    def __init__(self, nz=100, ngf=64, nc=3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, x):
        return self.main(x)


def test_canonical_netG_state_dict_loads_unchanged_and_gives_the_same_images():
    torch.manual_seed(0)
    canonical = CanonicalGenerator()
    # Give BatchNorm non-trivial running statistics, as a trained netG would have.
    canonical.train()
    canonical(torch.randn(16, 100, 1, 1))
    ours = DCGANGenerator(nz=100, ngf=64, nc=3, image_size=64)
    assert list(ours.state_dict()) == list(canonical.state_dict())
    assert [k for k in ours.state_dict() if k.endswith("weight")][0] == "main.0.weight"
    assert "main.12.weight" in ours.state_dict()
    ours.load_state_dict(canonical.state_dict(), strict=True)
    canonical.eval()
    ours.eval()
    z = torch.randn(4, 100, 1, 1)
    torch.testing.assert_close(ours(z), canonical(z), rtol=0, atol=0)
    torch.testing.assert_close(ours(z.flatten(1)), canonical(z), rtol=0, atol=0)


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes(size, channels):
    spec = GeneratorSpec("dcgan", nz=16, out_shape=(channels, size, size), width=8)
    g = build_generator(spec)
    d = build_discriminator("dcgan", (channels, size, size), width=8)
    images = g(torch.randn(3, 16))
    assert images.shape == (3, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1
    assert d(images).shape == (3,)


def test_unsupported_size_is_refused_with_the_sizes_allowed():
    with pytest.raises(ValueError, match="32/64/128"):
        build_generator(GeneratorSpec("dcgan", 16, (3, 48, 48), 8))


def test_dcgan_initialisation_statistics():
    torch.manual_seed(0)
    g = build_generator(GeneratorSpec("dcgan", 100, (3, 64, 64), 64))
    conv = g.main[3].weight
    bn = g.main[4].weight
    assert abs(conv.mean().item()) < 0.002 and abs(conv.std().item() - 0.02) < 0.001
    assert abs(bn.mean().item() - 1.0) < 0.01 and abs(bn.std().item() - 0.02) < 0.01
    assert torch.count_nonzero(g.main[4].bias) == 0


def test_spectral_norm_discriminator_keeps_unit_spectral_norm():
    torch.manual_seed(0)
    d = build_discriminator("dcgan", (3, 32, 32), width=8, norm="none", spectral_norm=True)
    x = torch.randn(4, 3, 32, 32)
    for _ in range(20):  # power iteration converges during training-mode forwards
        d(x)
    first = d.main[0]
    sigma = torch.linalg.matrix_norm(first.weight.flatten(1), ord=2)
    assert sigma.item() == pytest.approx(1.0, abs=0.05)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())


def test_conditional_models_use_labels():
    torch.manual_seed(0)
    g = build_generator(GeneratorSpec("dcgan", 16, (3, 32, 32), 8, num_classes=3))
    d = build_discriminator("dcgan", (3, 32, 32), width=8, num_classes=3)
    g.eval()
    d.eval()
    z = torch.randn(2, 16)
    a = g(z, torch.tensor([0, 0]))
    b = g(z, torch.tensor([1, 1]))
    assert not torch.allclose(a, b)
    assert not torch.allclose(d(a, torch.tensor([0, 0])), d(a, torch.tensor([2, 2])))
    with pytest.raises(ValueError, match="labels"):
        g(z)
