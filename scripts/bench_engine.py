#!/usr/bin/env python3
"""Benchmark the engine on a JACK dummy server: callback cost, decision latency, stage timings,
and overflow flags with the engine running vs an idle baseline in the same run.

    python scripts/bench_engine.py --seconds 60

Starts ``jackd -d dummy -r 48000 -p 256`` itself when no JACK server is running. The idle
baseline is a bare PortAudio input stream whose callback only counts, for the same duration.
Decision latency: the engine's capture timestamp of a frame's last sample -> the moment a
python-osc-parsing UDP receiver on loopback has the frame's /s2s/frame message.

    python scripts/bench_engine.py --soak 30 --variants visuals

The soak alternates, minute by minute in one run, the engine (kept alive for the whole run in
its own process) and an idle PortAudio stream whose callback only counts, so that the machine's
drift hits both; see :func:`soak` for the protocol and docs/benchmarks.md for the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from helpers import JackPlayer, JackServer, OSCRecorder, jack_running, reinit_portaudio  # noqa: E402


def _counting_callback(cnt: dict):
    """The idle stream's callback: counts callbacks and overflow flags into ``cnt``, nothing else."""

    def cb(indata, frames, t, status):  # noqa: ARG001
        if status.input_overflow:
            cnt["ovf"] += 1
        cnt["cb"] += 1

    return cb


def idle_baseline(seconds: float) -> dict:
    import sounddevice as sd

    cnt = {"cb": 0, "ovf": 0}
    cb = _counting_callback(cnt)
    with sd.InputStream(device="system", channels=2, samplerate=48000, blocksize=256, callback=cb):
        time.sleep(seconds)
    return cnt


# ---------------------------------------------------------------------------------------------
# The alternating soak (issue 17)

VARIANTS = ("engine", "visuals", "web")


def _proc_mem(pid: int | None) -> dict:
    """RSS (MB) and open file descriptors of a live process, from /proc (None when gone)."""
    if not pid:
        return {"rss_mb": None, "fds": None}
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration):
        return {"rss_mb": None, "fds": None}
    return {"rss_mb": round(rss, 2), "fds": fds}


def _cpu_times() -> list[int]:
    """The machine's aggregate CPU times from /proc/stat (user nice system idle iowait irq softirq steal)."""
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:9]]


def _cpu_share(t0: list[int], t1: list[int]) -> dict:
    """Busy and steal (time the hypervisor gave our vCPUs to others) shares between two samples, %."""
    d = [b - a for a, b in zip(t0, t1)]
    tot = max(1, sum(d))
    return {"busy_pct": round(100.0 * (tot - d[3] - d[4]) / tot, 1), "steal_pct": round(100.0 * d[7] / tot, 2)}


