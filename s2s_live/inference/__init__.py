"""Stage 5, inference: models over the features.

The model host and ONNX processors (host), model cards (card), the musicnn taggers and their front end (taggers),
the rule-based emotion baseline (emotion_rules), instrument and vocal words from the tags (instruments).

May import: everything below: errors, processor, stats, config, labels, dsp, capture, frames, features.
"""

from .host import (  # noqa: F401  the stage's public API
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
    ModelSlot,
    ModelHost,
    host_of,
    default_processors,
)
