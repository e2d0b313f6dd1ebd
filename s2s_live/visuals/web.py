"""Web viewer for the projector, served from the visuals process (HTTP + WebSocket, one port).

Routes (default http://127.0.0.1:8765):

* ``/`` — the viewer: the latest image fullscreen with a crossfade, the live procedural animation
  under it, an overlay (genre / emotion / BPM) toggled with the ``o`` key (``f`` fullscreen,
  ``l`` live layer on/off). Query options: ``?live=0`` (no live layer), ``?fade=S`` crossfade
  seconds, ``?hold=S`` seconds an image stays over the live layer (0 = until the next one),
  ``?overlay=1``.
* ``/control`` — the operator page: edit the prompt template and negative prompt, trigger an
  image (optionally with a prompt), switch auto mode and its interval.
* ``/images/<name>.png`` — generated images from ``out_dir`` (names only, no paths).
* ``/ws`` — WebSocket. Server -> page JSON: ``hello`` (settings, template, last image),
  ``image``, ``started``, ``progress``, ``state`` (for the overlay, <= 4/s), ``settings``;
  binary messages are JPEG frames of the live animation, sent only to pages that asked with
  ``{"cmd": "live", "on": true}``. Page -> server JSON: ``generate`` (``prompt``), ``auto``
  (``on``), ``interval`` (``seconds``), ``template`` (``template``, ``negative``), ``live``.

The server runs an asyncio loop in its own thread; the job thread publishes through
``loop.call_soon_threadsafe``. Live frames are rendered and JPEG-encoded in a worker thread of
the loop (the numba kernel releases the GIL), and a slow page skips frames instead of queueing.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from ..errors import VisualsError

STATIC = {"/": "index.html", "/index.html": "index.html", "/control": "control.html",
          "/control.html": "control.html", "/viewer.js": "viewer.js", "/control.js": "control.js",
          "/style.css": "style.css"}
_CTYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
           ".css": "text/css; charset=utf-8", ".png": "image/png"}
_IMAGE = re.compile(r"^/images/([A-Za-z0-9_.-]+\.png)$")


def _static(name: str) -> bytes:
    return resources.files("s2s_live.visuals").joinpath("static", name).read_bytes()


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
        self.clients: set = set()
        self.live_clients: set = set()
        self._busy: set = set()
        self._state_t = 0.0
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: str | None = None
        self._stop: asyncio.Event | None = None
        self.frames_sent = 0

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
                          "arousal": state.get("arousal"), "key": state.get("key")})

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
        try:
            await self._stop.wait()
        finally:
            live.cancel()
            server.close()
            await server.wait_closed()

    # -- HTTP -----------------------------------------------------------------------------------
    def _http(self, connection, request):
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        path = request.path.split("?", 1)[0]
        if path == "/ws":
            return None  # continue with the WebSocket handshake
        body = None
        if path in STATIC:
            name = STATIC[path]
            body, ctype = _static(name), _CTYPES[Path(name).suffix]
        else:
            m = _IMAGE.match(path)
            if m:
                f = Path(self.owner.out_dir) / m.group(1)
                if f.is_file():
                    body, ctype = f.read_bytes(), "image/png"
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
                           "settings": self.owner.settings, "image": self.owner.last_image}, default=str)

    async def _handler(self, ws) -> None:
        self.clients.add(ws)
        try:
            await ws.send(self._hello())
            async for raw in ws:
                if isinstance(raw, bytes):
                    continue
                reply = self._command(ws, raw)
                if reply is not None:
                    await ws.send(json.dumps(reply))
        except (ConnectionClosed, OSError):  # a page went away: nothing to clean up but the sets
            pass
        finally:
            self.clients.discard(ws)
            self.live_clients.discard(ws)

    def _command(self, ws, raw: str) -> dict | None:
        try:
            msg = json.loads(raw)
            cmd = msg["cmd"]
        except (ValueError, KeyError, TypeError):
            return {"type": "error", "reason": "expected JSON {\"cmd\": ...}"}
        if cmd == "live":
            (self.live_clients.add if msg.get("on", True) else self.live_clients.discard)(ws)
            return None
        if cmd == "generate":
            prompt = msg.get("prompt") or None
            if prompt is not None and (not isinstance(prompt, str) or len(prompt) > 2000):
                return {"type": "error", "reason": "prompt must be a string of at most 2000 characters"}
            self.owner.control("generate", prompt)
            return {"type": "ack", "cmd": cmd}
        if cmd == "auto":
            self.owner.control("auto", bool(msg.get("on")))
            return {"type": "ack", "cmd": cmd}
        if cmd == "interval":
            try:
                s = float(msg.get("seconds"))
            except (TypeError, ValueError):
                return {"type": "error", "reason": "interval seconds must be a number in 1..3600"}
            if not 1.0 <= s <= 3600.0:
                return {"type": "error", "reason": f"interval seconds={s} out of range 1..3600"}
            self.owner.control("interval", s)
            return {"type": "ack", "cmd": cmd}
        if cmd == "template":
            try:
                self.owner.templates = self.owner.templates.with_template(
                    msg.get("template"), msg.get("negative"))
            except ValueError as exc:
                return {"type": "error", "reason": str(exc)}
            t = self.owner.templates
            self._broadcast(json.dumps({"type": "template", "template": t.template, "negative": t.negative}))
            return {"type": "ack", "cmd": cmd}
        return {"type": "error", "reason": f"unknown cmd {cmd!r}; accepted: generate, auto, interval, template, live"}

    def _broadcast(self, text: str) -> None:
        for ws in list(self.clients):
            asyncio.ensure_future(self._send(ws, text))

    async def _send(self, ws, data: Any) -> None:
        try:
            await ws.send(data)
        except (ConnectionClosed, OSError):  # closed pages are dropped by their handler
            pass

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
            if not self.live_clients:
                continue
            anim.wek = self.owner.params
            anim.update(self.owner.state, self.owner.fast_values(), dt)
            jpeg = await self.loop.run_in_executor(None, self._encode, anim)
            for ws in list(self.live_clients):
                if ws in self._busy:
                    continue  # slow page: skip this frame (latest wins)
                self._busy.add(ws)
                asyncio.ensure_future(self._send_frame(ws, jpeg))

    async def _send_frame(self, ws, data: bytes) -> None:
        try:
            await ws.send(data)
            self.frames_sent += 1
        except (ConnectionClosed, OSError):
            pass
        finally:
            self._busy.discard(ws)

    @staticmethod
    def _encode(anim) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(anim.frame()).save(buf, format="JPEG", quality=80)
        return buf.getvalue()
