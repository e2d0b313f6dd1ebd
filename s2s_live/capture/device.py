"""Capture stage: audio sources that write into a preallocated single-producer ring buffer.

Three sources share one shape (``start()``, ``stop()``, ``ring``, ``samplerate``, ``channels``,
``health()``):

* :class:`DeviceSource` — a PortAudio input through sounddevice (any host API, JACK included).
* :class:`FileSource` — wav/flac/ogg/mp3 through soundfile, paced in real time (or unpaced for
  offline analysis), optionally looping.
* :class:`SynthSource` — the built-in synthetic music (:mod:`s2s_live.capture.synth`) for the demo.

The ring is lock-free for one writer and one reader: the writer only advances ``written`` after
copying, the reader only advances ``read``. Python's GIL makes each integer store atomic.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import AudioFileError, DeviceError

#: Seconds without a callback after which a running device counts as gone.
DEVICE_TIMEOUT = 1.0
#: Seconds between attempts to reopen a vanished device.
REOPEN_INTERVAL = 2.0


_HDR = 8  # int64 header slots: written, n_stamps, callbacks, overflows, status_flags, pid, rt, locked
_W, _NST, _CB, _OVF, _FLAGS, _PID, _RT, _LOCKED = range(8)


def _ring_layout(capacity: int, channels: int, stamps: int, cb_slots: int) -> list[tuple[str, type, tuple]]:
    return [("hdr", np.int64, (_HDR,)), ("last_cb", np.float64, (1,)),
            ("data", np.float32, (capacity, channels)), ("stamp_end", np.int64, (stamps,)),
            ("stamp_t", np.float64, (stamps,)), ("cb_dur", np.float64, (cb_slots,))]


def _ring_nbytes(layout) -> int:
    return sum(int(np.prod(shape)) * np.dtype(dt).itemsize for _, dt, shape in layout)


class AudioRing:
    """Preallocated multi-channel float32 ring buffer, one writer and one reader.

    Parameters
    ----------
    capacity : int
        Frames (samples per channel) it holds; a reader further behind than this loses the
        oldest audio (counted in ``overruns``).
    channels : int
        Interleaved channels per frame.
    stamps : int
        Number of (end frame, time) stamps kept, one per write, for latency measurement.
    buffer : buffer or None
        Memory to lay the ring out in (a ``SharedMemory.buf`` so that a capture process can be
        the writer); None allocates private memory. Writer counters live in this memory.
    """

    def __init__(self, capacity: int, channels: int, stamps: int = 4096, *, buffer=None,
                 cb_slots: int = 16384) -> None:
        if capacity <= 0 or channels <= 0:
            raise ValueError(f"capacity and channels must be positive, got {capacity}, {channels}")
        self.capacity = int(capacity)
        self.channels = int(channels)
        layout = _ring_layout(self.capacity, self.channels, stamps, cb_slots)
        self.nbytes = _ring_nbytes(layout)
        if buffer is None:
            buffer = bytearray(self.nbytes)
        off = 0
        for name, dt, shape in layout:
            n = int(np.prod(shape)) * np.dtype(dt).itemsize
            setattr(self, "_" + name, np.frombuffer(buffer, dtype=dt, count=int(np.prod(shape)), offset=off).reshape(shape))
            off += n
        self.data = self._data
        self.read = 0  # frames ever read (reader only)
        self.overruns = 0  # frames lost because the reader fell behind

    # Writer-side counters live in the (possibly shared) header.
    @property
    def written(self) -> int:
        """Frames ever written (writer only)."""
        return int(self._hdr[_W])

    @property
    def _n_stamps(self) -> int:
        return int(self._hdr[_NST])

    def write(self, block: np.ndarray, t: float) -> None:
        """Copy ``block`` (frames x channels, float32) in; never blocks or allocates arrays.

        The data is copied before the counter moves, so a reader never sees a partial block.
        """
        n = block.shape[0]
        w0 = int(self._hdr[_W])
        w = w0 % self.capacity
        first = min(n, self.capacity - w)
        self._data[w : w + first] = block[:first]
        if first < n:
            self._data[: n - first] = block[first:n]
        k = int(self._hdr[_NST])
        m = self._stamp_end.shape[0]
        self._stamp_end[k % m] = w0 + n
        self._stamp_t[k % m] = t
        self._hdr[_W] = w0 + n
        self._hdr[_NST] = k + 1

    def available(self) -> int:
        """Frames written but not yet read (capped at capacity)."""
        return min(self.written - self.read, self.capacity)

    def free(self) -> int:
        return self.capacity - (self.written - self.read)

    def read_into(self, out: np.ndarray, max_frames: int) -> int:
        """Copy up to ``max_frames`` unread frames into ``out[:n]``; returns n."""
        written = self.written
        behind = written - self.read
        if behind > self.capacity:  # reader lapped: skip to the oldest frame still held
            self.overruns += behind - self.capacity
            self.read = written - self.capacity
            behind = self.capacity
        n = min(behind, max_frames, out.shape[0])
        r = self.read % self.capacity
        first = min(n, self.capacity - r)
        out[:first] = self._data[r : r + first]
        if first < n:
            out[first:n] = self._data[: n - first]
        self.read += n
        return n

    def time_of(self, frame_index: int) -> float:
        """perf_counter time at which frame ``frame_index`` (0-based, ever written) arrived.

        Returns NaN when the stamp is no longer held.
        """
        m = self._stamp_end.shape[0]
        n_st = self._n_stamps
        lo = max(0, n_st - m + 8)  # skip the oldest slots: the writer may be overwriting them
        # Stamps increase; the frame asked for is recent, so walk back from the newest write
        # (a few steps per hop instead of scanning the whole history).
        t = float("nan")
        for j in range(n_st - 1, lo - 1, -1):
            k = j % m
            if self._stamp_end[k] <= frame_index:
                break
            t = float(self._stamp_t[k])
        return t

    def reset(self) -> None:
        self._hdr[_W] = 0
        self._hdr[_NST] = 0
        self.read = self.overruns = 0


@dataclass
class SourceHealth:
    ok: bool = True
    message: str = ""


class Source:
    """Common interface of the capture sources."""

    samplerate: int
    channels: int  # channels written to the ring
    ring: AudioRing
    label: str = "source"
    paced: bool = True
    finished: bool = False  # a non-looping file reached its end

    def start(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def health(self) -> SourceHealth:
        return SourceHealth()

    def counters(self) -> dict:
        return {}


# --------------------------------------------------------------------------------------------
# PortAudio devices

def _sd():
    try:
        import sounddevice as sd
    except OSError as exc:  # libportaudio missing
        raise DeviceError(f"PortAudio is not available ({exc}); install libportaudio2") from exc
    return sd


def list_input_devices() -> list[dict]:
    """Input-capable PortAudio devices: index, name, host API, channels, default rate."""
    sd = _sd()
    hostapis = sd.query_hostapis()
    out = []
    for i, d in enumerate(sd.query_devices()):
        if d["max_input_channels"] > 0:
            out.append(
                {
                    "index": i,
                    "name": d["name"],
                    "hostapi": hostapis[d["hostapi"]]["name"],
                    "channels": d["max_input_channels"],
                    "samplerate": d["default_samplerate"],
                }
            )
    return out


def find_input_device(spec: int | str | None) -> dict:
    """Resolve a device by index or case-insensitive name substring.

    An exact name match wins; otherwise exactly one device must contain the substring.
    Raises DeviceError naming the candidates when the spec is unknown or ambiguous.
    """
    devices = list_input_devices()
    listing = "; ".join(f"[{d['index']}] {d['name']}" for d in devices) or "none"
    if not devices:
        raise DeviceError("no audio input devices found (is a sound card or JACK server running?)")
    if spec is None or spec == "":
        sd = _sd()
        try:
            idx = sd.default.device[0]
        except Exception:  # noqa: BLE001 - PortAudio may have no default
            idx = -1
        for d in devices:
            if d["index"] == idx:
                return d
        return devices[0]
    if isinstance(spec, str) and spec.strip().lstrip("-").isdigit():
        spec = int(spec)
    if isinstance(spec, int):
        for d in devices:
            if d["index"] == spec:
                return d
        raise DeviceError(f"no input device with index {spec}; input devices: {listing}")
    key = str(spec).lower()
    exact = [d for d in devices if d["name"].lower() == key]
    if len(exact) == 1:
        return exact[0]
    matches = [d for d in devices if key in d["name"].lower()]
    if not matches:
        raise DeviceError(f"no input device matches {spec!r}; input devices: {listing}")
    if len(matches) > 1:
        cands = "; ".join(f"[{d['index']}] {d['name']}" for d in matches)
        raise DeviceError(f"device name {spec!r} is ambiguous; candidates: {cands}")
    return matches[0]


def _validate_device(spec, samplerate, channels) -> tuple[dict, int, list[int]]:
    """Find the device and check rate/channels; DeviceError with the reason (runs where
    PortAudio is initialised: the capture process)."""
    info = find_input_device(spec)
    sd = _sd()
    sr = int(samplerate or info["samplerate"])
    n_dev = info["channels"]
    sel = list(range(n_dev)) if channels is None else list(channels)
    if not sel or any((not isinstance(c, int)) or c < 0 or c >= n_dev for c in sel):
        raise DeviceError(
            f"channels={channels!r} not valid for {info['name']!r}: it has {n_dev} input "
            f"channel(s), numbered 0..{n_dev - 1}"
        )
    try:
        sd.check_input_settings(device=info["index"], channels=max(sel) + 1, samplerate=sr, dtype="float32")
    except Exception as exc:  # sounddevice raises PortAudioError / ValueError
        raise DeviceError(
            f"device {info['name']!r} does not support samplerate={sr} Hz with {max(sel) + 1} channel(s) "
            f"({exc}); its default rate is {info['samplerate']:.0f} Hz"
        ) from None
    return info, sr, sel


CAP_IPC_LOCK, CAP_SYS_NICE = 14, 23  #: Linux capability bits


def effective_capabilities() -> int:
    """This process's effective Linux capability mask (0 where there is no /proc/self/status)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1], 16) for l in f if l.startswith("CapEff:"))
    except (OSError, StopIteration, ValueError):
        return 0


