"""Summaries of offline analysis: one file's (:func:`summarize`) and a batch's (``summary.csv``/``.json``).

A file's summary holds the dominant genre with its confidence (mean probability 0..1) and vote
share, valence/arousal (0..1) mean/std/min/max and the quadrant, the tempo (BPM, the densest
cluster of the live values), the key (the live key's chroma evidence summed over the file),
loudness (dBFS) and centroid (Hz) statistics, instrument and vocal probabilities.
:func:`summary_state` turns it into the visuals' music state; :class:`FileResult` is one file's
outcome in a batch and :func:`summary_row` its row of ``summary.csv`` (:data:`SUMMARY_COLUMNS`).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import __version__
from ..features.key import KEY_NAMES, key_correlations
from ..labels import quadrant
from ..processor import Output
from .files import _atomic_json
from .tables import emotion_source

QUADRANT_NAMES = {  # Russell circumplex quadrants, as in /s2s/emotion/label
    "happy": "Q1 happy (+valence +arousal)",
    "tense": "Q2 tense (-valence +arousal)",
    "sad": "Q3 sad (-valence -arousal)",
    "calm": "Q4 calm (+valence -arousal)",
}


def _finite(a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a[np.isfinite(a)]


def _mean_std(a) -> dict | None:
    a = _finite(a)
    if a.size == 0:
        return None
    return {"mean": float(a.mean()), "std": float(a.std()), "min": float(a.min()), "max": float(a.max())}


def _most_common_tempo(bpm: np.ndarray, *, width: float = 0.03) -> float:
    """The file's tempo from its live values (BPM > 0): the median of the values within ±width
    (relative) of the densest such cluster. A live tracker that wavers between two related
    tempi (3:2, 4:3) gives one of them, where the median of all values would fall in between
    (measured on 4q_train: docs/features.md)."""
    lb = np.log(bpm)
    step = np.log1p(width) / 3.0  # bins a third of the half-width
    idx = np.floor((lb - lb.min()) / step).astype(np.int64)
    counts = np.bincount(idx)
    dense = np.convolve(counts, np.ones(7), mode="same")  # values within ±3 bins (~±width)
    centre = lb.min() + (int(np.argmax(dense)) + 0.5) * step
    near = np.abs(lb - centre) <= np.log1p(width)
    return float(np.exp(np.median(lb[near])))


def summarize(table: list[dict], rows: list[dict], outputs: Sequence[Output]) -> dict:
    """The file's summary: dominant genre + confidence, valence/arousal mean/spread, tempo, key."""
    s: dict[str, Any] = {"frames": len(table)}
    col = lambda name: [t.get(name) for t in table]  # noqa: E731
    by = {o.name: o for o in outputs}
    if "genre/probs" in by and rows:
        labels = list(by["genre/probs"].labels) or [str(i) for i in range(by["genre/probs"].shape)]
        probs = np.array([np.asarray(r["genre/probs"], dtype=np.float64) for r in rows if "genre/probs" in r])
        if probs.size:
            mean = probs.mean(axis=0)
            top = int(np.argmax(mean))
            votes = Counter(int(np.argmax(p)) for p in probs)
            s["genre"] = {"label": labels[top], "confidence": float(mean[top]),
                          "share": votes[top] / probs.shape[0],
                          "mean_probs": {lab: float(m) for lab, m in zip(labels, mean)}}
    elif table and "genre" in table[0]:
        c = Counter(g for g in col("genre") if g)
        if c:
            lab, n = c.most_common(1)[0]
            s["genre"] = {"label": lab, "confidence": n / len(table), "share": n / len(table), "mean_probs": None}
    s.setdefault("genre", None)
    for name in ("valence", "arousal"):
        s[name] = _mean_std(col(name)) if table and name in table[0] else None
    if s["valence"] and s["arousal"]:
        q = Counter(x for x in col("quadrant") if x)
        tot = sum(q.values()) or 1
        lab = quadrant(s["valence"]["mean"], s["arousal"]["mean"])
        s["quadrant"] = {"label": lab, "name": QUADRANT_NAMES.get(lab, lab),
                         "shares": {k: q.get(k, 0) / tot for k in QUADRANT_NAMES}}
    else:
        s["quadrant"] = None
    tempo = None
    for name in ("bpm", "tempo"):
        if table and name in table[0]:
            t = _finite(col(name))
            t = t[t > 0]
            if t.size:
                tempo = _most_common_tempo(t)
                break
    s["tempo"] = tempo
    # the file's key: the live key's own evidence (tuned peak chroma) summed over the whole file,
    # so it agrees with the live key at the end of a file in one key; without it (older tables)
    # the most common live key
    keys = Counter(t["key"] for t in table if t.get("key")) if table and "key" in table[0] else Counter()
    chroma = [r["key/chroma"] for r in rows if r.get("key/chroma") is not None]
    corr = key_correlations(np.sum(chroma, axis=0)) if chroma else None
    if corr is not None:
        s["key"] = KEY_NAMES[int(np.argmax(corr))]
    else:
        s["key"] = keys.most_common(1)[0][0] if keys else None
    s["key_share"] = keys[s["key"]] / len(table) if keys and s["key"] else None  # frames whose live key it is
    for name, out in (("dbfs", "loudness_dbfs"), ("centroid", "centroid_hz")):
        s[out] = _mean_std(col(name)) if table and name in table[0] else None
    emo = emotion_source(by)
    s["emotion_source"] = emo[0][0] if emo else None
    s["instruments"], s["vocals"] = None, None
    # instruments and vocals from the taggers (s2s_live.inference.instruments), never the band energies
    if "instruments" in by and rows:
        o = by["instruments"]
        vs = [np.asarray(r["instruments"], dtype=np.float64) for r in rows if "instruments" in r]
        if vs:
            labels = o.labels or tuple(str(i) for i in range(o.shape))
            s["instruments"] = {lab: float(x) for lab, x in zip(labels, np.mean(vs, axis=0))}
    if table and "vocals" in table[0]:
        v = _finite(col("vocals"))
        s["vocals"] = float(v.mean()) if v.size else None
    if table and "vocals_label" in table[0]:
        lab = Counter(x for x in col("vocals_label") if x)
        s["vocals_label"] = lab.most_common(1)[0][0] if lab else None
    return s


