#!/usr/bin/env python
"""Benchmark the visuals: per backend generation latency p50/p99 and images/s, and the audio
path's overflow flags and hop jitter with generation running vs idle (same run).

    python scripts/bench_visuals.py                      # procedural + tiny diffusers on CPU
    python scripts/bench_visuals.py --audio 20           # + engine on the JACK dummy server
    python scripts/bench_visuals.py --sd-turbo --device cuda   # + real sd-turbo shapes (GPU)

Prints markdown tables (record them in docs/benchmarks.md, "## Visuals").
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from s2s_live.visuals.procedural import Animator, render_state  # noqa: E402
from s2s_live.visuals.worker import save_image  # noqa: E402

STATE = {"genre": "rock", "valence": 0.7, "arousal": 0.8, "level": 0.6, "bpm": 128.0, "emotion": "happy"}


def pct(ts):
    a = np.asarray(ts) * 1e3
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def row(name, ts, note=""):
    p50, p99 = pct(ts)
    print(f"| {name} | {p50:.1f} | {p99:.1f} | {1000.0 / p50:.1f} | {note} |", flush=True)


def bench_procedural(n, tmp):
    render_state(STATE, size=64)  # compile / load the cache
    ts = []
    for i in range(n):
        t = time.perf_counter()
        render_state(STATE, seed=i, phase=0.1 * i, size=512)
        ts.append(time.perf_counter() - t)
    row("procedural still render 512x512 (1 core)", ts)
    an = Animator(size=512)
    from PIL import Image

    ts = []
    for i in range(n):
        t = time.perf_counter()
        an.update(STATE, {"level": 0.5, "onset": (i % 10) / 10, "beats": i // 20}, 0.05)
        buf = io.BytesIO()
        Image.fromarray(an.frame()).save(buf, format="JPEG", quality=80)
        ts.append(time.perf_counter() - t)
    row("procedural live frame 512x512 + JPEG", ts)
    ts = []
    for i in range(max(10, n // 4)):
        t = time.perf_counter()
        img = render_state(STATE, seed=i, size=512)
        save_image(img, Path(tmp) / "b.png", {"i": i})
        ts.append(time.perf_counter() - t)
    row("procedural image 512x512 + PNG + sidecar", ts)


def bench_diffusers(arch, size, steps, n, device, tmp, taesd=None):
    from s2s_live.visuals.diffusion import DiffusionBackend
    from s2s_live.visuals.tiny import build_random_pipeline

    folder = build_random_pipeline(Path(tmp) / f"sd-{arch}", arch=arch)
    be = DiffusionBackend(str(folder), device=device, steps=steps, size=size, taesd=taesd)
    be.warmup()
    be.generate("warm", seed=0)
    ts = []
    for i in range(n):
        t = time.perf_counter()
        be.generate("a rock concert, joyful, lively", seed=i)
        if be.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()
        ts.append(time.perf_counter() - t)
    gpu = ""
    if be.device.startswith("cuda"):
        import torch

        gpu = torch.cuda.get_device_name(0)
    row(f"diffusers {arch} {size}x{size}, {steps} steps, {be.device} {gpu}".strip(), ts,
        f"load {be.load_s:.1f} s")


def bench_audio(seconds, tmp):
    """Engine on the JACK dummy server: overflow flags and hop jitter, idle vs generating."""
    from s2s_live.config import Config
    from s2s_live.engine import Engine

    started = None
    if subprocess.run(["jack_lsp"], capture_output=True).returncode != 0:
        if not shutil.which("jackd"):
            print("(no jackd: audio benchmark skipped)")
            return
        started = subprocess.Popen(["jackd", "-d", "dummy", "-r", "48000", "-p", "256"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
    import sounddevice as sd

    sd._terminate()
    sd._initialize()
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    arrivals = []
    stop_rx = threading.Event()

    def rx():
        while not stop_rx.is_set():
            try:
                data, _ = sock.recvfrom(65536)
            except socket.timeout:
                continue
            if data.startswith(b"/s2s/frame\0"):  # the address, padded (decoding the rest is not needed)
                arrivals.append(time.perf_counter())

    threading.Thread(target=rx, daemon=True).start()
    cfg = Config(source="device", device="system", targets=[f"127.0.0.1:{sock.getsockname()[1]}"],
                 control_port=0, visuals="procedural", web_port=0, out_dir=str(tmp), visuals_auto=False,
                 visuals_min_interval=0.0, visuals_size=1024)
    eng = Engine(cfg).start()
    try:
        time.sleep(1.5)
        results = {}
        for phase in ("idle", "generating"):
            arrivals.clear()
            o0 = eng.source.counters().get("overflows", 0)
            g0 = eng.visuals.stats()["generated"]
            stop = threading.Event()

            def load():
                while not stop.is_set():
                    eng.visuals.generate()
                    time.sleep(0.05)

            th = threading.Thread(target=load, daemon=True)
            if phase == "generating":
                th.start()
            time.sleep(seconds)
            stop.set()
            if th.is_alive():
                th.join()
            dt = np.diff(np.array(arrivals))
            results[phase] = (eng.source.counters().get("overflows", 0) - o0, dt,
                              eng.visuals.stats()["generated"] - g0)
    finally:
        eng.stop()
        stop_rx.set()
        sd._terminate()
        if started is not None:
            started.terminate()
            started.wait(5)
    print(f"\n| audio path, JACK dummy 48 kHz/256, {seconds:g} s per phase | overflow flags | "
          f"hop p50 ms | hop p99 ms | max abs jitter ms | images |")
    print("|---|---|---|---|---|---|")
    for phase, (over, dt, imgs) in results.items():
        jit = np.abs(dt - 0.25) * 1e3
        print(f"| {phase} | {over} | {np.median(dt) * 1e3:.1f} | {np.percentile(dt, 99) * 1e3:.1f} | "
              f"{jit.max():.1f} | {imgs} (procedural 1024x1024) |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=100, help="procedural repetitions")
    ap.add_argument("--diffusers-n", type=int, default=20, help="diffusers repetitions")
    ap.add_argument("--device", default="cpu", help="diffusers device (cpu, cuda, auto)")
    ap.add_argument("--sd-turbo", action="store_true", help="also time the real sd-turbo shapes at 512x512")
    ap.add_argument("--no-tiny", action="store_true", help="skip the tiny diffusers pipeline")
    ap.add_argument("--audio", type=float, default=0.0, help="seconds per phase of the JACK audio benchmark")
    args = ap.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, "
          f"Python {platform.python_version()}\n")
    print("| backend | p50 ms | p99 ms | images/s (at p50) | note |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        bench_procedural(args.n, tmp)
        if not args.no_tiny:
            bench_diffusers("tiny", 64, 2, args.diffusers_n, args.device, tmp)
        if args.sd_turbo:
            for steps in (1, 4):
                bench_diffusers("sd-turbo", 512, steps, args.diffusers_n, args.device, tmp)
        if args.audio > 0:
            bench_audio(args.audio, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
