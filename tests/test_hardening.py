"""Issue 12 (hardening): bad input gives one-line errors, float32 limits, status JSON, restored
interpreter settings, thread-safe counters."""

from __future__ import annotations

import subprocess
import sys

import hostile
import numpy as np
import pytest
import soundfile as sf


def _cli(*argv, timeout=90):
    return subprocess.run([sys.executable, "-m", "s2s_live", *map(str, argv)],
                          capture_output=True, text=True, timeout=timeout)


def _one_line_error(r, *words):
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    err = r.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("s2s-live: error:"), err
    for w in words:
        assert w in err, (w, err)


# -- 1. one-line errors ---------------------------------------------------------------------------
def test_cli_doctor_config_is_read(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("hop = 3.0\n")
    _one_line_error(_cli("doctor", "--config", bad), "hop=3.0", "invalid")
    good = tmp_path / "good.toml"
    good.write_text("hop = 0.25\n")
    r = _cli("doctor", "--config", good, timeout=180)
    assert "Traceback" not in r.stderr and "checks passed" in r.stdout, r.stderr[-2000:]


@pytest.mark.parametrize("sr", [4000, 400000])
def test_cli_run_file_rate_out_of_range(tmp_path, sr):
    p = tmp_path / f"sr{sr}.wav"
    sf.write(p, np.full(sr, 0.1, dtype=np.float32), sr)
    _one_line_error(_cli("run", "--file", p, "--quiet", "--seconds", "1", "--control-port", "0", "--visuals", "none"),
                    f"{sr} Hz", "samplerate", "8000..384000")


def test_cli_analyze_jobs_zero(tmp_path):
    p = tmp_path / "a.wav"
    sf.write(p, np.full(22050, 0.1, dtype=np.float32), 22050)
    _one_line_error(_cli("analyze", "--jobs", "0", p, "--out", tmp_path / "o"), "--jobs=0", "1..256")


def test_cli_similar_bad_k_and_time(tmp_path):
    p = tmp_path / "a.wav"
    sf.write(p, np.full(22050, 0.1, dtype=np.float32), 22050)
    lib = tmp_path / "nolib"  # the arguments are checked before the library is read
    _one_line_error(_cli("similar", "-k", "0", p, "-l", lib), "-k=0", ">= 1")
    _one_line_error(_cli("similar", f"{p}@-3", "-l", lib), "'-3'", ">= 0")


# -- 4. the switch interval is the host's again after stop() (before the module's engine starts) --
def test_stop_restores_switch_interval():
    from helpers import OSCRecorder
    from s2s_live.config import Config
    from s2s_live.engine import SWITCH_INTERVAL, Engine

    before = sys.getswitchinterval()
    mine = 0.0123
    assert abs(mine - SWITCH_INTERVAL) > 1e-3
    sys.setswitchinterval(mine)
    rec = OSCRecorder()
    try:
        def make():
            return Engine(Config(source="synth", targets=[f"127.0.0.1:{rec.port}"], control_port=0, visuals="none"))

        e, e2 = make(), make()
        e.start()
        try:
            assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
            e2.start()
            e2.stop()  # the other engine still streams: it keeps the short interval
            assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        finally:
            e.stop()
            e2.stop()
        assert sys.getswitchinterval() == pytest.approx(mine)
        e.stop()  # idempotent: a second stop leaves it alone
        assert sys.getswitchinterval() == pytest.approx(mine)
    finally:
        sys.setswitchinterval(before)
        rec.close()


# -- control over real UDP ------------------------------------------------------------------------
# the engine with a control port and the UDP client of test_control.py (one definition of each)
from test_control import client, eng  # noqa: E402,F401


# -- 2. float32 endpoints -----------------------------------------------------------------------
def test_float32_endpoints_accepted(eng, client):
    try:
        for addr, v, attr in (("/s2s/hop", 0.01, "hop"), ("/s2s/hop", 1.0, "hop"),
                              ("/s2s/smoothing", 0.99, "smoothing"), ("/s2s/smoothing", 0.0, "smoothing")):
            m = client.ask(addr, "f", v, want=None)
            assert m is not None and m[0] == "/s2s/ack", (addr, v, m)
            assert getattr(eng.cfg, attr) == v  # the exact endpoint, not 0.0099999998
        for addr, v in (("/s2s/hop", 0.0099), ("/s2s/smoothing", 0.991), ("/s2s/hop", float("nan"))):
            m = client.ask(addr, "f", v)
            assert m is not None and m[0] == "/s2s/error", (addr, v, m)
    finally:
        eng.set_hop(0.25)
        eng.set_smoothing(0.5)


# -- 3. /s2s/status always parses ---------------------------------------------------------------
@pytest.mark.parametrize("n_keys", [0, 60, 400, 3000])
def test_status_reply_is_always_json(eng, client, n_keys):
    import json

    keys = [f"errors:/s2s/some/long/address/{'x' * 40}/{i}" for i in range(n_keys)]
    for k in keys:
        eng.stats.incr(k)
    eng.health_message = "device lost: " + "y" * (500 if n_keys else 0)
    try:
        m = client.ask("/s2s/status", want="/s2s/status")
        assert m is not None and m[1] == "s"
        assert len(m[2][0]) <= 7900
        s = json.loads(m[2][0])  # a cut string would not parse
        assert s["counters"]["frames"] >= 1 and "state" in s and "hop" in s
        if n_keys >= 400:
            assert "counters" in s["truncated"]
    finally:
        for k in keys:
            eng.stats.counters.pop(k, None)
        eng.health_message = ""



# -- 5. counters from many threads ----------------------------------------------------------------
def _hammer(fn, threads=8, n=20000):
    import threading

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show at once
    try:
        go = threading.Barrier(threads)

        def work():
            go.wait()
            for _ in range(n):
                fn()

        ts = [threading.Thread(target=work) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    finally:
        sys.setswitchinterval(old)
    return threads * n


def test_stats_incr_exact_under_threads():
    from s2s_live.stats import Stats

    st = Stats()
    total = _hammer(lambda: st.incr("hits"))
    assert st.counters["hits"] == total
    assert st.snapshot()["counters"]["hits"] == total


def test_error_rate_window_under_threads():
    import time

    from s2s_live.config import Config
    from s2s_live.engine import ERROR_RATE, Engine

    e = Engine(Config(source="synth", targets=[], control_port=0, visuals="none"))
    t0 = time.perf_counter()
    total = _hammer(lambda: e.report_error("test", "boom"), n=3000)
    windows = int(time.perf_counter() - t0) + 1
    c = e.stats.counters
    assert c["errors"] == total
    sent = total - c.get("errors_unsent", 0)
    assert 1 <= sent <= ERROR_RATE * windows, (sent, windows)
    e.stop()


# -- huge finite samples ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["1e30 block", "3e38 click"])
def test_huge_finite_samples_are_clamped_and_the_models_recover(kind):
    """1e30 for half a second, or a 10-sample click at 3e38, inside music: every value stays
    finite (running sums used to overflow into NaN for the rest of the run), what was clamped is
    counted, and genre/emotion still answer after the window has passed."""
    from s2s_live.config import Config
    from s2s_live.frames import FrameAssembler
    from s2s_live.pipeline import analyze_array, build_processors
    from s2s_live.capture.synth import MusicSynth

    sr = 22050
    y = np.zeros(40 * sr, np.float32)
    MusicSynth(sr=sr, seed=3, section_seconds=40, styles=["techno"]).render_into(y)
    if kind == "1e30 block":
        y[5 * sr : int(5.5 * sr)] = 1e30
        n_bad = int(0.5 * sr)
    else:
        y[5 * sr : 5 * sr + 10] = 3e38
        n_bad = 10
    a = FrameAssembler(samplerate=sr, channels=[0], hop=0.25)
    seg = np.ascontiguousarray(y[4 * sr : 7 * sr, None])
    for i in range(0, seg.shape[0], 4096):
        a.push(seg[i : i + 4096], min(4096, seg.shape[0] - i))
    assert a.clamped == n_bad and a.nonfinite == 0
    rows = analyze_array(y, sr, build_processors(Config()), hop=0.25)
    for r in rows:
        for k, v in r.items():
            if isinstance(v, (float, np.floating, np.ndarray)) and np.asarray(v).dtype.kind == "f":
                assert np.all(np.isfinite(v)), f"{k} at {r['time']:.2f} s is not finite"
    late = [r for r in rows if r["time"] >= 38.0]
    assert late and all(r["genre"][0] and r["emotion/label"] for r in late)


# -- a deleted card.json ------------------------------------------------------------------------
def test_a_model_folder_without_its_card_is_reported_not_dropped_silently(tmp_path):
    """The emotion head's card.json deleted by hand: the engine still runs the rest, says so in
    /s2s/error, `doctor` fails that folder by name and `run`'s start-up prints one line."""
    import shutil
    from pathlib import Path

    from helpers import OSCRecorder

    from s2s_live.config import Config
    from s2s_live.doctor import FAIL, check_models
    from s2s_live.engine import Engine

    src = Path(__file__).resolve().parents[1] / "models"
    for n in ("tagger-msd", "tagger-mtt", "genre", "emotion"):
        shutil.copytree(src / n, tmp_path / n)
    (tmp_path / "emotion" / "card.json").unlink()
    res = check_models(Config(models_dir=str(tmp_path)))
    assert any(v == FAIL and "'emotion'" in m and "card.json" in m for v, _, m in res), res
    rec = OSCRecorder()
    e = Engine(Config(source="synth", targets=[f"127.0.0.1:{rec.port}"], control_port=0, visuals="none",
                      models_dir=str(tmp_path)))
    try:
        e.start()
        errs = rec.wait_for("/s2s/error", 1, timeout=20)
        assert any(a[0] == "models" and "'emotion'" in a[1] and "card.json" in a[1] for _, a in errs), errs
        assert rec.wait_for("/s2s/genre", 1, timeout=20)  # the other models keep serving
    finally:
        e.stop()
        rec.close()
    cfg = tmp_path / "show.toml"
    cfg.write_text(f'models_dir = "{tmp_path}"\n')
    r = _cli("run", "--synth", "--config", cfg, "--seconds", "1", "--quiet", "--visuals", "none",
             "--control-port", "0", "--target", "127.0.0.1:9", timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    warn = [ln for ln in r.stderr.splitlines() if "card.json" in ln]
    assert len(warn) == 1 and warn[0].startswith("s2s-live: warning:") and "'emotion'" in warn[0], r.stderr


# -- broken audio files -------------------------------------------------------------------------
def test_broken_files_are_named_in_one_line_each(tmp_path):
    import json

    src = tmp_path / "in"
    src.mkdir()
    hostile.broken_audio_files(src)
    r = _cli("analyze", src, "--out", tmp_path / "out", "--quiet", timeout=300)
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert r.returncode == 1  # the 1-sample file failed
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith(("warning:", "error"))]
    for name in ("cut.wav", "cut.mp3", "liar.wav"):
        hit = [ln for ln in lines if name in ln]
        assert len(hit) == 1 and hit[0].startswith("warning:") and "truncated" in hit[0], (name, lines)
        s = json.loads((tmp_path / "out" / name / "summary.json").read_text())
        assert s["warnings"] and "truncated" in s["warnings"][0]
    assert "36000.0 s" in next(ln for ln in lines if "liar.wav" in ln)
    tiny = [ln for ln in lines if "tiny.wav" in ln]
    assert len(tiny) == 1 and "shorter than one hop" in tiny[0], lines
    assert "3 analysed, 0 already done, 1 failed" in r.stdout

