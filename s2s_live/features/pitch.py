"""Pitch: YIN fundamental frequency and voicing of the newest 93 ms.

:class:`PitchProcessor` sends ``features/f0`` (Hz, 50..1000 by default, 0 when unvoiced) and
``features/voicing`` (0..1, 1 - YIN aperiodicity); :func:`_yin` is its numba kernel.
"""

from __future__ import annotations

import numba
import numpy as np

from ..frames import SR_RECIPE
from ..processor import Output, Processor


@numba.njit(cache=True, nogil=True)
def _yin(x, tau_min, tau_max, threshold, d):  # pragma: no cover
    """YIN on x (len >= W + tau_max, W = len - tau_max): returns (period in samples, aperiodicity).

    period 0 means unvoiced. d is a work buffer of len tau_max + 2.
    """
    w = x.shape[0] - tau_max - 1
    d[0] = 1.0
    run = 0.0
    for tau in range(1, tau_max + 2):
        a = 0.0
        for j in range(w):
            df = x[j] - x[j + tau]
            a += df * df
        run += a
        d[tau] = a * tau / run if run > 0.0 else 1.0
    best = -1
    for tau in range(tau_min, tau_max + 1):
        if d[tau] < threshold:
            while tau + 1 <= tau_max and d[tau + 1] < d[tau]:
                tau += 1
            best = tau
            break
    if best < 0:
        mn = 1e300
        for tau in range(tau_min, tau_max + 1):
            if d[tau] < mn:
                mn = d[tau]
                best = tau
        return 0.0, mn
    y0, y1, y2 = d[best - 1], d[best], d[best + 1]
    den = y0 - 2.0 * y1 + y2
    off = 0.5 * (y0 - y2) / den if den > 0.0 else 0.0
    return best + off, d[best]


class PitchProcessor(Processor):
    """f0 (Hz, 0 when unvoiced) and voicing (0..1, 1 - YIN aperiodicity) of the newest 93 ms.

    YIN (de Cheveigné & Kawahara 2002) on the last ``frame_length`` samples at 22050 Hz,
    threshold 0.1, f0 range ``fmin``..``fmax`` (default 50..1000 Hz), parabolic interpolation.
    """

    name = "pitch"
    outputs = (
        Output("features/f0", range=(0.0, 1000.0), unit="Hz", doc="fundamental frequency, 0 when unvoiced"),
        Output("features/voicing", range=(0.0, 1.0), doc="voicing confidence (1 - YIN aperiodicity)"),
    )

    def __init__(self, *, sr: int = SR_RECIPE, fmin: float = 50.0, fmax: float = 1000.0,
                 frame_length: int = 2048, threshold: float = 0.1) -> None:
        if not 20.0 <= fmin < fmax <= sr / 4:
            raise ValueError(f"fmin={fmin!r}, fmax={fmax!r}: need 20 <= fmin < fmax <= sr/4 = {sr / 4}")
        self.sr = sr
        self.tau_min = int(np.floor(sr / fmax))
        self.tau_max = int(np.ceil(sr / fmin))
        if frame_length <= self.tau_max + 64:
            raise ValueError(f"frame_length={frame_length!r} must exceed sr/fmin + 64 = {self.tau_max + 64}")
        self.frame_length = frame_length
        self.threshold = threshold
        self.x = np.zeros(frame_length, np.float64)
        self.d = np.zeros(self.tau_max + 3, np.float64)

    def warmup(self) -> None:
        _yin(self.x, self.tau_min, self.tau_max, self.threshold, self.d)

    def process(self, frame):
        self.x[:] = frame.y22[-self.frame_length:]
        if float(np.max(np.abs(self.x))) < 1e-4:  # silence: unvoiced, skip the search
            return {"features/f0": 0.0, "features/voicing": 0.0}
        period, ap = _yin(self.x, self.tau_min, self.tau_max, self.threshold, self.d)
        voicing = float(min(1.0, max(0.0, 1.0 - ap)))
        f0 = float(self.sr / period) if period > 0.0 else 0.0
        return {"features/f0": f0, "features/voicing": voicing if f0 > 0.0 else min(voicing, 0.5)}

