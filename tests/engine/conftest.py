from __future__ import annotations

import pytest

from ganstudio.config import RunConfig


def make_tiny_config(**overrides) -> RunConfig:
    """A DCGAN-32 small enough that a step takes milliseconds on a 2-core CPU."""
    config = RunConfig()
    values = {
        "data.name": "shapes", "model.g_width": 8, "model.d_width": 8, "model.nz": 16,
        "train.batch_size": 8, "train.steps": 6, "train.log_every": 2,
        "train.sample_every": 3, "train.checkpoint_every": 3, "train.sample_grid": 2,
        "train.device": "cpu",
    }
    values.update(overrides)
    for key, value in values.items():
        config.set(key, value)
    config.validate()
    return config


@pytest.fixture
def tiny_config():
    return make_tiny_config
