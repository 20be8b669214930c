"""Quality metrics during training: the numbers, their thread, their file lines, their cache."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch

from ganstudio.data import open_dataset
from ganstudio.engine.checkpoint import load_generator_export
from ganstudio.engine.events import CollectingObserver, QualityMetrics, StepMetrics, TrainingFailed
from ganstudio.engine.quality import (
    POINTS_EXTRACTOR,
    QualityEvaluator,
    generate,
    kid_subset_size,
    quality_latents,
    real_subset,
)
from ganstudio.engine.sampling import GeneratorSource
from ganstudio.engine.trainer import Trainer, read_metric_lines, read_metrics, split_metric_lines
from ganstudio.metrics import (
    frechet_distance,
    get_extractor,
    kernel_inception_distance,
    precision_recall,
)
from ganstudio.models import GeneratorSpec, build_generator

from .conftest import make_tiny_config

METRICS = {"metrics.every": 3, "metrics.samples": 40, "metrics.kid_subsets": 5}


def _direct(trainer: Trainer, run_dir, count: int, subsets: int, extractor=None):
    """FD, KID, precision and recall of the run's final generator, computed here from scratch."""
    generator = load_generator_export(run_dir / "generator.safetensors").generator
    cfg = trainer.config
    z, labels = quality_latents(count, cfg.model.nz, cfg.train.seed,
                                cfg.model.latent_distribution, trainer.num_classes)
    fake = generate(generator, z, labels)
    real = real_subset(trainer.dataset, count, cfg.train.seed)
    if extractor is None:
        real_f, fake_f = np.asarray(real, dtype=np.float64), fake.numpy().astype(np.float64)
    else:
        real_f, fake_f = extractor.features(torch.from_numpy(real)), extractor.features(fake)
    kid = kernel_inception_distance(real_f, fake_f, subsets=subsets,
                                    subset_size=kid_subset_size(count))
    pr = precision_recall(real_f, fake_f, k=3)
    return frechet_distance(real_f, fake_f), kid, pr


def test_training_metrics_equal_a_direct_computation_on_the_same_samples(tmp_path):
    observer = CollectingObserver()
    run = tmp_path / "run"
    trainer = Trainer(make_tiny_config(**METRICS), run_dir=run, observer=observer)
    trainer.run()
    results = observer.of_type(QualityMetrics)
    steps = [r.step for r in results]
    assert steps in ([3, 6], [6])   # step 3's may be replaced by 6's on a slow, busy machine
    last = results[-1]
    assert last.extractor == "random-conv-v1" and last.samples == 40 and last.seconds > 0
    fd, kid, pr = _direct(trainer, run, 40, 5, get_extractor("random-conv-v1"))
    assert last.fd == pytest.approx(fd, rel=1e-9)
    assert (last.kid, last.kid_std) == pytest.approx((kid.mean, kid.std), rel=1e-9)
    assert (last.precision, last.recall) == (pr.precision, pr.recall)
    assert last.fd > 0 and last.kid_std > 0   # subsets of half the samples really differ

    # metrics.jsonl: quality lines of their own kind, which loss readers never see.
    lines = split_metric_lines(read_metric_lines(run))
    assert [q["step"] for q in lines["quality"]] == steps
    assert lines["quality"][-1]["extractor"] == "random-conv-v1"
    assert lines["quality"][-1]["fd"] == pytest.approx(last.fd)
    assert [r["step"] for r in read_metrics(run)] == [2, 4, 6]
    assert all("kind" not in r for r in read_metrics(run))


def test_2d_points_are_their_own_features(tmp_path):
    observer = CollectingObserver()
    run = tmp_path / "ring"
    trainer = Trainer(make_tiny_config(**{"data.name": "ring", "train.batch_size": 64,
                                          "metrics.every": 6, "metrics.samples": 200,
                                          "metrics.kid_subsets": 3}),
                      run_dir=run, observer=observer)
    trainer.run()
    (result,) = observer.of_type(QualityMetrics)
    assert result.extractor == POINTS_EXTRACTOR == "points-2d" and result.samples == 200
    fd, kid, pr = _direct(trainer, run, 200, 3)
    assert result.fd == pytest.approx(fd, rel=1e-9)
    assert result.kid == pytest.approx(kid.mean, rel=1e-9)
    assert (result.precision, result.recall) == (pr.precision, pr.recall)


