"""The PortAudio input, run in its own capture process, and the reopen state machine.

:class:`DeviceSource` spawns a capture process (:func:`_capture_main`) that holds only the
PortAudio stream and its callback, which copies each block into a shared-memory
:class:`~s2s_live.capture.ring.AudioRing` and counts. The engine side watches the callbacks: a
device silent for ``DEVICE_TIMEOUT`` seconds counts as gone, its process is killed and a fresh
one reopens the device by name every ``REOPEN_INTERVAL`` seconds.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from ..errors import DeviceError
from .base import Source, SourceHealth
from .portaudio import _sd, _validate_device
from .realtime import _lock_memory, _pretouch, _thread_rt_priority
from .ring import _CB, _FLAGS, _LOCKED, _OVF, _RT, AudioRing, _ring_layout, _ring_nbytes

#: Seconds without a callback after which a running device counts as gone.
DEVICE_TIMEOUT = 1.0
#: Seconds between attempts to reopen a vanished device.
REOPEN_INTERVAL = 2.0


def _capture_main(conn, spec, samplerate, blocksize, channels) -> None:  # pragma: no cover - child
    """The capture process: PortAudio stream -> shared-memory ring. Nothing else runs here,
    so the callback never waits for the analysis thread's GIL."""
    from multiprocessing import shared_memory

    try:
        info, sr, sel = _validate_device(spec, samplerate, channels)
    except DeviceError as exc:
        conn.send(("error", str(exc)))
        return
    nch = max(sel) + 1
    conn.send(("info", info, sr, sel))
    try:
        msg = conn.recv()
    except (EOFError, OSError):
        return
    if msg[0] != "open":
        return
    _, shm_name, capacity, stamps = msg
    shm = shared_memory.SharedMemory(name=shm_name)
    ring = AudioRing(capacity, nch, stamps, buffer=shm.buf)
    hdr, last_cb, cb_dur = ring._hdr, ring._last_cb, ring._cb_dur
    n_dur = cb_dur.shape[0]
    perf = time.perf_counter
    hdr[_RT] = -1  # the callback thread's priority, filled in by its first call
    hdr[_LOCKED] = 0
    _pretouch(shm.buf)

    def callback(indata, frames, time_info, status):  # noqa: ARG001
        """Only copies the block into the ring and counts; stores its own duration."""
        t0 = perf()
        if hdr[_RT] < 0:  # once: did JACK (or the host API) give this thread realtime priority?
            hdr[_RT] = _thread_rt_priority()
        if status:
            hdr[_FLAGS] += 1
            if status.input_overflow:
                hdr[_OVF] += 1
        ring.write(indata, t0)
        t1 = perf()
        cb_dur[hdr[_CB] % n_dur] = t1 - t0
        hdr[_CB] += 1
        last_cb[0] = t1

    sd = _sd()
    try:
        stream = sd.InputStream(device=info["index"], channels=nch, samplerate=sr, blocksize=blocksize,
                                dtype="float32", callback=callback)
        stream.start()
    except Exception as exc:  # PortAudioError
        conn.send(("error", f"cannot open input device {info['name']!r}: {exc}"))
        return
    last_cb[0] = perf()
    # Everything the callback needs exists now: lock it in memory, so that no page is faulted
    # in (or back from swap) on the callback path. (Python's cyclic GC is left on: the callback
    # allocates no tracked objects, and none ran inside it in 7,490 callbacks measured.)
    hdr[_LOCKED] = int(_lock_memory())
    conn.send(("ready",))
    # Block in recv() (the GIL released) until "stop" or the engine's end of the pipe closes:
    # a polling loop here would take this process's GIL several times a second, and the
    # realtime callback thread would then wait on a normal-priority thread that a busy machine
    # may not schedule for milliseconds (priority inversion through the GIL).
    while True:
        try:
            if conn.recv()[0] == "stop":
                break
        except (EOFError, OSError):  # the engine is gone
            break
    stream.stop()
    stream.close()
    del ring, hdr, last_cb, cb_dur
    shm.close()


