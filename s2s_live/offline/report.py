"""Figures and the static HTML report of offline analysis (matplotlib, Agg backend; no display).

Per file (``file_plots``): ``waveform.png`` (waveform + mel spectrogram), ``descriptors.png``
(loudness, centroid, tempo over time), ``genre.png`` (genre probabilities over time, when a genre
model is loaded), ``emotion.png`` (the valence/arousal path on Russell's circumplex with the
quadrant names, when emotion is present) and ``map.png`` (the file's 1-s segments on the 2-D
map, coloured by time). Per library: ``plot_library_map`` (clusters | genres). ``write_html``
gathers the batch summary table and every figure in ``index.html``.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Sequence

import numpy as np

from ..frames import SR_RECIPE
from .embedding import log_mel
from .summary import QUADRANT_NAMES, SUMMARY_COLUMNS, summary_row

DPI = 100
#: The reports' CSS (this page and the dataset report, :mod:`s2s_live.dataset.show`).
STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
         "td,th{border:1px solid #ccc;padding:3px 6px}img{max-width:100%;margin:4px 0}.err{color:#b00}")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _col(table: list[dict], name: str) -> np.ndarray:
    return np.array([t.get(name, np.nan) for t in table], dtype=np.float64)


def _mono22(y: np.ndarray, sr: int) -> np.ndarray:
    m = y.mean(axis=1) if y.ndim == 2 else y
    m = np.ascontiguousarray(m, dtype=np.float32)
    if sr != SR_RECIPE:
        import soxr

        m = soxr.resample(m, sr, SR_RECIPE).astype(np.float32)
    return m


def plot_waveform(path, *, y: np.ndarray, sr: int, title: str = "") -> None:
    """Waveform (min/max envelope) above a log-mel spectrogram (96 bands, dB) of the file."""
    plt = _plt()
    m = _mono22(y, sr)
    t_end = m.shape[0] / SR_RECIPE
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True, gridspec_kw={"height_ratios": [1, 2]})
    n_px = 2000
    hop = max(1, m.shape[0] // n_px)
    k = m.shape[0] // hop
    env = m[: k * hop].reshape(k, hop)
    tt = (np.arange(k) + 0.5) * hop / SR_RECIPE
    a1.fill_between(tt, env.min(axis=1), env.max(axis=1), color="#2a6fb0", linewidth=0)
    a1.set_ylim(-1, 1)
    a1.set_ylabel("amplitude")
    a1.set_title(title or "waveform and mel spectrogram")
    spec_hop = 512 if t_end < 600 else 2048
    S = log_mel(y=m, sr=SR_RECIPE, n_fft=2048, hop_length=spec_hop, n_mels=96)
    vmax = float(S.max()) if S.size else 0.0
    a2.imshow(S, origin="lower", aspect="auto", cmap="magma", vmin=vmax - 80, vmax=vmax,
              extent=(0, S.shape[1] * spec_hop / SR_RECIPE, 0, S.shape[0]))
    a2.set_ylabel("mel band (96, 0-11 kHz)")
    a2.set_xlabel("time (s)")
    a2.set_xlim(0, t_end)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_genre(path, *, table: list[dict], labels: Sequence[str], title: str = "") -> None:
    """Stacked genre probabilities over time (one colour per genre)."""
    plt = _plt()
    t = _col(table, "time")
    P = np.stack([_col(table, f"prob_{lab}") for lab in labels])
    P = np.nan_to_num(P)
    fig, ax = plt.subplots(figsize=(11, 4))
    cmap = plt.get_cmap("tab10" if len(labels) <= 10 else "tab20")
    ax.stackplot(t, P, labels=list(labels), colors=[cmap(i % cmap.N) for i in range(len(labels))])
    ax.set_xlim(t.min(), t.max() if t.size > 1 else t.min() + 1)
    ax.set_ylim(0, max(1.0, float(P.sum(axis=0).max()) if P.size else 1.0))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("probability")
    ax.set_title(title or "genre probabilities over time")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_emotion(path, *, table: list[dict], title: str = "") -> None:
    """Valence/arousal path (colour = time) on Russell's circumplex with the quadrant names."""
    from matplotlib.collections import LineCollection

    plt = _plt()
    v, a, t = _col(table, "valence"), _col(table, "arousal"), _col(table, "time")
    ok = np.isfinite(v) & np.isfinite(a)
    v, a, t = v[ok], a[ok], t[ok]
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    th = np.linspace(0, 2 * np.pi, 200)
    ax.plot(0.5 + 0.5 * np.cos(th), 0.5 + 0.5 * np.sin(th), color="0.7", lw=1)
    ax.axhline(0.5, color="0.7", lw=1)
    ax.axvline(0.5, color="0.7", lw=1)
    for (x, y, q), col in zip(((0.98, 0.98, "happy"), (0.02, 0.98, "tense"), (0.02, 0.02, "sad"),
                               (0.98, 0.02, "calm")), ("#e3a21a", "#c0392b", "#2c3e91", "#27ae60")):
        ax.text(x, y, QUADRANT_NAMES[q], ha="right" if x > 0.5 else "left", va="top" if y > 0.5 else "bottom",
                fontsize=9, color=col, weight="bold")
    if v.size:
        pts = np.stack([v, a], axis=1)
        if v.size > 1:
            segs = np.stack([pts[:-1], pts[1:]], axis=1)
            lc = LineCollection(segs, cmap="viridis", linewidths=1.5)
            lc.set_array(t[:-1])
            ax.add_collection(lc)
            fig.colorbar(lc, ax=ax, fraction=0.046, pad=0.04, label="time (s)")
        ax.scatter(v, a, c=t, cmap="viridis", s=8, zorder=3)
        ax.scatter([v[0]], [a[0]], marker="o", s=80, facecolor="none", edgecolor="k", zorder=4, label="start")
        ax.scatter([v[-1]], [a[-1]], marker="s", s=80, facecolor="none", edgecolor="k", zorder=4, label="end")
        ax.scatter([v.mean()], [a.mean()], marker="*", s=220, color="k", zorder=5, label="mean")
        ax.legend(loc="center left", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("valence (0 negative .. 1 positive)")
    ax.set_ylabel("arousal (0 calm .. 1 energetic)")
    ax.set_title(title or "valence / arousal (Russell circumplex)")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_descriptors(path, *, table: list[dict], title: str = "") -> None:
    """Loudness (dBFS), spectral centroid (Hz) and tempo (BPM, when present) over time."""
    plt = _plt()
    t = _col(table, "time")
    rows = [(n, u) for n, u in (("dbfs", "dBFS"), ("centroid", "Hz"), ("bpm", "BPM"), ("tempo", "BPM"))
            if table and n in table[0] and np.isfinite(_col(table, n)).any()]
    rows = rows or [("time", "s")]
    fig, axes = plt.subplots(len(rows), 1, figsize=(11, 1.8 + 1.4 * len(rows)), sharex=True, squeeze=False)
    for ax, (n, u) in zip(axes[:, 0], rows):
        ax.plot(t, _col(table, n), lw=1.2, color="#2a6fb0")
        ax.set_ylabel(f"{n} ({u})")
        ax.grid(alpha=0.3)
    axes[0, 0].set_title(title or "descriptors over time")
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_file_map(path, *, table: list[dict], source: str, title: str = "") -> None:
    """The file's 1-s segments on the 2-D map (map_x, map_y), joined in time order."""
    plt = _plt()
    x, y, t = _col(table, "map_x"), _col(table, "map_y"), _col(table, "time")
    ok = np.isfinite(x) & np.isfinite(y) & (t >= 1.0 - 1e-6)
    x, y, t = x[ok], y[ok], t[ok]
    fig, ax = plt.subplots(figsize=(6.5, 6))
    ax.plot(x, y, color="0.8", lw=0.8, zorder=1)
    sc = ax.scatter(x, y, c=t, cmap="plasma", s=14, zorder=2)
    if t.size:
        fig.colorbar(sc, ax=ax, label="time (s)")
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("map x")
    ax.set_ylabel("map y")
    ax.set_title(title or f"segment map ({source})")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def file_plots(folder: Path, *, y: np.ndarray, sr: int, table: list[dict], rows: list[dict], columns,
               outputs, summary: dict) -> list[str]:
    """Write the per-file figures into ``folder``; returns their file names."""
    name = summary.get("name", "")
    made = []
    plot_waveform(folder / "waveform.png", y=y, sr=sr, title=f"{name}: waveform and mel spectrogram")
    made.append("waveform.png")
    plot_descriptors(folder / "descriptors.png", table=table, title=f"{name}: descriptors over time")
    made.append("descriptors.png")
    labels = next((o.labels for o in outputs if o.name == "genre/probs"), None)
    if labels and table and f"prob_{labels[0]}" in table[0]:
        g = summary.get("genre") or {}
        plot_genre(folder / "genre.png", table=table, labels=labels,
                   title=f"{name}: genre probabilities (dominant {g.get('label')} {g.get('confidence', 0):.2f})")
        made.append("genre.png")
    if table and "valence" in table[0]:
        plot_emotion(folder / "emotion.png", table=table, title=f"{name}: valence/arousal")
        made.append("emotion.png")
    plot_file_map(folder / "map.png", table=table, source=summary.get("map_source", ""),
                  title=f"{name}: segment map ({summary.get('map_source', '')})")
    made.append("map.png")
    return made


def plot_library_map(path, *, xy: np.ndarray, labels: np.ndarray, genre: np.ndarray, file_names: Sequence[str],
                     title: str = "") -> None:
    """Library segment map: left coloured by k-means cluster, right by genre (or by file when no
    genre model was loaded)."""
    plt = _plt()
    xy = np.asarray(xy)
    by_genre = any(str(g) for g in genre)
    cats = [str(g) for g in genre] if by_genre else list(file_names)
    uniq = sorted(set(cats))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 6))
    cm = plt.get_cmap("tab10" if max(labels.max(initial=0) + 1, len(uniq)) <= 10 else "tab20")
    for c in sorted(set(labels.tolist())):
        s = labels == c
        a1.scatter(xy[s, 0], xy[s, 1], s=10, color=cm(c % cm.N), label=f"cluster {c}")
    a1.set_title("k-means clusters")
    a1.legend(fontsize=7, markerscale=2, loc="best")
    shown = uniq[:20]
    for i, u in enumerate(shown):
        s = np.array([c == u for c in cats])
        a2.scatter(xy[s, 0], xy[s, 1], s=10, color=cm(i % cm.N), label=u[:28])
    if len(uniq) > len(shown):
        s = np.array([c not in shown for c in cats])
        a2.scatter(xy[s, 0], xy[s, 1], s=6, color="0.7", label=f"{len(uniq) - len(shown)} more")
    a2.set_title("genre (stable top label)" if by_genre else "file")
    a2.legend(fontsize=7, markerscale=2, loc="best")
    for ax in (a1, a2):
        ax.set_xlabel("component 1")
        ax.set_ylabel("component 2")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def write_html(out: Path, results) -> Path:
    """A static ``index.html`` in ``out``: the batch table and every file's figures (relative links)."""
    out = Path(out)
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>s2s-live analysis</title>",
             f"<style>{STYLE}</style></head><body>", "<h1>s2s-live offline analysis</h1>"]
    cols = [c for c in SUMMARY_COLUMNS if c not in ("file", "message")]
    parts.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr>")
    for r in results:
        row = summary_row(r)
        cells = []
        for c in cols:
            v = row[c]
            v = f"{v:.3g}" if isinstance(v, float) else ("" if v is None else str(v))
            if c == "name" and r.status != "error":
                v = f"<a href='#{e(r.name)}'>{e(v)}</a>"
            else:
                v = e(v)
            cells.append(f"<td>{v}</td>")
        parts.append(f"<tr class='{'err' if r.status == 'error' else ''}'>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    if (out / "map.png").is_file():
        parts.append("<h2>Library segment map</h2><img src='map.png'>")
    for r in results:
        if r.status == "error":
            parts.append(f"<p class='err'>{e(r.path)}: {e(r.message)}</p>")
            continue
        parts.append(f"<h2 id='{e(r.name)}'>{e(r.name)}</h2><p>{e(r.path)}</p>")
        for img in (r.summary or {}).get("plots", []) + (["image.png"] if (r.summary or {}).get("image") else []):
            rel = f"{r.name}/{img}"
            if (out / rel).is_file():
                parts.append(f"<img src='{e(rel)}' alt='{e(img)}'>")
        parts.append(f"<p><a href='{e(r.name)}/frames.csv'>frames.csv</a> · "
                     f"<a href='{e(r.name)}/summary.json'>summary.json</a></p>")
    parts.append("</body></html>")
    p = out / "index.html"
    p.write_text("\n".join(parts), encoding="utf-8")
    return p


__all__ = ["file_plots", "plot_library_map", "write_html", "plot_waveform", "plot_genre", "plot_emotion",
           "plot_descriptors", "plot_file_map"]