def soak_child(spec: dict) -> int:
    """The engine side of the soak, in its own process: one Engine kept alive for the whole run.

    Commands on stdin, one JSON answer per line on the saved stdout: ``snap`` (counters now),
    ``pause`` (close the capture stream: the capture process exits), ``resume`` (a fresh capture
    process reopens the device), ``stop``. Between ``pause`` and ``resume`` the parent SIGSTOPs
    this process and the visuals process, so nothing of s2s_live runs in the idle slots.
    """
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything the engine prints must not mix with the protocol
    from s2s_live.config import Config
    from s2s_live.engine import Engine

    v = spec["variant"]
    cfg = Config(source="device", device="system", targets=[f"127.0.0.1:{spec['osc_port']}"],
                 control_port=0, hop=spec["hop"], quiet=True,
                 visuals="none" if v == "engine" else "procedural",
                 web_port=spec.get("web_port", 0) if v == "web" else 0)
    if v != "engine":
        import tempfile

        cfg.update(visuals_auto=True, visuals_interval=1.0, visuals_min_interval=0.0,
                   out_dir=tempfile.mkdtemp(prefix="s2s_soak_"))
    eng = Engine(cfg).start()

    def snap(cb0: int | None = None) -> dict:
        src, a = eng.source, eng.pipeline.assembler
        cb_stats = None
        if cb0 is not None:  # the capture callback's own durations since callback cb0 (µs)
            n_cb, dur = src.counters()["callbacks"], src.cb_durations
            idx = np.arange(max(cb0, n_cb - dur.shape[0]), n_cb) % dur.shape[0]
            if idx.size:
                us = dur[idx] * 1e6
                cb_stats = {"n": int(us.size), "p50_us": round(float(np.percentile(us, 50)), 1),
                            "p999_us": round(float(np.percentile(us, 99.9)), 1), "max_us": round(float(us.max()), 1),
                            "over_1ms": int((us > 1000).sum())}
        tagger = next((p.stats() for p in eng.pipeline.processors if p.name == "tagger"), None)
        vis = eng.visuals.stats() if eng.visuals is not None else None
        return {"counters": src.counters(), "frames": a.frames, "dropped": a.dropped,
                "ring_overruns": src.ring.overruns, "tagger": tagger, "visuals": vis,
                "pid": os.getpid(), "capture_pid": src._proc.pid if src._proc is not None else None,
                "visuals_pid": vis.get("pid") if vis else None,
                "web_url": eng.visuals.url if eng.visuals is not None else None, "callback": cb_stats}

    proto.write(json.dumps({"ready": True, **snap()}) + "\n")
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "snap" and arg:
            proto.write(json.dumps(snap(int(arg))) + "\n")
            continue
        if cmd == "pause":
            eng.source.stop()
        elif cmd == "resume":
            eng.source.start()
        elif cmd == "stop":
            final = snap()
            eng.stop()
            proto.write(json.dumps(final) + "\n")
            return 0
        proto.write(json.dumps(snap()) + "\n")
    eng.stop()
    return 0


class _EngineProc:
    """The parent's handle on one soak child (one variant)."""

    def __init__(self, variant: str, *, osc_port: int, hop: float, web_port: int) -> None:
        self.variant = variant
        spec = {"variant": variant, "osc_port": osc_port, "hop": hop, "web_port": web_port}
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--soak-child", json.dumps(spec)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.last = self._read()
        self.stopped = False

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"soak child ({self.variant}) exited with {self.proc.wait()}")
        return json.loads(line)

    def ask(self, cmd: str) -> dict:
        self.proc.stdin.write(cmd + "\n")
        self.last = self._read()
        return self.last

    def _signal(self, sig) -> None:
        # the visuals process first on SIGSTOP (it waits on the engine's queue), last on SIGCONT
        pids = [self.last.get("visuals_pid"), self.proc.pid]
        for pid in (pids if sig == signal.SIGSTOP else pids[::-1]):
            if pid:
                os.kill(pid, sig)

    def pause(self) -> None:
        self.ask("pause")
        self._signal(signal.SIGSTOP)
        self.stopped = True

    def resume(self) -> dict:
        self._signal(signal.SIGCONT)
        self.stopped = False
        return self.ask("resume")

    def mem(self) -> dict:
        """RSS / fds of the engine process, its visuals process and its capture process."""
        s = self.last
        out = {k: _proc_mem(s.get(p)) for k, p in (("engine", "pid"), ("visuals", "visuals_pid"),
                                                   ("capture", "capture_pid"))}
        # the capture process is a fresh one in every engine slot: its RSS is no leak measure
        out["total_rss_mb"] = round(sum(out[k]["rss_mb"] or 0 for k in ("engine", "visuals")), 2)
        return out

    def close(self) -> dict | None:
        if self.stopped:
            self._signal(signal.SIGCONT)
        try:
            return self.ask("stop")
        except (RuntimeError, OSError, ValueError):
            return None
        finally:
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class _Drain(threading.Thread):
    """A UDP socket on loopback that counts the engine's OSC datagrams (the receiving app)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.n = 0
        self.halt = threading.Event()
        self.start()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                self.sock.recv(65536)
                self.n += 1
            except socket.timeout:
                continue
            except OSError:
                return


class _LiveClient(threading.Thread):
    """A WebSocket client of the web viewer that asks for the live frames and counts them
    (what an open browser tab costs the visuals process)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.frames = 0
        self.error = ""
        self.reconnects = 0
        self.halt = threading.Event()
        self.start()

    def run(self) -> None:
        from websockets.sync.client import connect

        host = self.url.split("//", 1)[1].split("/", 1)[0]
        while not self.halt.is_set():  # reconnect: the viewer's process is stopped between slots
            try:
                # no keepalive pings: the viewer cannot answer while its process is SIGSTOPped
                with connect(f"ws://{host}/ws", origin=f"http://{host}", max_size=None,
                             ping_interval=None, open_timeout=30) as ws:
                    ws.send(json.dumps({"cmd": "live", "on": True}))
                    while not self.halt.is_set():
                        try:
                            m = ws.recv(timeout=0.5)
                        except TimeoutError:
                            continue
                        if isinstance(m, bytes):
                            self.frames += 1
            except Exception as exc:  # noqa: BLE001 - counted in the results, the soak goes on
                self.error = f"{type(exc).__name__}: {exc}"
                self.reconnects += 1
                self.halt.wait(1.0)


