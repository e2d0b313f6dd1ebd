"""OSC output: encoding against python-osc and liblo, profiles, targets, and the docs/osc.md contract."""

from __future__ import annotations

import math
import random
import re
import socket
import struct
import time

import numpy as np
import pytest
from helpers import OscDump, OSCRecorder, free_port, have, parse_osc_doc, require, types_regex
from label_models import LABELS10, LABELS14, make_genre_model

from s2s_live.config import Config
from s2s_live.errors import ConfigError, OSCError
from s2s_live.osc import (MAX_DATAGRAM, PROFILES, WEK_GENRE_SLOTS, WEK_INSTRUMENT_SLOTS, WEK_K, OSCBroadcaster,
                              TouchDesignerProfile,
                              WekinatorProfile, decode_message, decode_packet, encode_floats, encode_message,
                              make_profile, parse_target)
from s2s_live.processor import Output

# ---------------------------------------------------------------------------------------------
# encoding / decoding


def _rand_msg(rng: random.Random):
    n = rng.randint(0, 12)
    tags = "".join(rng.choice("ifs") for _ in range(n))
    args = []
    for t in tags:
        if t == "i":
            args.append(rng.randint(-2**31, 2**31 - 1))
        elif t == "f":
            args.append(float(np.float32(rng.uniform(-1e6, 1e6))))
        else:
            args.append("".join(rng.choice("abc XYZ/é#") for _ in range(rng.randint(0, 9))))
    addr = "/" + "/".join("".join(rng.choice("abcxyz") for _ in range(rng.randint(1, 7)))
                          for _ in range(rng.randint(1, 4)))
    return addr, tags, args


def test_encode_matches_python_osc_and_own_decoder():
    from pythonosc.osc_message import OscMessage

    rng = random.Random(5)
    for _ in range(500):
        addr, tags, args = _rand_msg(rng)
        data = encode_message(addr, tags, args)
        assert len(data) % 4 == 0
        m = OscMessage(data)
        assert m.address == addr and list(m.params) == args
        assert decode_message(data) == (addr, tags, args)


def test_encode_floats_equals_generic_encoder():
    v = np.linspace(-1, 1, 29).astype(np.float32)
    assert encode_floats("/wek/inputs", v) == encode_message("/wek/inputs", "f" * 29, v.tolist())


def test_encode_rejects_bad_arguments():
    with pytest.raises(ValueError, match="start with"):
        encode_message("s2s/x", "", [])
    with pytest.raises(ValueError, match="type tags"):
        encode_message("/x", "ff", [1.0])
    with pytest.raises(ValueError, match="unsupported"):
        encode_message("/x", "q", [1])


def test_decode_extended_tags_and_bundles():
    data = (b"/a\0\0" + b",hdTFNb\0" + struct.pack(">q", -5) + struct.pack(">d", 0.25)
            + struct.pack(">i", 3) + b"xyz\0")
    assert decode_message(data) == ("/a", "hdTFNb", [-5, 0.25, True, False, None, b"xyz"])
    assert decode_message(b"/no/tags\0\0\0\0") == ("/no/tags", "", [])
    m1, m2 = encode_message("/s2s/ping", "", []), encode_message("/s2s/hop", "f", [0.5])
    bundle = b"#bundle\0" + b"\0" * 8 + struct.pack(">i", len(m1)) + m1 + struct.pack(">i", len(m2)) + m2
    assert [a for a, _, _ in decode_packet(bundle)] == ["/s2s/ping", "/s2s/hop"]


@pytest.mark.parametrize("data", [
    b"", b"/", b"/ab", b"abc\0", b"/a\0\0,f\0\0", b"/a\0\0,f\0\0\0\0\0\0\0\0\0\0",  # truncated / trailing
    b"/a\0\0,q\0\0", b"/a\0\0xf\0\0\0\0\0\0", b"/abc", b"/a\0\0,s\0\0abcd",  # bad tag, no ',', no NUL
    b"/a\0\0,b\0\0\xff\xff\xff\xff", b"/a\0\0,b\0\0\0\0\0\x10abcd", b"/\xff\xfe\0",  # bad blobs, utf-8
    b"#bundle\0" + b"\0" * 8 + b"\0\0\0\x09/a\0\0",  # bundle element size not a multiple of 4
])
def test_decode_rejects_malformed(data):
    with pytest.raises(ValueError):
        decode_packet(data)


