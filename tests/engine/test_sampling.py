"""Generator sources: open any of our files, rebuild, render reproducibly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganstudio.engine.sampling import GeneratorSource, latent_batch, render
from ganstudio.engine.trainer import Trainer
from ganstudio.errors import CheckpointError
from ganstudio.models import GeneratorSpec

from .conftest import make_tiny_config


def test_latents_depend_only_on_the_seed():
    a = latent_batch(16, [1, 2, 3])
    b = latent_batch(16, [3])
    torch.testing.assert_close(a[2], b[0])
    u = latent_batch(16, range(50), "uniform")
    assert u.min() >= -1 and u.max() <= 1


def test_run_folder_checkpoint_and_export_open_to_the_same_generator(tmp_path):
    Trainer(make_tiny_config(**{"train.steps": 3}), run_dir=tmp_path).run()
    z = latent_batch(16, [7, 8])
    from_run = render(GeneratorSource.open(tmp_path).build(), z)
    from_export = render(GeneratorSource.open(tmp_path / "generator.safetensors").build(), z)
    checkpoint = sorted((tmp_path / "checkpoints").iterdir())[-1]
    from_checkpoint = GeneratorSource.open(checkpoint)
    np.testing.assert_array_equal(from_run, from_export)
    np.testing.assert_array_equal(render(from_checkpoint.build(), z), from_run)
    assert from_checkpoint.step == 3 and from_run.shape == (2, 32, 32, 3)
    assert from_checkpoint.class_names == ("disc", "square", "triangle")


def test_an_empty_folder_is_not_a_generator(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint or generator export"):
        GeneratorSource.open(tmp_path)


# ----- the fast inference copy -----------------------------------------------------------------

def _with_batchnorm_statistics(spec, seed=0):
    """A generator whose BatchNorm layers really transform (trained-like running stats)."""
    from torch import nn

    from ganstudio.models import build_generator

    torch.manual_seed(seed)
    generator = build_generator(spec)
    with torch.no_grad():
        for m in generator.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.normal_(0.0, 0.3)
                m.running_var.uniform_(0.3, 3.0)
                m.weight.normal_(1.0, 0.3)
                m.bias.normal_(0.0, 0.3)
    return generator.eval()


@pytest.mark.parametrize("spec", [
    GeneratorSpec("dcgan", 16, (3, 32, 32), 8),
    GeneratorSpec("dcgan", 100, (3, 64, 64), 16),
    GeneratorSpec("dcgan", 12, (1, 32, 32), 8, num_classes=3),
    GeneratorSpec("mlp", 10, (1, 8, 8), 4),          # Linear + BatchNorm1d
    GeneratorSpec("mlp", 4, (2,), 8, num_classes=2),  # no BatchNorm at all
], ids=lambda s: f"{s.architecture}-{'x'.join(map(str, s.out_shape))}-c{s.num_classes}")
def test_inference_copy_computes_the_same_function(spec):
    from torch import nn

    source = GeneratorSource.from_module(_with_batchnorm_statistics(spec), spec, step=0,
                                         label="t")
    plain, fast = source.build(), source.build_for_inference()
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in fast.modules())
    assert not any(type(m) is nn.ConvTranspose2d for m in fast.modules())
    z = latent_batch(spec.nz, range(5))
    labels = torch.arange(5) % spec.num_classes if spec.num_classes else None
    with torch.inference_mode():
        expected, got = plain(z, labels), fast(z, labels)
        single = fast(z[:1], None if labels is None else labels[:1])
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=1e-4)
    torch.testing.assert_close(single, expected[:1], atol=2e-5, rtol=1e-4)
    # Folding works on the rebuilt module only: the source's weights are untouched.
    np.testing.assert_array_equal(render(source.build(), z, labels), render(plain, z, labels))


def test_batchnorm_folding_is_exact_algebra():
    from torch import nn

    from ganstudio.engine.sampling import fold_batchnorm

    torch.manual_seed(3)
    for layer, norm, x in [
        (nn.ConvTranspose2d(6, 5, 4, 2, 1, bias=False), nn.BatchNorm2d(5), torch.randn(2, 6, 3, 3)),
        (nn.Conv2d(6, 5, 3, 1, 1, bias=True), nn.BatchNorm2d(5), torch.randn(2, 6, 4, 4)),
        (nn.Linear(7, 5), nn.BatchNorm1d(5), torch.randn(3, 7)),
    ]:
        with torch.no_grad():
            norm.running_mean.normal_(0, 1)
            norm.running_var.uniform_(0.1, 4)
            norm.weight.normal_(1, 0.5)
            norm.bias.normal_(0, 0.5)
        model = nn.Sequential(layer, norm).eval()
        with torch.no_grad():
            expected = model(x)
            fold_batchnorm(model)
            assert isinstance(model[1], nn.Identity) and model[0].bias is not None
            torch.testing.assert_close(model(x), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cin,cout,size,kernel,stride,padding,bias", [
    (16, 8, 1, 4, 1, 0, False),    # DCGAN's first layer: 1x1 -> 4x4
    (16, 8, 4, 4, 2, 1, True),     # a doubling layer on a small input (GEMM path)
    (8, 3, 9, 4, 2, 1, False),     # 81 pixels, 3 output channels: the GEMM path
    (8, 20, 9, 4, 2, 1, True),     # 81 pixels, 20 output channels: the library kernel path
    (64, 3, 32, 4, 2, 1, False),   # DCGAN-64's RGB output layer (GEMM path)
    (5, 4, 3, 3, 2, 0, True),      # odd kernel, no padding
])
def test_gemm_transposed_convolution_matches_pytorch(cin, cout, size, kernel, stride, padding,
                                                     bias):
    from torch import nn

    from ganstudio.engine.sampling import GemmConvTranspose2d

    torch.manual_seed(1)
    conv = nn.ConvTranspose2d(cin, cout, kernel, stride, padding, bias=bias).eval()
    fast = GemmConvTranspose2d(conv)
    x = torch.randn(3, cin, size, size)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), conv(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(fast(x[:1]), conv(x[:1]), atol=1e-5, rtol=1e-5)
