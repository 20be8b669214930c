"""Health alarms: notice when training goes wrong, without crying wolf on a healthy run.

A :class:`HealthMonitor` looks at what the trainer already computes at report and sample steps
(so it costs no extra host synchronisation) and raises :class:`HealthAlarm` events for:

* ``nan`` — a loss or a weight is NaN/Inf. The trainer then refuses to checkpoint, so the last
  good checkpoint survives.
* ``exploding_gradients`` — a gradient norm far above its own recent history (and above an
  absolute floor), or non-finite.
* ``d_overpowering`` — D(x) → 1 and D(G(z)) → 0 for many reports in a row: the discriminator wins
  outright and G gets no useful gradient (only meaningful for probability outputs).
* ``mode_collapse`` — the fixed-noise samples become much less diverse than real data after
  having been diverse: G maps many latents to the same few outputs.

Each alarm fires once when its condition starts and re-arms only after the condition has cleared,
so a bad stretch gives one banner, not hundreds.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from statistics import median

import numpy as np
import torch

from ganstudio.engine.events import HealthAlarm  # noqa: F401  (the event, defined with the others)

NAN, EXPLODING, OVERPOWERING, COLLAPSE = ("nan", "exploding_gradients", "d_overpowering",
                                          "mode_collapse")
ALARM_TITLES = {
    NAN: "NaN or Inf in training",
    EXPLODING: "Exploding gradients",
    OVERPOWERING: "Discriminator overpowering the generator",
    COLLAPSE: "Mode collapse",
}


@dataclass(frozen=True)
class HealthThresholds:
    grad_norm_factor: float = 50.0      # x the median of recent grad norms
    grad_norm_floor: float = 100.0      # never alarm below this absolute norm
    grad_history: int = 20              # reports of history before the relative rule applies
    d_real_high: float = 0.99
    d_fake_low: float = 0.01
    overpower_reports: int = 20         # consecutive reports needed
    collapse_ratio: float = 0.25        # fake diversity / real diversity below this...
    collapse_armed_ratio: float = 0.5   # ...after it has once been at least this
    collapse_samples: int = 2           # consecutive sample steps needed


def thresholds_from_config(health) -> HealthThresholds:
    """The thresholds a run's ``[health]`` section asks for (a HealthConfig)."""
    return HealthThresholds(
        grad_norm_factor=health.grad_norm_factor, grad_norm_floor=health.grad_norm_floor,
        d_real_high=health.d_real_high, d_fake_low=health.d_fake_low,
        overpower_reports=health.overpower_reports, collapse_ratio=health.collapse_ratio,
        collapse_armed_ratio=min(1.0, 2 * health.collapse_ratio))


def sample_diversity(images: np.ndarray, max_items: int = 64, size: int = 16) -> float:
    """Mean pairwise distance between samples (uint8 ``(N, H, W, C)`` images or ``(N, D)``).

    Images are shrunk to ``size`` px so the measure is about content, not pixel noise.
    """
    x = torch.as_tensor(np.asarray(images[:max_items]), dtype=torch.float32)
    if x.dim() == 4:
        x = x.permute(0, 3, 1, 2) / 255.0
        if x.shape[-1] > size:
            x = torch.nn.functional.adaptive_avg_pool2d(x, size)
    x = x.flatten(1)
    if len(x) < 2:
        return 0.0
    d = torch.cdist(x, x)
    n = len(x)
    return float(d.sum() / (n * (n - 1)))


