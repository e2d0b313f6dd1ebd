"""Capture stage: audio sources that write into a preallocated single-producer ring buffer.

Three sources share one shape (``start()``, ``stop()``, ``ring``, ``samplerate``, ``channels``,
``health()``):

* :class:`DeviceSource` — a PortAudio input through sounddevice (any host API, JACK included).
* :class:`FileSource` — wav/flac/ogg/mp3 through soundfile, paced in real time (or unpaced for
  offline analysis), optionally looping.
* :class:`SynthSource` — the built-in synthetic music (:mod:`s2s_live.synth`) for the demo.

The ring is lock-free for one writer and one reader: the writer only advances ``written`` after
copying, the reader only advances ``read``. Python's GIL makes each integer store atomic.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import AudioFileError, DeviceError

#: Seconds without a callback after which a running device counts as gone.
DEVICE_TIMEOUT = 1.0
#: Seconds between attempts to reopen a vanished device.
REOPEN_INTERVAL = 2.0


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
    """

    def __init__(self, capacity: int, channels: int, stamps: int = 4096) -> None:
        if capacity <= 0 or channels <= 0:
            raise ValueError(f"capacity and channels must be positive, got {capacity}, {channels}")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self.data = np.zeros((self.capacity, self.channels), dtype=np.float32)
        self.written = 0  # frames ever written (writer only)
        self.read = 0  # frames ever read (reader only)
        self.overruns = 0  # frames lost because the reader fell behind
        self._stamp_end = np.zeros(stamps, dtype=np.int64)
        self._stamp_t = np.zeros(stamps, dtype=np.float64)
        self._n_stamps = 0

    def write(self, block: np.ndarray, t: float) -> None:
        """Copy ``block`` (frames x channels, float32) in; never blocks or allocates arrays."""
        n = block.shape[0]
        w = self.written % self.capacity
        first = min(n, self.capacity - w)
        self.data[w : w + first] = block[:first]
        if first < n:
            self.data[: n - first] = block[first:n]
        self.written += n
        k = self._n_stamps % self._stamp_end.shape[0]
        self._stamp_end[k] = self.written
        self._stamp_t[k] = t
        self._n_stamps += 1

    def available(self) -> int:
        """Frames written but not yet read (capped at capacity)."""
        return min(self.written - self.read, self.capacity)

    def free(self) -> int:
        return self.capacity - (self.written - self.read)

    def read_into(self, out: np.ndarray, max_frames: int) -> int:
        """Copy up to ``max_frames`` unread frames into ``out[:n]``; returns n."""
        behind = self.written - self.read
        if behind > self.capacity:  # reader lapped: skip to the oldest frame still held
            self.overruns += behind - self.capacity
            self.read = self.written - self.capacity
            behind = self.capacity
        n = min(behind, max_frames, out.shape[0])
        r = self.read % self.capacity
        first = min(n, self.capacity - r)
        out[:first] = self.data[r : r + first]
        if first < n:
            out[first:n] = self.data[: n - first]
        self.read += n
        return n

    def time_of(self, frame_index: int) -> float:
        """perf_counter time at which frame ``frame_index`` (0-based, ever written) arrived.

        Returns NaN when the stamp is no longer held.
        """
        m = self._stamp_end.shape[0]
        lo = max(0, self._n_stamps - m)
        for j in range(lo, self._n_stamps):  # stamps are increasing; few hundred at most
            k = j % m
            if self._stamp_end[k] > frame_index:
                return float(self._stamp_t[k])
        return float("nan")

    def reset(self) -> None:
        self.written = self.read = self.overruns = 0
        self._n_stamps = 0


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

#: Streams whose host died and that could not be closed (kept so nothing tries to close them
#: again). While this is non-empty, PortAudio must not be terminated: it would block.
_ABANDONED: list = []


