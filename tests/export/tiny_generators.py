"""Tiny generators for export and latent-panel tests: milliseconds per render on a CPU."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ganstudio.engine.checkpoint import export_generator
from ganstudio.engine.sampling import GeneratorSource
from ganstudio.models import GeneratorSpec, build_generator


def tiny_spec(kind: str = "dcgan", *, nz: int = 8, classes: int = 0, size: int = 32,
              channels: int = 3) -> GeneratorSpec:
    if kind == "points":
        return GeneratorSpec("mlp", nz, (2,), 8, classes)
    return GeneratorSpec(kind, nz, (channels, size, size), 4, classes)


def tiny_generator(spec: GeneratorSpec, seed: int = 0) -> nn.Module:
    """Random weights and non-trivial BatchNorm statistics, as a trained model would have."""
    torch.manual_seed(seed)
    generator = build_generator(spec)
    with torch.no_grad():
        for m in generator.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.normal_(1.0, 0.2)
                m.bias.normal_(0.0, 0.2)
            elif isinstance(m, (nn.ConvTranspose2d, nn.Linear)):
                m.weight.normal_(0.0, 0.3)   # DCGAN's 0.02 makes tiny nets output flat grey
    return generator.eval()


def tiny_source(kind: str = "dcgan", *, seed: int = 0, step: int = 10,
                class_names: tuple[str, ...] = (), **spec_args) -> GeneratorSource:
    spec = tiny_spec(kind, classes=len(class_names), **spec_args)
    meta = {"class_names": list(class_names)} if class_names else {}
    return GeneratorSource.from_module(tiny_generator(spec, seed), spec, step=step,
                                       label=f"tiny {kind}, step {step}", metadata=meta)


def tiny_export(folder: Path, kind: str = "dcgan", *, seed: int = 0, step: int = 10,
                class_names: tuple[str, ...] = (), name: str = "generator.safetensors",
                **spec_args) -> GeneratorSource:
    """A generator export on disk, opened the way the window opens files."""
    spec = tiny_spec(kind, classes=len(class_names), **spec_args)
    path = export_generator(Path(folder) / name, tiny_generator(spec, seed), spec,
                            {"step": step, "class_names": list(class_names)})
    return GeneratorSource.open(path)
