"""WebGL2 shader scenes of the viewer in headless Chromium (its software WebGL, SwiftShader).

The page is driven through the real paths: the controller's fast-stream ring and state queue,
the visuals process, the WebSocket; one test runs the whole engine on its synthetic music and
controls the scene over real OSC/UDP.
"""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from test_control import Client
from test_visuals_web import Browser, browser, free_port, visuals  # noqa: F401 - fixtures

from s2s_live.config import Config
from s2s_live.visuals.state import SCENES, scene_for


def _stats(page) -> dict:
    return json.loads(page.eval("JSON.stringify(window.s2s.stats())"))


def _settled_scene(page, name: str) -> dict:
    """Wait until the page shows ``name`` with no crossfade running."""
    return json.loads(page.wait(f"(() => {{ const s = window.s2s.stats(); return s.scene === '{name}' && "
                                f"s.next === null && JSON.stringify(s); }})()", timeout=30))


class Feeder:
    """Plays the engine's part for a controller: a state every hop, fast blocks at ~86/s,
    optionally a beat every ``beat_every`` blocks."""

    def __init__(self, ctl, values: dict, *, level: float = 0.5, beat_every: int = 0) -> None:
        self.ctl, self.values, self.level, self.beat_every = ctl, values, level, beat_every
        self.stop = threading.Event()
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            beat = bool(self.beat_every) and n % self.beat_every == 0
            self.ctl.on_fast({"level": self.level, "bands": [self.level / 2, self.level / 4, self.level / 8],
                              "onset": 0.0, "beat": beat, "bpm": 120.0})
            if n % 20 == 0:
                self.ctl.on_frame(dict(self.values), 0.0)
            time.sleep(0.0116)

    def close(self) -> None:
        self.stop.set()
        self.th.join()


def test_scenes_render_report_stats_and_look_different(browser, visuals):  # noqa: F811
    feed = Feeder(visuals, {"genre": ("pop", 0.9), "emotion": (0.8, 0.8), "bpm": 120.0})
    page = browser.open(visuals.url + "?fade=0")
    try:
        page.wait("window.s2s.mode === 'webgl' && window.s2s.stats().fps > 0")
        st = _stats(page)
        assert st["fps"] > 0 and st["width"] > 0 and st["height"] > 0 and 0.1 <= st["scale"] <= 1.0
        assert st["scene"] in SCENES
        shots = {}
        for name in SCENES:  # the operator page's lock, through the controller, as OSC would
            visuals.set_scene(name)
            _settled_scene(page, name)
            time.sleep(0.2)
            shots[name] = page.screenshot()
        for name, a in shots.items():
            assert a.std() > 8.0, name  # not a blank canvas
        diffs = [np.abs(shots[a] - shots[b]).mean() for i, a in enumerate(SCENES) for b in SCENES[i + 1:]]
        assert min(diffs) > 8.0, diffs  # six clearly different families
    finally:
        page.close()
        feed.close()


def test_a_beat_flashes_in_the_next_frame(browser, visuals):  # noqa: F811
    visuals.set_scene("reaction")
    feed = Feeder(visuals, {"genre": ("ambient", 0.9), "emotion": (0.3, 0.2), "bpm": 60.0}, level=0.0)
    page = browser.open(visuals.url + "?fade=0")
    try:
        _settled_scene(page, "reaction")
        page.eval("window.s2s.log = []")
        page.wait("window.s2s.log.length > 20")
        beats0 = _stats(page)["beats"]
        visuals.on_fast({"beat": True, "level": 0.0})  # one beat through the ring and the WebSocket
        page.wait(f"window.s2s.log.some(e => e.beats > {beats0})")
        log = page.eval("window.s2s.log")
        i = next(k for k, e in enumerate(log) if e["beats"] > beats0)
        before = [e["luma"] for e in log[max(0, i - 20):i]]
        assert log[i]["luma"] > max(before) + 60, (before[-5:], log[i:i + 3])  # the very first frame
        assert log[i]["frame"] == log[i - 1]["frame"] + 1
    finally:
        page.close()
        feed.close()


def test_scene_follows_genre_and_quadrant_on_the_downbeat(browser, visuals):  # noqa: F811
    feed = Feeder(visuals, {"genre": ("rock", 0.9), "emotion": (0.8, 0.8), "bpm": 150.0}, beat_every=8)
    page = browser.open(visuals.url + "?fade=0.2")
    try:
        seen = []
        for genre, va in (("rock", (0.8, 0.8)), ("rock", (0.2, 0.2)), ("jazz", (0.2, 0.2))):
            feed.values = {"genre": (genre, 0.9), "emotion": va, "bpm": 150.0}
            want = scene_for(genre, "happy" if va[0] > 0.5 else "sad")
            st = _settled_scene(page, want)
            assert st["beats"] % 4 == 0 or st["beats"] >= 4  # a running beat count: fades start on beats
            seen.append(want)
        assert len(set(seen)) == 3, seen  # genre and quadrant changes both changed the family
    finally:
        page.close()
        feed.close()