def _paired(eng: list[float], idle_before: list[float | None], idle_after: list[float | None]) -> dict:
    """Engine slot minus the mean of its idle neighbours (the slots right before and after it),
    which cancels a linear drift of the machine; mean, sd, 95% t interval, n."""
    from scipy import stats as st

    d = []
    for e, b, a in zip(eng, idle_before, idle_after):
        nb = [x for x in (b, a) if x is not None]
        if nb:
            d.append(e - sum(nb) / len(nb))
    d = np.asarray(d, dtype=float)
    out = {"n": int(d.size), "mean": float(d.mean()) if d.size else None,
           "sd": float(d.std(ddof=1)) if d.size > 1 else None, "ci95": None, "diffs": [round(x, 3) for x in d]}
    if d.size > 1:
        half = float(st.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size))
        out["ci95"] = [out["mean"] - half, out["mean"] + half]
    return out


def soak(args) -> int:
    """Alternate idle and engine slots of ``args.slot`` seconds, ``args.soak`` minutes in all.

    Every slot: switch (open the idle stream, or SIGCONT the engine and reopen its capture),
    wait ``args.settle`` s, then count overflow flags over the rest of the slot with the same
    instrument in both phases: a PortAudio input callback's ``status.input_overflow`` (the idle
    stream's, or the engine's capture process's). Frames, dropped frames and ring overruns are
    counted over the same windows; RSS and fds of the engine's processes after every engine slot.
    """
    import sounddevice as sd

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in variants if v not in VARIANTS]
    if bad or not variants:
        raise SystemExit(f"--variants {args.variants!r}: each must be one of {', '.join(VARIANTS)}")
    n_slots = max(2, int(round(args.soak * 60.0 / args.slot)))
    window = args.slot - args.settle
    if window <= 0:
        raise SystemExit(f"--settle {args.settle} must be shorter than --slot {args.slot}")
    def _terminate(signum, frame):  # noqa: ARG001 - SIGTERM ends the soak through its cleanup
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    # a JACK server of our own, by name, so that other programs' JACK tests neither join nor kill it
    name = f"s2s_soak_{os.getpid()}"
    os.environ["JACK_DEFAULT_SERVER"] = name
    jack = subprocess.Popen(["jackd", "-n", name, "-d", "dummy", "-r", "48000", "-p", "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t_start = time.time()
    engines: dict[str, _EngineProc] = {}
    drain = _Drain()
    live = None
    player = None
    slots: list[dict] = []
    try:
        deadline = time.time() + 15
        while not jack_running():
            if time.time() > deadline or jack.poll() is not None:
                raise RuntimeError("jackd did not come up")
            time.sleep(0.1)
        time.sleep(0.3)
        from s2s_live.doctor import jack_servers

        jack_rt = next((s["realtime_priority"] for s in jack_servers() if s["name"] == name), None)
        reinit_portaudio()
        player = JackPlayer("steps:0.05,0.5:1")
        for v in variants:
            e = engines[v] = _EngineProc(v, osc_port=drain.port, hop=args.hop,
                                         web_port=_free_tcp_port() if v == "web" else 0)
            if v == "web" and e.last.get("web_url"):
                live = _LiveClient(e.last["web_url"])
            e.pause()
        cnt = {"cb": 0, "ovf": 0}
        cb = _counting_callback(cnt)

        first_mem: dict[str, dict] = {}
        k_eng = 0
        for i in range(n_slots):
            kind = "idle" if i % 2 == 0 else variants[k_eng % len(variants)]
            t_slot = time.perf_counter()
            row = {"slot": i, "kind": kind, "t": round(time.time() - t_start, 1),
                   "load1": round(os.getloadavg()[0], 2)}
            if kind == "idle":
                with sd.InputStream(device="system", channels=2, samplerate=48000, blocksize=256, callback=cb):
                    player.connect_to_inputs_of()
                    _sleep_until(t_slot + args.settle)
                    c0, cpu0, w0 = dict(cnt), _cpu_times(), time.perf_counter()
                    _sleep_until(t_slot + args.slot)
                    c1, cpu1, w1 = dict(cnt), _cpu_times(), time.perf_counter()
                row.update(overflows=c1["ovf"] - c0["ovf"], callbacks=c1["cb"] - c0["cb"])
            else:
                k_eng += 1
                e = engines[kind]
                e.resume()
                player.connect_to_inputs_of()
                f0 = live.frames if (live is not None and kind == "web") else 0
                _sleep_until(t_slot + args.settle)
                s0, cpu0, w0 = e.ask("snap"), _cpu_times(), time.perf_counter()
                _sleep_until(t_slot + args.slot)
                s1, cpu1, w1 = e.ask(f"snap {s0['counters']['callbacks']}"), _cpu_times(), time.perf_counter()
                mem = e.mem()
                first_mem.setdefault(kind, mem)
                row.update(overflows=s1["counters"]["overflows"] - s0["counters"]["overflows"],
                           callbacks=s1["counters"]["callbacks"] - s0["counters"]["callbacks"],
                           frames=s1["frames"] - s0["frames"], dropped=s1["dropped"] - s0["dropped"],
                           ring_overruns=s1["ring_overruns"] - s0["ring_overruns"], mem=mem,
                           callback=s1["callback"], capture_rt_priority=s1["counters"].get("capture_rt_priority"),
                           capture_memlocked=s1["counters"].get("capture_memlocked"),
                           images=((s1["visuals"] or {}).get("generated", 0) - (s0["visuals"] or {}).get("generated", 0)),
                           live_frames=(live.frames - f0) if (live is not None and kind == "web") else None,
                           tagger_runs=((s1["tagger"] or {}).get("runs", 0) - (s0["tagger"] or {}).get("runs", 0)))
                e.pause()
            # over the window actually counted (a slow switch on a loaded machine shortens it)
            row["window_s"] = round(w1 - w0, 2)
            row["per_min"] = round(row["overflows"] * 60.0 / max(1.0, w1 - w0), 3)
            row.update(_cpu_share(cpu0, cpu1))
            slots.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "mem"}), flush=True)
        finals = {v: e.close() for v, e in engines.items()}
    finally:
        if live is not None:
            live.halt.set()
        for e in engines.values():
            if e.proc.poll() is None:
                e.close()
        if player is not None:
            player.stop()
        drain.halt.set()
        sd._terminate()
        jack.terminate()
        try:
            jack.wait(5)
        except subprocess.TimeoutExpired:
            jack.kill()
    result = _soak_summary(args, slots, variants, first_mem, finals, jack_rt, window, n_slots, live)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(t_start))
    (out / f"soak-{stamp}.json").write_text(json.dumps(result, indent=1))
    md = _soak_markdown(result)
    (out / f"soak-{stamp}.md").write_text(md)
    print(md)
    print(f"results: {out / f'soak-{stamp}.json'} and .md")
    return 0


