"""``s2s-live warmup``: compile every numba kernel ahead of time, into the per-user kernel cache.

A fresh install (or an upgrade of s2s_live, numba or librosa) leaves the kernel cache cold, and
the first start then compiles for ~30 s on a 2-core machine. ``scripts/install.sh`` runs this
command after ``pip install`` so that the first ``s2s-live demo`` sends its first frame within a
few seconds.

Kernels are warmed by running the real code paths, not a list of kernels: the default processors
(:func:`s2s_live.pipeline.build_processors`) in a live :class:`~s2s_live.pipeline.Pipeline`
(``Pipeline.warmup()``, the frame assembler and its resamplers, then a few seconds of streamed
synthetic music), the offline analysis of a short file (:func:`s2s_live.offline.run.analyze_file`)
and the procedural visuals renderer (still image and live animation). A kernel someone adds to
a processor is therefore warmed as soon as the processor is in the default list. Kernels that
no path compiled are listed (and recorded in the cache's stamp, so ``doctor`` does not count
them as missing).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from . import kernels
from .config import Config

DEMO_SAMPLERATE = 44100  #: Hz; the synth source's rate (any rate compiles the same kernels)
STREAM_SECONDS = 3.0  #: seconds of synthetic music streamed through each path


def _music(seconds: float, sr: int = DEMO_SAMPLERATE) -> np.ndarray:
    """Stereo float32 synthetic music (frames x 2), as the demo's source produces."""
    from .capture.synth import MusicSynth

    y = np.asarray(MusicSynth(sr=sr, seed=1, section_seconds=2.0).render(seconds), dtype=np.float32)
    if y.ndim == 1:
        y = np.stack([y, y], axis=1)
    return np.ascontiguousarray(y)


def warm_engine(cfg: Config) -> int:
    """The live path: default processors in a live (dropping) Pipeline, warmed, then streamed.

    Returns the number of frames analysed."""
    from .pipeline import Pipeline, build_processors, run_unpaced

    procs = build_processors(cfg)
    pipe = Pipeline(samplerate=DEMO_SAMPLERATE, channels=[0, 1], processors=procs, hop=cfg.hop)
    try:
        pipe.warmup()
        # streaming exercises what warmup() may not (run_fast/run_frame with real audio)
        rows = run_unpaced(pipe, _music(STREAM_SECONDS), pipe.assembler.max_chunk, include_fast=True)
    finally:
        pipe.close()
    return len(rows)


def warm_analysis(cfg: Config) -> str:
    """The offline path: ``analyze_file`` on a short stereo wav in a temporary folder."""
    import soundfile as sf

    from .offline.run import analyze_file

    with tempfile.TemporaryDirectory(prefix="s2s_warmup_") as tmp:
        wav = Path(tmp) / "warmup.wav"
        sf.write(str(wav), _music(STREAM_SECONDS), DEMO_SAMPLERATE)
        res = analyze_file(wav, out_dir=Path(tmp) / "out", cfg=cfg, force=True)
    if res.status != "ok":
        raise RuntimeError(f"offline analysis of the warm-up clip failed: {res.message}")
    return res.status


def warm_visuals(cfg: Config) -> None:
    """The procedural renderer: a still image and a few live-animation frames (small sizes: the
    kernel's types, not the image size, decide what is compiled)."""
    from .visuals import procedural
    from .visuals.state import default_state

    state = default_state()
    state.update(genre="rock", valence=0.7, arousal=0.8, level=0.6, bpm=120.0)
    procedural.render_state(state, seed=cfg.seed, size=64)
    anim = procedural.Animator(size=64, seed=cfg.seed)
    for _ in range(2):
        anim.update(state, {"level": 0.5, "onset": 0.2}, 0.05)
        anim.frame()


STEPS: tuple[tuple[str, Callable[[Config], object]], ...] = (
    ("engine", warm_engine), ("analysis", warm_analysis), ("visuals", warm_visuals))


