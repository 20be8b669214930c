"""The Inception v3 network used for FID, without weights (adapted from pytorch-fid).

pytorch-fid (Apache-2.0, M. Seitzer) ports TensorFlow's 2015 Inception graph, whose pooling
differs from torchvision's Inception in four block types; the subclasses below restore it with
torchvision's layer names, so pytorch-fid's weights file loads unchanged. Kept apart from
:mod:`ganstudio.metrics.extractors` because importing torchvision takes seconds.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import inception as _tv_inception


class FIDInceptionA(_tv_inception.InceptionA):
    """InceptionA with TensorFlow's average pooling (padding not counted)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1,
                                           count_include_pad=False))
        return torch.cat([b1, b5, b3, bp], 1)


class FIDInceptionC(_tv_inception.InceptionC):
    """InceptionC with TensorFlow's average pooling (padding not counted)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        bd = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(self.branch7x7dbl_2(bd))))
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1,
                                           count_include_pad=False))
        return torch.cat([b1, b7, bd, bp], 1)


class FIDInceptionE_1(_tv_inception.InceptionE):
    """First InceptionE with TensorFlow's average pooling (padding not counted)."""

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        bp = self.branch_pool(self._pool(x))
        return torch.cat([b1, b3, bd, bp], 1)


class FIDInceptionE_2(FIDInceptionE_1):
    """Second InceptionE: the FID graph max-pools here (a quirk of that graph, kept for
    comparability with every published FID)."""

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


def build_fid_inception() -> nn.Module:
    """The FID Inception v3 with uninitialised weights, in pytorch-fid's key layout.

    ``state_dict()`` keys and shapes equal those of ``pt_inception-2015-12-05-6726825d.pth``
    (1008 classes, no auxiliary classifier). Nothing is downloaded.
    """
    blocks = [_tv_inception.BasicConv2d, FIDInceptionA, _tv_inception.InceptionB, FIDInceptionC,
              _tv_inception.InceptionD, FIDInceptionE_1, _tv_inception.InceptionAux]
    net = _tv_inception.Inception3(num_classes=1008, aux_logits=False, init_weights=False,
                                   inception_blocks=blocks)
    net.Mixed_7c = FIDInceptionE_2(2048)
    return net


class FIDInceptionPool3(nn.Module):
    """Inception v3 from the input up to the 2048-d global average pool (pytorch-fid block 3)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.layers = nn.Sequential(
            net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3,
            nn.MaxPool2d(kernel_size=3, stride=2),
            net.Conv2d_3b_1x1, net.Conv2d_4a_3x3,
            nn.MaxPool2d(kernel_size=3, stride=2),
            net.Mixed_5b, net.Mixed_5c, net.Mixed_5d,
            net.Mixed_6a, net.Mixed_6b, net.Mixed_6c, net.Mixed_6d, net.Mixed_6e,
            net.Mixed_7a, net.Mixed_7b, net.Mixed_7c,
            nn.AdaptiveAvgPool2d(output_size=(1, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).flatten(1)
