"""Checkpoints and generator exports: written atomically, read without running code.

* A **checkpoint** (``checkpoints/step-000001000.pt``) holds everything needed to continue a run
  exactly: G, D, EMA, optimisers, step, RNG states, the sampler's position and the fixed noise.
  It is a ``torch.save`` file of plain containers and tensors, read back with
  ``torch.load(weights_only=True)``, which refuses any pickle that would import or call code.
* A **generator export** (``generator.safetensors``) holds only the generator's weights plus JSON
  metadata (architecture, nz, image size, channels, normalisation, step) in the safetensors
  header; safetensors cannot carry code at all.
"""

from __future__ import annotations

import io
import json
import logging
import pickle
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from ganstudio import __version__
from ganstudio.engine.files import atomic_save, atomic_write_bytes
from ganstudio.errors import CheckpointError
from ganstudio.models import GeneratorSpec, build_generator

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "ganstudio-checkpoint"
CHECKPOINT_VERSION = 1
EXPORT_FORMAT = "ganstudio-generator"
EXPORT_VERSION = 1
_STEP_FILE = re.compile(r"^step-(\d+)\.pt$")


def checkpoint_name(step: int) -> str:
    return f"step-{step:09d}.pt"


def save_checkpoint(path: Path, state: Mapping[str, Any]) -> Path:
    """Write ``state`` atomically: a crash leaves the previous file intact."""
    state = dict(state)
    state.setdefault("format", CHECKPOINT_FORMAT)
    state.setdefault("version", CHECKPOINT_VERSION)
    state.setdefault("ganstudio_version", __version__)
    state.setdefault("torch_version", str(torch.__version__))
    state.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    atomic_save(Path(path), lambda handle: torch.save(state, handle))
    return Path(path)


def read_torch_file(path: Path, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(weights_only=True)`` with errors that say what is wrong with the file."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: the file is empty (0 bytes)")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        culprit = _unsupported_global(str(exc))
        if culprit:
            raise CheckpointError(
                f"{path}: refused to load: the file contains Python objects that would run code "
                f"when unpickled ({culprit}). GAN Studio only opens checkpoints made of plain "
                "tensors and containers. If you trust the file, re-save its state_dict() in a "
                "clean Python session.") from None
        raise CheckpointError(f"{path}: corrupt, or not a PyTorch checkpoint "
                              f"({_unpickling_reason(str(exc))})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CheckpointError(f"{path}: truncated or corrupt checkpoint ({_first_line(exc)})"
                              ) from None


def _unsupported_global(message: str) -> str:
    match = re.search(r"(?:Unsupported global: |unsupported )GLOBAL ([\w.]+)", message)
    return f"it asks for {match.group(1)}" if match else ""


def _unpickling_reason(message: str) -> str:
    # torch wraps the unpickler's one-line reason in paragraphs of advice; keep the reason.
    match = re.search(r"WeightsUnpickler error:\s*(.+)", message)
    return match.group(1).strip().splitlines()[0] if match else _first_line(Exception(message))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and check a GAN Studio checkpoint."""
    state = read_torch_file(path, map_location)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        keys = ", ".join(sorted(map(str, state))[:8]) if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(f"{path}: a PyTorch file, but not a GAN Studio checkpoint "
                              f"(it holds: {keys})")
    if int(state.get("version", 0)) > CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: written by a newer GAN Studio (checkpoint format "
                              f"{state['version']}; this version reads up to {CHECKPOINT_VERSION})")
    for key in ("step", "config", "G", "D", "opt_G", "opt_D", "rng"):
        if key not in state:
            raise CheckpointError(f"{path}: incomplete checkpoint, {key!r} is missing")
    return state


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of the step checkpoints in ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = _STEP_FILE.match(p.name)
        if m and p.is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint in ``folder`` that reads back; damaged newer ones are skipped."""
    for step, path in reversed(list_checkpoints(folder)):
        try:
            load_checkpoint(path)
        except CheckpointError as exc:
            log.warning("skipping unreadable checkpoint: %s", exc)
            continue
        return path
    return None


def prune_checkpoints(folder: Path, keep: int) -> None:
    for _step, path in list_checkpoints(folder)[:-keep]:
        path.unlink(missing_ok=True)


