"""The CUDA fast path: whole-step CUDA graph, bf16, channels_last, fallbacks (needs a CUDA GPU).

These run where a GPU is present (packaging/gpu-check.sh runs them on the lent H200); elsewhere
they are skipped, saying so. Each checks something that could fail: that a graph is captured
once and replayed, that replays compute what eager steps compute, that live settings reach a
captured step, that a failed capture falls back to eager steps and says why, and that every
objective and option still trains.
"""

from __future__ import annotations

import math

import pytest
import torch

from ganstudio.engine import objectives
from ganstudio.engine.control import LiveSettings
from ganstudio.engine.events import CollectingObserver, StepMetrics, TrainingFinished
from ganstudio.engine.fastpath import GRAPH_WARMUP_STEPS
from ganstudio.engine.trainer import Trainer

from .conftest import make_tiny_config

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none here)"),
]


def _cuda_config(**overrides):
    return make_tiny_config(**{"train.device": "cuda", **overrides})


def _trainer(tmp_path, **overrides) -> Trainer:
    trainer = Trainer(_cuda_config(**overrides), run_dir=tmp_path / "run",
                      threaded_observer=False)
    trainer._setup()
    return trainer


def _steps(trainer: Trainer, count: int) -> None:
    for _ in range(count):
        trainer.train_step(measure_grad_norms=True)
        trainer.step += 1
    torch.cuda.synchronize()


