"""Control-port security (issue 12): the run-time target policy and the reply budget.

The target-policy test names public, private, broadcast, multicast, unspecified and
IPv4-mapped addresses. It runs in a network namespace that has only loopback
(``unshare -n``, see /work/shared/testing.md "Network-safety tests"): if the policy ever let
one through, its stream could not leave the machine. The test re-runs itself there through
``unshare``; inside, it first proves that nothing but loopback is routable.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import struct
import subprocess
import sys
import time

import pytest
from helpers import OSCRecorder, free_port, have, require
from test_control import Client

from s2s_live.cli import build_parser, config_from_args, main
from s2s_live.config import Config
from s2s_live.osc.control import ControlServer
from s2s_live.engine import Engine
from s2s_live.errors import ConfigError
from s2s_live.osc import REPLY_BURST, REPLY_RATE, ReplyBudget, decode_message, encode_message, target_refusal

IN_NETNS = os.environ.get("S2S_NETNS") == "1"


def _rerun_in_netns(test_name: str) -> None:
    """Run this module's ``test_name`` again in a loopback-only network namespace."""
    require(have("unshare") and have("ip") and os.geteuid() == 0,
            "unshare -n (util-linux, iproute2, root) is needed for the network-safety test")
    import s2s_live

    root = os.path.dirname(os.path.dirname(os.path.abspath(s2s_live.__file__)))  # the code under test
    cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
           sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::{test_name}"]
    env = dict(os.environ, S2S_NETNS="1", PYTHONPATH=os.pathsep.join(
        [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=root)
    assert r.returncode == 0, (r.stdout[-4000:], r.stderr[-2000:])
    assert " passed" in r.stdout and "skipped" not in r.stdout, r.stdout[-2000:]


def _assert_loopback_only() -> None:
    """A UDP connect() only looks the route up (nothing is sent): it must find none."""
    for fam, dest in ((socket.AF_INET, ("192.0.2.1", 9)), (socket.AF_INET6, ("2001:db8::1", 9))):
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            with pytest.raises(OSError) as exc:
                s.connect(dest)
            assert exc.value.errno in (errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.EHOSTUNREACH)


REFUSED = ["8.8.8.8", "192.0.2.99", "10.1.2.3", "255.255.255.255", "198.51.100.255", "224.0.0.1",
           "239.7.7.8", "0.0.0.0", "::", "::ffff:0.0.0.0", "::ffff:8.8.8.8", "::ffff:198.51.100.255",
           "ff02::1", "fe80::1", "2001:db8::1"]


def test_runtime_targets_loopback_only_unless_allowed():
    if not IN_NETNS:
        _rerun_in_netns("test_runtime_targets_loopback_only_unless_allowed")
        return
    _assert_loopback_only()
    rec = OSCRecorder()
    # 192.0.2.30 is given at start: the user's own choice, never restricted.
    eng = Engine(Config(source="synth", targets=[f"127.0.0.1:{rec.port}", "192.0.2.30:9000"],
                        control_port=free_port(), visuals="none",
                        targets_allow=["198.51.100.0/24", "239.7.7.7"]))
    eng.start()
    c = Client(eng.control.port)
    try:
        ctl = eng.control
        specs0 = [t.spec for t in eng.osc.targets]
        assert "192.0.2.30:9000:s2s" in specs0
        r0, b0 = ctl.counters.get("targets_refused", 0), ctl.counters["bad"]
        for host in REFUSED:
            reply = c.ask("/s2s/targets/add", "si", host, 9000, want="/s2s/error")
            assert reply is not None, host
            where, why = reply[2]
            assert where == "/s2s/targets/add" and "\n" not in why, why
            assert f"host={host!r}" in why and ("not an allowed run-time target" in why or "unspecified" in why), why
            if "unspecified" not in why:
                assert "198.51.100.0/24" in why and "loopback" in why  # names the accepted range
        assert ctl.counters["targets_refused"] == r0 + len(REFUSED)
        assert ctl.counters["bad"] == b0 + len(REFUSED)
        assert [t.spec for t in eng.osc.targets] == specs0  # nothing was added

        # allowed: loopback (also IPv4-mapped, sent as IPv4), the allow-list, the user's own target
        port = free_port()
        assert c.ask("/s2s/targets/add", "si", "::ffff:127.0.0.1", port, want="/s2s/ack")[2] == \
            ["/s2s/targets/add", "127.0.0.1", port, "s2s"]
        assert c.ask("/s2s/targets/add", "si", "198.51.100.20", 9000, want="/s2s/ack") is not None
        assert c.ask("/s2s/targets/add", "si", "239.7.7.7", 9000, want="/s2s/ack") is not None
        assert c.ask("/s2s/targets/add", "sis", "192.0.2.30", 9000, "max", want="/s2s/ack") is not None
        specs = {t.spec for t in eng.osc.targets}
        assert {f"127.0.0.1:{port}:s2s", "198.51.100.20:9000:s2s", "239.7.7.7:9000:s2s",
                "192.0.2.30:9000:max"} <= specs
        # without an allow-list only loopback is accepted
        srv = ControlServer(eng, host="127.0.0.1", port=0, targets_allow=[])
        srv.start()
        c2 = Client(srv.port)
        try:
            why = c2.ask("/s2s/targets/add", "si", "198.51.100.21", 9000, want="/s2s/error")[2][1]
            assert "(now: none)" in why and srv.counters["targets_refused"] == 1
        finally:
            c2.close()
            srv.stop()
        assert "198.51.100.21:9000:s2s" not in {t.spec for t in eng.osc.targets}
    finally:
        c.close()
        eng.stop()
        rec.close()


def test_target_policy_unit():
    from s2s_live.config import target_networks

    allow = target_networks(["198.51.100.0/24", "239.7.7.7", "ff05::/16", "::ffff:192.0.2.5"])
    for ip in ("127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "198.51.100.1", "239.7.7.7", "ff05::2",
               "192.0.2.5", "::ffff:192.0.2.5"):
        assert target_refusal(ip, allow) is None, ip
    for ip in REFUSED + ["192.0.2.6"]:
        assert target_refusal(ip, allow) is not None, ip
    assert target_refusal("198.51.100.1") is not None  # no allow-list: loopback only


def test_allow_target_flag_and_config_key(tmp_path, capsys):
    args = build_parser().parse_args(["run", "--synth", "--allow-target", "10.0.0.0/24",
                                      "--allow-target", "239.1.2.3"])
    assert config_from_args(args).targets_allow == ["10.0.0.0/24", "239.1.2.3"]
    f = tmp_path / "show.toml"
    f.write_text('targets_allow = ["192.168.1.20"]\n')
    assert Config.from_toml(f).targets_allow == ["192.168.1.20"]
    for bad in (["0.0.0.0/0"], ["::"], ["example.com"], "10.0.0.1", [5]):
        with pytest.raises(ConfigError, match="targets_allow"):
            Config(targets_allow=bad).validate()
    assert main(["run", "--synth", "--allow-target", "0.0.0.0", "--seconds", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "targets_allow entry '0.0.0.0'" in err and "CIDR" in err


# -- reply budget -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eng():
    rec = OSCRecorder()
    e = Engine(Config(source="synth", targets=[f"127.0.0.1:{rec.port}"], control_port=free_port(),
                      visuals="none"))
    e.start()
    yield e
    e.stop()
    rec.close()


def _bundle(msgs: list[bytes]) -> bytes:
    return b"#bundle\0" + b"\0" * 7 + b"\1" + b"".join(struct.pack(">i", len(m)) + m for m in msgs)


def _drain(sock: socket.socket, quiet: float = 0.5, limit: float = 10.0) -> tuple[int, list, float]:
    """Bytes and messages that arrive until ``quiet`` seconds pass without one."""
    sock.settimeout(quiet)
    total, msgs, t_end, deadline = 0, [], time.monotonic(), time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        total += len(data)
        msgs.append(decode_message(data))
        t_end = time.monotonic()
    return total, msgs, t_end


def test_reply_budget_bounds_amplification(eng):
    c = Client(eng.control.port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # keep every reply that comes
    try:
        ctl = eng.control
        time.sleep(REPLY_BURST / REPLY_RATE + 0.2)  # whatever this sender used before has refilled
        meta = _bundle([encode_message("/s2s/meta", "", [])] * 64)
        assert len(meta) < 2000
        r0 = dict(ctl.counters)
        t0 = time.monotonic()
        for _ in range(4):  # 4 x 64 meta blocks asked for: ~1.1 MB without a budget
            c.raw(meta)
        total, msgs, t_end = _drain(c.sock)
        # the first block arrives whole; the rest is refused, counted and said once per message
        addrs = [a for a, _, _ in msgs]
        assert addrs[0] == "/s2s/meta/version" and "/s2s/meta/done" in addrs
        assert total <= REPLY_BURST + REPLY_RATE * (t_end - t0), (total, t_end - t0)
        one_block = addrs.index("/s2s/meta/done") + 1
        passed = addrs.count("/s2s/meta/done")
        assert passed * 4000 <= REPLY_BURST + REPLY_RATE * (t_end - t0)
        refused = ctl.counters["replies_refused"] - r0["replies_refused"]
        assert refused == (4 * 64 - passed) * one_block  # every block not sent is counted
        assert ctl.counters["reply_bytes_refused"] - r0["reply_bytes_refused"] > 500_000
        errs = [args for a, _, args in msgs if a == "/s2s/error"]
        assert errs and "reply budget" in errs[0][1] and "bytes/s per sender" in errs[0][1]
        # status counts it; after a moment the same sender is answered again
        time.sleep(0.5)
        assert c.ask("/s2s/ping") == ("/s2s/pong", "", [])
        c.send("/s2s/status")
        _, got, _ = _drain(c.sock)
        s = json.loads(next(args for a, _, args in got if a == "/s2s/status")[0])
        assert s["control"]["replies_refused"] >= refused
    finally:
        c.close()


def test_reply_budget_is_per_sender_and_bounded():
    t = [0.0]
    b = ReplyBudget(1000, 2000, max_senders=4, clock=lambda: t[0])
    assert b.take("a", 2000) and not b.take("a", 1)
    assert b.take("b", 2000)  # another sender has its own bucket
    t[0] = 0.5
    assert b.take("a", 500) and not b.take("a", 1)
    for k in range(100):  # many (spoofed) senders: the table stays bounded
        b.take(f"10.0.0.{k}", 10)
    assert len(b._b) <= 4
    with pytest.raises(ValueError):
        ReplyBudget(0, 10)
