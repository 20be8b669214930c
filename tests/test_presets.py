"""The presets shipped in resources/presets are valid, re-runnable configs."""

from __future__ import annotations

from ganstudio.config import RunConfig
from tests.conftest import PROJECT_ROOT


def test_every_preset_loads_and_the_tutorial_matches_the_original_job():
    presets = sorted((PROJECT_ROOT / "resources" / "presets").glob("*.toml"))
    assert presets
    for path in presets:
        RunConfig.from_toml(path)
    tutorial = RunConfig.from_toml(PROJECT_ROOT / "resources" / "presets" / "tutorial-dcgan.toml")
    assert (tutorial.objective.loss, tutorial.objective.d_steps, tutorial.objective.g_steps) == (
        "nonsaturating", 1, 1)
    assert tutorial.optim.lr_g == tutorial.optim.lr_d == 2e-4
    assert tutorial.model.latent_distribution == "uniform"
    assert (tutorial.train.log_every, tutorial.train.sample_every, tutorial.train.sample_grid) == (
        100, 1000, 4)
    assert tutorial.train.batch_size == 32
