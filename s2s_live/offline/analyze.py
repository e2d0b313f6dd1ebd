"""Offline analysis of audio files: the theses' file workflow with the live engine's processors.

``s2s-live analyze PATH... [--out DIR] [--plots] [--image] [--jobs N]`` decodes each file with
soundfile (wav, flac, ogg, mp3, aiff, au), runs it through the *same* processors as live
(:func:`s2s_live.pipeline.build_processors`) unpaced and without dropped frames, and writes per
file (in ``OUT/<name>/``):

* ``frames.csv`` / ``frames.json`` — one row per analysis frame (columns: docs/analysis.md);
* ``summary.json`` — dominant genre with confidence, valence/arousal mean and spread, tempo,
  key, loudness, fingerprints used to resume;
* ``segments.npz`` — per-frame embeddings (``latent`` when an encoder is loaded, always the
  descriptor embedding ``desc``) for the segment map and ``s2s-live similar``;
* with ``--plots``: ``waveform.png`` (waveform + mel spectrogram), ``genre.png`` (genre
  probabilities over time), ``emotion.png`` (valence/arousal path on the Russell circumplex),
  ``map.png`` (the file's segments on a 2-D map);
* with ``--image``: ``image.png`` + ``image.json`` (prompt from the summary, Sound to Something).

The batch writes ``OUT/summary.csv`` and ``OUT/summary.json`` (one row per file, failures
included). Files already analysed with the same file fingerprint (size, mtime) and the same
models fingerprint (processor declarations, model sha256s, analysis settings) are skipped.

Nothing here runs in the live audio path; it is the offline twin of the engine.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .. import __version__
from ..config import Config
from ..errors import AudioFileError, ConfigError, S2SError
from ..features.fast import KEY_NAMES, key_correlations
from ..frames import SR_RECIPE
from ..processor import Output, Processor

AUDIO_EXTS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".au", ".oga", ".opus")
DEFAULT_OUT = "s2s_analysis"
SCHEMA_VERSION = 1  #: bump when the layout of the per-file outputs changes (forces re-analysis)
QUADRANT_NAMES = {  # Russell circumplex quadrants, as in /s2s/emotion/label
    "happy": "Q1 happy (+valence +arousal)",
    "tense": "Q2 tense (-valence +arousal)",
    "sad": "Q3 sad (-valence -arousal)",
    "calm": "Q4 calm (+valence -arousal)",
}
#: The descriptor embedding (fallback for the segment map when no encoder model is loaded):
#: log-mel band statistics of each 1-s frame, computed by :class:`SegmentEmbedding`.
EMB_MELS = 32
EMB_N_FFT = 1024
EMB_HOP = 512
EMB_OUTPUT = "analysis/mel"
#: Blocks of the descriptor embedding ``desc`` (those present are concatenated; the segment map
#: z-scores every dimension and weights each block by 1/sqrt(its size) so blocks count equally).
DESC_BLOCKS = (EMB_OUTPUT, "features/mfcc", "features/chroma", "features/contrast")
_EPS = 1e-10


# ---------------------------------------------------------------------------------------------
# Small DSP helpers (pure, keyword-only)

def mel_filterbank(*, sr: int, n_fft: int, n_mels: int = 64, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Slaney-style mel filterbank, as librosa's ``filters.mel`` defaults (htk=False, norm="slaney").

    Returns float64 (n_mels, 1 + n_fft // 2). ``sr`` in Hz (> 0), ``n_fft`` samples (>= 16),
    ``n_mels`` 1..512, ``0 <= fmin < fmax <= sr/2`` Hz.
    """
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ValueError(f"sr={sr!r} is invalid; expected a positive sample rate in Hz")
    if not isinstance(n_fft, (int, np.integer)) or n_fft < 16:
        raise ValueError(f"n_fft={n_fft!r} is invalid; expected an int >= 16")
    if not isinstance(n_mels, (int, np.integer)) or not 1 <= n_mels <= 512:
        raise ValueError(f"n_mels={n_mels!r} is invalid; expected an int in 1..512")
    fmax = sr / 2.0 if fmax is None else float(fmax)
    if not 0.0 <= fmin < fmax <= sr / 2.0:
        raise ValueError(f"fmin={fmin!r}, fmax={fmax!r} are invalid; expected 0 <= fmin < fmax <= {sr / 2}")

    f_sp, min_log_hz, min_log_mel, logstep = 200.0 / 3, 1000.0, 15.0, math.log(6.4) / 27.0

    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, _EPS) / min_log_hz) / logstep, f / f_sp)

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)

    fftfreqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    hz = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(hz)
    ramps = hz[:, None] - fftfreqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz[2 : n_mels + 2] - hz[:n_mels]))[:, None]
    return weights


