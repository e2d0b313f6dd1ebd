#!/usr/bin/env python3
"""Benchmark the engine on a JACK dummy server: callback cost, decision latency, stage timings,
and overflow flags with the engine running vs an idle baseline in the same run.

    python scripts/bench_engine.py --seconds 60

Starts ``jackd -d dummy -r 48000 -p 256`` itself when no JACK server is running. The idle
baseline is a bare PortAudio input stream whose callback only counts, for the same duration.
Decision latency: the engine's capture timestamp of a frame's last sample -> the moment a
python-osc-parsing UDP receiver on loopback has the frame's /s2s/frame message.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from helpers import JackPlayer, JackServer, OSCRecorder, jack_running, reinit_portaudio  # noqa: E402


def idle_baseline(seconds: float) -> dict:
    import sounddevice as sd

    cnt = {"cb": 0, "ovf": 0}

    def cb(indata, frames, t, status):  # noqa: ARG001
        if status.input_overflow:
            cnt["ovf"] += 1
        cnt["cb"] += 1

    with sd.InputStream(device="system", channels=2, samplerate=48000, blocksize=256, callback=cb):
        time.sleep(seconds)
    return cnt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="duration of each phase (default 60)")
    ap.add_argument("--hop", type=float, default=0.25)
    ap.add_argument("--visuals", default="none", choices=("none", "procedural"),
                    help="run the visuals worker during the engine phase")
    ap.add_argument("--generate-every", type=float, default=1.0,
                    help="with --visuals: request an image every S seconds (default 1: continuously)")
    ap.add_argument("--no-taggers", action="store_true",
                    help="baseline: the GTZAN-statistics models (genre-gtzan, emotion-stats), no taggers")
    args = ap.parse_args()

    server = None
    if not jack_running():
        server = JackServer()
        server.start()
    reinit_portaudio()
    from s2s_live.config import Config
    from s2s_live.engine import Engine

    try:
        base = idle_baseline(args.seconds)
        rx = OSCRecorder()
        cfg = Config(source="device", device="system", targets=[f"127.0.0.1:{rx.port}"], control_port=0,
                     visuals=args.visuals, hop=args.hop, web_port=0)
        if args.no_taggers:
            import shutil
            import tempfile
            from pathlib import Path

            mdir = Path(tempfile.mkdtemp(prefix="s2s_models_"))
            for name in ("genre-gtzan", "emotion-stats", "encoder"):
                shutil.copytree(Path(cfg.models_dir) / name, mdir / name)
            cfg.update(models_dir=str(mdir), models={"genre": "genre-gtzan", "emotion": "emotion-stats"})
        if args.visuals != "none":
            import tempfile

            cfg.update(visuals_auto=True, visuals_interval=max(1.0, args.generate_every), visuals_min_interval=0.0,
                       out_dir=tempfile.mkdtemp(prefix="s2s_bench_"))
        t0 = time.perf_counter()
        eng = Engine(cfg).start()
        cold = None
        player = JackPlayer("steps:0.05,0.5:1")
        player.connect_to_inputs_of()
        while cold is None and time.perf_counter() - t0 < 30:
            if rx.of("/s2s/frame"):
                cold = rx.of("/s2s/frame")[0][0] - t0
            time.sleep(0.005)
        time.sleep(args.seconds)
        eng_visuals_stats = eng.visuals.stats() if eng.visuals is not None else None
        tagger = eng.status().get("tagger")
        eng.stop()
        player.stop()
        frames = rx.of("/s2s/frame")
        lat = np.array([t - eng.frame_times[a[0]] for t, a in frames if a[0] in eng.frame_times]) * 1e3
        lat = lat[np.isfinite(lat)]
        src = eng.source
        cb = src.cb_durations[: min(src.callbacks, src.cb_durations.shape[0])] * 1e6
        snap = eng.stats.snapshot()
        if eng_visuals_stats is not None:
            snap["visuals"] = eng_visuals_stats
        c = snap["counters"]
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; JACK dummy 48000 Hz / 256 frames; "
              f"{args.seconds:.0f} s per phase; hop {args.hop} s; visuals {args.visuals}; "
              f"{'no taggers (genre-gtzan, emotion-stats)' if args.no_taggers else 'taggers + heads'}")
        print()
        print("| metric | p50 | p99 | n |")
        print("|---|---|---|---|")
        print(f"| audio callback duration (µs) | {np.percentile(cb, 50):.1f} | {np.percentile(cb, 99):.1f} | {cb.size} |")
        print(f"| decision latency, capture -> OSC received (ms) | {np.percentile(lat, 50):.2f} | "
              f"{np.percentile(lat, 99):.2f} | {lat.size} |")
        for name, t in sorted(snap["timings"].items()):
            print(f"| stage `{name}` (ms) | {t['p50_ms']:.3f} | {t['p99_ms']:.3f} | {t['n']} |")
        print()
        print("| overflow flags | idle baseline | engine running |")
        print("|---|---|---|")
        print(f"| input_overflow in {args.seconds:.0f} s | {base['ovf']} | {c.get('overflows', 0)} |")
        print(f"| callbacks | {base['cb']} | {c.get('callbacks', 0)} |")
        print()
        if "visuals" in snap:
            print(f"visuals: {snap['visuals']}")
        if tagger:
            # the taggers' worker thread: CPU seconds inside onnxruntime over the engine phase
            share = tagger["busy_s"] / args.seconds
            print(f"taggers: {tagger['runs']} patches tagged, {tagger['skipped']} skipped (worker busy), "
                  f"{1000 * tagger['busy_s'] / max(1, tagger['runs']):.1f} ms per patch (both taggers), "
                  f"CPU share {100 * share:.1f}% of one core")
        print(f"frames {c.get('frames', 0)}, dropped {c.get('dropped', 0)}, OSC sent {c.get('osc_sent', 0)}, "
              f"cold start to first OSC frame {cold:.2f} s")
        rx.close()
    finally:
        import sounddevice as sd

        sd._terminate()
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
