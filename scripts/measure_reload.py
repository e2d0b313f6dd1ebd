#!/usr/bin/env python
"""What each ``/s2s/model/load`` leaves behind: RSS and Python allocations over N reloads.

    python scripts/measure_reload.py [--model emotion] [--reloads 400] [--warmup 50]
                                     [--path host|control] [--malloc-trim]

``--path host`` reloads through :meth:`ModelHost.load` (what the control server calls);
``--path control`` runs a real engine (synth source, no visuals) and sends
``/s2s/model/load SLOT MODEL`` to its control port, waiting for each ``/s2s/ack``.
After ``--warmup`` reloads it prints, every 100 reloads, the RSS growth, the growth of
Python-level allocations (tracemalloc, the whole process) and the glibc arena in use
(``mallinfo2``: uordblks = bytes malloc hands out, arena = bytes it holds from the kernel), then
the top tracemalloc differences. ``--malloc-trim`` calls ``malloc_trim(0)`` before each sample,
which separates memory the allocator keeps (fragmentation) from memory still in use.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import socket
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]


def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
        return libc
    except (OSError, AttributeError):
        return None


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-dir", default=str(REPO / "models"))
    ap.add_argument("--model", default="emotion")
    ap.add_argument("--slot", default=None, help="slot name (default: the model's kind)")
    ap.add_argument("--reloads", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--path", choices=("host", "control"), default="host")
    ap.add_argument("--malloc-trim", action="store_true")
    a = ap.parse_args()
    libc = _libc()
    slot = a.slot or ("genre" if a.model.startswith("genre") else a.model.split("-")[0])

    eng = client = None
    if a.path == "host":
        from s2s_live.inference import ModelHost

        host = ModelHost(a.models_dir)
        host.add(slot, a.model)

        def reload() -> None:
            host.load(slot, a.model)
    else:
        from s2s_live.config import Config
        from s2s_live.engine import Engine
        from s2s_live.osc import decode_message, encode_message

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the target: bound, never read
        sink.bind(("127.0.0.1", 0))
        eng = Engine(Config(source="synth", visuals="none", control_port=port, quiet=True,
                            targets=[f"127.0.0.1:{sink.getsockname()[1]}:s2s"], models_dir=a.models_dir))
        eng.start()
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.settimeout(30)
        msg = encode_message("/s2s/model/load", "ss", [slot, a.model])

        def reload() -> None:
            client.sendto(msg, ("127.0.0.1", port))
            while True:
                addr, _, args = decode_message(client.recv(65536))
                if addr == "/s2s/ack" and args and args[0] == "/s2s/model/load":
                    return
                if addr == "/s2s/error":
                    raise SystemExit(f"load failed: {args}")

    def sample() -> tuple[int, int, int, int]:
        gc.collect()
        if a.malloc_trim and libc is not None:
            libc.malloc_trim(0)
        mi = libc.mallinfo2() if libc is not None else None
        cur = tracemalloc.get_traced_memory()[0]
        return rss_kb(), cur, (mi.uordblks if mi else 0), (mi.arena if mi else 0)

    try:
        for _ in range(a.warmup):
            reload()
        tracemalloc.start(10)
        base = sample()
        snap0 = None
        print(f"path={a.path} model={a.model} slot={slot} warmup={a.warmup} malloc_trim={a.malloc_trim}")
        print(f"{'reloads':>8} {'RSS +KB':>9} {'py +KB':>8} {'malloc used +KB':>16} {'arena +KB':>10} {'KB/reload RSS':>14}")
        t0 = time.perf_counter()
        for i in range(1, a.reloads + 1):
            reload()
            if i % 100 == 0 or i == a.reloads:
                r, py, used, arena = sample()
                print(f"{i:8d} {r - base[0]:9d} {(py - base[1]) / 1024:8.1f} {(used - base[2]) / 1024:16.1f} "
                      f"{(arena - base[3]) / 1024:10.1f} {(r - base[0]) / i:14.2f}", flush=True)
                if snap0 is None:  # growth after the first 100 (the live model's own objects excluded)
                    snap0, i0 = tracemalloc.take_snapshot(), i
        dt = time.perf_counter() - t0
        snap1 = tracemalloc.take_snapshot()
        print(f"{a.reloads} reloads in {dt:.1f} s ({1e3 * dt / a.reloads:.1f} ms each)")
        print(f"top Python allocation growth from reload {i0} to {a.reloads} (tracemalloc, by line):")
        for st in snap1.compare_to(snap0, "lineno")[:8]:
            print(f"  {st.size_diff / 1024:+8.1f} KB {st.count_diff:+6d} blocks  {st.traceback[0]}")
    finally:
        if eng is not None:
            eng.stop()
        if client is not None:
            client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