def log_mel(*, y: np.ndarray, sr: int, n_fft: int = 2048, hop_length: int = 512, n_mels: int = 96,
            fb: np.ndarray | None = None) -> np.ndarray:
    """Log-mel power spectrogram in dB (n_mels, frames) of mono ``y`` (no centering, Hann window).

    Frames start every ``hop_length`` samples; ``y`` shorter than ``n_fft`` is zero-padded.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"y must be mono (1-D), got shape {y.shape}")
    if not isinstance(hop_length, (int, np.integer)) or hop_length < 1:
        raise ValueError(f"hop_length={hop_length!r} is invalid; expected an int >= 1")
    if fb is None:
        fb = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels)
    if y.shape[0] < n_fft:
        y = np.pad(y, (0, n_fft - y.shape[0]))
    n_frames = 1 + (y.shape[0] - n_fft) // hop_length
    win = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    out = np.empty((fb.shape[0], n_frames), dtype=np.float32)
    step = 2048  # frames per FFT batch: bounds memory on long files
    for s in range(0, n_frames, step):
        e = min(n_frames, s + step)
        idx = (np.arange(s, e) * hop_length)[:, None] + np.arange(n_fft)[None, :]
        spec = np.abs(np.fft.rfft(y[idx] * win, axis=1)) ** 2
        out[:, s:e] = (10.0 * np.log10(fb @ spec.T + _EPS)).astype(np.float32)
    return out


class SegmentEmbedding(Processor):
    """Offline-only descriptor embedding of each one-second frame (internal output ``analysis/mel``).

    The vector is the mean and standard deviation over time of 32 log-mel bands (dB; Hann
    n_fft=1024, hop 512 at 22050 Hz, 42 frames per second): 64 values describing the frame's
    timbre and its movement. It is the segment map's fallback when no ``latent`` (encoder) is
    present; ``s2s_live.offline.similarity`` standardises it across the library.
    """

    name = "analysis-embedding"
    outputs = (Output(EMB_OUTPUT, shape=2 * EMB_MELS, range=None, internal=True, unit="dB",
                      doc="mean and std of 32 log-mel bands over the 1-s frame (offline only)"),)

    def __init__(self) -> None:
        self.fb = mel_filterbank(sr=SR_RECIPE, n_fft=EMB_N_FFT, n_mels=EMB_MELS).astype(np.float32)
        n = 1 + (SR_RECIPE - EMB_N_FFT) // EMB_HOP
        self.idx = (np.arange(n) * EMB_HOP)[:, None] + np.arange(EMB_N_FFT)[None, :]
        self.win = np.hanning(EMB_N_FFT + 1)[:-1].astype(np.float32)

    def process(self, frame):
        spec = np.abs(np.fft.rfft(frame.y22[self.idx] * self.win, axis=1)) ** 2
        db = 10.0 * np.log10(spec @ self.fb.T + _EPS)
        return {EMB_OUTPUT: np.concatenate([db.mean(axis=0), db.std(axis=0)]).astype(np.float32)}


# ---------------------------------------------------------------------------------------------
# Files, decoding, fingerprints

def find_audio(paths: Iterable[str | os.PathLike]) -> list[tuple[Path, Path]]:
    """Expand files and folders (recursively) into ``(file, root)`` pairs, sorted, deduplicated.

    ``root`` is the folder the file was found under (its parent for a file given directly); it
    names the output folder. A path that does not exist raises :class:`AudioFileError`; files
    given explicitly are kept whatever their extension (unreadable ones fail later, per file).
    """
    out: list[tuple[Path, Path]] = []
    seen: set[Path] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTS)
            pairs = [(f, p) for f in found]
        elif p.is_file():
            pairs = [(p, p.parent)]
        else:
            raise AudioFileError(f"path {str(p)!r} does not exist (expected audio files or folders)")
        for f, root in pairs:
            r = f.resolve()
            if r not in seen:
                seen.add(r)
                out.append((f, root))
    return out


def output_name(path: Path, root: Path) -> str:
    """Folder name of a file's outputs: its path below ``root`` with ``/`` -> ``__``.

    The extension is kept (``a.wav`` and ``a.mp3`` do not collide): ``Q1/song.mp3`` -> ``Q1__song.mp3``.
    """
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        rel = Path(path.name)
    return "__".join(rel.parts).replace(" ", "_")


def load_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Decode a file with soundfile: ``(y, sr)`` with y float32 (frames, channels), sr in Hz.

    Raises AudioFileError naming the file when it cannot be decoded or holds no audio.
    """
    import soundfile as sf

    try:
        y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # noqa: BLE001 - libsndfile raises several types (LibsndfileError, RuntimeError...)
        raise AudioFileError(f"{str(path)!r} is not a readable audio file (wav/flac/ogg/mp3): {exc}") from None
    if y.shape[0] == 0:
        raise AudioFileError(f"{str(path)!r} contains no audio frames")
    return np.ascontiguousarray(y), int(sr)


