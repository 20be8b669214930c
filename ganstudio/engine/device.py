"""Choosing and describing compute devices (CUDA when present, else CPU)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from ganstudio.errors import DeviceError


@dataclass(frozen=True)
class DeviceChoice:
    value: str   # what goes into train.device: "auto", "cpu", "cuda:0", "mps"
    label: str   # what a person reads: "NVIDIA H200 (cuda:0, 139 GiB)"


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def resolve_device(name: str) -> torch.device:
    """Turn ``auto``/``cpu``/``cuda``/``cuda:N``/``mps`` into a device that exists here."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r}: no CUDA GPU is available on this machine "
                              "(use auto or cpu)")
        index = int(name[5:]) if name.startswith("cuda:") else torch.cuda.current_device()
        count = torch.cuda.device_count()
        if index >= count:
            raise DeviceError(f"device {name!r}: this machine has {count} CUDA GPU(s), "
                              f"numbered 0 to {count - 1}")
        return torch.device("cuda", index)
    if name == "mps":
        if not _mps_available():
            raise DeviceError("device 'mps': Apple's Metal backend is not available here")
        return torch.device("mps")
    raise DeviceError(f"unknown device {name!r} (use auto, cpu, cuda, cuda:N or mps)")


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name} ({device}, {props.total_memory / 2**30:.0f} GiB)"
    if device.type == "mps":
        return "Apple GPU (mps)"
    return f"CPU ({torch.get_num_threads()} threads of {os.cpu_count()} cores)"


def list_devices() -> list[DeviceChoice]:
    """Every device a run could use here, for the window's device menu."""
    auto = resolve_device("auto")
    choices = [DeviceChoice("auto", f"Automatic: {describe_device(auto)}"),
               DeviceChoice("cpu", describe_device(torch.device("cpu")))]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            choices.append(DeviceChoice(f"cuda:{i}", describe_device(torch.device("cuda", i))))
    if _mps_available():
        choices.append(DeviceChoice("mps", "Apple GPU (mps)"))
    return choices


def distributed_rank() -> tuple[int, int]:
    """``(rank, world_size)``: from torch.distributed when initialised, else torchrun's env."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
