"""Stage 5, inference: models over the features.

The ONNX processor and model cards (onnx, card), the model host with hot-swappable slots (host),
the musicnn taggers and their front end (taggers), the rule-based emotion baseline (emotion_rules),
instrument and vocal words from the tags (instruments).

May import: base, dsp, capture, frames, features.
"""

from .onnx import (  # noqa: F401  the stage's public API
    DEFAULT_SLOTS,
    WARMUP_RUNS,
    WARMUP_BUDGET_S,
    DEFAULT_MARGIN,
    DEFAULT_HOLD,
    DEFAULT_FAST,
    MAX_CONTEXT_S,
    RollingMean,
    make_session,
    OnnxProcessor,
)
from .host import (  # noqa: F401  the stage's public API
    ModelSlot,
    ModelHost,
    host_of,
    default_processors,
)
