"""Web viewer for the projector, served from the visuals process (HTTP + WebSocket, one port).

Routes (default http://127.0.0.1:8765):

* ``/`` — the viewer: WebGL2 shader scenes (``static/scenes.js``) driven by the fast stream and
  the state, with the latest image as a texture; where WebGL2 is unavailable (or ``?gl=0``) the
  fallback: the latest image fullscreen with a crossfade over the live procedural animation
  (server-rendered JPEG frames). Overlay (genre / emotion / BPM) toggled with ``o``, ``f``
  fullscreen, ``l`` live layer on/off (fallback). Query options: ``?gl=0``, ``?live=0``,
  ``?fade=S`` crossfade seconds, ``?hold=S`` (fallback), ``?overlay=1``, ``?scale=F`` fixed
  render scale 0.1..1 (no automatic scaling).
* ``/control`` — the operator page, one JS file per panel (``ops.js`` holds the connection):
  prompt template and negative prompt, trigger an image, auto mode and its interval
  (``control.js``), scene lock / intensity / palette bias (``scenepanel.js``), the last images
  (``strip.js``), the mapper (``mappanel.js``: output sliders, record/train/run, example counts,
  a live plot of its inputs and outputs) and the dataset recorder (``datasetpanel.js``).
* ``/images/<name>.png`` — generated images from ``out_dir`` (names only, no paths).
* ``/ws`` — WebSocket. Server -> page JSON: ``hello`` (settings, template, last image),
  ``image``, ``started``, ``progress``, ``state`` (overlay and scene parameters, <= 4/s),
  ``settings``, ``viewer`` (scene lock, intensity, palette bias), ``video`` (video mode: ``id``,
  ``url`` of the loop's sprite sheet, ``frames``, ``fps``), ``fast`` (the fast stream at
  its native block rate, to pages that asked with ``{"cmd": "fast", "on": true}``: ``v`` rows of
  ``[t, level, low, mid, high, onset, beats, bpm]``, ``t`` engine monotonic seconds, ``beats`` a
  running count); binary messages are JPEG frames of the live animation, sent only to pages
  that asked with ``{"cmd": "live", "on": true}``. Page -> server JSON: ``generate``
  (``prompt``), ``auto`` (``on``), ``interval`` (``seconds``), ``template`` (``template``,
  ``negative``), ``live`` (``on``), ``fast`` (``on``), ``scene`` (``name``), ``intensity``
  (``value``), ``palette`` (``value``), ``map`` and ``dataset`` (checked by :mod:`.pages`, run and
  answered by the engine, :mod:`s2s_live.operator`; the messages and limits are in docs/visuals.md,
  "The operator page's mapping and dataset panels"). ``hello`` also carries the newest panel state
  and ``disabled`` (visuals disabled after repeated crashes: viewer and last images only).

The server runs an asyncio loop in its own thread; the job thread publishes through
``loop.call_soon_threadsafe``. Live frames are rendered and JPEG-encoded in a worker thread of
the loop (the numba kernel releases the GIL).

Safety (docs/visuals.md, "Web viewer"):

* Every request must carry a ``Host`` the viewer serves (``127.0.0.1:<port>``,
  ``localhost:<port>``), else 403 (defeats DNS rebinding); a WebSocket ``Origin``, when sent (a
  browser always sends it), must be ``http://`` one of those, else 403 (defeats cross-site pages).
* ``/images/<name>`` serves only a regular file directly in ``out_dir``, opened without
  following symlinks; anything else, or a name over :data:`MAX_NAME` characters, is 404.
* Commands are checked by the same functions as the OSC control port
  (:mod:`s2s_live.osc.checks`: types, lengths, no control characters).
* Each page has its own writer with a bounded queue: at most :data:`MAX_TEXTS` JSON messages
  waiting and one live frame (a newer frame replaces an unsent one: old frames are dropped). A
  page whose queue overflows, or whose send has not completed for :data:`STALL_S` seconds, is
  disconnected at once; at most :data:`MAX_CLIENTS` pages at a time. Memory stays bounded
  whatever pages do.
"""

from __future__ import annotations

