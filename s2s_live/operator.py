"""Engine side of the operator page's mapping and dataset panels (docs/mapping.md, docs/dataset.md).

The page (``/control``, served by the visuals process: :mod:`s2s_live.visuals.web`) sends
``map`` and ``dataset`` commands; the web server checks their shape and size and forwards them
through the visuals controller (``("cmd", "page", (kind, page, payload))``) to
:class:`OperatorPanels`, which

* runs a ``map`` command through the control port's own command table
  (:func:`s2s_live.mapping.wekinator.commands`: the same checks, errors and effects as
  ``/wekinator/control/<name>`` and ``/s2s/map/<name>``) and answers the page that sent it with
  ``ack`` (the values now in effect) or ``error`` (the one-line reason);
* records ``dataset`` clips from the engine's own input: the analysis thread only copies each
  frame's new 16 kHz samples into a bounded queue (:meth:`_tap`); this module's thread cuts
  them into one-second Hamming-windowed clips and writes them with
  :func:`s2s_live.dataset.store.write_clip` (atomic, with a sidecar), so neither the analysis
  thread nor the web server ever waits on the disk. A dataset folder is a *name* matched by
  :data:`FOLDER_RE` under the configured root (``Config.dataset_root``), never a path;
* cancels the recording in progress (``dataset`` ``cancel``, from any page): taking audio stops
  at once, the clips already written are kept (each is a complete, labelled one-second clip,
  written atomically: the same as Ctrl-C on ``s2s-live dataset record``), the audio of the
  unfinished second is dropped, so no partial clip is ever written;
* pushes to every page the mapper's status (``map``, every :data:`STATUS_S` s and after each
  command), its inputs and outputs per hop (``mapplot``, batched every :data:`PLOT_S` s) and
  the dataset state (``dataset``: folders, clip count per label, the recording in progress,
  and ``last``: how the newest recording ended — clips written of those asked, ``cancelled``,
  ``error``).

Commands wait in a queue of :data:`MAX_QUEUE`; a page that sends more gets ``error`` (busy).
"""

from __future__ import annotations

import collections
import datetime as _dt
import os
import queue
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CommandError, S2SError
from .osc.checks import check_range

FOLDER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  #: a dataset folder name (no dots, no '/')
RECORD_RANGE = (1.0, 600.0)  #: seconds one page recording may last
MAX_QUEUE = 64  #: page commands waiting for this thread
MAX_FOLDERS = 200  #: dataset folders listed to the page
STATUS_S = 0.5  #: seconds between mapper status pushes
DATASET_S = 2.0  #: seconds between dataset state pushes (a restarted viewer gets it again)
PLOT_S = 0.2  #: seconds between plot batches
PLOT_INPUTS = 8  #: input values per plot row (the first ones of the input vector)
PLOT_ROWS = 256  #: rows kept between batches (older ones go first)
AUDIO_CHUNKS = 4096  #: frames of new audio kept for the recorder (a second is 4..100 of them)


def dataset_root(override: str | None = None) -> Path:
    """Where the page's dataset folders live: ``override``, else
    ``$XDG_DATA_HOME/s2s_live/datasets`` (``~/.local/share/s2s_live/datasets``)."""
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "s2s_live" / "datasets"


def check_folder(name: Any) -> str:
    """A dataset folder name from the page: 1-64 letters, digits, '_' or '-' (a name under the
    configured root, never a path); CommandError naming the value otherwise."""
    if not isinstance(name, str) or not FOLDER_RE.fullmatch(name):
        raise CommandError(f"dataset folder={str(name)[:40]!r} is invalid; expected 1-64 letters, digits, '_' or "
                           "'-' (a folder name under the dataset root, never a path)")
    return name


