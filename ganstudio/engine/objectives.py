"""GAN objectives on discriminator logits, and the gradient penalties.

All losses take raw logits. Working on logits (never Sigmoid followed by BCELoss) is exact for the
non-saturating loss, stable in bf16, and lets one code path serve every objective.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# What D's output means, for readouts: a probability after sigmoid, or a raw critic score.
OUTPUT_KIND = {"nonsaturating": "probability", "lsgan": "score", "hinge": "score",
               "wgan-gp": "score"}


def discriminator_loss(loss: str, real_logits: torch.Tensor, fake_logits: torch.Tensor
                       ) -> torch.Tensor:
    if loss == "nonsaturating":
        # -log D(x) - log(1 - D(G(z))), the tutorial's sigmoid cross-entropy.
        return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    if loss == "hinge":
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
    if loss == "wgan-gp":
        return fake_logits.mean() - real_logits.mean()
    if loss == "lsgan":
        return 0.5 * ((real_logits - 1.0) ** 2).mean() + 0.5 * (fake_logits ** 2).mean()
    raise ValueError(f"unknown loss {loss!r}")


def generator_loss(loss: str, fake_logits: torch.Tensor) -> torch.Tensor:
    if loss == "nonsaturating":
        # -log D(G(z)): the non-saturating form Goodfellow et al. recommend for G.
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    if loss in ("hinge", "wgan-gp"):
        return -fake_logits.mean()
    if loss == "lsgan":
        return 0.5 * ((fake_logits - 1.0) ** 2).mean()
    raise ValueError(f"unknown loss {loss!r}")


def readout(loss: str, logits: torch.Tensor) -> torch.Tensor:
    """Mean D output as shown to people: D(x) as a probability, or the mean critic score."""
    if OUTPUT_KIND[loss] == "probability":
        return torch.sigmoid(logits.detach().float()).mean()
    return logits.detach().float().mean()


def gradient_penalty(discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     labels: torch.Tensor | None) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): E[(||grad D(x_hat)|| - 1)^2] on random interpolates."""
    alpha_shape = (len(real),) + (1,) * (real.dim() - 1)
    alpha = torch.rand(alpha_shape, device=real.device, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = discriminator(mixed, labels)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E[||grad D(x)||^2] on real data; ``real`` must require grad."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()
