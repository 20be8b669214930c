"""Thread-safe controls for a running trainer: pause, resume, single step, stop, live settings.

Any thread (the GUI, a signal handler) calls these methods; the trainer checks them between
steps. Setting changes are queued and applied at the next step boundary so an update never sees
half-changed hyperparameters.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class LiveSettings:
    """Settings that may change while training (None leaves a value unchanged)."""

    lr_g: float | None = None
    lr_d: float | None = None
    d_steps: int | None = None
    g_steps: int | None = None


class TrainingControl:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._stop = False
        self._single_steps = 0
        self._pending: list[LiveSettings] = []
        self._announced_pause = False  # whether the trainer has reported being paused

    # ----- called from any thread ---------------------------------------------------------------
    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._single_steps = 0
            self._cond.notify_all()

    def toggle_pause(self) -> None:
        with self._cond:
            if self._paused:
                self._paused = False
                self._single_steps = 0
            else:
                self._paused = True
            self._cond.notify_all()

    def step_once(self) -> None:
        """Run exactly one more step, then stay paused (pauses first if running)."""
        with self._cond:
            self._paused = True
            self._single_steps += 1
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def update(self, settings: LiveSettings) -> None:
        for name in ("lr_g", "lr_d"):
            value = getattr(settings, name)
            if value is not None and not (0 <= value <= 1):
                raise ValueError(f"{name} must be between 0 and 1 (got {value})")
        for name in ("d_steps", "g_steps"):
            value = getattr(settings, name)
            if value is not None and not (1 <= value <= 100):
                raise ValueError(f"{name} must be from 1 to 100 (got {value})")
        with self._cond:
            self._pending.append(settings)

    @property
    def paused(self) -> bool:
        with self._cond:
            return self._paused

    @property
    def stop_requested(self) -> bool:
        with self._cond:
            return self._stop

    # ----- called by the trainer ----------------------------------------------------------------
    def take_updates(self) -> list[LiveSettings]:
        with self._cond:
            pending, self._pending = self._pending, []
        return pending

    def wait_until_runnable(self, on_pause=None, on_resume=None) -> bool:
        """Block while paused. Returns False if a stop was requested, True to run one step.

        ``on_pause``/``on_resume`` are called (without the lock held) when the trainer really
        enters or leaves the paused state; single steps while paused do not repeat them.
        """
        with self._cond:
            if self._stop:
                return False
            if not self._paused:
                announce_resume = self._announced_pause
                self._announced_pause = False
            elif self._single_steps > 0:
                self._single_steps -= 1
                return True
            else:
                announce_resume = None
        if announce_resume is not None:
            if announce_resume and on_resume:
                on_resume()
            return True
        with self._cond:
            announce_pause = not self._announced_pause
            self._announced_pause = True
        if announce_pause and on_pause:
            on_pause()
        with self._cond:
            while self._paused and not self._stop and self._single_steps == 0:
                self._cond.wait()
            if self._stop:
                return False
            if self._paused:  # woken for a single step
                self._single_steps -= 1
                return True
            self._announced_pause = False
        if on_resume:
            on_resume()
        return True
