"""Visuals: prompt builder, procedural backend, atomic output, controller with a real worker process."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from s2s_live.config import Config
from s2s_live.errors import ConfigError, VisualsError
from s2s_live.visuals import VisualsController
from s2s_live.visuals.procedural import Animator, palette, render, render_state
from s2s_live.visuals.prompt import build_prompt, check_template, emotion_words, load_templates, tempo_words
from s2s_live.visuals.state import SCENES, SceneChooser, quadrant, scene_for, state_from_values
from s2s_live.visuals.worker import save_image


# -- state & prompt ------------------------------------------------------------------------------
def test_state_from_values_reads_engine_outputs_and_tolerates_missing_keys():
    st = state_from_values({"genre": ("rock", 0.8), "emotion": (0.9, 0.2), "bpm": 128.0, "key": "A minor",
                            "features/centroid": 1500.0, "instruments": np.full(10, 0.5, np.float32),
                            "instruments/words": ("piano",), "vocals": 0.9, "vocals/label": "female vocals"})
    assert st["genre"] == "rock" and st["genre_conf"] == pytest.approx(0.8)
    assert (st["valence"], st["arousal"], st["emotion"]) == (0.9, 0.2, "calm")
    assert st["bpm"] == 128.0 and st["key"] == "A minor" and st["instruments"] == ("piano",)
    assert st["vocals"] == pytest.approx(0.9) and st["vocals_label"] == "female vocals"
    empty = state_from_values({})
    assert empty["genre"] is None and empty["emotion"] is None and empty["bpm"] == 0.0
    # garbage does not raise; NaN falls back to neutral
    st = state_from_values({"emotion": (float("nan"), 2.0), "bpm": "fast", "genre": 3})
    assert st["valence"] == 0.5 and st["arousal"] == 1.0 and st["bpm"] == 0.0 and st["genre"] is None


def test_state_from_a_real_frame_reads_what_the_engine_sends():
    """The values of a frame the default processors made (shipped models, taggers) on synthetic
    music, not names written here: every state field the engine can fill is filled, from the
    frame's own values (a state that read a key the engine does not send stays at its default)."""
    from s2s_live.pipeline import analyze_array, build_processors
    from s2s_live.capture.synth import MusicSynth

    y = MusicSynth(sr=22050, seed=0).render(8.0)
    v = analyze_array(y, 22050, build_processors(Config()), hop=0.5)[-1]
    st = state_from_values(v)
    assert st["genre"] == v["genre"][0] and st["genre_conf"] == pytest.approx(float(v["genre"][1]))
    assert (st["valence"], st["arousal"]) == pytest.approx((float(v["emotion/valence"]), float(v["emotion/arousal"])))
    assert st["emotion"] == v["emotion/label"]
    assert st["bpm"] == pytest.approx(float(v.get("bpm", v["features/tempo"]))) and st["bpm"] > 0
    assert st["key"] == v["key"] and st["centroid"] == pytest.approx(float(v["features/centroid"]))
    assert st["centroid"] > 0
    assert st["level"] == pytest.approx(min(1.0, float(v.get("level", v["features/rms"])))) and st["level"] > 0
    assert st["instruments"] == tuple(v["instruments/words"])
    assert st["vocals"] == pytest.approx(float(v["vocals"])) and st["vocals_label"] == v["vocals/label"]
    assert st["tags"] == tuple(v["tags"][0::2])[:3] and st["tags"]
    assert st["xy"] == pytest.approx(tuple(float(x) for x in v["latent/xy"]))
    assert st["latent"] == pytest.approx(tuple(float(x) for x in v["latent"][:8])) and len(st["latent"]) == 8
    # and nothing the state reads is missing from a real frame
    assert {"genre", "emotion/label", "key", "features/centroid", "instruments/words", "vocals", "vocals/label",
            "tags", "latent/xy", "latent"} <= set(v)


@pytest.mark.parametrize("v,a,q", [(0.9, 0.9, "happy"), (0.1, 0.9, "tense"), (0.1, 0.1, "sad"), (0.9, 0.1, "calm")])
def test_quadrants(v, a, q):
    assert quadrant(v, a) == q