def test_metrics_never_touch_the_training_random_state(tmp_path):
    # A run with an evaluation every 2 steps, on its own thread, trains exactly as one without.
    quiet, busy = CollectingObserver(), CollectingObserver()
    Trainer(make_tiny_config(**{"metrics.enabled": False, "train.steps": 8}),
            run_dir=tmp_path / "off", observer=quiet).run()
    trainer = Trainer(make_tiny_config(**{"metrics.every": 2, "metrics.samples": 30,
                                          "train.steps": 8}),
                      run_dir=tmp_path / "on", observer=busy)
    trainer.run()
    done = [r.step for r in busy.of_type(QualityMetrics)]
    assert done and done[-1] == 8 and not quiet.of_type(QualityMetrics)
    assert sorted(done + trainer.quality.skipped) == [2, 4, 6, 8]  # a busy thread skips
    losses = [[(m.step, m.d_loss, m.g_loss) for m in o.of_type(StepMetrics)]
              for o in (quiet, busy)]
    assert losses[0] == losses[1]


def test_real_features_are_computed_once_per_run_and_reused_on_resume(tmp_path):
    run = tmp_path / "run"
    Trainer(make_tiny_config(**METRICS), run_dir=run).run()
    (cache,) = (run / "quality").glob("real-random-conv-v1-n40.npz")
    stamp = cache.stat().st_mtime_ns
    # Step 3's evaluation may be replaced by step 6's when the thread is still busy (a slow
    # machine): whatever the first run wrote stays, and the resumed run adds step 9.
    first = [q["step"] for q in split_metric_lines(read_metric_lines(run))["quality"]]
    assert first in ([3, 6], [6])
    observer = CollectingObserver()
    Trainer(make_tiny_config(**{**METRICS, "train.steps": 9}), run_dir=run, observer=observer,
            resume=True).run()
    assert [r.step for r in observer.of_type(QualityMetrics)] == [9]
    assert cache.stat().st_mtime_ns == stamp
    assert [q["step"] for q in split_metric_lines(read_metric_lines(run))["quality"]] == [*first, 9]


def test_inception_without_its_weights_file_is_a_clear_error_naming_the_setting(tmp_path):
    config = make_tiny_config(**{"metrics.extractor": "inception-v3-fid",
                                 "metrics.inception_weights": str(tmp_path / "missing.pth")})
    final = Trainer(config, run_dir=tmp_path / "run").run()
    assert isinstance(final, TrainingFailed)
    assert "metrics.inception_weights" in final.message
    assert "pt_inception-2015-12-05-6726825d.pth" in final.message
    assert "missing.pth was not found" in final.message


class _Recorder:
    """Collects results; the first one blocks until released (a slow consumer)."""

    def __init__(self):
        self.release = threading.Event()
        self.first_arrived = threading.Event()
        self.results: list[QualityMetrics] = []

    def __call__(self, result: QualityMetrics) -> None:
        if not self.results:
            self.first_arrived.set()
            self.release.wait(60)
        self.results.append(result)


def test_a_busy_evaluator_never_queues_a_newer_request_replaces_the_waiting_one():
    config = make_tiny_config(**{"data.name": "ring", "metrics.samples": 50})
    spec = GeneratorSpec("mlp", config.model.nz, (2,), 4, 0)
    source = GeneratorSource.from_module(build_generator(spec), spec, step=0, label="G")
    recorder = _Recorder()
    evaluator = QualityEvaluator(config.metrics, open_dataset("ring", image_size=None),
                                 nz=config.model.nz,
                                 num_classes=0, latent_distribution="normal", seed=0,
                                 device=torch.device("cpu"), cache_dir=None, on_result=recorder)
    evaluator.submit(1, source)
    assert recorder.first_arrived.wait(60)
    evaluator.submit(2, source)            # waits...
    evaluator.submit(3, source)            # ...and is replaced by this one
    assert evaluator.skipped == [2]
    recorder.release.set()
    evaluator.close(wait=True)
    assert [r.step for r in recorder.results] == [1, 3]
    assert all(r.extractor == "points-2d" and r.samples == 50 for r in recorder.results)


def test_quality_lines_are_standard_json(tmp_path):
    Trainer(make_tiny_config(**METRICS), run_dir=tmp_path).run()
    for line in (tmp_path / "metrics.jsonl").read_text().splitlines():
        json.loads(line)
        assert "NaN" not in line and "Infinity" not in line
