"""``dataset show``: the per-clip table and ASCIML's figures, as CSV/JSON, PNGs and a static HTML page.

Per clip (librosa, at 16 kHz, n_fft 1024, hop_length 256, frames inside the clip): ``f0_hz`` — the
mean fundamental over the clip's voiced frames (pYIN; or YIN over the frames within 40 dB of its loudest,
``f0="yin"``, 100x faster and without a voicing decision), ``voiced`` — the share of frames that
count; ``centroid_hz`` — the mean spectral centroid over the same loud frames; ``rms`` and
``rms_max`` — mean and peak of the RMS envelope (frame 512, hop 256: 63 values a clip, kept in
``rms_envelope``; of the input before the Hamming window for recorded and added clips, so that
the envelope shows the sound, not the window); ``pca_1``/``pca_2`` — the clip's place in the PCA of the FFT magnitudes.

Figures (matplotlib, Agg): ``pca.png`` (PCA of each clip's FFT magnitude spectrum, scaled to unit
norm so that level does not dominate, coloured by label), ``f0.png`` (f0 against centroid per
clip), ``centroid.png`` (a centroid histogram per label) and ``envelopegram.png`` (the RMS
envelopes of all clips as an image in dB, one row per clip, sorted by label — the view ASCIML's
users rated most useful).
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .store import SR, Clip, clips

N_FFT = 1024
HOP = 256
RMS_FRAME = 512
FMIN, FMAX = 50.0, 2000.0  #: f0 search range (Hz): the generator's 55..1760 Hz and most voices
FLOOR_DB = 40.0  #: frames this far below a clip's loudest are left out of the means
SCALAR_COLUMNS = ("name", "label", "source", "f0_hz", "voiced", "centroid_hz", "rms", "rms_max", "input_rms",
                  "pca_1", "pca_2")
FIGURES = ("pca.png", "f0.png", "centroid.png", "envelopegram.png")


def clip_row(*, y: np.ndarray, sr: int = SR, f0: str = "pyin", window: np.ndarray | None = None) -> dict:
    """The descriptors of one clip (see the module docstring); NaN f0 when no frame is voiced.

    ``window``: the analysis window the clip was cut with (e.g. :func:`~.store.hamming`, whose
    minimum is 0.08); the RMS envelope is then that of ``y / window``, the input's own dynamics,
    since the window's shape would otherwise be the same hump in every clip's envelope."""
    import librosa

    if f0 not in ("pyin", "yin"):
        raise ConfigError(f"f0={f0!r} is invalid; expected 'pyin' or 'yin'")
    raw = y if window is None else (y / window).astype(np.float32)
    env = librosa.feature.rms(y=raw, frame_length=RMS_FRAME, hop_length=HOP)[0]
    # uncentred frames for the means: zero padding past the clip's ends is a step that would
    # pull the edge frames' centroid up (a 440 Hz sine read 476 Hz with centred frames)
    cen = librosa.feature.spectral_centroid(y=y, sr=sr, n_fft=N_FFT, hop_length=HOP, center=False)[0]
    lvl = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP, center=False)[0]
    peak = float(env.max()) if env.size else 0.0
    top = float(lvl.max()) if lvl.size else 0.0
    loud = lvl >= top * 10 ** (-FLOOR_DB / 20) if top > 1e-6 else np.zeros(lvl.shape, bool)
    c_loud = cen[loud]
    if f0 == "pyin":
        f, voiced, _ = librosa.pyin(y, fmin=FMIN, fmax=FMAX, sr=sr, frame_length=N_FFT, hop_length=HOP)
        v = f[voiced & np.isfinite(f)]
        frac = float(voiced.mean()) if voiced.size else 0.0
    else:
        f = librosa.yin(y, fmin=FMIN, fmax=FMAX, sr=sr, frame_length=N_FFT, hop_length=HOP, center=False)
        v = f[loud]
        frac = float(loud.mean()) if loud.size else 0.0
    return {"f0_hz": float(np.mean(v)) if v.size else float("nan"), "voiced": frac,
            "centroid_hz": float(np.mean(c_loud)) if c_loud.size else float("nan"),
            "rms": float(env.mean()), "rms_max": peak, "rms_envelope": [round(float(x), 6) for x in env]}


def fft_pca(X: np.ndarray) -> np.ndarray:
    """2-D PCA (scikit-learn) of the clips' FFT magnitudes, each spectrum scaled to unit norm;
    (n, 2), zeros for fewer than 2 clips."""
    from sklearn.decomposition import PCA

    if X.shape[0] < 2:
        return np.zeros((X.shape[0], 2))
    S = np.abs(np.fft.rfft(X, axis=1))
    S /= np.linalg.norm(S, axis=1, keepdims=True) + 1e-12
    k = min(2, X.shape[0])
    P = PCA(n_components=k, random_state=0).fit_transform(S)
    return np.pad(P, ((0, 0), (0, 2 - k)))


def table(items: list[Clip], *, f0: str = "pyin", progress: bool = False) -> list[dict]:
    """One row per clip: name, label, source, the descriptors and the PCA coordinates."""
    from tqdm import tqdm

    from .store import hamming

    win = hamming()
    X = np.stack([c.audio() for c in items]) if items else np.zeros((0, SR), np.float32)
    rows = []
    for c, y in zip(tqdm(items, desc="clips", disable=not progress), X):
        r = {"name": c.name, "label": c.label, "source": str(c.meta.get("source", "")),
             "input_rms": float(c.meta.get("input_rms", float("nan")))}
        r.update(clip_row(y=y, f0=f0, window=win if c.meta.get("window") == "hamming" else None))
        rows.append(r)
    P = fft_pca(X)
    for r, (a, b) in zip(rows, P):
        r["pca_1"], r["pca_2"] = float(a), float(b)
    return rows


def _labels(rows):
    labs = sorted({r["label"] for r in rows})
    return labs, {lab: i for i, lab in enumerate(labs)}


def _colors(plt, n):
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def plot_all(out: Path, rows: list[dict]) -> list[str]:
    """Write the four figures into ``out``; returns their file names."""
    from ..offline.report import DPI, _plt

    plt = _plt()
    labs, idx = _labels(rows)
    cols = _colors(plt, len(labs))
    lab = np.array([r["label"] for r in rows])

    def col(k):
        return np.array([r[k] for r in rows], dtype=np.float64)

    def finish(fig, ax, name, xlabel, ylabel, title, legend=True):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if labs and legend:
            ax.legend(fontsize=8, loc="best", markerscale=1.5)
        fig.tight_layout()
        fig.savefig(out / name, dpi=DPI)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 5.5))
    p1, p2 = col("pca_1"), col("pca_2")
    for i, l in enumerate(labs):
        m = lab == l
        ax.scatter(p1[m], p2[m], s=18, color=cols[i], label=f"{l} ({int(m.sum())})")
    finish(fig, ax, "pca.png", "PC 1", "PC 2", "PCA of the FFT magnitudes (unit-norm spectra)")

    fig, ax = plt.subplots(figsize=(7, 5.5))
    f0, cen = col("f0_hz"), col("centroid_hz")
    for i, l in enumerate(labs):
        m = (lab == l) & np.isfinite(f0) & np.isfinite(cen)
        ax.scatter(cen[m], f0[m], s=18, color=cols[i], label=f"{l} ({int(m.sum())} voiced)")
    if np.isfinite(f0).any():
        ax.set_yscale("log")
    if np.isfinite(cen).any():
        ax.set_xscale("log")
    finish(fig, ax, "f0.png", "spectral centroid (Hz, mean)", "f0 (Hz, mean of voiced frames)", "f0 per clip")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    fin = cen[np.isfinite(cen)]
    bins = np.geomspace(max(20.0, fin.min() * 0.9), fin.max() * 1.1, 30) if fin.size and fin.max() > 0 else 30
    for i, l in enumerate(labs):
        v = cen[(lab == l) & np.isfinite(cen)]
        if v.size:
            ax.hist(v, bins=bins, histtype="stepfilled", alpha=0.45, color=cols[i], label=l, edgecolor=cols[i])
    if fin.size:
        ax.set_xscale("log")
    finish(fig, ax, "centroid.png", "spectral centroid (Hz, mean per clip)", "clips", "spectral centroid per label")

    order = sorted(range(len(rows)), key=lambda i: (rows[i]["label"], rows[i]["name"]))
    n_env = max((len(r["rms_envelope"]) for r in rows), default=1)
    E = np.full((max(1, len(rows)), n_env), 1e-6)
    for j, i in enumerate(order):
        e = rows[i]["rms_envelope"]
        E[j, : len(e)] = np.maximum(e, 1e-6)
    D = 20 * np.log10(E)
    fig, ax = plt.subplots(figsize=(8, max(3.0, min(14.0, 1.5 + 0.04 * len(rows)))))
    im = ax.imshow(D, aspect="auto", cmap="magma", vmin=-80, vmax=0, interpolation="nearest",
                   extent=(0, n_env * HOP / SR, len(order), 0))
    bounds, start = [], 0
    for j in range(1, len(order) + 1):
        if j == len(order) or rows[order[j]]["label"] != rows[order[start]]["label"]:
            bounds.append((start, j, rows[order[start]]["label"]))
            start = j
    for a, b, l in bounds:
        if b < len(order):
            ax.axhline(b, color="w", linewidth=0.8)
    ax.set_yticks([(a + b) / 2 for a, b, _ in bounds], [f"{l} ({b - a})" for a, b, l in bounds], fontsize=8)
    fig.colorbar(im, ax=ax, label="RMS (dBFS)")
    finish(fig, ax, "envelopegram.png", "time in clip (s)", "", "envelopegram: RMS envelope of every clip, sorted by label",
           legend=False)
    return list(FIGURES)


def write_table(out: Path, rows: list[dict]) -> tuple[Path, Path]:
    """``table.csv`` (scalar columns, the envelope as ';'-joined values) and ``table.json``."""
    pc, pj = out / "table.csv", out / "table.json"
    with open(pc, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*SCALAR_COLUMNS, "rms_envelope"])
        for r in rows:
            w.writerow([r[k] if not isinstance(r[k], float) else f"{r[k]:.6g}" for k in SCALAR_COLUMNS]
                       + [";".join(f"{x:.5g}" for x in r["rms_envelope"])])
    pj.write_text(json.dumps(rows, indent=1, allow_nan=True), encoding="utf-8")
    return pc, pj


def write_html(out: Path, rows: list[dict], *, title: str) -> Path:
    """``index.html``: the four figures and the table, with the offline report's style."""
    from ..offline.report import STYLE

    e = html.escape
    labs, _ = _labels(rows)
    counts = ", ".join(f"{l}: {sum(r['label'] == l for r in rows)}" for l in labs)
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>s2s-live dataset</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>s2s-live dataset {e(title)}</h1>",
             f"<p>{len(rows)} clips ({e(counts)}) · <a href='table.csv'>table.csv</a> · "
             "<a href='table.json'>table.json</a></p>"]
    for img in FIGURES:
        parts.append(f"<img src='{img}' alt='{img}'>")
    shown = [c for c in SCALAR_COLUMNS if c != "source"]
    parts.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in shown) + "</tr>")
    for r in rows:
        cells = [f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]) for c in shown]
        parts.append("<tr>" + "".join(f"<td>{e(v)}</td>" for v in cells) + "</tr>")
    parts.append("</table></body></html>")
    p = out / "index.html"
    p.write_text("\n".join(parts), encoding="utf-8")
    return p


def show(folder, out, *, f0: str = "pyin", progress: bool = False) -> dict:
    """Table, figures and HTML page of the dataset ``folder`` into ``out``; returns the paths
    written and the rows."""
    items = clips(folder)
    if not items:
        raise ConfigError(f"dataset {str(folder)!r} has no clips yet; add some with `s2s-live dataset add|record|synth`")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = table(items, f0=f0, progress=progress)
    pc, pj = write_table(out, rows)
    figs = plot_all(out, rows)
    page = write_html(out, rows, title=str(folder))
    return {"rows": rows, "csv": pc, "json": pj, "figures": [out / f for f in figs], "html": page}


__all__ = ["clip_row", "fft_pca", "table", "plot_all", "write_table", "write_html", "show", "FIGURES"]
