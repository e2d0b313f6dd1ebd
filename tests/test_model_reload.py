"""Model reloads retain nothing at the Python level (issue 12: "each /s2s/model/load leaves ~19 KB").

Measured with ``scripts/measure_reload.py``: Python allocations do
not grow with the number of reloads; what RSS gains is glibc holding freed native memory of
onnxruntime's sessions in its arenas (it levels off and ``malloc_trim`` returns most of it). These
tests pin the Python side: after a warm-up, the memory traced by ``tracemalloc`` after N1 and N2
reloads differs by far less than one model's card, so nothing per reload is kept (a list of old
models, cards, sessions or describe() dicts would be caught at the first reload kept).
"""

from __future__ import annotations

import socket
import tracemalloc

from helpers import OSCRecorder, free_port

from s2s_live.config import DEFAULT_MODELS_DIR, Config
from s2s_live.inference import ModelHost
from s2s_live.osc_out import decode_message, encode_message

#: Allowed growth per reload between the two samples. One kept card alone is ~40 KB, one kept
#: session wrapper ~12 KB; measured growth is ~7 bytes per reload (1,500 reloads: +11 KB).
BYTES_PER_RELOAD = 512


def _traced(filters=None) -> int:
    snap = tracemalloc.take_snapshot()
    if filters:
        snap = snap.filter_traces(filters)
    return sum(s.size for s in snap.statistics("filename"))


def test_model_host_reloads_keep_no_python_objects():
    host = ModelHost(DEFAULT_MODELS_DIR)
    host.add("emotion", "emotion")
    for _ in range(10):  # warm-up: caches that fill once (imports, interned strings, ORT wrappers)
        host.load("emotion", "emotion")
    tracemalloc.start(8)
    try:
        for _ in range(20):
            host.load("emotion", "emotion")
        a = _traced()
        n = 100
        for _ in range(n):
            host.load("emotion", "emotion")
        b = _traced()
    finally:
        tracemalloc.stop()
    assert host.slots["emotion"].model_name == "emotion"
    assert b - a < BYTES_PER_RELOAD * n, f"{n} reloads kept {b - a} bytes of Python objects ({(b - a) / n:.0f} B each)"


def test_reloads_through_the_control_port_keep_no_python_objects():
    """/s2s/model/load on a running engine (the path the issue measured): the load, the profiles'
    re-binding and the meta block sent to every target. Only allocations made on the way through
    the control server are compared (the analysis thread's buffers come and go meanwhile)."""
    from s2s_live.engine import Engine

    rec, wek = OSCRecorder(), OSCRecorder()
    ctl = free_port()
    eng = Engine(Config(source="synth", visuals="none", control_port=ctl, hop=0.25, quiet=True,
                        targets=[f"127.0.0.1:{rec.port}:s2s", f"127.0.0.1:{wek.port}:wekinator"]))
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(30)
    msg = encode_message("/s2s/model/load", "ss", ["emotion", "emotion"])

    def reload(k: int) -> None:
        for _ in range(k):
            client.sendto(msg, ("127.0.0.1", ctl))
            while True:
                addr, _, args = decode_message(client.recv(65536))
                assert addr != "/s2s/error", args
                if addr == "/s2s/ack" and args[0] == "/s2s/model/load":
                    break

    only_control = [tracemalloc.Filter(True, "*s2s_live/control.py", all_frames=True)]
    eng.start()
    try:
        assert rec.wait_for("/s2s/frame", count=4, timeout=30)
        reload(10)
        tracemalloc.start(40)  # deep enough to see the control server's frame under any allocation
        try:
            reload(10)
            a = _traced(only_control)
            n = 40
            reload(n)
            b = _traced(only_control)
        finally:
            tracemalloc.stop()
        assert rec.wait_for("/s2s/frame", count=len(rec.of("/s2s/frame")) + 2, timeout=30)  # still streaming
        assert len(rec.of("/s2s/meta/done")) > 60 and len(wek.of("/wekinator/control/setInputNames")) > 60
    finally:
        eng.stop()
        client.close()
        rec.close()
        wek.close()
    assert b - a < BYTES_PER_RELOAD * n, f"{n} reloads kept {b - a} bytes of Python objects ({(b - a) / n:.0f} B each)"