def summary_state(summary: dict) -> dict:
    """The visuals' music state (s2s_live.visuals.state keys) for a file summary."""
    g = summary.get("genre") or {}
    v = (summary.get("valence") or {}).get("mean", 0.5)
    a = (summary.get("arousal") or {}).get("mean", 0.5)
    q = (summary.get("quadrant") or {}).get("label")
    lv = summary.get("loudness_dbfs") or {}
    level = min(1.0, max(0.0, (lv.get("mean", -60.0) + 60.0) / 60.0)) if lv else 0.5
    return {"genre": g.get("label"), "genre_conf": g.get("confidence", 0.0), "valence": float(v),
            "arousal": float(a), "emotion": q or None, "bpm": float(summary.get("tempo") or 0.0),
            "key": summary.get("key"), "level": level,
            "centroid": float((summary.get("centroid_hz") or {}).get("mean", 0.0)),
            "instruments": _instrument_words(summary.get("instruments") or {}),
            "vocals": summary.get("vocals"), "vocals_label": summary.get("vocals_label")}


def _instrument_words(means: dict) -> tuple[str, ...]:
    """The live rule (s2s_live.inference.instruments) on clip means: at most 3 words above the threshold."""
    from ..inference.instruments import WORD_THRESHOLD

    return tuple(k for k, x in sorted(means.items(), key=lambda kv: -kv[1]) if x >= WORD_THRESHOLD)[:3]


@dataclass
class FileResult:
    """Outcome of one file: ``status`` "ok" | "skipped" | "error"."""

    path: str
    name: str
    status: str
    message: str = ""
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0


SUMMARY_COLUMNS = ("name", "status", "duration", "genre", "genre_conf", "valence_mean", "valence_std",
                   "arousal_mean", "arousal_std", "quadrant", "tempo", "key", "dbfs_mean", "centroid_mean",
                   "speed_x_realtime", "file", "message")


def summary_row(r: FileResult) -> dict:
    s = r.summary or {}
    g = s.get("genre") or {}
    val = lambda k, f: (s.get(k) or {}).get(f)  # noqa: E731
    return {"name": r.name, "status": r.status, "duration": s.get("duration"), "genre": g.get("label"),
            "genre_conf": g.get("confidence"), "valence_mean": val("valence", "mean"),
            "valence_std": val("valence", "std"), "arousal_mean": val("arousal", "mean"),
            "arousal_std": val("arousal", "std"), "quadrant": val("quadrant", "label"), "tempo": s.get("tempo"),
            "key": s.get("key"), "dbfs_mean": val("loudness_dbfs", "mean"),
            "centroid_mean": val("centroid_hz", "mean"), "speed_x_realtime": s.get("speed_x_realtime"),
            "file": r.path, "message": r.message}


def write_batch_summary(out: Path, results: Sequence[FileResult]) -> None:
    """``summary.csv`` (SUMMARY_COLUMNS, one row per file) and ``summary.json`` (full summaries)."""
    rows = [summary_row(r) for r in results]
    with open(out / "summary.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(SUMMARY_COLUMNS))
        w.writeheader()
        for row in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else ("" if v is None else v)) for k, v in row.items()})
    _atomic_json(out / "summary.json", {
        "version": __version__,
        "files": [{"name": r.name, "file": r.path, "status": r.status, "message": r.message,
                   "summary": r.summary} for r in results],
    })
