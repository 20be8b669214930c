"""The trainer's fast path: threads, memory layout, optimiser options and the whole-step CUDA graph.

Decisions are made once per run from the config and the device, and each one is described in
plain words for ``TrainingStarted.speed_notes`` (the window logs them, ``ganstudio-bench`` prints
them), including why a speed-up is off.

The CUDA graph (:class:`StepGraph`) holds one entire training step — batch gathering from the
GPU-resident uint8 dataset, latent noise, every D and G update, the fused Adam steps, EMA, gradient
norms and the on-device metric sums — captured once and replayed every step, so a step costs one
launch instead of hundreds. What a step needs from the host (the sampler's indices, which come
from a CPU generator so that runs and resumes stay exact, and the EMA weights) is copied into
static device buffers before each replay. Captured tensors are only ever updated in place.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import torch

from ganstudio.config import RunConfig

# Eager steps before the capture: they initialise the optimiser state, cuDNN's algorithm choice
# and the allocator's caches, none of which may happen for the first time inside a capture.
GRAPH_WARMUP_STEPS = 3


def configure_threads(threads: int) -> str:
    """Apply ``train.threads`` (0 keeps torch's one-per-core default); returns a speed note."""
    if threads:
        torch.set_num_threads(threads)
        return f"CPU threads: {torch.get_num_threads()} (train.threads)"
    return f"CPU threads: {torch.get_num_threads()} (one per core)"


def resolve_channels_last(setting: str, device: torch.device, architecture: str,
                          use_bf16: bool) -> tuple[bool, str | None]:
    """Whether convolutional models use channels-last tensors, and a note saying so.

    oneDNN's channels-last convolutions made a DCGAN step about 9 % faster on a 2-core CPU
    (docs/performance.md); cuDNN's tensor-core kernels want NHWC for bf16. For fp32 on CUDA the
    gain is not established, so auto leaves NCHW there.
    """
    if architecture != "dcgan":
        return False, None  # fully connected models have no memory layout to choose
    if setting == "off":
        return False, "memory layout: NCHW (train.channels_last = off)"
    if setting == "on":
        return True, "memory layout: channels_last (train.channels_last = on)"
    if device.type == "cpu":
        return True, "memory layout: channels_last (oneDNN)"
    if device.type == "cuda" and use_bf16:
        return True, "memory layout: channels_last (cuDNN, bf16)"
    return False, "memory layout: NCHW (channels_last pays off here only with bf16)"


def adam_options(device: torch.device) -> dict[str, Any]:
    """The fused Adam kernel: one launch on CUDA; on the CPU 1.4 ms instead of 8.2 ms per
    DCGAN-32 optimiser step (docs/performance.md)."""
    if device.type in ("cuda", "cpu"):
        return {"fused": True, "foreach": None}
    return {"fused": None, "foreach": None}


def cuda_graph_off_reason(config: RunConfig, device: torch.device) -> str | None:
    """Why the step cannot be captured as a CUDA graph in this run (None: it will be tried)."""
    if device.type != "cuda":
        return "not CUDA"
    if config.train.cuda_graph == "off":
        return "train.cuda_graph = off"
    if not hasattr(torch.cuda, "CUDAGraph"):
        return f"this PyTorch ({torch.__version__}) has no CUDA graphs"
    return None


def describe_failure(exc: BaseException) -> str:
    """One line for a capture that failed (the first line of the error, shortened)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


class StepGraph:
    """Captures a step function once (after a few eager warm-up steps) and replays it.

    ``key`` names everything the captured step's shape depends on beyond its static buffers
    (D and G steps per step); a new key means a new capture. The graph's memory pool is kept
    across recaptures so a live change of d_steps does not double the memory.
    """

    def __init__(self, device: torch.device, warmup_steps: int = GRAPH_WARMUP_STEPS):
        self.device = device
        self.warmup_steps = warmup_steps
        self.stream = torch.cuda.Stream(device)
        self.pool = torch.cuda.graph_pool_handle()
        self.graph: torch.cuda.CUDAGraph | None = None
        self.key: Any = None
        self.eager_steps = 0
        self.captures = 0
        self.replays = 0

    def prepare(self, key: Any) -> bool:
        """True when this step must run eagerly (warm-up); a new ``key`` drops the graph."""
        if key != self.key:
            self.graph = None
            self.key = key
            self.eager_steps = 0
        if self.graph is None and self.eager_steps < self.warmup_steps:
            self.eager_steps += 1
            return True
        return False

    @property
    def captured(self) -> bool:
        return self.graph is not None

    @contextlib.contextmanager
    def side_stream(self) -> Iterator[None]:
        """Run eager warm-up on the capture stream, as PyTorch's graph recipe asks."""
        current = torch.cuda.current_stream(self.device)
        self.stream.wait_stream(current)
        with torch.cuda.stream(self.stream):
            yield
        current.wait_stream(self.stream)

    def capture(self, step: Callable[[], None]) -> None:
        """Record ``step`` (nothing runs now: call :meth:`replay` to run it)."""
        graph = torch.cuda.CUDAGraph()
        # thread_local: the window may use the GPU from other threads while this one captures.
        with torch.cuda.graph(graph, pool=self.pool, stream=self.stream,
                              capture_error_mode="thread_local"):
            step()
        self.graph = graph
        self.captures += 1

    def replay(self) -> None:
        assert self.graph is not None
        self.graph.replay()
        self.replays += 1

    def drop(self) -> None:
        self.graph = None
