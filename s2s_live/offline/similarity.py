"""Segment map and similarity (the EAFIT thesis): 1-s segments of a library, clusters, neighbours.

A *library* is a folder written by ``s2s-live analyze`` (one sub-folder per file holding
``segments.npz`` and ``summary.json``). Each file is cut into non-overlapping one-second
segments (the analysis frames whose end falls on 1, 2, 3... s; the first second of padding is
never a segment) and each segment is represented by

* by default the descriptor embedding ``desc`` (mean and std of 32 log-mel bands over the
  second, see :class:`s2s_live.offline.embedding.SegmentEmbedding`), z-scored per dimension across the
  library so that no band dominates;
* on request (``--embedding latent``) the encoder model's 128-D ``latent`` mean, used as is.

The default is ``desc`` because it separates styles better than the shipped compact VAE's
latent: on three synthetic styles (the similarity test's library) k-means with k=3 reaches an
adjusted Rand index of 1.0 on ``desc`` and 0.42 on ``latent``. A better-trained encoder can be
selected without code changes.

Silent segments (below ``min_dbfs``, default -60 dBFS) are left out. Distances are Euclidean in
that space. :func:`cluster` runs k-means (k given, or the k in 2..10 with the best silhouette),
:func:`project` makes the 2-D map (PCA, or t-SNE), :func:`write_map` plots it with clusters and
genres and writes one playlist per cluster, and :meth:`Library.nearest` answers
``s2s-live similar FILE[@SECONDS] --library DIR -k 10``. Playlists are M3U (VLC's
``#EXTVLCOPT:start-time``) or XSPF (VLC extension options) with start and stop times.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

import numpy as np

from ..errors import AudioFileError, ConfigError, LibraryError
from ..config import Config
from .files import load_audio
from .process import analysis_processors, run_processors
from .report import plot_library_map
from .tables import segments_arrays

SEGMENT_SECONDS = 1.0  #: length of a segment (the analysis frame)
MIN_DBFS = -60.0  #: segments quieter than this are not mapped


@dataclass
class Hit:
    """A segment found by :meth:`Library.nearest`; times in seconds from the file's start."""

    rank: int
    distance: float
    name: str
    file: str
    start: float
    end: float
    genre: str = ""

    def as_dict(self) -> dict:
        return {"rank": self.rank, "distance": self.distance, "name": self.name, "file": self.file,
                "start": self.start, "end": self.end, "genre": self.genre}


def select_segments(time: np.ndarray, *, hop: float, segment: float = SEGMENT_SECONDS) -> np.ndarray:
    """Indices of frames ending at 1, 1+segment, 1+2*segment... s (non-overlapping segments).

    ``time`` holds frame end times (s, increasing); a target with no frame within ``hop/2`` is
    skipped. ``segment`` >= hop seconds.
    """
    time = np.asarray(time, dtype=np.float64)
    if not isinstance(segment, (int, float)) or not segment > 0:
        raise ValueError(f"segment={segment!r} is invalid; expected seconds > 0")
    if time.size == 0:
        return np.zeros(0, dtype=np.int64)
    targets = np.arange(SEGMENT_SECONDS, time[-1] + 1e-6, segment)
    idx = np.searchsorted(time, targets)
    out = []
    for t, i in zip(targets, idx):
        best = None
        for j in (i - 1, i):
            if 0 <= j < time.size and (best is None or abs(time[j] - t) < abs(time[best] - t)):
                best = j
        if best is not None and abs(time[best] - t) <= hop / 2 + 1e-6 and (not out or out[-1] != best):
            out.append(best)
    return np.asarray(out, dtype=np.int64)


