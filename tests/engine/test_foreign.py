"""Generators from other people's code: opened, rendered like theirs, or refused with a reason."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from ganstudio.data.base import to_uint8_images
from ganstudio.engine.foreign import (
    RANGE_TANH,
    RANGE_UNIT,
    TORCH_EXPORT,
    TORCHSCRIPT,
    parse_latent_shape,
    parse_output_range,
    sniff,
)
from ganstudio.engine.sampling import GeneratorSource, latent_batch, render
from ganstudio.errors import CheckpointError
from tests.foreign_generators import MLPGenerator, canonical_netG, save_all


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return save_all(tmp_path_factory.mktemp("foreign"))


def _theirs(z: torch.Tensor) -> np.ndarray:
    """What the DCGAN example's own netG draws for these latents."""
    with torch.no_grad():
        return to_uint8_images(canonical_netG()(z[:, :, None, None]))


def test_a_dcgan_example_state_dict_opens_as_a_dcgan_and_draws_what_it_drew(files):
    source = GeneratorSource.open(files["state_dict"])
    assert source.spec.architecture == "dcgan" and source.nz == 100
    assert source.spec.out_shape == (3, 64, 64) and source.spec.width == 8
    assert source.metadata["format"] == "pytorch-dcgan-example netG"
    z = latent_batch(100, range(4))
    np.testing.assert_array_equal(render(source.build(), z), _theirs(z))
    fast = render(source.build_for_inference(), z).astype(int)
    assert np.abs(fast - _theirs(z)).max() <= 1         # BatchNorm folded: float rounding


def test_state_dicts_nested_or_from_data_parallel_open_too(tmp_path):
    state = canonical_netG().state_dict()
    nested = tmp_path / "checkpoint.pth"
    torch.save({"epoch": 3, "netG": {f"module.{k}": v for k, v in state.items()},
                "optimizerG": {"lr": 2e-4}}, nested)
    source = GeneratorSource.open(nested)
    z = latent_batch(100, [9])
    np.testing.assert_array_equal(render(source.build(), z), _theirs(z))
    from safetensors.torch import save_file

    plain = tmp_path / "netG.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(plain))
    np.testing.assert_array_equal(render(GeneratorSource.open(plain).build(), z), _theirs(z))


def test_a_discriminator_or_other_state_dict_is_refused_with_what_it_is(tmp_path):
    from torch import nn

    netD = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(8, 16, 4, 2, 1),
                         nn.BatchNorm2d(16), nn.LeakyReLU(0.2), nn.Conv2d(16, 1, 4, 1, 0))
    path = tmp_path / "netD_epoch_24.pth"
    torch.save({f"main.{k}": v for k, v in netD.state_dict().items()}, path)
    with pytest.raises(CheckpointError, match="discriminator"):
        GeneratorSource.open(path)
    other = tmp_path / "weights.pth"
    torch.save({"encoder.weight": torch.zeros(3, 3)}, other)
    with pytest.raises(CheckpointError, match="no generator in it.*encoder.weight"):
        GeneratorSource.open(other)


def test_a_pickled_module_is_refused_and_nothing_runs(files):
    with pytest.raises(CheckpointError, match="refused to load.*CanonicalGenerator"):
        GeneratorSource.open(files["pickle"])


@pytest.mark.parametrize("name,kind", [("scripted", TORCHSCRIPT), ("traced", TORCHSCRIPT),
                                       ("exported", TORCH_EXPORT)])
def test_programs_of_the_dcgan_example_draw_what_it_draws(files, name, kind):
    source = GeneratorSource.open(files[name])
    assert source.is_program and source.spec.architecture == kind
    assert source.nz == 100 and source.spec.out_shape == (3, 64, 64)
    assert source.metadata["latent_shape"] == [100, 1, 1]
    assert source.metadata["output_range"] == RANGE_TANH
    assert source.sha256 == hashlib.sha256(files[name].read_bytes()).hexdigest()
    z = latent_batch(100, range(3))          # three at once, also for the batch-1 trace
    got = render(source.build_for_inference(), z).astype(int)
    assert np.abs(got - _theirs(z)).max() <= 1
    if kind == TORCHSCRIPT:
        assert "TorchScript" in source.metadata["trust"]


@pytest.mark.parametrize("name", ["mlp_exported", "mlp_scripted"])
def test_a_non_dcgan_generator_with_a_unit_output_range_is_detected(files, name):
    source = GeneratorSource.open(files[name])
    assert source.nz == 128 and source.spec.out_shape == (3, 16, 16)
    assert source.metadata["output_range"] == RANGE_UNIT
    assert "detected" in source.metadata["output_range_note"]
    torch.manual_seed(1)
    mlp = MLPGenerator().eval()
    z = latent_batch(128, range(2))
    with torch.no_grad():
        expected = to_uint8_images(mlp(z) * 2 - 1)
    assert np.abs(render(source.build(), z).astype(int) - expected).max() <= 1


