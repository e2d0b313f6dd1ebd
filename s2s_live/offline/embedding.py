"""Offline mel DSP (librosa) and the descriptor embedding of each 1-s analysis frame.

* :func:`mel_filterbank`: librosa's Slaney mel filter bank (float64, n_mels x 1 + n_fft // 2);
* :func:`log_mel`: log-mel power spectrogram in dB (n_mels x frames, float32) with librosa's
  STFT (periodic Hann window, no centering), used by the report's spectrogram figure;
* :class:`SegmentEmbedding`: the offline-only processor ``analysis/mel``: mean and standard
  deviation over time of 32 log-mel bands (dB) of the frame, the segment map's fallback embedding.

Nothing here runs in the live audio path (no real-time constraint), so it uses librosa rather
than the numba kernels of :mod:`s2s_live.dsp`.
"""

from __future__ import annotations

import numpy as np

from ..frames import SR_RECIPE
from ..processor import Output, Processor

#: The descriptor embedding (fallback for the segment map when no encoder model is loaded):
#: log-mel band statistics of each 1-s frame, computed by :class:`SegmentEmbedding`.
EMB_MELS = 32
EMB_N_FFT = 1024
EMB_HOP = 512
EMB_OUTPUT = "analysis/mel"
#: Blocks of the descriptor embedding ``desc`` (those present are concatenated; the segment map
#: z-scores every dimension and weights each block by 1/sqrt(its size) so blocks count equally).
DESC_BLOCKS = (EMB_OUTPUT, "features/mfcc", "features/chroma", "features/contrast")
_EPS = 1e-10  #: added to mel power before the log (dB floor -100)


def mel_filterbank(*, sr: int, n_fft: int, n_mels: int = 64, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Slaney-style mel filterbank: librosa's ``filters.mel`` defaults (htk=False, norm="slaney").

    Returns float64 (n_mels, 1 + n_fft // 2). ``sr`` in Hz (> 0), ``n_fft`` samples (>= 16),
    ``n_mels`` 1..512, ``0 <= fmin < fmax <= sr/2`` Hz.
    """
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr={sr!r} is invalid; expected a positive sample rate in Hz")
    if not isinstance(n_fft, (int, np.integer)) or n_fft < 16:
        raise ValueError(f"n_fft={n_fft!r} is invalid; expected an int >= 16")
    if not isinstance(n_mels, (int, np.integer)) or not 1 <= n_mels <= 512:
        raise ValueError(f"n_mels={n_mels!r} is invalid; expected an int in 1..512")
    fmax = sr / 2.0 if fmax is None else float(fmax)
    if not 0.0 <= fmin < fmax <= sr / 2.0:
        raise ValueError(f"fmin={fmin!r}, fmax={fmax!r} are invalid; expected 0 <= fmin < fmax <= {sr / 2}")
    import librosa

    return librosa.filters.mel(sr=int(sr), n_fft=int(n_fft), n_mels=int(n_mels), fmin=float(fmin), fmax=fmax,
                               dtype=np.float64)


def _power_spec(y: np.ndarray, *, n_fft: int, hop_length: int) -> np.ndarray:
    """|STFT|^2 (1 + n_fft // 2, frames) of float32 ``y``: periodic Hann, frames every hop, no centering."""
    import librosa

    return np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window="hann", center=False)) ** 2


def log_mel(*, y: np.ndarray, sr: int, n_fft: int = 2048, hop_length: int = 512, n_mels: int = 96,
            fb: np.ndarray | None = None) -> np.ndarray:
    """Log-mel power spectrogram in dB (n_mels, frames) of mono ``y`` (no centering, Hann window).

    Frames start every ``hop_length`` samples; ``y`` shorter than ``n_fft`` is zero-padded.
    ``fb`` (n_mels x 1 + n_fft // 2) replaces the default :func:`mel_filterbank`.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"y must be mono (1-D), got shape {y.shape}")
    if not isinstance(hop_length, (int, np.integer)) or hop_length < 1:
        raise ValueError(f"hop_length={hop_length!r} is invalid; expected an int >= 1")
    if fb is None:
        fb = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels)
    if not np.isfinite(y).all():  # librosa refuses non-finite audio; the live frames zero it too
        y = np.where(np.isfinite(y), y, np.float32(0.0))
    if y.shape[0] < n_fft:
        y = np.pad(y, (0, n_fft - y.shape[0]))
    n_frames = 1 + (y.shape[0] - n_fft) // hop_length
    out = np.empty((fb.shape[0], n_frames), dtype=np.float32)
    step = 2048  # frames per STFT block: bounds memory on long files (a whole hour would be ~1 GB)
    for s in range(0, n_frames, step):
        e = min(n_frames, s + step)
        spec = _power_spec(y[s * hop_length : (e - 1) * hop_length + n_fft], n_fft=n_fft, hop_length=hop_length)
        out[:, s:e] = (10.0 * np.log10(fb @ spec + _EPS)).astype(np.float32)
    return out


class SegmentEmbedding(Processor):
    """Offline-only descriptor embedding of each one-second frame (internal output ``analysis/mel``).

    The vector is the mean and standard deviation over time of 32 log-mel bands (dB; Hann
    n_fft=1024, hop 512 at 22050 Hz, 42 frames per second): 64 values describing the frame's
    timbre and its movement. It is the segment map's fallback when no ``latent`` (encoder) is
    present; ``s2s_live.offline.similarity`` standardises it across the library.
    """

    name = "analysis-embedding"
    outputs = (Output(EMB_OUTPUT, shape=2 * EMB_MELS, range=None, internal=True, unit="dB",
                      doc="mean and std of 32 log-mel bands over the 1-s frame (offline only)"),)

    def __init__(self) -> None:
        # built once: librosa's melspectrogram would rebuild the filter bank on every hop
        self.fb = mel_filterbank(sr=SR_RECIPE, n_fft=EMB_N_FFT, n_mels=EMB_MELS).astype(np.float32)

    def process(self, frame):
        spec = _power_spec(frame.y22, n_fft=EMB_N_FFT, hop_length=EMB_HOP)
        db = 10.0 * np.log10(self.fb @ spec + _EPS)
        return {EMB_OUTPUT: np.concatenate([db.mean(axis=1), db.std(axis=1)]).astype(np.float32)}
