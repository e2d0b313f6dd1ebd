"""The operator page's mapping and dataset panels, and the viewer of disabled visuals.

A real engine on the synth source (visuals procedural, the mapper on), the page in headless
Chromium driven over the DevTools protocol (mouse clicks on the real sliders and buttons, text
typed into the fields), the mapper's ``/wek/outputs`` and ``/s2s/map/status`` on real UDP
sockets, hostile pages as raw WebSocket clients.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_control import Client
from test_visuals_web import CHROMIUM, browser, visuals, wait_images  # noqa: F401 - fixtures

from helpers import OSCRecorder, free_port, require
from s2s_live.config import Config
from s2s_live.engine import Engine


@pytest.fixture(autouse=True, scope="module")
def _skl2onnx():
    import importlib.util

    require(importlib.util.find_spec("skl2onnx") is not None, "skl2onnx (the mapping extra) is not installed")


@pytest.fixture(scope="module")
def eng(tmp_path_factory):
    root = tmp_path_factory.mktemp("operator")
    rec = OSCRecorder()
    cfg = Config(source="synth", synth_styles=["ambient", "techno"], synth_section=3.0, hop=0.1,
                 targets=[f"127.0.0.1:{rec.port}"], control_port=free_port(), visuals="procedural",
                 web_port=free_port(), out_dir=str(root / "images"), visuals_auto=False,
                 mapper=True, mapper_port=0, mapper_inputs=["features/rms", "level", "features/centroid"],
                 mapper_outputs=["x:knn", "style:knn:2"], mapper_targets=[f"127.0.0.1:{rec.port}"],
                 mapper_dir=str(root / "maps"), dataset_root=str(root / "datasets"))
    e = Engine(cfg)
    e.start()
    e.rec, e.root = rec, root
    e.ctl = Client(cfg.control_port)
    assert rec.wait_for("/s2s/frame", 2, timeout=30)
    yield e
    e.stop()
    e.ctl.sock.close()
    rec.close()


def _map_status(e) -> dict:
    m = e.ctl.ask("/s2s/map/status", want="/s2s/map/status")
    assert m is not None
    return json.loads(m[2][0])


def _click(page, selector: str, fx: float = 0.5) -> None:
    """A real mouse click at fraction ``fx`` of the element's width (its vertical middle)."""
    r = page.eval(f"(() => {{ const el = document.querySelector({json.dumps(selector)}); el.scrollIntoView();"
                  f" const b = el.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; }})()")
    x, y = r[0] + fx * r[2], r[1] + r[3] / 2
    for kind in ("mousePressed", "mouseReleased"):
        page.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


def _type(page, selector: str, text: str) -> None:
    page.eval(f"(() => {{ const el = document.querySelector({json.dumps(selector)}); el.value = ''; el.focus(); }})()")
    page.call("Input.insertText", text=text)


def _ws(e):
    from websockets.sync.client import connect

    port = e.cfg.web_port
    ws = connect(f"ws://127.0.0.1:{port}/ws", origin=f"http://127.0.0.1:{port}", max_size=None)
    _until(ws, lambda m: m["type"] == "hello")
    return ws


