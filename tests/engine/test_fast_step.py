"""GAN Studio's fast step computes the same update as the canonical PyTorch DCGAN step.

The canonical step (``ganstudio.bench.CanonicalDCGAN``: Sigmoid + BCELoss, separate real/fake
backward passes, D's weight gradients computed in the G update too, for-loop Adam, NCHW) and
:meth:`Trainer.train_step` (logits, one D backward, D frozen for the G update, fused Adam,
channels_last) start from the same weights and see the same data and the same z; after a few
steps every parameter and BatchNorm statistic agrees to float32 rounding.
"""

from __future__ import annotations

import pytest
import torch

from ganstudio.bench import CanonicalDCGAN
from ganstudio.engine.trainer import EMA, Trainer

from .conftest import make_tiny_config

STEPS = 4
NZ, WIDTH, BATCH, SIZE = 16, 8, 8, 32


class _FixedBatches:
    """A sampler that hands out given batches (what both steps see)."""

    def __init__(self, batches):
        self.batches = list(batches)

    def next(self):
        return self.batches.pop(0), None


def _trainer(tmp_path, **overrides) -> Trainer:
    config = make_tiny_config(**{"model.nz": NZ, "model.g_width": WIDTH, "model.d_width": WIDTH,
                                 "train.batch_size": BATCH, "train.precision": "fp32",
                                 **overrides})
    trainer = Trainer(config, run_dir=tmp_path / "run", threaded_observer=False)
    trainer._setup()
    return trainer


def _copy_weights(canonical: CanonicalDCGAN, trainer: Trainer) -> None:
    pairs = [(canonical.netG, trainer.G), (canonical.netD, trainer.D)]
    with torch.no_grad():
        for plain, ours in pairs:
            plain_tensors = list(plain.parameters()) + list(plain.buffers())
            our_tensors = list(ours.parameters()) + list(ours.buffers())
            assert [t.shape for t in plain_tensors] == [t.shape for t in our_tensors]
            for a, b in zip(plain_tensors, our_tensors):
                a.copy_(b)


@pytest.mark.parametrize("layout,paired", [("on", True), ("off", True), ("on", False)],
                         ids=["channels-last", "nchw", "two-d-passes"])
def test_the_fast_step_computes_the_canonical_update(tmp_path, layout, paired):
    trainer = _trainer(tmp_path, **{"train.channels_last": layout})
    assert trainer.channels_last is (layout == "on")
    assert trainer.pair_discriminator  # the default for DCGAN; both forms are checked
    trainer.pair_discriminator = paired
    canonical = CanonicalDCGAN(image_size=SIZE, nz=NZ, width=WIDTH)
    _copy_weights(canonical, trainer)

    g = torch.Generator().manual_seed(7)
    reals = [torch.rand(BATCH, 3, SIZE, SIZE, generator=g) * 2 - 1 for _ in range(STEPS)]
    zs = [torch.randn(BATCH, NZ, generator=g) for _ in range(STEPS)]
    trainer.sampler = _FixedBatches(reals)
    latents = iter(zs)
    trainer._latent = lambda count, generator=None, device=None: next(latents).clone()

    plain_losses = []
    for step in range(STEPS):
        plain_losses.append(canonical.step(reals[step], zs[step].view(BATCH, NZ, 1, 1)))
        trainer.train_step(measure_grad_norms=step == STEPS - 1)

    for name, plain, ours in (("G", canonical.netG, trainer.G), ("D", canonical.netD, trainer.D)):
        for (key, a), b in zip(plain.state_dict().items(), ours.state_dict().values()):
            # Different summation orders (one backward vs two, logits vs sigmoid) leave float32
            # rounding differences (measured: at most 2e-7 after 10 steps).
            torch.testing.assert_close(b.float(), a.float(), rtol=1e-5, atol=1e-6,
                                       msg=f"{name}.{key} differs after {STEPS} steps")
    # The trainer's on-device sums hold the same losses the canonical step printed.
    sums = trainer.acc.sums.tolist()
    assert trainer.acc.count == STEPS
    assert sums[0] == pytest.approx(sum(r["loss_d"] for r in plain_losses), rel=1e-4)
    assert sums[1] == pytest.approx(sum(r["loss_g"] for r in plain_losses), rel=1e-4)
    assert sums[2] == pytest.approx(sum(r["d_x"] for r in plain_losses), rel=1e-4)
    assert sums[3] == pytest.approx(sum(r["d_g_z1"] for r in plain_losses), rel=1e-4)
    assert trainer._grad_norms.min().item() > 0


