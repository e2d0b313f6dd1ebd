"""First-frame time of ``s2s-live demo`` with a cold and a warm kernel cache.

    python scripts/bench_startup.py [--repeat 3] [--json startup.json]

Each run starts the real CLI (``python -m s2s_live demo``) in a subprocess with its own
``NUMBA_CACHE_DIR`` and free ports, and measures the wall time from launching it to the first
``/s2s/frame`` datagram arriving on a UDP socket here (and to the "preparing DSP kernels" line,
when there is one). Three cases:

* cold: an empty cache folder, as on a fresh machine or after an upgrade without the install
  script;
* warmup: ``s2s-live warmup`` into another empty folder (what ``scripts/install.sh`` runs), timed;
* warm: the demo with that folder, ``--repeat`` times (the first start after the README's install).

The machine's core count, CPU model and load average are printed beside the figures: the cold
figure is mostly compile time and grows with load from other processes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from s2s_live.osc.ports import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 240.0  #: seconds a run may take before it counts as failed


def run_demo(cache: str) -> dict:
    """Start the demo with ``cache`` as NUMBA_CACHE_DIR; seconds to the message and first frame."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "s2s_live", "demo", "--target", f"127.0.0.1:{rx.getsockname()[1]}",
           "--control-port", str(free_port(socket.SOCK_DGRAM)), "--web-port", str(free_port(socket.SOCK_STREAM)),
           "--quiet", "--seconds", "1"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: dict[str, float] = {}
    lines: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            lines.append(line.rstrip())
            if line.startswith("preparing DSP kernels") and "message" not in seen:
                seen["message"] = time.perf_counter() - t0

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    first = None
    try:
        while time.perf_counter() - t0 < TIMEOUT and proc.poll() is None:
            try:
                data, _ = rx.recvfrom(65536)
            except socket.timeout:
                continue
            if data.split(b"\0", 1)[0] == b"/s2s/frame":
                first = time.perf_counter() - t0
                break
        proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        rx.close()
        reader.join(timeout=5)
    if first is None:
        raise RuntimeError(f"no /s2s/frame from the demo (rc {proc.returncode}): {' / '.join(lines[-5:])}")
    return {"first_frame_s": round(first, 2), "message_s": round(seen["message"], 2) if "message" in seen else None,
            "rc": proc.returncode}


def run_warmup(cache: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, HF_HUB_OFFLINE="1")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "s2s_live", "warmup", "--quiet"], cwd=ROOT, env=env, check=True,
                   timeout=TIMEOUT * 2)
    return round(time.perf_counter() - t0, 1)


def machine() -> dict:
    model = ""
    try:
        model = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "")
    except OSError:
        pass
    import numba

    return {"cores": os.cpu_count(), "cpu": model or platform.processor(), "os": platform.platform(),
            "python": platform.python_version(), "numba": numba.__version__,
            "loadavg_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="warm runs (default 3)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--skip-cold", action="store_true", help="only the warm-up and the warm runs")
    args = ap.parse_args()
    info = machine()
    print(f"machine: {info['cores']} cores, {info['cpu']}, {info['os']}, python {info['python']}, "
          f"numba {info['numba']}, load {info['loadavg_1min']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="s2s_cold_") as cold, tempfile.TemporaryDirectory(prefix="s2s_warm_") as warm:
        c = {"first_frame_s": float("nan"), "message_s": None}
        if not args.skip_cold:
            c = run_demo(cold)
            print(f"cold   first frame {c['first_frame_s']:6.2f} s   (message after {c['message_s']} s)", flush=True)
        w_s = run_warmup(warm)
        print(f"warmup {w_s:6.1f} s", flush=True)
        ws = [run_demo(warm) for _ in range(args.repeat)]
        for w in ws:
            print(f"warm   first frame {w['first_frame_s']:6.2f} s   (message: {'yes' if w['message_s'] else 'none'})",
                  flush=True)
    med = statistics.median(w["first_frame_s"] for w in ws)
    res = {"machine": info, "cold": c, "warmup_s": w_s, "warm": ws, "warm_median_s": med,
           "load_after": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}
    cold = "—" if c["first_frame_s"] != c["first_frame_s"] else f"{c['first_frame_s']:.1f} s"  # skipped: no figure
    print(f"| {cold} | {w_s:.1f} s | {med:.1f} s (median of {len(ws)}) |")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
