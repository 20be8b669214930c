"""The original fully-connected GAN (Goodfellow et al. 2014).

Used for the 2-D toy distributions (output = points, no squashing) and for small images such as
28×28 digits (output squashed by tanh into the image range). ``width`` scales the hidden layers:
hidden units are ``4 * width`` for points and ``16 * width`` for images, so the default width 64
gives the paper-sized 1024-unit layers for MNIST.

Goodfellow et al. used maxout and dropout in D; we keep dropout and use LeakyReLU, which trains
the same models more reliably and is what most reimplementations do.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganstudio.models.layers import ClassProjection


class MLPGenerator(nn.Module):
    """z (N, nz) [+ labels] -> samples shaped ``out_shape`` ((2,) or (C, H, W))."""

    def __init__(self, nz: int, out_shape: tuple[int, ...], width: int = 64, num_classes: int = 0):
        super().__init__()
        self.nz, self.out_shape, self.num_classes = nz, tuple(out_shape), num_classes
        self.is_image = len(self.out_shape) == 3
        out_features = math.prod(self.out_shape)
        self.embed = nn.Embedding(num_classes, nz) if num_classes else None
        in_features = nz * (2 if num_classes else 1)
        if self.is_image:
            hidden = [4 * width, 8 * width, 16 * width]
            norm = True
        else:
            hidden = [4 * width, 4 * width, 4 * width]
            norm = False
        layers: list[nn.Module] = []
        for h in hidden:
            layers.append(nn.Linear(in_features, h))
            if norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(nn.ReLU(True))
            in_features = h
        layers.append(nn.Linear(in_features, out_features))
        if self.is_image:
            layers.append(nn.Tanh())
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = z.flatten(1)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this conditional generator needs class labels")
            z = torch.cat([z, self.embed(labels)], dim=1)
        return self.main(z).view(len(z), *self.out_shape)


class MLPDiscriminator(nn.Module):
    """samples shaped ``in_shape`` [+ labels] -> logits (N,)."""

    def __init__(self, in_shape: tuple[int, ...], width: int = 64, num_classes: int = 0,
                 spectral_norm: bool = False, dropout: float | None = None):
        super().__init__()
        self.in_shape = tuple(in_shape)
        is_image = len(self.in_shape) == 3
        wrap = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        hidden = [8 * width, 4 * width] if is_image else [4 * width, 4 * width, 4 * width]
        dropout = (0.3 if is_image else 0.0) if dropout is None else dropout
        layers: list[nn.Module] = []
        in_features = math.prod(self.in_shape)
        for h in hidden:
            layers += [wrap(nn.Linear(in_features, h)), nn.LeakyReLU(0.2, inplace=True)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            in_features = h
        self.main = nn.Sequential(*layers)
        self.head = wrap(nn.Linear(in_features, 1))
        self.projection = ClassProjection(num_classes, in_features, wrap) if num_classes else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.main(x.flatten(1))
        logits = self.head(h).flatten()
        if self.projection is not None:
            if labels is None:
                raise ValueError("this conditional discriminator needs class labels")
            logits = logits + self.projection(h, labels)
        return logits
