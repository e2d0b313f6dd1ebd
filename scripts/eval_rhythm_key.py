#!/usr/bin/env python
"""Tempo and key of s2s_live against reference analysers on real clips (issue 11).

    python scripts/eval_rhythm_key.py --data ../shared/data/4q_train [--limit N] [--json out.json]

For every clip (mono, native rate) it runs s2s_live's live processors (FastStream, KeyProcessor,
RecipeStats, as :func:`s2s_live.pipeline.analyze_array` drives them at the default 0.25-s hop)
and the references:

* Essentia ``RhythmExtractor2013(method="multifeature")`` (44.1 kHz) and ``KeyExtractor()``
  (its default profile),
* librosa ``beat.beat_track`` and ``feature.tempo`` (22050 Hz), and ``chroma_cqt`` summed over
  the clip correlated with Krumhansl–Kessler profiles (a plain baseline),
* aubio ``tempo("default")`` run online (44.1 kHz); its value is the median of its running bpm.

Reference results are cached, one JSON per clip, under ``~/.cache/s2s_live/rhythmkey/``
(Essentia and aubio are test/script dependencies only, never the engine's). One process.

Tables: tempo Acc1 (within 4 %) and Acc2 (also at x2, x1/2, x3, x1/3) for s2s_live's live bpm
(the analyze summary's tempo: the most common of the clip's nonzero ``bpm`` values) and its ``features/tempo``
against each reference; octave errors (x2 and x1/2 within 4 %) by the reference's tempo band; key
exact and MIREX-weighted agreement (fifth above 0.5, relative 0.3, parallel 0.2; fifths below
counted separately), minor share, and how often the summary key equals the last hop's live key.
Results: docs/features.md. Needs ``pip install -e ".[eval]"`` (essentia, aubio).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's s2s_live, from any folder

REF_VERSION = 1
CACHE = Path(os.environ.get("S2S_CACHE", Path.home() / ".cache" / "s2s_live")) / "rhythmkey"
PCS = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6, "G": 7,
       "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11}
BANDS = ((0, 90), (90, 120), (120, 150), (150, 1000))
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def load_mono(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(y.mean(axis=1), dtype=np.float32), int(sr)


def key_id(name: str | None) -> int | None:
    """"C# minor" -> 13 (0..11 major, 12..23 minor); None for missing."""
    if not name:
        return None
    tonic, mode = name.split()
    return PCS[tonic] + (12 if mode == "minor" else 0)


def kk_key(chroma_sum: np.ndarray) -> int:
    v = chroma_sum - chroma_sum.mean()
    best, bk = -np.inf, 0
    for m, prof in enumerate((KK_MAJOR, KK_MINOR)):
        for k in range(12):
            p = np.roll(prof, k)
            c = float(np.corrcoef(v, p)[0, 1])
            if c > best:
                best, bk = c, k + 12 * m
    return bk


def references(path: Path, song: str) -> dict:
    """Reference tempo/key of one clip, cached."""
    f = CACHE / f"ref_v{REF_VERSION}" / f"{song}.json"
    if f.exists():
        return json.loads(f.read_text())
    import aubio
    import essentia.standard as es
    import librosa
    import soxr

    y, sr = load_mono(path)
    y44 = soxr.resample(y, sr, 44100).astype(np.float32)
    y22 = soxr.resample(y, sr, 22050).astype(np.float32)
    r: dict = {}
    r["essentia_bpm"] = float(es.RhythmExtractor2013(method="multifeature")(y44)[0])
    k, scale, strength = es.KeyExtractor()(y44)
    r["essentia_key"] = PCS[k] + (12 if scale == "minor" else 0)
    r["librosa_beat_bpm"] = float(np.atleast_1d(librosa.beat.beat_track(y=y22, sr=22050)[0])[0])
    r["librosa_tempo_bpm"] = float(librosa.feature.tempo(y=y22, sr=22050)[0])
    r["librosa_key"] = kk_key(librosa.feature.chroma_cqt(y=y22, sr=22050).sum(axis=1))
    o = aubio.tempo("default", 1024, 512, 44100)
    run = []
    for i in range(0, y44.shape[0] - 512 + 1, 512):
        o(y44[i:i + 512])
        b = o.get_bpm()
        if b > 0:
            run.append(b)
    r["aubio_bpm"] = float(np.median(run)) if run else 0.0
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(json.dumps(r))
    return r


def s2s(path: Path) -> dict:
    """s2s_live's live bpm (all hop values), features/tempo and key over the clip."""
    from s2s_live.offline import summarize
    from s2s_live.dsp.spectral import SpectralStream
    from s2s_live.features import FastStream, KeyProcessor, RecipeStats
    from s2s_live.pipeline import Pipeline, run_unpaced

    y, sr = load_mono(path)
    core = SpectralStream(history=32.5)
    procs = [FastStream(), RecipeStats(core, window=30.0), KeyProcessor()]
    pipe = Pipeline(samplerate=sr, channels=range(1), processors=procs, hop=0.25, drop_late=False, max_chunk=4096)
    rows = run_unpaced(pipe, np.ascontiguousarray(y[:, None]), 4096, include_fast=True)  # as `s2s-live analyze`
    # the fast stream's bpm at each frame, as analyze's table carries it
    table = [{"time": r["time"], "bpm": r.get("bpm", 0.0), "key": r.get("key")} for r in rows]
    outs = [o for p in procs for o in p.outputs]
    summ = summarize(table, rows, outs)
    bpm = np.array([t["bpm"] for t in table], np.float64)
    return {"bpm_values": bpm[bpm > 0].tolist(), "tempo": summ["tempo"] or 0.0,
            "features_tempo": float(rows[-1].get("features/tempo", 0.0)) if rows else 0.0,
            "summary_key": key_id(summ["key"]), "final_key": key_id(rows[-1].get("key")) if rows else None}