_SAMPLE_BYTES = {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}


def _declared_frames(path: str | os.PathLike, info) -> int:
    """Frames the file's header promises. libsndfile trims a WAV's frame count to the bytes
    present (a cut file or a lying header reads as complete), so for RIFF/WAV the ``data``
    chunk's declared size is read directly; other formats report their header's count."""
    if info.format == "WAV" and info.subtype in _SAMPLE_BYTES:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        i = head.find(b"data", 12)
        if i >= 0 and i + 8 <= len(head):
            n = int.from_bytes(head[i + 4 : i + 8], "little")
            if n != 0xFFFFFFFF:  # "unknown" (streamed writers)
                return n // (_SAMPLE_BYTES[info.subtype] * max(1, info.channels))
    return int(info.frames)


def audio_warnings(path: str | os.PathLike, y: np.ndarray, sr: int) -> list[str]:
    """One line per thing wrong with a file that still decoded: cut short, or shorter than a frame."""
    import soundfile as sf

    out = []
    got = y.shape[0]
    try:
        want = _declared_frames(path, sf.info(str(path)))
    except (OSError, RuntimeError, ValueError):
        want = got
    if want > got * 1.01 + sr * 0.05:  # MP3 headers are estimates: allow 1% + 50 ms
        out.append(f"{str(path)!r} is truncated: its header promises {want / sr:.1f} s, only {got / sr:.2f} s "
                   "could be decoded; the analysis covers what is there")
    if got < sr:
        out.append(f"{str(path)!r} is {got / sr:.3f} s long, shorter than one analysis frame (1 s): "
                   "the frame is padded with silence")
    return out


def file_fingerprint(path: str | os.PathLike) -> str:
    """``size:mtime_ns`` of a file: changes when the file is rewritten."""
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}"


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    return x


