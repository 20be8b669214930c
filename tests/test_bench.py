"""ganstudio-bench: runs every variant on tiny sizes and reports what docs/performance.md needs."""

from __future__ import annotations

import json

import pytest
import torch

from ganstudio import bench
from ganstudio.bench import BenchOptions, CanonicalDCGAN, CanonicalGenerator, run_bench


def _tiny(**overrides) -> BenchOptions:
    values = dict(image_size=32, batch_size=4, width=4, nz=8, device="cpu", steps=1, windows=2,
                  warmup=1, folder_images=8, images=16)
    values.update(overrides)
    return BenchOptions(**values)


def test_the_json_report_holds_every_variant_side_by_side(capsys):
    code = bench.main(["--image-size", "32", "--batch-size", "4", "--width", "4", "--nz", "8",
                       "--device", "cpu", "--steps", "2", "--windows", "2", "--warmup", "1",
                       "--folder-images", "8", "--images", "16", "--json",
                       "--compare", "train.channels_last=off"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("date", "device", "device_name", "torch", "threads", "interop_threads",
                "model", "batch_size", "image_size", "steps_per_window", "windows", "warmup",
                "variants", "ratio", "ratios", "paired_ratios"):
        assert key in result, key
    assert result["device"] == "cpu" and result["torch"] == torch.__version__
    assert result["model"] == "DCGAN-32" and result["batch_size"] == 4
    names = [v["name"] for v in result["variants"]]
    assert names == ["canonical", "ganstudio", "folder", "ganstudio[train.channels_last=off]"]
    for variant in result["variants"]:
        assert variant["ms_per_step"] > 0 and len(variant["windows_ms"]) == 2
        assert variant["images_per_sec"] == pytest.approx(4 / variant["ms_per_step"] * 1e3)
        assert variant["extra"]["cpu_ms_per_step"] >= 0
    assert result["ratios"]["canonical"] == pytest.approx(1.0)
    assert result["ratio"] == pytest.approx(result["ratios"]["ganstudio"])
    ours = result["variants"][1]
    assert any("CUDA graph: off (not CUDA)" in note for note in ours["notes"])
    assert any("memory layout: NCHW" in note for note in result["variants"][3]["notes"])
    folder = result["variants"][2]
    assert folder["extra"]["files"] == 8 and folder["extra"]["open_seconds"] > 0


def test_the_text_report_names_device_torch_and_ratio(capsys):
    code = bench.main(["--batch-size", "2", "--width", "4", "--nz", "4", "--device", "cpu",
                       "--steps", "1", "--windows", "1", "--warmup", "0", "--images", "8",
                       "--variants", "canonical,ganstudio", "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "torch " + torch.__version__ in out and "CPU" in out
    assert "canonical" in out and "ganstudio" in out and "1.00x" in out


def test_bad_arguments_are_refused_naming_the_flag(capsys):
    assert bench.main(["--variants", "canonical,nope", "--device", "cpu"]) == 2
    assert "--variants" in capsys.readouterr().err
    assert bench.main(["--batch-size", "0"]) == 2
    assert "--batch-size" in capsys.readouterr().err
    assert bench.main(["--set", "train.precision=fp64", "--device", "cpu",
                       "--variants", "ganstudio", "--images", "8"]) == 2
    assert "train.precision" in capsys.readouterr().err


def test_run_bench_restores_the_thread_count():
    before = torch.get_num_threads()
    result = run_bench(_tiny(threads=1, variants=("canonical", "ganstudio")))
    assert torch.get_num_threads() == before
    assert [v["threads"] for v in result["variants"]] == [1, 1]


def test_the_canonical_model_is_the_pytorch_example_at_64_pixels():
    # Same module names and shapes as the example's netG, which GAN Studio's generator loads.
    from ganstudio.models import DCGANGenerator

    example = CanonicalGenerator(nz=100, ngf=64, nc=3, image_size=64).state_dict()
    ours = DCGANGenerator(100, 64, 3, 64).state_dict()
    assert list(example) == list(ours) and len([k for k in example if k.endswith("weight")]) == 9
    assert all(example[k].shape == ours[k].shape for k in example)
    model = CanonicalDCGAN(image_size=64, nz=100, width=64)
    assert isinstance(model.netD.main[-1], torch.nn.Sigmoid)
    values = model.step(torch.rand(2, 3, 64, 64) * 2 - 1)
    assert set(values) == {"loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2"}