# -- metrics ---------------------------------------------------------------------------------
def acc1(est, ref):
    return abs(est - ref) <= 0.04 * ref


def acc2(est, ref):
    return any(abs(est - ref * f) <= 0.04 * ref * f for f in (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0))


def key_score(est: int, ref: int) -> float:
    """MIREX weighting (mir_eval.key.weighted_score): est relative to the reference."""
    if est == ref:
        return 1.0
    em, rm = est // 12, ref // 12
    et, rt = est % 12, ref % 12
    if em == rm and et == (rt + 7) % 12:
        return 0.5
    if rm == 0 and em == 1 and et == (rt + 9) % 12:
        return 0.3
    if rm == 1 and em == 0 and et == (rt + 3) % 12:
        return 0.3
    if em != rm and et == rt:
        return 0.2
    return 0.0


def tempo_table(res: list[dict], est_name: str, ref_name: str) -> dict:
    pairs = [(r[est_name], r[ref_name]) for r in res if r[est_name] > 0 and r[ref_name] > 0]
    n = len(pairs)
    out = {"n": n, "acc1": sum(acc1(e, f) for e, f in pairs) / max(n, 1),
           "acc2": sum(acc2(e, f) for e, f in pairs) / max(n, 1),
           "double": sum(acc1(e, 2 * f) for e, f in pairs) / max(n, 1),
           "half": sum(acc1(e, f / 2) for e, f in pairs) / max(n, 1), "bands": {}}
    for lo, hi in BANDS:
        sub = [(e, f) for e, f in pairs if lo <= f < hi]
        m = len(sub)
        out["bands"][f"{lo}-{hi if hi < 1000 else ''}"] = {
            "n": m, "acc1": sum(acc1(e, f) for e, f in sub) / max(m, 1),
            "double": sum(acc1(e, 2 * f) for e, f in sub) / max(m, 1),
            "half": sum(acc1(e, f / 2) for e, f in sub) / max(m, 1)}
    return out


