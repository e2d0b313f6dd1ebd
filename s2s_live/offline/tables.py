"""The per-frame table of offline analysis: which columns, from which outputs, and its files.

:func:`table_columns` picks the columns (:class:`Column`) for the outputs present (docs/analysis.md
lists them), :func:`build_table` turns processor rows into plain rows (valence/arousal 0..1,
quadrant word, ``map_x``/``map_y`` 0..1 from :func:`pca_2d` of the descriptor embedding when
no encoder's ``latent/xy`` is present), :func:`write_csv` writes ``frames.csv`` and
:func:`segments_arrays` the arrays of ``segments.npz`` (descriptor embedding, latent, genre, dBFS).
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..labels import quadrant
from ..processor import Output
from .embedding import _EPS, DESC_BLOCKS, EMB_OUTPUT


@dataclass
class Column:
    """One CSV/JSON column: ``name``, the output it comes from and how to read it."""

    name: str
    source: str  # output name in the frame row
    element: int | None = None  # element of a tuple/vector value, None = the value itself
    kind: str = "num"  # "num" | "str"
    doc: str = ""


def emotion_source(by: dict) -> tuple | None:
    """Where valence/arousal come from: ``((src, element), (src, element), label output or None)``.

    An emotion model's ``emotion/valence``/``emotion/arousal`` (or its ``emotion`` pair) wins;
    without one, the rule-based ``emotion/rules`` pair; None when neither is present.
    """
    if "emotion/valence" in by and "emotion/arousal" in by:
        return ("emotion/valence", None), ("emotion/arousal", None), ("emotion/label" if "emotion/label" in by else None)
    if "emotion" in by and len(by["emotion"].type) == 2:
        return ("emotion", 0), ("emotion", 1), ("emotion/label" if "emotion/label" in by else None)
    if "emotion/rules" in by and len(by["emotion/rules"].type) == 2:
        return (("emotion/rules", 0), ("emotion/rules", 1),
                "emotion/rules/label" if "emotion/rules/label" in by else None)
    return None


def _short(name: str) -> str:
    return name[len("features/"):] if name.startswith("features/") else name.replace("/", "_")


def table_columns(outputs: Sequence[Output]) -> tuple[list[Column], list[str]]:
    """Columns of the per-frame table for the outputs present, and the vector outputs kept in JSON.

    ``index``, ``time``, ``start`` and ``map_x``/``map_y`` are always present; the others appear
    when the output that feeds them exists (see docs/analysis.md for the full list).
    """
    by = {o.name: o for o in outputs if o.stream != "event"}
    cols = [Column("index", "index", doc="frame index on the hop grid"),
            Column("time", "time", doc="end of the 1-s frame (s from the start of the file)"),
            Column("start", "start", doc="start of the 1-s frame (s, >= 0)")]
    vectors: list[str] = []
    used: set[str] = set()
    if "genre" in by:
        o = by["genre"]
        if len(o.type) == 2:
            cols += [Column("genre", "genre", 0, "str", "stable top genre"),
                     Column("genre_conf", "genre", 1, doc="its smoothed probability 0..1")]
        else:
            cols.append(Column("genre", "genre", None, "str", "stable top genre"))
        used.add("genre")
    for name, prefix in (("genre/probs", "prob_"), ("emotion/probs", "emo_")):
        if name in by:
            o = by[name]
            labels = o.labels or tuple(str(i) for i in range(o.shape))
            cols += [Column(prefix + str(lab), name, i, doc=f"{name}[{lab}] 0..1") for i, lab in enumerate(labels)]
            used.add(name)
    emo = emotion_source(by)
    if emo is not None:
        (sv, ev), (sa, ea), lab = emo
        cols += [Column("valence", sv, ev, doc=f"valence 0..1 ({sv})"),
                 Column("arousal", sa, ea, doc=f"arousal 0..1 ({sa})"),
                 Column("quadrant", lab or "__quadrant", None, "str", "happy/tense/sad/calm")]
        used |= {sv, sa} | ({lab} if lab else set())
        if sv == "emotion/valence":
            used.add("emotion")
    for name in ("key", "bpm"):
        if name in by:
            o = by[name]
            cols.append(Column(name, name, None, "str" if o.type == "s" else "num", o.doc))
            used.add(name)
    used |= {"genre/id", "latent", "latent/xy", "key/id"}
    for o in outputs:
        if o.name in used or o.internal or o.stream == "event" or o.name in {c.name for c in cols}:
            continue
        if len(o.type) > 1:  # a tuple: one column per element
            labels = o.labels if len(o.labels) == len(o.type) else tuple(str(i) for i in range(len(o.type)))
            cols += [Column(f"{_short(o.name)}_{lab}", o.name, i, "str" if t == "s" else "num", o.doc)
                     for i, (lab, t) in enumerate(zip(labels, o.type))]
        elif o.shape == 1:
            cols.append(Column(_short(o.name), o.name, None, "str" if o.type == "s" else "num", o.doc))
        else:
            vectors.append(o.name)
    if "latent/xy" in by:
        cols += [Column("map_x", "latent/xy", 0, doc="latent 2-D map position 0..1 (latent/xy)"),
                 Column("map_y", "latent/xy", 1, doc="latent 2-D map position 0..1 (latent/xy)")]
    else:
        cols += [Column("map_x", "__map", 0, doc="2-D position 0..1: PCA of the descriptor embedding"),
                 Column("map_y", "__map", 1, doc="2-D position 0..1: PCA of the descriptor embedding")]
    # Disambiguate accidental duplicates (two outputs with the same short name).
    seen: Counter = Counter()
    for c in cols:
        seen[c.name] += 1
        if seen[c.name] > 1:
            c.name = f"{c.name}_{seen[c.name]}"
    return cols, vectors


def _get(row: dict, col: Column) -> Any:
    v = row.get(col.source)
    if v is None:
        return "" if col.kind == "str" else float("nan")
    if col.element is not None:
        try:
            v = v[col.element]
        except (TypeError, IndexError, KeyError):
            return "" if col.kind == "str" else float("nan")
    if col.kind == "str":
        return str(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def pca_2d(x: np.ndarray) -> np.ndarray:
    """First two principal components of rows of ``x`` (each column z-scored first), each scaled
    to 0..1 (0.5 where degenerate: fewer than 2 rows, a constant component, no convergence).

    scikit-learn's PCA; its sign convention (each component's largest loading positive) fixes
    which end of an axis is 0, so the map does not flip between runs or machines.
    """
    from sklearn.decomposition import PCA

    x = np.asarray(x, dtype=np.float64)
    out = np.full((x.shape[0], 2), 0.5)
    if x.shape[0] < 2:
        return out
    xc = x - x.mean(axis=0)
    sd = xc.std(axis=0)
    xc = xc / np.where(sd > 1e-9, sd, 1.0)
    try:
        p = PCA(n_components=min(2, *xc.shape), svd_solver="full").fit_transform(xc)
    except (np.linalg.LinAlgError, ValueError):  # no convergence / non-finite values
        return out
    for j in range(p.shape[1]):
        lo, hi = p[:, j].min(), p[:, j].max()
        out[:, j] = (p[:, j] - lo) / (hi - lo) if hi - lo > 1e-12 else 0.5
    return out


def build_table(rows: list[dict], columns: list[Column]) -> list[dict]:
    """Per-frame table rows (plain Python values) from processor rows."""
    need_map = any(c.source == "__map" for c in columns)
    if need_map and rows and EMB_OUTPUT in rows[0]:
        xy = pca_2d(np.stack([r[EMB_OUTPUT] for r in rows]))
    else:
        xy = None
    v_col = next((c for c in columns if c.name == "valence"), None)
    a_col = next((c for c in columns if c.name == "arousal"), None)
    table = []
    for i, r in enumerate(rows):
        r = dict(r)
        r["start"] = max(0.0, float(r["time"]) - 1.0)
        if xy is not None:
            r["__map"] = xy[i]
        if v_col is not None:
            r["__quadrant"] = quadrant(_get(r, v_col), _get(r, a_col))
        t = {}
        for c in columns:
            val = _get(r, c)
            if c.name == "quadrant" and not val:
                val = r.get("__quadrant", "")
            if c.name == "index":
                val = int(r["index"])
            t[c.name] = val
        table.append(t)
    return table


def write_csv(path: Path, table: list[dict], columns: list[Column]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([c.name for c in columns])
        for t in table:
            w.writerow([(f"{t[c.name]:.6g}" if isinstance(t[c.name], float) else t[c.name]) for c in columns])



def segments_arrays(rows: list[dict], table: list[dict]) -> dict[str, np.ndarray]:
    """Arrays saved in ``segments.npz`` (no pickle: numeric and unicode arrays only)."""
    arr: dict[str, np.ndarray] = {
        "time": np.array([r["time"] for r in rows], dtype=np.float64),
        "index": np.array([r["index"] for r in rows], dtype=np.int64),
    }
    blocks = [b for b in DESC_BLOCKS if rows and all(b in r for r in rows)]
    if EMB_OUTPUT in blocks:
        mats = [np.stack([np.asarray(r[b], dtype=np.float32).reshape(-1) for r in rows]) for b in blocks]
        arr["desc"] = np.concatenate(mats, axis=1)
        arr["desc_blocks"] = np.array([m.shape[1] for m in mats], dtype=np.int64)
        arr["desc_names"] = np.array(blocks, dtype="U64")
    if rows and all(isinstance(r.get("latent"), np.ndarray) for r in rows):
        arr["latent"] = np.stack([r["latent"].astype(np.float32) for r in rows])
    if table and "genre" in table[0]:
        arr["genre"] = np.array([str(t["genre"]) for t in table], dtype="U64")
    if table and "dbfs" in table[0]:
        arr["dbfs"] = np.array([t["dbfs"] for t in table], dtype=np.float32)
    elif rows and "features/rms" in rows[0]:
        arr["dbfs"] = np.array([20 * math.log10(float(r["features/rms"]) + _EPS) for r in rows], dtype=np.float32)
    return arr
