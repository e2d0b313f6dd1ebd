"""10,000 random and malformed datagrams at the control port while the engine streams.

No crash, no frame missed beyond the idle baseline, every datagram counted in exactly one bucket.
The generator is plain seeded random (reproducible): raw garbage, oversize datagrams, valid
addresses with random arguments, mutations (truncation, bit flips) of valid messages, bundles.
``/s2s/hop`` with a valid value is left out on purpose: it legitimately changes the frame rate
the test compares against (its argument checking is covered by test_control.py).
"""

from __future__ import annotations

import ipaddress
import socket
import time

import hostile
from helpers import OSCRecorder, free_port

from s2s_live.config import Config
from s2s_live.osc.control import MAX_DATAGRAM
from s2s_live.engine import Engine
from s2s_live.osc import encode_message

N = 10_000


def test_fuzz_control_port_while_streaming():
    # every 1000th: a well-formed targets/add of a hostile destination (they send nothing off the
    # machine even if accepted: 0.0.0.0 is this host, a broadcast is refused by the target policy)
    datagrams = hostile.osc_datagrams(N, seed=1234, max_datagram=MAX_DATAGRAM)
    rec = OSCRecorder()
    eng = Engine(Config(source="synth", targets=[f"127.0.0.1:{rec.port}"], control_port=free_port(),
                        visuals="none", hop=0.25))
    eng.start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    try:
        assert rec.wait_for("/s2s/frame", 2, timeout=20)
        a = eng.pipeline.assembler
        # idle baseline
        f0, d0, t0 = a.frames, a.dropped, time.perf_counter()
        time.sleep(2.0)
        f1, d1, t1 = a.frames, a.dropped, time.perf_counter()
        # fuzz over ~3 s of streaming, paced so that the kernel never drops a datagram before the
        # server reads it (then "all counted" is exact)
        ctl = eng.control
        start_received = ctl.counters["received"]
        for i in range(0, N, 100):
            for d in datagrams[i : i + 100]:
                client.sendto(d, ("127.0.0.1", ctl.port))
            deadline = time.time() + 10
            while ctl.counters["received"] - start_received < i + 100 and time.time() < deadline:
                time.sleep(0.001)
            time.sleep(0.03)
        f2, d2, t2 = a.frames, a.dropped, time.perf_counter()
        assert eng.running and eng._thread.is_alive()
        c = ctl.counters
        assert c["received"] - start_received == N
        assert c["received"] == c["handled"] + c["bad"] + c["malformed"] + c["oversize"] + c["denied"]
        assert c["malformed"] > 1000 and c["bad"] > 1000 and c["oversize"] > 100
        # no frames missed beyond the idle baseline (scaled to the fuzz duration)
        idle_rate = (d1 - d0) / (t1 - t0)
        assert d2 - d1 <= idle_rate * (t2 - t1) + 2, (d2 - d1, idle_rate)
        assert f2 - f1 >= 0.5 * (t2 - t1) / 0.25 - 1  # frames kept coming (loose: not a timing test)
        # still answering, still streaming, nothing settled outside the documented ranges
        client.settimeout(0.2)
        while True:  # drain the error replies the fuzz produced
            try:
                client.recv(65536)
            except socket.timeout:
                break
        client.sendto(encode_message("/s2s/ping", "", []), ("127.0.0.1", ctl.port))
        deadline = time.time() + 3
        pong = False
        while time.time() < deadline and not pong:
            try:
                pong = client.recv(65536).startswith(b"/s2s/pong")
            except socket.timeout:
                pass
        assert pong
        assert eng.cfg.hop == 0.25 and 0.0 <= eng.cfg.smoothing <= 0.99
        # the fuzz names 255.255.255.255 and 0.0.0.0 as hosts: only loopback targets were added
        assert all(ipaddress.ip_address(t.addr[0]).is_loopback for t in eng.osc.targets), \
            [t.spec for t in eng.osc.targets]
        assert c["targets_refused"] > 0
        n = len(rec.of("/s2s/frame"))
        time.sleep(0.6)
        assert len(rec.of("/s2s/frame")) > n
    finally:
        client.close()
        eng.stop()
        rec.close()