def key_table(res: list[dict], est_name: str, ref_name: str) -> dict:
    pairs = [(r[est_name], r[ref_name]) for r in res if r[est_name] is not None and r[ref_name] is not None]
    n = max(len(pairs), 1)
    return {"n": len(pairs), "exact": sum(e == f for e, f in pairs) / n,
            "mirex": sum(key_score(e, f) for e, f in pairs) / n,
            "fifth_above": sum(e // 12 == f // 12 and e % 12 == (f + 7) % 12 for e, f in pairs) / n,
            "fifth_below": sum(e // 12 == f // 12 and e % 12 == (f + 5) % 12 for e, f in pairs) / n,
            "relative": sum(key_score(e, f) == 0.3 for e, f in pairs) / n,
            "parallel": sum(key_score(e, f) == 0.2 for e, f in pairs) / n,
            "minor_share_est": sum(e >= 12 for e, _ in pairs) / n,
            "minor_share_ref": sum(f >= 12 for _, f in pairs) / n}


def report(res: list[dict]) -> dict:
    rep: dict = {"clips": len(res)}
    vals = np.concatenate([np.asarray(r["bpm_values"]) for r in res]) if res else np.zeros(0)
    rep["bpm_values"] = {"n": int(vals.size), "min": float(vals.min()) if vals.size else None,
                         "max": float(vals.max()) if vals.size else None,
                         "outside_60_200": int(np.sum((vals < 60.0 - 1e-6) | (vals > 200.0 + 1e-6)))}
    rep["tempo"] = {}
    for est in ("s2s_bpm", "s2s_features_tempo", "librosa_beat_bpm", "aubio_bpm"):
        for ref in ("essentia_bpm", "librosa_beat_bpm", "aubio_bpm"):
            if est != ref and not (est in ("librosa_beat_bpm", "aubio_bpm") and ref != "essentia_bpm"):
                rep["tempo"][f"{est} vs {ref}"] = tempo_table(res, est, ref)
    rep["key"] = {}
    for est in ("s2s_summary_key", "s2s_final_key", "librosa_key"):
        for ref in ("essentia_key", "librosa_key"):
            if est != ref and not (est == "librosa_key" and ref != "essentia_key"):
                rep["key"][f"{est} vs {ref}"] = key_table(res, est, ref)
    same = [r["s2s_summary_key"] == r["s2s_final_key"] for r in res]
    rep["summary_equals_final_key"] = sum(same) / max(len(same), 1)
    return rep


def print_report(rep: dict) -> None:
    b = rep["bpm_values"]
    print(f"clips {rep['clips']}; live bpm hop values {b['n']}, range {b['min']}..{b['max']}, "
          f"outside 60..200: {b['outside_60_200']}")
    print(f"{'tempo: est vs ref':44s} {'n':>4s} {'Acc1':>6s} {'Acc2':>6s} {'x2':>6s} {'x1/2':>6s} | "
          + " ".join(f"<{hi if hi < 1000 else 'inf'} x2/x1/2" for _, hi in BANDS))
    for k, t in rep["tempo"].items():
        bands = " ".join(f"{v['double']:.2f}/{v['half']:.2f}(n{v['n']})" for v in t["bands"].values())
        print(f"{k:44s} {t['n']:4d} {t['acc1']:6.3f} {t['acc2']:6.3f} {t['double']:6.3f} {t['half']:6.3f} | {bands}")
    print(f"{'key: est vs ref':36s} {'n':>4s} {'exact':>6s} {'MIREX':>6s} {'5th+':>6s} {'5th-':>6s} "
          f"{'rel':>6s} {'par':>6s} {'minor':>6s} {'refmin':>6s}")
    for k, t in rep["key"].items():
        print(f"{k:36s} {t['n']:4d} {t['exact']:6.3f} {t['mirex']:6.3f} {t['fifth_above']:6.3f} "
              f"{t['fifth_below']:6.3f} {t['relative']:6.3f} {t['parallel']:6.3f} {t['minor_share_est']:6.3f} "
              f"{t['minor_share_ref']:6.3f}")
    print(f"summary key = final live key: {rep['summary_equals_final_key']:.3f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder with index.csv (4q_train)")
    p.add_argument("--limit", type=int, default=0, help="first N clips only (0 = all)")
    p.add_argument("--refs-only", action="store_true", help="compute/cache the references, skip s2s_live")
    p.add_argument("--json", help="write the report as JSON here")
    a = p.parse_args(argv)
    data = Path(a.data)
    with open(data / "index.csv", newline="") as fh:
        clips = [(data / r["file"], r["song"]) for r in csv.DictReader(fh)]
    if a.limit:
        clips = clips[: a.limit]
    res, failed = [], []
    t0 = time.time()
    for i, (path, song) in enumerate(clips):
        try:
            ref = references(path, song)
            if a.refs_only:
                continue
            s = s2s(path)
        except (RuntimeError, ValueError, OSError) as exc:  # undecodable/too short clips: count, go on
            failed.append(f"{song}: {exc}")
            continue
        res.append({**ref, "song": song, "bpm_values": s["bpm_values"], "s2s_bpm": s["tempo"],
                    "s2s_features_tempo": s["features_tempo"], "s2s_summary_key": s["summary_key"],
                    "s2s_final_key": s["final_key"]})
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(clips)} clips, {time.time() - t0:.0f} s", file=sys.stderr)
    if failed:
        print(f"{len(failed)} clips failed: {failed[:5]}", file=sys.stderr)
    if a.refs_only:
        return 0
    rep = report(res)
    rep["failed"] = len(failed)
    print_report(rep)
    if a.json:
        Path(a.json).write_text(json.dumps({"report": rep, "clips": [
            {k: v for k, v in r.items() if k != "bpm_values"} for r in res]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