def _until(ws, pred, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if pred(m):
            return m
    raise AssertionError("no such message")


def _answer(ws, cmd: dict) -> dict:
    ws.send(json.dumps(cmd))
    return _until(ws, lambda m: m["type"] in ("ack", "error"))


def test_mapping_panel_records_trains_and_runs(browser, eng):  # noqa: F811
    page = browser.open(f"http://127.0.0.1:{eng.cfg.web_port}/control", width=900, height=1400)
    try:
        page.wait("window.s2s.map && window.s2s.map.outputs.length === 2")
        assert page.eval("document.querySelectorAll('#mapsliders input[type=range]').length") == 2
        assert page.eval("document.querySelector('#mapsliders .mapname').textContent") == "x"
        _click(page, "#mapout0", 0.85)  # the slider of output x
        hi = float(page.eval("document.getElementById('mapout0').value"))
        assert 0.6 <= hi <= 1.0
        _click(page, "#maprecord")
        page.wait("window.s2s.map.recording && document.getElementById('maprecord').textContent === 'Stop recording'")
        time.sleep(1.0)
        _click(page, "#maprecord")
        page.wait("!window.s2s.map.recording")
        st = _map_status(eng)  # the mapper's own status over OSC
        n1 = st["outputs"][0]["examples"]
        assert n1 >= 5 and st["outputs"][1]["examples"] == n1 and not st["recording"]
        page.wait(f"document.getElementById('mapex0').textContent === '{n1} examples'")

        _click(page, "#mapout0", 0.1)
        lo = float(page.eval("document.getElementById('mapout0').value"))
        assert 0.0 <= lo <= 0.3
        _click(page, "#maprecord")
        page.wait("window.s2s.map.recording")
        time.sleep(1.0)
        _click(page, "#maprecord")
        page.wait(f"!window.s2s.map.recording && window.s2s.map.outputs[0].examples > {n1}")
        n2 = _map_status(eng)["outputs"][0]["examples"]
        page.wait(f"document.getElementById('mapex0').textContent === '{n2} examples'")

        _click(page, "#maptrain")
        page.wait("window.s2s.map.trained && !window.s2s.map.training", timeout=60)
        eng.rec.clear()
        _click(page, "#maprun")
        page.wait("window.s2s.map.running && document.getElementById('maprun').textContent === 'Stop running'")
        got = eng.rec.wait_for("/wek/outputs", 10, timeout=10)
        assert len(got) >= 10
        xs = np.array([a[0] for _, a in got])
        # kNN (k=1) answers one of the two recorded values of x, the class output its class 1
        assert np.all(np.isclose(xs, hi, atol=1e-6) | np.isclose(xs, lo, atol=1e-6)), xs
        assert all(a[1] == 1.0 for _, a in got)
        st = _map_status(eng)
        assert st["trained"] and st["running"]
        assert "trained" in page.eval("document.getElementById('mapstate').textContent")

        # the live plot: rows arrive and the canvas holds traces (not only the background)
        page.wait("window.s2s.mapRows > 20")
        lit = page.eval("(() => { const c = document.getElementById('mapplot');"
                        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
                        " for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 24) + Math.abs(d[i+1] - 24) > 60) n++;"
                        " return n; })()")
        assert lit > 500

        _click(page, "#maprun")
        page.wait("!window.s2s.map.running")
        _click(page, "#mapdelete")
        page.wait("window.s2s.map.examples === 0 && document.getElementById('mapex0').textContent === '0 examples'")
        assert _map_status(eng)["examples"] == 0
    finally:
        page.close()


def test_dataset_panel_records_clips_into_a_named_folder(browser, eng):  # noqa: F811
    page = browser.open(f"http://127.0.0.1:{eng.cfg.web_port}/control", width=900, height=1400)
    try:
        page.wait("window.s2s.connected && window.s2s.dataset")
        _type(page, "#dsname", "voice")
        _type(page, "#dslabel", "hum")
        _type(page, "#dsseconds", "2")
        _click(page, "#dsrecord")
        page.wait("window.s2s.dataset.recording !== null || document.querySelector('#dscounts td[data-label=hum]')")
        page.wait("(document.querySelector('#dscounts td[data-label=hum]') || {}).textContent === '2'"
                  " && !window.s2s.dataset.recording", timeout=20)
        assert page.eval("document.getElementById('dscountsof').textContent") == "voice"
        assert page.eval("Array.from(document.getElementById('dsfolders').options, o => o.value)") == ["voice"]
        folder = eng.root / "datasets" / "voice"
        wavs, sides = sorted(folder.glob("*.wav")), sorted(folder.glob("hum-*.json"))
        assert len(wavs) == 2 and len(sides) == 2
        import soundfile as sf

        for w in wavs:
            y, sr = sf.read(str(w), dtype="float32")
            meta = json.loads(w.with_suffix(".json").read_text())
            assert meta["label"] == "hum" and meta["window"] == "hamming" and meta["sr"] == 16000
            assert sr == 16000 and y.shape == (16000,) and 0.01 < np.sqrt(np.mean(y ** 2)) < 1.0  # the synth's audio
            raw = y.astype(np.float64) / np.hamming(16000)  # Hamming-windowed: undoing it gives the input's RMS
            assert np.sqrt(np.mean(raw ** 2)) == pytest.approx(meta["input_rms"], rel=1e-4)
    finally:
        page.close()


def test_dataset_panel_cancel_keeps_only_complete_clips(browser, eng):  # noqa: F811
    """Cancel mid-recording: the engine stops taking audio at once, the clips written so far stay
    (each a complete 1-s clip with its sidecar), the unfinished second leaves nothing (no partial
    clip, no temporary file), nothing more is written afterwards, and every page is told."""
    import soundfile as sf

    page = browser.open(f"http://127.0.0.1:{eng.cfg.web_port}/control", width=900, height=1400)
    ws = _ws(eng)  # a second page: it hears the state the engine pushes
    try:
        page.wait("window.s2s.connected && window.s2s.dataset")
        assert page.eval("document.getElementById('dscancel').disabled") is True  # nothing to cancel
        _type(page, "#dsname", "takes")
        _type(page, "#dslabel", "long")
        _type(page, "#dsseconds", "60")
        _click(page, "#dsrecord")
        page.wait("window.s2s.dataset.recording && window.s2s.dataset.recording.done >= 2"
                  " && !document.getElementById('dscancel').disabled", timeout=20)
        assert page.eval("document.getElementById('dsrecord').disabled") is True
        _click(page, "#dscancel")
        page.wait("!window.s2s.dataset.recording && window.s2s.dataset.last && window.s2s.dataset.last.cancelled")
        last = page.eval("window.s2s.dataset.last")
        done = last["done"]
        assert last["folder"] == "takes" and last["label"] == "long" and last["want"] == 60 and 2 <= done < 60
        assert page.eval("document.getElementById('dscancel').disabled") is True
        assert page.eval("document.getElementById('dsrecord').disabled") is False
        assert page.eval("document.getElementById('dsprogress').textContent") == \
            f"cancelled: kept {done} of 60 clips of 'long' in takes"
        page.wait(f"(document.querySelector('#dscounts td[data-label=long]') || {{}}).textContent === '{done}'")
        pushed = _until(ws, lambda m: m["type"] == "dataset" and m["recording"] is None
                        and (m.get("last") or {}).get("cancelled"))
        assert pushed["last"]["done"] == done and pushed["counts"] == {"long": done}
        folder = eng.root / "datasets" / "takes"
        time.sleep(1.5)  # longer than a clip: a recorder still taking audio would write another one
        files = sorted(p.name for p in folder.iterdir() if p.name != "dataset.json")
        wavs = [f for f in files if f.endswith(".wav")]
        assert len(wavs) == done and len(files) == 2 * done, files  # no partial clip, no temporary file
        for w in wavs:
            y, sr = sf.read(str(folder / w), dtype="float32")
            meta = json.loads((folder / w).with_suffix(".json").read_text())
            assert sr == 16000 and y.shape == (16000,) and meta["label"] == "long" and meta["samples"] == 16000
        assert sorted(json.loads((folder / w).with_suffix(".json").read_text())["offset_s"] for w in wavs) == \
            [float(k) for k in range(done)]  # the first seconds, in order: none skipped, none half
        assert eng.operator.counters["cancelled"] >= 1
        # nothing is running now: a second cancel is refused in one line; a new recording works
        m = _answer(ws, {"cmd": "dataset", "action": "cancel"})
        assert m["type"] == "error" and m["reason"] == "no dataset recording is running; nothing to cancel", m
        m = _answer(ws, {"cmd": "dataset", "action": "record", "folder": "takes", "label": "short", "seconds": 1})
        assert m == {"type": "ack", "cmd": "dataset/record", "args": ["takes", "short", 1.0]}
        _until(ws, lambda m: m["type"] == "dataset" and m["recording"] is None
               and (m.get("last") or {}).get("label") == "short", timeout=20)
        assert len(list(folder.glob("short-*.wav"))) == 1
        page.wait("document.getElementById('dsprogress').textContent === \"recorded 1 clips of 'short' into takes\"")
    finally:
        ws.close()
        page.close()


def test_hostile_page_commands_are_refused_in_one_line(eng):
    from websockets.exceptions import ConnectionClosed

    before = {p for p in eng.root.parent.iterdir()}
    ws = _ws(eng)
    try:
        bad = [
            "not json", "[1, 2]", '{"cmd": 5}',
            {"cmd": "map", "name": "rm -rf /"}, {"cmd": "map", "name": "save", "args": ["x"]},
            {"cmd": "map", "name": "outputs", "args": [{"a": 1}]}, {"cmd": "map", "name": "outputs", "args": "0.5"},
            {"cmd": "map", "name": "outputs", "args": list(range(65))},
            {"cmd": "map", "name": "outputs", "args": [0.5]},  # two outputs: the mapper's own check
            {"cmd": "map", "name": "outputs", "args": [0.5, 7]},  # class 7 of 2
            {"cmd": "map", "name": "startRecording", "args": [1]},
            {"cmd": "dataset", "action": "rm"}, {"cmd": "dataset", "action": "list", "folder": {"x": 1}},
            {"cmd": "dataset", "action": "record", "folder": "ok", "seconds": 2, "label": "a\nb"},
            {"cmd": "dataset", "action": "record", "folder": "ok", "seconds": 2, "label": "x" * 200},
            {"cmd": "dataset", "action": "record", "folder": "ok", "seconds": 0},
            {"cmd": "dataset", "action": "record", "folder": "ok", "seconds": 1e9},
            {"cmd": "dataset", "action": "record", "folder": "ok", "seconds": "2"},
            {"cmd": "dataset", "action": "record", "folder": "ok", "seconds": 2, "label": "../up"},
            {"cmd": "dataset", "action": "cancel"},  # nothing is recording
            {"cmd": "dataset", "action": "cancel", "folder": {"x": 1}},
            {"cmd": "dataset", "action": "cancel", "label": "a\nb"},
            {"cmd": "dataset", "action": "cancel", "seconds": "all"},
            {"cmd": "dataset", "action": "cancel", "folder": "x" * 200},
            {"cmd": "dataset", "action": "Cancel"}, {"cmd": "dataset", "action": ["cancel"]},
        ] + [{"cmd": "dataset", "action": a, "folder": f, "seconds": 2, "label": "x"}
             for f in ("../escape", "/tmp/abs", "a/b", "..", ".", ".hidden", "x" * 65, "with space", "a.b")
             for a in ("record", "list")]
        for cmd in bad:
            ws.send(cmd if isinstance(cmd, str) else json.dumps(cmd))
            m = _until(ws, lambda m: m["type"] in ("ack", "error"))
            assert m["type"] == "error", (cmd, m)
            assert "\n" not in m["reason"] and 0 < len(m["reason"]) <= 400, m
            assert "Traceback" not in m["reason"] and str(eng.root) not in m["reason"], m
        for special in ("Infinity", "NaN"):  # JSON extensions Python parses: not finite numbers
            ws.send('{"cmd": "map", "name": "outputs", "args": [%s, 1]}' % special)
            m = _until(ws, lambda m: m["type"] in ("ack", "error"))
            assert m["type"] == "error" and "finite" in m["reason"], m
        m = _answer(ws, {"cmd": "dataset", "action": "list", "folder": "../escape"})
        assert "never a path" in m["reason"]
        # a flood of panel commands: the page's budget refuses the excess, the engine's queue stays short
        from s2s_live.visuals.web import PAGE_BURST, PAGE_RATE

        refused, t0 = 0, time.monotonic()
        for _ in range(6):
            for _ in range(50):
                ws.send(json.dumps({"cmd": "map", "name": "status"}))
            until = time.monotonic() + 0.3  # read what came (a page that never reads is dropped)
            while time.monotonic() < until:
                try:
                    m = json.loads(ws.recv(timeout=0.1))
                except TimeoutError:
                    continue
                refused += m["type"] == "error" and "too many map commands" in m["reason"]
        allowed = PAGE_BURST + PAGE_RATE * (time.monotonic() - t0)
        assert 300 - allowed - 1 <= refused < 300, (refused, allowed)
        time.sleep(1.0)  # the budget refills
        # an oversized message closes that page only (the server's bound), the server keeps serving
        ws.send(json.dumps({"cmd": "map", "name": "outputs", "args": ["x" * 70000]}))
        with pytest.raises(ConnectionClosed):
            for _ in range(100):
                ws.recv(timeout=5)
    finally:
        ws.close()
    assert {p for p in eng.root.parent.iterdir()} == before  # nothing created outside the root
    assert not (eng.root / "datasets" / "ok").exists()  # refused recordings wrote nothing
    ws = _ws(eng)
    try:
        m = _answer(ws, {"cmd": "map", "name": "outputs", "args": [0.25, 2]})
        assert m == {"type": "ack", "cmd": "map/outputs", "args": [0.25, 2.0]}
        assert _map_status(eng)["outputs"][0]["name"] == "x"
        # a flood of cancels: the same per-page budget as every panel command
        t0 = time.monotonic()
        for _ in range(150):
            ws.send(json.dumps({"cmd": "dataset", "action": "cancel"}))
        answers = [_until(ws, lambda m: m["type"] in ("ack", "error")) for _ in range(150)]
        allowed = PAGE_BURST + PAGE_RATE * (time.monotonic() - t0)
        budget = sum("too many dataset commands" in m["reason"] for m in answers)
        nothing = sum(m["reason"] == "no dataset recording is running; nothing to cancel" for m in answers)
        busy = sum("send fewer" in m["reason"] for m in answers)  # the engine's own queue bound
        assert budget + nothing + busy == 150 and 150 - allowed - 1 <= budget < 150, (budget, nothing, busy, allowed)
    finally:
        ws.close()
    frames = len(eng.rec.of("/s2s/frame"))
    time.sleep(0.5)
    assert len(eng.rec.of("/s2s/frame")) > frames  # the engine kept streaming
    assert eng.ctl.ask("/s2s/ping", want="/s2s/pong") is not None


def test_disabled_visuals_keep_the_viewer_serving_the_last_image(browser, visuals):  # noqa: F811
    """After MAX_CRASHES worker crashes the visuals are disabled: the viewer still answers, its
    hello names the last image (served byte for byte) and says disabled, the page shows that
    image, generate is refused; restart brings the backend back and the image stays."""
    from websockets.sync.client import connect

    from s2s_live.visuals.controller import MAX_CRASHES

    visuals.on_frame({"genre": ("rock", 0.9), "emotion": (0.9, 0.9), "bpm": 140.0}, 0.0)
    visuals.generate()
    (_, png), = wait_images(visuals, 1)
    for i in range(MAX_CRASHES):
        deadline = time.monotonic() + 30
        while not (visuals.stats()["ready"] or visuals.disabled) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(visuals.stats()["pid"], signal.SIGKILL)  # die as a segfaulting backend would
        deadline = time.monotonic() + 30
        while visuals.stats()["crashes"] < i + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert visuals.disabled
    port = visuals.cfg.web_port

    def hello():
        deadline = time.monotonic() + 30
        while True:
            try:
                with connect(f"ws://127.0.0.1:{port}/ws", origin=f"http://127.0.0.1:{port}") as ws:
                    return json.loads(ws.recv(timeout=10))
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    h = hello()
    assert h["disabled"] is True and h["image"]["url"] == f"/images/{Path(png).name}"
    assert [r["url"] for r in h["recent"]] == [h["image"]["url"]]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", h["image"]["url"])
    r = conn.getresponse()
    assert r.status == 200 and r.read() == Path(png).read_bytes()
    conn.close()
    with connect(f"ws://127.0.0.1:{port}/ws", origin=f"http://127.0.0.1:{port}") as ws:
        ws.recv(timeout=10)
        ws.send(json.dumps({"cmd": "generate"}))
        m = json.loads(ws.recv(timeout=10))
        assert m["type"] == "error" and "/s2s/visuals/restart" in m["reason"]
    page = browser.open(visuals.url + "?gl=0&live=0&fade=0&hold=0")
    try:
        page.wait(f"document.body.dataset.image === '{h['image']['id']}'")
        assert page.eval("window.s2s.disabled") is True
        assert "visuals disabled" in page.eval("document.getElementById('notice').textContent")
        page.eval("document.getElementById('notice').style.display = 'none'")
        time.sleep(0.2)
        shot = page.screenshot()
        ref = np.asarray(Image.open(png).convert("RGB")).astype(int)
        assert shot.shape == ref.shape and np.abs(shot - ref).mean() < 8.0  # the last image, on screen
    finally:
        page.close()
    assert visuals.restart()
    deadline = time.monotonic() + 30
    while not visuals.stats()["ready"] and time.monotonic() < deadline:
        time.sleep(0.05)
    h2 = hello()
    assert h2["disabled"] is False and h2["image"]["url"] == h["image"]["url"]
    visuals.generate("after the restart")
    wait_images(visuals, 2)
