"""Files through the analysis, one by one or in parallel worker processes, resumable.

:func:`analyze_file` writes one file's results into ``OUT/<name>/`` (``frames.csv``,
``frames.json``, ``segments.npz``, ``summary.json`` last; with plots the figures, with image
``image.png``/``image.json``) and never raises for a bad file; :func:`is_done` says whether a
folder already holds them for the same file and models fingerprints. :func:`analyze_paths` runs
a batch (``jobs`` spawned worker processes, a tqdm progress bar when available), then writes
the batch summary, the library's segment map and the HTML report. :func:`make_image` is Sound to
Something's flow: a prompt from the summary and one image from the visuals backend.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import __version__
from ..config import Config
from ..errors import AudioFileError, ConfigError, S2SError
from ..processor import Processor
from . import report, similarity
from .embedding import EMB_OUTPUT
from .files import _atomic_json, audio_warnings, file_fingerprint, find_audio, load_audio, models_fingerprint, output_name
from .process import analysis_processors, run_processors
from .summary import FileResult, summarize, summary_state, write_batch_summary
from .tables import build_table, segments_arrays, table_columns, write_csv

DEFAULT_OUT = "s2s_analysis"


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
            lib = similarity.Library.load(out)
            if len(lib) >= 3:
                similarity.write_map(lib, out)
        except (S2SError, ValueError) as exc:
            log(f"segment map skipped: {exc}")
    if report_html:
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
