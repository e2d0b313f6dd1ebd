"""The engine: wires capture -> frames -> processors -> OSC out, plus control and visuals.

Threads (see docs/architecture.md):

* the source's own thread or PortAudio callback writes into the capture ring (copy + count);
* the analysis thread (here) reads the ring, assembles frames, runs the processors, sends OSC,
  watches the source's health and feeds the visuals controller;
* the control server's thread validates incoming OSC commands and calls the engine's methods;
* visuals run in their own process.

Nothing that can fail in a processor, a target or the visuals stops the analysis thread:
failures are counted and reported as ``/s2s/error``.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import nullcontext
from typing import Callable

import numpy as np

from . import __version__, kernels
from .capture.base import Source
from .capture.device import DeviceSource
from .capture.sources import FileSource, SynthSource
from .config import Config
from .errors import AudioFileError, ConfigError
from .frames import SR_RECIPE, SR_VAE, Frame, check_hop
from .osc.broadcast import OSCBroadcaster, parse_target
from .pipeline import Pipeline, build_processors
from .processor import Processor
from .stats import Stats

POLL_INTERVAL = 0.002  #: seconds the analysis thread sleeps when the ring is empty
HEALTH_INTERVAL = 0.25  #: seconds between source health checks / visuals polls
SWITCH_INTERVAL = 0.0005  #: seconds; Python's GIL switch interval while the engine runs
ERROR_RATE = 10  #: at most this many /s2s/error messages per second (the rest are counted)
#: Kernels of these packages compile in their own process (the visuals worker), never on the way
#: to the first frame: a cold start does not wait for them.
OTHER_PROCESS_KERNELS = ("s2s_live.visuals",)

#: capture rates the pipeline accepts (Hz), as Config.validate and FrameAssembler check them
SR_MIN, SR_MAX = 8000, 384000


_switch_lock = threading.Lock()
_switch_state = {"users": 0, "saved": None}


def _switch_interval(delta: int) -> None:
    """Engines that run share SWITCH_INTERVAL; the value found before the first one started is
    restored when the last one stops (not before: another engine may still be streaming)."""
    with _switch_lock:
        st = _switch_state
        if delta > 0:
            if st["users"] == 0:
                st["saved"] = sys.getswitchinterval()
            st["users"] += 1
            sys.setswitchinterval(SWITCH_INTERVAL)
        elif st["users"] > 0:
            st["users"] -= 1
            if st["users"] == 0 and st["saved"] is not None:
                sys.setswitchinterval(st["saved"])
                st["saved"] = None


def make_source(cfg: Config) -> Source:
    """Build the capture source a config asks for (DeviceError/AudioFileError on failure)."""
    if cfg.source == "file":
        if not cfg.file:
            raise ConfigError("source 'file' needs a path (--file PATH)")
        src = FileSource(cfg.file, loop=cfg.loop, blocksize=max(64, cfg.blocksize or 512))
        if not SR_MIN <= src.samplerate <= SR_MAX:
            # the file's own rate, which the config's samplerate check never sees
            if hasattr(src, "close"):
                src.close()
            raise AudioFileError(f"{cfg.file!r} is sampled at {src.samplerate} Hz; samplerate must be in "
                                 f"{SR_MIN}..{SR_MAX} Hz (resample the file first)")
        return src
    if cfg.source == "synth":
        return SynthSource(samplerate=cfg.samplerate or 44100, blocksize=max(64, cfg.blocksize or 512),
                           seed=cfg.seed, section_seconds=cfg.synth_section, styles=cfg.synth_styles)
    return DeviceSource(cfg.device, samplerate=cfg.samplerate, blocksize=cfg.blocksize, channels=cfg.channels)


class Engine:
    """A running s2s_live instance.

    Parameters
    ----------
    cfg : Config
        Settings (source, hop, targets, control, visuals...).
    source : Source or None
        A ready source; None builds one from ``cfg``.
    processors : list of Processor or None
        None uses :func:`~s2s_live.pipeline.build_processors`.
    """

    def __init__(self, cfg: Config | None = None, *, source: Source | None = None,
                 processors: list[Processor] | None = None) -> None:
        self.cfg = cfg or Config()
        self.cfg.validate()
        self.stats = Stats()
        self.source = source
        self._processors = processors
        self.pipeline: Pipeline | None = None
        self.osc = OSCBroadcaster(prefix=self.cfg.prefix)
        for spec in self.cfg.targets:
            self.osc.add_target(*parse_target(spec))
        self.control = None
        self.midi = None
        self.visuals = None
        self.models = None  # the model host (inference), when processors include one
        self.mapper = None  # the MappingProcessor (s2s_live/mapping/processor.py), when cfg.mapper or given
        self.wekinator = None  # its Wekinator control server (cfg.mapper_port)
        self.operator = None  # the operator page's mapping/dataset panels (s2s_live/operator.py), with visuals
        self.finished = threading.Event()  # set when a non-looping file ends
        self.health_message = ""
        self._subscribers: list[Callable[[Frame], None]] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._running = False
        self._holds_switch = False  #: counted in _switch_interval's users
        self._err_lock = threading.Lock()
        self._err_window = 0.0
        self._err_count = 0
        self.last_values: dict = {}
        self.last_fast: dict = {}
        self.frame_times: dict[int, float] = {}  # frame index -> capture time (bench)
        #: "idle" | "preparing" (compiling kernels, cold cache) | "starting" | "running" | "stopped"
        self.state = "idle"
        #: progress of a cold start while kernels compile (None when the cache was warm)
        self.preparation: kernels.Preparation | None = None
        self.t_streaming: float | None = None  #: perf_counter() when audio started flowing
        self.t_first_frame: float | None = None  #: perf_counter() when the first frame was sent
        self.first_frame = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, on_open: Callable[["Engine"], None] | None = None) -> "Engine":
        """Build and warm everything, then start audio and the analysis thread.

        ``on_open(engine)`` is called once the source is open and the control server answers,
        before processors are built and kernels warmed (which takes ~30 s on a 2-core machine
        when the kernel cache is cold: ``engine.preparation`` is then set and reports progress).
        """
        if self._running:
            return self
        try:
            self._start(on_open)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, on_open: Callable[["Engine"], None] | None = None) -> None:
        cfg = self.cfg
        self.state = "starting"
        # The PortAudio callback is Python and needs the GIL; with the default 5 ms switch
        # interval a busy analysis thread can hold it for a whole JACK period (5.3 ms at
        # 256/48000) and cause an overflow. 0.5 ms bounds that wait. stop() restores the value
        # found here (the host application's).
        if not self._holds_switch:
            self._holds_switch = True
            _switch_interval(+1)
        if self.source is None:
            self.source = make_source(cfg)
        # The control server starts before the (possibly long) warm-up so that /s2s/status can
        # report a cold start's progress; commands that need the pipeline refuse until it exists.
        if cfg.control_port:
            from .osc.control import ControlServer

            self.control = ControlServer(self, host=cfg.control_host, port=cfg.control_port,
                                         allow=cfg.control_allow)
            from .mapping.wekinator import map_handlers

            # the mapper's <prefix>/map/* commands: the control server (osc stage) is given them,
            # it does not import the mapping stage above it
            self.control.handlers.update(map_handlers(self.control))
            self.control.start()
        if cfg.visuals != "none":
            from .visuals.controller import VisualsController

            # spawned now, waited for after the warm-up: its process loads on the other core
            # while this one builds the processors (1.7 s off a warm start on 2 cores)
            self.visuals = VisualsController(cfg, self.emit)
            self.visuals.begin()
        cache = kernels.check(exclude=OTHER_PROCESS_KERNELS)
        if not cache.warm:
            self.preparation = kernels.Preparation(cache)
            self.state = "preparing"
        if on_open is not None:
            on_open(self)
        prep = self.preparation
        with prep if prep is not None else nullcontext():
            procs = self._processors if self._processors is not None else build_processors(cfg)
            if cfg.mapper and not any(p.name == "mapper" for p in procs):
                from .mapping.processor import MappingProcessor

                procs = list(procs) + [MappingProcessor.from_config(cfg)]  # last: it reads every output
            self.pipeline = Pipeline(samplerate=self.source.samplerate, channels=self.source.selected,
                                     processors=procs, hop=cfg.hop, stats=self.stats,
                                     on_error=self.report_error)
            self.models = next((getattr(p, "host") for p in procs if hasattr(p, "host")), None)
            self._wire_mapper(procs)
            if prep is not None:
                # building may have imported modules with kernels of their own (model plugins)
                prep.built(kernels.check(exclude=OTHER_PROCESS_KERNELS))
            self.pipeline.warmup()
        if prep is not None:
            if prep.libraries_cold:
                kernels.write_stamp(by="engine", seconds=prep.elapsed_s)
            self.state = "starting"
        self.osc.bind_outputs(self.pipeline.outputs())
        from .midi import from_config as midi_from_config

        self.midi = midi_from_config(self)  # None unless midi_out / midi_in are set
        if self.visuals is not None:
            self.visuals.wait_started()
            from .operator import OperatorPanels

            self.operator = OperatorPanels(self)
            self.operator.start()
        self.osc.send_meta(self.meta())
        for problem in getattr(self.models, "problems", ()):  # e.g. a card.json deleted by hand
            self.report_error("models", problem)
        self._stop.clear()
        self.finished.clear()
        self._chunk = np.zeros((self.pipeline.assembler.max_chunk, self.source.channels), dtype=np.float32)
        self.source.start()
        self.t_streaming = time.perf_counter()
        self.state = "running"
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="s2s-analysis", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop everything (idempotent); returns within about a second."""
        self._stop.set()
        t, self._thread = self._thread, None
        if t is not None:
            t.join(timeout=2.0)
        if self.source is not None:
            self.source.stop()
            if hasattr(self.source, "close"):
                self.source.close()
        for part in (self.control, self.wekinator, self.midi, self.operator, self.visuals):
            if part is not None:
                try:
                    part.stop()
                except Exception as exc:  # noqa: BLE001 - keep shutting the rest down
                    self.stats.incr("errors:shutdown")
                    self.health_message = f"shutdown: {exc}"
        self.control = self.wekinator = self.midi = self.operator = self.visuals = None
        if self.pipeline is not None:
            self.pipeline.close()
        self.osc.close()
        self._running = False
        self.state = "stopped"
        if self._holds_switch:
            self._holds_switch = False
            _switch_interval(-1)

    def __enter__(self) -> "Engine":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._running and not self._stop.is_set()

    def wait(self, seconds: float | None = None) -> None:
        """Block until ``seconds`` pass, a non-looping file ends, or stop() is called."""
        deadline = None if seconds is None else time.perf_counter() + seconds
        while not self._stop.is_set() and not self.finished.is_set():
            if deadline is not None and time.perf_counter() >= deadline:
                return
            time.sleep(0.05)

    def _wire_mapper(self, procs) -> None:
        """Bind the mapper to the pipeline's outputs, load cfg.mapper_load, open its Wekinator port."""
        self.mapper = next((p for p in procs if p.name == "mapper"), None)
        if self.mapper is None:
            return
        m = self.mapper
        m.bind(self.pipeline.outputs())
        m.fast_values = lambda: self.last_fast  # level, bands, onset, bpm: the fast stream's newest
        m.on_outputs_changed = self._outputs_changed
        if self.cfg.mapper_load:
            m.load(self.cfg.mapper_load)
            if m.status()["trained"]:
                m.set_running(True)
        if self.cfg.mapper_port:
            from .mapping.wekinator import WekinatorServer

            self.wekinator = WekinatorServer(self, host=self.cfg.control_host, port=self.cfg.mapper_port,
                                             allow=self.cfg.control_allow)
            self.wekinator.start()

    def _outputs_changed(self) -> None:
        """Declared outputs changed at run time (mapper outputs): re-bind profiles, resend meta."""
        if self.pipeline is not None:
            self.osc.bind_outputs(self.pipeline.outputs())
            self.osc.send_meta(self.meta())

    def subscribe(self, fn: Callable[[Frame], None]) -> None:
        """Call ``fn(frame)`` in the analysis thread after every analysed frame (keep it cheap)."""
        self._subscribers.append(fn)

    # -- the analysis thread ----------------------------------------------------------------
    def _loop(self) -> None:
        src, pipe, ring = self.source, self.pipeline, self.source.ring
        chunk = self._chunk
        max_chunk = chunk.shape[0]
        next_health = time.perf_counter() + HEALTH_INTERVAL
        t_read = self.stats.timing("read")
        t_send = self.stats.timing("osc")
        t_lat = self.stats.timing("latency")
        while not self._stop.is_set():
            now = time.perf_counter()
            if now >= next_health:
                next_health = now + HEALTH_INTERVAL
                self._housekeeping()
            if self.cfg.hop != pipe.assembler.hop:  # a control command changed it
                pipe.set_hop(self.cfg.hop)
            n = ring.read_into(chunk, max_chunk)
            if n == 0:
                if src.finished and not self.finished.is_set():
                    self.finished.set()
                self._stop.wait(POLL_INTERVAL)
                continue
            t0 = time.perf_counter()
            pipe.push(chunk, n)
            t_read.add(time.perf_counter() - t0)
            pipe.run_fast(self._on_fast)
            f = pipe.run_frame()
            if f is None:
                continue
            f.t_capture = ring.time_of(pipe.assembler.capture_index(int(round(f.time * SR_RECIPE))))
            t1 = time.perf_counter()
            self.osc.send_frame(f.values, f.index, f.time)
            t2 = time.perf_counter()
            t_send.add(t2 - t1)
            if self.t_first_frame is None:
                self.t_first_frame = t2
                self.first_frame.set()
            if f.t_capture == f.t_capture:  # not NaN
                t_lat.add(t2 - f.t_capture)
            self.frame_times[f.index] = f.t_capture
            if len(self.frame_times) > 4096:
                self.frame_times.pop(next(iter(self.frame_times)))
            # a copy: the frame's dict is cleared and refilled next hop while the live view
            # and the control thread read this one
            self.last_values = dict(f.values)
            if self.visuals is not None:
                try:
                    self.visuals.on_frame(f.values, f.time)
                except Exception as exc:  # noqa: BLE001 - visuals must never stop analysis
                    self.report_error("visuals", str(exc))
            for fn in self._subscribers:
                try:
                    fn(f)
                except Exception as exc:  # noqa: BLE001
                    self.report_error("subscriber", str(exc))

    def _on_fast(self, values: dict, is_last: bool) -> None:
        # Continuity needs every block processed; only the newest block of a backlog is sent,
        # except events (a beat), which are always sent.
        if is_last:
            self.osc.send_fast(values)
            self.last_fast = values
            if self.visuals is not None:
                try:
                    self.visuals.on_fast(values)
                except Exception as exc:  # noqa: BLE001
                    self.report_error("visuals", str(exc))
        elif "beat" in values:
            self.osc.send_fast({"beat": values["beat"]})

    def _housekeeping(self) -> None:
        src = self.source
        h = src.health()
        if not h.ok or h.message:
            if h.message != self.health_message:
                self.report_error("audio", h.message)
            self.health_message = h.message if not h.ok else ""
        a = self.pipeline.assembler
        st = self.stats
        for k, v in src.counters().items():
            st.set(k, v)
        st.set("frames", a.frames)
        st.set("dropped", a.dropped)
        st.set("nonfinite", a.nonfinite)
        st.set("clamped", a.clamped)
        st.set("ring_overruns", src.ring.overruns)
        for k, v in self.osc.counters().items():
            st.set(k, v)
        if self.visuals is not None:
            try:
                self.visuals.poll()
            except Exception as exc:  # noqa: BLE001
                self.report_error("visuals", str(exc))

    # -- events and errors ------------------------------------------------------------------
    def emit(self, address: str, args: tuple) -> None:
        """Send an event ``<prefix>/<address>`` to every target (types inferred from args)."""
        tags = "".join("s" if isinstance(a, str) else "i" if isinstance(a, (int, np.integer)) and not isinstance(a, bool) else "f" for a in args)
        self.osc.send_event(address, tags, args)

    def report_error(self, component: str, reason: str) -> None:
        """Count an error and send ``/s2s/error s s`` (rate-limited to ERROR_RATE per second)."""
        self.stats.incr("errors")
        with self._err_lock:  # analysis, control and visuals threads report errors
            now = time.perf_counter()
            if now - self._err_window >= 1.0:
                self._err_window = now
                self._err_count = 0
            self._err_count += 1
            send = self._err_count <= ERROR_RATE
        if send:
            self.osc.send_event("error", "ss", [str(component), str(reason)[:500]])
        else:
            self.stats.incr("errors_unsent")

    # -- control API (called from the control thread) ---------------------------------------
    def set_hop(self, hop: float) -> None:
        """Change the hop (seconds, 0.01..1.0) from any thread; the analysis thread applies it
        between hops, so the frame grid is never changed under a running ``next_frame``."""
        self.cfg.hop = check_hop(hop)
        if self._thread is None and self.pipeline is not None:
            self.pipeline.set_hop(float(hop))

    def set_smoothing(self, value: float) -> None:
        from .labels import check_smoothing

        value = check_smoothing(value)  # the one check of the range (the processors' own)
        self.cfg.smoothing = value
        # before the processors exist (cold start) they are built with cfg.smoothing
        for p in (self.pipeline.processors if self.pipeline is not None else ()):
            if hasattr(p, "set_smoothing"):
                p.set_smoothing(value)

    def meta(self) -> dict:
        return {
            "version": __version__,
            "samplerate": self.source.samplerate if self.source else 0,
            "rates": [self.source.samplerate if self.source else 0, SR_RECIPE, SR_VAE],
            "hop": self.cfg.hop,
            "outputs": [d for p in (self.pipeline.processors if self.pipeline else []) for d in p.describe()["outputs"]],
        }

    def status(self) -> dict:
        """Counters and timings, JSON-able (``/s2s/status``, live view, benchmarks).

        ``state`` is "preparing" while a cold start compiles kernels, with ``preparing`` holding
        the progress (see :meth:`s2s_live.kernels.Preparation.snapshot`); timings of stages that
        have not run yet are None (never NaN, which JSON readers reject).
        """
        snap = self.stats.snapshot()
        for t in snap["timings"].values():
            for k in ("p50_ms", "p99_ms"):
                if not t["n"] or t[k] != t[k]:
                    t[k] = None
        snap["state"] = self.state
        prep = self.preparation
        if prep is not None and self.state == "preparing":
            snap["preparing"] = prep.snapshot()
        if self.t_first_frame is not None:
            snap["first_frame_s"] = round(self.t_first_frame - self.stats.started, 3)
        snap["source"] = getattr(self.source, "label", "?")
        snap["health"] = self.health_message or "ok"
        snap["targets"] = [t.spec for t in self.osc.targets]
        snap["hop"] = self.cfg.hop
        if self.models is not None:  # which model each slot runs now (/s2s/model/load changes it)
            snap["models"] = {s.slot: s.model_name for s in self.models.processors()}
        for p in (self.pipeline.processors if self.pipeline else []):
            if p.name == "tagger":  # runs, skipped patches, CPU seconds in the taggers' worker
                snap["tagger"] = p.stats()
        if self.mapper is not None:  # the short form; /s2s/map/status has the rest
            ms = self.mapper.status()
            snap["mapper"] = {k: ms[k] for k in ("examples", "trained", "training", "recording", "running")}
        if self.visuals is not None:
            try:
                snap["visuals"] = self.visuals.stats()
            except Exception:  # noqa: BLE001
                snap["visuals"] = {}
        return snap
