"""Checkpoints: atomic, code-free to load, clear about what is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from ganstudio.engine.checkpoint import (
    export_generator,
    generator_from_checkpoint,
    latest_checkpoint,
    load_checkpoint,
    load_generator_export,
    load_module_state,
    read_export_metadata,
    read_torch_file,
    save_checkpoint,
)
from ganstudio.engine.trainer import Trainer
from ganstudio.errors import CheckpointError
from ganstudio.models import GeneratorSpec, build_generator

from .conftest import make_tiny_config


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    hostile = tmp_path / "evil.pt"
    torch.save({"format": "ganstudio-checkpoint", "payload": _RunsCode(marker)}, hostile)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(hostile)
    message = str(info.value)
    assert str(hostile) in message and "would run code" in message and "system" in message
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncate", "zero", "garbage"])
def test_damaged_files_name_the_file_and_the_problem(tmp_path, damage):
    path = tmp_path / "ck.pt"
    save_checkpoint(path, {"step": 1, "config": {}, "G": {}, "D": {}, "opt_G": {}, "opt_D": {},
                           "rng": {}, "big": torch.randn(1000)})
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "zero":
        path.write_bytes(b"")
    else:
        path.write_bytes(b"not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)
    assert any(word in str(info.value) for word in ("truncated", "corrupt", "empty"))


def test_a_plain_state_dict_is_not_mistaken_for_a_checkpoint(tmp_path):
    path = tmp_path / "netG.pth"
    torch.save(build_generator(GeneratorSpec("dcgan", 100, (3, 64, 64), 8)).state_dict(), path)
    with pytest.raises(CheckpointError, match="not a GAN Studio checkpoint"):
        load_checkpoint(path)
    assert "main.0.weight" in read_torch_file(path)


def test_mismatched_weights_name_the_tensor_and_both_shapes():
    small = build_generator(GeneratorSpec("dcgan", 16, (3, 32, 32), 8))
    wide = build_generator(GeneratorSpec("dcgan", 16, (3, 32, 32), 16))
    with pytest.raises(CheckpointError) as info:
        load_module_state(small, wide.state_dict(), "generator", "some.pt")
    message = str(info.value)
    assert "main.0.weight" in message and "(16, 64, 4, 4)" in message and "(16, 32, 4, 4)" in message
    bigger = build_generator(GeneratorSpec("dcgan", 16, (3, 64, 64), 8))
    with pytest.raises(CheckpointError, match="unexpected main.1"):
        load_module_state(small, bigger.state_dict(), "generator", "some.pt")


def test_generator_export_round_trip_without_the_discriminator(tmp_path):
    torch.manual_seed(0)
    spec = GeneratorSpec("dcgan", 16, (1, 32, 32), 8, num_classes=0)
    g = build_generator(spec).eval()
    path = export_generator(tmp_path / "g.safetensors", g, spec, {"step": 42, "run": "r"})
    meta = read_export_metadata(path)
    assert meta["architecture"] == "dcgan" and meta["nz"] == 16 and meta["image_size"] == 32
    assert meta["channels"] == 1 and meta["step"] == 42 and "tanh" in meta["normalization"]
    loaded = load_generator_export(path)
    z = torch.randn(3, 16)
    torch.testing.assert_close(loaded.generator(z), g(z), rtol=0, atol=0)


def test_export_that_is_not_ours_is_named(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(CheckpointError, match="not a GAN Studio generator export"):
        read_export_metadata(path)
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 5)
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        read_export_metadata(tmp_path / "junk.safetensors")


def test_generator_from_a_full_checkpoint_prefers_ema(tmp_path):
    Trainer(make_tiny_config(**{"optim.ema": True, "train.steps": 3}), run_dir=tmp_path).run()
    path = latest_checkpoint(tmp_path / "checkpoints")
    g = generator_from_checkpoint(path)
    assert g.metadata["ema"] is True and g.metadata["step"] == 3
    state = load_checkpoint(path)
    torch.testing.assert_close(g.generator.state_dict()["main.0.weight"],
                               state["G_ema"]["main.0.weight"])


def test_a_kill_while_writing_never_damages_the_last_good_checkpoint(tmp_path):
    """A process killed in the middle of torch.save leaves the previous checkpoint readable."""
    target = tmp_path / "checkpoints" / "step-000000002.pt"
    save_checkpoint(target, {"step": 1, "config": {}, "G": {}, "D": {}, "opt_G": {},
                             "opt_D": {}, "rng": {}})
    script = textwrap.dedent(f"""
        import os, torch
        from ganstudio.engine import checkpoint
        real_save = torch.save
        def dying_save(obj, handle):
            handle.write(b"PK\\x03\\x04 half a zip")  # the first bytes of a torch file...
            handle.flush()
            os._exit(9)                              # ...and the power goes out
        torch.save = dying_save
        checkpoint.save_checkpoint({str(target)!r}, {{"step": 2}})
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert result.returncode == 9
    assert load_checkpoint(target)["step"] == 1
    assert latest_checkpoint(target.parent) == target
