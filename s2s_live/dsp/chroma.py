"""Spectral-peak chroma with tuning estimation, for key finding.

The recipe's chroma (``librosa.feature.chroma_stft(tuning=0)`` on 2048-point frames) is a model
input and stays as it is; it is a poor key front end: at 22050 Hz a 2048-point bin is 10.8 Hz
wide, wider than a semitone below ~190 Hz, the tuning is fixed at A440 and every harmonic of a
note adds to its own pitch class (the 3rd harmonic of C is G), which pulls keys a fifth up.

:func:`spectral_peaks` finds the strongest local maxima of one Hann-windowed long frame (8192
points = 0.37 s at 22050 Hz, 2.7 Hz bins) with parabolic interpolation on log magnitude, as
Essentia's ``SpectralPeaks`` does. :func:`peak_tuning` is the magnitude-weighted circular mean
of the peaks' deviations from the equal-tempered A440 grid (as a complex sum, so frames can be
accumulated). :func:`peak_chroma` folds the peaks into 12 pitch classes after removing the
tuning, with a cos² weight of the distance to the nearest semitone (1-semitone window) and, as
Essentia's ``HPCP(harmonics=...)``, each peak also counted as the h-th harmonic of f/h with
weight ``harmonic_decay ** (h - 1)``, which puts a note's overtones back on its own pitch class.
"""

from __future__ import annotations

import numpy as np

A4 = 440.0  #: reference of the equal-tempered grid (Hz)


def spectral_peaks(*, y: np.ndarray, sr: int, window: np.ndarray, fmin: float = 60.0, fmax: float = 5000.0,
                   n_peaks: int = 60, threshold_db: float = -60.0) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and magnitudes of the ``n_peaks`` strongest spectral peaks of one frame.

    ``y`` is one frame (len(window) samples); peaks are local maxima of |rfft(y * window)| with
    fmin <= f < fmax and within ``threshold_db`` of the frame's strongest peak, frequency and
    magnitude refined by a parabola through the log magnitudes of the 3 bins around each.
    Returns two empty arrays for a silent frame.
    """
    n_fft = window.shape[0]
    mag = np.abs(np.fft.rfft(np.asarray(y, np.float64) * window))
    lo = max(1, int(fmin * n_fft / sr))
    hi = min(mag.shape[0] - 1, int(np.ceil(fmax * n_fft / sr)))
    seg = mag[lo - 1: hi + 1]
    k = np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:])) + lo
    if k.size == 0 or mag[k].max() <= 1e-9:
        return np.zeros(0), np.zeros(0)
    k = k[mag[k] >= mag[k].max() * 10.0 ** (threshold_db / 20.0)]
    if k.size > n_peaks:
        k = k[np.argpartition(mag[k], -n_peaks)[-n_peaks:]]
    a, b, c = (np.log(mag[k - 1] + 1e-12), np.log(mag[k] + 1e-12), np.log(mag[k + 1] + 1e-12))
    den = a - 2.0 * b + c
    off = np.where(den < 0.0, 0.5 * (a - c) / np.where(den < 0.0, den, -1.0), 0.0)
    return (k + off) * sr / n_fft, np.exp(b - 0.25 * (a - c) * off)


def _semitones(freqs: np.ndarray) -> np.ndarray:
    """MIDI pitch (A4 = 69) of frequencies in Hz."""
    return 12.0 * np.log2(freqs / A4) + 69.0


def peak_tuning(*, freqs: np.ndarray, mags: np.ndarray) -> complex:
    """Magnitude-weighted sum of exp(2πi·d), d the peaks' deviation from the A440 grid.

    Sum the values of many frames and take ``np.angle(z) / (2π)`` for the tuning in semitones
    (-0.5..0.5; +0.3 = 30 cents sharp). 0 for no peaks.
    """
    if freqs.size == 0:
        return 0j
    p = _semitones(freqs)
    return complex(np.sum(mags * np.exp(2j * np.pi * (p - np.round(p)))))


def peak_chroma(*, freqs: np.ndarray, mags: np.ndarray, tuning: float = 0.0, harmonics: int = 4,
                harmonic_decay: float = 0.8, out: np.ndarray | None = None) -> np.ndarray:
    """12-bin pitch-class profile (C first) of spectral peaks, magnitude weighted, not normalised.

    ``tuning`` is in semitones (-0.5..0.5), subtracted before folding; ``harmonics`` (>= 1) counts
    each peak also as harmonic 2..harmonics of f/h with weight ``harmonic_decay ** (h - 1)``.
    Writes into ``out`` (length 12) when given and returns it.
    """
    if out is None:
        out = np.zeros(12)
    out[:] = 0.0
    if freqs.size == 0:
        return out
    p = _semitones(freqs) - tuning
    for h in range(1, harmonics + 1):
        q = p - 12.0 * np.log2(h)
        r = np.round(q)
        w = np.cos(np.pi * (q - r)) ** 2 * (harmonic_decay ** (h - 1)) * mags
        np.add.at(out, r.astype(np.int64) % 12, w)
    return out
