"""``s2s-live doctor``: a self-test with one verdict line per check and a non-zero exit on failure.

Checks: the kernel cache is warm (else the next start compiles for ~30 s; checked first, since
the later checks compile what is missing); PortAudio and input devices; whether real-time
scheduling and memory locking are allowed and the JACK server runs with realtime priority (each
with its one-line fix: docs/architecture.md, "The capture's deadline"); processors build and run
(numba compiled); models load and match their cards; an OSC loopback round trip through a real
engine (control ping -> pong and frames on a target); the visuals backend renders.
"""

from __future__ import annotations

import socket
import time
import traceback
from pathlib import Path

import numpy as np

from .config import Config
from .osc.ports import free_port

OK, WARN, FAIL = "ok", "warn", "FAIL"


def _line(verdict: str, name: str, msg: str) -> str:
    return f"[{verdict:>4}] {name:<12} {msg}"


def check_portaudio() -> tuple[str, str]:
    try:
        from .capture.portaudio import list_input_devices

        devs = list_input_devices()
    except Exception as exc:  # noqa: BLE001 - report any failure as the verdict
        return FAIL, f"PortAudio unavailable: {exc}"
    if not devs:
        return WARN, "PortAudio works but sees no input devices (file and synth sources still work)"
    names = ", ".join(f"[{d['index']}] {d['name']}" for d in devs[:4])
    return OK, f"{len(devs)} input device(s): {names}"


def check_kernels() -> tuple[str, str]:
    """Whether every kernel the engine, analysis and visuals use is in the kernel cache.

    A cold cache is a warning, not a failure: everything works, the first start just waits.
    """
    from .warmup import cache_report

    warm, msg = cache_report()
    return (OK if warm else WARN), msg


def check_processors(cfg: Config) -> tuple[str, str]:
    from .pipeline import analyze_array, build_processors
    from .capture.synth import MusicSynth

    y = MusicSynth(sr=22050, seed=1, section_seconds=4).render(3.0)
    procs = build_processors(cfg)
    rows = analyze_array(y, 22050, procs, hop=0.5)
    bad = [k for r in rows for k, v in r.items()
           if isinstance(v, (float, np.ndarray)) and not np.all(np.isfinite(v))]
    if bad:
        return FAIL, f"non-finite outputs: {sorted(set(bad))[:5]}"
    n_out = sum(len(p.outputs) for p in procs)
    return OK, f"{len(procs)} processors, {n_out} outputs, {len(rows)} frames analysed, all finite"


def check_models(cfg: Config) -> list[tuple[str, str, str]]:
    root = Path(cfg.models_dir)
    if not root.is_dir():
        return [(WARN, "models", f"no models folder at {root}")]
    from .inference.card import incomplete_folders

    folders = sorted(p for p in root.iterdir() if (p / "card.json").exists())
    out = [(FAIL, "models", problem) for problem in incomplete_folders(root)]
    if not folders:
        return out or [(WARN, "models", f"no model cards under {root}")]
    try:
        from .inference.onnx import OnnxProcessor
    except Exception as exc:  # noqa: BLE001
        return [(FAIL, "models", f"inference module failed to import: {exc}")]
    for f in folders:
        try:
            m = OnnxProcessor.from_folder(f)  # the loader the engine uses
            if hasattr(m, "close"):
                m.close()
            lic = getattr(m, "card", {}).get("provenance", {}).get("licence")
            if lic and not (f / "LICENSE").is_file():  # weights from elsewhere carry their notice
                raise RuntimeError(f"its card names the licence {lic!r} but the LICENSE file is missing")
            out.append((OK, f"model:{f.name}", "loads and matches its card (sha256, names, shapes, dtypes)"
                        + (f"; licence {lic.split(' ')[0]} in LICENSE" if lic else "")))
        except Exception as exc:  # noqa: BLE001
            out.append((FAIL, f"model:{f.name}", str(exc)))
    return out


def check_mappings(cfg: Config) -> list[tuple[str, str, str]]:
    """Saved mappings (docs/mapping.md): each loads and matches its card, its examples read."""
    from .mapping.store import check_saved

    return [(OK if ok else FAIL, f"mapping:{name}", msg) for ok, name, msg in check_saved(cfg.mapper_dir)]