# ---------------------------------------------------------------------------------------------
# targets and profiles


@pytest.mark.parametrize("spec,expected", [
    ("127.0.0.1:9000", ("127.0.0.1", 9000, "s2s")),
    ("localhost:6448:wekinator", ("localhost", 6448, "wekinator")),
    ("[::1]:7000:touchdesigner:raw", ("::1", 7000, "touchdesigner:raw")),
    ("host:1:s2s+norm", ("host", 1, "s2s+norm")),
])
def test_parse_target_valid(spec, expected):
    assert parse_target(spec) == expected


@pytest.mark.parametrize("spec,msg", [
    ("127.0.0.1", "HOST:PORT"), ("127.0.0.1:0", "1..65535"), ("127.0.0.1:70000", "1..65535"),
    (":9000", "HOST:PORT"), ("h:9000:nope", "unknown"), ("h:9000:max:loud", "option"), ("[::1]9000", "HOST"),
])
def test_parse_target_invalid(spec, msg):
    with pytest.raises(ConfigError, match=msg):
        parse_target(spec)


OUTS = [
    Output("level", stream="fast"),
    Output("bands", shape=3, stream="fast", labels=("low", "mid", "high")),
    Output("bpm", range=(0.0, 200.0), stream="fast", unit="BPM"),
    Output("beat", type="i", range=None, stream="event"),
    Output("features/centroid", range=(0.0, 11025.0), unit="Hz"),
    Output("features/dbfs", range=(-120.0, 0.0)),
    Output("key", type="s", range=None),
    Output("genre", type="sf", range=(0.0, 1.0), labels=("blues", "rock")),
    Output("genre/id", type="i", range=(0.0, 1.0), labels=("blues", "rock")),
    Output("genre/probs", shape=2, labels=("blues", "rock")),
    Output("genre/changed", type="ss", range=None, stream="event"),
    Output("secret", internal=True),
]
VALUES = {"features/centroid": 5512.5, "features/dbfs": -30.0, "key": "A minor", "genre": ("rock", 0.75),
          "genre/id": 1, "genre/probs": np.array([0.25, 0.75], np.float32), "genre/changed": ("blues", "rock"),
          "secret": 3.0}
FAST = {"level": 0.5, "bands": np.array([0.1, 0.2, 1.5], np.float32), "bpm": 120.0, "beat": 7}


def _decode_all(msgs):
    return {a: args for a, _, args in (decode_message(m) for m in msgs)}


def test_s2s_profile_raw_and_norm():
    raw, norm = make_profile("s2s"), make_profile("s2s:norm")
    for p in (raw, norm):
        p.bind(OUTS)
    r = _decode_all(raw.frame_messages(VALUES, 3, 0.75))
    assert r["/s2s/frame"] == [3, 0.75]
    assert r["/s2s/features/centroid"] == [5512.5] and r["/s2s/features/dbfs"] == [-30.0]
    assert r["/s2s/genre"] == ["rock", 0.75] and r["/s2s/genre/id"] == [1] and r["/s2s/key"] == ["A minor"]
    assert r["/s2s/genre/changed"] == ["blues", "rock"]
    assert "/s2s/secret" not in r
    n = _decode_all(norm.frame_messages(VALUES, 3, 0.75))
    assert n["/s2s/features/centroid"] == [0.5] and n["/s2s/features/dbfs"] == [0.75]
    assert n["/s2s/genre/id"] == [1]  # integers are never scaled
    f = _decode_all(norm.fast_messages(FAST))
    assert f["/s2s/bpm"] == [pytest.approx(0.6)] and f["/s2s/beat"] == [7]
    assert f["/s2s/bands"] == pytest.approx([0.1, 0.2, 1.0])  # clipped to the declared range


