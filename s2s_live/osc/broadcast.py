"""The broadcaster: send each profile's OSC datagrams to a changing set of UDP targets.

Sending never blocks: one non-blocking UDP socket per address family; a full socket buffer or
an unreachable host is counted, never waited on. Host names are resolved once, when a target is
added, never in the analysis thread's hot path. A target spec is ``HOST:PORT[:PROFILE[:raw|:norm]]``
(IPv6 hosts in brackets); at most :data:`MAX_TARGETS` targets, datagrams of at most
:data:`MAX_DATAGRAM` bytes.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ..errors import ConfigError, OSCError
from ..processor import Output
from .profiles import Profile, make_profile

MAX_DATAGRAM = 65507  #: largest UDP payload; larger messages are refused and counted
MAX_TARGETS = 32  #: more targets than this are refused (each costs CPU every fast block)


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
    """Parse ``HOST:PORT[:PROFILE[:raw|:norm]]`` (IPv6 hosts in brackets: ``[::1]:9000``).

    Returns (host, port, profile spec); raises ConfigError naming the problem.
    """
    if not isinstance(spec, str):
        raise ConfigError(f"target {spec!r} is invalid; expected a string HOST:PORT[:PROFILE]")
    s = spec.strip()
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        rest = rest[1:] if rest.startswith(":") else "?"
    else:
        host, _, rest = s.partition(":")
    port_s, _, profile = rest.partition(":")
    profile = profile or "s2s"
    if not host or not port_s.isdigit() or not 1 <= int(port_s) <= 65535:
        raise ConfigError(f"target {spec!r} is invalid; expected HOST:PORT[:PROFILE] with PORT in 1..65535")
    make_profile(profile)  # validates name and option
    return host, int(port_s), profile


class OSCBroadcaster:
    """Send OSC to a changing set of UDP targets without ever blocking.

    Parameters
    ----------
    targets : iterable of str
        ``HOST:PORT[:PROFILE[:raw|:norm]]`` specs.
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
            if family == socket.AF_INET:
                # Without SO_BROADCAST the kernel refuses every datagram to a broadcast address
                # (EACCES), so a broadcast target the user gave or allowed never received one.
                # It permits nothing else: which targets exist is decided by the allow-list.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            self._socks[family] = s
        return s

    def bind_outputs(self, outputs: Sequence[Output]) -> None:
        self.outputs = list(outputs)
        for t in list(self.targets):
            t.profile.bind(self.outputs)

    def add_target(self, host: str, port: int, profile: str = "s2s") -> Target:
        """Add (or replace the profile of) a target; resolves the host now.

        ``profile`` is a spec ``NAME[:raw|:norm]``. Raises ConfigError for a bad port, profile
        or too many targets, OSCError when the host cannot be resolved.
        """
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ConfigError(f"port={port!r} is invalid; expected 1..65535")
        if not isinstance(host, str) or not host:
            raise ConfigError(f"host={host!r} is invalid; expected a host name or IP address")
        prof = make_profile(profile, self.prefix)
        replacing = any(t.host == host and t.port == port for t in self.targets)
        if not replacing and len(self.targets) >= MAX_TARGETS:
            raise ConfigError(f"too many OSC targets ({len(self.targets)}); at most {MAX_TARGETS}")
        try:
            info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        except (socket.gaierror, UnicodeError) as exc:
            raise OSCError(f"cannot resolve OSC target host {host!r}: {exc}") from None
        prof.bind(self.outputs)
        t = Target(host, port, prof, info[4][:2] if info[0] == socket.AF_INET else info[4], info[0],
                   spec=f"{host}:{port}:{prof.spec}")
        # Replace atomically: the analysis thread iterates over whatever list it last read.
        self.targets = [x for x in self.targets if not (x.host == host and x.port == port)] + [t]
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
        if len(data) > MAX_DATAGRAM:
            self.oversize += 1
            return
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
