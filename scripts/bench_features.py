"""Per-hop cost of the incremental descriptor set vs librosa recomputing the 30-s window each hop.

    python scripts/bench_features.py [--seconds 60] [--hop 0.25] [--window 30] [--librosa-hops 20]

Same audio (synthetic music from s2s_live.capture.synth, seed 0), same run. Prints a table (ms per hop).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from s2s_live.features import default_processors
from s2s_live.frames import SR_RECIPE
from s2s_live.pipeline import Pipeline
from s2s_live.features.recipe import recipe_librosa


def seed_style(y: np.ndarray, sr: int) -> None:
    """The theses' way: every librosa feature recomputed from the samples (own STFT each)."""
    import librosa

    for f in (librosa.feature.chroma_stft, librosa.feature.rms, librosa.feature.spectral_centroid,
              librosa.feature.spectral_bandwidth, librosa.feature.spectral_rolloff,
              librosa.feature.zero_crossing_rate, librosa.feature.tempo):
        v = f(y=y, sr=sr) if f is not librosa.feature.zero_crossing_rate and f is not librosa.feature.rms else f(y=y)
        np.mean(v), np.var(v)
    m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    np.mean(m, axis=1), np.var(m, axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--hop", type=float, default=0.25)
    ap.add_argument("--window", type=float, default=30.0)
    ap.add_argument("--librosa-hops", type=int, default=20, help="hops timed for the librosa baseline")
    a = ap.parse_args()
    from s2s_live.capture.synth import MusicSynth

    sr = SR_RECIPE
    try:
        y = MusicSynth(sr=sr, seed=0).render(a.seconds)
    except Exception:  # noqa: BLE001 - synth API differences: fall back to noise + clicks
        rng = np.random.default_rng(0)
        y = 0.1 * rng.standard_normal(int(a.seconds * sr))
    y = np.asarray(y, np.float32).reshape(len(y), -1).mean(axis=1).astype(np.float32)

    class Cfg:
        window = a.window

    procs = default_processors(Cfg)
    pipe = Pipeline(samplerate=sr, channels=[0], processors=procs, hop=a.hop, drop_late=False, max_chunk=8192)
    pipe.warmup()
    frame_ms, fast_ms = [], []
    hop = int(round(a.hop * sr))
    for i in range(0, y.shape[0] - hop + 1, hop):
        part = np.ascontiguousarray(y[i : i + hop, None])
        pipe.push(part, part.shape[0])
        t0 = time.perf_counter()
        pipe.run_fast()
        t1 = time.perf_counter()
        f = pipe.run_frame()
        t2 = time.perf_counter()
        if f is not None and f.time >= a.window:  # steady state: full window
            frame_ms.append((t2 - t1) * 1e3)
            fast_ms.append((t1 - t0) * 1e3)
    lib, seed = [], []
    W = int(a.window * sr)
    for k in range(a.librosa_hops):
        e = W + k * hop
        if e > y.shape[0]:
            break
        t0 = time.perf_counter()
        recipe_librosa(y[e - W : e])
        t1 = time.perf_counter()
        seed_style(y[e - W : e], sr)
        lib.append((t1 - t0) * 1e3)
        seed.append((time.perf_counter() - t1) * 1e3)
    p = lambda v, q: float(np.percentile(v, q))  # noqa: E731
    print(f"hop {a.hop} s, window {a.window} s, {len(frame_ms)} steady hops, {len(lib)} librosa hops")
    print(f"{'what':52s} {'p50 ms':>8s} {'p99 ms':>8s}")
    print(f"{'incremental frame descriptors (all frame procs)':52s} {p(frame_ms, 50):8.3f} {p(frame_ms, 99):8.3f}")
    print(f"{'fast stream per hop (all blocks of the hop)':52s} {p(fast_ms, 50):8.3f} {p(fast_ms, 99):8.3f}")
    tot = np.array(frame_ms) + np.array(fast_ms)
    print(f"{'incremental total (frame + fast)':52s} {p(tot, 50):8.3f} {p(tot, 99):8.3f}")
    print(f"{'librosa recipe on the window, each hop (no HPSS)':52s} {p(lib, 50):8.3f} {p(lib, 99):8.3f}")
    print(f"{'librosa seed-style (each feature from y), each hop':52s} {p(seed, 50):8.3f} {p(seed, 99):8.3f}")
    print(f"{'speed-up p50: recipe_librosa / incremental total':52s} {p(lib, 50) / p(tot, 50):8.1f}")
    print(f"{'speed-up p50: seed-style / incremental total':52s} {p(seed, 50) / p(tot, 50):8.1f}")


if __name__ == "__main__":
    main()
