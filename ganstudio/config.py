"""The run configuration: typed, validated, and stored as TOML.

A run is described completely by a :class:`RunConfig` made of small sections (``data``, ``model``,
``objective``, ``optim``, ``train``). Each field carries its own help text and allowed range in
its dataclass metadata; the same metadata drives TOML validation, the CLI's flags and the
window's input widgets, so a rule is written once.

Errors name the field (``train.batch_size: must be an integer from 1 to 65536 (got 0)``).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import tomli_w

from ganstudio.errors import ConfigError

LOSSES = ("nonsaturating", "hinge", "wgan-gp", "lsgan")
ARCHITECTURES = ("auto", "dcgan", "mlp")
D_NORMS = ("auto", "batch", "instance", "layer", "none")
LATENT_DISTRIBUTIONS = ("normal", "uniform")
PRECISIONS = ("auto", "fp32", "bf16")
SPEED_MODES = ("auto", "off")
LAYOUT_MODES = ("auto", "on", "off")
SPLITS = ("auto", "train", "test", "all")
# Feature extractors for quality metrics (ganstudio.metrics.EXTRACTORS; kept here as names so the
# config does not import torch).
METRIC_EXTRACTORS = ("random-conv-v1", "inception-v3-fid")
DIFFAUGMENT_POLICIES = ("color", "translation", "cutout")


def _field(default: Any, help: str, *, min: float | None = None, max: float | None = None,
           choices: tuple | None = None, kind: str | None = None):
    """A dataclass field with validation metadata (``kind`` overrides the type check)."""
    meta = {"help": help, "min": min, "max": max, "choices": choices, "kind": kind}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class DataConfig:
    name: str = _field("glyphs", "Dataset: a built-in name (see --list-datasets), a torchvision "
                       "set (mnist, fashion-mnist, cifar10) or a folder of images.")
    root: str = _field("", "Folder holding the files of a torchvision set (MNIST, CIFAR-10...).")
    download: bool = _field(False, "Download a torchvision set into root if its files are missing.")
    split: str = _field("auto", "Which split of a torchvision set to use.", choices=SPLITS)
    class_labels: bool = _field(False, "Use class labels (sub-folders for image folders).")
    channels: int = _field(0, "Image channels: 0 keeps the dataset's own, 1 greyscale, 3 colour.",
                           choices=(0, 1, 3))
    cache: bool = _field(True, "Cache decoded folder images so the folder opens instantly again.")


@dataclass
class ModelConfig:
    architecture: str = _field("auto", "Generator/discriminator family: auto picks dcgan for "
                               "images and mlp for 2-D points.", choices=ARCHITECTURES)
    image_size: int = _field(32, "Side of the square images the generator makes "
                             "(dcgan: 32, 64 or 128).", min=8, max=1024)
    nz: int = _field(100, "Number of latent dimensions.", min=1, max=4096)
    latent_distribution: str = _field("normal", "Distribution of the latent vector z "
                                      "(the tutorial used uniform in [-1, 1]).",
                                      choices=LATENT_DISTRIBUTIONS)
    # Width 32 (not the paper's 64) trains about 4x faster, so the built-in datasets show
    # recognisable results within a minute on a 2-core CPU; raise it for large real datasets.
    g_width: int = _field(32, "Generator width (ngf for dcgan, hidden units / 4 for mlp; the "
                          "DCGAN paper used 64).",
                          min=1, max=4096)
    d_width: int = _field(32, "Discriminator width (ndf for dcgan, hidden units / 4 for mlp; "
                          "the DCGAN paper used 64).",
                          min=1, max=4096)
    conditional: bool = _field(False, "Class-conditional G (label embedding) and projection D.")
    spectral_norm: bool = _field(False, "Spectral normalisation on the discriminator's layers.")
    d_norm: str = _field("auto", "Discriminator normalisation: auto picks batch norm, or none "
                         "with spectral norm, or layer norm with WGAN-GP.", choices=D_NORMS)


@dataclass
class ObjectiveConfig:
    loss: str = _field("nonsaturating", "GAN objective.", choices=LOSSES)
    gp_weight: float = _field(10.0, "WGAN-GP gradient penalty weight (lambda).", min=0, max=1e6)
    r1_gamma: float = _field(0.0, "R1 penalty weight on real images (0 turns it off).",
                             min=0, max=1e6)
    d_steps: int = _field(1, "Discriminator updates per training step.", min=1, max=100)
    g_steps: int = _field(1, "Generator updates per training step (the tutorial's k).",
                          min=1, max=100)
    diffaugment: str = _field("", "DiffAugment policy for small datasets: a comma list of "
                              "color, translation, cutout (empty turns it off).",
                              kind="diffaugment")


@dataclass
class OptimConfig:
    lr_g: float = _field(2e-4, "Generator learning rate.", min=0, max=1.0)
    lr_d: float = _field(2e-4, "Discriminator learning rate.", min=0, max=1.0)
    beta1_g: float = _field(0.5, "Generator Adam beta1.", min=0, max=0.9999)
    beta2_g: float = _field(0.999, "Generator Adam beta2.", min=0, max=0.99999)
    beta1_d: float = _field(0.5, "Discriminator Adam beta1.", min=0, max=0.9999)
    beta2_d: float = _field(0.999, "Discriminator Adam beta2.", min=0, max=0.99999)
    ema: bool = _field(False, "Keep an exponential moving average of G and sample from it.")
    ema_decay: float = _field(0.999, "EMA decay per generator update.", min=0, max=0.999999)


@dataclass
class TrainConfig:
    steps: int = _field(2000, "Training steps (one step = d_steps D updates + g_steps G "
                        "updates).", min=1, max=1_000_000_000)
    batch_size: int = _field(32, "Images per batch (the tutorial used 32).", min=1, max=65536)
    seed: int = _field(0, "Random seed (same seed, same run on the CPU).", min=0, max=2**63 - 1)
    device: str = _field("auto", "auto, cpu, cuda, cuda:N or mps.", kind="device")
    log_every: int = _field(10, "Report losses every N steps.", min=1, max=1_000_000)
    sample_every: int = _field(100, "Save a grid of samples every N steps.", min=1,
                               max=1_000_000_000)
    sample_grid: int = _field(8, "Sample grid side (8 gives 8x8 images).", min=1, max=32)
    checkpoint_every: int = _field(1000, "Save a checkpoint every N steps.", min=1,
                                   max=1_000_000_000)
    keep_checkpoints: int = _field(3, "How many step checkpoints to keep.", min=1, max=1000)
    precision: str = _field("auto", "auto (bf16 autocast on CUDA, fp32 elsewhere), fp32 or bf16.",
                            choices=PRECISIONS)
    cuda_graph: str = _field("auto", "Capture the whole step as a CUDA graph when possible.",
                             choices=SPEED_MODES)
    threads: int = _field(0, "CPU threads for torch (0 keeps torch's choice: one per core).",
                          min=0, max=1024)
    channels_last: str = _field("auto", "Channels-last memory layout for convolutional models "
                                "(faster convolutions with cuDNN and oneDNN): auto uses it for "
                                "DCGAN on CUDA and the CPU, on forces it, off keeps NCHW.",
                                choices=LAYOUT_MODES)
    # Rewind and fork: full checkpoints in snapshots/, newest snapshot_keep kept. At the default
    # DCGAN-32 width one is about 6 MB, so the ring holds about 36 MB and the last 1,500 steps.
    snapshot_every: int = _field(250, "Keep a snapshot (G, D, optimisers, RNG) every N steps "
                                 "to rewind or fork from; 0 turns snapshots off.", min=0,
                                 max=1_000_000_000)
    snapshot_keep: int = _field(6, "How many of the newest snapshots to keep (a ring; each is "
                                "a full checkpoint, about 6 MB at the default model size).",
                                min=1, max=1000)


@dataclass
class MetricsConfig:
    enabled: bool = _field(True, "Compute quality metrics (Frechet distance, KID, precision "
                           "and recall) against real data during training, on a background "
                           "thread.")
    every: int = _field(500, "Compute quality metrics every N steps.", min=1,
                        max=1_000_000_000)
    samples: int = _field(1000, "Generated and real samples compared per evaluation (more is "
                          "steadier and slower; published FIDs use 50000).", min=10,
                          max=100_000)
    extractor: str = _field("random-conv-v1", "Feature extractor: random-conv-v1 works "
                            "offline and is fast; inception-v3-fid gives FID values comparable "
                            "with published ones but needs its weights file and is slow on a "
                            "CPU. Values from different extractors are never compared.",
                            choices=METRIC_EXTRACTORS)
    inception_weights: str = _field("", "Path of the FID Inception weights file "
                                    "pt_inception-2015-12-05-6726825d.pth (download it from "
                                    "the pytorch-fid releases page; GAN Studio never downloads "
                                    "it). Needed for inception-v3-fid.", kind="path")
    kid: bool = _field(True, "Also compute the kernel inception distance (KID).")
    kid_subsets: int = _field(10, "KID: average over this many random subsets.", min=1,
                              max=1000)
    precision_recall: bool = _field(True, "Also compute precision and recall (k-NN manifolds, "
                                    "k = 3).")


@dataclass
class HealthConfig:
    enabled: bool = _field(True, "Watch for NaN/Inf, exploding gradients, an overpowering "
                           "discriminator and mode collapse.")
    auto_pause: bool = _field(True, "Pause training when an alarm fires.")
    grad_norm_factor: float = _field(50.0, "Exploding gradients: a norm this many times its "
                                     "recent median.", min=1.5, max=1e9)
    grad_norm_floor: float = _field(100.0, "Exploding gradients: never alarm below this norm.",
                                    min=0, max=1e12)
    d_real_high: float = _field(0.99, "D overpowering: D(x) at or above this...", min=0.5,
                                max=1.0)
    d_fake_low: float = _field(0.01, "...and D(G(z)) at or below this...", min=0.0, max=0.5)
    overpower_reports: int = _field(20, "...for this many reports in a row.", min=1,
                                    max=1_000_000)
    collapse_ratio: float = _field(0.25, "Mode collapse: sample diversity below this fraction "
                                   "of real data's (after having been above twice that).",
                                   min=0.0, max=1.0)


# What a resumed run may change: everything else defines the model, the data or the update.
# Metrics, alarms and snapshots only watch training, so they may always change.
RESUMABLE_CHANGES = frozenset({
    "train.steps", "train.device", "train.sample_every", "train.log_every",
    "train.checkpoint_every", "train.keep_checkpoints", "train.threads", "optim.lr_g",
    "optim.lr_d", "objective.d_steps", "objective.g_steps", "data.root", "train.precision",
    "train.cuda_graph", "train.channels_last", "train.snapshot_every",
    "train.snapshot_keep"} | {f"health.{name}" for name in (
        "enabled", "auto_pause", "grad_norm_factor", "grad_norm_floor", "d_real_high",
        "d_fake_low", "overpower_reports", "collapse_ratio")} | {f"metrics.{name}" for name in (
        "enabled", "every", "samples", "extractor", "inception_weights", "kid", "kid_subsets",
        "precision_recall")})

# What a fork may change besides that: hyperparameters of the update that leave every weight
# and optimiser-state shape as it was, so the parent's snapshot loads into the child. The loss
# and the R1 weight pick the discriminator's normalisation when model.d_norm is auto; a change
# that would switch it is refused (see ganstudio.engine.lineage.fork_config). A new seed
# re-draws the noise and batches from the fork step on (the same seed continues exactly).
FORK_CHANGES = RESUMABLE_CHANGES | frozenset({
    "optim.beta1_g", "optim.beta2_g", "optim.beta1_d", "optim.beta2_d", "optim.ema",
    "optim.ema_decay", "objective.loss", "objective.gp_weight", "objective.r1_gamma",
    "objective.diffaugment", "train.batch_size", "train.seed"})

SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "objective": ObjectiveConfig,
    "optim": OptimConfig,
    "train": TrainConfig,
    "metrics": MetricsConfig,
    "health": HealthConfig,
}


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    health: HealthConfig = field(default_factory=HealthConfig)

    # ----- conversion -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config") -> "RunConfig":
        """Build and validate a config; unknown sections or keys are errors that name them."""
        config = cls()
        if not isinstance(data, dict):
            raise ConfigError(source, "expected a table of sections")
        for section_name, values in data.items():
            if section_name not in SECTIONS:
                raise ConfigError(section_name, f"unknown section in {source} "
                                  f"(known: {', '.join(SECTIONS)})")
            if not isinstance(values, dict):
                raise ConfigError(section_name, f"expected a table in {source}")
            for key, value in values.items():
                config.set(f"{section_name}.{key}", value)
        config.validate()
        return config

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    @classmethod
    def from_toml(cls, path: str | Path) -> "RunConfig":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(str(path), "config file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(str(path), f"cannot read config file: {exc}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), f"not valid TOML: {exc}") from None
        return cls.from_dict(data, source=str(path))

    def save(self, path: str | Path, *, header: str = "") -> None:
        from ganstudio.engine.files import atomic_write_text

        atomic_write_text(Path(path), header + self.to_toml())

    def copy(self) -> "RunConfig":
        return RunConfig.from_dict(self.to_dict())

    # ----- field access -----------------------------------------------------------------------
    def get(self, dotted: str) -> Any:
        section, key = _split(dotted)
        return getattr(getattr(self, section), key)

    def set(self, dotted: str, value: Any) -> None:
        """Set one field, coercing and checking its value (raises ConfigError naming it)."""
        section, key = _split(dotted)
        spec = field_spec(dotted)
        setattr(getattr(self, section), key, _coerce(dotted, spec, value))

    def validate(self) -> None:
        """Check every field and the rules that tie fields together."""
        for spec in iter_fields():
            _coerce(spec.path, spec, self.get(spec.path))
        if self.model.architecture == "dcgan" and self.model.image_size not in (32, 64, 128):
            raise ConfigError("model.image_size", "dcgan makes 32, 64 or 128 pixel images "
                              f"(got {self.model.image_size})")
        if self.train.sample_grid ** 2 > 1024:
            raise ConfigError("train.sample_grid", "at most 32x32 samples")


@dataclass(frozen=True)
class FieldSpec:
    """Everything known about one config field, for validation, CLI flags and widgets."""

    path: str
    section: str
    name: str
    type: type
    default: Any
    help: str
    min: float | None
    max: float | None
    choices: tuple | None
    kind: str | None


def _split(dotted: str) -> tuple[str, str]:
    section, _, key = dotted.partition(".")
    if section not in SECTIONS:
        raise ConfigError(dotted, f"unknown section {section!r} (known: {', '.join(SECTIONS)})")
    names = {f.name for f in dataclasses.fields(SECTIONS[section])}
    if key not in names:
        raise ConfigError(dotted, f"unknown setting (known in [{section}]: "
                          f"{', '.join(sorted(names))})")
    return section, key


_TYPES = {"str": str, "int": int, "float": float, "bool": bool}


def iter_fields() -> Iterator[FieldSpec]:
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            meta = f.metadata
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            yield FieldSpec(path=f"{section}.{f.name}", section=section, name=f.name,
                            type=_TYPES[f.type] if isinstance(f.type, str) else f.type,
                            default=default, help=meta.get("help", ""), min=meta.get("min"),
                            max=meta.get("max"), choices=meta.get("choices"),
                            kind=meta.get("kind"))


def field_spec(dotted: str) -> FieldSpec:
    _split(dotted)
    for spec in iter_fields():
        if spec.path == dotted:
            return spec
    raise AssertionError(dotted)  # unreachable: _split already checked the name


def describe_range(spec: FieldSpec) -> str:
    """Human wording of what a field accepts, used in error messages."""
    if spec.choices is not None:
        return "one of " + ", ".join(str(c) for c in spec.choices)
    if spec.type is bool:
        return "true or false"
    noun = "an integer" if spec.type is int else "a number"
    if spec.min is not None and spec.max is not None:
        return f"{noun} from {_num(spec.min)} to {_num(spec.max)}"
    if spec.min is not None:
        return f"{noun} of at least {_num(spec.min)}"
    return noun


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _coerce(path: str, spec: FieldSpec, value: Any) -> Any:
    """Turn a TOML/CLI/widget value into the field's type, or raise a ConfigError naming it."""
    expected = describe_range(spec)
    if spec.type is bool:
        if isinstance(value, bool):
            out = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            out = value.strip().lower() in _TRUE
        else:
            raise ConfigError(path, f"must be true or false (got {value!r})")
    elif spec.type is int:
        if isinstance(value, bool):
            raise ConfigError(path, f"must be {expected} (got {value!r})")
        if isinstance(value, str):
            try:
                value = int(value.strip().replace("_", ""))
            except ValueError:
                raise ConfigError(path, f"must be {expected} (got {value!r})") from None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise ConfigError(path, f"must be {expected} (got {value!r})")
        out = value
    elif spec.type is float:
        if isinstance(value, bool):
            raise ConfigError(path, f"must be {expected} (got {value!r})")
        try:
            out = float(value)
        except (TypeError, ValueError):
            raise ConfigError(path, f"must be {expected} (got {value!r})") from None
        if not math.isfinite(out):
            raise ConfigError(path, f"must be {expected} (got {value!r})")
    else:
        if not isinstance(value, str):
            raise ConfigError(path, f"must be text (got {value!r})")
        out = value.strip()
        if spec.choices is not None:
            out = out.lower()
    if spec.choices is not None and out not in spec.choices:
        raise ConfigError(path, f"must be {expected} (got {value!r})")
    if spec.type in (int, float) and spec.choices is None:
        if (spec.min is not None and out < spec.min) or (spec.max is not None and out > spec.max):
            raise ConfigError(path, f"must be {expected} (got {value!r})")
    if spec.kind == "device":
        out = _check_device_name(path, out)
    elif spec.kind == "diffaugment":
        out = _check_diffaugment(path, out)
    return out


