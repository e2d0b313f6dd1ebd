"""Offline analysis speed as a multiple of real time, on one core.

    python scripts/bench_analysis.py [--seconds 120] [--hop 0.25] [--file PATH] [--models-dir DIR]
                                     [--librosa-hops 20] [--tagger-interval S]

Pins itself to one CPU (sched_setaffinity) with numba/BLAS/onnxruntime single-threaded, then
times on the same audio in the same run:

* decoding (soundfile), the live processors over every hop (s2s_live.offline.run_processors,
  no dropped frames), the whole ``analyze_file`` (tables, JSON, npz) with and without ``--plots``;
* the baseline: the theses' way of getting a per-second timeline, librosa recomputing its
  features (chroma, rms, centroid, bandwidth, rolloff, zcr, tempo, 20 MFCC) on each 1-s frame,
  timed on ``--librosa-hops`` frames and extrapolated to the file.

Audio: synthetic music (s2s_live.capture.synth, all styles, seed 0, 44.1 kHz stereo WAV) unless
``--file`` is given. Prints a table; "x RT" = audio seconds per second of computation.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402


def one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned (sched_setaffinity unavailable)"


def librosa_frame(y: np.ndarray, sr: int) -> None:
    """The seeds' per-segment features: every librosa feature recomputed from the samples."""
    import librosa

    for f in (librosa.feature.chroma_stft, librosa.feature.spectral_centroid,
              librosa.feature.spectral_bandwidth, librosa.feature.spectral_rolloff):
        v = f(y=y, sr=sr)
        np.mean(v), np.var(v)
    for f in (librosa.feature.rms, librosa.feature.zero_crossing_rate):
        v = f(y=y)
        np.mean(v), np.var(v)
    librosa.feature.tempo(y=y, sr=sr)
    m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    np.mean(m, axis=1), np.var(m, axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="length of the synthetic audio (s)")
    ap.add_argument("--hop", type=float, default=0.25)
    ap.add_argument("--window", type=float, default=30.0)
    ap.add_argument("--file", help="analyse this file instead of synthetic music")
    ap.add_argument("--models-dir", dest="models_dir", help="models folder (default: shipped models)")
    ap.add_argument("--librosa-hops", type=int, default=20, help="frames timed for the librosa baseline")
    ap.add_argument("--tagger-interval", type=float, default=None,
                    help="seconds between tagged 3-s patches (default: the config's, 0.5)")
    a = ap.parse_args()
    pin = one_core()

    import soundfile as sf

    from s2s_live import offline as analysis
    from s2s_live.config import Config
    from s2s_live.stats import Stats
    from s2s_live.capture.synth import MusicSynth

    cfg = Config(hop=a.hop, window=a.window)
    if a.models_dir:
        cfg.update(models_dir=a.models_dir)
    if a.tagger_interval is not None:
        cfg.update(tagger_interval=a.tagger_interval)
    tmp = Path(tempfile.mkdtemp(prefix="s2s_bench_"))
    if a.file:
        path = Path(a.file)
    else:
        y = MusicSynth(sr=44100, seed=0, section_seconds=20).render(a.seconds)
        path = tmp / "synth.wav"
        sf.write(path, np.stack([y, y], axis=1), 44100)

    procs = analysis.analysis_processors(cfg)
    # warm numba caches / librosa's first-call compilation outside the timings
    y0, sr0 = analysis.load_audio(path)
    analysis.run_processors(y0[: sr0 * 3], sr0, procs, hop=a.hop)

    t0 = time.perf_counter()
    y, sr = analysis.load_audio(path)
    t_dec = time.perf_counter() - t0
    dur = y.shape[0] / sr

    t_proc = float("inf")
    for _ in range(2):  # best of two: the first pass also pays page faults / cache misses
        stats = Stats()
        t0 = time.perf_counter()
        rows = analysis.run_processors(y, sr, procs, hop=a.hop, stats=stats)
        t_proc = min(t_proc, time.perf_counter() - t0)

    t0 = time.perf_counter()
    r = analysis.analyze_file(path, out_dir=tmp / "out", cfg=cfg, processors=procs, force=True)
    t_file = time.perf_counter() - t0
    assert r.status == "ok", r.message
    t0 = time.perf_counter()
    r = analysis.analyze_file(path, out_dir=tmp / "out_plots", cfg=cfg, processors=procs, force=True, plots=True)
    t_plots = time.perf_counter() - t0
    assert r.status == "ok", r.message

    # baseline: librosa on each 1-s frame (22050 Hz mono), timed on a few frames
    import librosa

    mono = librosa.resample(y.mean(axis=1), orig_sr=sr, target_sr=22050) if sr != 22050 else y.mean(axis=1)
    librosa_frame(mono[:22050], 22050)  # librosa's own numba compilation
    n_b = max(1, min(a.librosa_hops, len(rows)))
    starts = np.linspace(0, max(0, mono.shape[0] - 22050), n_b).astype(int)
    t0 = time.perf_counter()
    for s in starts:
        librosa_frame(np.ascontiguousarray(mono[s : s + 22050]), 22050)
    t_lib_hop = (time.perf_counter() - t0) / n_b
    t_lib = t_lib_hop * len(rows)

    print(f"# offline analysis speed — {platform.machine()}, {platform.python_version()}, {pin}")
    print(f"# audio: {'synthetic music' if not a.file else path.name}, {dur:.1f} s, {sr} Hz, "
          f"{y.shape[1]} ch; hop {a.hop} s -> {len(rows)} frames; processors: "
          + ", ".join(p.name for p in procs))
    print()
    print("| stage | seconds | x real time |")
    print("|---|---:|---:|")
    for name, t in (("decode (soundfile)", t_dec), ("live processors, every hop (run_processors)", t_proc),
                    ("analyze_file: decode + processors + CSV/JSON/npz", t_file),
                    ("analyze_file with --plots", t_plots),
                    (f"baseline: librosa features per 1-s frame ({n_b} timed, extrapolated)", t_lib)):
        print(f"| {name} | {t:.2f} | {dur / t:.1f} |")
    print(f"| ratio: baseline / live processors | | {t_lib / t_proc:.1f}x faster |")
    print()
    print("| processor | ms per hop p50 | ms per hop p99 |")
    print("|---|---:|---:|")
    for name, tm in stats.timings.items():
        if name.startswith("proc:") or name in ("frame", "fast"):
            p50, p99 = tm.percentiles()
            print(f"| {name} | {p50 * 1e3:.3f} | {p99 * 1e3:.3f} |")


if __name__ == "__main__":
    main()