def models_fingerprint(processors: Sequence[Processor], cfg: Config) -> str:
    """sha256 over what decides the analysis values: every processor's declaration (which for
    ONNX models includes the model card's sha256), the analysis settings and the package version.
    Two runs with the same fingerprint produce the same values for the same file."""
    desc = []
    for p in processors:
        try:
            desc.append(p.describe())
        except Exception as exc:  # noqa: BLE001 - a processor without describe(): use its name
            desc.append({"name": getattr(p, "name", type(p).__name__), "describe_error": str(exc)})
        card = getattr(p, "card", None) or getattr(getattr(p, "inner", None), "card", None)
        if isinstance(card, dict) and "sha256" in card:
            desc.append({"card_sha256": card["sha256"]})
    blob = {
        "schema": SCHEMA_VERSION, "version": __version__, "processors": desc,
        "settings": {k: getattr(cfg, k, None) for k in ("hop", "window", "smoothing", "models")},
    }
    return hashlib.sha256(json.dumps(_jsonable(blob), sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Running the processors

def analysis_processors(cfg: Config) -> list[Processor]:
    """The live processors for ``cfg`` (build_processors) plus the offline segment embedding."""
    from ..pipeline import build_processors

    return list(build_processors(cfg)) + [SegmentEmbedding()]


def run_processors(y: np.ndarray, sr: int, processors: Sequence[Processor], *, hop: float,
                   chunk: int = 4096, stats=None) -> list[dict]:
    """Run processors over an array unpaced, every frame analysed: one dict per frame.

    The same loop as :func:`s2s_live.pipeline.analyze_array` (and hence the live engine), with
    one addition: the newest values of fast-stream processors (e.g. ``bpm``, ``level``) at the
    time of each frame are copied into its row when the frame processors did not set that key.
    """
    from ..pipeline import Pipeline

    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        y = y[:, None]
    y = np.ascontiguousarray(y)
    pipe = Pipeline(samplerate=sr, channels=range(y.shape[1]), processors=list(processors), hop=hop,
                    drop_late=False, max_chunk=chunk, stats=stats)
    with _one_blas_thread():
        return _run_pipe(pipe, y, chunk)


def _one_blas_thread():
    """Limit BLAS/OpenMP pools to one thread while processors run: their small matrix products
    (mel filterbanks, recipe statistics) run ~3x slower with a multi-threaded pool on 2 cores
    (measured: 0.68 s vs 2.0 s for a 30-s clip), and parallel jobs would oversubscribe cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn (extra "analysis"); else no limit
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def _run_pipe(pipe, y: np.ndarray, chunk: int) -> list[dict]:
    from ..pipeline import run_unpaced

    return run_unpaced(pipe, y, chunk, include_fast=True)


# ---------------------------------------------------------------------------------------------
# The table: which columns, from which outputs

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


def _quadrant(v: float, a: float) -> str:
    """Quadrant word for valence/arousal 0..1 ("" when either is NaN)."""
    if not (math.isfinite(v) and math.isfinite(a)):
        return ""
    if a >= 0.5:
        return "happy" if v >= 0.5 else "tense"
    return "calm" if v >= 0.5 else "sad"


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
    """First two principal components of rows of ``x``, each scaled to 0..1 (zeros if degenerate)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full((x.shape[0], 2), 0.5)
    if x.shape[0] < 2:
        return out
    xc = x - x.mean(axis=0)
    sd = xc.std(axis=0)
    xc = xc / np.where(sd > 1e-9, sd, 1.0)
    try:
        _, _, vt = np.linalg.svd(xc, full_matrices=False)
    except np.linalg.LinAlgError:
        return out
    p = xc @ vt[:2].T
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
            r["__quadrant"] = _quadrant(_get(r, v_col), _get(r, a_col))
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


# ---------------------------------------------------------------------------------------------
# Summary

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
        lab = _quadrant(s["valence"]["mean"], s["arousal"]["mean"])
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


# ---------------------------------------------------------------------------------------------
# Writing

def write_csv(path: Path, table: list[dict], columns: list[Column]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([c.name for c in columns])
        for t in table:
            w.writerow([(f"{t[c.name]:.6g}" if isinstance(t[c.name], float) else t[c.name]) for c in columns])


def _atomic_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(_jsonable(obj), indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


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


@dataclass
class FileResult:
    """Outcome of one file: ``status`` "ok" | "skipped" | "error"."""

    path: str
    name: str
    status: str
    message: str = ""
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0


def is_done(folder: Path, file_fp: str, models_fp: str, *, plots: bool, image: bool) -> dict | None:
    """The stored summary if ``folder`` already holds this file's analysis with these models."""
    sp = folder / "summary.json"
    try:
        s = json.loads(sp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fp = s.get("fingerprint") or {}
    if fp.get("file") != file_fp or fp.get("models") != models_fp:
        return None
    needed = ["frames.csv", "frames.json", "segments.npz"]
    if plots:
        if not s.get("plots"):
            return None
        needed += list(s["plots"])
    if image:
        needed += ["image.png"]
    if not all((folder / n).is_file() for n in needed):
        return None
    return s


def analyze_file(path: str | os.PathLike, *, out_dir: str | os.PathLike, cfg: Config,
                 processors: Sequence[Processor] | None = None, name: str | None = None,
                 plots: bool = False, image: bool = False, force: bool = False,
                 models_fp: str | None = None) -> FileResult:
    """Analyse one file into ``out_dir/<name>/``; never raises for a bad file (status "error").

    ``processors`` are reused across files (reset by the pipeline's warm-up); None builds them.
    """
    path = Path(path)
    name = name or output_name(path, path.parent)
    folder = Path(out_dir) / name
    t0 = time.perf_counter()
    try:
        procs = list(processors) if processors is not None else analysis_processors(cfg)
        mfp = models_fp or models_fingerprint(procs, cfg)
        ffp = file_fingerprint(path)
        if not force:
            done = is_done(folder, ffp, mfp, plots=plots, image=image)
            if done is not None:
                return FileResult(str(path), name, "skipped", "already analysed with the same models", done)
        y, sr = load_audio(path)
        warnings = audio_warnings(path, y, sr)
        t1 = time.perf_counter()
        rows = run_processors(y, sr, procs, hop=cfg.hop)
        t_an = time.perf_counter() - t1
        if not rows:
            raise AudioFileError(f"{str(path)!r} is shorter than one hop ({cfg.hop} s): no frame to analyse")
        outputs = [o for p in procs for o in p.outputs if o.stream != "fast" or any(o.name in r for r in rows[:1])]
        columns, vectors = table_columns(outputs)
        table = build_table(rows, columns)
        folder.mkdir(parents=True, exist_ok=True)
        write_csv(folder / "frames.csv", table, columns)
        frames_json = []
        for t, r in zip(table, rows):
            d = dict(t)
            for v in vectors:
                if v in r:
                    d[v] = r[v]
            frames_json.append(d)
        events = [{"time": r["time"], "name": o.name, "value": r[o.name]}
                  for r in rows for p in procs for o in p.outputs if o.stream == "event" and o.name in r]
        _atomic_json(folder / "frames.json", {
            "file": str(path.resolve()), "hop": cfg.hop,
            "columns": [{"name": c.name, "source": c.source, "kind": c.kind, "doc": c.doc} for c in columns],
            "vectors": {v: list(next((o.labels for o in outputs if o.name == v), ())) for v in vectors},
            "frames": frames_json, "events": events,
        })
        seg = segments_arrays(rows, table)
        np.savez_compressed(folder / "segments.npz", **seg)
        duration = y.shape[0] / sr
        summary = summarize(table, rows, outputs)
        summary.update({
            "file": str(path.resolve()), "name": name, "duration": duration, "samplerate": sr,
            "channels": int(y.shape[1]), "hop": cfg.hop,
            "embedding": "latent" if "latent" in seg else "desc",
            "map_source": "latent/xy" if any(c.source == "latent/xy" for c in columns) else f"pca:{EMB_OUTPUT}",
            "columns": [c.name for c in columns],
            "outputs": [o.name for o in outputs],
            "analysis_seconds": t_an, "speed_x_realtime": duration / t_an if t_an > 0 else None,
            "version": __version__, "warnings": warnings,
        })
        if plots:
            from . import report

            summary["plots"] = report.file_plots(folder, y=y, sr=sr, table=table, rows=rows, columns=columns,
                                                 outputs=outputs, summary=summary)
        if image:
            summary["image"] = make_image(folder, summary, cfg)
        # Written last: its presence with matching fingerprints marks the file as done.
        summary["fingerprint"] = {"file": ffp, "models": mfp}
        _atomic_json(folder / "summary.json", summary)
        return FileResult(str(path), name, "ok", "; ".join(warnings), summary, time.perf_counter() - t0)
    except S2SError as exc:
        return FileResult(str(path), name, "error", str(exc), {}, time.perf_counter() - t0)
    except (OSError, ValueError, RuntimeError, MemoryError) as exc:
        return FileResult(str(path), name, "error", f"{type(exc).__name__}: {exc}", {}, time.perf_counter() - t0)


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


def make_image(folder: Path, summary: dict, cfg: Config) -> str:
    """Sound to Something's flow: a prompt from the summary and one image from the visuals backend.

    ``cfg.visuals == "diffusers"`` with ``cfg.visuals_model`` renders the prompt with diffusers;
    anything else uses the procedural renderer (deterministic in the state and ``cfg.seed``).
    Writes ``image.png`` and ``image.json`` (prompt, backend); returns the PNG's path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image as mpimg

    from ..visuals.prompt import build_prompt, load_templates

    state = summary_state(summary)
    prompt = build_prompt(state, load_templates())
    seed = int(cfg.seed) + int(hashlib.sha256(summary.get("file", "").encode()).hexdigest()[:6], 16)
    if cfg.visuals == "diffusers" and cfg.visuals_model:
        from ..visuals.diffusion import DiffusionBackend

        backend = DiffusionBackend(cfg.visuals_model)
        img = backend.generate(prompt.text, prompt.negative, seed=seed)
        used = {"backend": "diffusers", "model": cfg.visuals_model}
    else:
        from ..visuals.procedural import render_state

        img = render_state(state, seed=seed, size=512)
        used = {"backend": "procedural"}
    out = folder / "image.png"
    mpimg.imsave(out, np.asarray(img, dtype=np.uint8))
    _atomic_json(folder / "image.json", {"prompt": prompt.text, "negative": prompt.negative,
                                         "parts": prompt.parts, "state": state, "seed": seed, **used})
    return str(out)


# ---------------------------------------------------------------------------------------------
# Batches (parallel, resumable)

_WORKER: dict = {}


def _worker_init(cfg: Config) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    procs = analysis_processors(cfg)
    _WORKER.update(cfg=cfg, procs=procs, fp=models_fingerprint(procs, cfg))


def _worker_run(args) -> FileResult:
    path, name, out_dir, plots, image, force = args
    w = _WORKER
    return analyze_file(path, out_dir=out_dir, cfg=w["cfg"], processors=w["procs"], name=name, plots=plots,
                        image=image, force=force, models_fp=w["fp"])


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


def analyze_paths(paths: Sequence[str | os.PathLike], *, out_dir: str | os.PathLike = DEFAULT_OUT,
                  cfg: Config | None = None, plots: bool = False, image: bool = False, jobs: int = 1,
                  force: bool = False, progress: bool = True, report_html: bool = False,
                  log=None) -> list[FileResult]:
    """Analyse files/folders into ``out_dir``; returns one FileResult per file (never raises for
    a bad file). Writes ``out_dir/summary.csv`` and ``summary.json``; with ``plots`` and more than
    one file also the library's segment map (``out_dir/map.png``).

    ``jobs`` >= 1 worker processes (each builds its own processors); ``force`` re-analyses files
    already done.
    """
    cfg = cfg or Config()
    if not isinstance(jobs, int) or not 1 <= jobs <= 256:
        raise ConfigError(f"--jobs={jobs!r} is invalid; expected an int in 1..256")
    log = log or (lambda msg: print(msg, file=sys.stderr))
    files = find_audio(paths)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {str(out)!r} is an existing file; expected a folder (new or one used before)")
    out.mkdir(parents=True, exist_ok=True)
    names: dict[str, int] = {}
    tasks = []
    for f, root in files:
        n = output_name(f, root)
        if n in names:  # same relative name under two roots: keep both
            names[n] += 1
            n = f"{n}__{names[n]}"
        else:
            names[n] = 1
        tasks.append((str(f), n, str(out), plots, image, force))
    _check_out_clashes(out, tasks)
    results: list[FileResult] = []
    bar = _progress(len(tasks), enabled=progress)
    try:
        if jobs == 1 or len(tasks) <= 1:
            _worker_init(cfg)
            for t in tasks:
                r = _worker_run(t)
                _report(r, log)
                results.append(r)
                bar.update(1)
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed

            # spawn: numba/onnxruntime state must not be forked from a threaded parent.
            ctx = mp.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx,
                                     initializer=_worker_init, initargs=(cfg,)) as ex:
                futs = {ex.submit(_worker_run, t): t for t in tasks}
                for fu in as_completed(futs):
                    t = futs[fu]
                    try:
                        r = fu.result()
                    except Exception as exc:  # noqa: BLE001 - a crashed worker: report this file, go on
                        r = FileResult(t[0], t[1], "error", f"worker failed: {type(exc).__name__}: {exc}")
                    _report(r, log)
                    results.append(r)
                    bar.update(1)
    finally:
        bar.close()
    order = {t[0]: i for i, t in enumerate(tasks)}
    results.sort(key=lambda r: order.get(r.path, 0))
    write_batch_summary(out, results)
    ok = [r for r in results if r.status != "error"]
    if plots and len(ok) > 1:
        try:
            from . import similarity

            lib = similarity.Library.load(out)
            if len(lib) >= 3:
                similarity.write_map(lib, out)
        except (S2SError, ValueError) as exc:
            log(f"segment map skipped: {exc}")
    if report_html:
        from . import report

        report.write_html(out, results)
    return results


def _check_out_clashes(out: Path, tasks: list[tuple]) -> None:
    """Each input's results go to the folder ``out/<name>``; refuse, before analysing anything,
    when a file already has that path (typically ``--out`` is the folder of the inputs: the
    input ``x.wav`` and the results folder ``out/x.wav`` would be the same path)."""
    clashes = [(t[0], out / t[1]) for t in tasks if (out / t[1]).exists() and not (out / t[1]).is_dir()]
    if not clashes:
        return
    inp, where = clashes[0]
    more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
    raise ConfigError(
        f"--out {str(out)!r} already holds a file {str(where)!r}, the path of the results folder for "
        f"input {inp!r}{more}; choose an --out folder without files named like the inputs, "
        f"e.g. --out {str(out.parent / ((out.resolve().name or 'audio') + '_analysis'))!r}")


def _report(r: FileResult, log) -> None:
    if r.status == "error":
        log(f"error, file skipped: {r.message}")
    elif r.status == "ok":
        for w in r.summary.get("warnings") or ():
            log(f"warning: {w}")


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, *, enabled: bool):
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is optional (extra "analysis"): no bar
        return _NoBar()
    return tqdm(total=total, desc="analyze", unit="file", file=sys.stderr, dynamic_ncols=True)


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


# ---------------------------------------------------------------------------------------------
# Command line

def _cfg_from_args(args) -> Config:
    cfg = Config.from_toml(args.config) if getattr(args, "config", None) else Config()
    kw = {}
    for k in ("hop", "window", "smoothing", "models_dir", "visuals", "visuals_model", "seed"):
        v = getattr(args, k, None)
        if v is not None:
            kw[k] = v
    if kw:
        cfg.update(**kw)
    return cfg


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML config file (same keys as `s2s-live run`)")
    p.add_argument("--hop", type=float, help="seconds between analysis frames (default: config, 0.25)")
    p.add_argument("--window", type=float, help="seconds of rolling recipe statistics (default: config, 30)")
    p.add_argument("--models-dir", dest="models_dir", help="folder of models (default: the shipped models)")


def cmd_analyze(args) -> int:
    cfg = _cfg_from_args(args)
    from ..inference.card import incomplete_folders

    for problem in incomplete_folders(cfg.models_dir):
        print(f"s2s-live: warning: {problem}", file=sys.stderr, flush=True)
    res = analyze_paths(args.paths, out_dir=args.out, cfg=cfg, plots=args.plots, image=args.image,
                        jobs=args.jobs, force=args.force, progress=not args.quiet, report_html=args.html)
    n = Counter(r.status for r in res)
    print(f"{n['ok']} analysed, {n['skipped']} already done, {n['error']} failed -> {Path(args.out).resolve()}")
    if not args.quiet:
        for r in res:
            if r.status == "error":
                continue
            s = summary_row(r)
            g = f"{s['genre']} {s['genre_conf']:.2f}" if s["genre"] else "-"
            va = (f"v {s['valence_mean']:.2f}±{s['valence_std']:.2f} a {s['arousal_mean']:.2f}±{s['arousal_std']:.2f}"
                  if s["valence_mean"] is not None else "-")
            tempo = f"{s['tempo']:.0f} BPM" if s["tempo"] else "-"
            print(f"  {r.name}: genre {g} | {va} {s['quadrant'] or ''} | {tempo} | {s['key'] or '-'}")
    return 1 if n["error"] else 0


def register(subparsers) -> None:
    """Add ``analyze``, ``similar`` and ``map`` to the ``s2s-live`` argparse subparsers."""
    p = subparsers.add_parser("analyze", help="analyse audio files/folders offline (tables, plots, images)",
                              description="Run files through the live processors unpaced; write per-frame "
                                          "tables, summaries, plots and images. Resumable.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="audio files (wav/flac/ogg/mp3) or folders")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--plots", action="store_true", help="write PNG figures per file and the library map")
    p.add_argument("--image", action="store_true", help="write a prompt and an image per file")
    p.add_argument("--visuals", choices=("procedural", "diffusers"), help="image backend for --image")
    p.add_argument("--visuals-model", dest="visuals_model", help="diffusers model folder or cached id")
    p.add_argument("--jobs", "-j", type=int, default=1, help="parallel worker processes (default 1)")
    p.add_argument("--force", action="store_true", help="re-analyse files already done")
    p.add_argument("--html", action="store_true", help="write a static HTML report (index.html)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or per-file lines")
    _add_common(p)
    p.set_defaults(func=cmd_analyze)
    from . import similarity

    similarity.register(subparsers, _add_common, _cfg_from_args)
