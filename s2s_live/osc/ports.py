"""Free loopback ports (the one helper: doctor, benchmarks, the probe and the tests use it)."""

from __future__ import annotations

import socket


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port on 127.0.0.1 that was free a moment ago, for ``kind`` (``socket.SOCK_DGRAM`` for
    OSC/UDP, ``socket.SOCK_STREAM`` for the web viewer). Another process may take it before the
    caller binds it; callers that own the socket should bind port 0 instead."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
