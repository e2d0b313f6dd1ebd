"""The shared-memory ring: a preallocated multi-channel float32 buffer, one writer and one reader.

:class:`AudioRing` lays its arrays out in one block of memory (private, or a ``SharedMemory``
buffer so that the capture process can be the writer): an int64 header of writer counters,
the time of the last callback, the audio (frames x channels, float32, -1..1 by convention),
(end frame, perf_counter time) stamps per write for latency measurement, and the capture
callback's last durations (seconds).

The ring is lock-free for one writer and one reader: the writer only advances ``written`` after
copying, the reader only advances ``read``. Python's GIL makes each integer store atomic.
"""

from __future__ import annotations

import numpy as np

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
