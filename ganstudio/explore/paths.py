"""Latent paths and the latent a view shows: interpolation, walks, truncation (numpy, float32).

Every function returns float32 arrays computed in a fixed order, so the window and
``ganstudio-sample`` get the same bits for the same inputs.
"""

from __future__ import annotations

import numpy as np

INTERPOLATIONS = ("slerp", "lerp")
FRAME_RANGE = (2, 2000)         # frames of an animation
DEFAULT_WALK_EXTENT = 3.0       # a walk goes from -3 sigma to +3 sigma


def _vector(latent: np.ndarray) -> np.ndarray:
    return np.asarray(latent, dtype=np.float32).reshape(-1)


def truncate(latent: np.ndarray, psi: float, mean: np.ndarray | None = None) -> np.ndarray:
    """Pull ``latent`` towards ``mean`` (the prior's mean, zero, by default): ``mean + psi *
    (latent - mean)``. ``psi`` 1 leaves it as it is; smaller values trade variety for
    typicality (the truncation trick)."""
    latent = np.asarray(latent, dtype=np.float32)
    if psi == 1.0:
        return latent.copy()
    psi32 = np.float32(psi)
    if mean is None:
        return (latent * psi32).astype(np.float32)
    mean = np.asarray(mean, dtype=np.float32)
    return (mean + psi32 * (latent - mean)).astype(np.float32)


def compose_latent(base: np.ndarray, psi: float = 1.0, offset: np.ndarray | None = None
                   ) -> np.ndarray:
    """What a view shows: the base latent truncated, then moved by ``offset`` (the sum of the
    direction moves, see :meth:`~ganstudio.explore.directions.Directions.offset`). Direction
    moves are added after truncation so a slider at +2 sigma moves as far at any truncation."""
    latent = truncate(_vector(base), psi)
    if offset is not None:
        latent = (latent + _vector(offset)).astype(np.float32)
    return latent


def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    a, b = _vector(a), _vector(b)
    t32 = np.float32(t)
    return (a + t32 * (b - a)).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation: keeps a Gaussian latent's length typical along the way (a
    straight line between two latents passes through improbably short ones)."""
    a, b = _vector(a), _vector(b)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    if na == 0 or nb == 0:
        return lerp(a, b, t)
    cos = float(np.clip(np.dot(a64 / na, b64 / nb), -1.0, 1.0))
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:      # (anti)parallel: the great circle is not defined
        return lerp(a, b, t)
    wa = np.sin((1.0 - t) * omega) / np.sin(omega)
    wb = np.sin(t * omega) / np.sin(omega)
    return (wa * a64 + wb * b64).astype(np.float32)


def check_frames(frames: int) -> int:
    lo, hi = FRAME_RANGE
    if not lo <= int(frames) <= hi:
        raise ValueError(f"frames must be {lo} to {hi}, not {frames}")
    return int(frames)


def interpolate(a: np.ndarray, b: np.ndarray, frames: int, method: str = "slerp"
                ) -> np.ndarray:
    """``frames`` latents from ``a`` to ``b`` inclusive, ``(frames, nz)`` float32."""
    if method not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be {' or '.join(INTERPOLATIONS)}, not {method!r}")
    frames = check_frames(frames)
    a, b = _vector(a), _vector(b)
    if a.shape != b.shape:
        raise ValueError(f"the two latents differ in size ({a.size} and {b.size} values)")
    step = slerp if method == "slerp" else lerp
    return np.stack([step(a, b, i / (frames - 1)) for i in range(frames)]).astype(np.float32)


def walk(origin: np.ndarray, direction: np.ndarray, sigma: float, frames: int,
         extent: float = DEFAULT_WALK_EXTENT) -> np.ndarray:
    """``frames`` latents along ``direction`` (a unit vector) through ``origin``, from
    ``-extent`` to ``+extent`` standard deviations ``sigma``: ``(frames, nz)`` float32."""
    frames = check_frames(frames)
    origin, direction = _vector(origin), _vector(direction)
    if origin.shape != direction.shape:
        raise ValueError(f"the direction has {direction.size} values, the latent {origin.size}")
    steps = np.linspace(-extent, extent, frames, dtype=np.float64)
    moves = (steps[:, None] * float(sigma) * direction[None, :].astype(np.float64))
    return (origin[None, :] + moves.astype(np.float32)).astype(np.float32)


def walk_values(frames: int, extent: float = DEFAULT_WALK_EXTENT) -> np.ndarray:
    """The direction value (in sigma) of each frame of :func:`walk`."""
    return np.linspace(-extent, extent, check_frames(frames), dtype=np.float64)


LATENT_TEXT_PREFIX = "b64:"


def latent_to_text(latent: np.ndarray) -> str:
    """A latent as short text that gives back the same float32 bits (little-endian, base64)."""
    import base64

    data = np.asarray(latent, dtype="<f4").reshape(-1).tobytes()
    return LATENT_TEXT_PREFIX + base64.urlsafe_b64encode(data).decode().rstrip("=")


def latent_from_text(text: str) -> np.ndarray:
    """:func:`latent_to_text`'s inverse; also takes comma-separated numbers."""
    import base64
    import binascii

    text = text.strip()
    if text.startswith(LATENT_TEXT_PREFIX):
        body = text[len(LATENT_TEXT_PREFIX):]
        try:
            data = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_",
                                    validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the latent text after b64: is not valid base64") from None
        if len(data) % 4:
            raise ValueError("the latent text does not hold whole float32 values")
        return np.frombuffer(data, dtype="<f4").astype(np.float32)
    try:
        return np.array([float(v) for v in text.split(",") if v.strip()], dtype=np.float32)
    except ValueError:
        raise ValueError("a latent is b64:... (as copied from GAN Studio) or comma-separated "
                         "numbers") from None


def walk_latents(base: np.ndarray, psi: float, directions, values: np.ndarray, index: int,
                 frames: int, extent: float = DEFAULT_WALK_EXTENT) -> np.ndarray:
    """A walk as the panel shows it: the composed latent (base, truncation, direction
    ``values``) with direction ``index`` swept from ``-extent`` to ``+extent`` sigma.
    ``directions`` is a :class:`~ganstudio.explore.directions.Directions`."""
    values = np.asarray(values, dtype=np.float32).copy()
    if not 0 <= index < len(values):
        raise ValueError(f"there is no direction {index + 1} (there are {len(values)})")
    rows = []
    for value in walk_values(frames, extent):
        values[index] = np.float32(value)
        rows.append(compose_latent(base, psi, directions.offset(values)))
    return np.stack(rows).astype(np.float32)
