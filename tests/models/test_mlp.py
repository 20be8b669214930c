"""The fully-connected GAN for points and small images."""

from __future__ import annotations

import torch

from ganstudio.models import GeneratorSpec, build_discriminator, build_generator, check_supported


def test_points_generator_is_unbounded_and_images_are_tanh():
    torch.manual_seed(0)
    points = build_generator(GeneratorSpec("mlp", 8, (2,), 16))
    out = points(torch.randn(64, 8) * 50)
    assert out.shape == (64, 2)
    images = build_generator(GeneratorSpec("mlp", 8, (1, 28, 28), 4))
    out = images(torch.randn(5, 8))
    assert out.shape == (5, 1, 28, 28) and out.abs().max() <= 1


def test_discriminator_outputs_one_logit_per_sample():
    d = build_discriminator("mlp", (1, 28, 28), width=4, num_classes=10)
    assert d(torch.randn(6, 1, 28, 28), torch.arange(6)).shape == (6,)


def test_support_rules_name_the_problem():
    assert check_supported("mlp", (2,)) is None
    assert "dcgan makes images" in check_supported("dcgan", (2,))
    assert "unknown model" in check_supported("stylegan", (3, 32, 32))
