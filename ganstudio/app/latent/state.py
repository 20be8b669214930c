"""What the latent panel shows, as plain Python (no Qt): generator, seed, latent, class, variations.

The panel binds widgets to this state and sends ``latent``/``label``/``neighbour_latents()`` to
the renderer; tests can drive it without widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ganstudio.engine.sampling import GeneratorSource, latent_batch

SEED_MAX = 2**31 - 1
NEIGHBOUR_SEED = 7_000_000      # the variation directions come from fixed seeds from here on
NEIGHBOUR_GRIDS = (3, 4)        # the variation grid is k x k
DEFAULT_SPREAD = 0.35
SLIDER_STEPS_PER_UNIT = 100     # slider resolution: 0.01 in z


def slider_limit(distribution: str) -> float:
    """A slider's range is ±this: ±3 sigma for normal latents, the whole box for uniform ones."""
    return 1.0 if distribution == "uniform" else 3.0


@dataclass
class LatentState:
    source: GeneratorSource | None = None
    seed: int = 0
    latent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    seed_latent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    label: int | None = None
    grid: int = 3
    spread: float = DEFAULT_SPREAD
    _directions: np.ndarray | None = field(default=None, repr=False)

    @property
    def nz(self) -> int:
        return 0 if self.source is None else self.source.nz

    @property
    def distribution(self) -> str:
        return "normal" if self.source is None else self.source.latent_distribution

    @property
    def limit(self) -> float:
        return slider_limit(self.distribution)

    @property
    def edited(self) -> bool:
        return not np.array_equal(self.latent, self.seed_latent)

    def adopt(self, source: GeneratorSource | None) -> bool:
        """Switch to ``source``; True when the latent was kept (same kind of generator).

        A new snapshot of the same run (same spec and latent distribution) keeps the seed,
        the edited latent and the class, so following training stays on one image.
        """
        previous, self.source = self.source, source
        if source is None:
            return False
        kept = (previous is not None and previous.spec == source.spec
                and previous.latent_distribution == source.latent_distribution)
        if not kept:
            self._directions = None
            classes = source.spec.num_classes
            self.label = None if not classes else min(self.label or 0, classes - 1)
            self.set_seed(self.seed)
        return kept

    def set_seed(self, seed: int) -> None:
        """The seed's latent becomes the current one (and what resets return to)."""
        self.seed = int(seed) % (SEED_MAX + 1)
        if self.source is None:
            return
        self.seed_latent = latent_batch(self.nz, [self.seed], self.distribution)[0].numpy()
        self.latent = self.seed_latent.copy()

    def set_dimension(self, index: int, value: float) -> None:
        self.latent[index] = np.float32(value)

    def reset_dimension(self, index: int) -> None:
        self.set_dimension(index, float(self.seed_latent[index]))

    def reset_all(self) -> None:
        self.latent = self.seed_latent.copy()

    def set_latent(self, latent: np.ndarray) -> None:
        latent = np.asarray(latent, np.float32).reshape(-1)
        if latent.shape != (self.nz,):
            raise ValueError(f"latent has {latent.size} values, the generator takes {self.nz}")
        self.latent = latent.copy()

    def neighbour_latents(self) -> np.ndarray:
        """``grid**2`` variations: the latent moved ``spread`` along fixed random directions."""
        count = self.grid * self.grid
        if self._directions is None or len(self._directions) != count:
            self._directions = latent_batch(
                self.nz, range(NEIGHBOUR_SEED, NEIGHBOUR_SEED + count)).numpy()
        out = self.latent[None, :] + np.float32(self.spread) * self._directions
        if self.distribution == "uniform":
            np.clip(out, -1.0, 1.0, out=out)
        return out.astype(np.float32, copy=False)