class Library:
    """The 1-s segments of every analysed file in a folder (see the module docstring).

    Attributes: ``names``/``files`` per file; per segment ``seg_file`` (file index), ``start``,
    ``end`` (s), ``genre`` (str, "" when no genre model), ``emb`` (N, D) in the distance space;
    ``kind`` "latent" or "desc"; ``mean``/``scale`` map raw vectors into that space.
    """

    def __init__(self, folder, names, files, seg_file, start, end, genre, raw, kind, hop, frame_of, blocks=None):
        self.folder = Path(folder)
        self.names, self.files = list(names), list(files)
        self.seg_file = np.asarray(seg_file, dtype=np.int64)
        self.start, self.end = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
        self.genre = np.asarray(genre, dtype="U64")
        self.kind, self.hop = kind, hop
        self.frame_of = np.asarray(frame_of, dtype=np.int64)
        raw = np.asarray(raw, dtype=np.float64)
        self.blocks = list(blocks) if blocks is not None else [raw.shape[1]]
        if kind == "desc":
            self.mean = raw.mean(axis=0)
            sd = raw.std(axis=0)
            # z-score, then weight each block by 1/sqrt(size): every block counts equally.
            w = np.concatenate([np.full(b, 1.0 / math.sqrt(b)) for b in self.blocks])
            self.scale = np.where(sd > 1e-6, sd, 1.0) / w
        else:
            self.mean = np.zeros(raw.shape[1])
            self.scale = np.ones(raw.shape[1])
        self.emb = self.transform(raw)

    def __len__(self) -> int:
        return int(self.emb.shape[0])

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """Raw segment vectors (n, D) of this library's kind -> the distance space."""
        raw = np.asarray(raw, dtype=np.float64)
        if raw.ndim == 1:
            raw = raw[None, :]
        if raw.shape[1] != self.mean.shape[0]:
            raise LibraryError(f"query vectors have {raw.shape[1]} dimensions; the library's {self.kind} "
                               f"vectors have {self.mean.shape[0]} (analysed with other models?)")
        return (raw - self.mean) / self.scale

    @classmethod
    def load(cls, folder, *, segment: float = SEGMENT_SECONDS, min_dbfs: float = MIN_DBFS,
             kind: str = "auto") -> "Library":
        """Read every ``*/segments.npz`` under ``folder`` (an ``s2s-live analyze`` output).

        ``kind`` "desc" (the default; "auto" means the same) or "latent".
        Raises LibraryError when nothing usable is found.
        """
        if kind not in ("auto", "latent", "desc"):
            raise ValueError(f"kind={kind!r} is invalid; expected 'auto', 'latent' or 'desc'")
        folder = Path(folder)
        if not folder.is_dir():
            raise LibraryError(f"library {str(folder)!r} is not a folder (run `s2s-live analyze ... --out DIR` first)")
        items = []
        for seg in sorted(folder.glob("*/segments.npz")):
            try:
                summ = json.loads((seg.parent / "summary.json").read_text(encoding="utf-8"))
                with np.load(seg, allow_pickle=False) as z:
                    data = {k: z[k] for k in z.files}
            except (OSError, ValueError) as exc:
                print(f"library: skipping {seg.parent.name}: {exc}", file=sys.stderr)
                continue
            items.append((seg.parent.name, summ, data))
        if not items:
            raise LibraryError(f"library {str(folder)!r} holds no analysed files (no */segments.npz)")
        if kind == "auto":
            kind = "desc"  # measured to separate styles better than the shipped VAE latent
        names, files, seg_file, start, end, genre, raw, frame_of = [], [], [], [], [], [], [], []
        hop = None
        blocks = None
        for name, summ, d in items:
            if kind not in d:
                print(f"library: {name} has no {kind!r} vectors; skipped", file=sys.stderr)
                continue
            h = summ.get("hop")
            if not h:
                h = float(np.median(np.diff(d["time"]))) if d["time"].size > 1 else 0.25
            h = float(h)
            hop = h if hop is None else hop
            idx = select_segments(d["time"], hop=h, segment=segment)
            if "dbfs" in d and idx.size:
                idx = idx[d["dbfs"][idx] >= min_dbfs]
            b = d["desc_blocks"].tolist() if kind == "desc" and "desc_blocks" in d else [d[kind].shape[1]]
            if blocks is None:
                blocks = b
            elif b != blocks:
                raise LibraryError(f"library {str(folder)!r}: {name} has {kind} blocks {b}, others {blocks}; "
                                   "re-analyse it with one set of models (--force)")
            fi = len(names)
            names.append(name)
            files.append(summ.get("file", name))
            if idx.size == 0:
                continue
            seg_file.append(np.full(idx.size, fi))
            end.append(d["time"][idx])
            start.append(d["time"][idx] - SEGMENT_SECONDS)
            genre.append(d["genre"][idx] if "genre" in d else np.full(idx.size, "", dtype="U64"))
            raw.append(d[kind][idx])
            frame_of.append(idx)
        if not raw:
            raise LibraryError(f"library {str(folder)!r} has no segment louder than {min_dbfs} dBFS")
        dims = {r.shape[1] for r in raw}
        if len(dims) > 1:
            raise LibraryError(f"library {str(folder)!r} mixes {kind} vectors of sizes {sorted(dims)}; "
                               "re-analyse it with one set of models (--force)")
        return cls(folder, names, files, np.concatenate(seg_file), np.concatenate(start), np.concatenate(end),
                   np.concatenate(genre), np.concatenate(raw), kind, hop or 0.25, np.concatenate(frame_of),
                   blocks)

    # -- look-ups -------------------------------------------------------------------------
    def file_index(self, path) -> int | None:
        """Index of a file of the library by path (resolved) or output name, else None."""
        p = Path(path)
        key = str(p.resolve()) if p.exists() else str(path)
        for i, (n, f) in enumerate(zip(self.names, self.files)):
            if f == key or n == str(path):
                return i
        return None

    def segment_at(self, file_index: int, seconds: float) -> int:
        """Library segment of file ``file_index`` covering ``seconds`` (the closest one)."""
        sel = np.flatnonzero(self.seg_file == file_index)
        if sel.size == 0:
            raise LibraryError(f"{self.names[file_index]} has no (non-silent) segment in the library")
        mid = (self.start[sel] + self.end[sel]) / 2
        return int(sel[np.argmin(np.abs(mid - (seconds + SEGMENT_SECONDS / 2)))])

    def nearest(self, query: np.ndarray, k: int = 10, *, exclude_file: int | None = None) -> list[Hit]:
        """The ``k`` segments closest to ``query`` (a vector in the distance space, see transform)."""
        _check_k(k)
        q = np.asarray(query, dtype=np.float64).reshape(-1)
        d = np.sqrt(np.maximum(0.0, ((self.emb - q) ** 2).sum(axis=1)))
        if exclude_file is not None:
            d[self.seg_file == exclude_file] = np.inf
        order = np.argsort(d, kind="stable")[:k]
        return [Hit(r + 1, float(d[i]), self.names[self.seg_file[i]], self.files[self.seg_file[i]],
                    float(self.start[i]), float(self.end[i]), str(self.genre[i]))
                for r, i in enumerate(order) if np.isfinite(d[i])]


