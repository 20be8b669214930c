"""Principal directions of a generator's latent space (GANSpace, Härkönen et al. 2020).

Sample many latents, take the generator's activations at one layer (or its output, or the
latents themselves), and run PCA there. The top components are the directions along which the
generator's features vary most; regressing the latents on each sample's coordinates along a
component maps it back to a direction in latent space, which a slider can move along. PCA of
the latents alone (``layer="z"``) is offered too, but for a Gaussian prior it is nearly
isotropic: the meaning comes from the generator's layers.

A fit takes a second or a few on a CPU; :class:`DirectionCache` keeps fits on disk per generator
(its SHA-256) and settings, so a generator's directions are fitted once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from ganstudio.engine.sampling import GeneratorSource, latent_batch

log = logging.getLogger(__name__)

LATENT_LAYER = "z"
OUTPUT_LAYER = "output"
AUTO_LAYER = "auto"
DIRECTION_SEED = 5_000_000          # the fit's latents are seeds from here on
DEFAULT_COMPONENTS = 8
DEFAULT_SAMPLES = 1000
FIT_BATCH = 50
_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid)

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]


@dataclass(frozen=True)
class Directions:
    """``k`` unit directions in latent space with their spread and explained variance."""

    components: np.ndarray      # (k, nz) float32, unit length
    sigma: np.ndarray           # (k,) float32: the fit latents' standard deviation along each
    explained: np.ndarray       # (k,) float64: fraction of the layer's variance each explains
    layer: str                  # "z", "output" or a module name
    samples: int
    generator_sha256: str
    step: int = 0

    @property
    def count(self) -> int:
        return int(len(self.components))

    @property
    def nz(self) -> int:
        return int(self.components.shape[1])

    @property
    def basis_id(self) -> str:
        """Names this exact basis (its bytes): a PNG's direction values refer to it."""
        digest = hashlib.sha256(self.components.astype(np.float32).tobytes())
        digest.update(self.sigma.astype(np.float32).tobytes())
        return digest.hexdigest()[:16]

    def offset(self, values: np.ndarray) -> np.ndarray:
        """The latent move for direction ``values`` (in sigma): ``sum_k values_k sigma_k v_k``,
        float32, summed in component order."""
        values = np.asarray(values, dtype=np.float32).reshape(-1)
        if values.shape != (self.count,):
            raise ValueError(f"{values.size} direction values for {self.count} directions")
        out = np.zeros(self.nz, dtype=np.float32)
        for k in range(self.count):
            if values[k] != 0:
                out = (out + (values[k] * self.sigma[k]) * self.components[k]).astype(np.float32)
        return out

    def label(self, k: int) -> str:
        return f"PC{k + 1} · {100 * float(self.explained[k]):.1f}%"

    def describe(self) -> str:
        where = {LATENT_LAYER: "the latents", OUTPUT_LAYER: "the output"}.get(
            self.layer, f"layer {self.layer}")
        return (f"{self.count} directions from PCA of {where} over {self.samples:,} samples "
                f"(together {100 * float(self.explained.sum()):.0f}% of its variance)")

    # ----- files --------------------------------------------------------------------------------
    def save(self, path: Path) -> Path:
        from ganstudio.engine.files import atomic_write_bytes
        import io

        buffer = io.BytesIO()
        meta = {"layer": self.layer, "samples": self.samples,
                "generator_sha256": self.generator_sha256, "step": self.step}
        np.savez(buffer, components=self.components, sigma=self.sigma,
                 explained=self.explained, meta=np.frombuffer(json.dumps(meta).encode(),
                                                               dtype=np.uint8))
        atomic_write_bytes(Path(path), buffer.getvalue())
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> "Directions":
        with np.load(Path(path), allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            return cls(data["components"].astype(np.float32), data["sigma"].astype(np.float32),
                       data["explained"].astype(np.float64), str(meta["layer"]),
                       int(meta["samples"]), str(meta["generator_sha256"]),
                       int(meta.get("step", 0)))


def candidate_layers(module: nn.Module) -> list[str]:
    """Layers directions can be fitted on: the latents, each activation module, the output."""
    names = [name for name, child in module.named_modules()
             if name and isinstance(child, _ACTIVATIONS)]
    return [LATENT_LAYER, *names, OUTPUT_LAYER]


def default_layer(module: nn.Module) -> str:
    """GANSpace's choice: an early layer (the first activation) when there is one to hook
    (GAN Studio's generators, DCGAN-example netG), else the output (programs)."""
    layers = candidate_layers(module)
    return layers[1] if len(layers) > 2 else OUTPUT_LAYER


def _top_components(x: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Singular values and right singular vectors of centred ``x`` (n, d), top ``k``.

    A randomized range finder with power iterations (Halko et al. 2011): exact to float
    precision for the leading components at a fraction of a full SVD's cost when d is large.
    """
    n, d = x.shape
    q = min(k + 10, n, d)
    if d <= 512 or q >= min(n, d):
        _, s, vt = np.linalg.svd(x, full_matrices=False)
        return s[:k], vt[:k]
    rng = np.random.default_rng(seed)
    y = x @ rng.standard_normal((d, q))
    for _ in range(4):
        y, _ = np.linalg.qr(y)
        y = x @ (x.T @ y)
    basis, _ = np.linalg.qr(y)
    _, s, vt = np.linalg.svd(basis.T @ x, full_matrices=False)
    return s[:k], vt[:k]


def _fix_signs(vectors: np.ndarray) -> np.ndarray:
    """Each vector's largest entry positive: the same fit always points the same way."""
    out = vectors.copy()
    for i, v in enumerate(out):
        if v[np.argmax(np.abs(v))] < 0:
            out[i] = -v
    return out


def _features(generator: nn.Module, layer: str, latents: torch.Tensor,
              progress: Progress | None, should_stop: ShouldStop | None) -> np.ndarray | None:
    captured: list[torch.Tensor] = []
    hook = None
    if layer not in (LATENT_LAYER, OUTPUT_LAYER):
        modules = dict(generator.named_modules())
        if layer not in modules:
            raise ValueError(f"the generator has no layer {layer!r} (it has "
                             f"{', '.join(candidate_layers(generator)[1:-1]) or 'none to hook'})")
        hook = modules[layer].register_forward_hook(
            lambda _m, _i, out: captured.append(out.detach().flatten(1).clone()))
    rows = []
    try:
        total = len(latents)
        for start in range(0, total, FIT_BATCH):
            if should_stop is not None and should_stop():
                return None
            batch = latents[start:start + FIT_BATCH]
            if layer == LATENT_LAYER:
                rows.append(batch.numpy().astype(np.float64))
            else:
                with torch.inference_mode():
                    out = generator(batch)
                if layer == OUTPUT_LAYER:
                    rows.append(out.detach().float().flatten(1).numpy().astype(np.float64))
                else:
                    rows.append(captured.pop().float().numpy().astype(np.float64))
                    captured.clear()
            if progress is not None:
                progress(min(start + FIT_BATCH, total), total)
    finally:
        if hook is not None:
            hook.remove()
    return np.concatenate(rows)


def fit_directions(source: GeneratorSource, *, layer: str = AUTO_LAYER,
                   components: int = DEFAULT_COMPONENTS, samples: int = DEFAULT_SAMPLES,
                   generator: nn.Module | None = None, progress: Progress | None = None,
                   should_stop: ShouldStop | None = None) -> Directions | None:
    """Fit ``components`` principal directions of ``source``; None when stopped.

    ``generator`` saves building one; it must come from ``source.build_for_inference()``.
    Conditional generators are fitted on class 0's images.
    """
    if samples < 10:
        raise ValueError(f"a fit needs at least 10 samples, not {samples}")
    generator = generator if generator is not None else source.build_for_inference()
    if source.spec.num_classes:
        plain = generator
        generator = _WithLabel(plain)
    if layer == AUTO_LAYER:
        layer = default_layer(generator if not source.spec.num_classes else generator.inner)
    if source.spec.num_classes and layer not in (LATENT_LAYER, OUTPUT_LAYER):
        layer = f"inner.{layer}"
    latents = latent_batch(source.nz, range(DIRECTION_SEED, DIRECTION_SEED + samples),
                           source.latent_distribution)
    features = _features(generator, layer, latents, progress, should_stop)
    if features is None:
        return None
    z = latents.numpy().astype(np.float64)
    k = max(1, min(int(components), features.shape[1], source.nz, samples - 1))
    centred = features - features.mean(axis=0)
    total_variance = float((centred ** 2).sum())
    singular, vt = _top_components(centred, k, DIRECTION_SEED)
    explained = (singular ** 2) / total_variance if total_variance > 0 else np.zeros(k)
    if layer == LATENT_LAYER:
        directions = vt
    else:
        # Regress the latents on each sample's coordinates along the components: the rows of
        # the solution are the latent moves that move the layer along each component.
        coordinates = centred @ vt.T
        z_centred = z - z.mean(axis=0)
        solution, *_ = np.linalg.lstsq(coordinates, z_centred, rcond=None)
        norms = np.linalg.norm(solution, axis=1, keepdims=True)
        directions = solution / np.where(norms > 0, norms, 1.0)
    directions = _fix_signs(directions)
    z_centred = z - z.mean(axis=0)
    sigma = (z_centred @ directions.T).std(axis=0)
    name = layer[len("inner."):] if layer.startswith("inner.") else layer
    return Directions(directions.astype(np.float32), sigma.astype(np.float32),
                      explained.astype(np.float64), name, int(samples), source.sha256,
                      int(source.step))


class _WithLabel(nn.Module):
    """A conditional generator asked for class 0 (directions are fitted on one class)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.inner(z, torch.zeros(len(z), dtype=torch.long))


# ----- the cache --------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    from ganstudio.data.folder import user_cache_dir

    return user_cache_dir("directions")


class DirectionCache:
    """Fitted directions on disk, one ``.npz`` per generator and settings."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    def path_for(self, sha256: str, layer: str, components: int, samples: int) -> Path:
        slug = re.sub(r"[^\w.-]+", "_", layer)
        return self.folder / f"{sha256[:32]}-{slug}-k{components}-n{samples}.npz"

    def get(self, sha256: str, layer: str, components: int, samples: int) -> Directions | None:
        path = self.path_for(sha256, layer, components, samples)
        if not path.is_file():
            return None
        try:
            return Directions.load(path)
        except Exception as exc:   # a damaged cache file is refitted, not fatal
            log.warning("ignoring unreadable directions cache %s: %s", path, exc)
            return None

    def find(self, sha256: str, basis_id: str) -> Directions | None:
        """Any cached fit of generator ``sha256`` whose basis is ``basis_id``."""
        if not self.folder.is_dir():
            return None
        for path in sorted(self.folder.glob(f"{sha256[:32]}-*.npz")):
            try:
                directions = Directions.load(path)
            except Exception:
                continue
            if directions.basis_id == basis_id:
                return directions
        return None

    def put(self, directions: Directions, requested_layer: str, components: int) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path_for(directions.generator_sha256, requested_layer, components,
                             directions.samples)
        return directions.save(path)


def cached_fit(source: GeneratorSource, *, layer: str = AUTO_LAYER,
               components: int = DEFAULT_COMPONENTS, samples: int = DEFAULT_SAMPLES,
               cache: DirectionCache | None = None, refit: bool = False,
               generator: nn.Module | None = None, progress: Progress | None = None,
               should_stop: ShouldStop | None = None) -> Directions | None:
    """:func:`fit_directions`, or the cached result of the same fit."""
    cache = cache or DirectionCache()
    if not refit:
        hit = cache.get(source.sha256, layer, components, samples)
        if hit is not None:
            if progress is not None:
                progress(samples, samples)
            return hit
    directions = fit_directions(source, layer=layer, components=components, samples=samples,
                                generator=generator, progress=progress, should_stop=should_stop)
    if directions is not None:
        try:
            cache.put(directions, layer, components)
        except OSError as exc:
            log.warning("could not cache directions in %s: %s", cache.folder, exc)
    return directions
