"""The control server against real UDP clients (a Python socket and liblo's oscsend)."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import time

import pytest
from helpers import OscDump, OSCRecorder, free_port, have, require

from s2s_live.config import Config
from s2s_live.osc.control import MAX_DATAGRAM, ControlServer
from s2s_live.engine import Engine
from s2s_live.errors import CommandError, OSCError
from s2s_live.osc import check_args, decode_message, encode_message


class Client:
    """A control client: its own UDP socket, so replies come back to it."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.dest = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)

    def send(self, address: str, tags: str = "", *args) -> None:
        self.sock.sendto(encode_message(address, tags, list(args)), self.dest)

    def raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.dest)

    def recv(self, timeout: float = 3.0) -> list[tuple[str, str, list]]:
        """Everything that arrives until ``timeout`` passes without a datagram."""
        out, deadline = [], time.time() + timeout
        while time.time() < deadline:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                if out:
                    break
                continue
            out.append(decode_message(data))
        return out

    def ask(self, address: str, tags: str = "", *args, want: str | None = None, timeout: float = 3.0):
        """Send and return the first reply (or the first with address ``want``)."""
        self.send(address, tags, *args)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                m = decode_message(self.sock.recv(65536))
            except socket.timeout:
                continue
            if want is None or m[0] == want:
                return m
        return None

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def eng():
    rec = OSCRecorder()
    e = Engine(Config(source="synth", targets=[f"127.0.0.1:{rec.port}"], control_port=free_port(),
                      visuals="none", hop=0.25))
    e.start()
    e.rec = rec
    assert rec.wait_for("/s2s/frame", 2, timeout=20)
    yield e
    e.stop()
    rec.close()


@pytest.fixture
def client(eng):
    c = Client(eng.control.port)
    yield c
    c.close()


def test_binds_loopback_only_by_default(eng):
    assert eng.control.sock.getsockname()[0] == "127.0.0.1"
    assert eng.control.wek_sock is None  # the Wekinator listener is off unless configured


def test_ping_pong_and_meta(client, eng):
    assert client.ask("/s2s/ping") == ("/s2s/pong", "", [])
    client.send("/s2s/meta")
    meta = client.recv()
    addrs = [a for a, _, _ in meta]
    assert addrs[0] == "/s2s/meta/version" and addrs[-1] == "/s2s/meta/done"
    outs = {args[0] for a, _, args in meta if a == "/s2s/meta/output"}
    assert {"/s2s/level", "/s2s/features/centroid"} <= outs
    assert meta[-1][2] == [len(outs)]


def test_status(client, eng):
    client.send("/s2s/status")
    got = {a: args for a, _, args in client.recv()}
    s = json.loads(got["/s2s/status"][0])
    assert s["counters"]["frames"] >= 1 and "control" in s and s["hop"] == eng.cfg.hop
    frames, dropped, overflows = got["/s2s/status/frames"]
    assert frames >= 1 and dropped >= 0


def test_hop_changes_frame_spacing_via_oscsend(eng):
    require(have("oscsend"), "liblo-tools (oscsend) is not installed")
    rec = eng.rec
    try:
        for hop in (0.5, 0.125):
            subprocess.run(["oscsend", "localhost", str(eng.control.port), "/s2s/hop", "f", str(hop)],
                           check=True, timeout=10)
            deadline = time.time() + 5
            while time.time() < deadline and eng.cfg.hop != hop:
                time.sleep(0.02)
            assert eng.cfg.hop == hop
            rec.clear()
            frames = rec.wait_for("/s2s/frame", 6, timeout=15)
            times = [args[1] for _, args in frames][1:]  # the first may straddle the change
            steps = {round(b - a, 4) for a, b in zip(times, times[1:])}
            assert steps == {hop}, steps  # stream time between frames is exactly the hop
    finally:
        eng.set_hop(0.25)


def test_targets_add_remove_via_oscsend(client, eng):
    require(have("oscsend") and have("oscdump"), "liblo-tools is not installed")
    dump = OscDump()
    try:
        subprocess.run(["oscsend", "localhost", str(eng.control.port), "/s2s/targets/add", "sis",
                        "127.0.0.1", str(dump.port), "max"], check=True, timeout=10)
        deadline = time.time() + 10
        while time.time() < deadline and "/s2s/frame" not in dump.types_of():
            time.sleep(0.05)
        seen = dump.types_of()
        assert "/s2s/meta/version" in seen and "/s2s/frame" in seen and "/s2s/level" in seen
        assert f"127.0.0.1:{dump.port}:max" in [t.spec for t in eng.osc.targets]
        assert client.ask("/s2s/targets/remove", "si", "127.0.0.1", dump.port) == \
            ("/s2s/ack", "ssi", ["/s2s/targets/remove", "127.0.0.1", dump.port])
        assert all(t.port != dump.port for t in eng.osc.targets)
    finally:
        eng.osc.remove_target("127.0.0.1", dump.port)
        dump.stop()


