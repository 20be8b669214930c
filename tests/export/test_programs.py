"""Our generators exported as torch.export archives and ONNX reproduce our output."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganstudio.engine.sampling import GeneratorSource, latent_batch, render
from ganstudio.export.programs import export_program

from .tiny_generators import tiny_source


def _ours(source, z, labels=None) -> torch.Tensor:
    with torch.inference_mode():
        return source.build()(z, labels)


@pytest.mark.parametrize("classes", [(), ("a", "b", "c")])
def test_a_pt2_export_opens_back_and_draws_the_same_images(tmp_path, classes):
    source = tiny_source(class_names=classes, step=77)
    path = export_program(source, tmp_path / "g.pt2")
    back = GeneratorSource.open(path)
    assert back.is_program and back.nz == source.nz and back.step == 77
    assert back.spec.out_shape == source.spec.out_shape
    assert back.metadata["output_range_note"] == "stated by the file"
    assert back.class_names == classes
    z = latent_batch(source.nz, range(5))
    labels = torch.tensor([0, 1, 2, 1, 0]) if classes else None
    with torch.inference_mode():
        got = back.build()(z, labels)
    torch.testing.assert_close(got, _ours(source, z, labels), rtol=0, atol=1e-6)
    assert np.abs(render(back.build(), z, labels).astype(int)
                  - render(source.build(), z, labels).astype(int)).max() <= 1


def test_an_onnx_export_runs_in_onnxruntime_and_matches(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    import onnx

    source = tiny_source()
    path = export_program(source, tmp_path / "g.onnx")
    model = onnx.load(str(path))
    meta = json.loads({p.key: p.value for p in model.metadata_props}["ganstudio"])
    assert meta["nz"] == source.nz and meta["generator_sha256"] == source.sha256
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for count in (1, 7):                                  # any batch size
        z = latent_batch(source.nz, range(count))
        out = session.run(["images"], {"z": z.numpy()})[0]
        np.testing.assert_allclose(out, _ours(source, z).numpy(), rtol=0, atol=1e-5)


def test_only_pt2_and_onnx_and_only_our_generators(tmp_path):
    with pytest.raises(ValueError, match=r"\.pt2 \(torch.export\) or \.onnx"):
        export_program(tiny_source(), tmp_path / "g.zip")
    program = GeneratorSource.open(export_program(tiny_source(), tmp_path / "g.pt2"))
    with pytest.raises(ValueError, match="already an exported program"):
        export_program(program, tmp_path / "again.pt2")