def warm_all(cfg: Config | None = None, *, log: Callable[[str], None] = print) -> dict:
    """Run every path once so numba compiles (and caches) their kernels.

    Returns ``{"seconds", "compiled", "kernels", "unused", "cache_dir"}``: seconds spent, names
    compiled now, all kernels of the package, and those no path compiled (e.g. a kernel only a
    non-default option uses).
    """
    cfg = cfg or Config(source="synth", visuals="procedural")
    kernels.import_kernel_modules()
    before = kernels.check()
    folder = before.folder or "numba's default locations (the per-user cache folder is not writable)"
    if before.warm:
        log(f"warmup: kernels already cached in {folder}; checking every path")
    else:
        log(f"warmup: compiling DSP kernels into {folder}, about {max(1, round(before.estimate_s))} s")
    t0 = time.perf_counter()
    with kernels.Preparation(before, what="warming DSP kernels") as prep:
        for name, fn in STEPS:
            t1 = time.perf_counter()
            n0 = len(prep.compiled)
            fn(cfg)
            if name == "engine":
                prep.built(kernels.check())
            log(f"warmup: {name:<9} {len(prep.compiled) - n0:3d} kernels compiled, {time.perf_counter() - t1:5.1f} s")
    seconds = time.perf_counter() - t0
    kernels.import_kernel_modules()  # steps may have imported modules with more kernels
    after = kernels.check()
    kernels.write_stamp(by="warmup", seconds=seconds, unused=after.cold)
    log(f"warmup: done in {seconds:.1f} s: {len(after.kernels) - len(after.cold)} of {len(after.kernels)} kernels "
        f"cached in {folder}" + (f"; not used by the engine, analysis or visuals paths: {', '.join(after.cold)}"
                                 if after.cold else ""))
    return {"seconds": seconds, "compiled": sorted(prep.compiled), "kernels": after.kernels,
            "unused": after.cold, "cache_dir": after.folder}


def cache_report() -> tuple[bool, str]:
    """``(warm, one line)``: whether a start would compile, for ``doctor`` and ``warmup --check``.

    Kernels the last warm-up found unused by every path are not counted as missing.
    """
    kernels.import_kernel_modules()
    st = kernels.check()
    stamp = kernels.read_stamp()
    unused = set(stamp.get("unused") or [])
    cold = [k for k in st.cold if k not in unused]
    folder = st.folder or "numba's default locations (the per-user cache folder is not writable)"
    if not cold and not st.libraries_cold:
        n_unused = len(set(st.cold) & unused)
        return True, (f"warm: {len(st.kernels) - len(st.cold)} kernels cached in {folder}"
                      + (f" ({n_unused} unused by the default paths)" if n_unused else "")
                      + (f"; last filled {stamp['when']} by "
                         + ("`s2s-live warmup`" if stamp.get("by") == "warmup" else "a cold start")
                         if stamp.get("when") else ""))
    why = []
    if cold:
        names = ", ".join(k.rsplit(".", 1)[-1] for k in cold[:4]) + (", ..." if len(cold) > 4 else "")
        why.append(f"{len(cold)} of {len(st.kernels)} kernels not compiled ({names})")
    if st.libraries_cold:
        v = kernels.library_versions()
        why.append(f"librosa's kernels not recorded as compiled for numba {v['numba']} / librosa {v['librosa']}")
    est = max(1, round(len(cold) * kernels.SECONDS_PER_KERNEL
                       + (kernels.LIBRARY_SECONDS if st.libraries_cold else 0.0)))
    return False, (f"cold: {'; '.join(why)} in {folder}; the next start compiles for about {est} s "
                   f"first: run `s2s-live warmup`")


def cmd_warmup(args) -> int:
    if args.check:
        warm, msg = cache_report()
        print(f"kernel cache {msg}")
        return 0 if warm else 1
    cfg = Config.from_toml(args.config) if args.config else Config(source="synth", visuals="procedural")
    warm_all(cfg, log=(lambda m: None) if args.quiet else (lambda m: print(m, flush=True)))
    return 0


def register(subparsers) -> None:
    """Add ``warmup`` to the ``s2s-live`` argparse subparsers."""
    p = subparsers.add_parser(
        "warmup", help="compile every DSP kernel into the kernel cache (install.sh runs it; rerun after an upgrade)",
        description="Run the engine, offline-analysis and visuals paths once so that numba compiles and caches "
                    "their kernels (NUMBA_CACHE_DIR, default ~/.cache/s2s_live/numba). Without it the first "
                    "start after an install or upgrade compiles for ~30 s.")
    p.add_argument("--check", action="store_true", help="only report whether the cache is warm (exit 1 if not)")
    p.add_argument("--config", help="TOML config file whose models/processors to warm (default: the demo's)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_warmup)