def _soak_summary(args, slots, variants, first_mem, finals, jack_rt, window, n_slots, live) -> dict:
    idle = [s for s in slots if s["kind"] == "idle"]
    per = {}
    for v in variants:
        rows = [(i, s) for i, s in enumerate(slots) if s["kind"] == v]
        if not rows:
            continue

        def neighbour(j):
            return slots[j]["per_min"] if 0 <= j < len(slots) and slots[j]["kind"] == "idle" else None

        paired = _paired([s["per_min"] for _, s in rows], [neighbour(i - 1) for i, _ in rows],
                         [neighbour(i + 1) for i, _ in rows])
        last = rows[-1][1]["mem"]
        per[v] = {
            "slots": len(rows),
            "overflows_per_min": [s["per_min"] for _, s in rows],
            "mean_per_min": float(np.mean([s["per_min"] for _, s in rows])),
            "paired_engine_minus_idle": paired,
            "frames": sum(s["frames"] for _, s in rows), "dropped": sum(s["dropped"] for _, s in rows),
            "ring_overruns": sum(s["ring_overruns"] for _, s in rows),
            "images": sum(s["images"] for _, s in rows), "tagger_runs": sum(s["tagger_runs"] for _, s in rows),
            "live_frames": sum(s["live_frames"] or 0 for _, s in rows) if v == "web" else None,
            "mem_first": first_mem.get(v), "mem_last": last,
            "rss_growth_mb": {k: (None if first_mem[v][k]["rss_mb"] is None or last[k]["rss_mb"] is None
                                  else round(last[k]["rss_mb"] - first_mem[v][k]["rss_mb"], 2))
                              for k in ("engine", "visuals")},
            "rss_growth_total_mb": round(last["total_rss_mb"] - first_mem[v]["total_rss_mb"], 2)
            if last["engine"]["rss_mb"] is not None else None,
            "final": finals.get(v),
            "callback": {"max_us": max((s["callback"] or {}).get("max_us", 0) for _, s in rows),
                         "p999_us_median": float(np.median([(s["callback"] or {}).get("p999_us", np.nan) for _, s in rows])),
                         "p50_us_median": float(np.median([(s["callback"] or {}).get("p50_us", np.nan) for _, s in rows])),
                         "over_1ms": sum((s["callback"] or {}).get("over_1ms", 0) for _, s in rows)},
            "capture_rt_priority": sorted({s["capture_rt_priority"] for _, s in rows}),
            "capture_memlocked": sorted({s["capture_memlocked"] for _, s in rows}),
        }
    return {
        "command": "python scripts/bench_engine.py " + " ".join(sys.argv[1:]),
        "machine": f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}, Python {sys.version.split()[0]}",
        "jack": {"driver": "dummy", "rate": 48000, "period": 256, "realtime": jack_rt},
        "slot_s": args.slot, "settle_s": args.settle, "window_s": window, "slots": n_slots,
        "idle": {"slots": len(idle), "overflows_per_min": [s["per_min"] for s in idle],
                 "mean_per_min": float(np.mean([s["per_min"] for s in idle])) if idle else None},
        "variants": per, "live_client": None if live is None else {"last_error": live.error,
                                                                     "reconnects": live.reconnects},
        "load1": [s["load1"] for s in slots], "per_slot": slots,
        "cpu": {k: {m: float(np.mean([s[m] for s in slots if (s["kind"] == "idle") == (k == "idle")] or [np.nan]))
                    for m in ("busy_pct", "steal_pct")} for k in ("idle", "engine")},
    }


