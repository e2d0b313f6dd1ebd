"""Shared test helpers: component availability, JACK control, OSC receivers, known signals."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from s2s_live.osc.ports import free_port  # noqa: F401  (tests import it from here)

CI = os.environ.get("CI") == "true"
REPO = Path(__file__).resolve().parents[1]


def require(cond: bool, reason: str) -> None:
    """Skip locally when a component is missing; under CI=true a missing component fails."""
    if not cond:
        if CI:
            pytest.fail(f"required component missing under CI: {reason}")
        pytest.skip(reason)


def have(cmd: str) -> bool:
    return shutil.which(cmd) is not None


# -- known signals ---------------------------------------------------------------------------
def sine(*, freq: float, sr: int, seconds: float, amp: float = 0.5, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def click_track(*, bpm: float, sr: int, seconds: float, amp: float = 0.9, click_ms: float = 10.0) -> np.ndarray:
    y = np.zeros(int(round(seconds * sr)), dtype=np.float32)
    period = 60.0 / bpm
    n = int(click_ms * 1e-3 * sr)
    env = np.exp(-np.arange(n) / (n / 5)).astype(np.float32)
    burst = amp * env * np.sin(2 * np.pi * 1000 * np.arange(n) / sr).astype(np.float32)
    t = 0.0
    while t * sr + n < y.shape[0]:
        i = int(round(t * sr))
        y[i : i + n] += burst
        t += period
    return y


# -- OSC receiver ----------------------------------------------------------------------------
class OSCRecorder:
    """A python-osc-parsing UDP receiver in a thread; records (perf_counter, address, args)."""

    def __init__(self, port: int = 0) -> None:
        from pythonosc.osc_message import OscMessage

        self._parse = OscMessage
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.05)
        self.messages: list[tuple[float, str, list]] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            t = time.perf_counter()
            try:
                m = self._parse(data)
                self.messages.append((t, m.address, list(m.params)))
            except Exception:  # noqa: BLE001 - record garbage as such
                self.messages.append((t, "<malformed>", [data]))

    def of(self, address: str) -> list[tuple[float, list]]:
        return [(t, a) for (t, ad, a) in list(self.messages) if ad == address]

    def addresses(self) -> set[str]:
        return {ad for (_, ad, _) in list(self.messages)}

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list:
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.of(address)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        return self.of(address)

    def clear(self) -> None:
        self.messages.clear()

    def close(self) -> None:
        self._stop.set()
        self._t.join(timeout=1)
        self.sock.close()


def terminate(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """SIGTERM a child process, SIGKILL it if it has not exited within ``timeout`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


# -- JACK --------------------------------------------------------------------------------------
def jack_ports() -> list[str]:
    r = subprocess.run(["jack_lsp"], capture_output=True, text=True, timeout=10)
    return [l.strip() for l in r.stdout.splitlines() if l.strip()]


def jack_running() -> bool:
    if not have("jack_lsp"):
        return False
    r = subprocess.run(["jack_lsp"], capture_output=True, text=True, timeout=10)
    return r.returncode == 0 and "system:" in r.stdout


class JackServer:
    """jackd with the dummy driver (48 kHz, 256-frame periods), started and stopped by PID."""

    def __init__(self, rate: int = 48000, period: int = 256) -> None:
        self.rate, self.period = rate, period
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 15.0) -> None:
        self.proc = subprocess.Popen(["jackd", "-d", "dummy", "-r", str(self.rate), "-p", str(self.period)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if jack_running():
                time.sleep(0.3)
                return
            time.sleep(0.1)
        raise RuntimeError("jackd did not come up")

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc)
            self.proc = None


def reinit_portaudio() -> None:
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


PLAYER = Path(__file__).with_name("jack_player.py")


def input_clients() -> set[str]:
    """JACK clients that have PortAudio input ports (capture processes)."""
    return {p.split(":")[0] for p in jack_ports() if p.split(":")[0].startswith("PortAudio")
            and p.split(":", 1)[1].startswith("in_")}


def wait_new_input_client(before: set[str], timeout: float = 30.0) -> str:
    """The name of a PortAudio input client that appeared after ``before`` was taken."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        new = input_clients() - before
        if new:
            time.sleep(0.1)
            return sorted(new)[0]
        time.sleep(0.05)
    raise RuntimeError("no new PortAudio input client appeared")


class JackPlayer:
    """A separate process (its own JACK client) playing a known signal, connected to a port."""

    def __init__(self, spec: str) -> None:
        before = {p.split(":")[0] for p in jack_ports()}
        self.proc = subprocess.Popen([sys.executable, str(PLAYER), spec], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            raise RuntimeError(f"player failed: {line!r} {err}")
        deadline = time.time() + 5
        self.client = None
        while time.time() < deadline and self.client is None:
            for p in jack_ports():
                c = p.split(":")[0]
                if c not in before and p.endswith("out_0"):
                    self.client = c
            time.sleep(0.05)
        if self.client is None:
            raise RuntimeError("player's JACK client not found")

    def _connect(self, wanted) -> list[str]:
        done = []
        for p in jack_ports():
            c, _, name = p.partition(":")
            if c != self.client and name.startswith("in_") and wanted(c):
                subprocess.run(["jack_connect", f"{self.client}:out_0", p], capture_output=True, timeout=5)
                done.append(p)
        return done

    def connect_to_inputs_of(self) -> list[str]:
        """Connect out_0 to every PortAudio input port of other clients (any engine)."""
        return self._connect(lambda c: c.startswith("PortAudio"))

    def connect_to(self, client: str) -> list[str]:
        """Connect out_0 to every input port of one JACK client."""
        return self._connect(lambda c: c == client)

    def underflows(self, timeout: float = 5.0) -> int:
        """Late callbacks of the player so far (a gap or repeat in what it played)."""
        import select
        import signal

        self.proc.send_signal(signal.SIGUSR1)
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError("the player did not report its underflows")
        line = self.proc.stdout.readline()
        if not line.startswith("underflows "):
            raise RuntimeError(f"the player answered {line!r}; expected 'underflows N'")
        return int(line.split()[1])

    def stop(self) -> None:
        terminate(self.proc)


# -- the OSC contract (docs/osc.md) and liblo's oscdump ------------------------------------------
def parse_osc_doc(path: Path | None = None) -> list[dict]:
    """Rows of every address table in docs/osc.md: address, types, rng, rate, needs, meaning, section."""
    import re

    path = path or REPO / "docs" / "osc.md"
    rows, section = [], ""
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        m = re.match(r"\|\s*`(/[^`]+)`\s*\|(.*)\|\s*$", line)
        if not m:
            continue
        cells = [c.strip() for c in m.group(2).split("|")]
        if len(cells) != 5:
            continue
        types = cells[0].strip("`")
        rows.append({"address": m.group(1), "types": "" if types in ("—", "-") else types, "rng": cells[1],
                     "rate": cells[2], "needs": cells[3], "meaning": cells[4], "section": section})
    return rows


def types_regex(doc_types: str) -> str:
    """A regex for OSC type tags from the doc notation: f, ff, f×20, f×N, s×N, s..., [s]."""
    import re

    out, i = "", 0
    toks = re.findall(r"\[[a-z]+\]|[a-z]×(?:\d+|[A-Z])|[a-z]\.\.\.|[a-z]", doc_types)
    for t in toks:
        if t.startswith("["):
            out += f"(?:{t[1:-1]})?"
        elif "×" in t:
            c, n = t.split("×")
            out += f"{c}{{{n}}}" if n.isdigit() else f"{c}+"
        elif t.endswith("..."):
            out += f"{t[0]}.*"
        else:
            out += t
    return out


class OscDump:
    """liblo's ``oscdump -L PORT`` in a subprocess; ``.lines`` holds (address, types, raw line)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc = subprocess.Popen(["oscdump", "-L", str(self.port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines: list[tuple[str, str, str]] = []
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()
        time.sleep(0.3)  # let it bind

    def _read(self) -> None:
        for line in self.proc.stdout:
            parts = line.split()
            if len(parts) >= 2 and parts[1].startswith("/"):
                self.lines.append((parts[1], parts[2] if len(parts) > 2 and not parts[2].startswith('"') and
                                   all(c.isalpha() for c in parts[2]) else "", line.rstrip("\n")))

    def types_of(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for a, t, _ in list(self.lines):
            out.setdefault(a, set()).add(t)
        return out

    def stop(self) -> None:
        terminate(self.proc)
        self._t.join(timeout=2)
