"""The visuals process: backend, job loop, atomic PNG + JSON output, web viewer.

:func:`worker_main` is the entry point of the spawned process (see
:class:`~s2s_live.visuals.controller.VisualsController`). It talks to the engine through

* ``cmd_q`` (engine -> worker): ``("state", state, params)`` latest music state,
  ``("job", request)`` one generation request, ``("settings", dict)`` auto/interval for the
  control page, ``("page", page, msg)`` a message for operator page ``page`` (None: every page;
  the mapping/dataset panel state is kept for pages that connect later) and ``("stop",)``;
* ``evt_q`` (worker -> engine): ``("ready", info)``, ``("fatal", reason)``,
  ``("started", id, prompt)``, ``("progress", id, step, total)``,
  ``("image", id, path, meta)``, ``("failed", id, reason)`` and ``("cmd", name, value)``
  forwarded from the control page (generate/auto/interval go through the engine's rate limiter;
  ``("cmd", "page", (kind, page, payload))`` a mapping/dataset panel command for the engine);
* ``fast`` — a shared float64 array written by the engine's fast stream: the newest block's
  values (:data:`FAST_SLOTS`), read by the live animation, then a ring of the last
  :data:`FAST_RING` blocks (each :data:`FAST_SLOTS` long, ``t`` = engine monotonic seconds) after
  a write counter at :data:`FAST_COUNT`, which the web viewer streams to the shader pages at the
  native block rate. No message passing; a torn entry only costs one block of one page's display.

Started with ``cfg["_viewer_only"]`` (the visuals were disabled after repeated crashes) the
worker loads no backend and runs no jobs: it only serves the web viewer, the last images
(``cfg["_recent"]``, kept by the engine across workers) and the operator page.

A receiver thread drains ``cmd_q`` continuously (so the engine's queue never backs up while a
slow diffusion job runs); the main thread runs one job at a time, always the newest waiting one.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VisualsError
from ..jsonvalues import jsonable
from .state import FAST_COUNT, FAST_INDEX, FAST_RING, FAST_SIZE, FAST_SLOTS, default_state  # noqa: F401

RECENT = 8  #: last images listed to the operator page
#: Niceness added to the visuals process (it must never win the CPU from the audio engine).
NICE = 10
#: The files this package writes into ``out_dir``: ``s2s-<run>-<id>.png`` and ``-loop.png`` (video
#: mode), each with its ``.json`` sidecar. :func:`prune_images` deletes nothing else.
OUR_FILE = re.compile(r"^s2s-(\d{8}-\d{6})-(\d{5,9})(?:-loop)?\.(?:png|json)$")


def prune_images(folder: str | Path, *, keep: int = 0, keep_bytes: int = 0,
                 protect: tuple = ()) -> tuple[int, int]:
    """Delete the oldest images in ``folder`` until at most ``keep`` images and ``keep_bytes`` bytes remain.

    An image is the group of files named :data:`OUR_FILE` with one run stamp and id: the PNG, its
    sidecar, its loop and the loop's sidecar, deleted together. Oldest first is by (run stamp, id),
    i.e. the order they were made in. ``keep``/``keep_bytes`` 0 = no limit of that kind. The newest
    image is never deleted (the viewer shows it), nor any group whose PNG name is in ``protect``;
    files that are not ours (other names, links, folders) are neither counted nor touched.
    Returns (images deleted, bytes freed). Raises OSError when a file cannot be deleted.
    """
    groups: dict[tuple, list] = {}
    with os.scandir(folder) as it:
        for e in it:
            m = OUR_FILE.match(e.name)
            if m is None or not e.is_file(follow_symlinks=False):
                continue
            try:
                size = e.stat(follow_symlinks=False).st_size
            except FileNotFoundError:  # deleted meanwhile
                continue
            groups.setdefault((m.group(1), int(m.group(2))), []).append((e.path, size))
    order = sorted(groups)
    total = sum(sz for g in groups.values() for _, sz in g)
    count = len(order)
    keep_names = {Path(p).name for p in protect}
    deleted = freed = 0
    for key in order[:-1]:  # never the newest
        if not ((keep and count > keep) or (keep_bytes and total > keep_bytes)):
            break
        files = groups[key]
        if any(Path(p).name in keep_names for p, _ in files):
            continue
        for p, sz in files:
            try:
                os.unlink(p)
                freed += sz
            except FileNotFoundError:
                pass
            total -= sz
        count -= 1
        deleted += 1
    return deleted, freed


def save_image(img: np.ndarray, path: str | Path, meta: dict | None = None) -> Path:
    """Write ``img`` (H, W, 3) uint8 as PNG at ``path``, atomically, with a JSON sidecar.

    The sidecar (``path`` with ``.json``) is written first and both go through a temporary file
    in the same folder and ``os.replace``, so a reader that sees the PNG sees a complete PNG and
    its complete sidecar. Returns the absolute path of the PNG.
    """
    from PIL import Image

    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"img must be a uint8 array of shape (H, W, 3), got {getattr(img, 'shape', None)} "
                         f"{getattr(img, 'dtype', type(img).__name__)}")
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    tag = f".{os.getpid()}.{threading.get_ident()}.tmp"
    if meta is not None:
        side = path.with_suffix(".json")
        tmp = side.with_name("." + side.name + tag)
        tmp.write_text(json.dumps(jsonable(meta), indent=1, default=str))
        os.replace(tmp, side)
    tmp = path.with_name("." + path.name + tag)
    with open(tmp, "wb") as f:
        Image.fromarray(img).save(f, format="PNG", compress_level=1)
    os.replace(tmp, path)
    return path


class ProceduralBackend:
    """Stills from :mod:`s2s_live.visuals.procedural` (deterministic in state and seed)."""

    name = "procedural"

    def __init__(self, *, size: int = 512) -> None:
        if not isinstance(size, int) or not 64 <= size <= 2048:
            raise VisualsError(f"visuals_size={size!r} is invalid; expected an integer in 64..2048")
        self.size = size

    def describe(self) -> dict:
        return {"backend": self.name, "size": self.size, "device": "cpu"}

    def warmup(self) -> None:
        from .procedural import render_state

        render_state(default_state(), size=64)  # loads/compiles the numba kernel (cached)

    def generate_state(self, state: dict, *, seed: int, params: tuple = ()) -> np.ndarray:
        from .procedural import render_state

        return render_state(state, seed=seed, size=self.size, params=params)


class _ViewerOnly:
    """No backend: the worker of disabled visuals serves the viewer and its last images only."""

    name = "none"

    def describe(self) -> dict:
        return {"backend": self.name, "device": "none"}

    def warmup(self) -> None:
        pass


def make_backend(cfg: dict):
    """The configured backend (``cfg["visuals"]``): ProceduralBackend or DiffusionBackend."""
    kind = cfg.get("visuals", "procedural")
    if kind == "procedural":
        return ProceduralBackend(size=int(cfg.get("visuals_size", 512)))
    if kind == "diffusers":
        from .diffusion import DiffusionBackend

        return DiffusionBackend(
            cfg.get("visuals_model") or "", device=cfg.get("visuals_device", "auto"),
            steps=int(cfg.get("visuals_steps", 2)), guidance=float(cfg.get("visuals_guidance", 0.0)),
            size=int(cfg.get("visuals_size", 512)), strength=float(cfg.get("visuals_strength", 0.5)),
            taesd=cfg.get("visuals_taesd"))
    raise VisualsError(f"visuals={kind!r} is invalid; expected 'procedural' or 'diffusers'")


class Worker:
    """Runs inside the visuals process; see the module docstring for the protocol."""

    def __init__(self, cfg: dict, cmd_q, evt_q, fast) -> None:
        self.cfg = cfg
        self.cmd_q = cmd_q
        self.evt_q = evt_q
        self.fast = fast
        self.state: dict = default_state()
        self.params: tuple = ()
        self.settings: dict = {}
        #: viewer settings from the engine (scene lock, intensity, palette bias; see web.py)
        self.viewer: dict = {"lock": None, "intensity": 1.0, "palette": 0.0}
        from .state import SceneChooser

        self.chooser = SceneChooser()
        self.stop_evt = threading.Event()
        self._cv = threading.Condition()
        self._job: dict | None = None
        self.web = None
        self.viewer_only = bool(cfg.get("_viewer_only"))
        #: the operator page's strip; a worker started after a crash gets the engine's list
        self.recent: collections.deque = collections.deque(
            (dict(r) for r in cfg.get("_recent") or () if isinstance(r, dict)), maxlen=RECENT)
        self.last_image: dict | None = dict(self.recent[-1]) if self.recent else None
        #: the newest mapping / dataset panel messages from the engine (sent in the page's hello)
        self.panels: dict = {}
        self.run_stamp = time.strftime("%Y%m%d-%H%M%S")
        #: image folder cap (Config.visuals_keep / visuals_keep_mb; 0 = no limit of that kind)
        self.keep = int(cfg.get("visuals_keep", 0) or 0)
        self.keep_bytes = int(float(cfg.get("visuals_keep_mb", 0) or 0) * 1e6)
        self._prune_error: str | None = None

    # -- engine protocol -------------------------------------------------------------------
    def emit(self, *evt) -> None:
        self.evt_q.put(evt)

    def fast_values(self) -> dict:
        f = self.fast
        if f is None:
            return {}
        return {k: f[i] for i, k in enumerate(FAST_SLOTS)}

    def fast_rows(self, since: int) -> tuple[int, list]:
        """Ring entries written after block ``since``: (new count, rows of FAST_SLOTS values)."""
        f = self.fast
        if f is None:
            return since, []
        n = int(f[FAST_COUNT])
        first = max(since, n - FAST_RING + 1)  # the oldest slot may be being overwritten
        w = len(FAST_SLOTS)
        rows = [list(f[FAST_COUNT + 1 + (i % FAST_RING) * w: FAST_COUNT + 1 + (i % FAST_RING + 1) * w])
                for i in range(first, n)]
        return n, rows

    def _receive(self) -> None:
        while not self.stop_evt.is_set():
            try:
                msg = self.cmd_q.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError):  # engine gone
                self.stop_evt.set()
                break
            kind = msg[0]
            if kind == "state":
                self.state, self.params = msg[1], tuple(msg[2])
                self.state["scene"] = self.chooser.update(self.state, time.monotonic())
                if self.web is not None:
                    self.web.publish_state(self.state)
            elif kind == "job":
                with self._cv:
                    self._job = msg[1]  # latest wins
                    self._cv.notify()
            elif kind == "viewer":
                self.viewer.update(msg[1])
                if self.web is not None:
                    self.web.publish(dict(self.viewer, type="viewer"))
            elif kind == "page":
                page, body = msg[1], msg[2]
                if page is None and body.get("type") in ("map", "dataset"):
                    self.panels[body["type"]] = body
                if self.web is not None:
                    self.web.publish_to(page, body)
            elif kind == "settings":
                self.settings.update(msg[1])
                if self.web is not None:
                    self.web.publish_settings(self.settings)
            elif kind == "stop":
                self.stop_evt.set()
                with self._cv:
                    self._cv.notify()

    def control(self, name: str, value: Any) -> None:
        """A command from the web control page: forwarded to the engine's controller."""
        self.emit("cmd", name, value)

    # -- main --------------------------------------------------------------------------------
    def run(self) -> None:
        from .prompt import load_templates

        self.templates = load_templates(self.cfg.get("visuals_prompts"))
        out_dir = Path(self.cfg.get("out_dir") or "s2s_out").expanduser().resolve()
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VisualsError(f"out_dir={str(out_dir)!r} cannot be created: {exc}") from None
        self.out_dir = out_dir
        if self.cfg.get("visuals") == "diffusers":
            import torch

            # Leave a core to the audio engine on small machines.
            torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
        t0 = time.perf_counter()
        self.backend = _ViewerOnly() if self.viewer_only else make_backend(self.cfg)
        self.backend.warmup()
        self.video = None
        if self.cfg.get("visuals_video") and not self.viewer_only:
            from .video import VideoBackend

            self.video = VideoBackend(
                str(self.cfg["visuals_video"]), device=self.cfg.get("visuals_device", "auto"),
                frames=int(self.cfg.get("visuals_video_frames", 8)), steps=int(self.cfg.get("visuals_video_steps", 4)),
                size=int(self.cfg.get("visuals_size", 512)))
        warm_s = time.perf_counter() - t0
        port = int(self.cfg.get("web_port") or 0)
        url = None
        if port:
            from .web import WebViewer

            self.web = WebViewer(self, host=self.cfg.get("web_host", "127.0.0.1"), port=port,
                                 live_fps=float(self.cfg.get("visuals_live_fps", 20.0)),
                                 mode_hold=0.0 if self.cfg.get("visuals") == "diffusers" else 8.0)
            url = self.web.start()
        rx = threading.Thread(target=self._receive, name="s2s-visuals-rx", daemon=True)
        rx.start()
        info = dict(self.backend.describe(), warm_s=round(warm_s, 3), url=url, pid=os.getpid(),
                    viewer_only=self.viewer_only,
                    out_dir=str(out_dir), **(self.video.describe() if self.video is not None else {}))
        self.emit("ready", info)
        self.prune()  # images left by earlier runs count towards the cap
        try:
            while not self.stop_evt.is_set():
                with self._cv:
                    while self._job is None and not self.stop_evt.is_set():
                        self._cv.wait(0.5)
                    job, self._job = self._job, None
                if job is not None and not self.stop_evt.is_set() and not self.viewer_only:
                    self.run_job(job)
        finally:
            if self.web is not None:
                self.web.stop()

    def run_job(self, job: dict) -> None:
        from .prompt import build_prompt

        jid = int(job["id"])
        t_start = time.time()
        state = job.get("state") or self.state
        # the family the viewer shows (locked, else chosen from the music): its style preset
        state = dict(state, scene=self.viewer.get("lock") or self.chooser.scene)
        params = tuple(job.get("params") or self.params)
        built = build_prompt(state, self.templates, params=params)
        text = job.get("prompt") or built.text
        seed = int(self.cfg.get("seed", 0)) + jid
        self.emit("started", jid, text)
        if self.web is not None:
            self.web.publish({"type": "started", "id": jid, "prompt": text})
        t0 = time.perf_counter()
        try:
            if self.backend.name == "procedural":
                img = self.backend.generate_state(state, seed=seed, params=params)
            else:
                def progress(step: int, total: int) -> None:
                    self.emit("progress", jid, step, total)
                    if self.web is not None:
                        self.web.publish({"type": "progress", "id": jid, "step": step, "total": total})

                img = self.backend.generate(text, built.negative, seed=seed, progress=progress)
        except VisualsError as exc:
            self.emit("failed", jid, str(exc))
            return
        t_gen = time.perf_counter() - t0
        path = self.out_dir / f"s2s-{self.run_stamp}-{jid:05d}.png"
        meta = {
            "id": jid, "prompt": text, "negative": built.negative, "seed": seed,
            "reason": job.get("reason"), "backend": self.backend.describe(),
            "genre": state.get("genre"), "genre_conf": state.get("genre_conf"),
            "emotion": {"label": state.get("emotion"), "valence": state.get("valence"),
                        "arousal": state.get("arousal")},
            "bpm": state.get("bpm"), "key": state.get("key"), "params": list(params), "scene": state.get("scene"),
            "parts": built.parts, "created": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t_start)),
        }
        t1 = time.perf_counter()
        meta["timings"] = {"queued_s": round(max(0.0, t_start - float(job.get("t_request", t_start))), 4),
                           "generate_s": round(t_gen, 4)}
        try:
            full = save_image(img, path, meta)
        except OSError as exc:
            self.emit("failed", jid, f"cannot write {str(path)!r}: {exc}")
            return
        meta["timings"]["write_s"] = round(time.perf_counter() - t1, 4)
        self.last_image = {"type": "image", "id": jid, "url": f"/images/{full.name}", "prompt": text,
                           "genre": state.get("genre"), "emotion": state.get("emotion"), "bpm": state.get("bpm")}
        self.recent.append(self.last_image)
        self.emit("image", jid, str(full), meta)
        if self.web is not None:
            self.web.publish(self.last_image)
        if self.video is not None:
            self.run_video(jid, img, full, seed)
        self.prune()

    def prune(self) -> None:
        """Keep the image folder within visuals_keep images / visuals_keep_mb (oldest first)."""
        if not (self.keep or self.keep_bytes):
            return
        newest = (self.last_image or {}).get("url", "").rsplit("/", 1)[-1]
        try:
            n, freed = prune_images(self.out_dir, keep=self.keep, keep_bytes=self.keep_bytes,
                                    protect=(newest,) if newest else ())
        except OSError as exc:
            reason = f"cannot delete old images in {str(self.out_dir)!r}: {exc}"
            if reason != self._prune_error:  # said once, not after every image
                self._prune_error = reason
                self.emit("pruned", 0, 0, reason)
            return
        self._prune_error = None
        if n:
            # the operator page's strip lists only images that still exist
            live = [r for r in self.recent if (self.out_dir / r["url"].rsplit("/", 1)[-1]).is_file()]
            self.recent.clear()
            self.recent.extend(live)
            self.emit("pruned", n, freed, None)

    def run_video(self, jid: int, img: np.ndarray, png: Path, seed: int) -> None:
        """The loop of image ``jid``, unless a newer request already waits (latest wins)."""
        with self._cv:
            if self._job is not None:
                return
        from .video import sprite_sheet

        t0 = time.perf_counter()
        try:
            frames = self.video.generate(img, seed=seed)
        except VisualsError as exc:
            self.emit("failed", jid, str(exc))
            return
        path = png.with_name(png.stem + "-loop.png")
        try:
            full = save_image(sprite_sheet(frames), path, {"id": jid, "image": png.name, "frames": len(frames),
                                                           "fps": self.video.fps, **self.video.describe(),
                                                           "generate_s": round(time.perf_counter() - t0, 4)})
        except OSError as exc:
            self.emit("failed", jid, f"cannot write {str(path)!r}: {exc}")
            return
        self.emit("video", jid, str(full))
        msg = {"type": "video", "id": jid, "url": f"/images/{full.name}", "frames": len(frames), "fps": self.video.fps}
        self.last_image = dict(self.last_image or {}, video=msg)  # a page that connects later plays it too
        if self.web is not None:
            self.web.publish(msg)


def worker_main(cfg: dict, cmd_q, evt_q, fast) -> None:
    """Entry point of the spawned visuals process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        # Lower priority than the engine: on a busy machine the scheduler favours the audio
        # analysis (nice 10 gets ~1/10 of a nice-0 process's share under contention).
        os.nice(NICE)
    except (OSError, AttributeError):  # not permitted / not POSIX: run at normal priority
        pass
    try:
        Worker(cfg, cmd_q, evt_q, fast).run()
    except VisualsError as exc:
        evt_q.put(("fatal", str(exc)))
        _flush(evt_q)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - report any crash cause to the engine before dying
        evt_q.put(("fatal", f"{type(exc).__name__}: {exc}"))
        _flush(evt_q)
        raise
    _flush(evt_q)


def _flush(q) -> None:
    """Make sure queued events reach the engine before the process exits."""
    try:
        q.close()
        q.join_thread()
    except (OSError, ValueError):
        pass
