"""Descriptor processors: librosa parity of the rolling recipe, known answers, no compilation."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from s2s_live.dsp.spectral import SpectralStream
from s2s_live.features import (FastStream, KeyProcessor, PitchProcessor, RecipeStats, SpectralDescriptors,
                               default_processors)
from s2s_live.pipeline import analyze_array
from s2s_live.features.recipe import GTZAN_FEATURES, recipe_librosa

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


#: docs/features.md's parity claim: every feature within 2e-10 relative of ``recipe_librosa`` on
#: the same window, except rms, which librosa computes in float32 (float32 rounding: 3e-7 on
#: the chirp below, 1.2e-7 on real clips)
PARITY = 2e-10
RMS = [GTZAN_FEATURES.index("rms_mean"), GTZAN_FEATURES.index("rms_var")]
PARITY_RMS = 5e-7


def _assert_parity(got, ref, where):
    assert got.shape == (len(GTZAN_FEATURES),) and np.all(np.isfinite(got)), where
    err = _rel(got, ref)
    bound = np.full(err.shape, PARITY)
    bound[RMS] = PARITY_RMS
    bad = [(GTZAN_FEATURES[i], float(got[i]), float(ref[i]), float(err[i])) for i in np.flatnonzero(err > bound)]
    assert not bad, (where, bad)


def _window_of(row, rs):
    """The clip ``[s, e)`` the rolling recipe covers at ``row``: e = newest multiple of 512."""
    e = (int(round(row["time"] * SR)) // 512) * 512
    return max(0, e - rs.W), e


@pytest.mark.parametrize("hop", [0.1, 0.25, 0.37])
@pytest.mark.parametrize("name", ["sine", "chirp", "noise", "clicks"])
def test_recipe_parity_with_librosa(name, hop):
    y = _signals()[name].astype(np.float32)
    rs = RecipeStats(SpectralStream(history=12.0), window=3.0, tempo_interval=0.0)
    rows = analyze_array(y, SR, [rs], hop=hop)
    for r in (rows[len(rows) // 3], rows[-1]):  # window partly and fully slid
        s, e = _window_of(r, rs)
        _assert_parity(r["recipe/gtzan"], recipe_librosa(y[s:e].astype(np.float64)), (name, hop, r["time"]))


def test_recipe_parity_10s_window_float32_reference():
    y = _signals()["chirp"].astype(np.float32)
    rs = RecipeStats(SpectralStream(history=12.0), window=10.0, tempo_interval=0.0)
    r = analyze_array(y, SR, [rs], hop=0.25)[-1]
    s, e = _window_of(r, rs)
    _assert_parity(r["recipe/gtzan"], recipe_librosa(y[s:e]), r["time"])  # recipe_librosa casts to float64


@pytest.mark.parametrize("name", ["chirp", "clicks"])
def test_recipe_parity_30s_window(name):
    """The default window (30 s) on 40 s of signal: parity at 2e-10 once the window has slid
    10 s, as docs/features.md says (measured here: <= 1.6e-11; rms <= 3e-7)."""
    rng = np.random.default_rng(7)
    t = np.arange(int(40 * SR)) / SR
    y = (0.4 * np.sin(2 * np.pi * (100.0 + 100.0 * t) * t) if name == "chirp"
         else _clicks(120.0, 40.0)[0] + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    rs = RecipeStats(SpectralStream(history=33.0), window=30.0, tempo_interval=0.0)
    rows = analyze_array(y, SR, [rs], hop=0.25)
    assert rows[-1]["time"] > 39.5
    for r in (rows[len(rows) * 3 // 4], rows[-1]):
        s, e = _window_of(r, rs)
        assert e - s == rs.W
        _assert_parity(r["recipe/gtzan"], recipe_librosa(y[s:e].astype(np.float64)), (name, r["time"]))


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


def test_yin_difference_by_fft_equals_the_direct_sum():
    """The FFT form of YIN's difference function against the textbook double loop, on a
    seeded noise frame and a two-partial tone; then known f0s through the public wrapper."""
    from s2s_live.features.pitch import _difference, yin

    rng = np.random.default_rng(3)
    t = np.arange(2048) / SR
    for x in (rng.standard_normal(2048), 0.3 * np.sin(2 * np.pi * 196.0 * t) + 0.1 * np.sin(2 * np.pi * 392.0 * t)):
        tau_max = int(np.ceil(SR / 50.0))
        w = x.size - tau_max - 1
        direct = np.array([np.sum((x[:w] - x[tau : tau + w]) ** 2) for tau in range(tau_max + 2)])
        d = np.zeros(tau_max + 2)
        _difference(x, tau_max, d)
        np.testing.assert_allclose(d, direct, rtol=0, atol=1e-9 * np.sum(x * x))
    for f0 in (82.41, 196.0, 440.0, 880.0):
        got, ap = yin(y=0.5 * np.sin(2 * np.pi * f0 * t), sr=SR)
        assert abs(got - f0) <= 0.005 * f0 and ap < 0.1, (f0, got, ap)
    got, ap = yin(y=rng.standard_normal(2048), sr=SR)
    assert got == 0.0 and ap > 0.1  # noise: unvoiced
    with pytest.raises(ValueError, match="more than sr/fmin"):
        yin(y=np.zeros(300), sr=SR)


def test_deferred_tempo_is_the_inline_value_one_hop_later():
    """Live, the recipe's tempo update runs after the frame's values are out (Processor.after_frame)
    and shows from the next hop: the same numbers as computing it inline, one hop later."""
    y, _ = _clicks(100.0, 14.0)
    y = y.astype(np.float32)
    inline = analyze_array(y, SR, [RecipeStats(SpectralStream(history=12.0), window=10.0, tempo_interval=0.0)], hop=0.5)
    deferred = analyze_array(y, SR, [RecipeStats(SpectralStream(history=12.0), window=10.0, tempo_interval=0.25)],
                             hop=0.5)
    a = [r["features/tempo"] for r in inline]
    b = [r["features/tempo"] for r in deferred]
    assert len(a) == len(b) > 20 and b[0] == 0.0
    assert b[1:] == a[:-1]
    assert abs(a[-1] - 100.0) <= 3.0  # and it is the clicks' tempo


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


def _package_dispatchers() -> dict:
    """Every numba dispatcher the package defines, found by importing each of its modules (no
    list to keep up: a kernel someone adds anywhere is watched from then on)."""
    import importlib
    import pkgutil
    from pathlib import Path

    import s2s_live

    # training code imports torch and is never on a streaming path; it must hold no kernel
    train = Path(s2s_live.__file__).parent / "train"
    assert not [p.name for p in train.rglob("*.py") if "numba" in p.read_text()]
    found = {}
    for m in pkgutil.walk_packages(s2s_live.__path__, "s2s_live."):
        if m.name == "s2s_live.__main__" or m.name.startswith("s2s_live.train"):
            continue
        mod = importlib.import_module(m.name)
        for v in vars(mod).values():
            if isinstance(v, numba.core.registry.CPUDispatcher) and v.__module__ == m.name:
                found[f"{m.name}.{v.__name__}"] = v
    return found


def test_no_compilation_while_streaming():
    """After the engine's warm-up (pipeline at the synth source's 44.1 kHz stereo, the procedural
    backend's warm-up), streaming music in uneven chunks and animating the procedural viewer
    compiles nothing, in any kernel of the package: the resampler, the channel mix
    (_mix_sanitize), the descriptors, the taggers' front end and the procedural renderer."""
    from s2s_live.config import Config
    from s2s_live.pipeline import Pipeline, build_processors
    from s2s_live.capture.synth import MusicSynth
    from s2s_live.visuals.procedural import Animator, render_state
    from s2s_live.visuals.state import state_from_values
    from s2s_live.visuals.worker import ProceduralBackend

    dispatchers = _package_dispatchers()
    for k in ("s2s_live.frames._mix_sanitize", "s2s_live.visuals.procedural._render"):
        assert k in dispatchers, sorted(dispatchers)  # the walk finds kernels outside features/dsp
    assert any(k.startswith("s2s_live.dsp.resample.") for k in dispatchers), sorted(dispatchers)
    sr = 44100
    pipe = Pipeline(samplerate=sr, channels=[0, 1], processors=build_processors(Config()), hop=0.25,
                    drop_late=False)
    pipe.warmup()
    ProceduralBackend(size=64).warmup()
    before = {k: len(d.signatures) for k, d in dispatchers.items()}
    y = np.asarray(MusicSynth(sr=sr, seed=3).render(12.0), dtype=np.float32)
    y = np.ascontiguousarray(np.stack([y, y], axis=1) if y.ndim == 1 else y)
    y[:, 1] += 0.05 * np.random.default_rng(0).standard_normal(y.shape[0]).astype(np.float32)
    y[sr : sr + 10, 0] = np.nan  # a burst the channel mix sanitises
    anim = Animator(size=96, seed=1)
    sizes, i, frames = [441, 1024, 4096, 333, 2048], 0, 0
    while i < y.shape[0]:
        n = min(sizes[frames % len(sizes)], pipe.assembler.max_chunk, y.shape[0] - i)
        pipe.push(y[i : i + n], n)
        i += n
        fast = {}
        pipe.run_fast(lambda v, last: fast.update(v))
        while (f := pipe.run_frame()) is not None:
            frames += 1
            st = state_from_values(f.values)
            anim.update(st, fast, 0.25)
            anim.frame()
    render_state(st, seed=2, size=128, params=(0.2, 0.8))
    pipe.close()
    assert frames >= 40
    after = {k: len(d.signatures) for k, d in dispatchers.items()}
    assert after == before, {k: (before[k], after[k]) for k in dispatchers if before[k] != after[k]}
    # every kernel ran: compiled for itself, or (a helper only kernels call, which numba builds
    # into its caller, so a new type for it is a new signature of the caller) called by one that did
    key = {id(d): k for k, d in dispatchers.items()}
    ran = {k for k, n in after.items() if n}
    todo = list(ran)
    while todo:  # kernels called (transitively) from kernels that ran
        d = dispatchers[todo.pop()]
        for name in d.py_func.__code__.co_names:
            k = key.get(id(d.py_func.__globals__.get(name)))
            if k is not None and k not in ran:
                ran.add(k)
                todo.append(k)
    unused = sorted(set(dispatchers) - ran)
    assert not unused, f"kernels no streaming path ran (extend the stream so they are watched): {unused}"


