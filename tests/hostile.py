"""Hostile inputs shared by the tests and ``scripts/probe.py``: seeded, reproducible, loopback only.

* OSC: :func:`osc_datagram` — raw garbage, oversize datagrams, valid addresses with random
  arguments, mutations (truncation, bit flips) of valid messages, bundles with bad sizes
  (``/s2s/hop`` only with invalid values: a valid one legitimately changes the frame rate).
* Web viewer: :func:`http_get`, :func:`ws_handshake`, :func:`ws_text` (raw sockets, for requests
  the libraries refuse to make), :data:`WS_BAD_COMMANDS` (WebSocket commands with the reason the
  viewer must give), :func:`hostile_http` (path traversal, huge headers, broken request lines).
* Files: :func:`broken_audio_files` (cut WAV/MP3, a header that lies, a 1-sample file) and
  :func:`broken_model_folders` (corrupt cards and ONNX files next to a good model).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import struct
from pathlib import Path

import numpy as np

# -- OSC ------------------------------------------------------------------------------------------
OSC_ADDRS = ["/s2s/ping", "/s2s/meta", "/s2s/status", "/s2s/smoothing", "/s2s/targets/add", "/s2s/targets/remove",
             "/s2s/visuals/generate", "/s2s/visuals/auto", "/s2s/visuals/interval", "/s2s/model/load", "/s2s/hop",
             "/s2s/nope", "/s2s", "/", "/wek/outputs", "/s2s/ping/extra"]
OSC_FLOATS = [0.0, 0.5, 0.99, 1.0, -1.0, 1e30, -1e30, float("nan"), float("inf"), float("-inf"), 0.25]
OSC_STRINGS = ["", "genre", "../../etc/passwd", "/etc/passwd", "127.0.0.1", "localhost", "::1", "s2s", "max",
               "wekinator", "x" * 600, "a\x01b", "é", "models/../x", "255.255.255.255", "0.0.0.0", "::ffff:0.0.0.0"]
#: well-formed /s2s/targets/add destinations that the run-time target policy must refuse
HOSTILE_TARGETS = ["255.255.255.255", "0.0.0.0", "::ffff:0.0.0.0"]


def osc_arg(rng: random.Random) -> tuple[str, object]:
    t = rng.choice("ifsb")
    if t == "i":
        return "i", rng.choice([0, 1, -1, 9000, 65535, 65536, 2**31 - 1, -2**31, rng.randint(0, 70000)])
    if t == "f":
        return "f", rng.choice(OSC_FLOATS + [rng.uniform(-10, 10)])
    if t == "s":
        return "s", rng.choice(OSC_STRINGS + ["".join(chr(rng.randint(32, 126)) for _ in range(rng.randint(0, 20)))])
    return "b", bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 16)))


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (4 - len(b) % 4)


def osc_message(rng: random.Random) -> bytes:
    """A well-formed message to a known (or unknown) address with random arguments."""
    from s2s_live.osc import encode_message

    addr = rng.choice(OSC_ADDRS)
    args = [osc_arg(rng) for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5]))]
    if addr == "/s2s/hop":  # only invalid hops (see the module docstring)
        args = [("f", rng.choice([-1.0, 5.0, float("nan"), 1e30]))]
    tags = "".join(t for t, _ in args)
    if "b" not in tags:
        return encode_message(addr, tags, [a for _, a in args])
    body = b""  # hand-encoded: blobs
    for t, a in args:
        if t == "i":
            body += struct.pack(">i", a)
        elif t == "f":
            body += struct.pack(">f", a)
        elif t == "s":
            body += _pad(a.encode())
        else:
            body += struct.pack(">i", len(a)) + a + b"\0" * ((4 - len(a) % 4) % 4)
    return _pad(addr.encode()) + _pad(("," + tags).encode()) + body


def osc_datagram(rng: random.Random, *, max_datagram: int = 8192) -> bytes:
    """One hostile datagram: 20% garbage, 3% oversize, 37% valid, 30% mutated, 10% bundles."""
    kind = rng.random()
    if kind < 0.2:  # raw garbage
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
    if kind < 0.23:  # oversize
        return b"/s2s/ping\0\0\0" + bytes(max_datagram + rng.randint(1, 4000))
    if kind < 0.6:  # well-formed, random arguments
        return osc_message(rng)
    if kind < 0.9:  # mutated
        m = bytearray(osc_message(rng))
        if rng.random() < 0.4 and len(m) > 1:
            return bytes(m[: rng.randint(1, len(m) - 1)])
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(m))
            m[i] ^= 1 << rng.randrange(8)
        return bytes(m)
    # bundles, sometimes with bad element sizes
    elems = [osc_message(rng) for _ in range(rng.randint(0, 3))]
    b = b"#bundle\0" + b"\0" * 8
    for e in elems:
        size = len(e) if rng.random() < 0.8 else rng.randint(-5, 500)
        b += struct.pack(">i", size) + e
    return b


def osc_datagrams(n: int, *, seed: int = 1234, max_datagram: int = 8192) -> list[bytes]:
    """``n`` datagrams; every 1000th is a well-formed targets/add of a hostile destination."""
    from s2s_live.osc import encode_message

    rng = random.Random(seed)
    out = [osc_datagram(rng, max_datagram=max_datagram) for _ in range(n)]
    for k in range(0, n, 1000):
        out[k] = encode_message("/s2s/targets/add", "si", [HOSTILE_TARGETS[(k // 1000) % 3], 9000])
    return out


# -- the web viewer ---------------------------------------------------------------------------------
def http_get(port: int, path: str, host: str | None = None, headers: dict | None = None,
             timeout: float = 10) -> tuple[int, bytes]:
    """GET with an exact Host header (or the given one); returns (status, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.putrequest("GET", path, skip_host=True)
        c.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def ws_handshake(port: int, host: str | None = None, origin: str | None = None,
                 rcvbuf: int | None = None, timeout: float = 10) -> tuple[socket.socket, int]:
    """A WebSocket opened by hand; returns the socket and the HTTP status of the handshake."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET /ws HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if origin:
        lines.append(f"Origin: {origin}")
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    try:
        return s, int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return s, 0  # closed without an answer


def ws_frame(payload: bytes, *, opcode: int = 0x1, mask: bool = True, fin: bool = True) -> bytes:
    """One WebSocket frame (clients must mask; ``mask=False`` makes a protocol violation)."""
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    m = 0x80 if mask else 0
    if n < 126:
        hdr = bytes([first, m | n])
    elif n < 65536:
        hdr = bytes([first, m | 126]) + struct.pack(">H", n)
    else:
        hdr = bytes([first, m | 127]) + struct.pack(">Q", n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    return hdr + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def ws_text(s: socket.socket, text: str) -> None:
    """Send one masked text frame."""
    s.sendall(ws_frame(text.encode()))


#: WebSocket commands the viewer must refuse, each with (part of) the reason it must give
WS_BAD_COMMANDS: list[tuple[object, str]] = [
    ({"cmd": "generate", "prompt": {"a": 1}}, "must be a string"),
    ({"cmd": "generate", "prompt": 5}, "must be a string"),
    ({"cmd": "generate", "prompt": "x" * 60000}, "at most 500"),
    ({"cmd": "generate", "prompt": "a\x01b"}, "control characters"),
    ({"cmd": "template", "negative": {"a": 1}}, "must be a string"),
    ({"cmd": "template", "negative": 7}, "must be a string"),
    ({"cmd": "template", "negative": "n" * 60000}, "at most 2000"),
    ({"cmd": "template", "negative": "bad\x1b[2J"}, "control characters"),
    ({"cmd": "template", "template": "{genre}\n{tempo}"}, "control characters"),
    ({"cmd": "template", "template": ["{genre}"]}, "must be a string"),
    ({"cmd": "interval", "seconds": "soon"}, "finite number"),
    ({"cmd": "interval", "seconds": 0.5}, "interval=0.5 is out of range; expected 1.0..3600.0"),
    ('{"cmd": "interval", "seconds": NaN}', "finite number"),
    ({"cmd": "auto", "on": "yes"}, "must be an integer"),
    ({"cmd": "auto", "on": 2}, "out of range"),
    ({"cmd": "live", "on": {"x": 1}}, "must be an integer"),
    ({"cmd": "fast", "on": "yes"}, "must be an integer"),
    ({"cmd": "scene", "name": "../../etc/passwd"}, "unknown; expected auto, flow"),
    ({"cmd": "scene", "name": 3}, "must be a string"),
    ({"cmd": "scene"}, "must be a string"),
    ({"cmd": "intensity", "value": 2.5}, "intensity=2.5 is out of range; expected 0.0..2.0"),
    ('{"cmd": "intensity", "value": Infinity}', "finite number"),
    ({"cmd": "palette", "value": "warm"}, "finite number"),
    ({"cmd": "palette", "value": -1.5}, "out of range; expected -1.0..1.0"),
    ({"cmd": {"x": 1}}, "expected JSON"),
    ({"cmd": "x" * 5000}, "unknown cmd"),
    ("[1, 2]", "expected JSON"),
]


def ws_bad_payload(obj) -> str:
    return obj if isinstance(obj, str) else json.dumps(obj)


#: image names the viewer must not serve (traversal, encodings, overlong, NUL)
BAD_IMAGE_NAMES = ["..png", "%2e%2e%2fsecret.png", "..%2f..%2f..%2fetc%2fpasswd", "../../../../etc/passwd",
                   "%2e%2e/%2e%2e/etc/passwd", "x" * 4000 + ".png", "y" * 300 + ".png", "a%00.png",
                   "....//....//etc/passwd", "%252e%252e%252fetc%252fpasswd", "/etc/passwd", "\\..\\..\\x.png"]


def hostile_http(port: int, rng: random.Random) -> bytes:
    """One hostile raw HTTP request to the viewer on ``port``."""
    host = f"127.0.0.1:{port}"
    k = rng.randrange(9)
    if k == 0:  # path traversal
        return f"GET /images/{rng.choice(BAD_IMAGE_NAMES)} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    if k == 1:  # traversal outside /images
        p = rng.choice(["/../../etc/passwd", "/static/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                        "//etc/passwd", "/static/%2e%2e%2f%2e%2e%2fweb.py"])
        return f"GET {p} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    if k == 2:  # one huge header
        return f"GET / HTTP/1.1\r\nHost: {host}\r\nX-Big: {'a' * rng.choice([9000, 70000, 300000])}\r\n\r\n".encode()
    if k == 3:  # very many headers
        hs = "".join(f"X-H{i}: {i}\r\n" for i in range(rng.choice([200, 2000])))
        return f"GET / HTTP/1.1\r\nHost: {host}\r\n{hs}\r\n".encode()
    if k == 4:  # a huge request line
        return f"GET /{'z' * rng.choice([5000, 100000])} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    if k == 5:  # bad Host (DNS rebinding) or methods
        return rng.choice([f"GET / HTTP/1.1\r\nHost: rebind.attacker.example:{port}\r\n\r\n",
                           f"POST /ws HTTP/1.1\r\nHost: {host}\r\nContent-Length: 99999999\r\n\r\n{{",
                           f"DELETE /images/x.png HTTP/1.1\r\nHost: {host}\r\n\r\n",
                           f"OPTIONS * HTTP/1.1\r\nHost: {host}\r\n\r\n"]).encode()
    if k == 6:  # broken request lines
        return rng.choice([b"\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00",
                           b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\nContent-Length: -5\r\n\r\n",
                           b"GET /\x00\xff HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n"])
    if k == 7:  # WebSocket handshakes that are wrong
        key = base64.b64encode(os.urandom(16)).decode()
        return rng.choice([
            f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 8\r\n\r\n",
            f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://attacker.example\r\n\r\n",
        ]).encode()
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000)))  # garbage


# -- files ----------------------------------------------------------------------------------------
def broken_audio_files(d: Path) -> list[Path]:
    """A WAV and an MP3 cut in the middle, a WAV whose header claims 10 h for 1 s of data, and a
    1-sample WAV (libsndfile reads the first three as if complete)."""
    import soundfile as sf

    d = Path(d)
    sr = 22050
    y = (0.3 * np.sin(2 * np.pi * 440 * np.arange(4 * sr) / sr)).astype(np.float32)
    for ext in ("wav", "mp3"):
        sf.write(d / f"full.{ext}", y, sr)
        b = (d / f"full.{ext}").read_bytes()
        (d / f"full.{ext}").unlink()
        (d / f"cut.{ext}").write_bytes(b[: len(b) // 2])
    sf.write(d / "liar.wav", y[:sr], sr)
    b = bytearray((d / "liar.wav").read_bytes())
    i = b.find(b"data")
    b[i + 4 : i + 8] = struct.pack("<I", 10 * 3600 * sr * 2)
    (d / "liar.wav").write_bytes(bytes(b))
    sf.write(d / "tiny.wav", y[:1], sr)
    return [d / n for n in ("cut.wav", "cut.mp3", "liar.wav", "tiny.wav")]


def more_broken_audio_files(d: Path) -> list[Path]:
    """Files that are not audio at all: empty, random bytes, a RIFF header only, a text file."""
    d = Path(d)
    (d / "empty.wav").write_bytes(b"")
    (d / "noise.wav").write_bytes(random.Random(5).randbytes(5000))
    (d / "header.wav").write_bytes(b"RIFF\xff\xff\xff\xffWAVEfmt ")
    (d / "text.flac").write_text("not audio\n")
    return [d / n for n in ("empty.wav", "noise.wav", "header.wav", "text.flac")]


def broken_model_folders(src: Path, dst: Path, *, good: str = "genre") -> list[str]:
    """Copies of model ``good`` from ``src`` into ``dst``, each broken one way; returns their
    names (``good`` itself is copied intact). Every one must be refused by /s2s/model/load."""
    src, dst = Path(src), Path(dst)
    if not (dst / good).exists():
        shutil.copytree(src / good, dst / good)

    def clone(name: str) -> Path:
        shutil.copytree(src / good, dst / name)
        return dst / name

    card = json.loads((src / good / "card.json").read_text())
    onnx = (src / good / "model.onnx").read_bytes()
    names = []
    clone("bad-card-json").joinpath("card.json").write_text("{ not json")
    clone("bad-card-empty").joinpath("card.json").write_text("")
    clone("bad-card-list").joinpath("card.json").write_text("[1, 2, 3]")
    clone("no-card").joinpath("card.json").unlink()
    clone("no-model").joinpath("model.onnx").unlink()
    clone("onnx-truncated").joinpath("model.onnx").write_bytes(onnx[: len(onnx) // 3])
    flipped = bytearray(onnx)
    flipped[len(flipped) // 2] ^= 0xFF
    clone("onnx-flipped").joinpath("model.onnx").write_bytes(bytes(flipped))
    d = clone("onnx-garbage")
    junk = random.Random(3).randbytes(4096)
    d.joinpath("model.onnx").write_bytes(junk)
    c = dict(card, sha256=hashlib.sha256(junk).hexdigest())  # the hash matches: onnxruntime must parse it
    d.joinpath("card.json").write_text(json.dumps(c))
    d = clone("onnx-symlink")
    d.joinpath("model.onnx").unlink()
    d.joinpath("model.onnx").symlink_to("/etc/passwd")
    c = json.loads(json.dumps(card))
    c["outputs"][0]["shape"] = [1, 10**9]
    clone("card-huge-shape").joinpath("card.json").write_text(json.dumps(c))
    c = json.loads(json.dumps(card))
    c["kind"] = "decoder"
    clone("card-wrong-kind").joinpath("card.json").write_text(json.dumps(c))
    c = json.loads(json.dumps(card))
    c["input"]["recipe_version"] = 99
    clone("card-old-recipe").joinpath("card.json").write_text(json.dumps(c))
    (dst / "empty-folder").mkdir()
    for p in sorted(dst.iterdir()):
        if p.name != good:
            names.append(p.name)
    # names that must never be read as paths
    return names + ["../genre", "/etc", "genre/../genre", "x" * 300, "", "nope"]