def load_module_state(module: nn.Module, state: Mapping[str, torch.Tensor], what: str,
                      source: Path | str) -> None:
    """``load_state_dict(strict=True)`` with a message that names what does not match."""
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{source}: the {what} weights are not a state dict")
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [(k, tuple(state[k].shape), tuple(v.shape)) for k, v in expected.items()
             if k in state and hasattr(state[k], "shape") and tuple(state[k].shape) != tuple(v.shape)]
    problems = []
    if wrong:
        k, got, want = wrong[0]
        more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
        problems.append(f"{k} has shape {got} in the file but the model expects {want}{more}")
    if missing:
        problems.append(f"missing {_few(missing)}")
    if unexpected:
        problems.append(f"unexpected {_few(unexpected)}")
    if problems:
        raise CheckpointError(f"{source}: the {what} weights do not match the model: "
                              + "; ".join(problems))
    module.load_state_dict(state, strict=True)


def _few(keys: list[str]) -> str:
    shown = ", ".join(keys[:4])
    return shown + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")


# ----- generator exports ----------------------------------------------------------------------

@dataclass(frozen=True)
class GeneratorExport:
    """A generator opened from an export, with what is known about it."""

    generator: nn.Module
    spec: GeneratorSpec
    metadata: dict[str, Any]   # architecture, nz, image size, channels, normalisation, step...
    path: Path


def export_generator(path: Path, generator: nn.Module, spec: GeneratorSpec,
                     metadata: Mapping[str, Any]) -> Path:
    """Write G's weights and JSON metadata as one safetensors file, atomically."""
    from safetensors.torch import save

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in generator.state_dict().items()}
    meta = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "generator": spec.to_dict(),
            "ganstudio_version": __version__,
            # Generators output tanh-range images; the explorer maps [-1, 1] to [0, 255].
            "normalization": "tanh [-1, 1]" if len(spec.out_shape) == 3 else "none (points)",
            "nz": spec.nz, "channels": spec.out_shape[0] if len(spec.out_shape) == 3 else 0,
            "image_size": spec.out_shape[-1] if len(spec.out_shape) == 3 else 0,
            "architecture": spec.architecture, **dict(metadata)}
    blob = save(tensors, metadata={"ganstudio": json.dumps(meta, sort_keys=True)})
    atomic_write_bytes(Path(path), blob)
    return Path(path)


def read_export_metadata(path: Path) -> dict[str, Any]:
    """The JSON metadata of a generator export, without loading its weights."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise CheckpointError(f"{path}: not a readable safetensors file ({_first_line(exc)})"
                              ) from None
    if "ganstudio" not in header:
        raise CheckpointError(f"{path}: a safetensors file, but not a GAN Studio generator "
                              "export (no 'ganstudio' metadata)")
    try:
        meta = json.loads(header["ganstudio"])
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: damaged export metadata ({exc})") from None
    if meta.get("format") != EXPORT_FORMAT:
        raise CheckpointError(f"{path}: unknown export format {meta.get('format')!r}")
    return meta


def load_generator_export(path: Path, device: str | torch.device = "cpu") -> GeneratorExport:
    from safetensors.torch import load_file

    meta = read_export_metadata(path)
    try:
        spec = GeneratorSpec.from_dict(meta["generator"])
        generator = build_generator(spec)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: export metadata does not describe a generator "
                              f"({exc})") from None
    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as exc:
        raise CheckpointError(f"{path}: truncated or corrupt weights ({_first_line(exc)})") from None
    load_module_state(generator, tensors, "generator", path)
    generator.to(device).eval()
    return GeneratorExport(generator, spec, meta, Path(path))


def generator_from_checkpoint(path: Path, device: str | torch.device = "cpu",
                              prefer_ema: bool = True) -> GeneratorExport:
    """Rebuild just the generator (EMA copy when there is one) from a full checkpoint."""
    state = load_checkpoint(path)
    spec = GeneratorSpec.from_dict(state["generator_spec"])
    generator = build_generator(spec)
    weights = state["G_ema"] if prefer_ema and state.get("G_ema") is not None else state["G"]
    load_module_state(generator, weights, "generator", path)
    generator.to(device).eval()
    meta = {"step": int(state["step"]), "architecture": spec.architecture, "nz": spec.nz,
            "source": str(path), "ema": weights is state.get("G_ema"),
            **state.get("export_metadata", {})}
    return GeneratorExport(generator, spec, meta, Path(path))


def torch_bytes(obj: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()
