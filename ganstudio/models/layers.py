"""Small building blocks shared by the architectures."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn


def maybe_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) through the parametrization API.

    The parametrization form (not the older hook) keeps state_dicts plain tensors and works
    with deepcopy, EMA and CUDA graphs.
    """
    return nn.utils.parametrizations.spectral_norm(module)


def make_norm(kind: str, channels: int) -> list[nn.Module]:
    """The discriminator's normalisation layer(s) for ``kind`` (empty list for ``"none"``)."""
    if kind == "batch":
        return [nn.BatchNorm2d(channels)]
    if kind == "instance":
        return [nn.InstanceNorm2d(channels, affine=True)]
    if kind == "layer":
        # Per-sample normalisation over (C, H, W): keeps WGAN-GP's per-sample gradients honest.
        return [nn.GroupNorm(1, channels)]
    if kind == "none":
        return []
    raise ValueError(f"unknown normalisation {kind!r}")


class ClassProjection(nn.Module):
    """The class term of a projection discriminator: ``<embed(y), features>``."""

    def __init__(self, num_classes: int, features: int,
                 wrap: Callable[[nn.Module], nn.Module] = lambda m: m):
        super().__init__()
        self.embed = wrap(nn.Embedding(num_classes, features))

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return (self.embed(labels) * features).sum(dim=1)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN weight init: conv weights N(0, 0.02), norm scales N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = _raw_weight(m)
            nn.init.normal_(weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d, nn.GroupNorm, nn.InstanceNorm2d,
                            nn.LayerNorm)):
            if getattr(m, "weight", None) is not None:
                nn.init.normal_(m.weight, 1.0, 0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(_raw_weight(m), 0.0, 0.02)


def _raw_weight(m: nn.Module) -> torch.Tensor:
    # With spectral norm, ``m.weight`` is computed; initialise the stored original instead.
    if nn.utils.parametrize.is_parametrized(m, "weight"):
        return m.parametrizations.weight.original
    return m.weight