def _fmt(x, nd=2):
    return "—" if x is None else f"{x:.{nd}f}"


def _soak_markdown(r: dict) -> str:
    lines = [f"`{r['command']}` — {r['machine']}; JACK dummy 48 kHz / 256 frames, realtime priority "
             f"{r['jack']['realtime']}; {r['slots']} slots of {r['slot_s']:.0f} s, each counted over its last "
             f"{r['window_s']:.0f} s; 1-min load average {min(r['load1']):.1f}–{max(r['load1']):.1f}; "
             f"machine CPU busy (all processes) {r['cpu']['idle']['busy_pct']:.0f}% in idle slots, "
             f"{r['cpu']['engine']['busy_pct']:.0f}% in engine slots; steal {r['cpu']['idle']['steal_pct']:.1f}% / "
             f"{r['cpu']['engine']['steal_pct']:.1f}%", "",
             "| variant | slots | overflow flags/min (mean) | paired engine − idle (mean ± sd) | 95% CI | frames | "
             "dropped | ring overruns | RSS growth after slot 1 (MB, engine + visuals) | fds at end |",
             "|---|---|---|---|---|---|---|---|---|---|",
             f"| idle PortAudio stream | {r['idle']['slots']} | {_fmt(r['idle']['mean_per_min'])} | | | | | | | |"]
    for v, s in r["variants"].items():
        p = s["paired_engine_minus_idle"]
        ci = "—" if p["ci95"] is None else f"{p['ci95'][0]:+.2f} … {p['ci95'][1]:+.2f}"
        m = s["mem_last"]
        fds = "/".join(str(m[k]["fds"]) for k in ("engine", "visuals", "capture") if m[k]["fds"] is not None)
        rss = "/".join(_fmt(m[k]["rss_mb"], 0) for k in ("engine", "visuals", "capture") if m[k]["rss_mb"] is not None)
        lines.append(f"| {v} | {s['slots']} | {_fmt(s['mean_per_min'])} | {_fmt(p['mean'])} ± {_fmt(p['sd'])} | {ci} | "
                     f"{s['frames']} | {s['dropped']} | {s['ring_overruns']} | {_fmt(s['rss_growth_total_mb'])} "
                     f"(RSS at end {rss}: engine/visuals/capture) | {fds} |")
    lines.append("")
    lines.append("per slot (overflow flags/min): " + ", ".join(
        f"{s['kind'][0] if s['kind'] != 'idle' else 'i'}:{s['per_min']:g}" for s in r["per_slot"]))
    for v, s in r["variants"].items():
        extra = f"; live frames received {s['live_frames']}" if s["live_frames"] is not None else ""
        cb = s["callback"]
        lines.append(f"{v}: images {s['images']}, tagger runs {s['tagger_runs']}{extra}; capture callback "
                     f"p50 {cb['p50_us_median']:.1f} µs, p99.9 {cb['p999_us_median']:.1f} µs (medians over slots), "
                     f"max {cb['max_us']:.0f} µs, {cb['over_1ms']} callbacks over 1 ms; capture thread realtime "
                     f"priority {s['capture_rt_priority']}, memory locked {s['capture_memlocked']}")
    return "\n".join(lines) + "\n"