def test_profile_defaults_and_meta_ranges():
    assert make_profile("s2s").normalise is False
    for name in ("max", "sc", "touchdesigner", "wekinator"):
        assert make_profile(name).normalise is True
        assert make_profile(f"{name}:raw").normalise is False
        assert make_profile(f"{name}:raw").spec == f"{name}:raw"
    p = make_profile("max")
    p.bind(OUTS)
    meta = [decode_message(m) for m in p.start_messages({"version": "x", "hop": 0.25, "rates": [48000, 22050, 16000]})]
    outs = {a[0]: a for addr, _, a in meta if addr == "/s2s/meta/output"}
    assert outs["/s2s/features/centroid"][3:] == [0.0, 1.0, "frame"]
    assert meta[-1] == ("/s2s/meta/done", "i", [len(OUTS) - 1])
    assert ("/s2s/meta/labels/genre/probs", "ss", ["blues", "rock"]) in meta


def test_touchdesigner_profile_splits_and_slows_strings(monkeypatch):
    p = TouchDesignerProfile("/s2s")
    p.bind(OUTS)
    first = [decode_message(m) for m in p.frame_messages(VALUES, 0, 0.0)]
    addrs = [a for a, _, _ in first]
    for a, t, args in first:  # one value per message except events and the frame header
        if a not in ("/s2s/frame", "/s2s/genre/changed"):
            assert len(t) == 1, a
    assert {"/s2s/genre/probs/0", "/s2s/genre/probs/1", "/s2s/genre/1", "/s2s/genre/0", "/s2s/genre/0/index",
            "/s2s/key", "/s2s/genre/id", "/s2s/features/centroid"} <= set(addrs)
    d = {a: args for a, _, args in first}
    assert d["/s2s/genre/0"] == ["rock"] and d["/s2s/genre/0/index"] == [1] and d["/s2s/genre/1"] == [0.75]
    fast = {a: args for a, _, args in (decode_message(m) for m in p.fast_messages(FAST))}
    assert fast["/s2s/bands/2"] == [1.0] and fast["/s2s/beat"] == [7]
    # unchanged strings are not repeated within STRING_REFRESH, changed ones are
    second = [a for a, _, _ in (decode_message(m) for m in p.frame_messages(VALUES, 1, 0.25))]
    assert "/s2s/key" not in second and "/s2s/genre/0/index" in second
    third = [a for a, _, _ in (decode_message(m) for m in p.frame_messages({**VALUES, "key": "C major"}, 2, 0.5))]
    assert "/s2s/key" in third


def test_wekinator_profile_has_fixed_length():
    p = WekinatorProfile("/s2s")
    p.bind([])  # nothing declared: still K zeros
    (m,) = p.frame_messages({}, 0, 0.0)
    assert decode_message(m) == ("/wek/inputs", "f" * WEK_K, [0.0] * WEK_K)
    (names,) = p.start_messages({})
    a, t, args = decode_message(names)
    assert a == "/wekinator/control/setInputNames" and len(args) == WEK_K == 46 and len(set(args)) == WEK_K
    # the shipped encoder's own declarations (its card gives the latent no range: logistic)
    from pathlib import Path

    from s2s_live.inference import OnnxProcessor

    enc = OnnxProcessor(Path(__file__).resolve().parents[1] / "models" / "encoder", smoothing=0.0)
    latent = [o for o in enc.outputs if o.name == "latent"]
    assert len(latent) == 1 and latent[0].shape >= 8
    p.bind(OUTS + [Output("emotion/rules", type="ff")] + list(enc.outputs))
    assert p.names[:2] == ["genre_blues", "genre_rock"] and len(p.names) == WEK_K
    assert p.names[2:16] == [f"genre_{k}" for k in range(2, 16)]  # positions the model has no label for
    assert p.fast_messages(FAST) == []
    z = np.linspace(-4.0, 4.0, latent[0].shape).astype(np.float32)
    z[:8] = [-4.0, -1.0, 0.0, 0.5, 1.0, 2.0, 4.0, 30.0]
    vals = {**VALUES, "emotion/rules": (0.2, 0.9), "latent": z}
    _, _, v = decode_message(p.frame_messages(vals, 1, 0.25)[0])
    assert len(v) == WEK_K
    g = WEK_GENRE_SLOTS
    assert v[0:2] == [0.25, 0.75] and v[2:g] == [0.0] * (g - 2)  # 2 labels, zero-padded to 16
    assert v[g:g + 3] == pytest.approx([0.2, 0.9, 0.5])  # valence, arousal from the rules; level
    assert v[g + 3:g + 6] == pytest.approx([0.1, 0.2, 1.0]) and v[g + 7] == 0.5 and v[g + 8] == pytest.approx(0.6)
    # 1/(1+e^-x) of the first 8 latent values, computed here
    assert v[g + 11:g + 19] == pytest.approx([0.017986, 0.268941, 0.5, 0.622459, 0.731059, 0.880797, 0.982014,
                                              1.0], abs=1e-6)
    assert v[g + 19:] == [0.0] * (WEK_INSTRUMENT_SLOTS + 1)  # no instrument/vocals model: zeros
    assert p.event_message("error", "ss", ["a", "b"]) is None


