"""Hostile-input probe: start the engine on loopback and attack it, phase by phase.

    python scripts/probe.py                       # defaults: about 2 minutes on 2 cores
    python scripts/probe.py --datagrams 200 --http 20 --ws 2 --slow 4 --conns 10 --time-limit 60

Everything stays on 127.0.0.0/8: the engine (``python -m s2s_live run --synth``, procedural
visuals and the web viewer, free ports, a temporary models folder and output folder) is started
as a child process and stopped by its PID at the end. Phases:

1. ``osc-fuzz``  seeded random/malformed/oversize/mutated OSC datagrams and bundles at the
   control port (tests/hostile.py's generator, shared with tests/test_fuzz_control.py), sent
   from 127.0.0.2 so the checks' replies from 127.0.0.1 have their own reply budget;
2. ``http``      hostile HTTP requests to the viewer: path traversal, huge headers and request
   lines, thousands of headers, bad Host/methods, broken request lines, garbage;
3. ``websocket`` the viewer's WebSocket with the refused commands of the security test (bad JSON,
   wrong types, 60,000-character fields, control characters), unmasked frames, bad opcodes,
   invalid UTF-8 and an oversized frame;
4. ``clients``   slow clients (one header byte at a time), many idle connections at once, and
   pages that ask for live frames and never read them, while a normal GET must still answer;
5. ``audio-files`` truncated WAV/MP3, a header that claims 10 h, a 1-sample file, empty and
   non-audio files through ``s2s-live analyze``: one line each, no traceback;
6. ``model-load`` corrupt cards and ONNX files (bad JSON, truncated/flipped/garbage/symlinked
   model, absurd shapes, wrong kind, path-like names) in the temporary models folder, each
   through ``/s2s/model/load``: each must be refused and the slot keep its model.

After each phase the engine must still answer ``/s2s/ping`` and still send ``/s2s/frame``. The
table lists per phase: inputs sent, errors the engine counted (control counters for OSC, HTTP
4xx answers / WebSocket error replies of the viewer, warning/error lines of analyze,
``/s2s/error`` replies of the model loader), faults (a wrong or missing answer: a served secret,
an HTTP 5xx, an accepted corrupt model, a traceback, no pong, no frames) and survived yes/no.
Exit status 0 when every phase survived without a fault. ``--json FILE`` writes the rows.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/hostile.py: the generators the tests use too

import hostile  # noqa: E402

from s2s_live.osc import decode_message, encode_message  # noqa: E402
from s2s_live.osc.ports import free_port  # noqa: E402

PHASES = ("osc-fuzz", "http", "websocket", "clients", "audio-files", "model-load")


class Frames:
    """Counts /s2s/frame datagrams the engine sends to its OSC target."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.n = 0
        self.errors: list[list] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if data.startswith(b"/s2s/frame\0"):
                self.n += 1
            elif data.startswith(b"/s2s/error\0"):
                try:
                    self.errors.append(decode_message(data)[2])
                except Exception:  # noqa: BLE001 - a garbled error is still counted
                    self.errors.append(["?"])

    def close(self) -> None:
        self._stop.set()
        self._t.join(2)
        self.sock.close()


