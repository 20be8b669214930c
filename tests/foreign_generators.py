"""Generators written the way other people write them, saved the ways they save them.

Nothing here imports GAN Studio's models: these files stand for ones trained elsewhere.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from tests.models.test_dcgan import CanonicalGenerator


class MLPGenerator(nn.Module):
    """A non-DCGAN generator: (N, 128) latents -> (N, 3, 16, 16) images in [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 3 * 16 * 16),
                                 nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 3, 16, 16)


class Classifier(nn.Module):
    """Images in, ten logits out: not a generator."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Linear(4 * 30 * 30, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x).flatten(1))


def canonical_netG(ngf: int = 8, seed: int = 0) -> nn.Module:
    """The PyTorch DCGAN example's netG (64 px, nz 100), with trained-like BatchNorm stats."""
    torch.manual_seed(seed)
    net = CanonicalGenerator(nz=100, ngf=ngf, nc=3)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.ConvTranspose2d):
                m.weight.normal_(0.0, 0.1)
    net.train()
    net(torch.randn(16, 100, 1, 1))     # one step's worth of running statistics
    return net.eval()


def save_all(folder: Path) -> dict[str, Path]:
    """Every kind of file the tests open, written into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    net = canonical_netG()
    batch = torch.export.Dim("batch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files["state_dict"] = folder / "netG_epoch_24.pth"
        torch.save(net.state_dict(), files["state_dict"])
        files["pickle"] = folder / "netG_full.pth"
        torch.save(net, files["pickle"])
        files["scripted"] = folder / "netG_scripted.pt"
        torch.jit.save(torch.jit.script(net), files["scripted"])
        files["traced"] = folder / "netG_traced.pt"
        torch.jit.save(torch.jit.trace(net, torch.randn(1, 100, 1, 1)), files["traced"])
        files["exported"] = folder / "netG.pt2"
        torch.export.save(torch.export.export(net, (torch.randn(2, 100, 1, 1),),
                                              dynamic_shapes=({0: batch},)), files["exported"])
        torch.manual_seed(1)
        mlp = MLPGenerator().eval()
        files["mlp_exported"] = folder / "mlp.pt2"
        torch.export.save(torch.export.export(mlp, (torch.randn(2, 128),),
                                              dynamic_shapes=({0: batch},)),
                          files["mlp_exported"])
        files["mlp_scripted"] = folder / "mlp.torchscript"
        torch.jit.save(torch.jit.script(mlp), files["mlp_scripted"])
        classifier = Classifier().eval()
        files["classifier_exported"] = folder / "classifier.pt2"
        torch.export.save(torch.export.export(classifier, (torch.randn(1, 3, 32, 32),)),
                          files["classifier_exported"])
        files["classifier_scripted"] = folder / "classifier.pt"
        torch.jit.save(torch.jit.script(classifier), files["classifier_scripted"])
    return files
