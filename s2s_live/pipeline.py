"""The analysis pipeline: frame assembly plus the hosted processors, independent of threads.

The live :class:`~s2s_live.engine.Engine` runs a Pipeline in its analysis thread; offline
analysis runs the same Pipeline unpaced on a file, so both produce identical values.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

import numpy as np

from .features import defaults as features
from .inference.host import default_processors
from .frames import SR_RECIPE, Frame, FrameAssembler
from .processor import Output, Processor
from .stats import Stats


def build_processors(cfg) -> list[Processor]:
    """The default processor list for a config: descriptors first, then models and rules.

    Order matters: later processors read earlier ones' values from ``frame.values``.
    """
    procs: list[Processor] = []
    procs += features.default_processors(cfg)
    procs += default_processors(cfg)
    return procs


class Pipeline:
    """Assembler + fast processors + frame processors, with per-stage timings and fault isolation.

    Parameters
    ----------
    samplerate : int
        Capture rate of the chunks pushed in (Hz).
    channels : sequence of int
        Capture channels mixed to mono.
    processors : list of Processor
        Fast (``stream="fast"``) and frame processors, in run order.
    hop : float
        Seconds between frames.
    drop_late : bool
        True (live): when several frames are due at once only the newest is analysed.
        False (offline): every frame is analysed.
    on_error : callable(component, message) or None
        Called when a processor raises; the processor's outputs are skipped for that call.
    """

    def __init__(self, *, samplerate: int, channels, processors: Iterable[Processor], hop: float = 0.25,
                 drop_late: bool = True, max_chunk: int = 8192, stats: Stats | None = None,
                 on_error: Callable[[str, str], None] | None = None) -> None:
        self.assembler = FrameAssembler(samplerate=samplerate, channels=channels, hop=hop, max_chunk=max_chunk)
        self.processors = list(processors)
        self._check_unique_outputs()
        self.drop_late = drop_late
        for p in self.processors:
            p.set_live(drop_late)
        self.stats = stats or Stats()
        self.on_error = on_error
        self._t_fast = self.stats.timing("fast")
        self._t_frame = self.stats.timing("frame")
        self._t_after = self.stats.timing("after")
        # only processors that override after_frame are called after each frame
        self._after = [p for p in self.processors if p.stream != "fast"
                       and type(p).after_frame is not Processor.after_frame]
        self._pending_after: Frame | None = None
        self._ahead = [p for p in self.processors if p.stream != "fast"
                       and type(p).ahead is not Processor.ahead]
        self._ahead_end = 0  # absolute 22050-Hz count already offered to ahead()
        self._t_ahead = self.stats.timing("ahead")
        self._t_proc = {p.name: self.stats.timing(f"proc:{p.name}") for p in self.processors}

    # -- introspection --------------------------------------------------------------------
    @property
    def fast_processors(self) -> list[Processor]:
        return [p for p in self.processors if p.stream == "fast"]

    @property
    def frame_processors(self) -> list[Processor]:
        return [p for p in self.processors if p.stream != "fast"]

    def outputs(self) -> list[Output]:
        return [o for p in self.processors for o in p.outputs]

    def _check_unique_outputs(self) -> None:
        seen: dict[str, str] = {}
        for p in self.processors:
            for o in p.outputs:
                if o.name in seen:
                    raise ValueError(f"output {o.name!r} declared by both {seen[o.name]!r} and {p.name!r}")
                seen[o.name] = p.name

    # -- lifecycle ------------------------------------------------------------------------
    def warmup(self) -> None:
        """Compile and warm everything, then reset, so streaming never compiles."""
        self.assembler.warmup()
        for p in self.processors:
            p.warmup()
        self.reset()

    def reset(self) -> None:
        self._pending_after = None
        self._ahead_end = 0
        self.assembler.reset()
        for p in self.processors:
            p.reset()

    def set_hop(self, hop: float) -> None:
        self.assembler.set_hop(hop)

    def close(self) -> None:
        for p in self.processors:
            p.close()

    # -- streaming ------------------------------------------------------------------------
    def _fault(self, p: Processor, exc: Exception) -> None:
        self.stats.incr(f"errors:{p.name}")
        if self.on_error is not None:
            self.on_error(p.name, f"{type(exc).__name__}: {exc}")

    def _run(self, p: Processor, x, values: dict) -> None:
        t0 = time.perf_counter()
        try:
            out = p.process(x)
        except Exception as exc:  # noqa: BLE001 - a faulty processor must not stop the stream
            self._fault(p, exc)
            return
        finally:
            self._t_proc[p.name].add(time.perf_counter() - t0)
        if out:
            values.update(out)

    def push(self, chunk: np.ndarray, n: int) -> None:
        """Feed ``chunk[:n]`` captured frames (frames x channels, float32)."""
        self.assembler.push(chunk, n)

    def run_fast(self, on_values: Callable[[dict, bool], None] | None = None) -> None:
        """Run fast processors on every complete block; ``on_values(values, is_last)``."""
        fast = self.fast_processors
        pending = self.assembler.pending_fast()
        i = 0
        values: dict = {}
        for block in self.assembler.fast_blocks():
            i += 1
            t0 = time.perf_counter()
            values = {}
            for p in fast:
                self._run(p, block, values)
            self._t_fast.add(time.perf_counter() - t0)
            if on_values is not None:
                on_values(values, i == pending)

    def run_frame(self, limit: int | None = None) -> Frame | None:
        """Analyse the newest due frame (or every due frame when ``drop_late`` is False, one per
        call); returns it with ``frame.values`` filled, or None if no frame is due.

        When no frame is due, the audio already in for the next one is offered to the processors'
        :meth:`Processor.ahead` (live: block by block as it is captured).

        The previous frame's deferred work (:meth:`Processor.after_frame`) runs first: live, on
        the next call (the next captured block, long before the next frame is due), so it never
        sits between a frame's capture and its values; offline, just before the next frame.
        Either way it runs after a frame's values were returned and before the next frame is
        assembled, so live and offline compute the same values.
        """
        if self._pending_after is not None:
            self._run_after()
        a = self.assembler
        if not self.drop_late:
            # deliver the next boundary even if later ones are also due (offline: no drops)
            f = a.next_frame(limit=a._next_boundary if limit is None else min(limit, a._next_boundary))
        else:
            f = a.next_frame(limit=limit)
        if f is None:
            if self._ahead:
                self._run_ahead()
            return None
        t0 = time.perf_counter()
        for p in self.frame_processors:
            self._run(p, f, f.values)
        self._t_frame.add(time.perf_counter() - t0)
        if self._after:
            self._pending_after = f
        return f

    def _run_ahead(self) -> None:
        """Offer the audio that arrived for the next frame (:meth:`Processor.ahead`)."""
        first, y = self.assembler.ahead22(self._ahead_end)
        if not y.shape[0]:
            return
        self._ahead_end = first + y.shape[0]
        t0 = time.perf_counter()
        for p in self._ahead:
            try:
                p.ahead(y, first)
            except Exception as exc:  # noqa: BLE001 - as in _run: the stream goes on
                self._fault(p, exc)
        self._t_ahead.add(time.perf_counter() - t0)

    def _run_after(self) -> None:
        """The processors' deferred work (:meth:`Processor.after_frame`) for the last frame."""
        f, self._pending_after = self._pending_after, None
        t0 = time.perf_counter()
        for p in self._after:
            try:
                p.after_frame(f)
            except Exception as exc:  # noqa: BLE001 - as in _run: the stream goes on
                self._fault(p, exc)
        self._t_after.add(time.perf_counter() - t0)