def test_acks_and_float_integers(client, eng):
    assert client.ask("/s2s/smoothing", "f", 0.7) == ("/s2s/ack", "sf", ["/s2s/smoothing", pytest.approx(0.7)])
    assert eng.cfg.smoothing == pytest.approx(0.7)
    port = free_port()
    # Pd and Max send numbers as floats: an integral float is accepted as an int
    assert client.ask("/s2s/targets/add", "sfs", "localhost", float(port), "touchdesigner:raw") == \
        ("/s2s/ack", "ssis", ["/s2s/targets/add", "127.0.0.1", port, "touchdesigner:raw"])
    assert client.ask("/s2s/targets/remove", "si", "127.0.0.1", port)[0] == "/s2s/ack"


BAD = [
    (("/s2s/nope", ""), "unknown control address"),
    (("/s2s/ping", "i", 1), "takes 0 argument"),
    (("/s2s/hop", ""), "takes 1 argument"),
    (("/s2s/hop", "s", "fast"), "finite number"),
    (("/s2s/hop", "f", 7.0), "hop=7.0 is out of range"),
    (("/s2s/hop", "f", float("nan")), "finite number"),
    (("/s2s/hop", "f", -0.1), "out of range"),
    (("/s2s/smoothing", "f", 1.5), "smoothing=1.5 is out of range"),
    (("/s2s/smoothing", "ff", 0.5, 0.5), "takes 1 argument"),
    (("/s2s/targets/add", "si", "example.com", 9000), "IPv4/IPv6 address"),
    (("/s2s/targets/add", "si", "127.0.0.1", 0), "port=0 is out of range"),
    (("/s2s/targets/add", "si", "127.0.0.1", 70000), "out of range"),
    (("/s2s/targets/add", "sf", "127.0.0.1", 9000.5), "must be an integer"),
    (("/s2s/targets/add", "sis", "127.0.0.1", 9000, "pd"), "unknown"),
    (("/s2s/targets/add", "sisi", "127.0.0.1", 9000, "s2s", 1), "takes 2..3"),
    (("/s2s/targets/remove", "si", "127.0.0.1", 1), "no target"),
    (("/s2s/visuals/generate", ""), "visuals are off"),
    (("/s2s/visuals/generate", "s", "x" * 600), "at most 500"),
    (("/s2s/visuals/auto", "i", 2), "out of range"),
    (("/s2s/visuals/interval", "f", 0.1), "out of range"),
    (("/s2s/model/load", "ss", "genre", "../../etc"), "never a path"),
    (("/s2s/model/load", "ss", "genre", "/etc/passwd"), "never a path"),
    (("/s2s/model/load", "ss", "genre", "a/b"), "never a path"),
    (("/s2s/model/load", "ss", "genre", ".."), "never a path"),
    (("/s2s/model/load", "ss", "../genre", "x"), "slot="),
    (("/s2s/model/load", "s", "genre"), "takes 2 argument"),
    (("/s2s/visuals/generate", "s", "a\x01b"), "control characters"),
]


@pytest.mark.parametrize("msg,reason", BAD, ids=[f"{m[0]}-{r[:14]}" for m, r in BAD])
def test_bad_input_gets_error_and_counter(client, eng, msg, reason):
    before = dict(eng.control.counters)
    hop, smoothing, ntargets = eng.cfg.hop, eng.cfg.smoothing, len(eng.osc.targets)
    reply = client.ask(*msg, want="/s2s/error")
    assert reply is not None and reply[0] == "/s2s/error", reply
    where, why = reply[2]
    assert where == msg[0] and reason in why, why
    assert eng.control.counters["bad"] == before["bad"] + 1
    assert (eng.cfg.hop, eng.cfg.smoothing, len(eng.osc.targets)) == (hop, smoothing, ntargets)


