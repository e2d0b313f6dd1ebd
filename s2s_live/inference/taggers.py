"""Pretrained music taggers (musicnn MSD + MTT) as one processor, off the critical path.

:class:`TaggerProcessor` feeds every hop's new 16 kHz samples to the streaming log-mel front end
(:class:`~s2s_live.dsp.mel.LogMelStream`) and, every ``interval`` seconds, runs both taggers on
the newest patch (3 s of log-mel input holding the newest ``patch`` seconds of audio,
repeated: :func:`~s2s_live.dsp.mel.tile_newest`). The taggers are ONNX models with cards (``models/tagger-msd``,
``models/tagger-mtt``), loaded and verified by the model host like every model.

One patch costs the two taggers ~30-80 ms of CPU on these machines, far more than the rest of
a hop, so live (``background=True``) they run in a worker thread (onnxruntime releases the
GIL): ``process`` hands the newest patch over and returns at once with the newest *finished*
result; the frame stream never waits for a tagger. When the worker is still busy at the next
due hop, that patch is skipped (latest wins) and counted. Offline (``background=False``) the
taggers run inline, so results are deterministic; ``tags/frame`` names the frame whose patch a
result came from, so live and offline results can be compared patch by patch.

Outputs (sent every hop once a result exists; ranges 0..1):

* ``tags/msd`` f×50, ``tags/mtt`` f×50 — tag probabilities of the newest tagged patch;
* ``tags`` ``s f s f s f`` — the three most probable words across both vocabularies;
* ``tags/embedding`` (internal) — the two 200-d penultimate layers, MSD then MTT (400 values);
* ``tags/frame`` (internal) — index of the frame whose patch produced the values.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import numpy as np

from ..dsp import mel
from ..errors import ModelError
from ..frames import SR_RECIPE
from ..processor import Output, Processor

TAGGER_MODELS = ("tagger-msd", "tagger-mtt")
#: The recipe of the taggers' outputs as a head's input (``input.recipe`` in its card): MSD tags,
#: MTT tags, then the two 200-d embeddings (``tags/msd``, ``tags/mtt``, ``tags/embedding``).
TAGS_RECIPE_ID = "musicnn-tags"
TAGS_RECIPE_VERSION = 1
DEFAULT_INTERVAL = 0.5  #: seconds between tagged patches live (see docs/benchmarks.md)
DEFAULT_PATCH = 3.0  #: seconds of newest audio per patch (shorter follows changes sooner: docs/models.md)
EMBED = 200  #: penultimate size of each tagger
WORKER_NICE = 10  #: niceness added to the tagger worker thread (background work yields the core)
N_TOP = 3


def _top_words(msd_labels, mtt_labels) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Merged vocabulary (lower-cased, duplicates joined) and index maps from each tagger into it."""
    words: list[str] = []
    for w in list(msd_labels) + list(mtt_labels):
        w = w.lower()
        if w not in words:
            words.append(w)
    i_msd = np.array([words.index(w.lower()) for w in msd_labels], np.int64)
    i_mtt = np.array([words.index(w.lower()) for w in mtt_labels], np.int64)
    return words, i_msd, i_mtt