def _genre_outputs(labels):
    n = len(labels)
    return [Output("genre/probs", shape=n, labels=tuple(labels)), Output("genre", type="sf", labels=tuple(labels)),
            Output("genre/id", type="i", range=(0.0, n - 1.0), labels=tuple(labels))]


def test_wekinator_genre_block_follows_any_label_count():
    """The rule: 16 genre positions whatever the model, named after its labels in its order,
    zero-padded; a longer list sends its first 16; a re-bind (hot swap) renames, K never moves."""
    p = WekinatorProfile("/s2s")
    base = [Output("level", stream="fast")]
    for labels in (LABELS14, LABELS10, [f"g{k}" for k in range(20)], ["hip-hop", "hip hop", "r&b"]):
        p.bind(base + _genre_outputs(labels))
        probs = np.linspace(0.01, 1.0, len(labels)).astype(np.float32)
        (m,) = p.frame_messages({"genre/probs": probs}, 0, 0.0)
        _, tags, v = decode_message(m)
        kept = min(len(labels), WEK_GENRE_SLOTS)
        assert len(tags) == len(p.names) == len(set(p.names)) == WEK_K
        assert v[:kept] == pytest.approx(probs[:kept].tolist(), abs=1e-6)
        assert v[kept:WEK_GENRE_SLOTS] == [0.0] * (WEK_GENRE_SLOTS - kept)
        assert p.names[kept:WEK_GENRE_SLOTS] == [f"genre_{k}" for k in range(kept, WEK_GENRE_SLOTS)]
        (names,) = p.start_messages({})
        assert decode_message(names)[2] == p.names  # re-sent with every meta block
    assert p.names[:3] == ["genre_hip_hop", "genre_hip_hop_1", "genre_r_b"]  # still unique
    p.bind(base + _genre_outputs(LABELS14))
    assert p.names[:14] == [f"genre_{x}" for x in LABELS14]
    # instrument and vocals positions take a model's outputs when there is one
    inst = tuple(f"i{k}" for k in range(12))
    p.bind(base + [Output("instruments", shape=12, labels=inst), Output("vocals")])
    g = WEK_GENRE_SLOTS + 19
    assert p.names[g:g + WEK_INSTRUMENT_SLOTS] == [f"instrument_{x}" for x in inst[:WEK_INSTRUMENT_SLOTS]]
    assert p.names[-1] == "vocals"
    _, _, v = decode_message(p.frame_messages({"instruments": np.full(12, 0.5, np.float32), "vocals": 0.25}, 0, 0)[0])
    assert v[g:] == [0.5] * WEK_INSTRUMENT_SLOTS + [0.25]


