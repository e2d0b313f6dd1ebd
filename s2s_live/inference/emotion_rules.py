"""Sound to Something's rule-based valence/arousal, from the live descriptor statistics.

The original thesis mapped descriptors to emotion with fixed rules rather than a trained model:
loud, bright, fast music is aroused; fast, bright music is positive. We keep that mapping as a
second, transparent emotion processor next to the trained model (``emotion/rules``), evaluated on
the same artist-disjoint folds (docs/models.md). Inputs are entries of the GTZAN recipe vector
(``recipe/gtzan``, :data:`s2s_live.features.recipe.GTZAN_FEATURES`) over the rolling window.

Rules (each term clipped to 0..1, weights sum to 1):

* loudness ``L``  = (20·log10(rms_mean) + 40) / 30        (-40 dBFS -> 0, -10 dBFS -> 1)
* brightness ``B`` = (spectral_centroid_mean - 800) / 2700  (800 Hz -> 0, 3500 Hz -> 1)
* pace ``T``       = (tempo - 60) / 120                     (60 BPM -> 0, 180 BPM -> 1)
* arousal = 0.45·L + 0.30·B + 0.25·T
* valence = 0.55·T + 0.25·B + 0.20·(1 - N), N = noisiness (zcr_mean - 0.02) / 0.13

Quadrant words follow Russell: happy (v>=.5, a>=.5), tense (v<.5, a>=.5), sad, calm.
"""

from __future__ import annotations

import math

import numpy as np

from ..labels import QUADRANTS, quadrant
from ..processor import Output, Processor

QUADRANT_WORDS = QUADRANTS  #: the words of :data:`s2s_live.labels.QUADRANTS`


def _unit(x: float) -> float:
    return 0.0 if not math.isfinite(x) else min(1.0, max(0.0, x))


def _index():
    global _N
    from ..features.recipe import GTZAN_FEATURES

    _N = len(GTZAN_FEATURES)
    return {n: GTZAN_FEATURES.index(n) for n in
            ("rms_mean", "spectral_centroid_mean", "tempo", "zero_crossing_rate_mean")}


_IDX: dict[str, int] | None = None
_N = 53


def valence_arousal(*, features: np.ndarray) -> tuple[float, float]:
    """Rule-based (valence, arousal), each 0..1, from one GTZAN recipe vector (53 values, v1)."""
    global _IDX
    if _IDX is None:
        _IDX = _index()
    f = np.asarray(features)
    if f.ndim != 1 or f.shape[0] != _N:
        raise ValueError(f"features must be the {_N}-value GTZAN recipe vector, got shape {f.shape}")
    rms = float(f[_IDX["rms_mean"]])
    loud = _unit((20.0 * math.log10(max(rms, 1e-6)) + 40.0) / 30.0)
    bright = _unit((float(f[_IDX["spectral_centroid_mean"]]) - 800.0) / 2700.0)
    pace = _unit((float(f[_IDX["tempo"]]) - 60.0) / 120.0)
    noise = _unit((float(f[_IDX["zero_crossing_rate_mean"]]) - 0.02) / 0.13)
    arousal = 0.45 * loud + 0.30 * bright + 0.25 * pace
    valence = 0.55 * pace + 0.25 * bright + 0.20 * (1.0 - noise)
    return valence, arousal


class EmotionRulesProcessor(Processor):
    """``emotion/rules`` (valence, arousal 0..1) and ``emotion/rules/label`` from ``recipe/gtzan``.

    Produces nothing until the descriptor stage has put a recipe vector in ``frame.values``.
    """

    name = "emotion_rules"
    outputs = (
        Output("emotion/rules", type="ff", doc="rule-based valence, arousal (0..1) from descriptors"),
        Output("emotion/rules/label", type="s", range=None, labels=QUADRANT_WORDS,
               doc="Russell quadrant word of the rule-based valence/arousal"),
    )

    def __init__(self, key: str = "recipe/gtzan") -> None:
        self.key = key

    def process(self, frame):
        f = frame.values.get(self.key)
        if f is None:
            return {}
        v, a = valence_arousal(features=f)
        return {"emotion/rules": (v, a), "emotion/rules/label": quadrant(v, a)}
