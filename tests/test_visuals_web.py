"""The web viewer and control page in headless Chromium, driven over the DevTools protocol."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import numpy as np
import pytest
from PIL import Image

from helpers import require
from s2s_live.config import Config
from s2s_live.visuals import VisualsController
from s2s_live.osc.ports import free_port as _free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1", "--window-size=512,512",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


def free_port() -> int:
    return _free_port(socket.SOCK_STREAM)


class Browser:
    """Headless Chromium with a tiny CDP client (websockets' sync client)."""

    def __init__(self, extra: tuple = ()) -> None:
        self.profile = tempfile.mkdtemp(prefix="s2s-chromium-")
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, *extra, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        self.ws_url = None
        while time.monotonic() < deadline and self.ws_url is None:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                self.ws_url = m.group(1)
        if self.ws_url is None:
            self.close()
            raise RuntimeError("chromium did not start its DevTools endpoint")
        threading.Thread(target=self._drain, daemon=True).start()
        self.port = int(re.search(r":(\d+)/", self.ws_url).group(1))

    def _drain(self) -> None:
        for _ in self.proc.stderr:
            pass

    def open(self, url: str, width: int = 512, height: int = 512) -> "Page":
        from websockets.sync.client import connect

        with connect(self.ws_url, max_size=None) as b:
            b.send(json.dumps({"id": 1, "method": "Target.createTarget", "params": {"url": url}}))
            while True:
                m = json.loads(b.recv(timeout=20))
                if m.get("id") == 1:
                    tid = m["result"]["targetId"]
                    break
        page = Page(f"ws://127.0.0.1:{self.port}/devtools/page/{tid}")
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        return page

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect

        self.ws = connect(ws_url, max_size=None)
        self.n = 0

    def call(self, method: str, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv(timeout=30))
            if m.get("id") == self.n:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]

    def eval(self, expr: str):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r["result"].get("value")

    def wait(self, expr: str, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self.eval(expr)
            if v:
                return v
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expr}")

    def screenshot(self) -> np.ndarray:
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def browser():
    require(CHROMIUM is not None, "chromium is not installed (apt-get install chromium)")
    b = Browser()
    yield b
    b.close()


@pytest.fixture
def visuals(tmp_path):
    """A running controller (procedural backend, web viewer on a free port) polled like the engine does."""
    events = []
    cfg = Config(visuals="procedural", web_port=free_port(), out_dir=str(tmp_path), visuals_auto=False,
                 visuals_min_interval=0.0, visuals_size=512, visuals_live_fps=20.0)
    ctl = VisualsController(cfg, lambda a, args: events.append((a, args)), start_timeout=60.0)
    ctl.start()
    stop = threading.Event()

    def pump():
        while not stop.is_set():
            ctl.poll()
            time.sleep(0.02)

    th = threading.Thread(target=pump, daemon=True)
    th.start()
    ctl.events = events
    yield ctl
    stop.set()
    th.join()
    ctl.stop()


def wait_images(ctl, n, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        imgs = [args for a, args in list(ctl.events) if a == "image"]
        if len(imgs) >= n:
            return imgs
        time.sleep(0.02)
    raise AssertionError(f"only {len(imgs)} images after {timeout} s")


def test_viewer_shows_the_latest_image_and_the_next_one(browser, visuals):
    visuals.on_frame({"genre": ("rock", 0.9), "emotion": (0.9, 0.9), "bpm": 140.0}, 0.0)
    visuals.generate()
    (_, png1), = wait_images(visuals, 1)
    page = browser.open(visuals.url + "?gl=0&live=0&fade=0&hold=0")  # the image-only fallback path
    try:
        page.wait("document.body.dataset.image === '1'")
        time.sleep(0.2)  # let the opacity switch paint
        shot1 = page.screenshot()
        ref1 = np.asarray(Image.open(png1).convert("RGB")).astype(int)
        assert shot1.shape == ref1.shape
        assert np.abs(shot1 - ref1).mean() < 8.0  # the page shows that PNG

        visuals.on_frame({"genre": ("ambient", 0.9), "emotion": (0.1, 0.1), "bpm": 60.0}, 0.25)  # triggers
        _, (_, png2) = wait_images(visuals, 2)
        page.wait("document.body.dataset.image === '2'")  # pushed over the WebSocket, no reload
        time.sleep(0.2)
        shot2 = page.screenshot()
        ref2 = np.asarray(Image.open(png2).convert("RGB")).astype(int)
        if os.environ.get("S2S_DEBUG_SHOTS"):
            Image.fromarray(np.hstack([shot1, ref1, shot2, ref2]).astype(np.uint8)).save(os.environ["S2S_DEBUG_SHOTS"])
        assert np.abs(shot2 - ref2).mean() < 8.0
        assert np.abs(shot2 - shot1).mean() > 20.0
        # overlay toggled by the "o" key shows genre / emotion / BPM
        page.call("Input.dispatchKeyEvent", type="keyDown", key="o", text="o")
        page.wait("document.getElementById('overlay').classList.contains('on')")
        assert "ambient" in page.wait("document.getElementById('overlay').textContent.includes('ambient') && "
                                      "document.getElementById('overlay').textContent")
    finally:
        page.close()


def test_live_animation_runs_between_images(browser, visuals):
    visuals.on_frame({"genre": ("techno", 0.9), "emotion": (0.7, 0.9), "bpm": 128.0}, 0.0)
    page = browser.open(visuals.url + "?gl=0")  # server-rendered frames (the fallback path)
    try:
        page.wait("window.s2s.frames > 5")
        a = page.screenshot()
        page.wait(f"window.s2s.frames > {page.eval('window.s2s.frames') + 5}")
        b = page.screenshot()
        assert a.mean() > 10.0 and np.abs(a - b).mean() > 1.0  # alive, not a still
    finally:
        page.close()


def test_control_page_triggers_generation_edits_template_and_auto(browser, visuals):
    page = browser.open(visuals.url.rstrip("/") + "/control")
    try:
        page.wait("window.s2s.connected")
        page.eval("document.getElementById('prompt').value = 'from the control page';"
                  "document.getElementById('generate').click()")
        wait_images(visuals, 1)
        assert ("image/started", (1, "from the control page")) in visuals.events
        page.wait("window.s2s.lastImage === 1")
        # template edit: the next built prompt uses it
        page.eval("document.getElementById('template').value = '{genre} at {tempo}';"
                  "document.getElementById('save').click()")
        page.wait("window.s2s.acks >= 2")
        visuals.on_frame({"genre": ("reggae", 0.9), "bpm": 90.0}, 0.0)
        page.eval("document.getElementById('prompt').value = ''; document.getElementById('generate').click()")
        wait_images(visuals, 2)
        started = [args for a, args in visuals.events if a == "image/started"]
        assert started[1] == (2, "reggae at flowing, steady")
        # bad template is refused with a message on the page
        page.eval("document.getElementById('template').value = '{colour}'; document.getElementById('save').click()")
        assert "colour" in page.wait("window.s2s.errors.length && window.s2s.errors[0]")
        # auto mode switch reaches the controller
        assert not visuals.auto
        page.eval("document.getElementById('auto').click()")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not visuals.auto:
            time.sleep(0.05)
        assert visuals.auto
    finally:
        page.close()
