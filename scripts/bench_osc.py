"""The OSC codec against python-osc (issue 13): encode speed on real frames, strictness on hostile input.

Encoding: a seeded MusicSynth excerpt goes through ``analyze_array`` with the default analysis
processors (taggers and heads included); for every frame, the default profile's messages (``s2s``,
the ``<prefix>/frame`` message and every output) are encoded with the package codec
(``s2s_live.osc.codec.encode_message``) and with python-osc's ``OscMessageBuilder`` from the same
address/tags/args, interleaved in one loop so both see the same machine state; the Wekinator
profile's ``/wek/inputs`` vector (46 floats) with ``encode_floats`` against the builder. The two
must give identical bytes (checked). Reported: microseconds per frame, p50 and p90, and the ratio.

Decoding: the hostile control datagrams of tests/hostile.py (``osc_datagrams``: garbage, truncated
and bit-flipped messages, bundles with bad sizes; oversize ones dropped, as the control server
drops them before decoding) through ``decode_packet`` and python-osc's ``OscPacket``. A datagram
counts as well-formed when a decoder's result re-encodes to exactly its bytes (bundle header and
timetag kept; a float32 NaN may differ in its payload); so "accepts wrongly" = accepted, but the
bytes are not the message it returned (non-zero padding, trailing bytes, truncated arguments,
unknown tags skipped...), "rejects wrongly" = refused
although the other decoder's result re-encodes to it. Exceptions other than python-osc's
ParseError are counted too (a server must then catch everything), and decodes that do not
return within half a second (hangs).

    python scripts/bench_osc.py [--seconds 8] [--reps 200] [--datagrams 20000]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import struct
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (4 - len(b) % 4)


def reencode(address: str, tags: str, args: list, *, tagless: bool = False) -> bytes | None:
    """Canonical OSC bytes of a decoded message (tags i f s b h d T F N I; T F N I carry their
    value in ``args``, as decode_packet returns them), None when ``args`` cannot stand for the tags
    (another tag, a skipped argument, an address without '/'). ``tagless``: no type tag string."""
    if not address.startswith("/"):
        return None
    out = [_pad(address.encode("utf-8"))]
    if tagless:
        return out[0] if not tags and not args else None
    out.append(_pad(("," + tags).encode("utf-8")))
    if len(args) != len(tags):
        return None
    for t, a in zip(tags, args):
        if t == "i":
            out.append(struct.pack(">i", a))
        elif t == "f":
            out.append(struct.pack(">f", a))
        elif t == "h":
            out.append(struct.pack(">q", a))
        elif t == "d":
            out.append(struct.pack(">d", a))
        elif t == "s":
            out.append(_pad(a.encode("utf-8")))
        elif t == "b":
            out.append(struct.pack(">i", len(a)) + a + b"\0" * ((4 - len(a) % 4) % 4))
        elif t not in "TFNI":
            return None
    return b"".join(out)


def _same(data: bytes, m: tuple[str, str, list]) -> bytes | None:
    """The canonical bytes of ``m`` that match ``data`` (with or without a type tag string)."""
    for tagless in (False, True):
        e = reencode(*m, tagless=tagless)
        if e == data:
            return e
    return reencode(*m)


def rebuild(data: bytes, msgs: list[tuple[str, str, list]]) -> bytes | None:
    """The datagram ``msgs`` stand for: one message, or a one-level bundle with ``data``'s header."""
    if data[:8] != b"#bundle\0":
        return _same(data, msgs[0]) if len(msgs) == 1 else None
    enc, pos = [], 16
    for m in msgs:  # element by element, so a tag-less element is matched against its own bytes
        size = struct.unpack_from(">i", data, pos)[0] if pos + 4 <= len(data) else 0
        e = _same(data[pos + 4:pos + 4 + max(size, 0)], m)
        if e is None:
            return None
        enc.append(e)
        pos += 4 + len(e)
    return data[:16] + b"".join(struct.pack(">i", len(e)) + e for e in enc)