def check_osc(cfg: Config) -> tuple[str, str]:
    from .engine import Engine
    from .osc.codec import decode_message, encode_message

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    port = rx.getsockname()[1]
    c = Config(source="synth", targets=[f"127.0.0.1:{port}"], control_port=0, visuals="none",
               models_dir=cfg.models_dir)
    c.control_port = free_port()
    eng = Engine(c)
    try:
        eng.start()
        rx.sendto(encode_message(f"{c.prefix}/ping", "", []), ("127.0.0.1", eng.control.port))
        got_pong = got_frame = False
        deadline = time.time() + 5
        while time.time() < deadline and not (got_pong and got_frame):
            try:
                data, _ = rx.recvfrom(65536)
            except socket.timeout:
                continue
            try:
                addr = decode_message(data)[0]
            except ValueError:  # not ours: another sender on the port
                continue
            got_pong |= addr == f"{c.prefix}/pong"
            got_frame |= addr == f"{c.prefix}/frame"
    finally:
        eng.stop()
        rx.close()
    if got_pong and got_frame:
        return OK, "loopback: /s2s/frame received, /s2s/ping answered by /s2s/pong"
    return FAIL, f"loopback: frame={'yes' if got_frame else 'no'}, pong={'yes' if got_pong else 'no'}"


def check_visuals(cfg: Config) -> tuple[str, str]:
    """Render one procedural image; with the diffusers backend, locate its local model too."""
    from .visuals import procedural

    t0 = time.perf_counter()
    from .visuals.state import default_state

    state = default_state()
    state.update(genre="rock", genre_conf=0.9, valence=0.7, arousal=0.8, level=0.6, bpm=120.0)
    img = np.asarray(procedural.render_state(state, seed=0, size=256))
    ms = (time.perf_counter() - t0) * 1e3
    if img.size == 0 or float(np.std(img)) < 1.0:
        return FAIL, "procedural renderer produced an empty image"
    msg = f"procedural renderer ok ({ms:.0f} ms for a 256x256 image)"
    if cfg.visuals == "diffusers":
        from .visuals.diffusion import locate_model

        try:
            where = locate_model(cfg.visuals_model or "")
        except Exception as exc:  # noqa: BLE001 - VisualsError explains what to do
            return FAIL, f"{msg}; diffusers model: {exc}"
        msg += f"; diffusers model found at {where}"
    return OK, msg


# -- real-time scheduling and memory locking (issue 17) ---------------------------------------

#: The one-line fixes printed with a warning (Debian/Ubuntu/Fedora/Arch all read limits.d).
FIX_LIMITS = ("put '@audio - rtprio 95' and '@audio - memlock unlimited' in "
              "/etc/security/limits.d/audio.conf")
FIX_GROUP = "sudo usermod -aG audio $USER, then log out and in again"
FIX_JACK = ("restart JACK with realtime scheduling: jackd -R -P 70 -d alsa ... "
            "(qjackctl: Setup > Settings > Realtime)")


def _in_audio_group() -> bool | None:
    try:
        import grp
        import os

        gid = grp.getgrnam("audio").gr_gid
    except (ImportError, KeyError):
        return None  # no audio group on this system
    return gid in os.getgroups() or os.getgid() == gid


def _fifo_probe(priority: int = 1) -> str:
    """Try SCHED_FIFO at ``priority`` on a throw-away thread; '' when it worked, else why not."""
    import os
    import threading

    res = {"err": "not tried"}

    def probe():
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))  # 0: this thread
            res["err"] = ""
        except OSError as exc:
            res["err"] = exc.strerror or str(exc)

    t = threading.Thread(target=probe, name="s2s-rt-probe")
    t.start()
    t.join()
    return res["err"]


def _fix_for_limits() -> str:
    grp_ok = _in_audio_group()
    if grp_ok is False:
        return f"fix: {FIX_LIMITS}; {FIX_GROUP}"
    return f"fix: {FIX_LIMITS}, then log out and in again"


def check_realtime() -> tuple[str, str]:
    """Whether this user's processes may use SCHED_FIFO (JACK gives its clients' audio threads
    realtime priority only when they may): RLIMIT_RTPRIO or CAP_SYS_NICE, probed on a thread."""
    import resource
    import sys

    if not sys.platform.startswith("linux"):
        return OK, "not needed here: the system's audio server schedules its own audio threads"
    from .capture.realtime import CAP_SYS_NICE, effective_capabilities

    soft, _hard = resource.getrlimit(resource.RLIMIT_RTPRIO)
    lim = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
    cap = bool(effective_capabilities() >> CAP_SYS_NICE & 1)
    err = _fifo_probe(1)
    if not err:
        how = "CAP_SYS_NICE" if cap and soft == 0 else f"RLIMIT_RTPRIO {lim}"
        return OK, f"SCHED_FIFO allowed ({how}): JACK can run the capture's audio thread at realtime priority"
    return WARN, (f"no realtime scheduling (RLIMIT_RTPRIO {lim}, SCHED_FIFO refused: {err}): the capture "
                  f"thread competes with every other process for the CPU; {_fix_for_limits()}")