def test_broadcaster_real_udp(osc_rx):
    b = OSCBroadcaster([f"127.0.0.1:{osc_rx.port}"])
    b.bind_outputs(OUTS)
    b.send_fast(FAST)
    b.send_frame(VALUES, 9, 2.25)
    b.send_event("image", "is", [1, "/tmp/x.png"])
    assert osc_rx.wait_for("/s2s/image")
    assert osc_rx.of("/s2s/frame")[0][1] == [9, 2.25]
    assert osc_rx.of("/s2s/bands")[0][1] == pytest.approx([0.1, 0.2, 1.5])
    # a port nobody listens on is harmless; a failing send (here: the IPv6 socket closed under
    # the broadcaster, EBADF) is counted, never raised, and the other targets still get everything
    dead = free_port()
    b.add_target("127.0.0.1", dead, "sc")
    t = b.add_target("::1", 9, "s2s")
    b._sock(socket.AF_INET6).close()
    osc_rx.clear()
    b.send_frame(VALUES, 10, 2.5)
    assert t.errors >= 1 and b.counters()["osc_errors"] >= 1 and t.last_error
    assert osc_rx.wait_for("/s2s/frame")[0][1] == [10, 2.5]
    assert b.remove_target("127.0.0.1", dead) and not b.remove_target("127.0.0.1", dead)
    # oversize messages are refused and counted
    b.send_raw(("127.0.0.1", osc_rx.port), b"/x\0\0" + b"\0" * MAX_DATAGRAM)
    assert b.counters()["osc_oversize"] == 1
    with pytest.raises(OSCError, match="resolve"):
        b.add_target("no-such-host.invalid", 9000)
    with pytest.raises(ConfigError, match="port"):
        b.add_target("127.0.0.1", 0)
    b.close()


def test_broadcaster_ipv6(osc_rx):
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
    except OSError:
        require(False, "no IPv6 loopback on this machine")
    port = s.getsockname()[1]
    s.settimeout(2)
    b = OSCBroadcaster([f"[::1]:{port}"])
    b.bind_outputs(OUTS)
    b.send_fast({"level": 0.5})
    assert decode_message(s.recv(1024)) == ("/s2s/level", "f", [0.5])
    b.close()
    s.close()


def test_broadcaster_reaches_a_broadcast_target():
    """A broadcast target (the user's own, or allowed with --allow-target) gets its datagrams:
    without SO_BROADCAST on the sending socket every send failed with EACCES, counted as an
    error and never seen."""
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("0.0.0.0", 0))
    r.settimeout(2)
    b = OSCBroadcaster([f"255.255.255.255:{r.getsockname()[1]}"])
    b.bind_outputs(OUTS)
    b.send_fast({"level": 0.25})
    t = b.targets[0]
    try:
        assert t.errors == 0 and t.sent == 1, (t.errors, t.sent)
        assert decode_message(r.recv(1024)) == ("/s2s/level", "f", [0.25])
    finally:
        b.close()
        r.close()


# ---------------------------------------------------------------------------------------------
# the engine against real receivers and the docs/osc.md contract

DOC = parse_osc_doc()
OUTGOING_SECTIONS = ("Outgoing: fast stream", "Outgoing: frame stream", "Outgoing: events", "Outgoing: meta")


def test_doc_parses():
    addrs = [r["address"] for r in DOC]
    assert len(addrs) > 40 and "/s2s/level" in addrs and "/s2s/targets/add" in addrs
    for r in DOC:
        re.compile(types_regex(r["types"]))
    assert re.fullmatch(types_regex("f×20"), "f" * 20) and not re.fullmatch(types_regex("f×20"), "f" * 19)
    assert re.fullmatch(types_regex("si[s]"), "si") and re.fullmatch(types_regex("si[s]"), "sis")


def _doc_row(address: str) -> dict | None:
    for r in DOC:
        pat = re.escape(r["address"]).replace(re.escape("<name>"), ".+")
        if re.fullmatch(pat, address):
            return r
    return None


@pytest.fixture(scope="module")
def streaming():
    """One engine run on the synth with five targets: oscdump (s2s) and recorders for each profile."""
    from s2s_live.engine import Engine

    require(have("oscdump"), "liblo-tools (oscdump) is not installed")
    dump = OscDump()
    recs = {name: OSCRecorder() for name in ("max", "touchdesigner", "wekinator", "s2s")}
    targets = [f"127.0.0.1:{dump.port}"] + [f"127.0.0.1:{r.port}:{n}" for n, r in recs.items() if n != "s2s"]
    targets.append(f"127.0.0.1:{recs['s2s'].port}:s2s")
    eng = Engine(Config(source="synth", targets=targets, control_port=0, visuals="none", hop=0.25))
    eng.start()
    try:
        deadline = time.time() + 20
        while time.time() < deadline and len(recs["s2s"].of("/s2s/frame")) < 12:
            time.sleep(0.05)
        outputs = list(eng.osc.outputs)
    finally:
        eng.stop()
    time.sleep(0.2)
    dump.stop()
    yield {"dump": dump, "recs": recs, "outputs": outputs}
    for r in recs.values():
        r.close()


