"""Our generators as programs other code can run: ``torch.export`` archives and ONNX (no Qt).

Both take latents ``(N, nz)`` (and class labels ``(N,)`` for conditional generators) with any
batch size and return images in ``[-1, 1]`` ``(N, C, H, W)`` (or points ``(N, 2)``), computed by
the generator's plain layers (BatchNorm as BatchNorm), so any runtime can run them. The
``.pt2`` archive carries ``extra/ganstudio.json`` (latent size and distribution, output range,
classes, step, the weights' SHA-256), which GAN Studio reads back when it opens the archive;
the ONNX model carries the same JSON as ``ganstudio`` metadata. ONNX export needs the optional
``onnx`` extra (``pip install ganstudio[onnx]``: onnx and onnxscript).
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganstudio import __version__
from ganstudio.engine.files import atomic_write_bytes
from ganstudio.engine.foreign import PROGRAM_METADATA, RANGE_POINTS, RANGE_TANH
from ganstudio.engine.sampling import GeneratorSource, latent_batch

PROGRAM_FORMAT = "ganstudio-generator-program"
PROGRAM_SUFFIXES = (".pt2", ".onnx")
MAX_BATCH = 4096


class _LatentsToImages(nn.Module):
    """The generator with its calling convention pinned: latents (and labels) in."""

    def __init__(self, generator: nn.Module, conditional: bool):
        super().__init__()
        self.generator = generator
        self.conditional = conditional

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(z, labels) if self.conditional else self.generator(z)


def program_metadata(source: GeneratorSource) -> dict[str, Any]:
    points = len(source.spec.out_shape) == 1
    return {"format": PROGRAM_FORMAT, "ganstudio_version": __version__,
            "nz": source.nz, "latent_shape": [source.nz],
            "latent_distribution": source.latent_distribution,
            "output_range": RANGE_POINTS if points else RANGE_TANH,
            "out_shape": list(source.spec.out_shape), "num_classes": source.spec.num_classes,
            "class_names": list(source.class_names), "step": source.step,
            "generator_spec": source.spec.to_dict(), "generator_sha256": source.sha256,
            "source": source.metadata.get("source") or source.metadata.get("run")}


def _example(source: GeneratorSource) -> tuple[tuple[torch.Tensor, ...], Any]:
    batch = torch.export.Dim("batch", min=1, max=MAX_BATCH)
    z = latent_batch(source.nz, [0, 1], source.latent_distribution)
    if source.spec.num_classes:
        return (z, torch.zeros(2, dtype=torch.long)), ({0: batch}, {0: batch})
    return (z,), ({0: batch},)


def _module(source: GeneratorSource) -> nn.Module:
    if source.is_program:
        raise ValueError(f"{source.label} is already an exported program; open it and export "
                         "one of GAN Studio's own generators")
    return _LatentsToImages(source.build("cpu"), bool(source.spec.num_classes)).eval()


def export_pt2(source: GeneratorSource, path: Path | str) -> Path:
    """Write ``source`` as a ``torch.export`` archive with our metadata, atomically."""
    path = Path(path)
    args, dynamic = _example(source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.export.export(_module(source), args, dynamic_shapes=dynamic)
        buffer = io.BytesIO()
        torch.export.save(program, buffer, extra_files={
            PROGRAM_METADATA: json.dumps(program_metadata(source), sort_keys=True)})
    atomic_write_bytes(path, buffer.getvalue())
    return path


def onnx_available() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        return False
    return True


def export_onnx(source: GeneratorSource, path: Path | str) -> Path:
    """Write ``source`` as an ONNX model (inputs ``z`` and, if conditional, ``labels``; output
    ``images``) with a dynamic batch size and our metadata."""
    if not onnx_available():
        raise RuntimeError("ONNX export needs the optional packages onnx and onnxscript "
                           "(pip install 'ganstudio[onnx]')")
    import onnx

    path = Path(path)
    args, dynamic = _example(source)
    names = ["z", "labels"][:len(args)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(_module(source), args, dynamo=True, dynamic_shapes=dynamic,
                                    input_names=names, output_names=["images"],
                                    external_data=False, verbose=False)
    model = program.model_proto
    entry = model.metadata_props.add()
    entry.key, entry.value = "ganstudio", json.dumps(program_metadata(source), sort_keys=True)
    onnx.checker.check_model(model)
    atomic_write_bytes(path, model.SerializeToString())
    return path


def export_program(source: GeneratorSource, path: Path | str) -> Path:
    """:func:`export_pt2` or :func:`export_onnx`, as the suffix says."""
    suffix = Path(path).suffix.lower()
    if suffix == ".pt2":
        return export_pt2(source, path)
    if suffix == ".onnx":
        return export_onnx(source, path)
    raise ValueError(f"{path}: a generator is exported as .pt2 (torch.export) or .onnx, "
                     f"not {suffix or 'a name without a suffix'}")
