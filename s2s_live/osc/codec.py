"""The OSC 1.0 codec: the only OSC encoder and decoder of the package.

Encoding builds plain messages (no bundles: Pd's ``oscparse`` ignores timetags) with float32
``f``, int32 ``i`` and string ``s`` arguments; :func:`encode_floats` is the fast path for a float
vector (one ``tobytes`` call; the Wekinator profile's 46 floats every hop). The decoder is strict,
for datagrams from anyone on the network (the control server): OSC 1.0/1.1 tags ``i f s b h d T F
N I``, bundles at most 4 levels deep and 64 messages; truncation, missing padding, trailing bytes
or an unknown tag raise ``ValueError``. Why this is hand-written rather than python-osc: the
benchmark in docs/benchmarks.md, "OSC codec".
"""

from __future__ import annotations

import struct
from typing import Any, Sequence

import numpy as np

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
    """Fast path for a float vector: one ``tobytes`` call."""
    n = values.shape[0]
    head = _pad(address.encode()) + _pad(("," + "f" * n).encode())
    return head + np.asarray(values, dtype=">f4").tobytes()


def _read_string(data: bytes, pos: int) -> tuple[str, int]:
    end = data.find(b"\0", pos)
    if end < 0:
        raise ValueError("unterminated OSC string")
    s = data[pos:end].decode("utf-8")  # UnicodeDecodeError is a ValueError
    return s, (end // 4 + 1) * 4


def decode_message(data: bytes) -> tuple[str, str, list]:
    """Decode one OSC message strictly (the control server's parser).

    Supports the OSC 1.0/1.1 tags i f s b h d T F N I; anything else, truncation, missing
    padding or trailing bytes raises ValueError. Returns (address, tags, args); ``d``
    arrives as float, ``h`` as int, T/F as bool, N/I as None.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    n = len(data)
    if n < 4 or n % 4 or data[0:1] != b"/":
        raise ValueError("not an OSC message (must start with '/' and be a multiple of 4 bytes)")
    address, pos = _read_string(data, 0)
    if pos > n:
        raise ValueError("address padding runs past the end")
    if pos == n:  # OSC 1.0 allows a missing type tag string: no arguments
        return address, "", []
    tagstr, pos = _read_string(data, pos)
    if pos > n or not tagstr.startswith(","):
        raise ValueError("bad type tag string")
    tags = tagstr[1:]
    args: list = []
    for t in tags:
        if t in "if":
            if pos + 4 > n:
                raise ValueError("truncated argument")
            args.append(struct.unpack_from(">i" if t == "i" else ">f", data, pos)[0])
            pos += 4
        elif t in "hd":
            if pos + 8 > n:
                raise ValueError("truncated argument")
            args.append(struct.unpack_from(">q" if t == "h" else ">d", data, pos)[0])
            pos += 8
        elif t == "s":
            s, pos = _read_string(data, pos)
            if pos > n:
                raise ValueError("string padding runs past the end")
            args.append(s)
        elif t == "b":
            if pos + 4 > n:
                raise ValueError("truncated blob size")
            size = struct.unpack_from(">i", data, pos)[0]
            end = pos + 4 + size
            if size < 0 or end > n:
                raise ValueError("bad blob size")
            args.append(data[pos + 4 : end])
            pos = pos + 4 + ((size + 3) // 4) * 4
        elif t in "TF":
            args.append(t == "T")
        elif t in "NI":
            args.append(None)
        else:
            raise ValueError(f"unsupported type tag {t!r}")
    if pos != n:
        raise ValueError("trailing bytes after the arguments")
    return address, tags, args


def decode_packet(data: bytes, depth: int = 0) -> list[tuple[str, str, list]]:
    """Decode a message or a bundle (timetags ignored, at most 4 levels, 64 elements)."""
    if data[:8] != b"#bundle\0":
        return [decode_message(data)]
    if depth >= 4:
        raise ValueError("bundles nested too deeply")
    if len(data) < 16:
        raise ValueError("truncated bundle")
    pos, out = 16, []
    while pos < len(data):
        if pos + 4 > len(data):
            raise ValueError("truncated bundle element size")
        size = struct.unpack_from(">i", data, pos)[0]
        if size <= 0 or size % 4 or pos + 4 + size > len(data):
            raise ValueError("bad bundle element size")
        out += decode_packet(data[pos + 4 : pos + 4 + size], depth + 1)
        pos += 4 + size
        if len(out) > 64:
            raise ValueError("too many messages in one bundle")
    return out