class TaggerProcessor(Processor):
    """Both taggers on the newest patch every ``interval`` seconds.

    Parameters
    ----------
    msd, mtt : OnnxProcessor
        The loaded tagger models (input kind ``logmel``; outputs ``tags`` and ``embedding``).
    interval : float
        Seconds between tagged patches, 0.05..10 (rounded up to whole hops; 0 = every hop).
    patch : float
        Seconds of the newest audio each patch holds, 1.0..3.0. The taggers' input is always
        3 s; a shorter patch repeats its newest columns to fill it (:func:`mel.tile_newest`).
    background : bool
        True (live): run the taggers in a worker thread. False (offline): inline.
    """

    name = "tagger"
    stream = "frame"

    def __init__(self, msd, mtt, *, interval: float = DEFAULT_INTERVAL, patch: float = DEFAULT_PATCH,
                 background: bool = True) -> None:
        for m, want in ((msd, "tagger-msd"), (mtt, "tagger-mtt")):
            if m.input_kind != "logmel" or [o["name"] for o in m.card["outputs"]] != ["tags", "embedding"]:
                raise ModelError(f"model {m.card['name']!r} given as {want} is not a tagger "
                                 "(expected input kind 'logmel' and outputs ['tags', 'embedding'])")
        self.models = (msd, mtt)
        self.labels = tuple(tuple(m.card["outputs"][0]["labels"]) for m in self.models)
        self.set_interval(interval)
        self.set_patch(patch)
        self.background = bool(background)
        self.words, self._i_msd, self._i_mtt = _top_words(*self.labels)
        self.front = mel.LogMelStream()
        self.outputs = (
            Output("tags/msd", shape=len(self.labels[0]), labels=self.labels[0],
                   doc="Million Song Dataset tagger (musicnn): probability of each Last.fm tag, newest patch"),
            Output("tags/mtt", shape=len(self.labels[1]), labels=self.labels[1],
                   doc="MagnaTagATune tagger (musicnn): probability of each tag, newest patch"),
            Output("tags", type="sf" * N_TOP, range=(0.0, 1.0),  # the probabilities' range
                   labels=tuple(x for i in range(1, N_TOP + 1) for x in (f"word{i}", f"p{i}")),
                   doc="the three most probable tag words across both taggers, with their probabilities"),
            Output("tags/embedding", shape=2 * EMBED, range=None, internal=True,
                   doc="MSD then MTT penultimate layers (2 x 200), input of the genre/emotion heads"),
            Output("tags/frame", type="i", range=None, internal=True,
                   doc="index of the frame whose patch produced the current tags"),
        )
        # buffers: the patch handed to the worker, the newest finished result, the emitted copy
        self._patch = np.zeros((1, mel.PATCH_FRAMES, mel.N_MELS), np.float32)
        self._work = np.zeros_like(self._patch)
        self._res = [np.zeros(len(self.labels[0]), np.float32), np.zeros(len(self.labels[1]), np.float32),
                     np.zeros(2 * EMBED, np.float32)]
        self._out = [r.copy() for r in self._res]
        self._merged = np.zeros(len(self.words), np.float32)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stop = False
        self._thread: threading.Thread | None = None
        self._error: str | None = None
        self.reset()

    # -- settings -------------------------------------------------------------------------
    def set_interval(self, interval: float) -> None:
        """Seconds between tagged patches (0 = every hop, else 0.05..10)."""
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not (
                interval == 0 or 0.05 <= interval <= 10.0):
            raise ValueError(f"tagger interval={interval!r} is invalid; expected 0 (every hop) or seconds in 0.05..10")
        self.interval = float(interval)

    def set_patch(self, seconds: float) -> None:
        """Seconds of the newest audio the taggers hear (1.0..3.0; repeated to fill 3 s)."""
        self._n_cols = mel.patch_columns(seconds)  # raises naming the value and the range
        self.patch = float(seconds)

    # -- Processor ------------------------------------------------------------------------
    def set_live(self, live: bool) -> None:
        """Live: taggers in the worker thread; offline: inline (deterministic)."""
        self.background = bool(live)

    def reset(self) -> None:
        with self._lock:
            self.front.reset()
            self._due_t = -np.inf
            self._pending = -1  # frame index waiting for the worker (-1: none)
            self._res_index = -1  # frame index of the newest finished result
            self._out_index = -1
            self._gen = getattr(self, "_gen", 0) + 1
        self.runs = 0
        self.skipped = 0
        self.busy_s = 0.0  #: CPU-bound seconds spent in the taggers (both), since reset
        self.last_run_s = 0.0

    def warmup(self) -> None:
        z = np.zeros(mel.SR // 4, np.float32)
        self.front.process(z)
        self.front.patch(self._work[0])
        self._run_models(self._work, 0, self._gen)  # sessions are already warmed by the model host
        self.reset()

    def close(self) -> None:
        with self._lock:
            self._stop = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the worker has no patch pending (True) or ``timeout`` seconds pass (False)."""
        end = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._pending < 0:
                    return True
            if time.monotonic() >= end:
                return False
            time.sleep(0.001)

    def _run_models(self, x: np.ndarray, index: int, gen: int) -> None:
        """Both taggers on ``x``; the result and the frame index it belongs to are published
        together under the lock (unless a reset happened meanwhile: ``gen`` changed)."""
        t0 = time.perf_counter()
        (tm, em), (tt, et) = (m.session.run(["tags", "embedding"], {"logmel": x}) for m in self.models)
        dt = time.perf_counter() - t0
        r = self._res
        with self._lock:
            self.busy_s += dt
            self.last_run_s = dt
            self.runs += 1
            if gen != self._gen:
                return
            r[0][:] = tm[0]
            r[1][:] = tt[0]
            r[2][:EMBED] = em[0]
            r[2][EMBED:] = et[0]
            self._res_index = index

    def _worker(self) -> None:
        # Background work: nice +10 for this thread only (Linux: a TID is a process for
        # setpriority), so on a busy core the analysis thread, which the frame stream waits
        # on, runs first. Raising one's own niceness needs no privilege.
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
        except (AttributeError, OSError):  # not Linux/POSIX: the default priority is fine
            pass
        while True:
            with self._lock:
                while self._pending < 0 and not self._stop:
                    self._wake.wait()
                if self._stop:
                    return
                index, gen = self._pending, self._gen
                self._work[...] = self._patch
            try:
                self._run_models(self._work, index, gen)
            except Exception as exc:  # noqa: BLE001 - keep serving; the engine reports the error
                with self._lock:
                    self._error = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self._pending = -1

    def _start_worker(self) -> None:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._worker, name="s2s-tagger", daemon=True)
            self._thread.start()

    def process(self, frame) -> dict[str, Any]:
        if self._error is not None:  # a worker failure: reported once by the pipeline (/s2s/error)
            err, self._error = self._error, None
            raise ModelError(f"tagger worker: {err}")
        if not self.background:
            self._feed(frame)
        with self._lock:
            fresh = self._res_index != self._out_index and self._res_index >= 0
            if fresh:
                for o, r in zip(self._out, self._res):
                    o[:] = r
                self._out_index = self._res_index
        if self._out_index < 0:
            return {}
        if fresh:  # the top words change only with a new result, not every hop
            m = self._merged
            m[:] = 0.0
            np.maximum.at(m, self._i_msd, self._out[0])
            np.maximum.at(m, self._i_mtt, self._out[1])
            self._top = tuple(x for i in np.argsort(-m, kind="stable")[:N_TOP] for x in (self.words[i], float(m[i])))
        # the processor's own buffers, changed only by a later hop (Frame: copy what you keep)
        return {"tags/msd": self._out[0], "tags/mtt": self._out[1], "tags/embedding": self._out[2],
                "tags/frame": int(self._out_index), "tags": self._top}

    def after_frame(self, frame) -> None:
        """Live: the front end and the hand-over to the worker, after the frame's values are
        out (~0.4 ms that would otherwise delay every frame); the tags it leads to come from the
        worker anyway, frames later."""
        if self.background:
            self._feed(frame)

    def _feed(self, frame) -> None:
        """Push the frame's new 16-kHz audio through the front end; tag the patch when due."""
        self.front.process(frame.new16)
        # hops lie on a 22050-Hz sample grid (0.25 s = 5512 samples): allow half a hop of slack
        if frame.time < self._due_t - 0.5 * frame.hop22 / SR_RECIPE:
            return
        self._due_t = frame.time + self.interval
        if self.background:
            self._start_worker()
            with self._lock:
                if self._pending >= 0:
                    self.skipped += 1  # the worker is still on an older patch: latest wins
                mel.tile_newest(self.front.patch(self._patch[0]), self._n_cols)
                self._pending = frame.index
                self._wake.notify()
        else:
            mel.tile_newest(self.front.patch(self._work[0]), self._n_cols)
            self._run_models(self._work, frame.index, self._gen)

    def batch(self, patches: np.ndarray, *, max_batch: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Offline: tags and embeddings of many patches (n, 187, 96) at once: (msd, mtt, embedding)."""
        outs: list[list[np.ndarray]] = [[], [], []]
        for i in range(0, patches.shape[0], max_batch):
            x = np.ascontiguousarray(patches[i : i + max_batch], dtype=np.float32)
            (tm, em), (tt, et) = (m.session.run(["tags", "embedding"], {"logmel": x}) for m in self.models)
            outs[0].append(tm)
            outs[1].append(tt)
            outs[2].append(np.concatenate([em, et], axis=1))
        return tuple(np.concatenate(o) for o in outs)  # type: ignore[return-value]

    def describe(self) -> dict:
        d = super().describe()
        d["interval"] = self.interval
        d["patch"] = self.patch
        d["models"] = [{k: m.card.get(k) for k in ("name", "version", "sha256")} for m in self.models]
        return d

    def stats(self) -> dict:
        """Counters for /s2s/status and benchmarks: runs, skipped patches, busy seconds."""
        return {"runs": self.runs, "skipped": self.skipped, "busy_s": round(self.busy_s, 3),
                "last_run_ms": round(1000 * self.last_run_s, 2)}