@pytest.mark.parametrize("chunk", [256, 1000, 4096])
def test_stft_columns_computed_ahead_equal_those_computed_at_the_frame(chunk):
    """Between frames the pipeline offers the audio already in for the next frame
    (Processor.ahead) and the STFT core computes its columns then; every value must be the one
    computed from the frame alone, for any capture block size."""
    from s2s_live.pipeline import Pipeline
    from s2s_live.stats import Stats

    rng = np.random.default_rng(11)
    sr = 48000
    t = np.arange(8 * sr) / sr
    y = (0.3 * np.sin(2 * np.pi * (220.0 + 30.0 * t) * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)

    def run(use_ahead: bool):
        procs = default_processors(None)
        st = Stats()
        pipe = Pipeline(samplerate=sr, channels=[0], processors=procs, hop=0.25, drop_late=False, stats=st)
        if not use_ahead:
            pipe._ahead = []
        pipe.warmup()
        rows = []
        for i in range(0, y.size, chunk):
            part = y[i : i + chunk, None]
            pipe.push(part, part.shape[0])
            pipe.run_fast()
            while (f := pipe.run_frame()) is not None:
                rows.append({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in f.values.items()})
        return rows, st.snapshot()["timings"].get("ahead", {}).get("n", 0)

    with_ahead, n_ahead = run(True)
    without, n_none = run(False)
    assert n_ahead > len(with_ahead) and n_none == 0  # the columns really were computed ahead
    assert len(with_ahead) == len(without) > 25
    for a, b in zip(with_ahead, without):
        assert a.keys() == b.keys()
        for k in a:
            assert np.array_equal(np.asarray(a[k]), np.asarray(b[k])), k
