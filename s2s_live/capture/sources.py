"""Paced sources that run as a thread in the engine process: audio files and the built-in synth.

:class:`FileSource` streams wav/flac/ogg/mp3 through soundfile, in real time or (``paced=False``)
as fast as the reader consumes, optionally looping; :class:`SynthSource` streams the built-in
synthetic music (:mod:`s2s_live.capture.synth`) for the demo. Both write float32 blocks into a
private :class:`~s2s_live.capture.ring.AudioRing`.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from ..errors import AudioFileError
from .base import Source
from .ring import AudioRing

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
