"""The metrics benchmark script runs end to end on tiny sizes."""

from __future__ import annotations

from ganstudio.metrics import bench


def test_metrics_bench_smoke(capsys):
    bench.main(["--n", "300", "--dim", "16", "--kid-subsets", "2", "--kid-subset-size", "100",
                "--pr-samples", "200", "--extractor", "random-conv-v1"])
    out = capsys.readouterr().out
    for label in ("feature_statistics", "frechet_distance from two feature arrays", "KID 2 subsets",
                  "precision_recall k=3, 200 per set", "random-conv-v1 features"):
        assert label in out
