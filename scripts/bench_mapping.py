#!/usr/bin/env python3
"""Benchmark the mapper (s2s_live/mapping/processor.py) inside a real engine on the synth.

    python scripts/bench_mapping.py --seconds 20 --examples 5000

One engine run (default processors + the mapper, hop 0.25 s, paced synth source), three phases
of ``--seconds`` each, in this order:

1. **idle**: the mapper stands by (not running) — the baseline of hop spacing;
2. **training**: ``--examples`` examples (the inputs of real frames, jittered; outputs a
   function of them) are trained as one kNN, one MLP and one logistic output in the mapper's
   worker thread, repeated until the phase ends — hop spacing while the worker trains;
3. **running**: the trained mapping maps every hop and sends ``/wek/outputs``.

Reported: per-processor ``process()`` p50/p99 (ms) in the running phase (the mapper's cost per
hop against the frame's other processors in the same run), the whole frame's p50, the same
``process()`` alone after the engine stopped (``alone_p50_ms``), and the hop
spacing (ms between frames handed to subscribers: p50, p99, max, and how many spacings exceed
1.5 hops) in the idle and training phases. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from s2s_live.config import Config  # noqa: E402
from s2s_live.engine import Engine  # noqa: E402


def _since(t, n0: int) -> np.ndarray:
    """Durations (s) a Timing recorded after its count was ``n0`` (at most its ring size)."""
    k = min(t.n - n0, t.buf.shape[0])
    idx = (np.arange(t.n - k, t.n)) % t.buf.shape[0]
    return t.buf[idx].copy()


def _spacing(times: list[float], hop: float) -> dict:
    d = np.diff(np.array(times)) * 1e3
    if d.size == 0:
        return {"n": 0}
    return {"n": int(d.size), "p50_ms": round(float(np.median(d)), 2), "p99_ms": round(float(np.percentile(d, 99)), 2),
            "max_ms": round(float(d.max()), 2), "over_1.5_hops": int((d > 1500 * hop).sum())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds per phase (default 20)")
    ap.add_argument("--examples", type=int, default=5000, help="examples trained in phase 2 (default 5000)")
    ap.add_argument("--hop", type=float, default=0.25)
    args = ap.parse_args()

    cfg = Config(source="synth", targets=[], control_port=0, visuals="none", hop=args.hop, quiet=True,
                 mapper=True, mapper_port=0, mapper_outputs=["x:knn", "y:mlp", "c:logistic:3"],
                 mapper_targets=["127.0.0.1:9"], mapper_max_examples=max(10, args.examples))
    eng = Engine(cfg)
    frames: list[float] = []
    eng.subscribe(lambda f: frames.append(time.perf_counter()))
    eng.start()
    m = eng.mapper
    out: dict = {"hop_s": args.hop, "examples": args.examples, "phase_s": args.seconds,
                 "inputs": m.inputs, "n_inputs": m.n_in}
    try:
        # a few seconds of real frames first: their inputs seed the examples
        m.set_recording(True)
        time.sleep(5.0)
        m.set_recording(False)
        X0, _ = m.examples()
        m.delete_examples()
        rng = np.random.default_rng(0)
        X = X0[rng.integers(0, len(X0), args.examples)]
        X = (X * (1 + 0.05 * rng.standard_normal(X.shape))).astype(np.float32)
        z = (X - X.mean(0)) / (X.std(0) + 1e-9)
        Y = np.stack([z[:, 0], np.tanh(z[:, 1]), 1 + (z[:, 0] > 0) + (z[:, 1] > 0.5)], axis=1).astype(np.float32)
        m.add_examples(X, Y)

        # 1. idle baseline
        frames.clear()
        time.sleep(args.seconds)
        out["idle_spacing"] = _spacing(frames, args.hop)

        # 2. training, repeated for the whole phase
        frames.clear()
        trains, t_end = [], time.perf_counter() + args.seconds
        while time.perf_counter() < t_end:
            t0 = time.perf_counter()
            m.train()
            m.wait_trained(600)
            trains.append(time.perf_counter() - t0)
            if m.last_error:
                raise SystemExit(f"training failed: {m.last_error}")
        out["training_spacing"] = _spacing(frames, args.hop)
        out["trainings"] = len(trains)
        out["train_s_each"] = [round(t, 2) for t in trains]

        # 3. running
        m.set_running(True)
        n0 = {k: t.n for k, t in eng.stats.timings.items()}
        time.sleep(args.seconds)
        procs = {}
        for k, t in eng.stats.timings.items():
            if k.startswith("proc:") or k == "frame":
                v = _since(t, n0.get(k, 0)) * 1e3
                if v.size:
                    procs[k] = {"p50_ms": round(float(np.median(v)), 3), "p99_ms": round(float(np.percentile(v, 99)), 3),
                                "n": int(v.size)}
        out["running"] = procs
        mp, fr = procs.get("proc:mapper", {}), procs.get("frame", {})
        if mp and fr:
            out["mapper_share_of_frame_p50"] = round(mp["p50_ms"] / fr["p50_ms"], 4)
        out["threads"] = threading.active_count()
    finally:
        eng.stop()
    # the same process() alone, on the last frame's values, with the engine stopped (no other
    # thread or processor competing): the mapper's own cost
    class _Frame:
        values = dict(eng.last_values)

    f = _Frame()
    ts = []
    for _ in range(520):
        t0 = time.perf_counter()
        m.process(f)
        ts.append(time.perf_counter() - t0)
    out["alone_p50_ms"] = round(float(np.median(ts[20:])) * 1e3, 3)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
