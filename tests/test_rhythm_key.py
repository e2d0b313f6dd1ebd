"""Known answers for the live tempo, beats and key on the built-in synth's music (issue 11)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from s2s_live.offline import summarize
from s2s_live.dsp.chroma import peak_chroma, peak_tuning, spectral_peaks
from s2s_live.features import BPM_MAX, BPM_MIN, FastStream, KeyProcessor
from s2s_live.pipeline import analyze_array
from s2s_live.capture.synth import STYLES, MusicSynth

SR = 22050
#: kick on 1 and 3, snare on 2 and 4, hats and chords on the beats: a quarter-note pulse
DRUMS = replace(STYLES["pop"], kick=(0, 8), snare=(4, 12), hats=(0, 4, 8, 12), chord_steps=(0, 8),
                bass_steps=(0, 8))


def _fast(y: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Run FastStream over y (22050 Hz) block by block: bpm per block, beat event times (s)."""
    fs = FastStream()
    fs.warmup()
    bpms, beats = [], []
    for i in range(0, y.shape[0] - 256 + 1, 256):
        out = fs.process(y[i:i + 256])
        bpms.append(out["bpm"])
        if "beat" in out:
            beats.append((i + 256) / SR)  # the block's end time
    return np.array(bpms), beats


def _beat_times(style, seconds: float) -> np.ndarray:
    """True beat onsets (s) of the synth's bars: 4 beats a bar of round(bar_s * sr) samples."""
    n = int(round(4 * 60.0 / style.bpm * SR))
    bars = int(seconds * SR / n) + 1
    return np.array([(b * n + int(k * 4 * n / 16.0)) / SR for b in range(bars) for k in range(4)])


@pytest.mark.parametrize("bpm", [60, 72, 90, 128, 150, 174])
def test_drums_read_at_their_tempo_with_beats_on_time(bpm):
    st = replace(DRUMS, bpm=float(bpm))
    y = MusicSynth(sr=SR, seed=1, styles=[st], section_seconds=60.0).render(20.0)
    bpms, beats = _fast(y)
    late = bpms[int(10 * SR / 256):]
    assert np.all(late > 0)
    assert abs(np.median(late) - bpm) <= 0.02 * bpm, (bpm, np.median(late))  # not doubled or halved
    assert np.all(np.abs(late - bpm) <= 0.04 * bpm)
    truth = _beat_times(st, 20.0)
    got = [b for b in beats if 10.0 < b < 19.5]
    assert len(got) >= int(9.5 * bpm / 60.0) - 1  # one per beat, none skipped
    err = np.array([np.min(np.abs(truth - b)) for b in got])
    assert np.max(err) <= 0.030, (bpm, np.max(err))


def test_tempo_change_followed_within_4_s():
    a, b = replace(DRUMS, name="a", bpm=90.0), replace(DRUMS, name="b", bpm=128.0)
    syn = MusicSynth(sr=SR, seed=2, styles=[a, b], section_seconds=12.0)
    y = syn.render(21.5)  # 90 BPM for 4 bars (10.7 s), then 128 BPM to the end
    change = 4 * round(12.0 / (4 * 60.0 / 90.0)) * 60.0 / 90.0  # whole bars of the first section
    bpms, _ = _fast(y)
    t = (np.arange(bpms.shape[0]) + 1) * 256 / SR
    before = bpms[(t > change - 3.0) & (t < change)]
    after = bpms[t > change + 4.0]
    assert np.all(np.abs(before - 90.0) <= 0.04 * 90.0)
    assert after.size > 450 and np.all(np.abs(after - 128.0) <= 0.04 * 128.0), after.min()


def test_bpm_never_leaves_its_range():
    rng = np.random.default_rng(3)
    for bpm in (40.0, 230.0, 300.0):  # pulses outside the range: a related tempo inside it, or 0
        st = replace(DRUMS, bpm=bpm)
        bpms, _ = _fast(MusicSynth(sr=SR, seed=4, styles=[st], section_seconds=60.0).render(10.0))
        nz = bpms[bpms > 0]
        assert bpm < BPM_MIN or nz.size > 0.5 * bpms.size  # the fast ones have a pulse in range (x1/2)
        assert np.all((nz >= BPM_MIN) & (nz <= BPM_MAX)), (bpm, nz.min(), nz.max())
    noise, _ = _fast((0.1 * rng.standard_normal(8 * SR)).astype(np.float32))
    nz = noise[noise > 0]
    assert np.all((nz >= BPM_MIN) & (nz <= BPM_MAX))


KEYS = [("C major", 48, "major"), ("A minor", 45, "minor"), ("G major", 43, "major"),
        ("E minor", 40, "minor"), ("F# major", 42, "major")]


def _key_rows(name: str, root: int, mode: str, cents: float = 0.0, seconds: float = 24.0):
    st = replace(STYLES["pop"], name=name, root=root, mode=mode, progression=(0, 3, 4, 0))
    y = MusicSynth(sr=SR, seed=5, styles=[st], section_seconds=60.0, tuning_cents=cents).render(seconds)
    kp = KeyProcessor()
    return analyze_array(y, SR, [kp], hop=0.25), kp


@pytest.mark.parametrize("name,root,mode", KEYS)
def test_chord_progression_reads_its_key(name, root, mode):
    rows, _ = _key_rows(name, root, mode)
    assert all(r["key"] == name for r in rows[len(rows) // 2:]), {r["key"] for r in rows[len(rows) // 2:]}
    assert rows[-1]["key/strength"] > 0.6
    # the analyze summary reports the same key as the live value at the end
    s = summarize([{"time": r["time"], "key": r["key"]} for r in rows], rows, KeyProcessor().outputs)
    assert s["key"] == rows[-1]["key"] == name


@pytest.mark.parametrize("cents", [30.0, -30.0])
def test_detuned_recording_reads_its_key_and_tuning(cents):
    rows, kp = _key_rows("E minor", 40, "minor", cents=cents)
    assert rows[-1]["key"] == "E minor"
    assert abs(kp.tuning_cents - cents) <= 5.0, kp.tuning_cents


def test_peak_chroma_of_a_tone_with_harmonics():
    t = np.arange(8192) / SR
    f0 = 440.0 * 2 ** ((48 - 69) / 12)  # C3 with 6 harmonics: C, C, G, C, E, G
    y = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 7))
    freqs, mags = spectral_peaks(y=y, sr=SR, window=np.hanning(8193)[:-1])
    assert np.min(np.abs(freqs - f0)) <= 0.3  # interpolated to a fraction of the 2.7-Hz bin
    c = peak_chroma(freqs=freqs, mags=mags)
    assert int(np.argmax(c)) == 0 and c[0] > 2.0 * c[7]  # harmonics folded back onto C
    assert abs(np.angle(peak_tuning(freqs=freqs, mags=mags)) / (2 * np.pi)) < 0.02
    none = spectral_peaks(y=np.zeros(8192), sr=SR, window=np.hanning(8193)[:-1])
    assert none[0].size == 0 and not np.any(peak_chroma(freqs=none[0], mags=none[1]))


def test_summary_tempo_is_the_most_common_live_tempo():
    # a tracker wavering 100 <-> 150 BPM (3:2): the summary gives the more frequent one, not 125
    bpm = [0.0] * 8 + [100.0 + 0.5 * (i % 3) for i in range(40)] + [150.0] * 30
    table = [{"time": 0.25 * i, "bpm": b} for i, b in enumerate(bpm)]
    s = summarize(table, [], FastStream().outputs)
    assert abs(s["tempo"] - 100.5) <= 0.6