def memlock_allowed() -> bool:
    """Whether this process may lock all its memory (Linux: RLIMIT_MEMLOCK unlimited or
    CAP_IPC_LOCK). With a smaller limit mlockall(MCL_FUTURE) would make later allocations fail,
    so the capture process then does not lock at all."""
    import resource
    import sys

    if not sys.platform.startswith("linux"):
        return False
    if resource.getrlimit(resource.RLIMIT_MEMLOCK)[0] == resource.RLIM_INFINITY:
        return True
    return bool(effective_capabilities() >> CAP_IPC_LOCK & 1)


def _lock_memory() -> bool:
    """mlockall(MCL_CURRENT | MCL_FUTURE) where allowed: every page the capture process has or
    gets is resident, so the callback never waits for a page to be faulted in or swapped back."""
    if not memlock_allowed():
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.mlockall(1 | 2) == 0  # MCL_CURRENT | MCL_FUTURE
    except (OSError, AttributeError):
        return False


def _pretouch(buf) -> None:
    """Write every page of ``buf`` once (the same bytes back: this process is the ring's only
    writer), so the callback's first lap of the ring takes no page faults."""
    v = np.frombuffer(buf, dtype=np.uint8)
    v[::4096] = v[::4096]


def _thread_rt_priority() -> int:
    """The calling thread's SCHED_FIFO/SCHED_RR priority; 0 when it runs at normal priority."""
    import os

    try:
        if os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR):
            return max(1, os.sched_getparam(0).sched_priority)
    except (AttributeError, OSError):  # not Linux
        pass
    return 0


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
        Index or name substring (see :func:`find_input_device`); None for the default input.
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