def test_every_declared_output_is_documented_with_its_types(streaming):
    problems = []
    for o in streaming["outputs"]:
        if not o.osc_address:
            continue
        addr = f"/s2s/{o.osc_address}"
        row = _doc_row(addr)
        tags = o.type if len(o.type) > 1 else o.type * o.shape
        if row is None or not any(row["section"].startswith(s) for s in OUTGOING_SECTIONS):
            problems.append(f"{addr} ({tags}) is sent but not documented in docs/osc.md")
        elif not re.fullmatch(types_regex(row["types"]), tags):
            problems.append(f"{addr}: declared types {tags} but documented {row['types']}")
    assert not problems, "\n".join(problems)


def test_documented_always_on_outputs_are_declared(streaming):
    declared = {f"/s2s/{o.osc_address}" for o in streaming["outputs"] if o.osc_address}
    missing = [r["address"] for r in DOC if r["section"].startswith(("Outgoing: fast", "Outgoing: frame"))
               and r["needs"] == "—" and r["address"] != "/s2s/frame" and r["address"] not in declared]
    assert not missing, f"documented as always sent but not declared by the engine: {missing}"


def test_oscdump_sees_documented_addresses_and_types(streaming):
    seen = streaming["dump"].types_of()
    assert "/s2s/frame" in seen and "/s2s/level" in seen and "/s2s/meta/done" in seen
    problems = []
    for addr, types in seen.items():
        row = _doc_row(addr)
        if row is None:
            problems.append(f"oscdump saw undocumented {addr}")
            continue
        for t in types:
            if not re.fullmatch(types_regex(row["types"]), t):
                problems.append(f"{addr}: oscdump saw types {t!r}, documented {row['types']!r}")
    # every declared output of the frame/fast streams reached liblo
    for o in streaming["outputs"]:
        if o.osc_address and o.stream in ("fast", "frame") and f"/s2s/{o.osc_address}" not in seen:
            problems.append(f"/s2s/{o.osc_address} was declared but oscdump never saw it")
    assert not problems, "\n".join(problems)


def test_profiles_in_a_live_run(streaming):
    recs = streaming["recs"]
    # wekinator: names at start, then fixed-length float vectors only
    w = recs["wekinator"]
    assert w.addresses() == {"/wek/inputs", "/wekinator/control/setInputNames"}
    (names,) = w.of("/wekinator/control/setInputNames")
    vecs = w.of("/wek/inputs")
    assert len(vecs) >= 10 and all(len(v) == len(names[1]) == WEK_K for _, v in vecs)
    assert all(0.0 <= x <= 1.0 for _, v in vecs for x in v)
    level = names[1].index("level")
    assert max(v[level] for _, v in vecs) > 0.1  # level of the synth music
    # touchdesigner: one number per message (strings and events excepted)
    for _, addr, args in recs["touchdesigner"].messages:
        if not addr.startswith(("/s2s/meta", "/s2s/frame")) and addr != "/s2s/beat" and not addr.endswith("/changed"):
            assert len(args) == 1, (addr, args)
    td = recs["touchdesigner"].addresses()
    assert {"/s2s/bands/0", "/s2s/bands/2", "/s2s/features/mfcc/19", "/s2s/level"} <= td
    # max: normalised centroid in 0..1, s2s: Hz
    cm = [a[0] for _, a in recs["max"].of("/s2s/features/centroid")]
    cs = [a[0] for _, a in recs["s2s"].of("/s2s/features/centroid")]
    assert cm and all(0.0 <= x <= 1.0 for x in cm) and max(cs) > 50.0
    for x, y in zip(cm, cs):
        assert x == pytest.approx(min(1.0, y / 11025.0), abs=1e-5)