def test_prompt_has_genre_tempo_emotion_instruments_and_vocals():
    t = load_templates()
    p = build_prompt({"genre": "jazz", "bpm": 70.0, "valence": 0.15, "arousal": 0.1, "emotion": "sad",
                      "instruments": ("saxophone", "piano"), "vocals": 0.1}, t)
    assert "jazz club" in p.text and "slow" in p.text and "melancholic" in p.text
    assert "with saxophone and piano" in p.text and t.voice["instrumental"] in p.text
    assert ", ," not in p.text and not p.text.startswith(",")
    assert p.negative == t.negative and "watermark" in p.negative
    # unknown genre -> default subject; no emotion known -> no emotion words
    q = build_prompt({"genre": "polka"}, t)
    assert t.default["subject"] in q.text and "melancholic" not in q.text


def test_continuous_values_weight_the_prompt():
    t = load_templates()
    weak = emotion_words(0.55, 0.55, t)
    strong = emotion_words(1.0, 1.0, t)
    assert len(weak.split(", ")) == 1 and len(strong.split(", ")) == len(t.emotions["happy"])
    assert tempo_words(60, t) != tempo_words(170, t) and tempo_words(0, t) == ""
    lo = build_prompt({"genre": "pop"}, t, params=[0.0]).text
    hi = build_prompt({"genre": "pop"}, t, params=[1.0]).text
    mid = build_prompt({"genre": "pop"}, t, params=[0.5]).text
    assert t.params[0]["low"] in lo and t.params[0]["high"] in hi
    assert t.params[0]["low"] not in mid and t.params[0]["high"] not in mid


