"""Quality metrics for generated images: the maths and the feature extractors.

* :mod:`ganstudio.metrics.distances` — Fréchet distance (FID when the features come from
  Inception), KID and improved precision/recall, as plain functions on ``(N, D)`` features.
* :mod:`ganstudio.metrics.extractors` — images -> features: ``inception-v3-fid`` (needs the
  pytorch-fid weights file) and the always-available ``random-conv-v1``.

Every value must be kept with the name of the extractor that produced it: values from
different extractors are on unrelated scales and are never mixed. Nothing here imports Qt.
"""

from ganstudio.metrics.distances import (
    KID_SEED,
    KIDResult,
    PrecisionRecall,
    feature_statistics,
    frechet_distance,
    kernel_inception_distance,
    knn_radii,
    precision_recall,
    trace_sqrt_product,
)
from ganstudio.metrics.errors import InceptionWeightsError, MetricsError
from ganstudio.metrics.extractors import (
    DEFAULT_EXTRACTOR,
    EXTRACTORS,
    INCEPTION_NAME,
    INCEPTION_WEIGHTS_FILENAME,
    INCEPTION_WEIGHTS_URL,
    RANDOM_CONV_NAME,
    ExtractorInfo,
    FeatureExtractor,
    InceptionFID,
    RandomConvFeatures,
    get_extractor,
    inception_weights_help,
)

__all__ = [
    "KID_SEED", "KIDResult", "PrecisionRecall", "feature_statistics", "frechet_distance",
    "kernel_inception_distance", "knn_radii", "precision_recall", "trace_sqrt_product",
    "InceptionWeightsError", "MetricsError",
    "DEFAULT_EXTRACTOR", "EXTRACTORS", "INCEPTION_NAME", "INCEPTION_WEIGHTS_FILENAME",
    "INCEPTION_WEIGHTS_URL", "RANDOM_CONV_NAME", "ExtractorInfo", "FeatureExtractor",
    "InceptionFID", "RandomConvFeatures", "get_extractor", "inception_weights_help",
]
