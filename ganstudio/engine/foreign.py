"""Generators made by other people's code, opened without running code from the file.

Three kinds of file are understood besides GAN Studio's own checkpoints and exports:

* **DCGAN-example state dicts** — ``netG`` as saved by the widely used PyTorch DCGAN example
  (``torch.save(netG.state_dict(), ...)``, any ``.pt``/``.pth``, also nested in a dict or with
  DataParallel's ``module.`` prefix, or in a safetensors file). Read with
  ``torch.load(weights_only=True)``; ``nz``, ``ngf`` and the channels are read off the tensor
  shapes and the weights go into GAN Studio's own DCGAN, which is laid out key for key the same.
* **torch.export archives** (``.pt2``, ``torch.export.save``). ``torch.export.load`` can run
  code from a hostile archive in several ways (pickled tensors loaded with
  ``weights_only=False``, ``pickle.loads`` of "opaque" constants, a ``weights_only=False``
  fallback for the sample inputs, ``sympy.sympify`` — Python ``eval`` — of shape expressions,
  AOTInductor shared libraries, graph nodes calling any ``torch.*`` function). So the archive is
  read into memory and checked first (:func:`check_pt2_archive`): only plain tensor payloads, no
  compiled code, sample inputs that load with ``weights_only=True``, shape expressions made of
  symbols, numbers, operators and a short list of sympy functions, and graph nodes that call only
  ATen/prims operators and plain arithmetic. The checked bytes are what is loaded.
* **TorchScript** (``torch.jit.save``). ``torch.jit.load`` compiles the file's TorchScript and
  unpickles its constants with TorchScript's own unpickler: it cannot import Python modules or
  call Python functions, but the model's TorchScript does run (any registered operator), and the
  C++ loader is not hardened against deliberately malformed files. Open TorchScript only from
  sources you would trust to run a program; this is said where such a file is opened.

Anything else — a ``torch.save(model)`` pickle of a whole module, an ONNX file, a discriminator,
a classifier — is refused with a message that says what the file is and what would work.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch
from torch import nn

from ganstudio.errors import CheckpointError

log = logging.getLogger(__name__)

TORCH_EXPORT = "torch.export"
TORCHSCRIPT = "torchscript"
PROGRAM_KINDS = (TORCH_EXPORT, TORCHSCRIPT)
DCGAN_EXAMPLE = "pytorch-dcgan-example netG"
PROGRAM_METADATA = "ganstudio.json"     # extra file in our own .pt2 exports

# Output value ranges a program may produce; all are mapped to [-1, 1] for display.
RANGE_TANH, RANGE_UNIT, RANGE_BYTE, RANGE_POINTS = "[-1, 1]", "[0, 1]", "[0, 255]", "points"
OUTPUT_RANGES = (RANGE_TANH, RANGE_UNIT, RANGE_BYTE)
RANGE_ALIASES = {"-1,1": RANGE_TANH, "tanh": RANGE_TANH, "[-1,1]": RANGE_TANH,
                 "0,1": RANGE_UNIT, "[0,1]": RANGE_UNIT, "unit": RANGE_UNIT, "sigmoid": RANGE_UNIT,
                 "0,255": RANGE_BYTE, "[0,255]": RANGE_BYTE, "byte": RANGE_BYTE}

# Latent sizes tried, in this order, when a TorchScript program does not say what it takes.
COMMON_LATENT_SIZES = (100, 128, 512, 256, 64, 120, 32, 16, 10, 20, 50, 8, 2)
RANGE_PROBE_SEEDS = range(16)

TORCHSCRIPT_TRUST = ("TorchScript files run their own TorchScript code (not Python: it cannot "
                     "import modules or call Python functions); open them only from sources you "
                     "would trust to run a program.")


# ----- what a file is ---------------------------------------------------------------------------

def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sniff(path: Path, data: bytes | None = None) -> str:
    """``"pt2"``, ``"torchscript"``, ``"torch-save"``, ``"safetensors"``, ``"onnx"``,
    ``"png"`` or ``"unknown"``, from the file's contents (not its name)."""
    path = Path(path)
    if data is None:
        with open(path, "rb") as handle:
            head = handle.read(16)
    else:
        head = data[:16]
    if head.startswith(b"\x89PNG"):
        return "png"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data) if data is not None else path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return "unknown"
        tails = {name.split("/", 1)[1] if "/" in name else name for name in names}
        if "archive_format" in tails or any(t.startswith("models/") for t in tails):
            return "pt2"
        if "constants.pkl" in tails and any(t.startswith("code/") for t in tails):
            return "torchscript"
        if "data.pkl" in tails:
            return "torch-save"
        return "unknown"
    if head[:1] == b"\x80" or head.startswith(b"\x8a\nl\xfc\x9cF\xf9 j\xa8"):
        return "torch-save"   # a pickle (torch's legacy format starts with its magic number)
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"  # an 8-byte header length, then JSON
    if path.suffix.lower() == ".onnx":
        return "onnx"
    return "unknown"