def check_memlock() -> tuple[str, str]:
    """Whether the capture process can lock its memory (mlockall: no page faults in the callback)."""
    import resource
    import sys

    if not sys.platform.startswith("linux"):
        return OK, "not checked on this system"
    from .capture.realtime import memlock_allowed

    soft, _hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if memlock_allowed():  # the capture process then calls mlockall (capture.realtime._lock_memory)
        return OK, ("memory locking allowed (" + ("RLIMIT_MEMLOCK unlimited" if soft == resource.RLIM_INFINITY
                                                   else "CAP_IPC_LOCK") + "): the capture process locks its pages")
    return WARN, (f"memory locking limited to {soft / 2**20:.0f} MB (RLIMIT_MEMLOCK): the capture process "
                  f"does not lock its pages, which can then be swapped out or faulted in mid-callback; "
                  f"{_fix_for_limits()}")


def jack_servers() -> list[dict]:
    """Running JACK servers (jackd/jackdbus) on this machine: pid, name (-n, else 'default'),
    and the highest realtime priority among their threads (0: no thread is SCHED_FIFO/RR)."""
    import os

    out = []
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return out
    for pid in pids:
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            if comm not in ("jackd", "jackdbus"):
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
            prio = 0
            for tid in os.listdir(f"/proc/{pid}/task"):
                try:
                    if os.sched_getscheduler(int(tid)) in (os.SCHED_FIFO, os.SCHED_RR):
                        prio = max(prio, os.sched_getparam(int(tid)).sched_priority)
                except OSError:
                    continue
        except OSError:  # the process went away while we looked
            continue
        name = "default"
        for i, a in enumerate(argv):
            if a in ("-n", "--name") and i + 1 < len(argv):
                name = argv[i + 1]
            elif a.startswith("--name="):
                name = a.split("=", 1)[1]
            elif a == "-d":  # driver options follow; theirs, not the server's
                break
        out.append({"pid": pid, "name": name, "realtime_priority": prio, "exe": comm})
    return out


def check_jack() -> tuple[str, str]:
    """Whether the JACK server this user's clients join (JACK_DEFAULT_SERVER, else 'default')
    runs its threads at realtime priority; without it every client's period can be late."""
    import os

    want = os.environ.get("JACK_DEFAULT_SERVER") or "default"
    servers = [s for s in jack_servers() if s["name"] == want]
    if not servers:
        return OK, f"no JACK server named {want!r} running (checked when one is)"
    s = servers[0]
    if s["realtime_priority"] > 0:
        return OK, (f"JACK server {want!r} (pid {s['pid']}) runs with realtime scheduling "
                    f"(priority {s['realtime_priority']})")
    return WARN, f"JACK server {want!r} (pid {s['pid']}) runs without realtime scheduling; fix: {FIX_JACK}"


def run_checks(cfg: Config) -> int:
    results: list[tuple[str, str, str]] = []
    for name, fn in (("kernels", check_kernels), ("portaudio", check_portaudio),
                     ("realtime", check_realtime), ("memlock", check_memlock), ("jack", check_jack),
                     ("processors", lambda: check_processors(cfg)),
                     ("osc", lambda: check_osc(cfg)), ("visuals", lambda: check_visuals(cfg))):
        try:
            v, msg = fn()
        except Exception as exc:  # noqa: BLE001 - a crashing check is a failed check
            v, msg = FAIL, f"{type(exc).__name__}: {exc} ({traceback.format_exc(limit=1).splitlines()[-1]})"
        results.append((v, name, msg))
        print(_line(v, name, msg), flush=True)
        if name == "processors":
            for r in check_models(cfg) + check_mappings(cfg):
                results.append(r)
                print(_line(*r), flush=True)
    failed = [r for r in results if r[0] == FAIL]
    print(f"doctor: {len(results) - len(failed)} of {len(results)} checks passed"
          + (f"; FAILED: {', '.join(r[1] for r in failed)}" if failed else ""))
    return 1 if failed else 0