def _params(module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def test_the_whole_step_is_captured_once_and_replayed(tmp_path):
    trainer = _trainer(tmp_path)
    _steps(trainer, 10)
    graph = trainer._step_graph
    assert graph is not None and graph.captures == 1
    assert graph.replays == 10 - GRAPH_WARMUP_STEPS  # the capturing step replays too
    assert trainer.acc.count == 10
    assert all(math.isfinite(v) for v in trainer.acc.sums.tolist())
    assert trainer._grad_norms.min().item() > 0
    notes = " | ".join(trainer.speed_notes)
    assert "CUDA graph: whole D+G step" in notes and "optimiser: fused Adam" in notes
    assert "data: resident on cuda" in notes
    if torch.cuda.is_bf16_supported():
        assert "precision: bf16 autocast" in notes
        assert "memory layout: channels_last" in notes


def test_graph_replays_compute_what_eager_steps_compute(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    settings = {"train.precision": "fp32", "train.channels_last": "off"}
    graphed = _trainer(tmp_path / "graph", **settings)
    eager = _trainer(tmp_path / "eager", **settings, **{"train.cuda_graph": "off"})
    assert graphed._step_graph is not None and eager._step_graph is None
    eager.G.load_state_dict(graphed.G.state_dict())
    eager.D.load_state_dict(graphed.D.state_dict())
    start = _params(graphed.G) + _params(graphed.D)
    # One latent buffer per trainer, refilled from the host before each step: the captured
    # step reads it like the eager one (the graph's own RNG stream differs from eager's).
    batch, nz = graphed.config.train.batch_size, graphed.config.model.nz
    buffers = {id(t): torch.empty(batch, nz, device="cuda") for t in (graphed, eager)}
    for t in (graphed, eager):
        buf = buffers[id(t)]
        t._latent = lambda count, generator=None, device=None, buf=buf: buf
    g = torch.Generator().manual_seed(3)
    for _ in range(GRAPH_WARMUP_STEPS + 4):
        z = torch.randn(batch, nz, generator=g)
        for t in (graphed, eager):
            buffers[id(t)].copy_(z)
            _steps(t, 1)
    assert graphed._step_graph.replays == 4
    moved_graph = [a - b for a, b in zip(_params(graphed.G) + _params(graphed.D), start)]
    moved_eager = [a - b for a, b in zip(_params(eager.G) + _params(eager.D), start)]
    diff = torch.linalg.vector_norm(torch.cat([(a - b).flatten()
                                               for a, b in zip(moved_graph, moved_eager)]))
    total = torch.linalg.vector_norm(torch.cat([b.flatten() for b in moved_eager]))
    assert total > 0 and diff / total < 1e-2, (diff / total).item()
    torch.testing.assert_close(graphed.acc.sums, eager.acc.sums, rtol=1e-3, atol=1e-4)


def test_live_learning_rates_reach_the_captured_step(tmp_path):
    trainer = _trainer(tmp_path)
    _steps(trainer, GRAPH_WARMUP_STEPS + 2)
    assert trainer._step_graph.captures == 1
    trainer._apply(LiveSettings(lr_g=0.0, lr_d=0.0))
    before = _params(trainer.G) + _params(trainer.D)
    _steps(trainer, 3)
    after = _params(trainer.G) + _params(trainer.D)
    assert all(torch.equal(a, b) for a, b in zip(before, after))
    trainer._apply(LiveSettings(lr_g=1e-3, lr_d=1e-3))
    _steps(trainer, 2)
    assert not all(torch.equal(a, b) for a, b in zip(after, _params(trainer.G)))
    assert trainer._lr(trainer.opt_G) == pytest.approx(1e-3)
    assert trainer._step_graph.captures == 1  # no recapture was needed


def test_changing_d_steps_recaptures_the_step(tmp_path):
    trainer = _trainer(tmp_path)
    _steps(trainer, GRAPH_WARMUP_STEPS + 1)
    trainer._apply(LiveSettings(d_steps=2, g_steps=2))
    _steps(trainer, GRAPH_WARMUP_STEPS + 2)
    assert trainer._step_graph.captures == 2
    assert trainer._static_indices.shape[0] == 2
    assert all(math.isfinite(v) for v in trainer.acc.sums.tolist())


def test_a_failed_capture_falls_back_to_eager_steps_and_says_why(tmp_path, monkeypatch):
    # A host read inside the step cannot be captured: the trainer must carry on eagerly.
    real_readout = objectives.readout

    def syncing_readout(loss, logits):
        return torch.tensor(real_readout(loss, logits).item(), device=logits.device)

    monkeypatch.setattr(objectives, "readout", syncing_readout)
    trainer = _trainer(tmp_path)
    _steps(trainer, GRAPH_WARMUP_STEPS + 4)
    assert trainer._step_graph is None
    assert any(n.startswith("CUDA graph: off (capture failed:") for n in trainer.speed_notes)
    assert trainer.acc.count == GRAPH_WARMUP_STEPS + 4
    assert all(math.isfinite(v) for v in trainer.acc.sums.tolist())
    assert not trainer.opt_G.param_groups[0]["capturable"]


def test_a_graph_run_saves_samples_and_checkpoints_and_resumes_on_the_cpu(tmp_path):
    run = tmp_path / "run"
    observer = CollectingObserver()
    final = Trainer(_cuda_config(**{"train.steps": 8}), run_dir=run, observer=observer).run()
    assert isinstance(final, TrainingFinished), getattr(final, "details", "")
    assert [m.step for m in observer.of_type(StepMetrics)] == [2, 4, 6, 8]
    resumed = Trainer(make_tiny_config(**{"train.steps": 10}), run_dir=run, resume=True).run()
    assert isinstance(resumed, TrainingFinished), getattr(resumed, "details", "")
    assert resumed.step == 10
    back = Trainer(_cuda_config(**{"train.steps": 14}), run_dir=run, resume=True).run()
    assert isinstance(back, TrainingFinished), getattr(back, "details", "")


@pytest.mark.parametrize("overrides", [
    {"optim.ema": True, "objective.g_steps": 2},
    {"model.conditional": True, "objective.loss": "hinge"},
    {"objective.diffaugment": "color,translation,cutout"},
    {"objective.loss": "wgan-gp", "objective.d_steps": 2},
    {"objective.r1_gamma": 10.0},
    {"model.spectral_norm": True, "objective.loss": "lsgan"},
    {"data.name": "ring", "model.architecture": "mlp", "model.g_width": 16},
    {"train.precision": "fp32"},
], ids=["ema-k2", "conditional", "diffaugment", "wgan-gp", "r1", "spectral-norm", "points",
        "fp32"])
def test_every_option_trains_on_the_fast_path(tmp_path, overrides):
    observer = CollectingObserver()
    trainer = Trainer(_cuda_config(**{**overrides, "train.steps": 10}), run_dir=tmp_path,
                      observer=observer)
    final = trainer.run()
    assert isinstance(final, TrainingFinished), (overrides, getattr(final, "details", ""))
    metrics = observer.of_type(StepMetrics)
    assert len(metrics) == 5
    for m in metrics:
        assert math.isfinite(m.d_loss) and math.isfinite(m.g_loss), overrides
    # Captured, or fallen back with a reason: never silently neither.
    graph_notes = [n for n in trainer.speed_notes if n.startswith("CUDA graph:")]
    assert len(graph_notes) == 1
    print(overrides, graph_notes[0])
    if trainer._step_graph is not None:
        assert trainer._step_graph.captures == 1
    if overrides.get("optim.ema"):
        assert trainer.ema.updates == 20


def test_the_bench_runs_on_cuda_with_the_graph():
    from ganstudio.bench import BenchOptions, run_bench

    result = run_bench(BenchOptions(image_size=32, batch_size=16, width=8, nz=16, device="cuda",
                                    steps=5, windows=2, warmup=6, images=64, folder_images=32))
    assert result["device"].startswith("cuda")
    ours = next(v for v in result["variants"] if v["name"] == "ganstudio")
    assert any(n.startswith("CUDA graph: whole") for n in ours["notes"]), ours["notes"]
    assert result["ratio"] > 0


def test_a_dataset_too_large_for_the_gpu_is_fed_from_host_memory(tmp_path):
    from ganstudio.data.base import ImageBatchSampler

    trainer = _trainer(tmp_path, **{"model.conditional": True})
    assert trainer.sampler.resident  # the tiny set fits
    trainer.sampler = ImageBatchSampler(trainer.dataset, trainer.config.train.batch_size,
                                        seed=0, device=trainer.device, resident=False)
    assert trainer.sampler.images.device.type == "cpu"
    _steps(trainer, GRAPH_WARMUP_STEPS + 3)
    assert trainer._step_graph is not None and trainer._step_graph.captures == 1
    assert trainer._static_images.dtype == torch.uint8 and trainer._static_labels is not None
    assert all(math.isfinite(v) for v in trainer.acc.sums.tolist())
