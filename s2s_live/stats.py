"""Run statistics: counters and per-stage timing percentiles, cheap to record.

Recording a duration is one store into a preallocated array; percentiles are computed only
when asked (live view, ``/s2s/status``, benchmarks).
"""

from __future__ import annotations

import threading
import time

import numpy as np


class Timing:
    """The last ``size`` durations of one stage, in seconds."""

    def __init__(self, size: int = 4096) -> None:
        self.buf = np.zeros(size, dtype=np.float64)
        self.n = 0

    def add(self, seconds: float) -> None:
        self.buf[self.n % self.buf.shape[0]] = seconds
        self.n += 1

    def values(self) -> np.ndarray:
        return self.buf[: min(self.n, self.buf.shape[0])].copy()

    def percentiles(self, q=(50, 99)) -> list[float]:
        v = self.values()
        if v.size == 0:
            return [float("nan")] * len(q)
        return [float(x) for x in np.percentile(v, q)]


class Stats:
    """Counters and timings shared by the engine's parts (read by view, control, bench)."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.timings: dict[str, Timing] = {}
        self.started = time.perf_counter()
        self._lock = threading.Lock()  # creating new timing keys
        # incr is a read-modify-write called from the analysis, control and visuals threads: an
        # uncontended lock costs ~0.1 us, and no thread holds it for more than one dict update
        self._count_lock = threading.Lock()

    def incr(self, key: str, n: int = 1) -> None:
        with self._count_lock:
            c = self.counters
            c[key] = c.get(key, 0) + n

    def set(self, key: str, value: int) -> None:
        with self._count_lock:
            self.counters[key] = value

    def timing(self, stage: str) -> Timing:
        t = self.timings.get(stage)
        if t is None:
            with self._lock:
                t = self.timings.setdefault(stage, Timing())
        return t

    def snapshot(self) -> dict:
        """A JSON-able copy: counters, and per stage p50/p99 in milliseconds and count."""
        with self._count_lock:
            counters = dict(self.counters)
        out = {"uptime_s": round(time.perf_counter() - self.started, 3), "counters": counters}
        st = {}
        for name, t in list(self.timings.items()):
            p50, p99 = t.percentiles()
            st[name] = {"p50_ms": p50 * 1e3, "p99_ms": p99 * 1e3, "n": t.n}
        out["timings"] = st
        return out