def analyze_array(y: np.ndarray, sr: int, processors: Iterable[Processor], *, hop: float = 0.25,
                  chunk: int = 4096, stats: Stats | None = None) -> list[dict]:
    """Run processors over a whole mono/multichannel array unpaced; one dict per frame.

    Each dict holds ``index``, ``time`` and a copy of every output value. Used by offline
    analysis and by tests that compare live and offline results.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        y = y[:, None]
    procs = list(processors)
    pipe = Pipeline(samplerate=sr, channels=range(y.shape[1]), processors=procs, hop=hop, drop_late=False,
                    max_chunk=chunk, stats=stats)
    return run_unpaced(pipe, y, chunk)


def run_unpaced(pipe: Pipeline, y: np.ndarray, chunk: int, *, include_fast: bool = False) -> list[dict]:
    """Warm ``pipe`` and push ``y`` (frames x channels, float32, contiguous) through it.

    One dict per frame: ``index``, ``time`` and a copy of every output value; with
    ``include_fast`` also the latest fast-stream values (level, bands, onset, bpm) at that frame.
    """
    pipe.warmup()
    latest_fast: dict = {}

    def on_fast(values: dict, is_last: bool) -> None:  # noqa: ARG001
        for k, v in values.items():
            latest_fast[k] = v.copy() if isinstance(v, np.ndarray) else v

    rows: list[dict] = []
    a = pipe.assembler
    end22 = (y.shape[0] * SR_RECIPE) // a.samplerate  # frames end no later than the input
    pad = np.zeros((a.flush_pad(), y.shape[1]), dtype=np.float32)
    # the silent pad flushes the resamplers' look-ahead so the last hop completes
    parts = [y[i : i + chunk] for i in range(0, y.shape[0], chunk)] + [pad]
    for part in parts:
        pipe.push(part, part.shape[0])
        pipe.run_fast(on_fast if include_fast else None)
        while True:
            f = pipe.run_frame(limit=end22)
            if f is None:
                break
            row = {"index": f.index, "time": f.time}
            for k, v in f.values.items():
                row[k] = v.copy() if isinstance(v, np.ndarray) else v
            for k, v in latest_fast.items():
                row.setdefault(k, v)
            rows.append(row)
    return rows
