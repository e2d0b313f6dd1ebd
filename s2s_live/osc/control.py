"""Control stage: an OSC server that validates commands and calls the engine.

Listens on 127.0.0.1:9001 by default (another interface only when configured explicitly, see
``Config.control_host``). Every argument is checked (count, type, range); bad input gets
``<prefix>/error s s`` (address, reason) back to the sender and a counter, never an exception
in the engine. Replies go to the sender's address. Oversized (> :data:`MAX_DATAGRAM` bytes)
and malformed datagrams are dropped and counted. The addresses are documented in docs/osc.md.

The optional Wekinator listener (``Config.wek_port``, e.g. 12000) receives ``/wek/outputs
f×M`` on the same interface and hands the values to the visuals as parameters.

Counters (``ControlServer.counters``; every datagram lands in exactly one of the first five):
``denied`` (sender not in the allowlist), ``oversize``, ``malformed`` (not decodable OSC),
``handled`` (every message in it executed), ``bad`` (at least one message refused: unknown
address or bad arguments); plus ``received`` (all datagrams), ``wek`` (Wekinator updates),
``targets_refused`` (``targets/add`` naming a destination the target policy refuses),
``replies_refused`` / ``reply_bytes_refused`` (replies over the per-sender reply budget).

Safety (docs/osc.md, "Safety"):

* Run-time targets (``targets/add``) must be loopback unless the address is covered by
  ``Config.targets_allow`` (``--allow-target``); broadcast and multicast addresses only when that
  list names them; 0.0.0.0/:: never; IPv4-mapped IPv6 is judged as its IPv4 address. Targets
  given at start (``Config.targets``) are the user's own choice and are not restricted.
* Every reply (pong, ack, error, status, meta) is charged to a token bucket per sender IP
  (:data:`REPLY_RATE` bytes/s, :data:`REPLY_BURST` bytes burst), so a spoofed or hostile
  sender cannot turn this port into an amplifier. A reply (or a whole meta block) that does
  not fit is not sent and is counted.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import select
import socket
import threading
from typing import Any, Callable

from ..errors import CommandError, OSCError, S2SError
from ..inference.card import is_model_name
from .checks import (HOP_RANGE, SMOOTHING_RANGE, check_args, check_auto, check_intensity, check_interval, check_prompt,
                     check_range, check_scene, target_networks, target_refusal)
from .codec import decode_packet, encode_message
from .profiles import make_profile
from .ratelimit import REPLY_BURST, REPLY_RATE, ReplyBudget

MAX_DATAGRAM = 8192  #: larger control datagrams are dropped and counted
MAX_WEK = 64  #: most values accepted in /wek/outputs
_SLOT_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


#: characters of the /s2s/status JSON (ASCII, so bytes too): the reply fits one datagram
STATUS_MAX = 7900
_KEEP_COUNTERS = ("frames", "dropped", "overflows", "osc_sent")


def status_json(s: dict, limit: int = STATUS_MAX) -> str:
    """``s`` as JSON of at most ``limit`` characters, shortened by content, never by cutting the
    string (which would not parse). The least important fields go first: long strings are
    trimmed, then visuals, tagger, control counters, timings and cold-start progress are
    dropped, targets and counters are cut to the first/largest few; ``truncated`` lists what
    was left out. The last resort is state, hop, uptime and the frame counters alone.
    """
    def dump(d: dict) -> str:
        return json.dumps(d, default=float)

    text = dump(s)
    if len(text) <= limit:
        return text
    s = dict(s)
    cut: list[str] = []

    def trim_strings() -> None:
        for k, v in list(s.items()):
            if isinstance(v, str) and len(v) > 200:
                s[k] = v[:197] + "..."
                cut.append(k)

    def drop(key: str) -> Callable[[], None]:
        def f() -> None:
            if s.pop(key, None) is not None:
                cut.append(key)
        return f

    def few_targets() -> None:
        t = s.get("targets")
        if isinstance(t, list) and len(t) > 4:
            s["targets"] = [str(x)[:80] for x in t[:4]] + [f"... {len(t) - 4} more"]
            cut.append("targets")

    def few_counters() -> None:
        c = s.get("counters")
        if isinstance(c, dict) and len(c) > 20:
            keep = {k: c[k] for k in _KEEP_COUNTERS if k in c}
            rest = sorted((k for k in c if k not in keep), key=lambda k: -abs(c[k]) if isinstance(c[k], (int, float)) else 0)
            keep.update((k[:60], c[k]) for k in rest[:20])
            s["counters"] = keep
            cut.append("counters")

    steps = [trim_strings, drop("visuals"), drop("tagger"), drop("control"), drop("timings"),
             drop("preparing"), few_targets, few_counters]
    for step in steps:
        step()
        s["truncated"] = cut
        text = dump(s)
        if len(text) <= limit:
            return text
    c = s.get("counters") if isinstance(s.get("counters"), dict) else {}
    small = {k: s[k] for k in ("uptime_s", "state", "hop") if k in s}
    small["counters"] = {k: c[k] for k in _KEEP_COUNTERS if k in c}
    small["truncated"] = ["all but state, hop and frame counters"]
    return dump(small)


class ControlServer:
    """UDP OSC control server running in its own thread.

    Parameters
    ----------
    engine : Engine
        The engine to control (see docs/osc.md for what each address calls).
    host, port : str, int
        Interface and UDP port to bind (default loopback:9001; 0 picks a free port).
    allow : list of str or None
        Sender IPs allowed; None allows any sender that can reach the socket.
    wek_port : int or None
        Port of the Wekinator ``/wek/outputs`` listener on ``host``; None reads
        ``engine.cfg.wek_port``; 0 disables it.
    targets_allow : list of str or None
        Non-loopback destinations ``targets/add`` may name (see :func:`target_refusal`); None
        reads ``engine.cfg.targets_allow``.
    reply_rate, reply_burst : float
        The per-sender reply budget in bytes/s and bytes (see :class:`ReplyBudget`).
    """

    def __init__(self, engine, *, host: str = "127.0.0.1", port: int = 9001, allow=None,
                 wek_port: int | None = None, targets_allow=None, reply_rate: float = REPLY_RATE,
                 reply_burst: float = REPLY_BURST) -> None:
        self.engine = engine
        self.prefix = engine.cfg.prefix
        self.host, self.port = host, port
        self.allow = {str(ipaddress.ip_address(a)) for a in allow} if allow else None
        if targets_allow is None:
            targets_allow = getattr(engine.cfg, "targets_allow", None)
        self.targets_allow = target_networks(targets_allow)
        # The user's own start-time targets may be re-profiled at run time whatever the policy.
        self._own_targets = {(t.host, t.port) for t in engine.osc.targets}
        self.budget = ReplyBudget(reply_rate, reply_burst)
        self.counters = {"received": 0, "handled": 0, "bad": 0, "malformed": 0, "oversize": 0, "denied": 0,
                         "wek": 0, "targets_refused": 0, "replies_refused": 0, "reply_bytes_refused": 0}
        self.wek_values: list[float] = []  #: latest /wek/outputs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sock = self._bind(host, port, "control", "--control-port")
        self.port = self.sock.getsockname()[1]
        if wek_port is None:
            wek_port = int(getattr(engine.cfg, "wek_port", 0) or 0)
        self.wek_sock = None
        self.wek_port = 0
        if wek_port:
            try:
                self.wek_sock = self._bind(host, wek_port, "Wekinator outputs", "--wek-port")
            except OSCError:
                self.sock.close()
                raise
            self.wek_port = self.wek_sock.getsockname()[1]
        p = self.prefix
        self.handlers: dict[str, Callable[[tuple, list], None]] = {
            f"{p}/ping": self._ping,
            f"{p}/meta": self._meta,
            f"{p}/status": self._status,
            f"{p}/hop": self._hop,
            f"{p}/smoothing": self._smoothing,
            f"{p}/targets/add": self._targets_add,
            f"{p}/targets/remove": self._targets_remove,
            f"{p}/visuals/generate": self._visuals_generate,
            f"{p}/visuals/auto": self._visuals_auto,
            f"{p}/visuals/interval": self._visuals_interval,
            f"{p}/visuals/scene": self._visuals_scene,
            f"{p}/visuals/intensity": self._visuals_intensity,
            f"{p}/visuals/restart": self._visuals_restart,
            f"{p}/model/load": self._model_load,
        }

    @staticmethod
    def _bind(host: str, port: int, what: str, flag: str) -> socket.socket:
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            # A bigger receive buffer absorbs bursts (fuzzers, sliders dragged in Max).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise OSCError(
                f"cannot listen for {what} on {host}:{port} ({exc.strerror}); the port is probably in "
                f"use by another program or another s2s-live — choose one with {flag}"
            ) from None
        sock.setblocking(False)
        return sock

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
        if self.wek_sock is not None:
            self.wek_sock.close()

    def _serve(self) -> None:
        socks = [s for s in (self.sock, self.wek_sock) if s is not None]
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select(socks, [], [], 0.1)
            except (OSError, ValueError):  # closed under us during stop()
                return
            for s in ready:
                # Drain what is queued, but yield regularly so stop() stays prompt.
                for _ in range(256):
                    try:
                        data, addr = s.recvfrom(65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        if self._stop.is_set():
                            return
                        break
                    if s is self.sock:
                        self.handle(data, addr)
                    else:
                        self.handle_wek(data, addr)

    # -- dispatch ---------------------------------------------------------------------------
    def send_replies(self, addr: tuple, msgs: list[bytes], where: str = "") -> bool:
        """Send encoded replies to ``addr`` if they fit its reply budget, all or none.

        A refused reply is counted (``replies_refused`` messages, ``reply_bytes_refused``) and,
        when the budget still has room for it, answered with one short ``/s2s/error``.
        """
        total = sum(len(m) for m in msgs)
        if self.budget.take(addr[0], total):
            for m in msgs:
                self.engine.osc.send_raw(addr, m)
            return True
        c = self.counters
        c["replies_refused"] += len(msgs)
        c["reply_bytes_refused"] += total
        if where:
            note = encode_message(f"{self.prefix}/error", "ss", [
                where[:200], f"reply of {total} bytes refused: over the reply budget of {REPLY_RATE:g} "
                f"bytes/s per sender (burst {REPLY_BURST:g}); ask less often"])
            if self.budget.take(addr[0], len(note)):
                self.engine.osc.send_raw(addr, note)
        return False

    def reply(self, addr: tuple, address: str, tags: str, args: list) -> None:
        self.send_replies(addr, [encode_message(address, tags, args)], address)

    def error(self, addr: tuple, where: str, reason: str) -> None:
        self.engine.stats.incr("control_bad")
        self.send_replies(addr, [encode_message(f"{self.prefix}/error", "ss", [where[:200], reason[:400]])])

    def _admit(self, data: bytes, addr: tuple) -> list | None:
        """Count a datagram; the decoded messages, or None when it is refused (sender not
        allowed, oversized, malformed: each counted, none answered)."""
        c = self.counters
        c["received"] += 1
        if self.allow is not None and addr[0] not in self.allow:
            c["denied"] += 1
            return None
        if len(data) > MAX_DATAGRAM:
            c["oversize"] += 1
            return None
        try:
            return decode_packet(data)
        except (ValueError, TypeError, IndexError):  # any malformed datagram is dropped
            c["malformed"] += 1
            self.engine.stats.incr("control_malformed")
            return None

    def handle(self, data: bytes, addr: tuple) -> None:
        """Validate and execute one datagram (never raises)."""
        c = self.counters
        msgs = self._admit(data, addr)
        if msgs is None:
            return
        errors = [e for e in (self.dispatch(address, args, addr) for address, _tags, args in msgs) if e]
        c["bad" if errors else "handled"] += 1  # counted before the reply leaves
        for where, reason in errors:
            self.error(addr, where, reason)

    def dispatch(self, address: str, args: list, addr: tuple) -> tuple[str, str] | None:
        """Run one decoded message; returns (address, reason) if it was refused."""
        h = self.handlers.get(address)
        if h is None:
            return address, (f"unknown control address; see docs/osc.md ({self.prefix}/ping, "
                             f"{self.prefix}/hop, {self.prefix}/targets/add, ...)")
        try:
            h(addr, args)
            return None
        except (CommandError, TypeError, ValueError, S2SError) as exc:
            return address, str(exc)
        except OSError as exc:  # say what failed, not which file: no path leaves this process
            return address, f"{type(exc).__name__}: {exc.strerror or 'operating system error'}"
        except Exception as exc:  # noqa: BLE001 - a command must never crash the engine
            return address, f"{type(exc).__name__}: {exc}"

    def ack(self, addr: tuple, what: str, tags: str = "", args: list | None = None) -> None:
        """``<prefix>/ack s ...``: the command address and the value now in effect."""
        self.reply(addr, f"{self.prefix}/ack", "s" + tags, [f"{self.prefix}/{what}"] + list(args or []))

    # -- handlers ---------------------------------------------------------------------------
    def _ping(self, addr, args):
        check_args(args, "", "ping")
        self.reply(addr, f"{self.prefix}/pong", "", [])

    def _meta(self, addr, args):
        check_args(args, "", "meta")
        prof = make_profile("s2s", self.prefix)
        prof.bind(self.engine.osc.outputs)
        self.send_replies(addr, prof.start_messages(self.engine.meta()), f"{self.prefix}/meta")

    def _status(self, addr, args):
        check_args(args, "", "status")
        s = self.engine.status()
        c = s.get("counters", {})
        s["control"] = dict(self.counters)
        self.send_replies(addr, [
            encode_message(f"{self.prefix}/status", "s", [status_json(s)]),
            encode_message(f"{self.prefix}/status/frames", "iii",
                           [int(c.get("frames", 0)), int(c.get("dropped", 0)), int(c.get("overflows", 0))]),
        ], f"{self.prefix}/status")

    def _hop(self, addr, args):
        (hop,) = check_args(args, "f", "hop")
        self.engine.set_hop(check_range("hop", hop, HOP_RANGE, " seconds"))
        self.ack(addr, "hop", "f", [hop])

    def _smoothing(self, addr, args):
        (v,) = check_args(args, "f", "smoothing")
        self.engine.set_smoothing(check_range("smoothing", v, SMOOTHING_RANGE))
        self.ack(addr, "smoothing", "f", [v])

    @staticmethod
    def _ip(host: str) -> str:
        # Only literal addresses (and localhost): a name lookup could block this thread for
        # seconds, and names are easy to give on the command line instead.
        if host == "localhost":
            return "127.0.0.1"
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            raise CommandError(f"host={host!r} is invalid; expected an IPv4/IPv6 address or 'localhost'") from None

    def _targets_add(self, addr, args):
        a = check_args(args, "si[s]", "targets/add")
        host, port = self._ip(a[0]), a[1]
        check_range("port", port, (1, 65535))
        mapped = ipaddress.ip_address(host)
        if isinstance(mapped, ipaddress.IPv6Address) and mapped.ipv4_mapped is not None:
            host = str(mapped.ipv4_mapped)  # ::ffff:a.b.c.d is a.b.c.d: judged and sent as IPv4
        why = None if (host, port) in self._own_targets else target_refusal(
            a[0] if a[0] != "localhost" else host, self.targets_allow)
        if why is not None:
            self.counters["targets_refused"] += 1
            raise CommandError(why)
        profile = a[2] if len(a) > 2 else "s2s"
        t = self.engine.osc.add_target(host, port, profile)
        self.engine.osc.send_meta(self.engine.meta(), only=t)
        self.ack(addr, "targets/add", "sis", [host, port, t.profile.spec])

    def _targets_remove(self, addr, args):
        host, port = check_args(args, "si", "targets/remove")
        host = self._ip(host)
        if not self.engine.osc.remove_target(host, port):
            raise CommandError(f"no target {host}:{port}; targets are {[t.spec for t in self.engine.osc.targets]}")
        self.ack(addr, "targets/remove", "si", [host, port])

    def _visuals(self):
        v = getattr(self.engine, "visuals", None)
        if v is None:
            raise CommandError("visuals are off; start with --visuals procedural or --visuals diffusers")
        return v

    def _visuals_generate(self, addr, args):
        prompt = check_prompt(args)
        v = self._visuals()
        if v.disabled:  # an ack would claim an image is coming
            raise CommandError("visuals are disabled after repeated crashes; send /s2s/visuals/restart "
                               "to start them again")
        v.generate(prompt=prompt)
        self.ack(addr, "visuals/generate")

    def _visuals_restart(self, addr, args):
        check_args(args, "", "visuals/restart")
        if not self._visuals().restart():
            raise CommandError("visuals are running (not disabled); nothing to restart")
        self.ack(addr, "visuals/restart")

    def _visuals_auto(self, addr, args):
        on = check_auto(args)
        self._visuals().set_auto(bool(on))
        self.ack(addr, "visuals/auto", "i", [on])

    def _visuals_interval(self, addr, args):
        s = check_interval(args)
        self._visuals().set_interval(s)
        self.ack(addr, "visuals/interval", "f", [s])

    def _visuals_scene(self, addr, args):
        name = check_scene(args)
        self._visuals().set_scene(name)
        self.ack(addr, "visuals/scene", "s", [name])

    def _visuals_intensity(self, addr, args):
        v = check_intensity(args)
        self._visuals().set_intensity(v)
        self.ack(addr, "visuals/intensity", "f", [v])

    def _model_load(self, addr, args):
        slot, name = check_args(args, "ss", "model/load")
        if not _SLOT_RE.fullmatch(slot):
            raise CommandError(f"slot={slot!r} is invalid; expected a slot name like 'genre' or 'emotion'")
        if not is_model_name(name):
            raise CommandError(f"model name {name!r} is invalid; expected a folder name under the models "
                               f"directory (letters, digits, _ . -), never a path")
        host = getattr(self.engine, "models", None)
        if host is None:
            raise CommandError("no model host: this engine runs without model slots")
        host.load(slot, name)
        pipe = getattr(self.engine, "pipeline", None)
        if pipe is not None:  # the new model's outputs may differ: refresh profiles and meta
            self.engine.osc.bind_outputs(pipe.outputs())
            self.engine.osc.send_meta(self.engine.meta())
        self.ack(addr, "model/load", "ss", [slot, name])

    # -- Wekinator --------------------------------------------------------------------------
    def handle_wek(self, data: bytes, addr: tuple) -> None:
        """``/wek/outputs f×M`` (M 1..64, finite) -> ``engine.visuals.set_params``; anything
        else is counted as malformed/bad (no replies: Wekinator does not read them)."""
        c = self.counters
        msgs = self._admit(data, addr)
        if msgs is None:
            return
        ok = True
        for address, _tags, args in msgs:
            vals: Any = None
            if address == "/wek/outputs" and 1 <= len(args) <= MAX_WEK and all(
                    isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a) for a in args):
                vals = [float(a) for a in args]
            if vals is None:
                ok = False
                continue
            self.wek_values = vals
            c["wek"] += 1
            v = getattr(self.engine, "visuals", None)
            if v is not None:
                try:
                    v.set_params(vals)
                except Exception as exc:  # noqa: BLE001 - visuals faults are reported, not raised
                    self.engine.report_error("wekinator", f"{type(exc).__name__}: {exc}")
        c["handled" if ok else "bad"] += 1