import asyncio
import collections
import io
import json
import re
import socket
import struct
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from ..errors import CommandError, VisualsError
from ..osc.checks import check_auto, check_intensity, check_interval, check_palette, check_prompt, check_scene, check_text
from .state import FAST_SLOTS, SCENES
from .images import IMAGE_ROUTE, MAX_NAME, read_image  # noqa: F401  (MAX_NAME: the tests' limit)
from .pages import PAGE_BURST, PAGE_RATE, check_dataset_command, check_map_command

_CTYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
           ".css": "text/css; charset=utf-8", ".png": "image/png"}
#: URL path -> file of the packaged static folder (its own files only: listed once, at import)
STATIC = {"/" + e.name: e.name for e in resources.files("s2s_live.visuals").joinpath("static").iterdir()
          if Path(e.name).suffix in _CTYPES and re.fullmatch(r"[a-z0-9_-]+\.[a-z]+", e.name)}
STATIC.update({"/": "index.html", "/control": "control.html"})
FAST_HZ = 200.0  #: how often the ring is checked for new fast-stream blocks (86 blocks/s arrive)
MAX_FAST_ROWS = 64  #: fast-stream rows waiting per page (older ones go first)
MAX_TEXTS = 64  #: JSON messages waiting per page; one more disconnects it
STALL_S = 5.0  #: a page whose send has not completed for this long is disconnected
MAX_CLIENTS = 128  #: WebSocket pages at a time; more get HTTP 503
SNDBUF = 128 << 10  #: kernel send buffer per page (bytes)


def _static(name: str) -> bytes:
    return resources.files("s2s_live.visuals").joinpath("static", name).read_bytes()


class _Client:
    """One page: its connection, bounded outgoing queue and writer task."""

    __slots__ = ("ws", "texts", "frame", "wake", "live", "since", "task", "closed", "fast", "rows", "cid",
                 "tokens", "t_tokens")

    def __init__(self, ws, cid: int = 0) -> None:
        self.ws = ws
        self.cid = cid  #: connection number: the engine's answers to this page's commands name it
        self.tokens = PAGE_BURST  #: map/dataset commands this page may still send now
        self.t_tokens = time.monotonic()
        self.texts: collections.deque = collections.deque()
        self.frame: bytes | None = None  #: the newest live frame not yet sent
        self.wake = asyncio.Event()
        self.live = False
        self.fast = False  #: wants the fast stream
        self.rows: collections.deque = collections.deque(maxlen=MAX_FAST_ROWS)  #: fast rows not yet sent
        self.since: float | None = None  #: monotonic start of the send in progress
        self.task: asyncio.Future | None = None
        self.closed = False


