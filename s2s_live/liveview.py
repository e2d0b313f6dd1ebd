"""Live terminal view: a compact table of the engine's state that refreshes in place.

On a terminal it redraws the same lines (ANSI cursor-up); when stdout is not a terminal
(logs, CI) it prints one summary line every few seconds instead. While a cold start compiles
kernels the view shows that and its progress; a figure that does not exist yet is shown as "—",
never as ``nan``.
"""

from __future__ import annotations

import math
import sys
import threading
import time

import numpy as np


NONE = "—"  #: shown where there is no figure yet


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.3f}" if math.isfinite(v) else NONE
    if isinstance(v, tuple):
        return " ".join(_fmt(x) for x in v)
    if isinstance(v, np.ndarray):
        return ("[" + " ".join(f"{x:.2f}" if math.isfinite(x) else NONE for x in v[:6].tolist())
                + (" …]" if v.shape[0] > 6 else "]"))
    return str(v)


def render(engine) -> list[str]:
    """The table's lines for the engine's current state."""
    s = engine.status()
    c = s["counters"]
    t = s["timings"]
    vals = dict(engine.last_values)
    fast = dict(engine.last_fast)

    def ms(stage):
        v = t.get(stage)
        if not v or not v.get("n") or not all(_finite(v.get(k)) for k in ("p50_ms", "p99_ms")):
            return f"{NONE:>6} /{NONE:>6}"  # the stage has not run yet
        return f"{v['p50_ms']:6.2f} /{v['p99_ms']:6.2f}"

    def num(key, spec, src):
        x = src.get(key)
        return format(float(x), spec) if _finite(x) else f"{NONE:>{spec.split('.')[0] or 1}}"

    health = "preparing" if s.get("state") == "preparing" else s["health"]
    lines = [
        f"s2s-live  {s['source']:<6} up {s['uptime_s']:7.1f}s  hop {s['hop']:.3f}s  health: {health}",
        "startup   " + startup_line(engine, s),
        f"audio     callbacks {c.get('callbacks', 0):>8}  overflows {c.get('overflows', 0):>4}  "
        f"nonfinite {c.get('nonfinite', 0):>4}  clamped {c.get('clamped', 0):>4}  "
        f"ring overruns {c.get('ring_overruns', 0):>4}",
        f"frames    emitted {c.get('frames', 0):>8}  dropped {c.get('dropped', 0):>4}  "
        f"osc sent {c.get('osc_sent', 0):>9}  osc errors {c.get('osc_errors', 0):>4}  errors {c.get('errors', 0):>4}",
        f"ms p50/p99  frame {ms('frame')}  fast {ms('fast')}  osc {ms('osc')}  latency {ms('latency')}",
        f"level {num('level', '.2f', fast)}  bands {_fmt(fast['bands']) if 'bands' in fast else NONE}  "
        f"onset {num('onset', '.2f', fast)}  rms {num('features/rms', '.3f', vals)}  "
        f"centroid {num('features/centroid', '7.1f', vals)} Hz",
    ]
    extra = []
    for key in ("genre", "emotion/label", "emotion", "key", "bpm", "features/tempo"):
        if key in vals:
            extra.append(f"{key} {_fmt(vals[key])}")
    if "bpm" in fast and "bpm" not in vals:
        extra.append(f"bpm {_fmt(fast['bpm'])}")
    lines.append("          " + "  ".join(extra) if extra else "          (no model outputs)")
    lines.append("targets   " + ", ".join(s["targets"]))
    v = s.get("visuals")
    if isinstance(v, dict):
        view = v.get("viewer") or {}
        url = getattr(getattr(engine, "visuals", None), "url", None)
        lines.append(f"visuals   {v.get('backend') or NONE}  {url or 'no viewer'}  images {v.get('generated', 0)} "
                     f"(dropped {v.get('dropped', 0)}, failed {v.get('failed', 0)})  "
                     f"scene {view.get('lock') or 'auto'}  intensity {float(view.get('intensity', 1.0)):.2f}")
    return lines


def _finite(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and math.isfinite(float(x))


def startup_line(engine, s: dict | None = None) -> str:
    """How the start went: a cold start's progress while kernels compile, then when the first
    frame came."""
    s = s if s is not None else engine.status()
    prep = getattr(engine, "preparation", None)
    if s.get("state") == "preparing" and prep is not None:
        return f"{prep.message()}  {prep.progress_line()}"
    how = (f"kernels compiled in {prep.elapsed_s:.1f} s (first run)" if prep is not None
           else "kernels loaded from the cache")
    ff = s.get("first_frame_s")
    return f"{how}; " + (f"first frame {ff:.1f} s after start" if ff is not None else "waiting for the first frame")


class LiveView:
    """Redraws :func:`render` every ``interval`` seconds in a daemon thread."""

    def __init__(self, engine, *, interval: float = 0.5, stream=None) -> None:
        self.engine = engine
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = interval
        self.log_every = 2.0  #: seconds between summary lines when stdout is not a terminal
        self._last_log = -math.inf
        self._last_health = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._n = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="s2s-liveview", daemon=True)
        self._thread.start()

    def _draw(self, force: bool = False) -> None:
        lines = render(self.engine)
        if self.tty:
            up = f"\x1b[{self._n}A" if self._n else ""
            self.stream.write(up + "".join("\x1b[2K" + l[:160] + "\n" for l in lines))
            self._n = len(lines)
        else:  # a log: one line every log_every s, and at once when the health changes
            health = lines[0].rsplit("health: ", 1)[-1].strip()
            now = time.monotonic()
            if not force and health == self._last_health and now - self._last_log < self.log_every:
                return
            self._last_health, self._last_log = health, now
            if getattr(self.engine, "state", "") == "preparing":
                self.stream.write(lines[1].strip() + "\n")
            else:
                self.stream.write(f"health: {health} | " + " | ".join(l.strip() for l in lines[3:6]) + "\n")
        self.stream.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._draw()
            except Exception as exc:  # noqa: BLE001 - the view must never take the engine down
                self.stream.write(f"(live view error: {exc})\n")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        try:
            self._draw(force=True)
        except Exception:  # noqa: BLE001
            pass