# --------------------------------------------------------------------------------------------
# Paced generators: files and the synthesizer


class _PacedSource(Source):
    """A thread that produces blocks and writes them into the ring on a real-time schedule.

    With ``paced=False`` it writes as fast as the reader frees space (offline analysis).
    """

    def __init__(self, *, samplerate: int, channels: int, blocksize: int, paced: bool, ring_seconds: float):
        if blocksize <= 0:
            raise ValueError(f"blocksize must be positive, got {blocksize}")
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.blocksize = int(blocksize)
        self.paced = paced
        self.ring = AudioRing(max(int(self.samplerate * ring_seconds), 4 * self.blocksize), self.channels)
        self.callbacks = 0
        self.finished = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._block = np.zeros((self.blocksize, self.channels), dtype=np.float32)

    def _fill(self, block: np.ndarray) -> int:  # pragma: no cover - interface
        """Write up to len(block) frames into block; return frames written (0 = end)."""
        raise NotImplementedError

    def _run(self) -> None:
        t_next = time.perf_counter()
        while not self._stop.is_set():
            if not self.paced:
                while self.ring.free() < self.blocksize and not self._stop.is_set():
                    time.sleep(0.001)
            n = self._fill(self._block)
            if n <= 0:
                self.finished = True
                return
            self.ring.write(self._block[:n], time.perf_counter())
            self.callbacks += 1
            if self.paced:
                t_next += n / self.samplerate
                delay = t_next - time.perf_counter()
                if delay > 0:
                    self._stop.wait(delay)
                elif delay < -0.5:  # we were starved (suspended): resynchronise, don't burst
                    t_next = time.perf_counter()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"s2s-{self.label}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def counters(self) -> dict:
        return {"callbacks": self.callbacks, "overflows": 0}


