"""Generator/discriminator architectures, selectable by name.

A :class:`GeneratorSpec` is everything needed to rebuild a generator without its discriminator
(it is what a generator export stores next to the weights).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

from torch import nn

from ganstudio.models.dcgan import DCGAN_SIZES, DCGANDiscriminator, DCGANGenerator
from ganstudio.models.layers import dcgan_init
from ganstudio.models.mlp import MLPDiscriminator, MLPGenerator

__all__ = ["MODELS", "ModelInfo", "GeneratorSpec", "build_generator", "build_discriminator",
           "check_supported", "dcgan_init", "DCGANGenerator", "DCGANDiscriminator",
           "MLPGenerator", "MLPDiscriminator"]


@dataclass(frozen=True)
class GeneratorSpec:
    architecture: str
    nz: int
    out_shape: tuple[int, ...]  # (C, H, W) for images, (2,) for points
    width: int
    num_classes: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["out_shape"] = list(self.out_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "GeneratorSpec":
        return cls(architecture=str(d["architecture"]), nz=int(d["nz"]),
                   out_shape=tuple(int(v) for v in d["out_shape"]), width=int(d["width"]),
                   num_classes=int(d.get("num_classes", 0)))


@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    unsupported: Callable[[tuple[int, ...]], str | None]  # data shape -> reason, or None if fine


def _dcgan_unsupported(shape: tuple[int, ...]) -> str | None:
    if len(shape) != 3:
        return "dcgan makes images; use mlp for 2-D points"
    c, h, w = shape
    if h != w or h not in DCGAN_SIZES:
        return f"dcgan makes {'/'.join(map(str, DCGAN_SIZES))} pixel square images, not {h}x{w}"
    if c not in (1, 3):
        return f"dcgan makes 1 or 3 channel images, not {c}"
    return None


def _mlp_unsupported(shape: tuple[int, ...]) -> str | None:
    if len(shape) == 1 or (len(shape) == 3 and shape[1] * shape[2] <= 64 * 64):
        return None
    return "mlp is for 2-D points and small images (up to 64x64)"


MODELS: dict[str, ModelInfo] = {
    "dcgan": ModelInfo("dcgan", "DCGAN (Radford et al. 2015): transposed-conv G, strided-conv D; "
                       "32/64/128 px, 1 or 3 channels", _dcgan_unsupported),
    "mlp": ModelInfo("mlp", "fully-connected GAN (Goodfellow et al. 2014) for 2-D points and "
                     "small images", _mlp_unsupported),
}


def check_supported(architecture: str, shape: tuple[int, ...]) -> str | None:
    if architecture not in MODELS:
        return f"unknown model {architecture!r} (known: {', '.join(MODELS)})"
    return MODELS[architecture].unsupported(tuple(shape))


def build_generator(spec: GeneratorSpec) -> nn.Module:
    reason = check_supported(spec.architecture, spec.out_shape)
    if reason:
        raise ValueError(reason)
    if spec.architecture == "dcgan":
        c, size, _ = spec.out_shape
        g = DCGANGenerator(spec.nz, spec.width, c, size, spec.num_classes)
    else:
        return MLPGenerator(spec.nz, spec.out_shape, spec.width, spec.num_classes)
    dcgan_init(g)
    return g


def build_discriminator(architecture: str, shape: tuple[int, ...], *, width: int,
                        num_classes: int = 0, norm: str = "batch",
                        spectral_norm: bool = False) -> nn.Module:
    reason = check_supported(architecture, shape)
    if reason:
        raise ValueError(reason)
    if architecture == "dcgan":
        c, size, _ = shape
        d = DCGANDiscriminator(width, c, size, num_classes, norm=norm, spectral_norm=spectral_norm)
    else:
        # The MLP keeps PyTorch's default (Kaiming-uniform) init: N(0, 0.02) is DCGAN's recipe
        # and makes small fully-connected nets on 2-D data start needlessly slowly.
        return MLPDiscriminator(shape, width, num_classes, spectral_norm=spectral_norm)
    dcgan_init(d)
    return d
