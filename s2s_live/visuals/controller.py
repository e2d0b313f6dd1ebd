"""Engine side of the visuals: triggers, rate limiting, the worker process and its restarts.

Everything here is cheap and never blocks the analysis thread: :meth:`on_frame` keeps the latest
state and maybe records a request, :meth:`on_fast` writes five floats into shared memory,
:meth:`poll` drains the worker's events without waiting. All heavy work (rendering, diffusion,
PNG encoding, the web viewer) happens in the spawned visuals process (:mod:`.worker`).

Requests: a trigger (genre change, emotion-quadrant change, every ``visuals_interval`` seconds
when auto is on, :meth:`generate`) becomes the *pending* request; a newer one replaces it (the
replaced one is counted as ``dropped``). The pending request is sent to the worker when no job is
in flight and at least ``visuals_min_interval`` seconds passed since the previous start.
"""

from __future__ import annotations

import collections
import dataclasses
import multiprocessing as mp
import queue
import threading
import time
from typing import Any, Callable, Sequence

from ..errors import ConfigError, VisualsError
from .state import default_state, state_from_values
from ..osc.checks import check_intensity, check_interval, check_palette, check_scene
from .worker import FAST_COUNT, FAST_RING, FAST_SIZE, FAST_SLOTS, RECENT, worker_main

#: Crashes within CRASH_WINDOW seconds after which the worker is not restarted any more.
MAX_CRASHES = 5
CRASH_WINDOW = 60.0