class DeviceSource(Source):
    """A PortAudio input stream, run in its own capture process, feeding a shared-memory ring.

    The capture process holds only the stream and its callback (copy + count), so the callback
    never waits for the analysis thread to release the GIL, and a device or audio server that
    dies cannot hang the engine: the process is killed and a fresh one (with freshly enumerated
    devices) reopens the device by name every REOPEN_INTERVAL seconds.

    Parameters
    ----------
    device : int, str or None
        Index or name substring (see :func:`~s2s_live.capture.portaudio.find_input_device`); None for the default input.
    samplerate : int or None
        Capture rate in Hz; None uses the device's default rate.
    blocksize : int
        Frames per callback (0 lets the host choose). Default 256.
    channels : sequence of int or None
        0-based input channels to analyse (mixed to mono later); None means all of them.
    ring_seconds : float
        Ring capacity in seconds. Default 4 s.
    """

    label = "device"
    STARTUP_TIMEOUT = 30.0  #: seconds to wait for a capture process to answer

    def __init__(self, device=None, *, samplerate=None, blocksize=256, channels=None, ring_seconds=4.0):
        import multiprocessing as mp

        if not isinstance(blocksize, int) or blocksize < 0:
            raise ValueError(f"blocksize must be an int >= 0, got {blocksize!r}")
        self.spec = device
        self.blocksize = int(blocksize)
        self._want_sr = samplerate
        self._want_channels = None if channels is None else list(channels)
        self._ctx = mp.get_context("spawn")
        self._proc = None
        self._conn = None
        self._shm = None
        self._spawn(device)
        msg = self._recv()
        if msg[0] == "error":
            self._kill()
            raise DeviceError(msg[1])
        _, self.info, self.samplerate, self.selected = msg
        self.channels = max(self.selected) + 1
        from multiprocessing import shared_memory

        capacity = int(self.samplerate * ring_seconds)
        self._stamps = 4096
        probe = _ring_nbytes(_ring_layout(capacity, self.channels, self._stamps, 16384))
        self._shm = shared_memory.SharedMemory(create=True, size=probe)
        self.ring = AudioRing(capacity, self.channels, self._stamps, buffer=self._shm.buf)
        self.ring.reset()
        self.reopens = 0
        self.lost = 0
        self._next_reopen = 0.0
        self._gone_message = ""
        self._reopening: threading.Thread | None = None
        self._reopen_result = ""
        self._running = False

    # -- capture process -------------------------------------------------------------------
    def _spawn(self, spec) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_capture_main, name="s2s-capture", daemon=True,
                                       args=(child, spec, self._want_sr, self.blocksize, self._want_channels))
        self._proc.start()
        child.close()
        self._conn = parent

    def _recv(self):
        if not self._conn.poll(self.STARTUP_TIMEOUT):
            return ("error", f"the capture process did not answer within {self.STARTUP_TIMEOUT:.0f} s")
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            code = self._proc.exitcode if self._proc is not None else None
            return ("error", f"the capture process exited (code {code}) before opening the device")

    def _open(self) -> None:
        self._conn.send(("open", self._shm.name, self.ring.capacity, self._stamps))
        msg = self._recv()
        if msg[0] != "ready":
            self._kill()
            raise DeviceError(msg[1])
        self.ring._last_cb[0] = time.perf_counter()

    def _kill(self) -> None:
        """Stop the capture process: ask, then SIGKILL (never blocks for long)."""
        p, c = self._proc, self._conn
        self._proc = self._conn = None
        if c is not None:
            try:
                c.send(("stop",))
            except (OSError, ValueError):
                pass
        if p is not None:
            p.join(0.5)
            if p.is_alive():
                p.kill()
                p.join(1.0)
        if c is not None:
            c.close()

    def start(self) -> None:
        if self._proc is None:
            self._spawn(self.info["name"])
            msg = self._recv()
            if msg[0] == "error":
                self._kill()
                raise DeviceError(msg[1])
        self._open()
        self._running = True

    def stop(self) -> None:
        self._running = False
        t = self._reopening
        if t is not None:
            t.join(self.STARTUP_TIMEOUT)
        self._kill()

    def close(self) -> None:
        """Stop and release the shared memory (the ring is replaced by an empty private one)."""
        self.stop()
        shm, self._shm = self._shm, None
        if shm is None:
            return
        counters = self.counters()
        self._final_cb_dur = self.ring._cb_dur.copy()
        self.ring = AudioRing(16, self.channels)  # drop our views into the shared block
        self._final_counters = counters
        try:
            shm.unlink()
        except FileNotFoundError:
            pass
        try:
            shm.close()
        except BufferError:  # someone still holds a view; the mapping goes with it
            pass

    def __del__(self):  # a source dropped without close() must not leave /dev/shm behind
        try:
            if self._shm is not None:
                self._shm.unlink()
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass

    # -- health ----------------------------------------------------------------------------
    def _reopen(self) -> None:
        """Helper thread: a fresh capture process re-enumerates devices and reopens by name."""
        try:
            self._kill()
            self._spawn(self.info["name"])
            msg = self._recv()
            if msg[0] == "error":
                raise DeviceError(msg[1])
            _, info, sr, sel = msg
            if sr != self.samplerate or max(sel) + 1 != self.channels:
                raise DeviceError(f"device came back as {sr} Hz / {max(sel) + 1} ch, expected "
                                  f"{self.samplerate} Hz / {self.channels} ch")
            self.info = info
            self._open()
            self.reopens += 1
            self._reopen_result = f"input device {self.info['name']!r} reopened"
        except Exception as exc:  # noqa: BLE001 - keep retrying; report the reason
            self._kill()
            self._reopen_result = f"reopen failed: {exc}"

    def health(self) -> SourceHealth:
        """Detect a vanished device; retry opening it every REOPEN_INTERVAL seconds. Never blocks."""
        if not self._running:
            return SourceHealth(True, "")
        now = time.perf_counter()
        if self._reopening is not None:
            if self._reopening.is_alive():
                return SourceHealth(False, self._gone_message + "; reopening")
            self._reopening = None
            msg = self._reopen_result
            if self._proc is not None:
                self._gone_message = ""
                return SourceHealth(True, msg)
            self._next_reopen = now + REOPEN_INTERVAL
            return SourceHealth(False, f"{self._gone_message}; {msg}")
        if self._proc is not None:
            alive = self._proc.is_alive()
            if alive and (now - float(self.ring._last_cb[0])) < DEVICE_TIMEOUT:
                return SourceHealth(True, "")
            self.lost += 1
            why = "its capture process died" if not alive else f"no callback for {DEVICE_TIMEOUT:.0f} s"
            self._gone_message = f"input device {self.info['name']!r} stopped delivering audio ({why})"
            threading.Thread(target=self._kill, daemon=True).start()
            self._proc = None
            self._next_reopen = now + REOPEN_INTERVAL
            return SourceHealth(False, self._gone_message + "; retrying")
        if now >= self._next_reopen:
            self._reopening = threading.Thread(target=self._reopen, name="s2s-reopen", daemon=True)
            self._reopening.start()
            return SourceHealth(False, self._gone_message + "; reopening")
        return SourceHealth(False, self._gone_message + "; waiting to retry")

    @property
    def callbacks(self) -> int:
        """Callbacks so far (kept after close)."""
        return int(self.counters()["callbacks"])

    @property
    def cb_durations(self) -> np.ndarray:
        """Durations (s) of the last 16384 callbacks, slot = callback index % 16384."""
        if self._shm is None and getattr(self, "_final_cb_dur", None) is not None:
            return self._final_cb_dur
        return self.ring._cb_dur

    def counters(self) -> dict:
        if self._shm is None and getattr(self, "_final_counters", None):
            return dict(self._final_counters)
        h = self.ring._hdr
        return {
            "callbacks": int(h[_CB]),
            "overflows": int(h[_OVF]),
            "status_flags": int(h[_FLAGS]),
            "device_lost": self.lost,
            "device_reopened": self.reopens,
            # the capture callback thread's SCHED_FIFO priority (0: normal scheduling, -1: no
            # callback yet) and whether the capture process locked its memory (1) or not (0)
            "capture_rt_priority": int(h[_RT]),
            "capture_memlocked": int(h[_LOCKED]),
        }