def test_the_step_through_static_buffers_equals_the_plain_eager_step(tmp_path):
    # What a CUDA graph replays (indices and EMA weights fed into static buffers, batches
    # gathered from them) run eagerly on the CPU: the same update as the ordinary eager step.
    overrides = {"optim.ema": True, "objective.g_steps": 2, "objective.d_steps": 2,
                 "model.conditional": True}
    plain, fed = _trainer(tmp_path / "a", **overrides), _trainer(tmp_path / "b", **overrides)
    for step in range(3):
        torch.manual_seed(100 + step)
        plain.train_step(measure_grad_norms=True)
        torch.manual_seed(100 + step)
        fed._feed_graph()
        fed._step(fed._draw_static, True, fed._static_ema)
        fed.acc.count += 1
    assert fed.ema.updates == plain.ema.updates == 6
    for a, b in zip(plain.G.state_dict().values(), fed.G.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(plain.D.state_dict().values(), fed.D.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(plain.ema.model.state_dict().values(), fed.ema.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)  # lerp vs sub-mul-add rounding
    assert torch.equal(plain.acc.sums, fed.acc.sums)
    assert torch.equal(plain._grad_norms, fed._grad_norms)
    assert plain.sampler.state_dict()["position"] == fed.sampler.state_dict()["position"]


def test_points_go_through_static_buffers_too(tmp_path):
    overrides = {"data.name": "ring", "model.architecture": "mlp", "model.g_width": 8}
    plain, fed = _trainer(tmp_path / "a", **overrides), _trainer(tmp_path / "b", **overrides)
    for step in range(2):
        torch.manual_seed(step)
        plain.train_step()
        torch.manual_seed(step)
        fed._feed_graph()
        fed._step(fed._draw_static, False)
    for a, b in zip(plain.G.parameters(), fed.G.parameters()):
        assert torch.equal(a, b)


def test_ema_weight_from_a_device_scalar_matches_the_host_weight():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4))
    host, device = EMA(model, 0.9), EMA(model, 0.9)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    host.update(model)
    device.update(model, torch.tensor(device.next_weight()))
    assert host.updates == device.updates == 1
    for a, b in zip(host.model.parameters(), device.model.parameters()):
        torch.testing.assert_close(a, b)