def test_a_stated_range_and_latent_shape_are_used_and_checked(files):
    stated = GeneratorSource.open(files["mlp_scripted"], latent_shape="128",
                                  output_range="-1,1")
    assert stated.metadata["output_range"] == RANGE_TANH
    assert stated.open_options == {"latent_shape": [128], "output_range": RANGE_TANH}
    with pytest.raises(CheckpointError, match="does not accept latents shaped 7"):
        GeneratorSource.open(files["mlp_scripted"], latent_shape="7")
    with pytest.raises(CheckpointError, match="takes latents shaped 128, not 64"):
        GeneratorSource.open(files["mlp_exported"], latent_shape="64")
    with pytest.raises(CheckpointError, match="only given for exported programs"):
        GeneratorSource.open(files["state_dict"], latent_shape="100")
    assert parse_latent_shape("100x1x1") == (100, 1, 1)
    assert parse_output_range("0, 255") == "[0, 255]"
    with pytest.raises(ValueError, match="latent shape"):
        parse_latent_shape("big")


def test_a_classifier_is_not_a_generator(files):
    with pytest.raises(CheckpointError, match="takes images.*not a generator"):
        GeneratorSource.open(files["classifier_exported"])
    with pytest.raises(CheckpointError, match="did not accept a latent vector"):
        GeneratorSource.open(files["classifier_scripted"])


def _rewrite(source: Path, target: Path, edit) -> Path:
    """A copy of a .pt2 archive with one member changed by ``edit(name, bytes)``."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            data = edit(info.filename, original.read(info.filename))
            copy.writestr(info, data)
    return target


def _model_json_edit(change):
    def edit(name: str, data: bytes) -> bytes:
        if name.endswith("models/model.json"):
            program = json.loads(data)
            change(program)
            return json.dumps(program).encode()
        return data
    return edit


def test_hostile_pt2_archives_are_refused_before_anything_runs(files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "ran"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"

    def pickled_weights(name: str, data: bytes) -> bytes:
        if name.endswith("model_weights_config.json"):
            config = json.loads(data)
            next(iter(config["config"].values()))["use_pickle"] = True
            return json.dumps(config).encode()
        return data

    def call_target(program):
        program["graph_module"]["graph"]["nodes"][0]["target"] = "torch.hub.load"

    def sym_expression(program):
        def visit(node):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "expr_str":
                        node[key] = payload
                    else:
                        visit(value)
            elif isinstance(node, list):
                for value in node:
                    visit(value)
        visit(program)

    def newline_in_metadata(program):
        program["graph_module"]["graph"]["nodes"][0]["metadata"]["stack_trace"] = "x\r" + payload

    cases = {
        "pickle": (pickled_weights, "stored as a pickle"),
        "target": (_model_json_edit(call_target), "calls 'torch.hub.load'"),
        "sympy": (_model_json_edit(sym_expression), "not plain arithmetic"),
        "control": (_model_json_edit(newline_in_metadata), "control characters"),
    }
    for name, (edit, message) in cases.items():
        path = _rewrite(files["exported"], tmp_path / f"{name}.pt2", edit)
        with pytest.raises(CheckpointError, match=message):
            GeneratorSource.open(path)
    aoti = tmp_path / "aoti.pt2"
    _rewrite(files["exported"], aoti, lambda n, d: d)
    with zipfile.ZipFile(aoti, "a") as archive:
        archive.writestr("netG/data/aotinductor/model/model.so", b"\x7fELF")
    with pytest.raises(CheckpointError, match="native code"):
        GeneratorSource.open(aoti)
    assert not marker.exists()


def test_what_files_are_is_read_from_their_bytes(files, tmp_path):
    assert sniff(files["exported"]) == "pt2" and sniff(files["scripted"]) == "torchscript"
    assert sniff(files["state_dict"]) == "torch-save"
    renamed = tmp_path / "generator.bin"                   # names do not matter
    renamed.write_bytes(files["mlp_exported"].read_bytes())
    assert GeneratorSource.open(renamed).nz == 128
    junk = tmp_path / "notes.pt"
    junk.write_text("hello")
    with pytest.raises(CheckpointError, match="not a file GAN Studio can open"):
        GeneratorSource.open(junk)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x/readme.txt", "hi")
    (tmp_path / "z.pt").write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match="not a file GAN Studio can open"):
        GeneratorSource.open(tmp_path / "z.pt")


def test_weights_hash_is_shared_by_a_checkpoints_export_and_snapshot(tmp_path):
    from tests.export.tiny_generators import tiny_export, tiny_generator, tiny_spec

    exported = tiny_export(tmp_path, seed=4)
    spec = tiny_spec()
    live = GeneratorSource.from_module(tiny_generator(spec, 4), spec, step=10, label="live")
    assert exported.sha256 == live.sha256 and len(live.sha256) == 64
    other = GeneratorSource.from_module(tiny_generator(spec, 5), spec, step=10, label="other")
    assert other.sha256 != live.sha256