def test_profiles_follow_a_hot_swapped_label_count(tmp_path):
    """A 14-label genre model, then ``/s2s/model/load genre genre-gtzan`` (10 labels) through the
    real control port: every profile follows the new label list, none assumes ten."""
    from s2s_live.engine import Engine

    root = tmp_path / "models"
    make_genre_model(root, "genre14", LABELS14, seed=1)
    make_genre_model(root, "genre-gtzan", LABELS10, seed=2)
    recs = {name: OSCRecorder() for name in ("s2s", "max", "sc", "touchdesigner", "wekinator")}
    ctl = free_port()
    eng = Engine(Config(source="synth", targets=[f"127.0.0.1:{r.port}:{n}" for n, r in recs.items()],
                        control_port=ctl, visuals="none", hop=0.25, models_dir=str(root),
                        models={"genre": "genre14"}))
    eng.start()
    try:
        assert recs["s2s"].wait_for("/s2s/genre/probs", count=8, timeout=20)
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.settimeout(10)
        client.sendto(encode_message("/s2s/model/load", "ss", ["genre", "genre-gtzan"]), ("127.0.0.1", ctl))
        assert decode_message(client.recv(65536)) == ("/s2s/ack", "sss", ["/s2s/model/load", "genre",
                                                                                      "genre-gtzan"])
        client.close()
        t_swap = time.perf_counter()
        n_after = len(recs["s2s"].of("/s2s/genre/probs")) + 8
        assert len(recs["s2s"].wait_for("/s2s/genre/probs", count=n_after, timeout=20)) >= n_after
    finally:
        eng.stop()
    time.sleep(0.2)
    try:
        for name in ("s2s", "max", "sc"):
            r = recs[name]
            labels = [a for _, a in r.of("/s2s/meta/labels/genre/probs")]
            assert labels[0] == list(LABELS14) and labels[-1] == list(LABELS10), (name, labels)
            sizes = [a[2] for _, a in r.of("/s2s/meta/output") if a[0] == "/s2s/genre/probs"]
            assert sizes[0] == 14 and sizes[-1] == 10, (name, sizes)
            assert [a for _, a in r.of("/s2s/meta/labels/genre/id")][-1] == list(LABELS10)
            lens = [(t > t_swap, len(a)) for t, a in r.of("/s2s/genre/probs")]
            assert {n for after, n in lens if not after} == {14}, (name, lens)
            assert lens[-1] == (True, 10) and all(0 <= x <= 1 for _, a in r.of("/s2s/genre/probs") for x in a)
            assert all(a[0] in LABELS14 + LABELS10 for _, a in r.of("/s2s/genre"))
        td = recs["touchdesigner"]
        before = {a for t, a, _ in td.messages if t < t_swap}
        assert "/s2s/genre/probs/13" in before and "/s2s/genre/probs/14" not in before
        assert [a for _, a in td.of("/s2s/meta/labels/genre/probs")][-1] == list(LABELS10)
        # Wekinator: the same K before and after, names re-sent after the model's labels
        w = recs["wekinator"]
        names = [a for _, a in w.of("/wekinator/control/setInputNames")]
        assert len(names) >= 2 and all(len(n) == WEK_K for n in names)
        assert names[0][:16] == [f"genre_{x}" for x in LABELS14] + ["genre_14", "genre_15"]
        assert names[-1][:16] == [f"genre_{x}" for x in LABELS10] + [f"genre_{k}" for k in range(10, 16)]
        assert names[0][16:] == names[-1][16:]
        vecs = w.of("/wek/inputs")
        assert vecs and all(len(v) == WEK_K for _, v in vecs)
        late = [v for t, v in vecs if t > t_swap + 1.0]
        assert late and all(v[10:16] == [0.0] * 6 for v in late) and all(sum(v[:10]) > 0.5 for v in late)
        early = [v for t, v in vecs if t < t_swap][-3:]
        assert early and all(sum(v[:14]) > 0.5 for v in early)
    finally:
        for r in recs.values():
            r.close()