def test_model_names_never_touch_files_outside_models(client, eng, tmp_path):
    secret = tmp_path / "card.json"
    secret.write_text("{}")
    for name in (str(tmp_path), f"../{tmp_path.name}", "~root", "models/../x"):
        reply = client.ask("/s2s/model/load", "ss", "genre", name, want="/s2s/error")
        assert reply is not None
        assert "never a path" in reply[2][1] or "no model host" in reply[2][1] or "not found" in reply[2][1]


def test_malformed_and_oversize_are_dropped_and_counted(client, eng):
    c0 = dict(eng.control.counters)
    client.raw(b"garbage!")
    client.raw(b"/s2s/ping\0\0\0,q\0\0")
    client.raw(encode_message("/s2s/ping", "", []) + b"\0\0\0\0")
    client.raw(b"/s2s/hop" + b"\0" * (MAX_DATAGRAM + 8))
    assert client.ask("/s2s/ping") == ("/s2s/pong", "", [])  # still serving; nothing else came back
    c = eng.control.counters
    assert c["malformed"] == c0["malformed"] + 3 and c["oversize"] == c0["oversize"] + 1


def test_bundles_are_executed(client, eng):
    import struct

    m1, m2 = encode_message("/s2s/ping", "", []), encode_message("/s2s/ping", "", [])
    b = b"#bundle\0" + b"\0" * 7 + b"\1" + struct.pack(">i", len(m1)) + m1 + struct.pack(">i", len(m2)) + m2
    client.raw(b)
    got = client.recv()
    assert [a for a, _, _ in got] == ["/s2s/pong", "/s2s/pong"]


def test_allowlist_and_wekinator_listener(eng):
    wek = free_port()
    srv = ControlServer(eng, host="127.0.0.1", port=0, allow=["10.9.8.7"], wek_port=wek)
    srv.start()
    c = Client(srv.port)
    try:
        c.send("/s2s/ping")
        assert c.recv(timeout=0.5) == []  # denied silently
        srv.allow = None
        assert c.ask("/s2s/ping") == ("/s2s/pong", "", [])
        w = Client(wek)
        w.send("/wek/outputs", "fff", 0.1, 0.5, 0.9)
        w.send("/wek/outputs", "s", "x")  # refused, counted
        w.raw(b"junk")
        deadline = time.time() + 3
        while time.time() < deadline and srv.counters["wek"] < 1:
            time.sleep(0.02)
        time.sleep(0.1)
        assert srv.wek_values == pytest.approx([0.1, 0.5, 0.9])
        assert srv.counters["wek"] == 1 and srv.counters["denied"] == 1
        assert srv.counters["malformed"] >= 1 and srv.counters["bad"] >= 1
        w.close()
    finally:
        c.close()
        srv.stop()
    with pytest.raises(OSCError, match="in use"):
        ControlServer(eng, host="127.0.0.1", port=eng.control.port)


def test_check_args_unit():
    assert check_args([1, "a"], "fs", "x") == [1.0, "a"]
    assert check_args([3.0], "i", "x") == [3]
    assert check_args([], "[s]", "x") == []
    for bad, spec in (([True], "f"), ([float("inf")], "f"), ([2.5], "i"), ([1], "s"), ([], "f")):
        with pytest.raises(CommandError):
            check_args(bad, spec, "x")


def test_visuals_commands_with_real_controller():
    require(importlib.util.find_spec("s2s_live.visuals.controller") is not None,
            "s2s_live.visuals.controller is not available yet")
    rec = OSCRecorder()
    e = Engine(Config(source="synth", targets=[f"127.0.0.1:{rec.port}"], control_port=free_port(),
                      visuals="procedural", web_port=0, visuals_auto=False, out_dir=str(_tmp_out())))
    e.start()
    c = Client(e.control.port)
    try:
        assert c.ask("/s2s/visuals/auto", "i", 0) == ("/s2s/ack", "si", ["/s2s/visuals/auto", 0])
        assert c.ask("/s2s/visuals/interval", "f", 5.0)[0] == "/s2s/ack"
        assert c.ask("/s2s/visuals/generate", "s", "a red square")[0] == "/s2s/ack"
        started = rec.wait_for("/s2s/image/started", timeout=30)
        assert started and isinstance(started[0][1][0], int)
        assert rec.wait_for("/s2s/image", timeout=60)
    finally:
        c.close()
        e.stop()
        rec.close()


def _tmp_out():
    import tempfile

    return tempfile.mkdtemp(prefix="s2s_ctl_")
