"""Generators detached from training: snapshots that can cross threads and be rebuilt anywhere.

A :class:`GeneratorSource` is an immutable description of one generator state — its
:class:`~ganstudio.models.GeneratorSpec`, CPU copies of its weights as numpy arrays, and where it
came from. The window's latent panel renders from its own module rebuilt from a source, so the
trainer can keep mutating its live weights on another thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ganstudio.data.base import to_uint8_images
from ganstudio.errors import CheckpointError
from ganstudio.models import GeneratorSpec, build_generator


@dataclass(frozen=True)
class GeneratorSource:
    spec: GeneratorSpec
    state: dict[str, np.ndarray] = field(repr=False)
    step: int
    label: str                     # "training run (EMA), step 1200" or a file name
    metadata: dict[str, Any] = field(default_factory=dict)  # run, checkpoint, class_names...

    @property
    def nz(self) -> int:
        return self.spec.nz

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.metadata.get("class_names", ()))

    @property
    def latent_distribution(self) -> str:
        return str(self.metadata.get("latent_distribution", "normal"))

    @classmethod
    def from_module(cls, generator: nn.Module, spec: GeneratorSpec, *, step: int, label: str,
                    metadata: dict[str, Any] | None = None) -> "GeneratorSource":
        state = {k: v.detach().to("cpu", copy=True).numpy()
                 for k, v in generator.state_dict().items()}
        return cls(spec, state, step, label, dict(metadata or {}))

    def build(self, device: str | torch.device = "cpu") -> nn.Module:
        """A fresh generator module in eval mode holding this state."""
        from ganstudio.engine.checkpoint import load_module_state

        generator = build_generator(self.spec)
        tensors = {k: torch.from_numpy(np.array(v)) for k, v in self.state.items()}
        load_module_state(generator, tensors, "generator", self.label)
        return generator.to(device).eval()

    @classmethod
    def open(cls, path: Path | str) -> "GeneratorSource":
        """Open a run folder, a checkpoint (.pt) or a generator export (.safetensors)."""
        from ganstudio.engine.checkpoint import (
            generator_from_checkpoint,
            latest_checkpoint,
            load_generator_export,
        )

        path = Path(path)
        if path.is_dir():
            export = path / "generator.safetensors"
            checkpoint = latest_checkpoint(path / "checkpoints")
            if checkpoint is not None:
                path = checkpoint
            elif export.is_file():
                path = export
            else:
                raise CheckpointError(f"{path}: no checkpoint or generator export in this folder")
        if path.suffix == ".safetensors":
            loaded = load_generator_export(path)
        else:
            loaded = generator_from_checkpoint(path)
        meta = dict(loaded.metadata)
        meta.setdefault("source", str(path))
        return cls.from_module(loaded.generator, loaded.spec, step=int(meta.get("step", 0)),
                               label=path.name, metadata=meta)


def latent_batch(nz: int, seeds: list[int] | range, distribution: str = "normal") -> torch.Tensor:
    """One latent vector per seed; the same seed always gives the same vector on any machine."""
    rows = []
    for seed in seeds:
        g = torch.Generator().manual_seed(int(seed))
        if distribution == "uniform":
            rows.append(torch.rand(nz, generator=g) * 2 - 1)
        else:
            rows.append(torch.randn(nz, generator=g))
    return torch.stack(rows) if rows else torch.zeros(0, nz)


@torch.inference_mode()
def render(generator: nn.Module, z: torch.Tensor | np.ndarray,
           labels: torch.Tensor | None = None) -> np.ndarray:
    """Images (uint8 ``(N, H, W, C)``) or points (float ``(N, 2)``) for latent vectors ``z``."""
    device = next(generator.parameters()).device
    z = torch.as_tensor(np.asarray(z, dtype=np.float32) if isinstance(z, np.ndarray) else z)
    out = generator(z.to(device, torch.float32), None if labels is None else labels.to(device))
    if out.dim() == 4:
        return to_uint8_images(out)
    return out.float().cpu().numpy()