def _check_device_name(path: str, value: str) -> str:
    value = value.lower()
    if value in ("auto", "cpu", "cuda", "mps"):
        return value
    if value.startswith("cuda:") and value[5:].isdigit():
        return value
    raise ConfigError(path, f"must be auto, cpu, cuda, cuda:N or mps (got {value!r})")


def _check_diffaugment(path: str, value: str) -> str:
    parts = [p.strip().lower() for p in value.split(",") if p.strip()]
    unknown = [p for p in parts if p not in DIFFAUGMENT_POLICIES]
    if unknown:
        raise ConfigError(path, f"unknown DiffAugment policy {unknown[0]!r} "
                          f"(use a comma list of {', '.join(DIFFAUGMENT_POLICIES)})")
    return ",".join(dict.fromkeys(parts))


def resolve_architecture(config: RunConfig, data_kind: str) -> str:
    """The architecture that ``architecture = "auto"`` stands for, given the data's kind."""
    arch = config.model.architecture
    if arch == "auto":
        return "mlp" if data_kind == "points" else "dcgan"
    if arch == "dcgan" and data_kind == "points":
        raise ConfigError("model.architecture", "dcgan makes images; 2-D point datasets need "
                          "the mlp model (or auto)")
    return arch


def resolve_d_norm(config: RunConfig) -> str:
    """The discriminator normalisation that ``d_norm = "auto"`` stands for.

    Batch norm mixes samples, which breaks per-sample gradient penalties (WGAN-GP, R1) and fights
    spectral norm, so auto only uses it for the plain objectives.
    """
    if config.model.d_norm != "auto":
        return config.model.d_norm
    if config.model.spectral_norm:
        return "none"
    if config.objective.loss == "wgan-gp":
        return "layer"
    if config.objective.r1_gamma > 0:
        return "none"
    return "batch"
