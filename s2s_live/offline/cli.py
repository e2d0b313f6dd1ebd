"""The offline commands on ``s2s-live``'s command line: ``analyze``, ``similar`` and ``map``.

:func:`register` adds them to the argparse subparsers; ``--config``/``--hop``/``--window``/
``--models-dir`` map onto a :class:`~s2s_live.config.Config` (:func:`_cfg_from_args`) the same
way for all three.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from ..config import Config
from . import similarity
from .run import DEFAULT_OUT, analyze_paths
from .summary import summary_row


def _cfg_from_args(args) -> Config:
    return Config.from_args(args, ("hop", "window", "smoothing", "models_dir", "visuals", "visuals_model", "seed"))


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
    _register_similarity(subparsers)



def cmd_similar(args) -> int:
    cfg = _cfg_from_args(args)
    label, hits = similarity.similar(args.query, args.library, k=args.k, other_files=args.other_files, cfg=cfg,
                          kind=args.embedding)
    if args.m3u:
        similarity.write_m3u(args.m3u, hits)
    if args.xspf:
        similarity.write_xspf(args.xspf, hits, title=f"similar to {label}")
    if args.json:
        print(json.dumps({"query": label, "hits": [h.as_dict() for h in hits]}, indent=1))
        return 0
    print(f"nearest segments to {label}:")
    print(f"{'rank':>4} {'dist':>8} {'start':>8} {'end':>8}  {'genre':<10} file")
    for h in hits:
        print(f"{h.rank:>4} {h.distance:8.3f} {h.start:8.2f} {h.end:8.2f}  {h.genre or '-':<10} {h.file}")
    return 0


def cmd_map(args) -> int:
    lib = similarity.Library.load(args.library, min_dbfs=args.min_dbfs, kind=args.embedding)
    info = similarity.write_map(lib, args.out or args.library, k=args.k, method=args.method, seed=args.seed)
    print(f"{info['segments']} segments of {info['files']} files, {info['embedding']} embedding, k={info['k']}")
    for c in info["clusters"]:
        g = f"{c['genre']} ({c['genre_share']:.0%})" if c["genre"] else "-"
        print(f"  cluster {c['cluster']:2d}: {c['size']:5d} segments, genre {g}, mostly {c['main_file']} "
              f"-> {c['playlist']}")
    print(f"map: {info['map']}")
    return 0


def _register_similarity(subparsers) -> None:
    """Add ``similar`` and ``map`` (:mod:`s2s_live.offline.similarity` on the command line)."""
    p = subparsers.add_parser("similar", help="nearest 1-s segments in an analysed library",
                              description="Find the library segments closest to FILE[@SECONDS].")
    p.add_argument("query", metavar="FILE[@SECONDS]", help="a file (of the library or not), optionally @start s")
    p.add_argument("--library", "-l", required=True, help="folder written by `s2s-live analyze --out`")
    p.add_argument("-k", type=int, default=10, help="number of segments (default 10)")
    p.add_argument("--other-files", action="store_true", help="leave out segments of the query's own file")
    p.add_argument("--m3u", help="write an M3U playlist with start times")
    p.add_argument("--xspf", help="write an XSPF playlist with start times")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--embedding", choices=("desc", "latent"), default="desc",
                   help="segment vectors: descriptor embedding (default) or the encoder's latent")
    _add_common(p)
    p.set_defaults(func=cmd_similar)
    p = subparsers.add_parser("map", help="cluster and map the 1-s segments of an analysed library",
                              description="k-means clusters (k or by silhouette) and a 2-D map of a library.")
    p.add_argument("library", help="folder written by `s2s-live analyze --out`")
    p.add_argument("-k", type=int, default=None, help="clusters (default: best silhouette in 2..10)")
    p.add_argument("--method", choices=("pca", "tsne"), default="pca", help="2-D projection (default pca)")
    p.add_argument("--out", help="where to write map.png, segments.csv, clusters.json (default: the library)")
    p.add_argument("--min-dbfs", dest="min_dbfs", type=float, default=similarity.MIN_DBFS,
                   help=f"leave out segments quieter than this (default {similarity.MIN_DBFS})")
    p.add_argument("--seed", type=int, default=0, help="k-means / t-SNE seed")
    p.add_argument("--embedding", choices=("desc", "latent"), default="desc",
                   help="segment vectors: descriptor embedding (default) or the encoder's latent")
    p.set_defaults(func=cmd_map)
