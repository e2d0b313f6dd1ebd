"""Key and mode: Krumhansl–Kessler profiles, their correlation with a chroma, and the key processor.

* :data:`PITCH_NAMES` (C first), :data:`KEY_NAMES` (12 major then 12 minor keys) and the 24 rotated,
  normalised profiles :data:`KEY_PROFILES`; :func:`key_correlations` correlates a 12-bin chroma
  with them (-1..1). The offline summary uses the same helper on a file's summed evidence.
* :class:`KeyProcessor` — ``key`` ("C major"), ``key/id`` (0..23), ``key/strength`` (-1..1) and the
  internal ``key/chroma`` (tuned spectral-peak chroma times the hop length, s), with tuning
  estimation and hysteresis.
"""

from __future__ import annotations

import numpy as np

from ..dsp.chroma import peak_chroma, peak_tuning, spectral_peaks
from ..frames import SR_RECIPE
from ..labels import Hysteresis
from ..processor import Output, Processor

PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
#: Krumhansl–Kessler key profiles (major, minor), tonic first.
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
KEY_NAMES = tuple(f"{p} major" for p in PITCH_NAMES) + tuple(f"{p} minor" for p in PITCH_NAMES)
KEY_TAU = 30.0  #: KeyProcessor's evidence time constant (s)


def _key_profiles() -> np.ndarray:
    """The 24 rotated Krumhansl–Kessler profiles (rows in KEY_NAMES order), zero-mean, unit norm."""
    prof = []
    for base in (KK_MAJOR, KK_MINOR):
        for k in range(12):
            p = np.roll(base, k)
            prof.append((p - p.mean()) / np.linalg.norm(p - p.mean()))
    return np.array(prof)


KEY_PROFILES = _key_profiles()


def key_correlations(chroma: np.ndarray) -> np.ndarray | None:
    """Correlation (-1..1) of a 12-bin chroma (C first) with each of the 24 key profiles, in
    KEY_NAMES order; None for a flat chroma (no pitched evidence)."""
    v = np.asarray(chroma, np.float64) - float(np.mean(chroma))
    nv = float(np.linalg.norm(v))
    return KEY_PROFILES @ (v / nv) if nv >= 1e-12 else None


class KeyProcessor(Processor):
    """Key and mode: Krumhansl–Schmuckler on a tuned spectral-peak chroma, with hysteresis.

    Each hop, the last ``n_fft`` samples (8192 = 0.37 s at 22050 Hz) give up to 60 spectral peaks
    (:mod:`s2s_live.dsp.chroma`). Their deviation from the A440 grid is accumulated with a
    ``tuning_tau``-second time constant into the tuning estimate (``tuning_cents``, -50..50), and
    their chroma, folded after removing that tuning and with harmonics 2..4 put back on their
    fundamental, is accumulated with a ``tau``-second time constant (weighted by the hop's
    length in seconds, so the hop size does not change the evidence). The accumulated chroma is
    correlated with the 24 rotated Krumhansl–Kessler profiles; the stable key
    (:class:`~s2s_live.labels.Hysteresis`) changes only when another key's correlation leads by
    ``margin`` for ``hold`` seconds, except during the first ``warmup_s`` seconds of pitched
    input, when it follows the best profile. ``key/strength`` is the stable key's correlation
    (-1..1). Temperley's (Kostka–Payne) profiles were tried and agreed less with Essentia on
    4q_train (docs/features.md).
    Until any pitched evidence arrives the key is "C major" with strength 0.
    """

    name = "key"
    outputs = (
        Output("key", type="s", range=None, doc='estimated key, e.g. "A minor"'),
        Output("key/id", type="i", range=(0.0, 23.0), labels=KEY_NAMES,
               doc="key index: 0..11 C..B major, 12..23 C..B minor"),
        Output("key/strength", range=(-1.0, 1.0), doc="correlation of the chroma with the stable key's profile"),
        Output("key/chroma", shape=12, range=None, internal=True, labels=PITCH_NAMES,
               doc="this hop's tuned peak chroma times the hop length (s): summed over a file, its key evidence"),
    )

    def __init__(self, *, tau: float = KEY_TAU, tuning_tau: float = 60.0, margin: float = 0.05, hold: float = 2.0,
                 warmup_s: float = 5.0, n_fft: int = 8192, sr: int = SR_RECIPE) -> None:
        for name, v, lo, hi in (("tau", tau, 0.5, 3600.0), ("tuning_tau", tuning_tau, 0.5, 3600.0),
                                ("margin", margin, 0.0, 1.0), ("hold", hold, 0.0, 3600.0)):
            if not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise ValueError(f"{name}={v!r} is invalid; expected {lo:g}..{hi:g}")
        if n_fft not in (2048, 4096, 8192, 16384) or n_fft > sr:
            raise ValueError(f"n_fft={n_fft!r} is invalid; expected 2048, 4096, 8192 or 16384 (<= sr)")
        self.tau, self.tuning_tau, self.n_fft, self.sr = float(tau), float(tuning_tau), n_fft, sr
        self.warmup_s = float(warmup_s)
        self.window = np.hanning(n_fft + 1)[:-1]
        self.acc = np.zeros(12, np.float64)
        self.chroma = np.zeros(12, np.float64)
        self.stable = Hysteresis(KEY_NAMES, margin=margin, hold=hold)
        self.reset()

    def reset(self) -> None:
        self.acc[:] = 0.0
        self.tz = 0j  # accumulated tuning evidence (complex, see peak_tuning)
        self.evidence = 0.0  # seconds of pitched input accumulated (saturates at tau)
        self.stable.reset()

    @property
    def tuning_cents(self) -> float:
        """The current tuning estimate in cents relative to A440 (-50..50; 0 before evidence)."""
        return float(100.0 * np.angle(self.tz) / (2.0 * np.pi)) if abs(self.tz) > 0.0 else 0.0

    def process(self, frame):
        dt = frame.n_new22 / self.sr
        freqs, mags = spectral_peaks(y=frame.y22[-self.n_fft:], sr=self.sr, window=self.window)
        self.tz = self.tz * np.exp(-dt / self.tuning_tau) + dt * peak_tuning(freqs=freqs, mags=mags)
        peak_chroma(freqs=freqs, mags=mags, tuning=self.tuning_cents / 100.0, out=self.chroma)
        self.chroma *= dt
        self.acc *= np.exp(-dt / self.tau)
        self.acc += self.chroma
        corr = key_correlations(self.acc)
        if corr is None:
            return {"key": "C major", "key/id": 0, "key/strength": 0.0, "key/chroma": self.chroma}
        self.evidence = min(self.tau, self.evidence + dt)
        if self.evidence < self.warmup_s:  # too little evidence to hold on to a key: follow the best
            self.stable.reset()
        k, _ = self.stable.update(corr, frame.time)
        return {"key": KEY_NAMES[k], "key/id": k, "key/strength": float(corr[k]), "key/chroma": self.chroma}