class WebViewer:
    """HTTP/WebSocket server of the viewer; ``owner`` is the :class:`~.worker.Worker`."""

    def __init__(self, owner, *, host: str = "127.0.0.1", port: int = 8765, live_fps: float = 20.0,
                 mode_hold: float = 8.0, live_size: int = 512) -> None:
        self.owner = owner
        self.host = host
        self.port = int(port)
        self.live_fps = max(0.0, min(60.0, float(live_fps)))
        self.mode_hold = mode_hold
        self.live_size = live_size
        self.loop: asyncio.AbstractEventLoop | None = None
        self.clients: dict = {}  #: connection -> _Client
        self.authorities = {f"127.0.0.1:{self.port}", f"localhost:{self.port}",
                            (f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}").lower()}
        self.origins = {f"http://{a}" for a in self.authorities}
        #: refused: bad Host/Origin (403), too many pages (503); dropped_frames: replaced before sent;
        #: stalled: pages disconnected for not reading
        self.counters = {"forbidden": 0, "busy": 0, "dropped_frames": 0, "stalled": 0, "bad_commands": 0}
        self._state_t = 0.0
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: str | None = None
        self._stop: asyncio.Event | None = None
        self.frames_sent = 0
        self._next_cid = 0

    # -- thread-safe publishing --------------------------------------------------------------
    def publish(self, msg: dict) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._broadcast, json.dumps(msg, default=str))

    def publish_state(self, state: dict) -> None:
        now = time.monotonic()
        if now - self._state_t >= 0.25:
            self._state_t = now
            self.publish({"type": "state", "genre": state.get("genre"), "emotion": state.get("emotion"),
                          "bpm": state.get("bpm"), "valence": state.get("valence"),
                          "arousal": state.get("arousal"), "key": state.get("key"),
                          "level": state.get("level"), "scene": state.get("scene"),
                          "tags": list(state.get("tags") or ()), "xy": state.get("xy"),
                          "latent": list(state.get("latent") or ())[:8],
                          "params": list(self.owner.params)[:16]})

    def publish_to(self, page: int | None, msg: dict) -> None:
        """``msg`` to page number ``page`` (gone: dropped), or to every page when None."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._send_to, page, json.dumps(msg, default=str))

    def _send_to(self, page: int | None, text: str) -> None:
        if page is None:
            self._broadcast(text)
            return
        for cl in list(self.clients.values()):
            if cl.cid == page:
                self._queue_text(cl, text)

    def publish_settings(self, settings: dict) -> None:
        self.publish(dict(settings, type="settings"))

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> str:
        """Start serving; returns the URL. Raises VisualsError when the port cannot be bound."""
        self._thread = threading.Thread(target=self._run, name="s2s-web", daemon=True)
        self._thread.start()
        self._started.wait(10.0)
        if self._error:
            raise VisualsError(self._error)
        return f"http://{self.host}:{self.port}/"

    def stop(self) -> None:
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(2.0)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self._serve())
        finally:
            self.loop.close()

    async def _serve(self) -> None:
        from websockets.asyncio.server import serve

        self._stop = asyncio.Event()
        try:
            server = await serve(self._handler, self.host, self.port, process_request=self._http,
                                 max_size=65536, compression=None)
        except OSError as exc:
            self._error = (f"web viewer cannot listen on {self.host}:{self.port}: {exc.strerror or exc}; "
                           f"choose another web_port (0 disables the viewer)")
            self._started.set()
            return
        self._started.set()
        live = asyncio.ensure_future(self._live_loop())
        fast = asyncio.ensure_future(self._fast_loop())
        watch = asyncio.ensure_future(self._watchdog())
        try:
            await self._stop.wait()
        finally:
            live.cancel()
            fast.cancel()
            watch.cancel()
            server.close()
            await server.wait_closed()

    # -- HTTP -----------------------------------------------------------------------------------
    def _http(self, connection, request):
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        path = request.path.split("?", 1)[0]
        host = (request.headers.get("Host") or "").strip().lower()
        if host not in self.authorities:
            self.counters["forbidden"] += 1
            return connection.respond(403, "forbidden: unknown Host header\n")
        if path == "/ws":
            origin = request.headers.get("Origin")
            if origin is not None and origin.strip().lower() not in self.origins:
                self.counters["forbidden"] += 1
                return connection.respond(403, "forbidden: cross-origin WebSocket\n")
            if len(self.clients) >= MAX_CLIENTS:
                self.counters["busy"] += 1
                return connection.respond(503, "too many viewer pages\n")
            return None  # continue with the WebSocket handshake
        body = None
        if path in STATIC:
            name = STATIC[path]
            body, ctype = _static(name), _CTYPES[Path(name).suffix]
        else:
            m = IMAGE_ROUTE.match(path)
            if m:
                body, ctype = read_image(self.owner.out_dir, m.group(1)), "image/png"
        if body is None:
            return connection.respond(404, "not found\n")
        headers = Headers([("Content-Type", ctype), ("Content-Length", str(len(body))),
                           ("Cache-Control", "no-store"), ("Connection", "close")])
        return Response(200, "OK", headers, body)

    # -- WebSocket ------------------------------------------------------------------------------
    def _hello(self) -> str:
        t = self.owner.templates
        return json.dumps({"type": "hello", "backend": self.owner.cfg.get("visuals"), "hold": self.mode_hold,
                           "live_fps": self.live_fps, "template": t.template, "negative": t.negative,
                           "settings": self.owner.settings, "image": self.owner.last_image,
                           "viewer": self.owner.viewer, "scenes": list(SCENES),
                           "recent": list(self.owner.recent), "panels": dict(getattr(self.owner, "panels", {})),
                           "disabled": bool(getattr(self.owner, "viewer_only", False))}, default=str)

    async def _handler(self, ws) -> None:
        sock = ws.transport.get_extra_info("socket") if getattr(ws, "transport", None) else None
        if sock is not None:
            try:  # a fixed kernel buffer per page (no autotuning to megabytes for a page that never reads)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF)
            except OSError:
                pass
        self._next_cid += 1
        cl = _Client(ws, self._next_cid)
        self.clients[ws] = cl
        cl.task = asyncio.ensure_future(self._writer(cl))
        self._queue_text(cl, self._hello())
        try:
            async for raw in ws:
                if isinstance(raw, bytes):
                    continue
                reply = self._command(cl, raw)
                if reply is not None:
                    self._queue_text(cl, json.dumps(reply))
        except (ConnectionClosed, OSError):  # a page went away: nothing to clean up but its entry
            pass
        finally:
            self._forget(cl)

    def _forget(self, cl: _Client) -> None:
        cl.closed = True
        self.clients.pop(cl.ws, None)
        cl.texts.clear()
        cl.rows.clear()
        cl.frame = None
        if cl.task is not None:
            cl.task.cancel()

    def _disconnect(self, cl: _Client) -> None:
        """Drop a page that does not read: abort its TCP connection now (a closing handshake
        would wait on the very buffer it does not drain) and free its queue."""
        if cl.closed:
            return
        self.counters["stalled"] += 1
        transport = getattr(cl.ws, "transport", None)
        if transport is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                try:  # reset, do not linger: the kernel frees the unsent data at once
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            transport.abort()
        self._forget(cl)

    def _queue_text(self, cl: _Client, text: str) -> None:
        if cl.closed:
            return
        if len(cl.texts) >= MAX_TEXTS:
            self._disconnect(cl)
            return
        cl.texts.append(text)
        cl.wake.set()

    def _queue_frame(self, cl: _Client, jpeg: bytes) -> None:
        if cl.frame is not None:
            self.counters["dropped_frames"] += 1  # the page is behind: the old frame goes
        cl.frame = jpeg
        cl.wake.set()

    async def _writer(self, cl: _Client) -> None:
        """Send a page's queue one message at a time (JSON first, then the newest frame)."""
        try:
            while not cl.closed:
                await cl.wake.wait()
                cl.wake.clear()
                while not cl.closed and (cl.texts or cl.rows or cl.frame is not None):
                    if cl.texts:
                        data: Any = cl.texts.popleft()
                    elif cl.rows:
                        data = json.dumps({"type": "fast", "v": list(cl.rows)}, separators=(",", ":"))
                        cl.rows.clear()
                    else:
                        data, cl.frame = cl.frame, None
                    cl.since = time.monotonic()
                    await cl.ws.send(data)
                    cl.since = None
                    if isinstance(data, bytes):
                        self.frames_sent += 1
        except (ConnectionClosed, OSError):  # closed pages are dropped by their handler
            pass

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for cl in list(self.clients.values()):
                if cl.since is not None and now - cl.since > STALL_S:
                    self._disconnect(cl)

    def queue_sizes(self) -> dict:
        """Per-page queue lengths (JSON messages, frames waiting): for tests and status."""
        return {id(cl): (len(cl.texts), int(cl.frame is not None)) for cl in self.clients.values()}

    def _command(self, cl: _Client, raw: str) -> dict | None:
        try:
            msg = json.loads(raw)
        except ValueError:
            msg = None
        if not isinstance(msg, dict) or not isinstance(msg.get("cmd"), str):
            self.counters["bad_commands"] += 1
            return {"type": "error", "reason": "expected JSON {\"cmd\": ...}"}
        cmd = msg["cmd"]
        try:
            reply = self._execute(cl, cmd, msg)
        except CommandError as exc:  # the same checks and texts as the OSC control port
            self.counters["bad_commands"] += 1
            return {"type": "error", "cmd": cmd[:40], "reason": str(exc)}
        return reply

    @staticmethod
    def _flag(v: Any) -> Any:
        return int(v) if isinstance(v, bool) else v  # JSON true/false are the OSC 1/0

    def _execute(self, cl: _Client, cmd: str, msg: dict) -> dict | None:
        if cmd == "live":
            cl.live = bool(check_auto([self._flag(msg.get("on", True))], "live"))
            if not cl.live:
                cl.frame = None
            return None
        if cmd == "fast":
            cl.fast = bool(check_auto([self._flag(msg.get("on", True))], "fast"))
            if not cl.fast:
                cl.rows.clear()
            return None
        if cmd == "scene":  # viewer settings go through the engine's controller (one owner)
            self.owner.control("scene", check_scene([msg.get("name")], "scene"))
            return {"type": "ack", "cmd": cmd}
        if cmd == "intensity":
            self.owner.control("intensity", check_intensity([msg.get("value")], "intensity"))
            return {"type": "ack", "cmd": cmd}
        if cmd == "palette":
            self.owner.control("palette", check_palette([msg.get("value")], "palette"))
            return {"type": "ack", "cmd": cmd}
        if cmd == "generate":
            prompt = msg.get("prompt")
            prompt = check_prompt([] if prompt is None else [prompt], "generate")
            if getattr(self.owner, "viewer_only", False):  # an ack would claim an image is coming
                raise CommandError("visuals are disabled after repeated crashes; send /s2s/visuals/restart "
                                   "to start them again")
            self.owner.control("generate", prompt)
            return {"type": "ack", "cmd": cmd}
        if cmd in ("map", "dataset"):  # bounded per page: the engine's queue never floods
            now = time.monotonic()
            cl.tokens = min(PAGE_BURST, cl.tokens + (now - cl.t_tokens) * PAGE_RATE)
            cl.t_tokens = now
            if cl.tokens < 1.0:
                raise CommandError(f"too many {cmd} commands from this page; at most {PAGE_RATE:g} a second")
            cl.tokens -= 1.0
        if cmd == "map":  # checked here, run by the engine (the control port's command table)
            self.owner.control("page", ("map", cl.cid, check_map_command(msg)))
            return None  # the engine answers with ack or error
        if cmd == "dataset":
            self.owner.control("page", ("dataset", cl.cid, check_dataset_command(msg)))
            return None
        if cmd == "auto":
            self.owner.control("auto", bool(check_auto([self._flag(msg.get("on"))], "auto")))
            return {"type": "ack", "cmd": cmd}
        if cmd == "interval":
            self.owner.control("interval", check_interval([msg.get("seconds")], "interval"))
            return {"type": "ack", "cmd": cmd}
        if cmd == "template":
            template, negative = msg.get("template"), msg.get("negative")
            if template is not None:
                template = check_text(template, "template")
            if negative is not None:
                negative = check_text(negative, "negative")
            try:
                self.owner.templates = self.owner.templates.with_template(template, negative)
            except ValueError as exc:  # an unknown placeholder
                raise CommandError(str(exc)) from None
            t = self.owner.templates
            self._broadcast(json.dumps({"type": "template", "template": t.template, "negative": t.negative}))
            return {"type": "ack", "cmd": cmd}
        raise CommandError(f"unknown cmd {cmd[:40]!r}; accepted: generate, auto, interval, template, live, "
                           "fast, scene, intensity, palette, map, dataset")

    def _broadcast(self, text: str) -> None:
        for cl in list(self.clients.values()):
            self._queue_text(cl, text)

    # -- fast stream ----------------------------------------------------------------------------
    async def _fast_loop(self) -> None:
        """New fast-stream blocks from the shared ring to the pages that asked, batched per send
        (a page that falls behind keeps only its newest :data:`MAX_FAST_ROWS` rows)."""
        seen = 0
        while True:
            await asyncio.sleep(1.0 / FAST_HZ)
            seen, rows = self.owner.fast_rows(seen)
            if not rows:
                continue
            t = FAST_SLOTS.index("t")
            rows = [[round(r[t], 4)] + [round(x, 4) for i, x in enumerate(r) if i != t] for r in rows]  # t first
            for cl in list(self.clients.values()):
                if cl.fast and not cl.closed:
                    cl.rows.extend(rows)
                    cl.wake.set()

    # -- live animation -------------------------------------------------------------------------
    async def _live_loop(self) -> None:
        if self.live_fps <= 0:
            return
        from .procedural import Animator

        anim = Animator(size=self.live_size, seed=int(self.owner.cfg.get("seed", 0)))
        period = 1.0 / self.live_fps
        t_prev = time.monotonic()
        while True:
            await asyncio.sleep(max(0.0, period - (time.monotonic() - t_prev)))
            now = time.monotonic()
            dt, t_prev = now - t_prev, now
            if not any(cl.live for cl in self.clients.values()):
                continue
            anim.wek = self.owner.params
            anim.update(self.owner.state, self.owner.fast_values(), dt)
            jpeg = await self.loop.run_in_executor(None, self._encode, anim)
            for cl in list(self.clients.values()):
                if cl.live and not cl.closed:
                    self._queue_frame(cl, jpeg)

    @staticmethod
    def _encode(anim) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(anim.frame()).save(buf, format="JPEG", quality=80)
        return buf.getvalue()