def test_speed_notes_say_what_the_cpu_path_uses(tmp_path):
    trainer = _trainer(tmp_path)
    notes = " | ".join(trainer.speed_notes)
    assert "precision: fp32" in notes
    assert "optimiser: fused Adam" in notes
    assert "memory layout: channels_last" in notes
    assert "CUDA graph: off (not CUDA)" in notes
    assert "CPU threads:" in notes
    off = _trainer(tmp_path / "off", **{"train.channels_last": "off"})
    assert any(n == "memory layout: NCHW (train.channels_last = off)" for n in off.speed_notes)
    assert not off.channels_last
    assert off.G.main[0].weight.is_contiguous()
    assert trainer.D.main[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_optimiser_state_from_a_captured_gpu_run_resumes_on_the_cpu(tmp_path):
    # A CUDA-graph run saves tensor learning rates and capturable=True; a CPU resume must
    # reset both (CPU Adam refuses capturable=True) and keep the config's learning rates.
    from ganstudio.engine.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
    from ganstudio.engine.events import TrainingFinished

    run = tmp_path / "run"
    first = Trainer(make_tiny_config(**{"train.steps": 3}), run_dir=run)
    assert isinstance(first.run(), TrainingFinished)
    path = latest_checkpoint(run / "checkpoints")
    state = load_checkpoint(path)
    for key in ("opt_G", "opt_D"):
        for group in state[key]["param_groups"]:
            group["lr"] = torch.tensor(group["lr"])
            group["capturable"] = True
    save_checkpoint(path, state)
    config = make_tiny_config(**{"train.steps": 5, "optim.lr_g": 3e-4})
    resumed = Trainer(config, run_dir=run, resume=True)
    final = resumed.run()
    assert isinstance(final, TrainingFinished), getattr(final, "details", "")
    assert final.step == 5
    group = resumed.opt_G.param_groups[0]
    assert group["capturable"] is False and group["lr"] == pytest.approx(3e-4)
    assert not isinstance(group["lr"], torch.Tensor)


@pytest.mark.parametrize("norm,classes", [("batch", 0), ("instance", 0), ("layer", 0),
                                          ("none", 0), ("batch", 3)])
def test_a_paired_discriminator_pass_equals_two_calls(norm, classes):
    import copy

    from ganstudio.models import build_discriminator

    torch.manual_seed(0)
    paired = build_discriminator("dcgan", (3, 32, 32), width=8, num_classes=classes, norm=norm)
    paired.to(memory_format=torch.channels_last)
    single = copy.deepcopy(paired)
    real = torch.randn(6, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    fake = torch.randn(6, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    labels = (torch.randint(classes, (6,)), torch.randint(classes, (6,))) if classes else (None,
                                                                                          None)
    a_real, a_fake = paired.forward_pair(real, fake, *labels)
    b_real, b_fake = single(real, labels[0]), single(fake, labels[1])
    torch.testing.assert_close(a_real, b_real, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a_fake, b_fake, rtol=1e-5, atol=1e-6)
    (a_real.sum() - a_fake.square().sum()).backward()
    (b_real.sum() - b_fake.square().sum()).backward()
    for (name, p), q in zip(paired.named_parameters(), single.parameters()):
        # Weight gradients summed over 12 samples at once vs 6 + 6: float32 rounding only.
        scale = q.grad.abs().max().item()
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-5 * scale, msg=name)
    for (name, x), y in zip(paired.named_buffers(), single.buffers()):
        torch.testing.assert_close(x, y, rtol=1e-6, atol=1e-7, msg=name)  # running stats


def test_a_dataset_kept_in_host_memory_gives_the_same_batches_and_updates(tmp_path):
    # A dataset too large for the GPU stays in host memory; batches, and so training, are the
    # same as from a resident one, eagerly and through the graph's static buffers.
    from ganstudio.data.base import ImageBatchSampler, fits_on_device

    assert fits_on_device(10**12, torch.device("cpu"))
    overrides = {"model.conditional": True, "objective.d_steps": 2}
    resident, host, fed = (_trainer(tmp_path / name, **overrides) for name in "abc")
    for trainer, keep in ((host, False), (fed, False)):
        trainer.sampler = ImageBatchSampler(trainer.dataset, BATCH, seed=0,
                                            device=torch.device("cpu"), resident=keep)
        assert not trainer.sampler.resident
    assert resident.sampler.resident
    for step in range(3):
        for trainer in (resident, host):
            torch.manual_seed(step)
            trainer.train_step()
        torch.manual_seed(step)
        fed._feed_graph()
        fed._step(fed._draw_static, False)
    for other in (host, fed):
        for a, b in zip(resident.D.state_dict().values(), other.D.state_dict().values()):
            assert torch.equal(a, b)
        for a, b in zip(resident.G.parameters(), other.G.parameters()):
            assert torch.equal(a, b)