def test_fallback_without_webgl_says_so_and_shows_server_frames(visuals):  # noqa: F811
    visuals.on_frame({"genre": ("techno", 0.9), "emotion": (0.7, 0.9), "bpm": 128.0}, 0.0)
    b = Browser(extra=("--disable-webgl",))
    try:
        page = b.open(visuals.url)
        assert page.wait("window.s2s.mode === 'fallback' && window.s2s.stats().mode") == "fallback"
        assert "server-rendered" in page.eval("document.getElementById('notice').textContent")
        assert page.eval("getComputedStyle(document.getElementById('notice')).display") != "none"
        page.wait("window.s2s.frames > 3")  # JPEG frames of the live animation arrive and are drawn
        page.close()
    finally:
        b.close()


@pytest.fixture
def engine_with_visuals(tmp_path):
    from s2s_live.engine import Engine

    def make(style: str):
        cfg = Config(source="synth", synth_styles=[style], targets=[], control_port=free_port(),
                     visuals="procedural", web_port=free_port(), out_dir=str(tmp_path), visuals_auto=False,
                     visuals_live_fps=0.0, quiet=True)
        return Engine(cfg).start()

    return make


def _music_shots(browser, eng, n=5):  # noqa: F811
    eng.visuals.set_scene("flow")  # one family: palette, level, density and motion make the difference
    page = browser.open(eng.visuals.url + "?fade=0&scale=0.5&image=0")
    try:
        page.wait("window.s2s.mode === 'webgl' && window.s2s.stats().beats !== null && window.s2s.stats().frames > 30",
                  timeout=40)
        page.wait("window.s2s.stats().scene === 'flow'")
        time.sleep(2.0)  # the state settles
        shots = []
        for _ in range(n):
            shots.append(page.screenshot())
            time.sleep(0.3)
        return shots, _stats(page), page
    except BaseException:
        page.close()
        raise


def test_music_through_the_engine_changes_the_picture_and_osc_locks_the_scene(browser, engine_with_visuals):  # noqa: F811
    eng = engine_with_visuals("ambient")  # quiet, calm, no drums
    try:
        calm, calm_st, page = _music_shots(browser, eng)
        page.close()
    finally:
        eng.stop()
    eng = engine_with_visuals("techno")  # loud, dark, driving
    try:
        tense, tense_st, page = _music_shots(browser, eng)
        try:
            # OSC scene lock and intensity, over real UDP, reach the page
            c = Client(eng.control.port)
            try:
                assert c.ask("/s2s/visuals/scene", "s", "grid", want="/s2s/ack")[2][1] == "grid"
                assert c.ask("/s2s/visuals/intensity", "f", 1.5, want="/s2s/ack")[2][1] == pytest.approx(1.5)
                err = c.ask("/s2s/visuals/scene", "s", "nope", want="/s2s/error")
                assert "unknown" in err[2][-1]
                err = c.ask("/s2s/visuals/intensity", "f", 9.0, want="/s2s/error")
                assert "0.0..2.0" in err[2][-1]
            finally:
                c.close()
            page.wait("window.s2s.stats().lock === 'grid' && window.s2s.stats().intensity === 1.5")
            st = _settled_scene(page, "grid")
            assert st["intensity"] == pytest.approx(1.5)
        finally:
            page.close()
    finally:
        eng.stop()
    # the picture's colour (mean RGB; robust to where the motion is): medians over the shots
    calm_c = np.array([x.mean(axis=(0, 1)) for x in calm])
    tense_c = np.array([x.mean(axis=(0, 1)) for x in tense])
    spread = np.median(np.abs(calm_c - np.median(calm_c, axis=0)).sum(axis=1))  # within one music state
    dist = np.abs(np.median(tense_c, axis=0) - np.median(calm_c, axis=0)).sum()
    assert tense_st["level"] > calm_st["level"], (calm_st, tense_st)
    assert dist > max(20.0, 3 * spread), (calm_c, tense_c)


def test_operator_page_locks_the_scene_sets_intensity_palette_and_lists_images(browser, visuals):  # noqa: F811
    feed = Feeder(visuals, {"genre": ("rock", 0.9), "emotion": (0.8, 0.8), "bpm": 150.0})
    ops = browser.open(visuals.url.rstrip("/") + "/control")
    view = browser.open(visuals.url + "?fade=0")  # opened last: the visible tab, which animates
    try:
        ops.wait("window.s2s.connected && document.getElementById('scene').options.length === 7")
        set_ = "(id, v) => { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event('change')); }"
        ops.eval(f"window.set_ = {set_}; set_('scene', 'reaction'); set_('intensity', '0.4'); set_('palette', '-0.5')")
        view.wait("(s => s.lock === 'reaction' && s.intensity === 0.4 && s.palette === -0.5)(window.s2s.stats())")
        _settled_scene(view, "reaction")
        assert visuals.stats()["viewer"] == {"lock": "reaction", "intensity": 0.4, "palette": -0.5}
        ops.eval("set_('scene', 'auto')")
        _settled_scene(view, scene_for("rock", "happy"))  # unlocked: the music's family again
        for n in (1, 2):
            visuals.generate()
            ops.wait(f"document.querySelectorAll('#strip figure').length === {n}")
        assert ops.eval("document.querySelector('#strip figure').dataset.id") == "2"  # newest first
        view.wait("window.s2s.stats().imageId === 2")  # the viewer took it as its texture
    finally:
        ops.close()
        view.close()
        feed.close()
