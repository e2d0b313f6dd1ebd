"""Descriptor processors: librosa parity of the rolling recipe, known answers, no compilation."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from s2s_live.dsp.spectral import SpectralStream
from s2s_live.features import (FastStream, KeyProcessor, PitchProcessor, RecipeStats, SpectralDescriptors,
                               default_processors)
from s2s_live.pipeline import analyze_array
from s2s_live.recipe import GTZAN_FEATURES, recipe_librosa

SR = 22050


def _clicks(bpm: float, seconds: float, sr: int = SR, amp: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    y = np.zeros(int(seconds * sr))
    times = np.arange(0.0, seconds - 0.01, 60.0 / bpm)
    burst = amp * np.hanning(64) * np.sin(2 * np.pi * 2000 * np.arange(64) / sr)
    for t in times:
        i = int(round(t * sr))
        y[i : i + 64] += burst[: y.shape[0] - i]
    return y, times


def _signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    t = np.arange(int(12 * SR)) / SR
    return {
        "sine": 0.5 * np.sin(2 * np.pi * 440.0 * t),
        "chirp": 0.4 * np.sin(2 * np.pi * (100.0 + 400.0 * t) * t),
        "noise": 0.1 * rng.standard_normal(t.size),
        "clicks": _clicks(120.0, 12.0)[0] + 0.01 * rng.standard_normal(t.size),
    }


def _rel(a, b):
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-9)


@pytest.mark.parametrize("hop", [0.1, 0.25, 0.37])
@pytest.mark.parametrize("name", ["sine", "chirp", "noise", "clicks"])
def test_recipe_parity_with_librosa(name, hop):
    y = _signals()[name].astype(np.float32)
    rs = RecipeStats(SpectralStream(history=12.0), window=3.0, tempo_interval=0.0)
    rows = analyze_array(y, SR, [rs], hop=hop)
    for r in (rows[len(rows) // 3], rows[-1]):  # window partly and fully slid
        n = int(round(r["time"] * SR))
        e = (n // 512) * 512
        s = max(0, e - rs.W)
        ref = recipe_librosa(y[s:e].astype(np.float64))
        got = r["recipe/gtzan"]
        assert got.shape == (len(GTZAN_FEATURES),)
        assert np.all(np.isfinite(got))
        err = _rel(got, ref)
        # librosa's rms is float32 internally (dtype=np.float32 default): 1e-4 is ample
        worst = int(np.argmax(err))
        assert err[worst] <= 1e-4, (GTZAN_FEATURES[worst], got[worst], ref[worst])


def test_recipe_parity_10s_window_float32_reference():
    y = _signals()["chirp"].astype(np.float32)
    rs = RecipeStats(SpectralStream(history=12.0), window=10.0, tempo_interval=0.0)
    r = analyze_array(y, SR, [rs], hop=0.25)[-1]
    e = (int(round(r["time"] * SR)) // 512) * 512
    ref32 = recipe_librosa(y[max(0, e - rs.W):e])  # recipe_librosa casts to float64 itself
    assert np.max(_rel(r["recipe/gtzan"], ref32)) <= 1e-3


def test_click_track_tempo_and_beats():
    y, clicks = _clicks(120.0, 20.0)
    y = y.astype(np.float32)
    fs = FastStream()
    fs.warmup()
    beats, bpms = [], []
    for i in range(0, y.shape[0] - 256 + 1, 256):
        out = fs.process(y[i : i + 256])
        if "beat" in out:
            beats.append((i + 256) / SR)  # the block's end time
        bpms.append(out["bpm"])
    assert abs(np.median(bpms[-300:]) - 120.0) <= 2.0
    late = [b for b in beats if 8.0 < b < clicks[-1] + 0.25]
    assert len(late) >= 20
    dist = [np.min(np.abs(clicks - b)) for b in late]
    assert max(dist) <= 0.030, dist
    # the recipe's librosa tempo lives on librosa's lag grid: 117.45 or 123.05 around 120
    rs = RecipeStats(SpectralStream(history=12.0), window=10.0, tempo_interval=0.0)
    r = analyze_array(y, SR, [rs], hop=0.5)[-1]
    assert abs(r["features/tempo"] - 120.0) <= 3.1


def test_a4_sine_f0():
    t = np.arange(3 * SR) / SR
    y = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    rows = analyze_array(y, SR, [PitchProcessor()], hop=0.25)
    for r in rows[2:]:
        assert abs(r["features/f0"] - 440.0) <= 1.0
        assert r["features/voicing"] > 0.9


def test_c_major_progression_key():
    # I-IV-V-I triads in C major (C E G / F A C / G B D / C E G), 2 s each
    def tone(f, t):
        return sum(0.5**h * np.sin(2 * np.pi * f * (h + 1) * t) for h in range(3))

    t = np.arange(2 * SR) / SR
    midi = [(60, 64, 67), (65, 69, 72), (67, 71, 74), (60, 64, 67)] * 2
    y = np.concatenate([sum(tone(440.0 * 2 ** ((m - 69) / 12), t) for m in ch) for ch in midi]) * 0.1
    rows = analyze_array(y.astype(np.float32), SR, [KeyProcessor()], hop=0.25)
    assert rows[-1]["key"] == "C major"
    assert rows[-1]["key/id"] == 0


def test_silence_is_finite_everywhere():
    y = np.zeros(4 * SR, np.float32)
    procs = default_processors(None)
    rows = analyze_array(y, SR, procs, hop=0.25)
    for r in rows:
        for k, v in r.items():
            if isinstance(v, str):
                continue
            assert np.all(np.isfinite(np.asarray(v, dtype=np.float64))), k
    fs = FastStream()
    for _ in range(200):
        out = fs.process(np.zeros(256, np.float32))
        assert all(np.all(np.isfinite(np.asarray(v, dtype=np.float64))) for v in out.values())


def test_fast_stream_level_bands_onset():
    t = np.arange(SR) / SR
    fs = FastStream()
    fs.warmup()
    y = (0.5 * np.sin(2 * np.pi * 100.0 * t)).astype(np.float32)
    for i in range(0, SR - 256, 256):
        out = fs.process(y[i : i + 256])
    # 0.5-amplitude sine: rms -9 dBFS -> (60-9)/60 = 0.85
    assert abs(out["level"] - (60 + 20 * np.log10(0.5 / np.sqrt(2))) / 60) < 0.01
    assert out["bands"][0] > 0.8 and out["bands"][2] < 0.2
    assert 0.0 <= out["onset"] <= 1.0


def test_spectral_descriptors_sine():
    t = np.arange(2 * SR) / SR
    y = (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)
    r = analyze_array(y, SR, [SpectralDescriptors(SpectralStream(history=4.0))], hop=0.25)[-1]
    assert abs(r["features/centroid"] - 1000.0) < 30.0
    assert r["features/mfcc"].shape == (20,)
    assert r["features/band_energy"].shape == (8,)
    assert 0.0 <= r["features/vocal_band"] <= 1.0


def test_no_compilation_while_streaming():
    from s2s_live import features
    from s2s_live.dsp import fft, spectral

    dispatchers = [v for mod in (features, spectral, fft) for v in vars(mod).values()
                   if isinstance(v, numba.core.registry.CPUDispatcher)]
    procs = default_processors(None)
    for p in procs:
        p.warmup()
    before = {d: len(d.signatures) for d in dispatchers}
    y, _ = _clicks(120.0, 30.0)
    y = y + 0.05 * np.random.default_rng(0).standard_normal(y.shape[0])
    analyze_array(y.astype(np.float32), SR, procs, hop=0.25)
    after = {d: len(d.signatures) for d in dispatchers}
    assert after == before, {d.__name__: (before[d], after[d]) for d in dispatchers if before[d] != after[d]}
