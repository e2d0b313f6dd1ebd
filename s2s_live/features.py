"""Descriptor processors: loudness, spectral shape and the fast stream.

Frame processors (every hop, on :class:`~s2s_live.frames.Frame`):

* :class:`LevelProcessor` — RMS, peak and dBFS of the last second.
* :class:`CentroidProcessor` — spectral centroid of the last second (Hz).

Fast processors (every block group of 256 samples at 22050 Hz):

* :class:`FastStream` — level 0..1, low/mid/high band energies 0..1, onset strength 0..1.
"""

from __future__ import annotations

import numpy as np

from .frames import SR_RECIPE
from .processor import Output, Processor

DB_FLOOR = -60.0  #: dBFS mapped to 0 on the 0..1 level scales; 0 dBFS maps to 1
_EPS = 1e-10


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
        db = max(-120.0, 20.0 * np.log10(rms + _EPS))
        return {"features/rms": rms, "features/peak": min(1.0, peak), "features/dbfs": float(db)}


class CentroidProcessor(Processor):
    """Spectral centroid (Hz) of the last 2048 samples at 22050 Hz (Hann window)."""

    name = "centroid"
    outputs = (Output("features/centroid", range=(0.0, SR_RECIPE / 2), unit="Hz",
                      doc="spectral centroid of the most recent 93 ms"),)

    def __init__(self, n_fft: int = 2048) -> None:
        self.n_fft = n_fft
        self.window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
        self.freqs = np.fft.rfftfreq(n_fft, 1.0 / SR_RECIPE)

    def process(self, frame):
        x = frame.y22[-self.n_fft :] * self.window
        mag = np.abs(np.fft.rfft(x))
        s = float(mag.sum())
        return {"features/centroid": float(np.dot(mag, self.freqs) / s) if s > _EPS else 0.0}


class FastStream(Processor):
    """Level, three band energies and onset strength for every fast block.

    Bands: low 20–250 Hz, mid 250–4000 Hz, high 4–11 kHz, from a 1024-sample Hann window ending
    at the block. Onset strength is the half-wave rectified log-spectral flux, normalised by a
    slowly decaying running maximum to 0..1.
    """

    name = "fast"
    stream = "fast"
    outputs = (
        Output("level", stream="fast", doc="loudness of the block: dBFS mapped -60..0 to 0..1"),
        Output("bands", shape=3, stream="fast", labels=("low", "mid", "high"),
               doc="band energies (dBFS mapped to 0..1): 20-250 Hz, 250-4000 Hz, 4-11 kHz"),
        Output("onset", stream="fast", doc="onset strength (spectral flux, adaptive 0..1)"),
    )

    def __init__(self, n_fft: int = 1024) -> None:
        self.n_fft = n_fft
        self.window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
        f = np.fft.rfftfreq(n_fft, 1.0 / SR_RECIPE)
        self.band_idx = [np.flatnonzero((f >= lo) & (f < hi)) for lo, hi in ((20, 250), (250, 4000), (4000, 11025))]
        self.hist = np.zeros(n_fft, dtype=np.float32)
        self.bands = np.zeros(3, dtype=np.float32)
        self.reset()

    def reset(self) -> None:
        self.hist[:] = 0.0
        self.prev_logmag = np.zeros(self.n_fft // 2 + 1)
        self.flux_max = 1e-3

    def process(self, block):
        m = block.shape[0]
        self.hist[:-m] = self.hist[m:]
        self.hist[-m:] = block
        rms = float(np.sqrt(np.dot(block, block) / m))
        spec = np.abs(np.fft.rfft(self.hist * self.window)) ** 2
        norm = (np.sum(self.window) ** 2) / 2.0  # a full-scale sine in one bin -> 0 dB
        for i, idx in enumerate(self.band_idx):
            e = float(spec[idx].sum()) / norm
            self.bands[i] = db_to_unit(10.0 * np.log10(e + _EPS))
        logmag = np.log1p(100.0 * np.sqrt(spec))
        flux = float(np.maximum(0.0, logmag - self.prev_logmag).mean())
        self.prev_logmag = logmag
        self.flux_max = max(flux, self.flux_max * 0.999)  # ~3 s half-life at 86 blocks/s
        return {
            "level": db_to_unit(20.0 * np.log10(rms + _EPS)),
            "bands": self.bands,
            "onset": min(1.0, flux / self.flux_max),
        }


def default_processors(cfg) -> list[Processor]:
    """The built-in descriptor processors, in run order."""
    return [FastStream(), LevelProcessor(), CentroidProcessor()]
