"""Generator sources: open any of our files, rebuild, render reproducibly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganstudio.engine.sampling import GeneratorSource, latent_batch, render
from ganstudio.engine.trainer import Trainer
from ganstudio.errors import CheckpointError

from .conftest import make_tiny_config


def test_latents_depend_only_on_the_seed():
    a = latent_batch(16, [1, 2, 3])
    b = latent_batch(16, [3])
    torch.testing.assert_close(a[2], b[0])
    u = latent_batch(16, range(50), "uniform")
    assert u.min() >= -1 and u.max() <= 1


def test_run_folder_checkpoint_and_export_open_to_the_same_generator(tmp_path):
    Trainer(make_tiny_config(**{"train.steps": 3}), run_dir=tmp_path).run()
    z = latent_batch(16, [7, 8])
    from_run = render(GeneratorSource.open(tmp_path).build(), z)
    from_export = render(GeneratorSource.open(tmp_path / "generator.safetensors").build(), z)
    checkpoint = sorted((tmp_path / "checkpoints").iterdir())[-1]
    from_checkpoint = GeneratorSource.open(checkpoint)
    np.testing.assert_array_equal(from_run, from_export)
    np.testing.assert_array_equal(render(from_checkpoint.build(), z), from_run)
    assert from_checkpoint.step == 3 and from_run.shape == (2, 32, 32, 3)
    assert from_checkpoint.class_names == ("disc", "square", "triangle")


def test_an_empty_folder_is_not_a_generator(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint or generator export"):
        GeneratorSource.open(tmp_path)