class HealthMonitor:
    def __init__(self, thresholds: HealthThresholds | None = None, *,
                 output_kind: str = "probability", real_diversity: float | None = None):
        self.t = thresholds or HealthThresholds()
        self.output_kind = output_kind
        self.real_diversity = real_diversity
        self._grad_history: dict[str, deque] = {"D": deque(maxlen=self.t.grad_history),
                                                 "G": deque(maxlen=self.t.grad_history)}
        self._overpower_run = 0
        self._collapse_run = 0
        self._collapse_armed = False
        self._active: set[str] = set()  # alarms whose condition still holds (fire once)

    # ----- checks -----------------------------------------------------------------------------
    def check_report(self, step: int, *, d_loss: float, g_loss: float, d_real: float,
                     d_fake: float, grad_norm_d: float, grad_norm_g: float,
                     weights_finite: bool = True) -> list[tuple[str, str, float, float]]:
        """Check one metrics report; returns ``(kind, message, value, threshold)`` tuples."""
        found = []
        bad = [name for name, v in (("D loss", d_loss), ("G loss", g_loss)) if not math.isfinite(v)]
        if not weights_finite:
            bad.append("the model weights")
        found.append(self._edge(NAN, bool(bad), lambda: (
            f"{_join(bad)} became NaN/Inf at step {step}. Training cannot recover from "
            "this; the last good checkpoint is kept. Lower the learning rates or rewind.",
            float("nan"), 0.0)))
        found.append(self._check_gradients(step, grad_norm_d, grad_norm_g))
        if self.output_kind == "probability":
            overpowered = d_real >= self.t.d_real_high and d_fake <= self.t.d_fake_low
            self._overpower_run = self._overpower_run + 1 if overpowered else 0
            found.append(self._edge(
                OVERPOWERING, self._overpower_run >= self.t.overpower_reports, lambda: (
                    f"D(x) = {d_real:.3f} and D(G(z)) = {d_fake:.3f} for "
                    f"{self._overpower_run} reports in a row: D wins outright and G learns "
                    "nothing. Try a lower D learning rate, more G steps (k), R1 or spectral norm.",
                    d_real, self.t.d_real_high)))
        return [f for f in found if f is not None]

    def _check_gradients(self, step: int, grad_d: float, grad_g: float):
        worst = None
        for name, value in (("D", grad_d), ("G", grad_g)):
            history = self._grad_history[name]
            if not math.isfinite(value):
                worst = (name, value, 0.0)
                continue
            if len(history) >= self.t.grad_history:
                limit = max(self.t.grad_norm_floor, self.t.grad_norm_factor * median(history))
                if value > limit and worst is None:
                    worst = (name, value, limit)
            if worst is None or worst[0] != name:
                history.append(value)  # an exploding value must not raise its own baseline
        return self._edge(EXPLODING, worst is not None, lambda: (
            f"{worst[0]}'s gradient norm is {worst[1]:.3g} at step {step}, above the limit "
            f"{worst[2]:.3g} ({self.t.grad_norm_factor:g}x its recent median). Lower the "
            "learning rate or add a gradient penalty.", worst[1], worst[2]))

    def check_samples(self, step: int, samples: np.ndarray):
        """Check the fixed-noise batch for collapse; returns a finding or None."""
        if not self.real_diversity:
            return None
        ratio = sample_diversity(samples) / self.real_diversity
        if ratio >= self.t.collapse_armed_ratio:
            self._collapse_armed = True  # G has been diverse; a fall from here is collapse
        collapsed = self._collapse_armed and ratio < self.t.collapse_ratio
        self._collapse_run = self._collapse_run + 1 if collapsed else 0
        return self._edge(COLLAPSE, self._collapse_run >= self.t.collapse_samples, lambda: (
            f"the fixed-noise samples are only {ratio:.0%} as diverse as real data at step "
            f"{step} (down from at least {self.t.collapse_armed_ratio:.0%}): the generator is "
            "collapsing onto a few outputs. Try a lower learning rate, minibatch-robust losses "
            "(hinge/WGAN-GP), DiffAugment or rewinding.", ratio, self.t.collapse_ratio))

    def _edge(self, kind: str, condition: bool, describe):
        """Fire once when ``condition`` becomes true; re-arm when it clears."""
        if not condition:
            self._active.discard(kind)
            return None
        if kind in self._active:
            return None
        self._active.add(kind)
        message, value, threshold = describe()
        return kind, message, value, threshold


def _join(words: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def weights_are_finite(*modules: torch.nn.Module) -> bool:
    """One device-side reduction over every parameter; a single host sync to read it."""
    flags = [torch.isfinite(p).all() for m in modules for p in m.parameters()]
    return bool(torch.stack(flags).all().item()) if flags else True
