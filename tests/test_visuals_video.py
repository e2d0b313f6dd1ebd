"""Video mode: a tiny random-weight Stable Video Diffusion pipeline, built offline, turns each
image into a loop, end to end through the visuals worker, and the WebGL viewer plays it."""

from __future__ import annotations

import importlib.util
import json
import time

import numpy as np
import pytest
from helpers import require
from PIL import Image
from test_visuals_web import browser, free_port  # noqa: F401 - fixture

from s2s_live.config import Config
from s2s_live.errors import ConfigError
from s2s_live.visuals import VisualsController

require(importlib.util.find_spec("diffusers") is not None, "diffusers not installed (the 'diffusers' extra)")


@pytest.fixture(scope="module")
def tiny_video(tmp_path_factory):
    from s2s_live.visuals.tiny import build_random_video_pipeline

    return str(build_random_video_pipeline(tmp_path_factory.mktemp("svd") / "tiny-svd"))


def test_images_become_loops_through_the_worker_and_the_viewer_plays_them(tiny_video, tmp_path, browser):  # noqa: F811
    ev = []
    cfg = Config(visuals="procedural", visuals_video=tiny_video, visuals_video_frames=3, visuals_video_steps=1,
                 visuals_size=64, visuals_device="cpu", web_port=free_port(), out_dir=str(tmp_path),
                 visuals_auto=False, visuals_min_interval=0.0, visuals_live_fps=0.0)
    ctl = VisualsController(cfg, lambda a, args: ev.append((a, args)), start_timeout=120.0)
    ctl.start()
    try:
        assert ctl.info["video"] == "svd" and ctl.info["video_frames"] == 3
        page = browser.open(ctl.url + "?fade=0")
        ctl.on_frame({"genre": ("jazz", 0.9), "emotion": (0.6, 0.3), "bpm": 90.0}, 0.0)
        ctl.generate()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(a == "image/video" for a, _ in ev):
            ctl.poll()
            time.sleep(0.02)
        (vid_id, path), = [args for a, args in ev if a == "image/video"]
        (img_id, png), = [args for a, args in ev if a == "image"]
        assert vid_id == img_id == 1 and path.endswith("-loop.png")
        with Image.open(path) as im:
            sheet = np.asarray(im.convert("RGB")).astype(int)
        assert sheet.shape == (64, 3 * 64, 3)  # three frames side by side
        frames = [sheet[:, i * 64:(i + 1) * 64] for i in range(3)]
        assert all(f.std() > 1 for f in frames) and np.abs(frames[0] - frames[2]).mean() > 0.5  # it moves
        side = json.loads(open(path[:-4] + ".json").read())
        assert side["image"] == png.rsplit("/", 1)[1] and side["frames"] == 3
        assert page.wait("window.s2s.stats().video") == 1  # the viewer loaded the loop as its texture
        page.close()
    finally:
        ctl.stop()


def test_video_settings_are_checked():
    with pytest.raises(ConfigError, match="visuals_video_frames=1 is invalid; expected an integer in 2..25"):
        VisualsController(Config(visuals="procedural", visuals_video="x", visuals_video_frames=1), lambda a, b: None)
    with pytest.raises(ConfigError, match="wider than 16384"):
        VisualsController(Config(visuals="procedural", visuals_video="x", visuals_video_frames=25, visuals_size=1024),
                          lambda a, b: None)