class VisualsController:
    """Visuals for the engine (see the module docstring).

    Parameters
    ----------
    cfg : s2s_live.config.Config
        Uses visuals, visuals_model, visuals_* settings, web_port, out_dir, seed.
    emit : callable(address_below_prefix, args_tuple)
        Sends an OSC event to all targets: ``image/started (id, prompt)``, ``image (id, path)``,
        ``image/progress (id, fraction)``, ``image/video (id, path)`` (video mode: the loop's
        sprite sheet), ``error ("visuals", reason)``.
    start_timeout : float
        Seconds :meth:`start` waits for the backend to load and warm up.
    """

    def __init__(self, cfg, emit: Callable[[str, tuple], Any], *, start_timeout: float = 300.0) -> None:
        if getattr(cfg, "visuals", "none") not in ("procedural", "diffusers"):
            raise ConfigError(f"visuals={getattr(cfg, 'visuals', None)!r} is invalid for VisualsController; "
                              "expected 'procedural' or 'diffusers'")
        cfg.validate()  # every visuals_* setting is checked there, once (a Config built by hand is too)
        self.cfg = cfg
        self.emit = emit
        self.interval = float(cfg.visuals_interval)
        self.min_interval = float(cfg.visuals_min_interval)
        self.auto = bool(getattr(cfg, "visuals_auto", True))
        self.start_timeout = float(start_timeout)
        self._wcfg = dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else dict(vars(cfg))
        self._ctx = mp.get_context("spawn")
        self._fast = self._ctx.RawArray("d", FAST_SIZE)
        self._fast_n = 0
        #: WebGL viewer: scene lock (None = follow the music), intensity 0..2, palette bias -1..1
        self.viewer = {"lock": None, "intensity": 1.0, "palette": 0.0}
        self._proc = None
        self._cmd_q = None
        self._evt_q = None
        self._ready = False
        self._stopped = False
        self._disabled = False
        self.info: dict = {}
        self.state = default_state()
        self.params: tuple = ()
        self._pending: dict | None = None
        self._inflight: dict | None = None
        self._next_id = 1
        self._last_dispatch = -1e9
        self._last_auto = time.monotonic()
        self._last_genre = None
        self._last_quadrant = None
        self._beats = 0
        self._crash_times: list[float] = []
        #: the last images (what the operator page's strip and the viewer show), handed to every
        #: worker started after them: a restarted or viewer-only worker serves them at once
        self._recent: collections.deque = collections.deque(maxlen=RECENT)
        self._viewer_only = False  #: the running worker serves the viewer only (visuals disabled)
        #: engine side of the operator page's mapping and dataset panels (s2s_live/operator.py):
        #: called with ``(kind, page, payload)`` for each ``("cmd", "page", ...)`` event
        self.on_page: Callable[[tuple], Any] | None = None
        # generate()/set_*() may come from the control thread while poll() runs on the analysis
        # thread; the lock is held for microseconds only (no I/O under it but a queue append).
        self._lock = threading.RLock()
        self._restarter: threading.Thread | None = None
        self.counters = {"requests": 0, "generated": 0, "dropped": 0, "failed": 0, "crashes": 0,
                         "restarts": 0, "pruned": 0, "pruned_bytes": 0, "last_latency_s": None, "last_image": None}

    # -- lifecycle ------------------------------------------------------------------------------
    def _spawn(self, viewer_only: bool = False) -> None:
        self._cmd_q = self._ctx.Queue()
        self._evt_q = self._ctx.Queue()
        self._ready = False
        self._viewer_only = viewer_only
        wcfg = dict(self._wcfg, _recent=list(self._recent), _viewer_only=viewer_only)
        self._proc = self._ctx.Process(target=worker_main, name="s2s-visuals", daemon=True,
                                       args=(wcfg, self._cmd_q, self._evt_q, self._fast))
        self._proc.start()
        self._send(("settings", {"auto": self.auto, "interval": self.interval}))
        self._send(("state", self.state, self.params))
        self._send(("viewer", dict(self.viewer)))

    def start(self) -> None:
        """Spawn the visuals process and wait until its backend is loaded and warm.

        Raises VisualsError with the worker's reason when the backend or the web viewer cannot
        start (missing model folder, port in use, ...).
        """
        self.begin()
        self.wait_started()

    def begin(self) -> None:
        """Spawn the visuals process without waiting: the engine builds its processors while the
        worker loads (the two use different cores). :meth:`wait_started` completes the start."""
        if self._proc is not None:
            return
        self._stopped = False
        self._spawn()

    def wait_started(self) -> None:
        """Wait until the process spawned by :meth:`begin` is loaded and warm (VisualsError as
        :meth:`start` when it fails)."""
        if self._ready:
            return
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            try:
                evt = self._evt_q.get(timeout=0.1)
            except queue.Empty:
                if self._proc.exitcode is not None:
                    code = self._proc.exitcode
                    self._cleanup()
                    raise VisualsError(f"visuals process exited with code {code} while starting")
                continue
            if evt[0] == "ready":
                self._ready = True
                self.info = evt[1]
                return
            if evt[0] == "fatal":
                self._cleanup(wait=2.0)
                raise VisualsError(evt[1])
        self._cleanup()
        raise VisualsError(f"visuals backend did not start within {self.start_timeout:g} s")

    def stop(self) -> None:
        """Stop the visuals process (within ~1 s). Idempotent."""
        self._stopped = True
        if self._restarter is not None:
            self._restarter.join(2.0)
        self._cleanup(wait=0.8)

    def _cleanup(self, wait: float = 0.8) -> None:
        p = self._proc
        if p is not None:
            if p.exitcode is None:
                self._send(("stop",))
                p.join(wait)
            if p.exitcode is None:
                p.terminate()
                p.join(0.3)
            if p.exitcode is None:
                p.kill()
                p.join(0.3)
        for q in (self._cmd_q, self._evt_q):
            if q is not None:
                q.cancel_join_thread()  # never block interpreter exit on a dead reader
                q.close()
        self._proc = self._cmd_q = self._evt_q = None
        self._ready = False
        self._inflight = None

    @property
    def url(self) -> str | None:
        """The web viewer's URL once started (None when disabled)."""
        return self.info.get("url")

    # -- engine hooks ------------------------------------------------------------------------------
    def _send(self, msg) -> None:
        if self._cmd_q is not None:
            try:
                self._cmd_q.put_nowait(msg)
            except (ValueError, OSError):  # queue closed during a restart
                pass

    def on_frame(self, values: dict, t: float) -> None:
        """Every hop, from the analysis thread: keep the latest state; genre/emotion triggers."""
        st = state_from_values(values, self.state)
        self._send(("state", st, self.params))
        genre, quad = st["genre"], st["emotion"]
        if "genre/changed" in values:
            self._request("genre")
        elif genre is not None and self._last_genre is not None and genre != self._last_genre:
            self._request("genre")
        elif quad is not None and self._last_quadrant is not None and quad != self._last_quadrant:
            self._request("emotion")
        self._last_genre, self._last_quadrant = genre, quad
        if self.auto and time.monotonic() - self._last_auto >= self.interval:
            self._request("auto")

    def on_fast(self, values: dict) -> None:
        """Fast stream (~86/s): level, bands, onset, beat into shared memory (no messages)."""
        f = self._fast
        v = values.get("level")
        if v is not None:
            f[0] = float(v)
        b = values.get("bands")
        if b is not None and len(b) >= 3:
            f[1], f[2], f[3] = float(b[0]), float(b[1]), float(b[2])
        v = values.get("onset")
        if v is not None:
            f[4] = float(v)
        if values.get("beat"):
            self._beats += 1
            f[5] = float(self._beats)
        v = values.get("bpm")
        if v is not None:
            f[6] = float(v)
        f[7] = time.monotonic()
        w = len(FAST_SLOTS)
        base = FAST_COUNT + 1 + (self._fast_n % FAST_RING) * w
        f[base:base + w] = f[0:w]
        self._fast_n += 1
        f[FAST_COUNT] = float(self._fast_n)  # after the entry: a reader never sees a half-new count

    def generate(self, prompt: str | None = None) -> None:
        """Request an image now (``/s2s/visuals/generate [prompt]``, MIDI note); rate-limited."""
        if prompt is not None and not isinstance(prompt, str):
            raise TypeError(f"prompt must be a string or None, got {type(prompt).__name__}")
        if prompt is not None and len(prompt) > 2000:
            raise ValueError(f"prompt has {len(prompt)} characters; at most 2000 are accepted")
        self._request("manual", prompt or None)

    def set_auto(self, on: bool) -> None:
        """Switch automatic images every ``interval`` seconds on or off."""
        self.auto = bool(on)
        self._last_auto = time.monotonic()
        self._send(("settings", {"auto": self.auto, "interval": self.interval}))

    def set_interval(self, seconds: float) -> None:
        """Seconds between automatic images, 1..3600."""
        self.interval = check_interval([seconds])
        self._send(("settings", {"auto": self.auto, "interval": self.interval}))

    def set_scene(self, name: str) -> None:
        """Lock the viewer's scene family (one of :data:`~.state.SCENES`) or ``"auto"`` (follow
        the genre and emotion quadrant)."""
        name = check_scene([name])
        self._set_viewer(lock=None if name == "auto" else name)

    def set_intensity(self, value: float) -> None:
        """Intensity of the viewer's motion, flashes and image warping, 0 (still) .. 2 (wild); 1 default."""
        self._set_viewer(intensity=check_intensity([value]))

    def set_palette(self, value: float) -> None:
        """Palette bias of the viewer, -1 (cooler) .. 1 (warmer); 0 = from valence/arousal only."""
        self._set_viewer(palette=check_palette([value]))

    def _set_viewer(self, **kw) -> None:
        with self._lock:
            self.viewer.update(kw)
            self._send(("viewer", dict(self.viewer)))

    def set_params(self, values: Sequence[float]) -> None:
        """Wekinator outputs (``/wek/outputs f×M``, 0..1) -> prompt words and procedural shape."""
        vals = tuple(min(1.0, max(0.0, float(v))) for v in values)
        if len(vals) > 64:
            raise ValueError(f"values has {len(vals)} elements; at most 64 are accepted")
        self.params = vals
        self._send(("state", self.state, self.params))

    def _request(self, reason: str, prompt: str | None = None) -> None:
        with self._lock:
            self._request_locked(reason, prompt)

    def _request_locked(self, reason: str, prompt: str | None) -> None:
        now = time.monotonic()
        if reason == "auto" or self.auto:
            self._last_auto = now  # any image restarts the auto interval
        self.counters["requests"] += 1
        if self._pending is not None:
            self.counters["dropped"] += 1
        self._pending = {"reason": reason, "prompt": prompt, "t_request": time.time(), "t_mono": now}
        self._dispatch()

    def _dispatch(self) -> None:
        with self._lock:
            self._dispatch_locked()

    def _dispatch_locked(self) -> None:
        if (self._pending is None or self._inflight is not None or not self._ready or self._disabled
                or time.monotonic() - self._last_dispatch < self.min_interval):
            return
        req = dict(self._pending, id=self._next_id, state=dict(self.state), params=self.params)
        self._next_id += 1
        self._pending = None
        self._inflight = req
        self._last_dispatch = time.monotonic()
        self._send(("job", req))

    def poll(self) -> None:
        """Every hop: forward worker events as OSC, dispatch the pending request, restart a crash.
        While disabled, the viewer-only worker's events (its page commands) are still handled."""
        if self._stopped:
            return
        if self._disabled:
            self._poll_viewer()
            return
        self._drain()
        restarting = self._restarter is not None and self._restarter.is_alive()
        if (not restarting and self._proc is not None and self._proc.exitcode is not None
                and not self._stopped):
            self._crashed(self._proc.exitcode)
        self._dispatch()

    def _handle(self, evt: tuple) -> None:
        kind = evt[0]
        if kind == "ready":
            self._ready = not evt[1].get("viewer_only", False)
            self.info = evt[1]
        elif kind == "started":
            self.emit("image/started", (int(evt[1]), str(evt[2])))
        elif kind == "progress":
            self.emit("image/progress", (int(evt[1]), float(evt[2]) / max(1, int(evt[3]))))
        elif kind == "image":
            self.counters["generated"] += 1
            if self._inflight is not None and self._inflight["id"] == evt[1]:
                self.counters["last_latency_s"] = round(time.monotonic() - self._inflight["t_mono"], 4)
                self._inflight = None
            self.counters["last_image"] = evt[2]
            self._remember(int(evt[1]), str(evt[2]), evt[3] if len(evt) > 3 else {})
            self.emit("image", (int(evt[1]), str(evt[2])))
        elif kind == "video":
            self.counters["videos"] = self.counters.get("videos", 0) + 1
            self.emit("image/video", (int(evt[1]), str(evt[2])))
        elif kind == "failed":
            self.counters["failed"] += 1
            if self._inflight is not None and self._inflight["id"] == evt[1]:
                self._inflight = None
            self.emit("error", ("visuals", str(evt[2])))
        elif kind == "pruned":  # oldest images deleted to keep out_dir within visuals_keep(_mb)
            self.counters["pruned"] += int(evt[1])
            self.counters["pruned_bytes"] += int(evt[2])
            if evt[3]:
                self.emit("error", ("visuals", str(evt[3])))
        elif kind == "fatal":
            self.emit("error", ("visuals", str(evt[1])))
        elif kind == "cmd":
            name, value = evt[1], evt[2]
            if name == "generate":
                self.generate(value)
            elif name == "auto":
                self.set_auto(bool(value))
            elif name == "interval":
                self.set_interval(float(value))
            elif name == "scene":
                self.set_scene(str(value))
            elif name == "intensity":
                self.set_intensity(float(value))
            elif name == "palette":
                self.set_palette(float(value))
            elif name == "page":  # the mapping / dataset panels: the engine's operator bridge
                self._page_command(value)

    def _page_command(self, value) -> None:
        if self.on_page is not None:
            self.on_page(value)
            return
        kind, page = (value[0], value[1]) if isinstance(value, tuple) and len(value) >= 2 else ("page", None)
        self.to_page(page, {"type": "error", "cmd": str(kind)[:40],
                            "reason": "the mapping and dataset panels need the engine (s2s-live run --visuals ...)"})

    def to_page(self, page: int | None, msg: dict) -> None:
        """Send ``msg`` (JSON-able) to operator page ``page`` (its connection number), or to every
        page when None; mapping/dataset panel state is also kept for pages that connect later."""
        self._send(("page", page, msg))

    def _remember(self, jid: int, path: str, meta: dict) -> None:
        """Keep image ``jid`` as the viewer's last image (handed to workers started later)."""
        from pathlib import Path

        emo = meta.get("emotion")
        self._recent.append({"type": "image", "id": jid, "url": f"/images/{Path(path).name}",
                             "prompt": meta.get("prompt"), "genre": meta.get("genre"),
                             "emotion": emo.get("label") if isinstance(emo, dict) else emo, "bpm": meta.get("bpm")})

    def _drain(self, kinds: tuple[str, ...] | None = None) -> None:
        """Handle up to 64 queued worker events (bounded: never spend a hop here); with
        ``kinds``, only those kinds are handled (the rest are dropped)."""
        q = self._evt_q
        for _ in range(64):
            if q is None:
                break
            try:
                evt = q.get_nowait()
            except queue.Empty:
                break
            except (OSError, ValueError, EOFError):
                break
            if kinds is None or evt[0] in kinds:
                with self._lock:
                    self._handle(evt)

    def _poll_viewer(self) -> None:
        """Disabled: drain the viewer-only worker's events; it is not restarted when it exits."""
        if self._restarter is not None and self._restarter.is_alive():
            return
        self._drain(("ready", "cmd", "fatal"))
        if self._proc is not None and self._proc.exitcode is not None:
            code = self._proc.exitcode
            self._cleanup(wait=0.0)
            self.emit("error", ("visuals", f"the web viewer exited with code {code} while the visuals are "
                                "disabled; /s2s/visuals/restart starts the visuals and the viewer again"))

    def _crashed(self, code: int) -> None:
        now = time.monotonic()
        self.counters["crashes"] += 1
        self._crash_times = [t for t in self._crash_times if now - t < CRASH_WINDOW] + [now]
        self._cleanup(wait=0.0)
        if len(self._crash_times) >= MAX_CRASHES:
            self._disabled = True
            self.emit("error", ("visuals", f"visuals process crashed {len(self._crash_times)} times within "
                                f"{CRASH_WINDOW:g} s (last exit code {code}); visuals disabled, audio unaffected; "
                                "/s2s/visuals/restart starts them again"))
            if self._wcfg.get("web_port"):  # the viewer keeps serving the last image (no backend)
                self._restarter = threading.Thread(target=self._spawn, kwargs={"viewer_only": True},
                                                   name="s2s-visuals-viewer", daemon=True)
                self._restarter.start()
            return
        self.emit("error", ("visuals", f"visuals process exited with code {code}; restarting "
                            f"(crash {self.counters['crashes']})"))
        self.counters["restarts"] += 1
        # Starting a process costs ~20 ms: do it off the analysis thread.
        self._restarter = threading.Thread(target=self._spawn, name="s2s-visuals-restart", daemon=True)
        self._restarter.start()

    @property
    def disabled(self) -> bool:
        """True after MAX_CRASHES crashes within CRASH_WINDOW: no worker, until :meth:`restart`."""
        return self._disabled

    def restart(self) -> bool:
        """Start the worker again after it was disabled (``/s2s/visuals/restart``); the crash
        count starts afresh. Returns False (and does nothing) when the visuals are not disabled."""
        with self._lock:
            if not self._disabled or self._stopped:
                return False
            self._disabled = False
            self._crash_times = []
            self.counters["restarts"] += 1
            old = self._restarter

        def respawn() -> None:  # the viewer-only worker frees the web port first
            if old is not None:
                old.join(5.0)
            self._cleanup(wait=1.0)
            self._spawn()

        self._restarter = threading.Thread(target=respawn, name="s2s-visuals-restart", daemon=True)
        self._restarter.start()
        return True

    def stats(self) -> dict:
        """Counters: requests, generated, dropped (replaced before start), failed, crashes,
        restarts, pruned / pruned_bytes (old images deleted for the folder cap), last_latency_s (request -> image), plus in_flight, pending, ready, backend."""
        return dict(self.counters, in_flight=self._inflight is not None, pending=self._pending is not None,
                    ready=self._ready, disabled=self._disabled, viewer_only=self._viewer_only, viewer=dict(self.viewer), backend=self.info.get("backend"),
                    pid=self._proc.pid if self._proc is not None else None)
