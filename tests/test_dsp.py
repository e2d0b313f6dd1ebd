"""DSP kernels: numba real FFT and the streaming STFT core against numpy/librosa."""

from __future__ import annotations

import numpy as np
import pytest

from s2s_live.dsp.fft import RFFTPlan, rfft
from s2s_live.dsp.spectral import (COL_BANDWIDTH, COL_CENTROID, COL_CHROMA, COL_CONTRAST, COL_FLATNESS, COL_MFCC,
                                   COL_RMS, COL_ROLLOFF, COL_ZCR, SpectralStream)

SR = 22050


@pytest.mark.parametrize("n", [4, 64, 1024, 2048])
def test_rfft_matches_numpy(n):
    x = np.random.default_rng(n).standard_normal(n)
    ref = np.fft.rfft(x)
    assert np.max(np.abs(rfft(y=x, plan=RFFTPlan(n)) - ref)) <= 1e-12 * np.max(np.abs(ref))


def test_rfft_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_fft"):
        RFFTPlan(1000)
    with pytest.raises(ValueError, match="n_fft=8"):
        rfft(y=np.zeros(4), plan=RFFTPlan(8))


@pytest.mark.parametrize("block", [256, 512, 1000, 5512])
def test_stream_columns_match_librosa(block):
    import librosa

    rng = np.random.default_rng(block)
    t = np.arange(3 * SR) / SR
    y = (0.3 * np.sin(2 * np.pi * (200 + 300 * t) * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    core = SpectralStream(history=5.0)
    core.warmup()
    for i in range(0, y.size, block):
        core.push(y[i:i + block])
    y64 = y.astype(np.float64)
    S = np.abs(librosa.stft(y64))
    m = np.arange(2, core.next_col)  # columns with no zero padding at the stream start
    F = np.array([core.row(k) for k in m]).T
    checks = {
        COL_CENTROID: librosa.feature.spectral_centroid(S=S, sr=SR)[0],
        COL_BANDWIDTH: librosa.feature.spectral_bandwidth(S=S, sr=SR)[0],
        COL_ROLLOFF: librosa.feature.spectral_rolloff(S=S, sr=SR)[0],
        COL_FLATNESS: librosa.feature.spectral_flatness(S=S)[0],
        COL_ZCR: librosa.feature.zero_crossing_rate(y64)[0],
        COL_RMS: librosa.feature.rms(y=y64, dtype=np.float64)[0],
    }
    for col, ref in checks.items():
        np.testing.assert_allclose(F[col], ref[m], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(F[COL_CHROMA:COL_CHROMA + 12], librosa.feature.chroma_stft(S=S**2, tuning=0.0)[:, m],
                               rtol=1e-9, atol=1e-12)
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=S**2, sr=SR), top_db=None)
    np.testing.assert_allclose(F[COL_MFCC:COL_MFCC + 20], librosa.feature.mfcc(S=mel_db, n_mfcc=20)[:, m],
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(F[COL_CONTRAST:COL_CONTRAST + 7], librosa.feature.spectral_contrast(S=S, sr=SR)[:, m],
                               rtol=1e-6, atol=1e-6)


def test_push_checks_input():
    core = SpectralStream(history=2.0)
    with pytest.raises(TypeError, match="float32"):
        core.push(np.zeros(10))
    with pytest.raises(ValueError, match="history"):
        core.push(np.zeros(10 * SR, np.float32))