class Control:
    """A control client on 127.0.0.1 (the checks') with request/reply helpers."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.25)

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.port))

    def drain(self) -> list[bytes]:
        out = []
        while True:
            try:
                out.append(self.sock.recv(65536))
            except (socket.timeout, BlockingIOError):
                return out

    def ask(self, addr: str, tags: str = "", args=(), want=None, timeout: float = 8.0):
        """Send and wait for a reply whose address is in ``want``; retried (the reply budget may
        be spent for a moment); returns (address, args) or None."""
        want = set(want or ())
        deadline = time.monotonic() + timeout
        next_send = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_send:
                self.send(encode_message(addr, tags, list(args)))
                next_send = time.monotonic() + 1.0
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            try:
                a, _, v = decode_message(data)
            except Exception:  # noqa: BLE001 - not ours
                continue
            if a in want:
                return a, v
        return None

    def status(self) -> dict:
        # after a burst of refusals the reply budget for this sender may be spent for a moment
        # (the amplification bound): wait for it to refill rather than read an empty status
        for _ in range(10):
            r = self.ask("/s2s/status", want={"/s2s/status"})
            if r:
                return json.loads(r[1][0])
            time.sleep(0.5)
        return {}

    def close(self) -> None:
        self.sock.close()


class Probe:
    def __init__(self, args) -> None:
        self.a = args
        self.rng = random.Random(args.seed)
        self.tmp = Path(tempfile.mkdtemp(prefix="s2s_probe_"))
        self.rows: list[dict] = []
        self.proc: subprocess.Popen | None = None
        self.t_end = time.monotonic() + args.time_limit

    # -- the engine ---------------------------------------------------------------------------
    def start(self) -> None:
        models = self.tmp / "models"
        shutil.copytree(ROOT / "models", models)
        shipped = {d.name for d in (ROOT / "models").iterdir()}  # intact copies: not attacks
        self.bad_models = [n for n in hostile.broken_model_folders(ROOT / "models", models) if n not in shipped]
        (self.tmp / "probe.toml").write_text(f'models_dir = "{models}"\n')
        self.frames = Frames()
        self.ctl_port, self.web_port = free_port(), free_port(socket.SOCK_STREAM)
        cmd = [sys.executable, "-m", "s2s_live", "run", "--synth", "--quiet", "--config", str(self.tmp / "probe.toml"),
               "--target", f"127.0.0.1:{self.frames.port}", "--control-port", str(self.ctl_port),
               "--web-port", str(self.web_port), "--visuals", "procedural", "--out-dir", str(self.tmp / "out"),
               "--mapper-port", "0"]
        self.err = open(self.tmp / "engine.stderr", "w+")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err, cwd=self.tmp)
        self.ctl = Control(self.ctl_port)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and self.frames.n < 2:
            if self.proc.poll() is not None:
                raise SystemExit(f"probe: the engine exited with {self.proc.returncode} at start: {self.stderr()[-500:]}")
            time.sleep(0.1)
        if self.frames.n < 2:
            raise SystemExit("probe: no frame within 180 s of starting the engine")
        while time.monotonic() < deadline:  # the viewer (its own process) answers
            try:
                if hostile.http_get(self.web_port, "/", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.ctl.close()
        self.frames.close()
        self.err.close()

    def stderr(self) -> str:
        self.err.flush()
        return (self.tmp / "engine.stderr").read_text(errors="replace")

    def healthy(self) -> tuple[bool, str]:
        """The engine still runs, answers /s2s/ping and sends frames."""
        if self.proc.poll() is not None:
            return False, f"exited with {self.proc.returncode}"
        if self.ask_pong() is None:
            return False, "no /s2s/pong within 8 s"
        n = self.frames.n
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.frames.n <= n:
            time.sleep(0.05)
        if self.frames.n <= n:
            return False, "no /s2s/frame within 5 s"
        if "Traceback" in self.stderr():
            return False, "a traceback on the engine's stderr"
        return True, ""

    def ask_pong(self):
        return self.ctl.ask("/s2s/ping", want={"/s2s/pong"})

    def budget(self, share: float) -> float:
        """Monotonic deadline for a phase: its share of what is left of --time-limit."""
        return time.monotonic() + max(1.0, (self.t_end - time.monotonic()) * share)

    def record(self, phase: str, sent: int, errors: int, faults: list[str]) -> None:
        ok, why = self.healthy()
        if not ok:
            faults = faults + [why]
        self.rows.append({"phase": phase, "inputs": sent, "errors_counted": errors, "faults": len(faults),
                          "fault_notes": faults[:5], "survived": ok and not faults})
        print(f"probe: {phase:<12} {sent:6d} inputs, {errors:6d} counted, {len(faults)} faults"
              + (f" ({'; '.join(faults[:3])})" if faults else ""), flush=True)

    # -- phases -------------------------------------------------------------------------------
    def osc_fuzz(self) -> None:
        c0 = self.ctl.status().get("control", {})
        grams = hostile.osc_datagrams(self.a.datagrams, seed=self.a.seed)
        fuzz = Control(self.ctl_port, host="127.0.0.2")
        deadline = self.budget(0.3)
        sent = 0
        try:
            for i in range(0, len(grams), 200):
                if time.monotonic() > deadline:
                    break
                for d in grams[i : i + 200]:
                    fuzz.send(d)
                    sent += 1
                time.sleep(0.02)  # paced: the kernel buffer holds a batch, so all are read
                fuzz.drain()
        finally:
            fuzz.close()
        time.sleep(0.5)
        st = self.ctl.status()
        c1 = st.get("control", {})
        keys = ("bad", "malformed", "oversize", "denied")
        errors = sum(int(c1.get(k, 0)) - int(c0.get(k, 0)) for k in keys)
        faults = []
        got = int(c1.get("received", 0)) - int(c0.get("received", 0))
        if got < sent:
            faults.append(f"{sent - got} datagrams not counted as received")
        targets = [t.get("spec", t) if isinstance(t, dict) else t for t in st.get("targets", [])]
        for t in targets:
            host = str(t).rsplit(":", 2)[0].strip("[]")
            if host and not (host.startswith("127.") or host in ("::1", "localhost")):
                faults.append(f"a non-loopback target was added: {t}")
        self.record("osc-fuzz", sent, errors, faults)

    def http(self) -> None:
        deadline = self.budget(0.2)
        sent = refused = 0
        faults: list[str] = []
        statuses: dict[int, int] = {}
        for _ in range(self.a.http):
            if time.monotonic() > deadline:
                break
            req = hostile.hostile_http(self.web_port, self.rng)
            sent += 1
            try:
                with socket.create_connection(("127.0.0.1", self.web_port), timeout=5) as s:
                    try:
                        s.sendall(req)
                    except OSError:
                        pass  # closed on us mid-request (huge headers): a refusal
                    data = b""
                    try:
                        while len(data) < 1 << 20:
                            chunk = s.recv(65536)
                            if not chunk:
                                break
                            data += chunk
                            if b"\r\n\r\n" in data and not data.startswith(b"HTTP/1.1 101"):
                                head, _, body = data.partition(b"\r\n\r\n")
                                cl = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length:")]
                                if cl and len(body) >= int(cl[0].split(b":")[1]):
                                    break
                    except (socket.timeout, OSError):
                        pass
            except OSError as exc:
                faults.append(f"connect failed: {exc}")
                continue
            code = 0
            if data.startswith(b"HTTP/"):
                try:
                    code = int(data.split(b" ", 2)[1])
                except (IndexError, ValueError):
                    code = -1
            statuses[code] = statuses.get(code, 0) + 1
            if 400 <= code < 500 or code == 0:
                refused += 1
            if code >= 500:
                faults.append(f"HTTP {code} for {req[:60]!r}")
            if b"root:x:0:0" in data or b"def " in data and b"import" in data:
                faults.append(f"served a file outside the viewer for {req[:60]!r}")
        if hostile.http_get(self.web_port, "/")[0] != 200:
            faults.append("GET / no longer answers 200")
        self.http_statuses = statuses
        self.record("http", sent, refused, faults)

    def websocket(self) -> None:
        deadline = self.budget(0.2)
        sent = errors = 0
        faults: list[str] = []
        for _ in range(self.a.ws):
            if time.monotonic() > deadline:
                break
            s, status = hostile.ws_handshake(self.web_port)
            if status != 101:
                faults.append(f"handshake answered {status}")
                s.close()
                continue
            try:
                for obj, reason in hostile.WS_BAD_COMMANDS:
                    hostile.ws_text(s, hostile.ws_bad_payload(obj))
                    sent += 1
                    m = _ws_wait_reply(s)
                    if m is None:
                        faults.append(f"no reply to {str(obj)[:40]}")
                    elif m.get("type") == "error":
                        errors += 1
                        if reason not in m.get("reason", ""):
                            faults.append(f"wrong reason for {str(obj)[:40]}: {m.get('reason', '')[:60]}")
                    else:
                        faults.append(f"accepted {str(obj)[:40]}")
            finally:
                s.close()
        # protocol violations, each on its own connection: the viewer must close or refuse it
        bad_frames = [hostile.ws_frame(b'{"cmd": "auto", "on": 1}', mask=False),
                      hostile.ws_frame(b"\xff\xfe\xfd", opcode=0x1),
                      hostile.ws_frame(b"x", opcode=0x3),
                      hostile.ws_frame(b"y" * (2 << 20), opcode=0x2),
                      hostile.ws_frame(b"{", fin=False) + hostile.ws_frame(b"z", opcode=0x1),
                      b"\x81\xff" + b"\x7f" * 8 + b"\0" * 4]
        for fr in bad_frames:
            if time.monotonic() > deadline:
                break
            s, status = hostile.ws_handshake(self.web_port)
            sent += 1
            try:
                s.sendall(fr)
                s.settimeout(5)
                while s.recv(65536):
                    pass
                errors += 1  # closed by the viewer
            except (socket.timeout, OSError):
                errors += 1  # reset by the viewer, or left waiting for a frame that never completes
            finally:
                s.close()
        self.record("websocket", sent, errors, faults)

    def clients(self) -> None:
        deadline = self.budget(0.35)
        socks: list[socket.socket] = []
        faults: list[str] = []
        sent = refused = 0
        try:
            for _ in range(self.a.conns):  # many idle connections at once
                try:
                    socks.append(socket.create_connection(("127.0.0.1", self.web_port), timeout=5))
                    sent += 1
                except OSError:
                    refused += 1
            slow = []
            for _ in range(self.a.slow):  # one header byte at a time
                try:
                    s = socket.create_connection(("127.0.0.1", self.web_port), timeout=5)
                    slow.append(s)
                    socks.append(s)
                    sent += 1
                except OSError:
                    refused += 1
            for _ in range(self.a.slow):  # pages that ask for live frames and never read
                s, status = hostile.ws_handshake(self.web_port, rcvbuf=4096)
                socks.append(s)
                sent += 1
                if status == 101:
                    hostile.ws_text(s, json.dumps({"cmd": "live", "on": True}))
                else:
                    refused += 1
            req = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{self.web_port}\r\nX-Slow: ".encode()
            t_stop = min(deadline, time.monotonic() + 15)
            i, checks = 0, 0
            while time.monotonic() < t_stop:
                for s in slow:
                    try:
                        s.send(req[i % len(req) : i % len(req) + 1] if i < len(req) else b"a")
                    except OSError:
                        pass
                i += 1
                if i % 4 == 0:  # a normal visitor still gets the page
                    checks += 1
                    try:
                        if hostile.http_get(self.web_port, "/", timeout=10)[0] != 200:
                            faults.append("GET / did not answer 200 while slow clients held connections")
                    except OSError as exc:
                        faults.append(f"GET / failed while slow clients held connections: {exc}")
                time.sleep(0.5)
            closed = 0
            for s in socks:  # what the viewer closed on its own (stalled/slow clients)
                try:
                    s.setblocking(False)
                    if s.recv(1, socket.MSG_PEEK) == b"":
                        closed += 1
                except BlockingIOError:
                    pass
                except OSError:
                    closed += 1
            refused += closed
        finally:
            for s in socks:
                s.close()
        self.record("clients", sent, refused, faults)

    def audio_files(self) -> None:
        d = self.tmp / "audio"
        d.mkdir()
        files = hostile.broken_audio_files(d) + hostile.more_broken_audio_files(d)
        r = subprocess.run([sys.executable, "-m", "s2s_live", "analyze", *map(str, files), "--out",
                            str(self.tmp / "analysis"), "--quiet", "--jobs", "1"],
                           capture_output=True, text=True, timeout=max(60, self.t_end - time.monotonic() + 60))
        faults = []
        if "Traceback" in r.stderr:
            faults.append("traceback from analyze")
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith(("warning:", "error"))]
        for f in files:
            hit = [ln for ln in lines if f.name in ln]
            if len(hit) != 1:
                faults.append(f"{f.name}: {len(hit)} lines (want one)")
        if r.returncode not in (0, 1):
            faults.append(f"analyze exited with {r.returncode}")
        self.record("audio-files", len(files), len(lines), faults)

    def model_load(self) -> None:
        faults = []
        errors = 0
        models_dir = str(self.tmp / "models")
        self.ctl.drain()
        for name in self.bad_models:
            r = self.ctl.ask("/s2s/model/load", "ss", ["genre", name], want={"/s2s/error", "/s2s/ack"}, timeout=20)
            if r is None:
                faults.append(f"no answer for {name[:30]!r}")
            elif r[0] == "/s2s/ack":
                faults.append(f"{name[:30]!r} was loaded")
            else:
                errors += 1
                reason = " ".join(map(str, r[1]))
                if models_dir in reason or str(self.tmp) in reason:
                    faults.append(f"{name[:30]!r}: the error names the models folder")
                if "/etc/passwd" in reason:
                    faults.append(f"{name[:30]!r}: the error names the symlink's target")
        st = self.ctl.status()
        if st.get("models", {}).get("genre") != "genre":
            faults.append("the genre slot lost its model")
        r = self.ctl.ask("/s2s/model/load", "ss", ["genre", "genre"], want={"/s2s/error", "/s2s/ack"}, timeout=20)
        if r is None or r[0] != "/s2s/ack":
            faults.append(f"the good model no longer loads: {r}")
        self.record("model-load", len(self.bad_models) + 1, errors, faults)

    def run(self) -> int:
        print(f"probe: engine on 127.0.0.1 (control {self.ctl_port}, viewer {self.web_port}), seed {self.a.seed}, "
              f"time limit {self.a.time_limit:.0f} s", flush=True)
        for phase in self.a.phases:
            getattr(self, phase.replace("-", "_"))()
        return 0 if all(r["survived"] for r in self.rows) else 1


def _ws_wait_reply(s: socket.socket, timeout: float = 10.0) -> dict | None:
    """The next ack/error text message on a raw WebSocket (live frames and hellos skipped)."""
    s.settimeout(timeout)
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        while len(buf) >= 2:
            n = buf[1] & 0x7F
            off = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, off = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, off = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < off + n:
                break
            op, payload, buf = buf[0] & 0x0F, buf[off : off + n], buf[off + n :]
            if op == 0x8:
                return None
            if op == 0x1:
                try:
                    m = json.loads(payload)
                except ValueError:
                    continue
                if m.get("type") in ("ack", "error"):
                    return m
        try:
            chunk = s.recv(65536)
        except (socket.timeout, OSError):
            return None
        if not chunk:
            return None
        buf += chunk
    return None


def table(rows: list[dict]) -> str:
    out = [f"| {'phase':<12} | {'inputs sent':>11} | {'errors counted':>14} | {'faults':>6} | survived |",
           f"|{'-' * 14}|{'-' * 13}:|{'-' * 15}:|{'-' * 7}:|----------|"]
    for r in rows:
        out.append(f"| {r['phase']:<12} | {r['inputs']:>11} | {r['errors_counted']:>14} | {r['faults']:>6} | "
                   f"{'yes' if r['survived'] else 'no':<8} |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datagrams", type=int, default=20000, help="OSC datagrams (default 20000)")
    ap.add_argument("--http", type=int, default=400, help="hostile HTTP requests (default 400)")
    ap.add_argument("--ws", type=int, default=4, help="WebSocket connections sending the refused commands (default 4)")
    ap.add_argument("--slow", type=int, default=40, help="slow clients, and as many never-reading pages (default 40)")
    ap.add_argument("--conns", type=int, default=200, help="idle connections held at once (default 200)")
    ap.add_argument("--time-limit", type=float, default=120.0,
                    help="seconds of attack after the engine is up (default 120); phases stop sending early")
    ap.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--json", help="write the rows (and the HTTP status counts) to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (engine stderr, models)")
    a = ap.parse_args(argv)
    a.phases = [p for p in a.phases.split(",") if p]
    bad = [p for p in a.phases if p not in PHASES]
    if bad:
        ap.error(f"--phases: {bad} unknown; expected some of {', '.join(PHASES)}")
    for k in ("datagrams", "http", "ws", "slow", "conns"):
        if getattr(a, k) < 0:
            ap.error(f"--{k}={getattr(a, k)} is invalid; expected 0 or more")
    if not a.time_limit > 0:
        ap.error(f"--time-limit={a.time_limit} is invalid; expected seconds > 0")
    p = Probe(a)
    t0 = time.monotonic()
    try:
        p.start()
        p.t_end = time.monotonic() + a.time_limit
        rc = p.run()
    finally:
        p.stop()
        if not a.keep:
            shutil.rmtree(p.tmp, ignore_errors=True)
    print()
    print(table(p.rows))
    print(f"\n{sum(r['inputs'] for r in p.rows)} inputs in {time.monotonic() - t0:.0f} s (engine start included); "
          f"{'all phases survived' if rc == 0 else 'SOME PHASES FAILED'}")
    if a.json:
        Path(a.json).write_text(json.dumps({"rows": p.rows, "http_statuses": getattr(p, "http_statuses", {})},
                                           indent=1, default=str))
    return rc


if __name__ == "__main__":
    sys.exit(main())
