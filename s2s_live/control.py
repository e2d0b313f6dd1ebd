"""Control stage: an OSC server that validates commands and calls the engine.

Listens on 127.0.0.1:9001 by default (another interface only when configured explicitly).
Every argument is checked (count, type, range); bad input gets ``/s2s/error`` back to the sender
and a counter, never an exception in the engine. Replies go to the sender's address.
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any, Callable

from pythonosc.osc_message import OscMessage, ParseError

from .errors import OSCError
from .osc_out import encode_message, parse_target

MAX_DATAGRAM = 8192  #: larger control datagrams are dropped and counted


class ControlServer:
    """UDP OSC control server running in its own thread.

    Parameters
    ----------
    engine : Engine
        The engine to control.
    host, port : str, int
        Interface and UDP port to bind (default loopback:9001).
    allow : list of str or None
        Sender IPs allowed; None allows any sender that can reach the socket.
    """

    def __init__(self, engine, *, host: str = "127.0.0.1", port: int = 9001, allow=None) -> None:
        self.engine = engine
        self.prefix = engine.cfg.prefix
        self.host, self.port = host, port
        self.allow = set(allow) if allow else None
        self.counters = {"received": 0, "handled": 0, "bad": 0, "malformed": 0, "oversize": 0, "denied": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host, port))
        except OSError as exc:
            self.sock.close()
            raise OSCError(
                f"cannot listen for control on {host}:{port} ({exc.strerror}); the port is probably in "
                f"use by another program or another s2s-live — choose one with --control-port"
            ) from None
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.1)
        p = self.prefix
        self.handlers: dict[str, Callable[[tuple, list], None]] = {
            f"{p}/ping": self._ping,
            f"{p}/meta": self._meta,
            f"{p}/status": self._status,
            f"{p}/hop": self._hop,
            f"{p}/smoothing": self._smoothing,
            f"{p}/targets/add": self._targets_add,
            f"{p}/targets/remove": self._targets_remove,
        }

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="s2s-control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            self.handle(data, addr)

    # -- dispatch ---------------------------------------------------------------------------
    def reply(self, addr: tuple, address: str, tags: str, args: list) -> None:
        self.engine.osc.send_raw(addr, encode_message(address, tags, args))

    def error(self, addr: tuple, where: str, reason: str) -> None:
        self.counters["bad"] += 1
        self.engine.stats.incr("control_bad")
        self.reply(addr, f"{self.prefix}/error", "ss", [where, reason[:400]])

    def handle(self, data: bytes, addr: tuple) -> None:
        """Validate and execute one datagram (never raises)."""
        self.counters["received"] += 1
        if self.allow is not None and addr[0] not in self.allow:
            self.counters["denied"] += 1
            return
        if len(data) > MAX_DATAGRAM:
            self.counters["oversize"] += 1
            return
        try:
            msg = OscMessage(data)
            address, args = msg.address, list(msg.params)
        except (ParseError, Exception):  # noqa: BLE001 - any malformed datagram is dropped
            self.counters["malformed"] += 1
            return
        h = self.handlers.get(address)
        if h is None:
            self.error(addr, address, "unknown control address")
            return
        try:
            h(addr, args)
            self.counters["handled"] += 1
        except (TypeError, ValueError) as exc:
            self.error(addr, address, str(exc))
        except Exception as exc:  # noqa: BLE001 - a command must never crash the engine
            self.error(addr, address, f"{type(exc).__name__}: {exc}")

    # -- argument checks --------------------------------------------------------------------
    @staticmethod
    def _args(args: list, spec: str, address: str) -> list:
        """Check count and types: spec chars f (number), i (int), s (str); trailing [..] optional."""
        req = spec.split("[")[0]
        opt = spec[len(req):].strip("[]")
        if not len(req) <= len(args) <= len(req) + len(opt):
            raise ValueError(f"{address} takes {len(req)}" + (f"-{len(req) + len(opt)}" if opt else "")
                             + f" argument(s) ({spec}), got {len(args)}")
        out = []
        for t, a in zip(req + opt, args):
            if t == "f" and (isinstance(a, bool) or not isinstance(a, (int, float))):
                raise TypeError(f"{address}: expected a number, got {a!r}")
            if t == "i" and (isinstance(a, bool) or not isinstance(a, int)):
                if isinstance(a, float) and a.is_integer():
                    a = int(a)
                else:
                    raise TypeError(f"{address}: expected an integer, got {a!r}")
            if t == "s" and not isinstance(a, str):
                raise TypeError(f"{address}: expected a string, got {a!r}")
            out.append(a)
        return out

    # -- handlers ---------------------------------------------------------------------------
    def _ping(self, addr, args):
        self._args(args, "", "ping")
        self.reply(addr, f"{self.prefix}/pong", "", [])

    def _meta(self, addr, args):
        self._args(args, "", "meta")
        t = next((t for t in self.engine.osc.targets), None)
        if t is None:
            return
        for m in t.profile.start_messages(self.engine.meta()):
            self.engine.osc.send_raw(addr, m)

    def _status(self, addr, args):
        self._args(args, "", "status")
        s = self.engine.status()
        c = s["counters"]
        self.reply(addr, f"{self.prefix}/status", "s", [json.dumps(s, default=float)[:8000]])
        self.reply(addr, f"{self.prefix}/status/frames", "iii",
                   [c.get("frames", 0), c.get("dropped", 0), c.get("overflows", 0)])

    def _hop(self, addr, args):
        (hop,) = self._args(args, "f", "hop")
        if not 0.01 <= hop <= 1.0:
            raise ValueError(f"hop={hop} out of range; expected 0.01..1.0 seconds")
        self.engine.set_hop(float(hop))

    def _smoothing(self, addr, args):
        (v,) = self._args(args, "f", "smoothing")
        if not 0.0 <= v <= 0.99:
            raise ValueError(f"smoothing={v} out of range; expected 0..0.99")
        self.engine.set_smoothing(float(v))

    def _targets_add(self, addr, args):
        a = self._args(args, "si[s]", "targets/add")
        host, port = a[0], a[1]
        profile = a[2] if len(a) > 2 else "s2s"
        parse_target(f"{host}:{port}:{profile}")  # validates port and profile
        t = self.engine.osc.add_target(host, port, profile)
        self.engine.osc.send_meta(self.engine.meta(), only=t)

    def _targets_remove(self, addr, args):
        host, port = self._args(args, "si", "targets/remove")
        if not self.engine.osc.remove_target(host, port):
            raise ValueError(f"no target {host}:{port}")