# ---------------------------------------------------------------------------------------------
# Clusters and the 2-D map

def cluster(emb: np.ndarray, *, k: int | None = None, k_range: tuple[int, int] = (2, 10),
            seed: int = 0) -> tuple[np.ndarray, int, dict[int, float]]:
    """k-means labels of rows of ``emb``: ``(labels, k, silhouette by k)``.

    ``k`` None picks the k in ``k_range`` (inclusive, capped at n-1) with the best silhouette
    (computed on at most 3000 rows); an explicit ``k`` must be in 1..n.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    emb = np.asarray(emb, dtype=np.float64)
    n = emb.shape[0]
    if n < 2:
        return np.zeros(n, dtype=np.int64), 1, {}

    def fit(kk: int) -> np.ndarray:
        return KMeans(n_clusters=kk, n_init=10, random_state=seed).fit_predict(emb)

    if k is not None:
        if not isinstance(k, int) or not 1 <= k <= n:
            raise ValueError(f"k={k!r} is invalid; expected an int in 1..{n} (the number of segments)")
        labels = fit(k)
        scores = {}
        if 1 < k < n:
            scores[k] = float(silhouette_score(emb, labels, sample_size=min(n, 3000), random_state=seed))
        return labels.astype(np.int64), k, scores
    lo, hi = k_range
    if not (isinstance(lo, int) and isinstance(hi, int) and 2 <= lo <= hi):
        raise ValueError(f"k_range={k_range!r} is invalid; expected (lo, hi) with 2 <= lo <= hi")
    hi = min(hi, n - 1)
    if hi < lo:
        return np.zeros(n, dtype=np.int64), 1, {}
    best, scores = None, {}
    for kk in range(lo, hi + 1):
        labels = fit(kk)
        if len(set(labels.tolist())) < 2:
            continue
        scores[kk] = float(silhouette_score(emb, labels, sample_size=min(n, 3000), random_state=seed))
        if best is None or scores[kk] > scores[best[0]]:
            best = (kk, labels)
    if best is None:
        return np.zeros(n, dtype=np.int64), 1, scores
    return best[1].astype(np.int64), best[0], scores


def project(emb: np.ndarray, *, method: str = "pca", seed: int = 0) -> np.ndarray:
    """2-D coordinates (n, 2) of rows of ``emb``: ``"pca"`` (linear, fast) or ``"tsne"``."""
    emb = np.asarray(emb, dtype=np.float64)
    n = emb.shape[0]
    if method not in ("pca", "tsne"):
        raise ValueError(f"method={method!r} is invalid; expected 'pca' or 'tsne'")
    if n < 3:
        return np.zeros((n, 2))
    if method == "tsne":
        from sklearn.manifold import TSNE

        return TSNE(n_components=2, perplexity=float(min(30.0, (n - 1) / 3.0)), init="pca",
                    random_state=seed).fit_transform(emb)
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(emb)


def write_map(lib: Library, out_dir, *, k: int | None = None, method: str = "pca", seed: int = 0) -> dict:
    """Cluster the library, project it to 2-D and write, in ``out_dir``: ``map.png`` (clusters |
    genres), ``segments.csv`` (name, file, start, end, cluster, x, y, genre), ``clusters.json``
    (k, silhouettes, sizes, main genre per cluster) and ``cluster_NN.m3u`` playlists."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    labels, kk, scores = cluster(lib.emb, k=k, seed=seed)
    xy = project(lib.emb, method=method, seed=seed)
    with open(out / "segments.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "file", "start", "end", "cluster", "x", "y", "genre"])
        for i in range(len(lib)):
            w.writerow([lib.names[lib.seg_file[i]], lib.files[lib.seg_file[i]], f"{lib.start[i]:.3f}",
                        f"{lib.end[i]:.3f}", int(labels[i]), f"{xy[i, 0]:.5g}", f"{xy[i, 1]:.5g}", lib.genre[i]])
    clusters = []
    for c in range(kk):
        sel = np.flatnonzero(labels == c)
        g = [x for x in lib.genre[sel] if x]
        files = [lib.names[f] for f in lib.seg_file[sel]]
        top_g = max(set(g), key=g.count) if g else None
        top_f = max(set(files), key=files.count) if files else None
        # playlist: the segments nearest the cluster's centre first
        centre = lib.emb[sel].mean(axis=0) if sel.size else None
        order = sel[np.argsort(((lib.emb[sel] - centre) ** 2).sum(axis=1))] if sel.size else sel
        hits = [Hit(r + 1, 0.0, lib.names[lib.seg_file[i]], lib.files[lib.seg_file[i]], float(lib.start[i]),
                    float(lib.end[i]), str(lib.genre[i])) for r, i in enumerate(order[:100])]
        pl = out / f"cluster_{c:02d}.m3u"
        write_m3u(pl, hits)
        clusters.append({"cluster": c, "size": int(sel.size), "genre": top_g,
                         "genre_share": (g.count(top_g) / len(g)) if g else None,
                         "main_file": top_f, "playlist": pl.name})
    info = {"segments": len(lib), "files": len(lib.names), "embedding": lib.kind, "method": method, "k": kk,
            "silhouette": {str(a): b for a, b in scores.items()}, "clusters": clusters}
    (out / "clusters.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    plot_library_map(out / "map.png", xy=xy, labels=labels, genre=lib.genre,
                     file_names=[lib.names[i] for i in lib.seg_file], title=f"{len(lib)} segments, "
                     f"{lib.kind} embedding, {method.upper()}, k={kk}")
    info["map"] = str(out / "map.png")
    info["labels"] = labels
    info["xy"] = xy
    return info


# ---------------------------------------------------------------------------------------------
# Playlists

def _fmt_t(t: float) -> str:
    return f"{t:.3f}".rstrip("0").rstrip(".")


def write_m3u(path, hits: Sequence[Hit]) -> None:
    """Extended M3U with VLC's ``#EXTVLCOPT:start-time/stop-time`` (seconds) per entry."""
    lines = ["#EXTM3U"]
    for h in hits:
        dur = max(1, int(round(h.end - h.start)))
        lines.append(f"#EXTINF:{dur},{Path(h.file).stem} @ {_fmt_t(h.start)} s")
        lines.append(f"#EXTVLCOPT:start-time={_fmt_t(h.start)}")
        lines.append(f"#EXTVLCOPT:stop-time={_fmt_t(h.end)}")
        lines.append(str(h.file))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_xspf(path, hits: Sequence[Hit], *, title: str = "s2s-live similar segments") -> None:
    """XSPF playlist; start/stop times as VLC extension options (``start-time=S``)."""
    vlc = "http://www.videolan.org/vlc/playlist/0"
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<playlist version="1" xmlns="http://xspf.org/ns/0/" xmlns:vlc="{vlc}">',
           f"  <title>{escape(title)}</title>", "  <trackList>"]
    for h in hits:
        p = Path(h.file)
        loc = p.as_uri() if p.is_absolute() else escape(str(p))
        out += ["    <track>", f"      <location>{escape(loc)}</location>",
                f"      <title>{escape(p.stem)} @ {_fmt_t(h.start)} s</title>",
                f"      <duration>{int(round((h.end - h.start) * 1000))}</duration>",
                f"      <annotation>rank {h.rank}, distance {h.distance:.4g}"
                + (f", genre {escape(h.genre)}" if h.genre else "") + "</annotation>",
                f'      <extension application="{vlc}">',
                f"        <vlc:option>start-time={_fmt_t(h.start)}</vlc:option>",
                f"        <vlc:option>stop-time={_fmt_t(h.end)}</vlc:option>",
                "      </extension>", "    </track>"]
    out += ["  </trackList>", "</playlist>"]
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Queries