def _sleep_until(t: float) -> None:
    d = t - time.perf_counter()
    if d > 0:
        time.sleep(d)


def _free_tcp_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--soak-child":
        return soak_child(json.loads(sys.argv[2]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="duration of each phase (default 60)")
    ap.add_argument("--hop", type=float, default=0.25)
    ap.add_argument("--visuals", default="none", choices=("none", "procedural"),
                    help="run the visuals worker during the engine phase")
    ap.add_argument("--generate-every", type=float, default=1.0,
                    help="with --visuals: request an image every S seconds (default 1: continuously)")
    ap.add_argument("--no-taggers", action="store_true",
                    help="baseline: the GTZAN-statistics models (genre-gtzan, emotion-stats), no taggers")
    ap.add_argument("--soak", type=float, default=None, metavar="MINUTES",
                    help="alternating soak of MINUTES slots (idle, engine, idle, engine, ...)")
    ap.add_argument("--variants", default="visuals",
                    help="soak: comma list of engine variants taking the engine slots in turn: "
                         "engine (no visuals), visuals (procedural, an image a second), "
                         "web (procedural + the web viewer sending live frames to a WebSocket client)")
    ap.add_argument("--slot", type=float, default=60.0, help="soak: seconds per slot (default 60)")
    ap.add_argument("--settle", type=float, default=8.0,
                    help="soak: seconds at the start of each slot not counted (switching; default 8)")
    ap.add_argument("--out", default=str(Path.home() / ".cache" / "s2s_live" / "soak"),
                    help="soak: folder for the JSON and markdown results")
    args = ap.parse_args()
    if args.soak is not None:
        return soak(args)

    server = None
    if not jack_running():
        server = JackServer()
        server.start()
    reinit_portaudio()
    from s2s_live.config import Config
    from s2s_live.engine import Engine

    try:
        base = idle_baseline(args.seconds)
        rx = OSCRecorder()
        cfg = Config(source="device", device="system", targets=[f"127.0.0.1:{rx.port}"], control_port=0,
                     visuals=args.visuals, hop=args.hop, web_port=0)
        if args.no_taggers:
            import shutil
            import tempfile

            mdir = Path(tempfile.mkdtemp(prefix="s2s_models_"))
            for name in ("genre-gtzan", "emotion-stats", "encoder"):
                shutil.copytree(Path(cfg.models_dir) / name, mdir / name)
            cfg.update(models_dir=str(mdir), models={"genre": "genre-gtzan", "emotion": "emotion-stats"})
        if args.visuals != "none":
            import tempfile

            cfg.update(visuals_auto=True, visuals_interval=max(1.0, args.generate_every), visuals_min_interval=0.0,
                       out_dir=tempfile.mkdtemp(prefix="s2s_bench_"))
        t0 = time.perf_counter()
        eng = Engine(cfg).start()
        cold = None
        player = JackPlayer("steps:0.05,0.5:1")
        player.connect_to_inputs_of()
        while cold is None and time.perf_counter() - t0 < 30:
            if rx.of("/s2s/frame"):
                cold = rx.of("/s2s/frame")[0][0] - t0
            time.sleep(0.005)
        time.sleep(args.seconds)
        eng_visuals_stats = eng.visuals.stats() if eng.visuals is not None else None
        tagger = eng.status().get("tagger")
        eng.stop()
        player.stop()
        frames = rx.of("/s2s/frame")
        lat = np.array([t - eng.frame_times[a[0]] for t, a in frames if a[0] in eng.frame_times]) * 1e3
        lat = lat[np.isfinite(lat)]
        src = eng.source
        cb = src.cb_durations[: min(src.callbacks, src.cb_durations.shape[0])] * 1e6
        snap = eng.stats.snapshot()
        if eng_visuals_stats is not None:
            snap["visuals"] = eng_visuals_stats
        c = snap["counters"]
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; JACK dummy 48000 Hz / 256 frames; "
              f"{args.seconds:.0f} s per phase; hop {args.hop} s; visuals {args.visuals}; "
              f"{'no taggers (genre-gtzan, emotion-stats)' if args.no_taggers else 'taggers + heads'}")
        print()
        print("| metric | p50 | p99 | n |")
        print("|---|---|---|---|")
        print(f"| audio callback duration (µs) | {np.percentile(cb, 50):.1f} | {np.percentile(cb, 99):.1f} | {cb.size} |")
        print(f"| decision latency, capture -> OSC received (ms) | {np.percentile(lat, 50):.2f} | "
              f"{np.percentile(lat, 99):.2f} | {lat.size} |")
        for name, t in sorted(snap["timings"].items()):
            print(f"| stage `{name}` (ms) | {t['p50_ms']:.3f} | {t['p99_ms']:.3f} | {t['n']} |")
        print()
        print("| overflow flags | idle baseline | engine running |")
        print("|---|---|---|")
        print(f"| input_overflow in {args.seconds:.0f} s | {base['ovf']} | {c.get('overflows', 0)} |")
        print(f"| callbacks | {base['cb']} | {c.get('callbacks', 0)} |")
        print()
        if "visuals" in snap:
            print(f"visuals: {snap['visuals']}")
        if tagger:
            # the taggers' worker thread: CPU seconds inside onnxruntime over the engine phase
            share = tagger["busy_s"] / args.seconds
            print(f"taggers: {tagger['runs']} patches tagged, {tagger['skipped']} skipped (worker busy), "
                  f"{1000 * tagger['busy_s'] / max(1, tagger['runs']):.1f} ms per patch (both taggers), "
                  f"CPU share {100 * share:.1f}% of one core")
        print(f"frames {c.get('frames', 0)}, dropped {c.get('dropped', 0)}, OSC sent {c.get('osc_sent', 0)}, "
              f"cold start to first OSC frame {cold:.2f} s")
        rx.close()
    finally:
        import sounddevice as sd

        sd._terminate()
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
