"""OSC output stage: encode plain OSC messages and send them to several UDP targets.

Sending never blocks: one non-blocking UDP socket per address family; a full socket buffer or
an unreachable host is counted, never waited on. Host names are resolved once, when a target is
added, never in the analysis thread's hot path. Messages are plain (no bundles: Pd's
``oscparse`` ignores timetags) with float32/int32/string arguments.

Each target has a *profile* that turns the engine's output values into messages:
``s2s`` (every documented address), and the tool-specific profiles registered in
:data:`PROFILES` (see docs/osc.md).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import ConfigError, OSCError
from .processor import Output

MAX_DATAGRAM = 65507  #: largest UDP payload; larger messages are refused and counted


# ------------------------------------------------------------------------------------------
# Encoding (OSC 1.0): address, type tags, big-endian arguments, each padded to 4 bytes.


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (4 - len(b) % 4)


def encode_message(address: str, tags: str, args: Sequence[Any]) -> bytes:
    """Encode one OSC message.

    Parameters
    ----------
    address : str
        OSC address starting with "/".
    tags : str
        One type tag per argument: "f" float32, "i" int32, "s" string.
    args : sequence
        The arguments (numpy scalars are accepted and converted).
    """
    if not address.startswith("/"):
        raise ValueError(f"OSC address must start with '/', got {address!r}")
    if len(tags) != len(args):
        raise ValueError(f"{address}: {len(tags)} type tags for {len(args)} arguments")
    parts = [_pad(address.encode()), _pad(("," + tags).encode())]
    for t, a in zip(tags, args):
        if t == "f":
            parts.append(struct.pack(">f", float(a)))
        elif t == "i":
            parts.append(struct.pack(">i", int(a)))
        elif t == "s":
            parts.append(_pad(str(a).encode("utf-8")))
        else:
            raise ValueError(f"{address}: unsupported type tag {t!r}")
    return b"".join(parts)


def encode_floats(address: str, values: np.ndarray) -> bytes:
    """Fast path for a float vector: one ``struct.pack`` call."""
    n = values.shape[0]
    head = _pad(address.encode()) + _pad(("," + "f" * n).encode())
    return head + np.asarray(values, dtype=">f4").tobytes()


def output_args(o: Output, value: Any) -> tuple[str, list] | None:
    """Type tags and plain-Python args for an output value, or None if it has no valid value."""
    if value is None:
        return None
    if len(o.type) > 1:  # mixed tuple, e.g. ("rock", 0.8) for "sf"
        vals = list(value)
        if len(vals) != len(o.type):
            return None
        return o.type, vals
    if o.shape == 1:
        if isinstance(value, np.ndarray):
            value = value.reshape(-1)[0]
        return o.type, [value]
    arr = np.asarray(value).reshape(-1)
    if arr.shape[0] != o.shape:
        return None
    if o.type == "f":
        return "f" * o.shape, arr.astype(np.float64).tolist()
    return o.type * o.shape, arr.tolist()


# ------------------------------------------------------------------------------------------
# Profiles


class Profile:
    """Turns values into (address, datagram) pairs for one kind of receiver.

    The ``s2s`` profile sends every non-internal output on ``<prefix>/<address>``.
    Subclasses override :meth:`frame_messages` / :meth:`fast_messages` / :meth:`start_messages`.
    """

    name = "s2s"

    def __init__(self, prefix: str = "/s2s") -> None:
        self.prefix = prefix

    def bind(self, outputs: Sequence[Output]) -> None:
        """Called when the output list is known (and again when it changes)."""
        self.outputs = [o for o in outputs if o.osc_address]

    def _messages(self, values: dict, streams: tuple[str, ...]) -> list[bytes]:
        out = []
        for o in self.outputs:
            if o.stream not in streams:
                continue
            v = values.get(o.name)
            if v is None:
                continue
            ta = output_args(o, v)
            if ta is None:
                continue
            out.append(encode_message(f"{self.prefix}/{o.osc_address}", ta[0], ta[1]))
        return out

    def frame_messages(self, values: dict, index: int, t: float) -> list[bytes]:
        msgs = [encode_message(f"{self.prefix}/frame", "if", [index, t])]
        return msgs + self._messages(values, ("frame", "event"))

    def fast_messages(self, values: dict) -> list[bytes]:
        return self._messages(values, ("fast", "event"))

    def start_messages(self, meta: dict) -> list[bytes]:
        """``/s2s/meta/...`` messages describing the stream (sent at start and on request)."""
        p = self.prefix
        msgs = [
            encode_message(f"{p}/meta/version", "s", [meta.get("version", "")]),
            encode_message(f"{p}/meta/rates", "iii", [meta.get("samplerate", 0), 22050, 16000]),
            encode_message(f"{p}/meta/hop", "f", [meta.get("hop", 0.0)]),
        ]
        for o in self.outputs:
            lo, hi = o.range if o.range is not None else (0.0, 0.0)
            msgs.append(encode_message(f"{p}/meta/output", "ssiff", [f"{p}/{o.osc_address}", o.type, o.shape, lo, hi]))
            if o.labels:
                msgs.append(encode_message(f"{p}/meta/labels/{o.osc_address}", "s" * len(o.labels), list(o.labels)))
        return msgs

    def event_message(self, address: str, tags: str, args: Sequence[Any]) -> bytes | None:
        return encode_message(f"{self.prefix}/{address}", tags, list(args))


#: Profile name -> class. Tool-specific profiles register themselves here.
PROFILES: dict[str, type[Profile]] = {"s2s": Profile, "max": Profile, "sc": Profile}


# ------------------------------------------------------------------------------------------
# Targets and the broadcaster


@dataclass
class Target:
    host: str
    port: int
    profile: Profile
    addr: tuple = ()
    family: int = socket.AF_INET
    sent: int = 0
    errors: int = 0
    last_error: str = ""
    spec: str = ""


def parse_target(spec: str) -> tuple[str, int, str]:
    """Parse ``HOST:PORT[:PROFILE]`` (IPv6 hosts in brackets: ``[::1]:9000``)."""
    s = spec.strip()
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        rest = rest.lstrip(":")
    else:
        host, _, rest = s.partition(":")
    port_s, _, profile = rest.partition(":")
    profile = profile or "s2s"
    if not host or not port_s.isdigit() or not 1 <= int(port_s) <= 65535:
        raise ConfigError(f"target {spec!r} is invalid; expected HOST:PORT[:PROFILE] with PORT in 1..65535")
    if profile not in PROFILES:
        raise ConfigError(f"target {spec!r}: unknown profile {profile!r}; expected one of {sorted(PROFILES)}")
    return host, int(port_s), profile


class OSCBroadcaster:
    """Send OSC to a changing set of UDP targets without ever blocking.

    Parameters
    ----------
    targets : iterable of str
        ``HOST:PORT[:PROFILE]`` specs.
    prefix : str
        Address prefix (default ``/s2s``).
    """

    def __init__(self, targets: Iterable[str] = (), *, prefix: str = "/s2s") -> None:
        self.prefix = prefix
        self.targets: list[Target] = []
        self.outputs: list[Output] = []
        self.sent = 0
        self.errors = 0
        self.oversize = 0
        self._socks: dict[int, socket.socket] = {}
        for t in targets:
            self.add_target(*parse_target(t))

    def _sock(self, family: int) -> socket.socket:
        s = self._socks.get(family)
        if s is None:
            s = socket.socket(family, socket.SOCK_DGRAM)
            s.setblocking(False)
            self._socks[family] = s
        return s

    def bind_outputs(self, outputs: Sequence[Output]) -> None:
        self.outputs = list(outputs)
        for t in self.targets:
            t.profile.bind(self.outputs)

    def add_target(self, host: str, port: int, profile: str = "s2s") -> Target:
        """Add (or replace the profile of) a target; resolves the host now."""
        if not isinstance(port, int) or not 1 <= port <= 65535:
            raise ConfigError(f"port={port!r} is invalid; expected 1..65535")
        if profile not in PROFILES:
            raise ConfigError(f"profile={profile!r} is unknown; expected one of {sorted(PROFILES)}")
        try:
            info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        except socket.gaierror as exc:
            raise OSCError(f"cannot resolve OSC target host {host!r}: {exc}") from None
        self.remove_target(host, port)
        prof = PROFILES[profile](self.prefix)
        prof.bind(self.outputs)
        t = Target(host, port, prof, info[4], info[0], spec=f"{host}:{port}:{profile}")
        self.targets.append(t)
        return t

    def remove_target(self, host: str, port: int) -> bool:
        n = len(self.targets)
        self.targets = [t for t in self.targets if not (t.host == host and t.port == port)]
        return len(self.targets) < n

    # -- sending --------------------------------------------------------------------------
    def _send(self, t: Target, data: bytes) -> None:
        if len(data) > MAX_DATAGRAM:
            self.oversize += 1
            return
        try:
            self._sock(t.family).sendto(data, t.addr)
            t.sent += 1
            self.sent += 1
        except OSError as exc:  # BlockingIOError (buffer full), ECONNREFUSED, ENETUNREACH...
            t.errors += 1
            self.errors += 1
            t.last_error = str(exc)

    def send_frame(self, values: dict, index: int, t: float) -> None:
        for tg in self.targets:
            for m in tg.profile.frame_messages(values, index, t):
                self._send(tg, m)

    def send_fast(self, values: dict) -> None:
        for tg in self.targets:
            for m in tg.profile.fast_messages(values):
                self._send(tg, m)

    def send_meta(self, meta: dict, only: Target | None = None) -> None:
        for tg in [only] if only is not None else self.targets:
            for m in tg.profile.start_messages(meta):
                self._send(tg, m)

    def send_event(self, address: str, tags: str, args: Sequence[Any]) -> None:
        """An event (``image``, ``error``, ``genre/changed``...) to every target."""
        for tg in self.targets:
            m = tg.profile.event_message(address, tags, args)
            if m is not None:
                self._send(tg, m)

    def send_raw(self, addr: tuple, data: bytes) -> None:
        """A reply to a control client (pong, status) on the IPv4/IPv6 socket."""
        fam = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        try:
            self._sock(fam).sendto(data, addr)
            self.sent += 1
        except OSError:
            self.errors += 1

    def counters(self) -> dict:
        return {"osc_sent": self.sent, "osc_errors": self.errors, "osc_oversize": self.oversize}

    def close(self) -> None:
        for s in self._socks.values():
            s.close()
        self._socks.clear()
