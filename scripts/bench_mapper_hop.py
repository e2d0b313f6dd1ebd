#!/usr/bin/env python3
"""Micro-benchmark of the mapper's per-hop cost alone: ``MappingProcessor.process()`` while running.

    python scripts/bench_mapper_hop.py --calls 3000 --examples 5000

No engine and no audio: one process, one thread, low CPU (a few seconds). The mapper reads the
default inputs (``features/rms features/centroid features/flatness features/mfcc``: 23 values)
from a frame-like object holding the values the engine's descriptors give, and sends
``/wek/outputs`` to 127.0.0.1:9 (discard) as ``scripts/bench_mapping.py`` does. For each model
set — kNN, linear, MLP, logistic regression (3 classes), and the bench's mix (kNN + MLP +
logistic) — the pipelines are fitted here (scikit-learn, ``--examples`` examples), installed as
a finished training would install them, then ``process()`` is timed with time.perf_counter over
``--calls`` calls (after 200 warm-up calls). ``s2s_live`` is imported before numpy, as in the
engine, so BLAS runs one thread (``OPENBLAS_NUM_THREADS=1`` unless set). Also timed, for the mix: the parts of a hop (filling
the input vector, the model, encoding and sending ``/wek/outputs``). Prints one JSON object
(microseconds).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import s2s_live  # noqa: E402,F401 - first, as in the engine: one BLAS thread (set before numpy loads)
import numpy as np  # noqa: E402

from s2s_live.mapping import MappingProcessor, export_onnx, fit_output  # noqa: E402
from s2s_live.processor import Output  # noqa: E402

SETS = {"knn": ["x:knn"], "linear": ["x:linear"], "mlp": ["x:mlp"], "logistic": ["c:logistic:3"],
        "mix": ["x:knn", "y:mlp", "c:logistic:3"]}


class _Frame:
    def __init__(self, rng) -> None:  # what the spectral descriptors hand the mapper each hop
        self.values = {"features/rms": np.float32(0.1), "features/centroid": np.float32(1500.0),
                       "features/flatness": np.float32(0.02),
                       "features/mfcc": rng.standard_normal(20).astype(np.float32)}


def _timed(fn, calls: int) -> dict:
    for _ in range(200):
        fn()
    ts = np.empty(calls)
    pc = time.perf_counter
    for i in range(calls):
        t0 = pc()
        fn()
        ts[i] = pc() - t0
    ts *= 1e6
    return {"p50_us": round(float(np.median(ts)), 1), "p90_us": round(float(np.percentile(ts, 90)), 1),
            "mean_us": round(float(ts.mean()), 1)}


def mapper(outputs, X, Y, seed: int = 0) -> MappingProcessor:
    """A running mapper with ``outputs`` fitted on (X, Y) in this process."""
    m = MappingProcessor(outputs=outputs, targets=["127.0.0.1:9"], max_examples=len(X) + 10)
    m.bind([Output("features/rms"), Output("features/centroid"), Output("features/flatness"),
            Output("features/mfcc", shape=20)])
    m.add_examples(X, Y)
    models = [fit_output(o, X, Y[:, i], seed=seed) for i, o in enumerate(m.specs)]
    m.install(models, export_onnx(models, m.specs, m.n_in).SerializeToString())
    m.set_running(True)
    return m


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--examples", type=int, default=5000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    frame = _Frame(rng)
    X = np.concatenate([np.abs(rng.normal(0.1, 0.05, (args.examples, 1))), rng.normal(1500, 400, (args.examples, 1)),
                        np.abs(rng.normal(0.02, 0.01, (args.examples, 1))),
                        rng.standard_normal((args.examples, 20))], axis=1).astype(np.float32)
    z = (X - X.mean(0)) / X.std(0)
    out: dict = {"calls": args.calls, "examples": args.examples, "n_inputs": X.shape[1]}
    for name, outputs in SETS.items():
        cols = []
        for spec in outputs:
            if spec.startswith("c:"):
                cols.append(1 + (z[:, 0] > 0) + (z[:, 1] > 0.5))
            else:
                cols.append(np.tanh(z[:, 0] + 0.5 * z[:, 3]) if len(cols) else z[:, 0] - z[:, 4])
        m = mapper(outputs, X, np.stack(cols, axis=1).astype(np.float32))
        try:
            assert m.process(frame), "the mapper did not run"
            out[name] = _timed(lambda: m.process(frame), args.calls)
            if name == "mix":  # the parts of one hop
                from s2s_live.osc import encode_floats

                out["mix_parts"] = {
                    "fill": _timed(lambda: m._fill(frame), args.calls),
                    "model": _timed(lambda: m._predict(m._x), args.calls),
                    "encode+send": _timed(lambda: [m.osc.send_raw(t.addr, encode_floats("/wek/outputs", m._out))
                                                   for t in m.osc.targets], args.calls),
                }
        finally:
            m.close()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