def padding_only(data: bytes, rebuilt: bytes | None) -> bool:
    """True when ``data`` differs from its canonical form only in padding bytes that are not zero."""
    if rebuilt is None or len(rebuilt) != len(data):
        return False
    for k in range(0, len(data), 4):
        w, r = data[k:k + 4], rebuilt[k:k + 4]
        if w != r and not (_is_nan32(w) and _is_nan32(r)) and any(y for x, y in zip(w, r) if x != y):
            return False
    return True


def _tags_of(dgram: bytes) -> str:
    """The type tag string (without the comma) of a message's bytes, '' when absent."""
    a = dgram.find(b"\0")
    pos = (a // 4 + 1) * 4
    if pos >= len(dgram):
        return ""
    end = dgram.find(b"\0", pos)
    return dgram[pos + 1:end].decode("utf-8", "replace")


class Hang(Exception):
    """A decode that did not return within :data:`HANG_S` (python-osc loops forever on a bundle
    element of negative size: ``#bundle`` + timetag + ``ff ff ff fc``)."""


HANG_S = 0.5  #: seconds before a decode counts as a hang


def _alarm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise Hang()


def decode_pythonosc(data: bytes) -> list[tuple[str, str, list]]:
    from pythonosc.osc_packet import OscPacket

    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    try:
        packet = OscPacket(data)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    out = []
    for tm in packet.messages:
        m = tm.message
        out.append((m.address, _tags_of(m.dgram), list(m.params)))
    return out


def bench_encode(seconds: float, reps: int) -> dict:
    from pythonosc.osc_message_builder import OscMessageBuilder

    from s2s_live import offline
    from s2s_live.capture.synth import MusicSynth
    from s2s_live.config import Config
    from s2s_live.osc import encode_floats, encode_message, make_profile
    from s2s_live.pipeline import analyze_array

    cfg = Config()
    sr = 22050
    y = MusicSynth(sr=sr, seed=3, section_seconds=4.0).render(seconds)
    procs = offline.analysis_processors(cfg)
    rows = analyze_array(y, sr, procs, hop=cfg.hop)
    outputs = [o for p in procs for o in p.outputs]
    prof = make_profile("s2s")
    prof.bind(outputs)
    wek = make_profile("wekinator")
    wek.bind(outputs)

    frames = []  # per frame: [(address, tags, args)] exactly as the profile encodes them
    for r in rows:
        msgs = [(f"{prof.prefix}/frame", "if", [r["index"], r["time"]])]
        for o in prof.outputs:
            if o.stream not in ("frame", "event") or r.get(o.name) is None:
                continue
            ta = prof.args(o, r[o.name])
            if ta is not None:
                msgs.append((f"{prof.prefix}/{o.osc_address}", ta[0], ta[1]))
        frames.append(msgs)
    wek_vecs = []
    for r in rows:
        wek.frame_messages(r, r["index"], r["time"])
        wek_vecs.append(wek.vec.copy())

    def hand(msgs):
        return [encode_message(a, t, v) for a, t, v in msgs]

    def posc(msgs):
        out = []
        for a, t, v in msgs:
            b = OscMessageBuilder(address=a)
            for tt, vv in zip(t, v):
                b.add_arg(vv, tt)
            out.append(b.build().dgram)
        return out

    def posc_floats(vec):
        b = OscMessageBuilder(address="/wek/inputs")
        for x in vec.tolist():
            b.add_arg(x, "f")
        return b.build().dgram

    # identical bytes: the comparison is between two ways of producing the same datagrams
    for r, f in zip(rows, frames):
        assert hand(f) == prof.frame_messages(r, r["index"], r["time"]), "not the profile's messages"
        assert hand(f) == posc(f), "the codecs disagree"
    for v in wek_vecs:
        assert encode_floats("/wek/inputs", v) == posc_floats(v)

    clock = time.perf_counter_ns
    th, tp, wh, wp = [], [], [], []
    for _ in range(reps):
        for f, v in zip(frames, wek_vecs):
            t0 = clock(); hand(f); t1 = clock(); posc(f); t2 = clock()
            encode_floats("/wek/inputs", v); t3 = clock(); posc_floats(v); t4 = clock()
            th.append(t1 - t0); tp.append(t2 - t1); wh.append(t3 - t2); wp.append(t4 - t3)

    def q(xs, p):
        return float(np.percentile(np.asarray(xs) / 1000.0, p))

    n_msgs = statistics.mean(len(f) for f in frames)
    n_args = statistics.mean(sum(len(t) for _, t, _ in f) for f in frames)
    return {"frames": len(frames), "messages_per_frame": n_msgs, "args_per_frame": n_args,
            "hand_p50": q(th, 50), "hand_p90": q(th, 90), "posc_p50": q(tp, 50), "posc_p90": q(tp, 90),
            "wek_hand_p50": q(wh, 50), "wek_posc_p50": q(wp, 50), "samples": len(th)}


def bench_decode(n: int) -> dict:
    from pythonosc.osc_message import ParseError as MessageParseError
    from pythonosc.osc_packet import ParseError as PacketParseError

    from hostile import osc_datagrams
    from s2s_live.osc import decode_packet

    data = [d for d in osc_datagrams(n) if len(d) <= 8192]
    res = {"datagrams": len(data), "wellformed": 0, "extension_tags": 0}
    for who in ("hand", "posc"):
        res[who] = {"accepted": 0, "accepts_wrongly": 0, "padding_only": 0, "rejects_wrongly": 0,
                    "other_exceptions": 0, "hangs": 0}
    logging_off()
    for d in data:
        dec = {}
        for who, fn in (("hand", decode_packet), ("posc", decode_pythonosc)):
            try:
                dec[who] = fn(d)
            except (MessageParseError, PacketParseError):
                dec[who] = None
            except Hang:
                res[who]["hangs"] += 1
                res.setdefault("hang_example", d[:40])
                dec[who] = None
            except (ValueError, TypeError, IndexError) as exc:
                # the hand decoder's documented refusals; anything python-osc raises besides ParseError
                if who == "posc":
                    res[who]["other_exceptions"] += 1
                    res.setdefault("posc_exception_types", {}).setdefault(type(exc).__name__, 0)
                    res["posc_exception_types"][type(exc).__name__] += 1
                dec[who] = None
            except Exception as exc:  # noqa: BLE001 - counted, not raised
                res[who]["other_exceptions"] += 1
                dec[who] = None
        good = {w: m is not None and _rebuild_ok(d, m) for w, m in dec.items()}
        wellformed = any(good.values())
        if not wellformed and dec["posc"] is not None and any(
                any(c not in "ifsbhdTFNI" for c in t) for _, t, _ in dec["posc"]):
            res["extension_tags"] += 1  # tags the control protocol never uses ([, m, r, t, unknown)
        res["wellformed"] += wellformed
        for w, m in dec.items():
            r = res[w]
            if m is not None:
                r["accepted"] += 1
                if not good[w]:
                    r["accepts_wrongly"] += 1
                    try:
                        r["padding_only"] += padding_only(d, rebuild(d, m))
                    except (struct.error, UnicodeError, TypeError, OverflowError):
                        pass
            elif wellformed:
                r["rejects_wrongly"] += 1
    # speed on the datagrams both accept correctly (the common case on a healthy port)
    ok = [d for d in data if _both_ok(d)]
    clock = time.perf_counter_ns
    th, tp = [], []
    for _ in range(5):
        for d in ok:
            t0 = clock(); decode_packet(d); t1 = clock(); decode_pythonosc(d); t2 = clock()
            th.append(t1 - t0); tp.append(t2 - t1)
    res["decode_hand_p50"] = float(np.median(th)) / 1000.0
    res["decode_posc_p50"] = float(np.median(tp)) / 1000.0
    res["decode_samples"] = len(ok)
    return res


def _is_nan32(w: bytes) -> bool:
    x = struct.unpack(">I", w)[0]
    return (x & 0x7F800000) == 0x7F800000 and (x & 0x7FFFFF) != 0


def equivalent(data: bytes, rebuilt: bytes | None) -> bool:
    """``rebuilt == data``, except that a float32 NaN may come back with another payload (Python
    floats do not keep it): a differing aligned word that is a NaN on both sides counts as equal."""
    if rebuilt is None or len(rebuilt) != len(data):
        return False
    for k in range(0, len(data), 4):
        w, r = data[k:k + 4], rebuilt[k:k + 4]
        if w != r and not (_is_nan32(w) and _is_nan32(r)):
            return False
    return True


def _rebuild_ok(d: bytes, msgs: list) -> bool:
    try:
        return equivalent(d, rebuild(d, msgs))
    except (struct.error, UnicodeError, TypeError, OverflowError):  # values no encoder can write back
        return False


def _both_ok(d: bytes) -> bool:
    from s2s_live.osc import decode_packet

    try:
        return _rebuild_ok(d, decode_packet(d)) and _rebuild_ok(d, decode_pythonosc(d))
    except Exception:  # noqa: BLE001
        return False


def logging_off() -> None:
    import logging

    logging.disable(logging.WARNING)  # python-osc warns once per unknown tag


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="synth excerpt length (s)")
    ap.add_argument("--reps", type=int, default=200, help="passes over the frames")
    ap.add_argument("--datagrams", type=int, default=20000, help="hostile datagrams")
    a = ap.parse_args(argv)
    import importlib.metadata as md

    try:
        import pythonosc  # noqa: F401  (the comparison needs it; the package itself does not)
    except ImportError:
        print("bench_osc: python-osc is not installed; expected it for the comparison "
              "(pip install python-osc, or the test extra)", file=sys.stderr)
        return 2

    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; python {platform.python_version()}, "
          f"python-osc {md.version('python-osc')}")
    e = bench_encode(a.seconds, a.reps)
    print(f"encode: {e['frames']} frames x {a.reps} passes, {e['messages_per_frame']:.1f} messages "
          f"({e['args_per_frame']:.0f} args) per frame of the s2s profile; bytes identical")
    print(f"  hand codec   p50 {e['hand_p50']:.1f} us/frame  p90 {e['hand_p90']:.1f}")
    print(f"  python-osc   p50 {e['posc_p50']:.1f} us/frame  p90 {e['posc_p90']:.1f}   "
          f"ratio p50 {e['posc_p50'] / e['hand_p50']:.1f}x")
    print(f"  /wek/inputs (46 floats): encode_floats p50 {e['wek_hand_p50']:.2f} us, python-osc "
          f"{e['wek_posc_p50']:.2f} us, ratio {e['wek_posc_p50'] / e['wek_hand_p50']:.1f}x")
    d = bench_decode(a.datagrams)
    print(f"decode: {d['datagrams']} hostile datagrams (tests/hostile.py, seed 1234), {d['wellformed']} well-formed"
          f" ({d['extension_tags']} malformed ones carry tags outside i f s b h d T F N I)")
    for who, name in (("hand", "decode_packet"), ("posc", "python-osc OscPacket")):
        r = d[who]
        print(f"  {name:22s} accepted {r['accepted']:5d}  accepts wrongly {r['accepts_wrongly']:4d} "
              f"({r['padding_only']} only in non-zero padding)  "
              f"rejects wrongly {r['rejects_wrongly']:3d}  exceptions other than its own {r['other_exceptions']}")
    for who, name in (("hand", "decode_packet"), ("posc", "python-osc")):
        if d[who]["hangs"]:
            print(f"  {name}: {d[who]['hangs']} datagrams did not return within {HANG_S} s "
                  f"(e.g. {d['hang_example']!r})")
    if d.get("posc_exception_types"):
        print(f"  python-osc's other exceptions: {d['posc_exception_types']}")
    print(f"  decode speed on {d['decode_samples']} datagrams both accept: hand p50 {d['decode_hand_p50']:.1f} us, "
          f"python-osc {d['decode_posc_p50']:.1f} us, ratio {d['decode_posc_p50'] / d['decode_hand_p50']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
