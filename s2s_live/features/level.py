"""Level: the dBFS-to-0..1 scale every level-like output uses, and the one-second level processor.

* :data:`DB_FLOOR` (-60 dBFS) maps to 0 and 0 dBFS to 1 on the 0..1 level scales (:func:`db_to_unit`).
* :class:`LevelProcessor` — ``features/rms`` (0..1), ``features/peak`` (0..1) and ``features/dbfs``
  (-120..0) of the one-second frame at 22050 Hz.
"""

from __future__ import annotations

import numpy as np

from ..processor import Output, Processor

DB_FLOOR = -60.0  #: dBFS mapped to 0 on the 0..1 level scales; 0 dBFS maps to 1
_EPS = 1e-10  #: floor added before a log (amplitude or power)


def db_to_unit(db: float) -> float:
    """Map dBFS (DB_FLOOR..0) to 0..1, clipped."""
    return float(min(1.0, max(0.0, (db - DB_FLOOR) / -DB_FLOOR)))


class LevelProcessor(Processor):
    """RMS (0..1), peak (0..1) and dBFS (-120..0) of the one-second frame."""

    name = "level"
    outputs = (
        Output("features/rms", range=(0.0, 1.0), doc="RMS of the last second (full scale = 1)"),
        Output("features/peak", range=(0.0, 1.0), doc="absolute peak of the last second"),
        Output("features/dbfs", range=(-120.0, 0.0), unit="dBFS", doc="RMS in dB full scale"),
    )

    def process(self, frame):
        y = frame.y22
        rms = float(np.sqrt(np.dot(y, y) / y.shape[0]))
        peak = float(np.max(np.abs(y)))
        db = min(0.0, max(-120.0, 20.0 * np.log10(rms + _EPS)))
        # input beyond full scale (float files, up to the +-32 clamp) reads as full scale, like peak
        return {"features/rms": min(1.0, rms), "features/peak": min(1.0, peak), "features/dbfs": float(db)}