class OperatorPanels:
    """The mapping and dataset panels of ``engine``'s operator page (see the module docstring)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.visuals = engine.visuals
        self.root = dataset_root(getattr(engine.cfg, "dataset_root", None))
        self._q: queue.Queue = queue.Queue(maxsize=MAX_QUEUE)
        self._rows: collections.deque = collections.deque(maxlen=PLOT_ROWS)
        self._audio: collections.deque = collections.deque(maxlen=AUDIO_CHUNKS)
        self._rec: dict | None = None  #: the recording in progress (this thread's)
        self._last: dict | None = None  #: how the newest recording ended (pushed to pages)
        self._taking = False  #: the analysis thread copies new audio while True
        self._buf = np.zeros(0, np.float32)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._commands = None
        self.counters = {"commands": 0, "refused": 0, "busy": 0, "clips": 0, "cancelled": 0}

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        from .mapping.wekinator import commands

        self._commands = commands(self.engine)
        self.visuals.on_page = self.submit
        self.engine.subscribe(self._tap)
        self._thread = threading.Thread(target=self._run, name="s2s-operator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._taking = False
        if self.visuals is not None:
            self.visuals.on_page = None
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    # -- the analysis thread (cheap: copies only) -------------------------------------------------
    def _tap(self, frame) -> None:
        if self._taking:
            self._audio.append(frame.new16.copy())
        m = self.engine.mapper
        if m is None or m.n_in == 0:
            return
        y = frame.values.get("map/outputs")
        self._rows.append((round(float(frame.time), 3), m.input_vector[:PLOT_INPUTS].tolist(),
                           (m.values if y is None else y).tolist(), y is not None))

    # -- from the visuals controller (analysis thread: never blocks) ----------------------------
    def submit(self, value) -> None:
        try:
            self._q.put_nowait(value)
        except queue.Full:
            self.counters["busy"] += 1
            kind, page = value[0], value[1]
            self._reply(page, {"type": "error", "cmd": str(kind), "reason": f"the engine has {MAX_QUEUE} page "
                               "commands waiting; send fewer"})

    def _reply(self, page, msg: dict) -> None:
        v = self.engine.visuals
        if v is not None:
            v.to_page(page, msg)

    # -- this module's thread ----------------------------------------------------------------------
    def _run(self) -> None:
        next_status = next_plot = next_dataset = 0.0
        while not self._stop.is_set():
            try:
                item = self._q.get(timeout=0.05)
            except queue.Empty:
                item = None
            if item is not None:
                self._execute(item)
            self._record_step()
            now = time.monotonic()
            if now >= next_plot:
                next_plot = now + PLOT_S
                self._push_plot()
            if now >= next_status:
                next_status = now + STATUS_S
                self._push_map(None)
            if now >= next_dataset:
                next_dataset = now + DATASET_S
                self._push_dataset(None)

    def _execute(self, item) -> None:
        try:
            kind, page, payload = item
        except (TypeError, ValueError):
            return
        if not isinstance(payload, dict):
            return
        self.counters["commands"] += 1
        where = "map/" + str(payload.get("name")) if kind == "map" else "dataset/" + str(payload.get("action"))
        try:
            if kind == "map":
                self._map(page, payload)
            elif kind == "dataset":
                self._dataset(page, payload)
            else:
                raise CommandError(f"unknown panel {str(kind)[:40]!r}; expected map or dataset")
        except (CommandError, TypeError, ValueError, S2SError) as exc:  # the control port's refusals
            self.counters["refused"] += 1
            self._reply(page, {"type": "error", "cmd": where[:60], "reason": self._hide(str(exc))[:400]})
        except OSError as exc:  # say what failed, not which file
            self.counters["refused"] += 1
            self._reply(page, {"type": "error", "cmd": where[:60],
                               "reason": f"{type(exc).__name__}: {exc.strerror or 'operating system error'}"})

    def _hide(self, text: str) -> str:
        """Error texts name the dataset by its folder name, not where the root is on disk."""
        return text.replace(str(self.root) + os.sep, "").replace(str(self.root), "<dataset root>")

    # -- mapping ------------------------------------------------------------------------------------
    def _map(self, page, p: dict) -> None:
        name, args = p.get("name"), p.get("args", [])
        if name == "status":
            self._push_map(page)
            return
        fn = self._commands.get(name) if isinstance(name, str) else None
        if fn is None:
            raise CommandError(f"map/{str(name)[:40]} is not a mapper command")
        vals = fn(list(args), f"map/{name}")
        self._reply(page, {"type": "ack", "cmd": f"map/{name}", "args": [v if isinstance(v, str) else float(v)
                                                                         for v in vals]})
        self._push_map(None)

    def _push_map(self, page) -> None:
        m = self.engine.mapper
        if m is None:
            if page is not None:
                raise CommandError("the mapper is off; start s2s-live with --mapper (or mapper = true in the config)")
            return
        s = m.status()
        s.pop("targets", None)
        s["values"] = [float(v) for v in m.values]
        self._reply(page, dict(s, type="map"))

    def _push_plot(self) -> None:
        m = self.engine.mapper
        if m is None or not self._rows:
            return
        rows = []
        while self._rows:
            rows.append(self._rows.popleft())
        self._reply(None, {"type": "mapplot", "inputs": list(m.input_names[:PLOT_INPUTS]),
                           "outputs": [o.name for o in m.specs], "v": rows})

    # -- dataset --------------------------------------------------------------------------------------
    def _folder(self, name: Any) -> Path:
        d = self.root / check_folder(name)
        if d.is_symlink() or (d.exists() and not d.is_dir()):
            raise CommandError(f"dataset folder={name!r} is not a folder under the dataset root")
        return d

    def _folders(self) -> list[str]:
        from .dataset.store import is_dataset

        try:
            names = sorted(e.name for e in os.scandir(self.root)
                           if FOLDER_RE.fullmatch(e.name) and e.is_dir(follow_symlinks=False))
        except OSError:
            return []
        return [n for n in names if is_dataset(self.root / n)][:MAX_FOLDERS]

    def _counts(self, folder: Path) -> dict[str, int]:
        from .dataset.store import clips, is_dataset

        if not is_dataset(folder):
            return {}
        return dict(sorted(collections.Counter(c.label for c in clips(folder)).items()))

    def _dataset(self, page, p: dict) -> None:
        action = p.get("action")
        if action == "folders":
            self._push_dataset(page)
        elif action == "list":
            d = self._folder(p.get("folder"))
            self._push_dataset(page, d.name, self._counts(d))
        elif action == "record":
            self._start_recording(page, p)
        elif action == "cancel":
            self._cancel_recording(page)
        else:
            raise CommandError(f"dataset action={str(action)[:40]!r} is unknown; expected record, cancel, list "
                               "or folders")

    def _push_dataset(self, page, folder: str | None = None, counts: dict | None = None) -> None:
        r = self._rec
        msg = {"type": "dataset", "folders": self._folders(), "folder": folder, "counts": counts,
               "recording": None if r is None else {"folder": r["folder"].name, "label": r["label"],
                                                    "done": r["done"], "want": r["want"]},
               "last": self._last}
        if r is not None and folder is None:
            msg["folder"], msg["counts"] = r["folder"].name, dict(r["counts"])
        self._reply(page, msg)

    def _start_recording(self, page, p: dict) -> None:
        from .dataset.store import check_label, open_dataset

        if self._rec is not None:
            r = self._rec
            raise CommandError(f"a recording is running ({r['done']} of {r['want']} clips into "
                               f"{r['folder'].name!r}); wait for it to end or cancel it")
        d = self._folder(p.get("folder"))
        label = check_label(p.get("label") or "live")
        sec = p.get("seconds")
        if isinstance(sec, bool) or not isinstance(sec, (int, float)):
            raise CommandError(f"dataset seconds={sec!r} is invalid; expected a number in "
                               f"{RECORD_RANGE[0]:g}..{RECORD_RANGE[1]:g}")
        want = int(check_range("seconds", float(sec), RECORD_RANGE, " s"))
        open_dataset(d)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        self._rec = {"folder": d, "label": label, "want": want, "done": 0, "page": page,
                     "stem": f"{label}-rec{stamp}", "counts": collections.Counter(self._counts(d)), "t0": None}
        self._buf = np.zeros(0, np.float32)
        self._audio.clear()
        self._taking = True
        self._reply(page, {"type": "ack", "cmd": "dataset/record", "args": [d.name, label, float(want)]})
        self._push_dataset(None)

    def _end_recording(self, how: str, error: str = "") -> dict:
        """Stop taking audio and forget the unfinished second; the written clips stay."""
        r = self._rec
        self._taking = False
        self._rec = None
        self._audio.clear()
        self._buf = np.zeros(0, np.float32)
        self._last = {"folder": r["folder"].name, "label": r["label"], "done": r["done"], "want": r["want"],
                      "cancelled": how == "cancelled", "error": error}
        return r

    def _cancel_recording(self, page) -> None:
        """Cancel the recording in progress: the complete clips written so far are kept (each
        one is a finished, labelled one-second clip), the unfinished second is dropped."""
        if self._rec is None:
            raise CommandError("no dataset recording is running; nothing to cancel")
        r = self._end_recording("cancelled")
        self.counters["cancelled"] += 1
        self._reply(page, {"type": "ack", "cmd": "dataset/cancel",
                           "args": [r["folder"].name, float(r["done"]), float(r["want"])]})
        if r["page"] != page:  # the page that started it learns why it ended
            self._reply(r["page"], {"type": "ack", "cmd": "dataset/cancelled",
                                    "args": [r["folder"].name, float(r["done"]), float(r["want"])]})
        self._push_dataset(None, r["folder"].name, dict(r["counts"]))

    def _record_step(self) -> None:
        """Write every complete second of recorded input as a clip (this thread only)."""
        r = self._rec
        if r is None:
            return
        from .dataset.store import CLIP, hamming, write_clip

        chunks = []
        while self._audio:
            chunks.append(self._audio.popleft())
        if chunks:
            self._buf = np.concatenate([self._buf, *chunks])
        win = None
        while self._buf.shape[0] >= CLIP and r["done"] < r["want"]:
            raw, self._buf = self._buf[:CLIP], self._buf[CLIP:]
            win = hamming() if win is None else win
            rms = float(np.sqrt(np.mean(raw.astype(np.float64) ** 2)))
            src = self.engine.source
            try:
                write_clip(r["folder"], y=raw * win, stem=f"{r['stem']}-{r['done']:04d}", meta={
                    "label": r["label"], "source": f"live:{getattr(self.engine.cfg, 'source', 'engine')}",
                    "offset_s": float(r["done"]), "source_sr": int(getattr(src, "samplerate", 0) or 0),
                    "window": "hamming", "input_rms": rms, "via": "operator page"})
            except OSError as exc:
                reason = (f"clip {r['done'] + 1} of {r['want']} not written ({type(exc).__name__}: "
                          f"{exc.strerror or 'operating system error'}); recording stopped")
                self._end_recording("error", reason)
                self._reply(r["page"], {"type": "error", "cmd": "dataset/record", "reason": reason})
                self._push_dataset(None)
                return
            r["done"] += 1
            r["counts"][r["label"]] += 1
            self.counters["clips"] += 1
            self._push_dataset(None)
        if r["done"] >= r["want"]:
            self._end_recording("done")
            self._reply(r["page"], {"type": "ack", "cmd": "dataset/recorded",
                                    "args": [r["folder"].name, float(r["done"])]})
            self._push_dataset(None, r["folder"].name, dict(r["counts"]))