# ----- DCGAN-example state dicts ----------------------------------------------------------------

def find_generator_state(obj: Any) -> dict[str, torch.Tensor] | None:
    """The DCGAN-style ``main.N.weight`` state dict in ``obj``: the dict itself, one nested
    under a key such as ``netG``/``generator``/``state_dict``, without DataParallel's
    ``module.`` prefix. None when there is none."""
    if not isinstance(obj, Mapping):
        return None
    tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if tensors:
        stripped = {k[len("module."):] if k.startswith("module.") else k: v
                    for k, v in tensors.items()}
        if "main.0.weight" in stripped:
            return stripped
    for key in ("netG", "generator", "G", "gen", "state_dict", "model", "model_state_dict"):
        nested = obj.get(key)
        if isinstance(nested, Mapping):
            found = find_generator_state(nested)
            if found is not None:
                return found
    return None


def dcgan_spec_from_state(state: Mapping[str, torch.Tensor], where: str) -> Any:
    """The :class:`~ganstudio.models.GeneratorSpec` of a DCGAN-example ``netG`` state dict,
    read off its tensor shapes; raises :class:`CheckpointError` saying why it is not one."""
    from ganstudio.models import GeneratorSpec, build_generator
    from ganstudio.models.dcgan import DCGAN_SIZES

    conv_indices = sorted(int(m.group(1)) for key, value in state.items()
                          if (m := re.fullmatch(r"main\.(\d+)\.weight", key))
                          and isinstance(value, torch.Tensor) and value.dim() == 4)
    if not conv_indices:
        raise CheckpointError(f"{where}: a PyTorch state dict, but with no convolution weights "
                              "under main.N: not a DCGAN-example generator (netG)")
    first, last = state[f"main.{conv_indices[0]}.weight"], state[f"main.{conv_indices[-1]}.weight"]
    if last.shape[0] in (1,) or (last.shape[1] == 1 and first.shape[1] in (1, 3)
                                 and "main.1.weight" not in state):
        raise CheckpointError(
            f"{where}: this looks like a DCGAN discriminator (netD: images in, one score out), "
            "not a generator. Open the generator's file (netG_*.pth) instead.")
    expected_indices = [3 * i for i in range(len(conv_indices))]
    if conv_indices != expected_indices:
        raise CheckpointError(
            f"{where}: a state dict with convolutions at main.{', main.'.join(map(str, conv_indices))}"
            f", but a DCGAN-example netG has them at main.{', main.'.join(map(str, expected_indices))}"
            ": not a DCGAN-example generator")
    nz, top_width = int(first.shape[0]), int(first.shape[1])
    channels = int(last.shape[1])
    doublings = len(conv_indices) - 2
    size = 4 * 2 ** (len(conv_indices) - 1)
    if size not in DCGAN_SIZES:
        raise CheckpointError(f"{where}: a DCGAN-style netG for {size}×{size} images; GAN Studio "
                              f"builds DCGANs for {'/'.join(map(str, DCGAN_SIZES))} px only")
    if doublings < 0 or top_width % 2 ** doublings:
        raise CheckpointError(f"{where}: the first layer's {top_width} channels do not halve "
                              f"{doublings} times as a DCGAN netG's do")
    if channels not in (1, 3):
        raise CheckpointError(f"{where}: the generator makes {channels}-channel images; GAN "
                              "Studio shows 1 or 3 channels")
    spec = GeneratorSpec("dcgan", nz, (channels, size, size), top_width // 2 ** doublings)
    expected = set(build_generator(spec).state_dict())
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        parts = ([f"missing {', '.join(missing[:4])}"] if missing else []) + \
                ([f"unexpected {', '.join(unexpected[:4])}"] if unexpected else [])
        raise CheckpointError(f"{where}: not laid out like a DCGAN-example netG "
                              f"(nz={nz}, ngf={spec.width}, {channels} channels): "
                              + "; ".join(parts))
    return spec


# ----- programs (torch.export, TorchScript) ------------------------------------------------------

@dataclass(frozen=True)
class ForeignProgram:
    """An exported generator program, kept as the checked bytes of its file.

    :meth:`build` loads a fresh module from those bytes for each caller (the latent panel's
    renderer, an export thread), so no two threads share one.
    """

    kind: str                           # TORCH_EXPORT or TORCHSCRIPT
    data: bytes = field(repr=False)
    sha256: str
    latent_shape: tuple[int, ...]       # one sample's latent, e.g. (128,) or (100, 1, 1)
    output_range: str                   # one of OUTPUT_RANGES, or RANGE_POINTS
    range_detected: bool                # False: stated by the file or the person
    out_shape: tuple[int, ...]          # (C, H, W) or (2,)
    fixed_batch: int | None = None      # the batch size a program was exported for, if fixed
    flat_output: bool = False           # outputs (N, C*H*W), reshaped to out_shape
    takes_labels: bool = False

    @property
    def nz(self) -> int:
        return int(math.prod(self.latent_shape))

    def load(self) -> nn.Module:
        return _load_program(self.kind, self.data)

    def build(self, device: str | torch.device = "cpu") -> nn.Module:
        return ProgramGenerator(self.load(), self).to(device).eval()


class ProgramGenerator(nn.Module):
    """A program behind GAN Studio's generator interface: ``(N, nz)`` latents (plus labels when
    it takes them) in, ``[-1, 1]`` images ``(N, C, H, W)`` or points ``(N, 2)`` out."""

    def __init__(self, program: nn.Module, info: ForeignProgram):
        super().__init__()
        self.program = program
        self.info = info
        # Programs without parameters still tell render() their device through this.
        self.register_buffer("device_marker", torch.zeros(0), persistent=False)

    def train(self, mode: bool = True) -> "ProgramGenerator":
        # Programs are inference-only (exported ones refuse train()/eval()): only our flag moves.
        self.training = mode
        return self

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        info = self.info
        n = z.shape[0]
        z = z.reshape(n, *info.latent_shape)
        batch = info.fixed_batch
        if batch is None or n == batch:
            out = self._call(z, labels)
        else:   # a program exported for one batch size: run it in chunks of that size
            chunks = []
            for start in range(0, n, batch):
                part = z[start:start + batch]
                part_labels = None if labels is None else labels[start:start + batch]
                real = len(part)
                if real < batch:
                    part = torch.cat([part, part[-1:].expand(batch - real, *part.shape[1:])])
                    if part_labels is not None:
                        part_labels = torch.cat([part_labels,
                                                 part_labels[-1:].expand(batch - real)])
                chunks.append(self._call(part, part_labels)[:real])
            out = torch.cat(chunks)
        out = out.float()
        if info.flat_output:
            out = out.reshape(n, *info.out_shape)
        if info.output_range == RANGE_UNIT:
            out = out * 2.0 - 1.0
        elif info.output_range == RANGE_BYTE:
            out = out / 127.5 - 1.0
        return out

    def _call(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        out = self.program(z, labels) if self.info.takes_labels else self.program(z)
        return _first_tensor(out)


def _first_tensor(out: Any) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    if isinstance(out, Mapping):
        for value in out.values():
            if isinstance(value, torch.Tensor):
                return value
    raise CheckpointError(f"the program returned {type(out).__name__}, not a tensor")


def _load_program(kind: str, data: bytes) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)       # torch.jit is deprecated in 2.14
        warnings.simplefilter("ignore", UserWarning)
        if kind == TORCHSCRIPT:
            module = torch.jit.load(io.BytesIO(data), map_location="cpu")
        else:
            module = torch.export.load(io.BytesIO(data)).module()
    try:
        module.eval()
    except (NotImplementedError, RuntimeError):
        pass    # an exported program's module is already in inference form
    return module


# ----- checking a .pt2 archive before torch.export.load sees it ----------------------------------

# Plain arithmetic the graph may call besides ATen/prims operators (symbolic shape maths).
_SAFE_OPERATOR = {"getitem", "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg",
                  "pos", "abs", "lt", "le", "gt", "ge", "eq", "ne", "and_", "or_", "not_",
                  "invert", "xor", "lshift", "rshift"}
_SAFE_MATH = {"ceil", "floor", "trunc", "sqrt", "exp", "log", "sin", "cos", "tanh", "pow"}
_SAFE_TORCH = {"sym_float", "sym_int", "sym_max", "sym_min", "sym_not", "sym_sqrt", "sym_ite",
               "sym_sum", "_sym_sqrt"}
_UNSAFE_ATEN = {"from_file", "_print"}       # reads a file by name / writes to stdout
# Names a shape expression may use besides symbols like s0, s77, u3.
_SYMPY_NAMES = {"FloorDiv", "ModularIndexing", "Where", "PythonMod", "Mod", "CleanDiv",
                "CeilToInt", "FloorToInt", "CeilDiv", "LShift", "RShift", "PowByNatural",
                "FloatPow", "FloatTrueDiv", "IntTrueDiv", "IsNonOverlappingAndDenseIndicator",
                "TruncToFloat", "TruncToInt", "RoundToInt", "RoundDecimal", "ToFloat",
                "Identity", "Max", "Min", "Abs", "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "And", "Or",
                "Not", "True", "False", "oo", "Integer", "Rational", "Float", "floor", "ceiling",
                "sqrt", "OpaqueUnaryFn_sqrt", "BitwiseFn_bitwise_and", "BitwiseFn_bitwise_or",
                # srepr form: Symbol('s77', positive=True, integer=True)
                "Symbol", "positive", "negative", "nonnegative", "integer", "real", "finite"}
_EXPR_TOKEN = re.compile(r"\s+|\d+\.\d*(?:e[+-]?\d+)?|\d+|'[a-z]+\d+'|[A-Za-z_]\w*|\*\*|//"
                         r"|[-+*/%(),<>=!&|~^]")
_SYMBOL = re.compile(r"[a-z]+\d+")
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")


def _target_is_safe(target: str) -> bool:
    for prefix in ("torch.ops.aten.", "torch.ops.prims."):
        if target.startswith(prefix):
            op = target[len(prefix):].split(".")[0]
            return op not in _UNSAFE_ATEN and re.fullmatch(r"[\w.]+", target) is not None
    module, _, name = target.partition(".")
    if module == "_operator":
        return name in _SAFE_OPERATOR
    if module == "math":
        return name in _SAFE_MATH
    if module == "torch":
        return name in _SAFE_TORCH
    return False


def _expression_is_safe(expr: str) -> bool:
    position = 0
    while position < len(expr):
        match = _EXPR_TOKEN.match(expr, position)
        if match is None:
            return False
        token = match.group(0)
        if (token[0].isalpha() or token[0] == "_") and token not in _SYMPY_NAMES \
                and not _SYMBOL.fullmatch(token):
            return False
        position = match.end()
    return True


def _walk(node: Any) -> Iterable[tuple[str, Any]]:
    """(key, value) of every entry of a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _check_program_json(program: Any, where: str) -> None:
    for key, value in _walk(program):
        if isinstance(value, str):
            if _BAD_CONTROL.search(value) or (isinstance(key, str) and _BAD_CONTROL.search(key)):
                raise CheckpointError(f"{where}: refused: the program's text holds control "
                                      "characters that could smuggle code into the generated "
                                      "Python")
            if key == "target" and not _target_is_safe(value):
                raise CheckpointError(
                    f"{where}: refused: the program calls {value!r}, which is not a tensor "
                    "operator GAN Studio runs from files (ATen/prims operators and arithmetic)")
            if key == "expr_str" and not _expression_is_safe(value):
                raise CheckpointError(f"{where}: refused: a shape expression in the program is "
                                      f"not plain arithmetic ({value[:60]!r})")
    for name in (program.get("range_constraints") or {}) if isinstance(program, dict) else ():
        if not _expression_is_safe(str(name)):
            raise CheckpointError(f"{where}: refused: a shape symbol in the program is not "
                                  f"plain ({str(name)[:60]!r})")


def check_pt2_archive(data: bytes, where: str) -> dict[str, Any]:
    """Refuse a ``.pt2`` archive that could run code on ``torch.export.load``; returns our
    metadata (``extra/ganstudio.json``) when the archive has it, else ``{}``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except zipfile.BadZipFile as exc:
        raise CheckpointError(f"{where}: not a readable .pt2 archive ({exc})") from None
    if len(set(names)) != len(names):
        raise CheckpointError(f"{where}: refused: the archive lists a file twice")
    roots = {name.split("/", 1)[0] for name in names}
    if len(roots) != 1 or any("/" not in name for name in names):
        raise CheckpointError(f"{where}: not a torch.export archive (files outside one folder)")
    root = roots.pop() + "/"
    tails = {name[len(root):]: name for name in names}

    def read(tail: str) -> bytes:
        return archive.read(tails[tail])

    if "archive_format" not in tails or read("archive_format").strip() != b"pt2":
        raise CheckpointError(f"{where}: not a torch.export archive (no archive_format 'pt2'); "
                              "files from torch 2.7 and older are not opened")
    if any(t.startswith("data/aotinductor/") for t in tails):
        raise CheckpointError(f"{where}: refused: the archive holds AOTInductor-compiled native "
                              "code, which would run on loading; export it without "
                              "torch._inductor.aoti_compile_and_package")
    models = [t for t in tails if re.fullmatch(r"models/[^/]+\.json", t)]
    if not models:
        raise CheckpointError(f"{where}: a .pt2 archive with no exported program in it")
    for model_file in models:
        name = model_file[len("models/"):-len(".json")]
        for legacy in (f"data/weights/{name}.pt", f"data/constants/{name}.pt"):
            if legacy in tails:
                raise CheckpointError(f"{where}: refused: the archive stores {legacy} as a "
                                      "pickle (an old format that can run code on loading)")
        for config_name, allowed_prefix in ((f"data/weights/{name}_weights_config.json", None),
                                            (f"data/constants/{name}_constants_config.json",
                                             "tensor_")):
            if config_name not in tails:
                raise CheckpointError(f"{where}: damaged archive: {config_name} is missing")
            try:
                config = json.loads(read(config_name)).get("config", {})
            except (json.JSONDecodeError, AttributeError):
                raise CheckpointError(f"{where}: damaged archive: {config_name} is not "
                                      "valid JSON") from None
            for fqn, payload in config.items():
                if not isinstance(payload, dict) or payload.get("use_pickle"):
                    raise CheckpointError(
                        f"{where}: refused: {fqn} is stored as a pickle, which can run code on "
                        "loading (GAN Studio opens archives of plain tensors only)")
                path_name = str(payload.get("path_name", ""))
                if allowed_prefix and not path_name.startswith(allowed_prefix):
                    raise CheckpointError(
                        f"{where}: refused: the constant {fqn} is a Python or TorchScript "
                        "object, which would be unpickled on loading")
        sample = f"data/sample_inputs/{name}.pt"
        if sample in tails:
            try:
                torch.load(io.BytesIO(read(sample)), weights_only=True)
            except Exception:
                raise CheckpointError(f"{where}: refused: the archive's sample inputs are not "
                                      "plain tensors (loading them could run code)") from None
        try:
            program = json.loads(read(model_file))
        except json.JSONDecodeError:
            raise CheckpointError(f"{where}: damaged archive: {model_file} is not valid JSON"
                                  ) from None
        _check_program_json(program, where)
    meta_name = f"extra/{PROGRAM_METADATA}"
    if meta_name in tails:
        try:
            meta = json.loads(read(meta_name))
            return meta if isinstance(meta, dict) else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
    return {}


# ----- opening a program ------------------------------------------------------------------------

def parse_latent_shape(text: str | Iterable[int] | None) -> tuple[int, ...] | None:
    """``"128"``, ``"100x1x1"``, ``"100,1,1"`` or a sequence -> one sample's latent shape."""
    if text is None or text == "":
        return None
    if isinstance(text, str):
        parts = [p for p in re.split(r"[x×, ]+", text.strip()) if p]
        try:
            shape = tuple(int(p) for p in parts)
        except ValueError:
            raise ValueError(f"a latent shape is sizes like 128 or 100x1x1, not {text!r}"
                             ) from None
    else:
        shape = tuple(int(v) for v in text)
    if not shape or any(v < 1 for v in shape):
        raise ValueError(f"a latent shape is positive sizes like 128 or 100x1x1, not {text!r}")
    return shape


def parse_output_range(text: str | None) -> str | None:
    if text is None or text == "":
        return None
    key = text.replace(" ", "").lower()
    if text in OUTPUT_RANGES:
        return text
    if key in RANGE_ALIASES:
        return RANGE_ALIASES[key]
    raise ValueError(f"an output range is -1,1 or 0,1 or 0,255, not {text!r}")


_EXPECTED_SIZE = (re.compile(r"mat1 and mat2 shapes cannot be multiplied \(\d+x\d+ and (\d+)x\d+\)"),
                  re.compile(r"to have (\d+) channels"),
                  re.compile(r"expected input with shape \[\*, (\d+)\]"),
                  re.compile(r"size mismatch.*?(\d+)"))


def _expected_sizes(message: str) -> list[int]:
    found = []
    for pattern in _EXPECTED_SIZE:
        for match in pattern.finditer(message):
            value = int(match.group(1))
            if value > 0 and value not in found:
                found.append(value)
    return found


def _run(module: nn.Module, z: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _first_tensor(module(z)).float()


def _output_kind(out: torch.Tensor, batch: int) -> tuple[tuple[int, ...], bool] | None:
    """(out_shape, flat) when ``out`` looks like a generator's images or points, else None."""
    if out.shape[0] != batch:
        return None
    if out.dim() == 4 and out.shape[1] in (1, 3, 4) and out.shape[2] >= 4 and out.shape[3] >= 4:
        return tuple(int(v) for v in out.shape[1:]), False
    if out.dim() == 3 and out.shape[1] >= 4 and out.shape[2] >= 4:  # (N, H, W) greyscale
        return (1, int(out.shape[1]), int(out.shape[2])), True
    if out.dim() == 2 and out.shape[1] == 2:
        return (2,), False
    if out.dim() == 2:
        size = int(out.shape[1])
        for channels in (1, 3):
            side = math.isqrt(size // channels)
            if side >= 4 and channels * side * side == size:
                return (channels, side, side), True
    return None


def _describe(out: torch.Tensor) -> str:
    return f"({', '.join(map(str, out.shape))})"


def _not_generator_output(where: str, out: torch.Tensor) -> CheckpointError:
    return CheckpointError(
        f"{where}: its output {_describe(out)} is not images (N, C, H, W) with 1 or 3 channels "
        "or 2-D points (N, 2): this does not look like a generator (a classifier or "
        "discriminator?)")


def _probe_latent_shape(module: nn.Module, where: str) -> tuple[int, ...]:
    """Find the latent shape a program takes by trying likely ones (batch of 1)."""
    candidates: list[tuple[int, ...]] = []
    last_error = ""
    for probe in ((7,), (7, 1, 1)):
        try:
            out = _run(module, torch.zeros(1, *probe))
        except Exception as exc:   # the program's own error says what it expected
            last_error = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            for size in _expected_sizes(str(exc)):
                candidates += [(size,), (size, 1, 1)]
            continue
        if _output_kind(out, 1) is not None:
            return probe
        raise _not_generator_output(where, out)
    for size in COMMON_LATENT_SIZES:
        candidates += [(size,), (size, 1, 1)]
    seen: set[tuple[int, ...]] = set()
    rejected_output: torch.Tensor | None = None
    for shape in candidates:
        if shape in seen:
            continue
        seen.add(shape)
        try:
            out = _run(module, torch.zeros(1, *shape))
        except Exception as exc:
            last_error = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            continue
        if _output_kind(out, 1) is not None:
            return shape
        rejected_output = out
    if rejected_output is not None:
        raise _not_generator_output(where, rejected_output)
    raise CheckpointError(
        f"{where}: did not accept a latent vector of any usual size (tried 7, "
        f"{', '.join(map(str, COMMON_LATENT_SIZES))}, flat and as N×1×1; last error: "
        f"{last_error[:200]}). If it is a generator, give its latent shape (--latent-shape, "
        "e.g. 128 or 100x1x1); if it takes images, it is not a generator.")


def _export_input_shape(module: nn.Module, where: str) -> tuple[list[Any], int]:
    """Shape of an exported program's latent input (ints or None for dynamic sizes), and how
    many inputs it takes."""
    placeholders = [n for n in module.graph.nodes if n.op == "placeholder"]
    if not placeholders:
        raise CheckpointError(f"{where}: the program takes no input: not a generator")
    shapes = []
    for node in placeholders:
        value = node.meta.get("val")
        shape = getattr(value, "shape", None)
        shapes.append(None if shape is None else
                      [int(d) if isinstance(d, int) or str(d).isdigit() else None
                       for d in shape])
    first = shapes[0]
    if first is None:
        raise CheckpointError(f"{where}: the program's first input is not a tensor")
    return first, len(placeholders)


def _detect_range(generator: ProgramGenerator) -> tuple[str, bool, float, float]:
    """Run a few seeds and read the output range off the values."""
    from ganstudio.engine.sampling import latent_batch

    z = latent_batch(generator.info.nz, RANGE_PROBE_SEEDS)
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = generator(z).float()
    lo, hi = float(out.min()), float(out.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return RANGE_TANH, False, lo, hi
    slack = 1e-3
    if lo >= -slack and hi <= 1 + slack:
        return RANGE_UNIT, True, lo, hi
    if lo >= -1 - slack and hi <= 1 + slack:
        return RANGE_TANH, True, lo, hi
    if lo >= -slack and hi <= 255 + slack and hi > 1.5:
        return RANGE_BYTE, True, lo, hi
    return RANGE_TANH, False, lo, hi


def open_program(path: Path, kind: str, data: bytes, *,
                 latent_shape: tuple[int, ...] | None = None,
                 output_range: str | None = None) -> tuple[ForeignProgram, dict[str, Any]]:
    """Check, load and probe a ``.pt2`` or TorchScript program; returns it and its metadata."""
    where = str(path)
    ours: dict[str, Any] = {}
    if kind == TORCH_EXPORT:
        ours = check_pt2_archive(data, where)
    try:
        module = _load_program(kind, data)
    except CheckpointError:
        raise
    except Exception as exc:
        what = "torch.export archive" if kind == TORCH_EXPORT else "TorchScript file"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{where}: could not load this {what} ({first})") from None
    digest = file_sha256(data)
    takes_labels = bool(ours.get("num_classes"))
    fixed_batch: int | None = None
    if latent_shape is None and ours.get("latent_shape"):
        latent_shape = tuple(int(v) for v in ours["latent_shape"])
    if kind == TORCH_EXPORT:
        shape, inputs = _export_input_shape(module, where)
        if inputs > (2 if takes_labels else 1):
            raise CheckpointError(f"{where}: the program takes {inputs} inputs; GAN Studio opens "
                                  "generators that take one latent tensor")
        if len(shape) >= 3 and all(isinstance(v, int) for v in shape[2:]) \
                and any(v > 1 for v in shape[2:]):
            raise CheckpointError(
                f"{where}: the program takes images ({', '.join(str(v or 'N') for v in shape)})"
                ", not a latent vector: this looks like a classifier or discriminator, not a "
                "generator")
        if isinstance(shape[0], int):
            fixed_batch = shape[0]
        declared = tuple(shape[1:])
        if latent_shape is None:
            if not declared or any(v is None for v in declared):
                raise CheckpointError(f"{where}: the program's latent size is dynamic; give it "
                                      "with --latent-shape")
            latent_shape = tuple(int(v) for v in declared)
        elif declared and all(v is not None for v in declared) and \
                math.prod(declared) != math.prod(latent_shape):
            raise CheckpointError(f"{where}: the program takes latents shaped "
                                  f"{'x'.join(map(str, declared))}, not "
                                  f"{'x'.join(map(str, latent_shape))}")
        elif declared and all(v is not None for v in declared):
            latent_shape = tuple(int(v) for v in declared)
    elif latent_shape is None:
        latent_shape = _probe_latent_shape(module, where)
    probe_batch = fixed_batch or 1
    try:
        out = _run(module, torch.zeros(probe_batch, *latent_shape)) if not takes_labels else \
            _first_tensor(module(torch.zeros(probe_batch, *latent_shape),
                                 torch.zeros(probe_batch, dtype=torch.long))).float()
    except Exception as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{where}: the program does not accept latents shaped "
                              f"{'x'.join(map(str, latent_shape))} ({first[:200]})") from None
    kind_of_output = _output_kind(out, probe_batch)
    if kind_of_output is None:
        raise _not_generator_output(where, out)
    out_shape, flat = kind_of_output
    if kind == TORCHSCRIPT and fixed_batch is None:
        try:
            two = _run(module, torch.zeros(2, *latent_shape))
            if two.shape[0] != 2:
                fixed_batch = 1
        except Exception:
            fixed_batch = 1    # traced with batch 1 baked in
    stated = output_range or (ours.get("output_range") if ours else None)
    points = out_shape == (2,)
    info = ForeignProgram(kind, data, digest, tuple(latent_shape),
                          RANGE_POINTS if points else (stated or RANGE_TANH),
                          False, out_shape, fixed_batch, flat, takes_labels)
    meta: dict[str, Any] = {"format": kind, "source": str(path), "generator_sha256": digest,
                            "latent_shape": list(latent_shape), "step": int(ours.get("step", 0)),
                            "fixed_batch": fixed_batch}
    if ours.get("class_names"):
        meta["class_names"] = list(ours["class_names"])
    if takes_labels:
        meta["num_classes"] = int(ours["num_classes"])
    if ours.get("latent_distribution"):
        meta["latent_distribution"] = ours["latent_distribution"]
    if not points and stated is None:
        generator = ProgramGenerator(module, info)
        detected, ok, lo, hi = _detect_range(generator)
        info = ForeignProgram(kind, data, digest, tuple(latent_shape), detected, ok, out_shape,
                              fixed_batch, flat, takes_labels)
        meta["output_range_note"] = (
            f"detected from 16 seeds (values {lo:.3g} to {hi:.3g})" if ok else
            f"not detected (values {lo:.3g} to {hi:.3g}); assuming [-1, 1]: give "
            "--output-range if the images look wrong")
    elif not points:
        meta["output_range_note"] = "stated by the file" if output_range is None else \
            "given when opened"
    meta["output_range"] = info.output_range
    if kind == TORCHSCRIPT:
        meta["trust"] = TORCHSCRIPT_TRUST
    return info, meta
