"""Cold starts (issue 15): the kernel cache, `s2s-live warmup`, what a user sees while kernels
compile, and `analyze --out` clashes.

Every test that compiles runs the real CLI in a subprocess with its own empty NUMBA_CACHE_DIR
(never the shared cache). Nothing here asserts how long anything takes: waits are generous
bounds so a loaded 2-core machine passes too.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from helpers import OSCRecorder, free_port, terminate

ROOT = Path(__file__).resolve().parent.parent
COLD_WAIT = 300.0  #: seconds a cold compile may take on a loaded machine before the test gives up
NAN = re.compile(r"\bnan\b", re.IGNORECASE)
MESSAGE = "preparing DSP kernels, first run only, about "

pytestmark = pytest.mark.slow


def _env(cache: Path) -> dict:
    return dict(os.environ, NUMBA_CACHE_DIR=str(cache), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "s2s_live", *args]


class _Lines:
    """Collects a child's output lines in a thread; ``wait_for`` a line containing some text."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._t = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._t.start()

    def _run(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float) -> str | None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            hit = next((ln for ln in list(self.lines) if text in ln), None)
            if hit is not None:
                return hit
            time.sleep(0.05)
        return None

    def text(self) -> str:
        self._t.join(timeout=5)
        return "\n".join(self.lines)


def _status(rec: OSCRecorder, control_port: int) -> dict:
    """Ask the engine's control server for /s2s/status over a real socket; the JSON reply
    (NaN refused: a strict JSON reader would reject it)."""
    from s2s_live.osc import encode_message

    n = len(rec.of("/s2s/status"))
    rec.sock.sendto(encode_message("/s2s/status", "", []), ("127.0.0.1", control_port))
    got = rec.wait_for("/s2s/status", count=n + 1, timeout=20)
    assert len(got) > n, "no /s2s/status reply"

    def no_nan(c):
        raise AssertionError(f"/s2s/status JSON holds {c}")

    return json.loads(got[-1][1][0], parse_constant=no_nan)