def _close_quietly(s, timeout: float) -> None:
    """Abort and close stream ``s`` in a helper thread; abandon it if that blocks."""
    if s is None:
        return

    def close():
        try:
            s.abort(ignore_errors=True)
            s.close(ignore_errors=True)
        except Exception:  # noqa: BLE001 - closing a dead stream may fail; nothing to do
            pass

    t = threading.Thread(target=close, name="s2s-close-stream", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        _ABANDONED.append(s)


def abandoned_streams() -> int:
    """How many dead streams were abandoned (the process should exit with os._exit)."""
    return len(_ABANDONED)


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


class DeviceSource(Source):
    """A PortAudio input stream that copies every block into an :class:`AudioRing`.

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

    def __init__(self, device=None, *, samplerate=None, blocksize=256, channels=None, ring_seconds=4.0):
        self.spec = device
        self.info = find_input_device(device)
        sd = _sd()
        self.samplerate = int(samplerate or self.info["samplerate"])
        if blocksize < 0:
            raise ValueError(f"blocksize must be >= 0, got {blocksize}")
        self.blocksize = int(blocksize)
        n_dev = self.info["channels"]
        sel = list(range(n_dev)) if channels is None else list(channels)
        if not sel or any((not isinstance(c, int)) or c < 0 or c >= n_dev for c in sel):
            raise DeviceError(
                f"channels={channels!r} not valid for {self.info['name']!r}: it has {n_dev} input "
                f"channel(s), numbered 0..{n_dev - 1}"
            )
        self.selected = sel
        self.channels = max(sel) + 1
        try:
            sd.check_input_settings(
                device=self.info["index"], channels=self.channels, samplerate=self.samplerate, dtype="float32"
            )
        except Exception as exc:  # sounddevice raises PortAudioError / ValueError
            raise DeviceError(
                f"device {self.info['name']!r} does not support samplerate={self.samplerate} Hz with "
                f"{self.channels} channel(s) ({exc}); its default rate is "
                f"{self.info['samplerate']:.0f} Hz"
            ) from None
        self.ring = AudioRing(int(self.samplerate * ring_seconds), self.channels)
        self.callbacks = 0
        self.cb_durations = np.zeros(16384, dtype=np.float64)  # seconds, last 16384 callbacks
        self.input_overflows = 0
        self.status_flags = 0
        self.reopens = 0
        self.lost = 0  # times the device vanished
        self._stream = None
        self._last_cb = 0.0
        self._next_reopen = 0.0
        self._gone_message = ""
        self._reopening: threading.Thread | None = None
        self._reopen_result = ""

    def _callback(self, indata, frames, time_info, status):  # noqa: ARG002
        """PortAudio callback: only copies the block into the ring and counts. Nothing else.

        No allocation of arrays, no locks, no printing, no per-sample Python loops. Its own
        duration is stored in a preallocated array for the benchmark.
        """
        t0 = time.perf_counter()
        if status:
            self.status_flags += 1
            if status.input_overflow:
                self.input_overflows += 1
        self.ring.write(indata, t0)
        t1 = time.perf_counter()
        self.cb_durations[self.callbacks % self.cb_durations.shape[0]] = t1 - t0
        self.callbacks += 1
        self._last_cb = t1

    def _open(self) -> None:
        sd = _sd()
        self._stream = sd.InputStream(
            device=self.info["index"],
            channels=self.channels,
            samplerate=self.samplerate,
            blocksize=self.blocksize,
            dtype="float32",
            callback=self._callback,
        )
        self._stream.start()
        self._last_cb = time.perf_counter()

    def start(self) -> None:
        try:
            self._open()
        except Exception as exc:  # PortAudioError
            self._close_stream()
            raise DeviceError(f"cannot open input device {self.info['name']!r}: {exc}") from None

    def _close_stream(self, timeout: float = 1.0) -> None:
        """Close the stream without ever hanging the caller.

        PortAudio calls on a stream whose server died (e.g. jackd killed) can block forever,
        so closing happens in a helper thread; a stream that does not close in ``timeout``
        seconds is abandoned (kept referenced so the garbage collector never closes it).
        """
        s, self._stream = self._stream, None
        _close_quietly(s, timeout)

    def stop(self) -> None:
        self._close_stream()

    def _reopen(self) -> None:
        """Runs in a helper thread: re-enumerate devices and open the same device by name."""
        try:
            sd = _sd()
            if not _ABANDONED:  # Pa_Terminate would block on an abandoned (dead) stream
                sd._terminate()
                sd._initialize()
            self.info = find_input_device(self.info["name"])
            self._open()
            self.reopens += 1
            self._reopen_result = f"input device {self.info['name']!r} reopened"
        except Exception as exc:  # noqa: BLE001 - keep retrying; report the reason
            s, self._stream = self._stream, None
            if s is not None:
                _ABANDONED.append(s)
            self._reopen_result = f"reopen failed: {exc}"

    def health(self) -> SourceHealth:
        """Detect a vanished device; retry opening it every REOPEN_INTERVAL seconds.

        Never blocks: closing and reopening run in helper threads.
        """
        now = time.perf_counter()
        if self._reopening is not None:
            if self._reopening.is_alive():
                return SourceHealth(False, self._gone_message + "; reopening")
            self._reopening = None
            msg = self._reopen_result
            if self._stream is not None:
                self._gone_message = ""
                return SourceHealth(True, msg)
            return SourceHealth(False, f"{self._gone_message}; {msg}")
        s = self._stream
        if s is not None:
            if (now - self._last_cb) < DEVICE_TIMEOUT:
                return SourceHealth(True, "")
            self.lost += 1
            self._gone_message = (f"input device {self.info['name']!r} stopped delivering audio "
                                  f"(no callback for {DEVICE_TIMEOUT:.0f} s)")
            dead, self._stream = s, None
            threading.Thread(target=_close_quietly, args=(dead, 2.0), daemon=True).start()
            self._next_reopen = now + REOPEN_INTERVAL
            return SourceHealth(False, self._gone_message + "; retrying")
        if now >= self._next_reopen:
            self._next_reopen = now + REOPEN_INTERVAL
            self._reopening = threading.Thread(target=self._reopen, name="s2s-reopen", daemon=True)
            self._reopening.start()
        return SourceHealth(False, self._gone_message + "; waiting to retry")

    def counters(self) -> dict:
        return {
            "callbacks": self.callbacks,
            "overflows": self.input_overflows,
            "status_flags": self.status_flags,
            "device_lost": self.lost,
            "device_reopened": self.reopens,
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

    def stop(self) -> None:
        super().stop()

    def close(self) -> None:
        self._sf.close()


class SynthSource(_PacedSource):
    """The built-in synthetic music (see :mod:`s2s_live.synth`), paced in real time."""

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
