"""The GTZAN feature recipe: names, version and the librosa reference implementation.

``GTZAN_FEATURES`` are the columns of ``gtzan/features_30_sec.csv`` that the live extractor
(:class:`s2s_live.features.rolling.RecipeStats`, output ``recipe/gtzan``) reproduces over a rolling
window, in CSV column order. :func:`recipe_librosa` computes the same vector with librosa on a
whole clip; it is the reference for parity tests and for training models on audio clips.

Differences from the CSV (documented in docs/features.md; all chosen so the live, incremental
computation can match librosa exactly):

* MFCC and the onset envelope behind ``tempo`` use ``power_to_db(mel, top_db=None)``. librosa's
  defaults (``top_db=80``) clamp every value relative to the *whole clip's* maximum, which no
  running statistic can reproduce. The clamp only changes bins more than 80 dB below the clip's
  loudest bin.
* ``chroma_stft`` uses ``tuning=0.0`` (A440) instead of estimating tuning from the whole clip.
* ``harmony_*``/``perceptr_*`` (HPSS) are excluded: a median-filter HPSS over a whole clip is not
  reproducible incrementally with bounded delay; models must not use them.
* Everything is computed in float64 (the CSV was computed from float32 audio in float32).

The names, order and meaning of ``GTZAN_FEATURES`` and :func:`recipe_librosa` do not change
within a ``GTZAN_RECIPE_VERSION``.
"""

from __future__ import annotations

import numpy as np

GTZAN_RECIPE_ID = "gtzan-stats"
GTZAN_RECIPE_VERSION = 1

SR = 22050  #: sample rate of the recipe (Hz)
N_FFT = 2048  #: STFT size of the recipe (samples)
HOP_LENGTH = 512  #: STFT hop of the recipe (samples)
N_MELS = 128
N_MFCC = 20

#: Per-frame descriptors of the recipe whose mean/var over frames form GTZAN_FEATURES.
_SPECTRAL = ("chroma_stft", "rms", "spectral_centroid", "spectral_bandwidth", "rolloff", "zero_crossing_rate")

GTZAN_FEATURES: list[str] = (
    [f"{n}_{s}" for n in _SPECTRAL for s in ("mean", "var")]
    + ["tempo"]
    + [f"mfcc{i}_{s}" for i in range(1, N_MFCC + 1) for s in ("mean", "var")]
)
# 6 x (mean, var) + tempo + 20 x (mean, var) = 53 values (the CSV's 57 minus 4 HPSS stats).
#: HPSS statistics of the CSV that the live extractor does NOT reproduce (never in models).
GTZAN_EXCLUDED: list[str] = ["harmony_mean", "harmony_var", "perceptr_mean", "perceptr_var"]


def recipe_librosa(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """The GTZAN recipe over a whole clip, computed with librosa (the reference).

    Parameters
    ----------
    y : ndarray, 1-D
        Mono audio at ``sr``; at least ``N_FFT`` samples recommended (any length >= 1 works).
    sr : int
        Sample rate in Hz; must be 22050 (the recipe's rate): resample first.

    Returns
    -------
    ndarray, float64, shape (53,)
        Values ordered as :data:`GTZAN_FEATURES`: mean/var over all STFT frames
        (n_fft=2048, hop_length=512, centered, zero-padded) of chroma (over all 12 bins too),
        RMS, centroid (Hz), bandwidth (Hz), 85% rolloff (Hz), zero-crossing rate; librosa's
        tempo (BPM); mean/var of each of 20 MFCCs. Variances are population variances (ddof=0).
    """
    import librosa  # imported lazily: slow to import, not needed while streaming

    if int(sr) != SR:
        raise ValueError(f"sr={sr!r} is not the recipe's rate; expected {SR} (resample first)")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] < 1:
        raise ValueError(f"y must be 1-D mono audio with >= 1 sample, got shape {y.shape}")
    y = np.ascontiguousarray(y, dtype=np.float64)
    kw = dict(n_fft=N_FFT, hop_length=HOP_LENGTH)
    S_mag = np.abs(librosa.stft(y, **kw))
    S_pow = S_mag**2
    chroma = librosa.feature.chroma_stft(S=S_pow, sr=sr, tuning=0.0, **kw)
    rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP_LENGTH)[0]
    cent = librosa.feature.spectral_centroid(S=S_mag, sr=sr, **kw)[0]
    bw = librosa.feature.spectral_bandwidth(S=S_mag, sr=sr, **kw)[0]
    roll = librosa.feature.spectral_rolloff(S=S_mag, sr=sr, **kw)[0]
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP_LENGTH)[0]
    mel = librosa.feature.melspectrogram(S=S_pow, sr=sr, n_mels=N_MELS, **kw)
    mel_db = librosa.power_to_db(mel, top_db=None)
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=N_MFCC)
    onset = librosa.onset.onset_strength(S=mel_db, sr=sr, **kw)
    tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset, sr=sr, hop_length=HOP_LENGTH))[0])
    out: list[float] = []
    for v in (chroma, rms, cent, bw, roll, zcr):
        out += [float(np.mean(v)), float(np.var(v))]
    out.append(tempo)
    for row in mfcc:
        out += [float(np.mean(row)), float(np.var(row))]
    return np.asarray(out, dtype=np.float64)