def test_templates_file_errors(tmp_path):
    with pytest.raises(VisualsError, match="does not exist"):
        load_templates(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('template = "{subject} {colour}"\n')
    with pytest.raises(VisualsError, match="colour"):
        load_templates(bad)
    bad.write_text("template = [")
    with pytest.raises(VisualsError, match="not valid TOML"):
        load_templates(bad)
    with pytest.raises(ValueError, match="placeholder"):
        check_template("{nope}")
    custom = tmp_path / "mine.toml"
    custom.write_text('template = "{genre} in {key}"\n[genres.rock]\nsubject = "x"\n')
    assert build_prompt({"genre": "rock", "key": "E major"}, load_templates(custom)).text == "rock in E major"


# -- procedural ------------------------------------------------------------------------------------
ROCK = {"genre": "rock", "valence": 0.8, "arousal": 0.8, "level": 0.7, "bpm": 140.0}
AMBIENT = {"genre": "ambient", "valence": 0.2, "arousal": 0.15, "level": 0.2, "bpm": 70.0}


def test_procedural_is_deterministic_for_state_and_seed():
    a = render_state(ROCK, seed=3, size=128)
    b = render_state(ROCK, seed=3, size=128)
    assert a.shape == (128, 128, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    c = render_state(ROCK, seed=4, size=128)
    assert np.mean(np.abs(a.astype(int) - c)) > 2.0  # another seed, another image


def test_procedural_changes_with_the_music():
    rock = render_state(ROCK, size=128).astype(float)
    amb = render_state(AMBIENT, size=128).astype(float)
    assert np.mean(np.abs(rock - amb)) > 10.0
    # brightness follows level
    loud = render_state(dict(ROCK, level=1.0), size=128).mean()
    quiet = render_state(dict(ROCK, level=0.0), size=128).mean()
    assert loud > 1.5 * quiet
    # palette: warm (red > blue) for high valence, cold (blue > red) for low valence
    warm, cold = palette(0.95, 0.6), palette(0.05, 0.6)
    assert warm[128:200, 0].mean() > warm[128:200, 2].mean()
    assert cold[128:200, 2].mean() > cold[128:200, 0].mean()
    # structure: texture (pixel-to-pixel variation) is rougher for metal than for ambient
    metal = render_state(dict(AMBIENT, genre="metal"), size=128).astype(float)
    assert np.abs(np.diff(metal, axis=1)).mean() > 2 * np.abs(np.diff(amb, axis=1)).mean()


def test_animator_moves_with_tempo_and_onsets():
    an = Animator(size=64, seed=1)
    an.update(ROCK, {"level": 0.5, "onset": 0.0, "beats": 0.0}, 0.1)
    f0 = an.frame().copy()
    an.update(ROCK, {"level": 0.5, "onset": 0.0, "beats": 0.0}, 0.1)
    assert an.phase == pytest.approx(0.2 * 140 / 60)
    assert np.mean(np.abs(an.frame().astype(int) - f0)) > 1.0
    an.update(ROCK, {"level": 0.5, "onset": 0.0, "beats": 1.0}, 0.01)  # a beat kicks the pulse
    assert an.pulse > 0.9
    buf = an.buf
    assert an.frame() is buf  # renders into one reused buffer


def test_render_rejects_bad_arguments():
    lut = palette(0.5, 0.5)
    with pytest.raises(ValueError, match="params"):
        render(np.zeros(3), lut)
    with pytest.raises(ValueError, match="width/height"):
        render(np.zeros(14), lut, width=4)
    with pytest.raises(ValueError, match="out"):
        render(np.zeros(14), lut, width=16, height=16, out=np.zeros((8, 8, 3), np.uint8))


# -- atomic output ---------------------------------------------------------------------------------
def test_save_image_is_atomic_and_writes_a_sidecar(tmp_path):
    path = tmp_path / "img.png"
    imgs = [render_state(dict(ROCK, genre=g), size=256) for g in ("rock", "jazz", "techno")]
    stop = threading.Event()
    written = [0]

    def writer():
        i = 0
        while not stop.is_set():
            save_image(imgs[i % 3], path, {"id": i, "prompt": "p"})
            written[0] += 1
            i += 1

    th = threading.Thread(target=writer)
    th.start()
    reads = 0
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            if not path.exists():
                continue
            with Image.open(path) as im:  # a partial PNG would raise here
                arr = np.asarray(im.convert("RGB"))
            assert any(np.array_equal(arr, x) for x in imgs)
            reads += 1
    finally:
        stop.set()
        th.join()
    assert reads > 5 and written[0] > 5
    import json

    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["prompt"] == "p"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temporary files left
    with pytest.raises(ValueError, match="uint8"):
        save_image(np.zeros((4, 4), np.float32), tmp_path / "x.png")


# -- controller with a real worker process -----------------------------------------------------
class Events:
    """The emit() callback: records (monotonic time, address, args)."""

    def __init__(self):
        self.items = []

    def __call__(self, address, args):
        self.items.append((time.monotonic(), address, args))

    def of(self, address):
        return [a for (_, ad, a) in self.items if ad == address]


def pump(ctl, until, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ctl.poll()
        if until():
            return True
        time.sleep(0.01)
    return False


def make_ctl(tmp_path, ev, **kw):
    cfg = Config(visuals="procedural", web_port=0, out_dir=str(tmp_path / "out"), visuals_auto=False,
                 visuals_min_interval=0.0, visuals_size=128, visuals_live_fps=0.0)
    cfg.update(**kw)
    return VisualsController(cfg, ev, start_timeout=60.0)


def crash(ctl) -> None:
    """Kill the visuals worker by its PID, as a segfaulting backend dies (exit code -9)."""
    os.kill(ctl.stats()["pid"], signal.SIGKILL)


def test_controller_generates_from_the_music_and_writes_png_and_sidecar(tmp_path):
    ev = Events()
    ctl = make_ctl(tmp_path, ev)
    ctl.start()
    try:
        ctl.on_frame({"genre": ("disco", 0.9), "emotion": (0.9, 0.9), "bpm": 120.0}, 0.0)
        ctl.generate()
        assert pump(ctl, lambda: ev.of("image"))
        (jid, prompt), = ev.of("image/started")
        assert jid == 1 and "mirror ball" in prompt and "joyful" in prompt
        (jid2, path), = ev.of("image")
        assert jid2 == 1 and Path(path).is_absolute()
        import json

        meta = json.loads(Path(path).with_suffix(".json").read_text())
        assert meta["genre"] == "disco" and meta["emotion"]["label"] == "happy" and meta["prompt"] == prompt
        assert meta["seed"] == 1 and meta["timings"]["generate_s"] >= 0
        with Image.open(path) as im:
            assert im.size == (128, 128)
        # deterministic: the same state and seed give the image the backend renders in-process
        state = state_from_values({"genre": ("disco", 0.9), "emotion": (0.9, 0.9), "bpm": 120.0})
        np.testing.assert_array_equal(np.asarray(Image.open(path).convert("RGB")),
                                      render_state(state, seed=1, size=128))
        # genre change and emotion-quadrant change trigger images
        ctl.on_frame({"genre": ("metal", 0.9), "emotion": (0.9, 0.9)}, 0.25)
        assert pump(ctl, lambda: len(ev.of("image")) >= 2)
        ctl.on_frame({"genre": ("metal", 0.9), "emotion": (0.1, 0.9)}, 0.5)
        assert pump(ctl, lambda: len(ev.of("image")) >= 3)
        ctl.on_frame({"genre": ("metal", 0.9), "emotion": (0.1, 0.9)}, 0.75)  # no change, no image
        assert ctl.stats()["requests"] == 3
        st = ctl.stats()
        assert st["generated"] == 3 and st["crashes"] == 0 and st["last_latency_s"] is not None
    finally:
        ctl.stop()


def test_latest_request_wins_and_one_job_in_flight(tmp_path):
    ev = Events()
    ctl = make_ctl(tmp_path, ev, visuals_size=1024)  # a real 1024-px render is slow enough to queue behind
    ctl.start()
    try:
        ctl.generate("first")
        ctl.poll()
        for p in ("second", "third", "fourth"):
            ctl.generate(p)
            ctl.poll()
            assert ctl.stats()["in_flight"]
        assert pump(ctl, lambda: len(ev.of("image")) >= 2)
        prompts = [p for (_, p) in ev.of("image/started")]
        assert prompts == ["first", "fourth"]
        assert ctl.stats()["dropped"] == 2 and ctl.stats()["requests"] == 4
    finally:
        ctl.stop()


def test_rate_limit_spaces_image_starts(tmp_path):
    ev = Events()
    ctl = make_ctl(tmp_path, ev, visuals_min_interval=1.0)
    ctl.start()
    try:
        t0 = time.monotonic()
        ctl.generate("a")  # dispatched at once (nothing in flight), after t0
        assert pump(ctl, lambda: ev.of("image"))
        ctl.generate("b")
        pump(ctl, lambda: False, timeout=0.3)
        assert len(ev.of("image/started")) == 1 and ctl.stats()["pending"]  # held back by the limit
        assert pump(ctl, lambda: len(ev.of("image")) >= 2)
        t_b = [tt for (tt, ad, _) in ev.items if ad == "image/started"][1]
        assert t_b - t0 >= 1.0  # "b" started no sooner than min_interval after "a"
    finally:
        ctl.stop()


def test_auto_mode_and_interval(tmp_path):
    ev = Events()
    ctl = make_ctl(tmp_path, ev)
    ctl.start()
    try:
        ctl.set_interval(1.0)
        ctl.set_auto(True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(ev.of("image")) < 2:
            ctl.on_frame({"genre": ("pop", 0.5)}, 0.0)
            ctl.poll()
            time.sleep(0.05)
        assert len(ev.of("image")) >= 2
        assert all(a[0] for a in ev.of("image"))
        with pytest.raises(ValueError, match=r"interval=0.1 is out of range; expected 1.0..3600.0"):
            ctl.set_interval(0.1)
    finally:
        ctl.stop()


def test_worker_crash_is_counted_reported_and_restarted(tmp_path):
    ev = Events()
    ctl = make_ctl(tmp_path, ev)
    ctl.start()
    try:
        pid = ctl.stats()["pid"]
        crash(ctl)
        assert pump(ctl, lambda: ctl.stats()["crashes"] == 1)
        errs = ev.of("error")
        assert errs and errs[0][0] == "visuals" and "code -9" in errs[0][1]
        assert ctl.stats()["restarts"] == 1 and ctl.stats()["pid"] != pid
        ctl.on_frame({"genre": ("blues", 0.7)}, 0.0)  # the engine keeps calling in meanwhile
        ctl.on_fast({"level": 0.3, "bands": np.array([0.1, 0.2, 0.3]), "onset": 0.5, "beat": 1})
        ctl.generate("after the crash")
        assert pump(ctl, lambda: ev.of("image"))
        assert ev.of("image/started")[-1][1] == "after the crash"
    finally:
        ctl.stop()
    ctl.stop()  # idempotent
    assert ctl.stats()["pid"] is None


def test_disabled_after_five_crashes_and_restarted_on_request(tmp_path):
    """Five crashes within a minute disable the visuals (said in /s2s/error with the way back);
    restart() starts a fresh worker that makes images again; restart() while running is refused."""
    from s2s_live.visuals.controller import MAX_CRASHES

    ev = Events()
    ctl = make_ctl(tmp_path, ev)
    ctl.start()
    try:
        assert not ctl.restart()  # running: nothing to restart
        for i in range(MAX_CRASHES):
            assert pump(ctl, lambda: ctl._ready or ctl.disabled, timeout=30)
            crash(ctl)
            assert pump(ctl, lambda i=i: ctl.stats()["crashes"] == i + 1, timeout=30)
        assert ctl.disabled
        assert "visuals disabled" in ev.of("error")[-1][1] and "/s2s/visuals/restart" in ev.of("error")[-1][1]
        assert ctl.restart() and not ctl.disabled
        assert pump(ctl, lambda: ctl._ready, timeout=30)
        ctl.generate("back again")
        assert pump(ctl, lambda: ev.of("image"), timeout=30)
        assert ev.of("image/started")[-1][1] == "back again"
    finally:
        ctl.stop()


def test_start_reports_backend_errors_clearly(tmp_path):
    cfg = Config(visuals="diffusers", visuals_model=str(tmp_path / "no-such-model"), web_port=0,
                 out_dir=str(tmp_path))
    ctl = VisualsController(cfg, Events(), start_timeout=60.0)
    with pytest.raises(VisualsError, match="no-such-model"):
        ctl.start()
    ctl.stop()
    with pytest.raises(ConfigError, match="visuals_interval"):
        VisualsController(Config(visuals="procedural", visuals_interval=0.0), Events())
    with pytest.raises(ConfigError, match="visuals_size"):
        VisualsController(Config(visuals="procedural", visuals_size=100), Events())


def test_prompts_never_pair_contradictory_energy():
    """A calm/sad emotion never meets a high-energy scene or tempo words, a happy/tense one never
    a low-energy scene: for every packaged genre, quadrant and tempo."""
    from s2s_live.visuals.prompt import entry_energy

    t = load_templates()
    high = {t.genres[g]["subject"] for g in t.genres if entry_energy(t.genres[g]) > 0}
    low = {t.genres[g]["subject"] for g in t.genres if entry_energy(t.genres[g]) < 0}
    assert high and low
    for g in t.genres:
        for q, (v, a) in {"happy": (0.9, 0.9), "tense": (0.1, 0.9), "sad": (0.1, 0.1), "calm": (0.9, 0.1)}.items():
            for bpm in (60.0, 100.0, 170.0):
                p = build_prompt({"genre": g, "emotion": q, "valence": v, "arousal": a, "bpm": bpm}, t).text
                if q in ("sad", "calm"):
                    assert not any(h in p for h in high) and "frantic" not in p, (g, q, bpm, p)
                else:
                    assert not any(lo in p for lo in low) and "slow, still" not in p, (g, q, bpm, p)
    p = build_prompt({"genre": "metal", "emotion": "calm", "valence": 0.9, "arousal": 0.1}, t).text
    assert "storm of fire" not in p and "still lake" in p and "calm" in p


def test_prompt_names_the_voice():
    t = load_templates()
    p = build_prompt({"genre": "soul", "vocals": 0.9, "vocals_label": "female vocals"}, t).text
    assert "woman singing" in p
    p = build_prompt({"genre": "soul", "vocals": 0.1, "vocals_label": "instrumental"}, t).text
    assert "no people" in p and "singing" not in p


def test_scene_family_from_genre_tags_and_quadrant_held_until_stable():
    assert scene_for("rock", "happy") == "tunnel" and scene_for("rock", "tense") == "kaleido"
    assert scene_for(None, "calm", ("ambient", "chill")) == scene_for("ambient", "calm")  # tags stand in
    for g in ("rock", "jazz", "some new genre"):  # every quadrant change changes the family
        assert len({scene_for(g, q) for q in ("happy", "tense", "sad", "calm")}) == 4
    assert all(scene_for(g, q) in SCENES for g in ("x", "", None) for q in ("happy", None))
    ch = SceneChooser(hold=1.0)
    rock = {"genre": "rock", "emotion": "happy"}
    assert ch.update(rock, 0.0) == "flow"  # a candidate, not yet stable
    assert ch.update({"genre": "jazz", "emotion": "happy"}, 0.5) == "flow"  # flicker restarts the hold
    assert ch.update(rock, 0.6) == "flow" and ch.update(rock, 1.2) == "flow"
    assert ch.update(rock, 1.7) == "tunnel"
    st = state_from_values({"tags": ("guitar", 0.9, "rock", 0.5, "loud", 0.2), "latent/xy": (0.2, 1.7)})
    assert st["tags"] == ("guitar", "rock", "loud") and st["xy"] == (0.2, 1.0)


def test_scene_style_preset_joins_the_genre_style():
    t = load_templates()
    base = build_prompt({"genre": "rock", "bpm": 120.0}, t)
    tunnel = build_prompt({"genre": "rock", "bpm": 120.0, "scene": "tunnel"}, t)
    assert tunnel.parts["style"] == base.parts["style"] + ", " + t.scenes["tunnel"]
    assert t.scenes["tunnel"] in tunnel.text and t.scenes["tunnel"] not in base.text
    assert set(t.scenes) == set(SCENES)  # a preset for every family
