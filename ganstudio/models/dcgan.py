"""DCGAN (Radford, Metz & Chintala 2015) generator and discriminator.

At 64×64 with ``nz=100, ngf=64, nc=3`` the generator's ``main`` is laid out exactly like the
widely used PyTorch DCGAN example (``main.0`` … ``main.12``), so that example's ``netG``
state_dict loads unchanged. Other sizes add or drop one upsampling block per factor of two.

The discriminator returns logits (no Sigmoid): every objective here works on logits, which is
numerically safer and lets bf16 autocast run the whole step.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganstudio.models.layers import ClassProjection, make_norm, maybe_spectral_norm

DCGAN_SIZES = (32, 64, 128)


def _blocks_for(image_size: int) -> int:
    if image_size not in DCGAN_SIZES:
        raise ValueError(f"dcgan makes {', '.join(map(str, DCGAN_SIZES))} pixel images, "
                         f"not {image_size}")
    # Upsampling blocks between the 4x4 seed and the last layer (3 at 64 px, as in the paper).
    return int(math.log2(image_size)) - 3


class DCGANGenerator(nn.Module):
    """z (N, nz) or (N, nz, 1, 1) [+ labels] -> images (N, nc, S, S) in [-1, 1]."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3, image_size: int = 64,
                 num_classes: int = 0):
        super().__init__()
        self.nz, self.ngf, self.nc, self.image_size = nz, ngf, nc, image_size
        self.num_classes = num_classes
        doublings = _blocks_for(image_size)
        # Class information enters as an embedding concatenated to z (cGAN); the unconditional
        # model has no embedding so its state_dict matches the reference example exactly.
        embed_dim = nz if num_classes else 0
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        width = ngf * 2 ** doublings
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz + embed_dim, width, 4, 1, 0, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        ]
        for _ in range(doublings):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        if self.embed is not None:
            if labels is None:
                raise ValueError("this conditional generator needs class labels")
            z = torch.cat([z, self.embed(labels)[:, :, None, None]], dim=1)
        return self.main(z)


class DCGANDiscriminator(nn.Module):
    """images (N, nc, S, S) [+ labels] -> logits (N,)."""

    def __init__(self, ndf: int = 64, nc: int = 3, image_size: int = 64, num_classes: int = 0,
                 norm: str = "batch", spectral_norm: bool = False):
        super().__init__()
        self.ndf, self.nc, self.image_size = ndf, nc, image_size
        doublings = _blocks_for(image_size)
        sn = maybe_spectral_norm if spectral_norm else (lambda m: m)
        layers: list[nn.Module] = [sn(nn.Conv2d(nc, ndf, 4, 2, 1, bias=False)),
                                   nn.LeakyReLU(0.2, inplace=True)]
        width = ndf
        for _ in range(doublings):
            layers += [sn(nn.Conv2d(width, width * 2, 4, 2, 1, bias=norm == "none")),
                       *make_norm(norm, width * 2),
                       nn.LeakyReLU(0.2, inplace=True)]
            width *= 2
        self.main = nn.Sequential(*layers)
        self.head = sn(nn.Conv2d(width, 1, 4, 1, 0, bias=False))
        # Projection discriminator (Miyato & Koyama 2018): logit += <embed(y), pooled features>.
        self.projection = ClassProjection(num_classes, width, sn) if num_classes else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = self.main(x)
        return self._logits(h, labels)

    def forward_pair(self, real: torch.Tensor, fake: torch.Tensor,
                     real_labels: torch.Tensor | None = None,
                     fake_labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(D(real), D(fake))`` in one pass, computing exactly what two calls compute.

        Convolutions and activations run on both batches together (half as many, twice as
        large kernels); batch norm runs on each batch separately and in that order, so its
        statistics and running averages never mix real and fake, as in the reference step. Not
        for spectral norm, whose power iteration runs once per call.
        """
        n = len(real)
        h = torch.cat([real, fake])
        for layer in self.main:
            if isinstance(layer, nn.BatchNorm2d):
                h = torch.cat([layer(h[:n]), layer(h[n:])])
            else:
                h = layer(h)
        labels = None
        if self.projection is not None:
            if real_labels is None or fake_labels is None:
                raise ValueError("this conditional discriminator needs class labels")
            labels = torch.cat([real_labels, fake_labels])
        logits = self._logits(h, labels)
        return logits[:n], logits[n:]

    def _logits(self, h: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        logits = self.head(h).flatten()
        if self.projection is not None:
            if labels is None:
                raise ValueError("this conditional discriminator needs class labels")
            logits = logits + self.projection(h.sum(dim=(2, 3)), labels)
        return logits
