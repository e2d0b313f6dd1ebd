#!/usr/bin/env python
"""Per-hop cost of the shipped models on one core (onnxruntime, 1 thread, warmed).

    python scripts/bench_models.py [--models-dir models] [--hops 2000] [--no-baseline]

Prints a table: p50/p99 per model and for all hosted models together (one hop = genre +
emotion + encoder, as the engine runs them). Baseline in the same run: ASCIML's full-width
encoder (64/128/256 filters, kernel 66; random weights, exported the same way), to show what
the compact default saves.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from s2s_live.frames import Frame
from s2s_live.inference import DEFAULT_SLOTS, OnnxProcessor, make_session
from s2s_live.features.recipe import GTZAN_FEATURES


def _pct(ts):
    a = np.asarray(ts) * 1e3
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-dir", default=str(Path(__file__).resolve().parents[1] / "models"))
    ap.add_argument("--hops", type=int, default=2000)
    ap.add_argument("--no-baseline", action="store_true")
    a = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    procs = {s: OnnxProcessor(Path(a.models_dir) / n) for s, n in DEFAULT_SLOTS.items()
             if (Path(a.models_dir) / n / "card.json").is_file()}
    rng = np.random.default_rng(0)
    f = Frame()
    times = {s: [] for s in procs}
    total = []
    for i in range(a.hops):
        f.time = 0.25 * i
        f.values["recipe/gtzan"] = np.abs(rng.normal(1.0, 0.5, len(GTZAN_FEATURES)))
        f.y16[:] = 0.3 * rng.standard_normal(f.y16.shape).astype(np.float32)
        t_hop = time.perf_counter()
        for s, p in procs.items():
            t0 = time.perf_counter()
            p.process(f)
            times[s].append(time.perf_counter() - t0)
        total.append(time.perf_counter() - t_hop)
    rows = [(s, *_pct(ts)) for s, ts in times.items()] + [("all models (one hop)", *_pct(total))]
    if not a.no_baseline:
        import warnings

        import torch

        from s2s_live.train.vae import VAEParams, build

        torch.manual_seed(0)
        enc, _ = build(VAEParams.preset("asciml"))
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(enc.eval(), (torch.zeros(1, 16000),), buf, input_names=["audio"],
                              output_names=["mean", "logvar"], dynamo=False, opset_version=17)
        sess = make_session(buf.getvalue())
        x = (0.3 * rng.standard_normal((1, 16000))).astype(np.float32)
        for _ in range(20):
            sess.run(["mean"], {"audio": x})
        ts = []
        for _ in range(max(20, a.hops // 20)):
            t0 = time.perf_counter()
            sess.run(["mean"], {"audio": x})
            ts.append(time.perf_counter() - t0)
        rows.append(("baseline: ASCIML-width encoder", *_pct(ts)))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"pinned to one core; hops={a.hops}")
    print(f"{'model':34s} {'p50 ms':>8s} {'p99 ms':>8s}")
    for name, p50, p99 in rows:
        print(f"{name:34s} {p50:8.3f} {p99:8.3f}")
    if "encoder" in times and not a.no_baseline:
        print(f"ratio ASCIML-width / compact encoder (p50): {rows[-1][1] / _pct(times['encoder'])[0]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