# ---------------------------------------------------------------------------------------------
def test_cold_demo_says_so_reports_progress_and_counts_seconds_from_first_frame(tmp_path):
    cache = tmp_path / "cache"
    rec = OSCRecorder()
    cport = free_port()
    p = subprocess.Popen(_cli("demo", "--visuals", "none", "--web-port", "0", "--control-port", str(cport),
                              "--target", f"127.0.0.1:{rec.port}", "--seconds", "1.5"),
                         cwd=ROOT, env=_env(cache), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = _Lines(p.stdout)
    try:
        msg = out.wait_for(MESSAGE, timeout=120)
        assert msg is not None, out.text()
        assert not rec.of("/s2s/frame"), "the message must come before the wait, not after it"
        assert re.search(r"about \d+ s", msg) and str(cache) in msg
        st = _status(rec, cport)
        assert st["state"] == "preparing", st
        prep = st["preparing"]
        assert prep["message"].startswith(MESSAGE) and prep["kernels_expected"] > 0
        assert 0.0 <= prep["progress"] < 1.0
        assert str(cache) not in json.dumps(st)  # replies go to remote senders: no local paths
        assert rec.wait_for("/s2s/frame", timeout=COLD_WAIT), out.text()
        st = _status(rec, cport)
        assert st["state"] == "running" and st["first_frame_s"] > 0
        p.wait(timeout=COLD_WAIT)
    finally:
        terminate(p)
        rec.close()
    text = out.text()
    assert p.returncode == 0, text
    assert not NAN.search(text), text
    # the non-terminal live view reports progress while it compiles
    assert any(ln.startswith("startup   " + MESSAGE) and "kernels" in ln for ln in out.lines), text
    # --seconds 1.5 counts from the first frame: ~6 frames at the 0.25-s hop, never 0
    assert len(rec.of("/s2s/frame")) >= 4, text
    assert re.search(r"stopped: (\d+) frames", text) and "stopped: 0 frames" not in text
    assert (cache / "s2s_live_warm.json").is_file()


def test_cold_demo_stopped_during_the_wait_shows_no_nan(tmp_path):
    """As a person sees it on a terminal (a pty, so the live view redraws in place)."""
    cache = tmp_path / "cache"
    master, slave = pty.openpty()
    p = subprocess.Popen(_cli("demo", "--visuals", "none", "--web-port", "0", "--control-port", "0",
                              "--target", f"127.0.0.1:{free_port()}"),
                         cwd=ROOT, env=_env(cache), stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    buf = bytearray()

    def read_until(pred, timeout: float) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    return pred(buf.decode("utf-8", "replace"))
                buf.extend(chunk)
            if pred(buf.decode("utf-8", "replace")):
                return True
        return False

    try:
        # the message, then one redraw of the table during the wait
        assert read_until(lambda s: MESSAGE in s and "startup" in s and "frames    emitted" in s, 120), bytes(buf)
        p.send_signal(signal.SIGINT)
        p.wait(timeout=60)  # a bound, not a timing: the unwound start stops well within it
        read_until(lambda s: "stopped: " in s, 10)
    finally:
        terminate(p)
        os.close(master)
    screen = buf.decode("utf-8", "replace")
    assert p.returncode == 0, screen
    assert not NAN.search(screen), screen
    assert "—" in screen  # timings with no figure yet
    assert "stopped while preparing DSP kernels" in screen and "stopped: 0 frames" in screen


def test_warmup_fills_the_cache_and_the_next_demo_does_not_wait(tmp_path):
    cache = tmp_path / "cache"
    env = _env(cache)
    r = subprocess.run(_cli("warmup", "--check"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "cold" in r.stdout, r.stdout + r.stderr
    r = subprocess.run(_cli("warmup"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=COLD_WAIT * 2)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "warmup: done" in r.stdout
    assert list(cache.rglob("*.nbi")) and list(cache.rglob("*.nbc"))
    stamp = json.loads((cache / "s2s_live_warm.json").read_text())
    assert stamp["by"] == "warmup"
    # the engine's and the visuals' kernels were all reached through the real paths
    live = ("s2s_live.features.", "s2s_live.frames.", "s2s_live.dsp.fft.", "s2s_live.dsp.spectral.",
            "s2s_live.dsp.resample.", "s2s_live.visuals.procedural.")
    assert not [k for k in stamp["unused"] if k.startswith(live)], stamp["unused"]
    r = subprocess.run(_cli("warmup", "--check"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "warm" in r.stdout and str(cache) in r.stdout, r.stdout + r.stderr
    r = subprocess.run(_cli("demo", "--visuals", "none", "--web-port", "0", "--control-port", "0", "--quiet",
                            "--target", f"127.0.0.1:{free_port()}", "--seconds", "0.5"),
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "preparing DSP kernels" not in r.stdout and "stopped:" in r.stdout


def test_default_cache_dir_is_per_user_and_env_wins(tmp_path):
    code = ("import os, s2s_live, s2s_live.kernels as k; "
            "print(os.environ['NUMBA_CACHE_DIR']); print(k.default_cache_dir())")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME="")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(tmp_path / ".cache" / "s2s_live" / "numba")] * 2
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "mine")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.split()[0] == str(tmp_path / "mine")


def test_live_view_before_any_frame_shows_dashes_not_nan():
    from s2s_live.config import Config
    from s2s_live.engine import Engine
    from s2s_live.liveview import render

    eng = Engine(Config(source="synth", control_port=0, targets=[]))
    eng.stats.timing("frame")  # registered stages with no sample yet: percentiles are NaN inside
    eng.stats.timing("latency")
    text = "\n".join(render(eng))
    assert not NAN.search(text) and "—" in text
    st = eng.status()
    json.dumps(st, allow_nan=False)  # /s2s/status must be strict JSON
    eng.stop()


# ---------------------------------------------------------------------------------------------
def _wav(path: Path, seconds: float = 1.0, sr: int = 22050) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr)
    return path


def test_analyze_out_holding_a_file_named_like_an_input_is_a_one_line_error(tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    _wav(music / "x.wav")
    _wav(music / "y.wav")
    out = tmp_path / "ana"
    out.mkdir()
    _wav(out / "x.wav")  # a file where the results folder ana/x.wav would go
    r = subprocess.run(_cli("analyze", str(music / "x.wav"), "--out", str(out), "-q"), cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "FileExistsError" not in err, err
    assert err.startswith("s2s-live: error: --out") and str(out / "x.wav") in err and "x.wav" in err
    assert "choose an --out folder" in err
    # the usual way to hit it: the inputs' own folder as --out
    r = subprocess.run(_cli("analyze", str(music), "--out", str(music), "-q"), cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "(and 1 more)" in r.stderr and "music_analysis" in r.stderr, r.stderr
    assert not list(music.glob("*/summary.json"))  # refused before analysing anything
    # --out naming an existing file
    r = subprocess.run(_cli("analyze", str(music), "--out", str(out / "x.wav"), "-q"), cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "is an existing file; expected a folder" in r.stderr, r.stderr
