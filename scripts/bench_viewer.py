#!/usr/bin/env python
"""Benchmark the WebGL viewer: for each scene family, the frame rate and the render resolution
the page's automatic scaling settles at, read through its ``window.s2s.stats()`` hook.

    python scripts/bench_viewer.py                       # 1920x1080, headless Chromium
    python scripts/bench_viewer.py --size 3840x2160 --seconds 20

Headless Chromium here renders WebGL with its software rasteriser (SwiftShader) unless a GPU is
available to it. The page is fed like the engine feeds it (fast stream at 86 blocks/s with a
beat at 120 BPM, a state every hop, one procedural image as the texture). Pixel rate ratios are
against the ``flow`` family in the same run. Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1920x1080", help="page size WxH in CSS pixels (default 1920x1080)")
    ap.add_argument("--seconds", type=float, default=15.0, help="longest wait per family for the scale to settle")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.lower().split("x"))

    from test_visuals_web import Browser, free_port  # the tests' CDP client and Chromium flags

    from s2s_live.config import Config
    from s2s_live.visuals import VisualsController
    from s2s_live.visuals.state import SCENES

    out = tempfile.mkdtemp(prefix="s2s-bench-viewer-")
    cfg = Config(visuals="procedural", web_port=free_port(), out_dir=out, visuals_auto=False,
                 visuals_min_interval=0.0, visuals_size=512, visuals_live_fps=0.0)
    ctl = VisualsController(cfg, lambda a, b: None, start_timeout=120)
    ctl.start()
    stop = threading.Event()

    def feed() -> None:  # the engine's part: fast blocks at 86/s, a beat every 43 blocks (120 BPM)
        n = 0
        while not stop.is_set():
            n += 1
            ctl.poll()
            ctl.on_fast({"level": 0.6, "bands": [0.3, 0.15, 0.08], "onset": 0.2, "beat": n % 43 == 0, "bpm": 120.0})
            if n % 20 == 0:
                ctl.on_frame({"genre": ("rock", 0.9), "emotion": (0.7, 0.7), "bpm": 120.0}, 0.0)
            time.sleep(1 / 86)

    th = threading.Thread(target=feed, daemon=True)
    th.start()
    ctl.generate()
    browser = Browser()
    rows = []
    try:
        page = browser.open(ctl.url + "?fade=0", width=w, height=h)
        page.wait("window.s2s.mode === 'webgl' && window.s2s.stats().imageId === 1", timeout=60)
        renderer = page.eval("window.s2s.stats().renderer")
        for name in SCENES:
            ctl.set_scene(name)
            page.wait(f"window.s2s.stats().scene === '{name}'")
            t0 = time.monotonic()
            # settled: the scale has not changed for 3 one-second windows (or the time is up)
            while time.monotonic() - t0 < args.seconds:
                st = json.loads(page.eval("JSON.stringify(window.s2s.stats())"))
                if st["settled"] >= 3 and time.monotonic() - t0 > 3:
                    break
                time.sleep(0.5)
            st = json.loads(page.eval("JSON.stringify(window.s2s.stats())"))
            rows.append((name, st["fps"], st["scale"], st["width"], st["height"], st["settled"] >= 3))
        page.close()
    finally:
        browser.close()
        stop.set()
        th.join()
        ctl.stop()
    base = next(r for r in rows if r[0] == "flow")
    base_rate = base[1] * base[3] * base[4]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"page {w}x{h}, renderer {renderer!r}, {platform.machine()} {os.cpu_count()} cores, "
          f"load {load:.1f}, {time.strftime('%Y-%m-%d %H:%M')}")
    print()
    print("| family | fps | render scale | render resolution | Mpixel/s | vs flow | settled |")
    print("|---|---|---|---|---|---|---|")
    for name, fps, scale, rw, rh, ok in rows:
        rate = fps * rw * rh
        print(f"| {name} | {fps:.1f} | {scale:.3f} | {rw}x{rh} | {rate / 1e6:.1f} | "
              f"{rate / base_rate:.2f} | {'yes' if ok else 'no (time up)'} |")


if __name__ == "__main__":
    main()
