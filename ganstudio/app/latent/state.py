"""What the latent panel shows, as plain Python (no Qt): generator, seed, latent, class, variations,
truncation, principal directions and locks.

``latent`` is the *base* latent: the seed's vector, as edited with the raw sliders (or adopted
from a variation or a dropped image). What the generator is given is :meth:`LatentState.shown`:
the base truncated towards the mean, then moved along the principal directions by
``direction_values`` (see :func:`ganstudio.explore.paths.compose_latent`). The panel binds
widgets to this state and sends ``shown()``/``label``/``neighbour_latents()`` to the renderer;
tests can drive it without widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ganstudio.engine.sampling import GeneratorSource, latent_batch
from ganstudio.explore.directions import Directions
from ganstudio.explore.paths import compose_latent

SEED_MAX = 2**31 - 1
NEIGHBOUR_SEED = 7_000_000      # the variation directions come from fixed seeds from here on
NEIGHBOUR_GRIDS = (3, 4)        # the variation grid is k x k
DEFAULT_SPREAD = 0.35
SLIDER_STEPS_PER_UNIT = 100     # slider resolution: 0.01 in z
DIRECTION_LIMIT = 3.0           # direction sliders move +-3 sigma
STRIP_VALUES = (-3.0, -1.5, 0.0, 1.5, 3.0)   # a direction's preview strip, in sigma
RAW, DIRECTIONS = "raw", "directions"


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
    truncation: float = 1.0
    mode: str = RAW
    directions: Directions | None = None
    direction_values: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    locked_dims: set[int] = field(default_factory=set)
    locked_directions: set[int] = field(default_factory=set)
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
        return (not np.array_equal(self.latent, self.seed_latent)
                or bool(np.any(self.direction_values != 0)))

    def offset(self) -> np.ndarray | None:
        """The latent move of the direction sliders (None without directions)."""
        if self.directions is None or not np.any(self.direction_values != 0):
            return None
        return self.directions.offset(self.direction_values)

    def shown(self) -> np.ndarray:
        """What the generator is given: base, truncation, direction moves."""
        if self.truncation == 1.0 and self.offset() is None:
            return self.latent
        return compose_latent(self.latent, self.truncation, self.offset())

    def set_directions(self, directions: Directions | None) -> None:
        """Use ``directions`` (values back to 0, locks dropped); None forgets them."""
        if directions is not None and directions.nz != self.nz:
            raise ValueError(f"the directions are for {directions.nz}-value latents, the "
                             f"generator takes {self.nz}")
        self.directions = directions
        self.direction_values = np.zeros(0 if directions is None else directions.count,
                                         np.float32)
        self.locked_directions.clear()

    def set_direction_value(self, index: int, value: float) -> None:
        self.direction_values[index] = np.float32(value)

    def strip_latents(self) -> np.ndarray | None:
        """``(k, len(STRIP_VALUES), nz)``: each direction's strip, the others as they are.

        Computed as one move from the shown latent (fast enough for every slider event); a
        strip cell equals the composed latent up to float rounding, and clicking one sets the
        value, after which the preview is composed exactly."""
        directions = self.directions
        if directions is None:
            return None
        shown = self.shown()
        steps = (np.asarray(STRIP_VALUES, np.float32)[None, :]
                 - self.direction_values[:, None]) * directions.sigma[:, None]
        return (shown[None, None, :]
                + steps[:, :, None] * directions.components[:, None, :]).astype(np.float32)

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
            self.set_directions(None)
            self.locked_dims.clear()
            classes = source.spec.num_classes
            self.label = None if not classes else min(self.label or 0, classes - 1)
            self.set_seed(self.seed)
        return kept

    def set_seed(self, seed: int, keep_locked: bool = True) -> None:
        """The seed's latent becomes the current one (and what resets return to).

        Locked dimensions keep their values and locked directions their settings; the other
        direction sliders go back to 0 (``keep_locked=False`` resets everything).
        """
        self.seed = int(seed) % (SEED_MAX + 1)
        if self.source is None:
            return
        previous = self.latent
        self.seed_latent = latent_batch(self.nz, [self.seed], self.distribution)[0].numpy()
        self.latent = self.seed_latent.copy()
        if keep_locked and previous.shape == self.latent.shape:
            for index in self.locked_dims:
                self.latent[index] = previous[index]
        for index in range(len(self.direction_values)):
            if not keep_locked or index not in self.locked_directions:
                self.direction_values[index] = 0.0

    def set_dimension(self, index: int, value: float) -> None:
        self.latent[index] = np.float32(value)

    def reset_dimension(self, index: int) -> None:
        self.set_dimension(index, float(self.seed_latent[index]))

    def reset_all(self) -> None:
        self.latent = self.seed_latent.copy()
        self.direction_values[:] = 0.0

    def set_latent(self, latent: np.ndarray) -> None:
        latent = np.asarray(latent, np.float32).reshape(-1)
        if latent.shape != (self.nz,):
            raise ValueError(f"latent has {latent.size} values, the generator takes {self.nz}")
        self.latent = latent.copy()

    def neighbour_latents(self) -> np.ndarray:
        """``grid**2`` variations of the base latent: moved ``spread`` along fixed random
        directions (shown through :meth:`compose`, as the preview is)."""
        count = self.grid * self.grid
        if self._directions is None or len(self._directions) != count:
            self._directions = latent_batch(
                self.nz, range(NEIGHBOUR_SEED, NEIGHBOUR_SEED + count)).numpy()
        out = self.latent[None, :] + np.float32(self.spread) * self._directions
        if self.distribution == "uniform":
            np.clip(out, -1.0, 1.0, out=out)
        return out.astype(np.float32, copy=False)

    def compose(self, bases: np.ndarray) -> np.ndarray:
        """Base latents (rows) as the generator is given them: truncated, then moved along
        the directions, like :meth:`shown`."""
        offset = self.offset()
        if self.truncation == 1.0 and offset is None:
            return np.asarray(bases, dtype=np.float32)
        return np.stack([compose_latent(row, self.truncation, offset) for row in bases])