def _check_k(k) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"-k={k!r} is invalid; expected an int >= 1 (number of segments)")


def parse_query(q: str) -> tuple[str, float | None]:
    """``FILE[@SECONDS]`` -> (file, seconds or None). A path that exists as written wins (names
    may contain '@')."""
    if Path(q).exists() or "@" not in q:
        return q, None
    f, _, s = q.rpartition("@")
    try:
        sec = float(s)
    except ValueError:
        return q, None
    if not math.isfinite(sec) or sec < 0:
        raise ConfigError(f"query time {s!r} in {q!r} is invalid; expected seconds >= 0 (FILE@SECONDS)")
    return f, sec


def query_vector(lib: Library, file: str, seconds: float | None, *, cfg=None) -> tuple[np.ndarray, int | None, str]:
    """The query in the library's distance space: ``(vector, library file index or None, label)``.

    A file of the library uses its stored vectors; any other file is analysed now with the
    current models (same hop as the library). Without ``seconds`` the query is the mean of the
    file's segments.
    """
    fi = lib.file_index(file)
    if fi is not None:
        if seconds is None:
            sel = np.flatnonzero(lib.seg_file == fi)
            if sel.size == 0:
                raise LibraryError(f"{lib.names[fi]} has no (non-silent) segment in the library")
            return lib.emb[sel].mean(axis=0), fi, f"{lib.names[fi]} (whole file)"
        i = lib.segment_at(fi, seconds)
        return lib.emb[i], fi, f"{lib.names[fi]} @ {_fmt_t(lib.start[i])} s"
    cfg = cfg or Config()
    if abs(cfg.hop - lib.hop) > 1e-9:
        cfg.update(hop=lib.hop)
    y, sr = load_audio(file)
    rows = run_processors(y, sr, analysis_processors(cfg), hop=cfg.hop)
    seg = segments_arrays(rows, [])
    if lib.kind not in seg:
        raise LibraryError(f"{file!r}: the current models give no {lib.kind!r} vectors (the library's embedding)")
    times = seg["time"]
    idx = select_segments(times, hop=cfg.hop)
    if idx.size == 0:
        raise AudioFileError(f"{file!r} is shorter than one segment ({SEGMENT_SECONDS} s)")
    raw = seg[lib.kind][idx].astype(np.float64)
    if seconds is None:
        return lib.transform(raw).mean(axis=0), None, f"{Path(file).name} (whole file)"
    j = int(np.argmin(np.abs(times[idx] - SEGMENT_SECONDS - seconds)))
    return lib.transform(raw[j])[0], None, f"{Path(file).name} @ {_fmt_t(times[idx][j] - SEGMENT_SECONDS)} s"


def similar(query: str, library, *, k: int = 10, other_files: bool = False, cfg=None,
            min_dbfs: float = MIN_DBFS, kind: str = "desc") -> tuple[str, list[Hit]]:
    """Nearest library segments to ``FILE[@SECONDS]``: ``(query label, hits)``."""
    _check_k(k)  # the arguments first: a bad -k or @time is said before the library is read
    file, sec = parse_query(query)
    lib = library if isinstance(library, Library) else Library.load(library, min_dbfs=min_dbfs, kind=kind)
    vec, fi, label = query_vector(lib, file, sec, cfg=cfg)
    return label, lib.nearest(vec, k, exclude_file=fi if other_files else None)