def _audio_error(path: str, exc: Exception) -> AudioFileError:
    return AudioFileError(f"{path!r} is not a readable audio file (wav/flac/ogg/mp3): {exc}")


class FileSource(_PacedSource):
    """Stream an audio file (anything libsndfile reads: wav, flac, ogg, mp3).

    Parameters
    ----------
    path : str
        The file.
    loop : bool
        Start again at the end instead of finishing.
    paced : bool
        True streams in real time (like a device); False as fast as the reader consumes.
    blocksize : int
        Frames per block written to the ring. Default 512.
    """

    label = "file"

    def __init__(self, path, *, loop=False, paced=True, blocksize=512, ring_seconds=4.0):
        import soundfile as sf

        self.path = str(path)
        try:
            self._sf = sf.SoundFile(self.path)
        except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError / OSError
            raise _audio_error(self.path, exc) from None
        if self._sf.frames == 0:
            raise AudioFileError(f"{self.path!r} contains no audio frames")
        self.loop = loop
        self.duration = self._sf.frames / self._sf.samplerate
        super().__init__(
            samplerate=self._sf.samplerate,
            channels=self._sf.channels,
            blocksize=blocksize,
            paced=paced,
            ring_seconds=ring_seconds,
        )
        self.selected = list(range(self.channels))

    def _fill(self, block):
        try:
            n = self._sf.read(out=block, dtype="float32").shape[0]
        except Exception as exc:  # noqa: BLE001 - a truncated file: end the stream cleanly
            self.error = str(exc)
            return 0
        if n == 0 and self.loop:
            self._sf.seek(0)
            n = self._sf.read(out=block, dtype="float32").shape[0]
        return n

    def close(self) -> None:
        self._sf.close()


class SynthSource(_PacedSource):
    """The built-in synthetic music (see :mod:`s2s_live.capture.synth`), paced in real time."""

    label = "synth"

    def __init__(self, *, samplerate=44100, blocksize=512, seed=0, paced=True, ring_seconds=4.0,
                 section_seconds=20.0, styles=None):
        from .synth import MusicSynth

        super().__init__(samplerate=samplerate, channels=1, blocksize=blocksize, paced=paced,
                         ring_seconds=ring_seconds)
        self.synth = MusicSynth(sr=self.samplerate, seed=seed, section_seconds=section_seconds,
                                styles=styles)
        self.selected = [0]

    def _fill(self, block):
        self.synth.render_into(block[:, 0])
        return block.shape[0]


SourceFactory = Callable[[], Source]
