"""RunConfig: TOML round trips and errors that name the field."""

from __future__ import annotations

import pytest

from ganstudio.config import RunConfig, iter_fields, resolve_architecture, resolve_d_norm
from ganstudio.errors import ConfigError


def test_toml_round_trip_keeps_every_field(tmp_path):
    config = RunConfig()
    config.set("objective.loss", "hinge")
    config.set("optim.ema", "true")
    config.set("train.batch_size", "32")
    config.set("objective.diffaugment", "translation, color")
    path = tmp_path / "run.toml"
    config.save(path, header="# comment\n")
    again = RunConfig.from_toml(path)
    assert again == config
    assert again.objective.diffaugment == "translation,color"


@pytest.mark.parametrize("key,value,fragment", [
    ("train.batch_size", 0, "train.batch_size: must be an integer from 1 to 65536 (got 0)"),
    ("train.batch_size", "many", "must be an integer"),
    ("optim.lr_g", float("nan"), "optim.lr_g: must be a number from 0 to 1"),
    ("objective.loss", "wasserstein", "one of nonsaturating, hinge, wgan-gp, lsgan"),
    ("optim.ema", "maybe", "must be true or false"),
    ("train.device", "gpu7", "auto, cpu, cuda, cuda:N or mps"),
    ("objective.diffaugment", "color,rotate", "unknown DiffAugment policy 'rotate'"),
    ("data.channels", 2, "one of 0, 1, 3"),
])
def test_bad_values_name_the_field_and_the_allowed_range(key, value, fragment):
    config = RunConfig()
    with pytest.raises(ConfigError) as info:
        config.set(key, value)
    assert info.value.field == key
    assert fragment in str(info.value)


def test_unknown_section_and_key_in_a_file_are_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[train]\nbatchsize = 3\n")
    with pytest.raises(ConfigError, match=r"train.batchsize: unknown setting"):
        RunConfig.from_toml(path)
    path.write_text("[trian]\nsteps = 3\n")
    with pytest.raises(ConfigError, match="unknown section"):
        RunConfig.from_toml(path)
    path.write_text("[train\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        RunConfig.from_toml(path)


def test_dcgan_sizes_are_checked_across_fields():
    config = RunConfig()
    config.model.architecture = "dcgan"
    config.model.image_size = 48
    with pytest.raises(ConfigError, match="model.image_size: dcgan makes 32, 64 or 128"):
        config.validate()


def test_every_field_has_help_text():
    for spec in iter_fields():
        assert spec.help, spec.path


def test_auto_choices():
    config = RunConfig()
    assert resolve_architecture(config, "points") == "mlp"
    assert resolve_architecture(config, "image") == "dcgan"
    config.model.architecture = "dcgan"
    with pytest.raises(ConfigError, match="needs|need"):
        resolve_architecture(config, "points")
    assert resolve_d_norm(config) == "batch"
    config.objective.loss = "wgan-gp"
    assert resolve_d_norm(config) == "layer"
    config.model.spectral_norm = True
    assert resolve_d_norm(config) == "none"
