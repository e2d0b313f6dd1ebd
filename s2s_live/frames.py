"""Frame stage: mono mix, streaming resampling, one-second frames every hop, fast block groups.

:class:`FrameAssembler` takes capture-rate chunks (frames x channels) and keeps a history of the
mono signal at 22050 Hz (the descriptor/genre recipe rate) and 16000 Hz (the VAE rate). Frame
boundaries lie on a fixed grid of ``hop`` seconds at 22050 Hz; when a boundary is crossed the
assembler copies the one second before it into the preallocated frame buffers. When several
boundaries are crossed in one call (analysis fell behind), only the newest frame is delivered
and the others are counted in ``dropped``: the newest frame wins.

Nothing here allocates arrays per hop: chunks, histories and frames are preallocated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from .dsp.resample import StreamResampler
from .errors import ConfigError

HOP_RANGE = (0.01, 1.0)  #: seconds between frames (the hop grid's limits; config, control and the engine use it)


def check_hop(hop) -> float:
    """The hop (seconds in :data:`HOP_RANGE`) as float; ConfigError naming the value otherwise.
    The one check of the hop: config, the engine's setter and the frame grid call it."""
    lo, hi = HOP_RANGE
    if isinstance(hop, bool) or not isinstance(hop, (int, float)) or not lo <= float(hop) <= hi:
        raise ConfigError(f"hop={hop!r} is invalid; expected seconds in {lo}..{hi}")
    return float(hop)

SR_RECIPE = 22050  #: analysis rate of the descriptors and the genre recipe (Hz)
SR_VAE = 16000  #: analysis rate of the VAE encoder (Hz)
FRAME_SECONDS = 1.0  #: length of an analysis frame (s)
DEFAULT_HOP = 0.25  #: default hop between frames (s)
FAST_BLOCK = 256  #: fast-stream block group at 22050 Hz (samples, ~11.6 ms)


@dataclass
class Frame:
    """One analysis frame, reused (mutated) every hop: copy what you keep.

    Attributes
    ----------
    index : int
        Position on the hop grid (0, 1, 2, ...); consecutive unless frames were dropped.
    time : float
        Stream time of the frame's last sample, in seconds since the stream started.
    y22 : ndarray, float32, shape (22050,)
        The last second at 22050 Hz, mono, C-contiguous.
    y16 : ndarray, float32, shape (16000,)
        The same second at 16000 Hz.
    n_new22, n_new16 : int
        Samples at the end of y22/y16 that are new since the previous delivered frame
        (the hop, or more after dropped frames; at most a whole frame).
    t_capture : float
        ``time.perf_counter()`` when the frame's last sample arrived from the source (NaN
        if unknown); decision latency is measured from here.
    values : dict
        Outputs of the processors run so far on this frame, by output name.
    """

    index: int = -1
    time: float = 0.0
    y22: np.ndarray = field(default_factory=lambda: np.zeros(SR_RECIPE, dtype=np.float32))
    y16: np.ndarray = field(default_factory=lambda: np.zeros(SR_VAE, dtype=np.float32))
    n_new22: int = 0
    n_new16: int = 0
    hop22: int = int(round(DEFAULT_HOP * SR_RECIPE))
    t_capture: float = float("nan")
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def new22(self) -> np.ndarray:
        """The new samples at 22050 Hz (a view)."""
        return self.y22[SR_RECIPE - self.n_new22 :]

    @property
    def new16(self) -> np.ndarray:
        return self.y16[SR_VAE - self.n_new16 :]


#: Largest sample magnitude analysed (+30 dBFS). Float sources may exceed 1.0 a little
#: (inter-sample peaks, hot float WAVs); 1e30 is garbage whose squares overflow the running
#: sums and every statistic after them, so such samples are clamped here and counted.
SAMPLE_LIMIT = 32.0


@numba.njit(cache=True, nogil=True)
def _mix_sanitize(src, n, sel, out, counts):  # pragma: no cover
    """Mean of channels ``sel`` of src[:n] into out[:n]; non-finite samples become 0 and
    samples beyond +-SAMPLE_LIMIT are clamped to it.

    Adds the number of non-finite samples to counts[0] and of clamped ones to counts[1].
    """
    m = sel.shape[0]
    lim = SAMPLE_LIMIT
    for i in range(n):
        acc = 0.0
        for j in range(m):
            v = src[i, sel[j]]
            if not np.isfinite(v):
                counts[0] += 1
                v = 0.0
            elif v > lim:
                counts[1] += 1
                v = lim
            elif v < -lim:
                counts[1] += 1
                v = -lim
            acc += v
        out[i] = acc / m


class _History:
    """A mono ring at one rate with an absolute sample counter."""

    def __init__(self, capacity: int) -> None:
        self.data = np.zeros(capacity, dtype=np.float32)
        self.capacity = capacity
        self.n = 0  # samples ever written

    def write(self, x: np.ndarray) -> None:
        m = x.shape[0]
        w = self.n % self.capacity
        first = min(m, self.capacity - w)
        self.data[w : w + first] = x[:first]
        if first < m:
            self.data[: m - first] = x[first:m]
        self.n += m

    def copy_to(self, end: int, out: np.ndarray) -> None:
        """Copy samples [end-len(out), end) into out (zeros before the stream started)."""
        m = out.shape[0]
        start = end - m
        if start < 0:
            out[: -start] = 0.0
            out = out[-start:]
            start = 0
            m = out.shape[0]
        s = start % self.capacity
        first = min(m, self.capacity - s)
        out[:first] = self.data[s : s + first]
        if first < m:
            out[first:] = self.data[: m - first]


class FrameAssembler:
    """Turn capture chunks into fast blocks and hop-spaced one-second frames.

    Parameters
    ----------
    samplerate : int
        Capture rate in Hz.
    channels : sequence of int
        Ring channels to mix to mono.
    hop : float
        Seconds between frames, 0.01..1.0. Default 0.25.
    max_chunk : int
        Largest capture chunk passed to :meth:`push` (frames).
    fast_block : int
        Fast-stream block size at 22050 Hz (samples). Default 256.
    """

    def __init__(self, *, samplerate: int, channels, hop: float = DEFAULT_HOP, max_chunk: int = 8192,
                 fast_block: int = FAST_BLOCK) -> None:
        if not isinstance(samplerate, (int, np.integer)) or samplerate < 8000 or samplerate > 384000:
            raise ValueError(f"samplerate must be an int in 8000..384000 Hz, got {samplerate!r}")
        self.samplerate = int(samplerate)
        self.sel = np.asarray(list(channels), dtype=np.int64)
        if self.sel.size == 0:
            raise ValueError("channels must name at least one channel")
        self.max_chunk = int(max_chunk)
        self.fast_block = int(fast_block)
        self._mono = np.zeros(self.max_chunk, dtype=np.float32)
        self._rs22 = StreamResampler(sr_in=self.samplerate, sr_out=SR_RECIPE, max_block=self.max_chunk)
        self._rs16 = StreamResampler(sr_in=self.samplerate, sr_out=SR_VAE, max_block=self.max_chunk)
        self._out22 = np.zeros(self._rs22.max_out, dtype=np.float32)
        self._out16 = np.zeros(self._rs16.max_out, dtype=np.float32)
        # Histories hold a frame plus the largest chunk plus slack.
        self.h22 = _History(4 * SR_RECIPE + 2 * self._rs22.max_out)
        self.h16 = _History(4 * SR_VAE + 2 * self._rs16.max_out)
        self.frame = Frame()
        self._fast = np.zeros(self.fast_block, dtype=np.float32)
        self._ahead = np.zeros(SR_RECIPE, dtype=np.float32)  # ahead22's buffer: at most a hop (<= 1 s)
        self.set_hop(hop)
        self.reset()

    # -- configuration --------------------------------------------------------------------
    def set_hop(self, hop: float) -> None:
        """Change the hop (seconds, 0.01..1.0); takes effect at the next boundary."""
        self.hop = check_hop(hop)
        self.hop22 = max(1, int(round(self.hop * SR_RECIPE)))
        self.frame.hop22 = self.hop22
        if hasattr(self, "_next_boundary"):
            # Re-anchor the grid at the last delivered frame so spacing changes cleanly.
            self._next_boundary = self._last_end + self.hop22
            self._grid_origin = self._last_end
            self._grid_index0 = self.frame.index + 1

    def reset(self) -> None:
        self._rs22.reset()
        self._rs16.reset()
        self.h22.n = 0
        self.h16.n = 0
        self.h22.data[:] = 0
        self.h16.data[:] = 0
        self._last_end = 0
        self._last_end16 = 0
        self._grid_origin = 0
        self._grid_index0 = 0
        self._next_boundary = self.hop22
        self._fast_done = 0
        self.frame.index = -1
        self.in_samples = 0
        self._counts = np.zeros(2, np.int64)  # non-finite, clamped (written by _mix_sanitize)
        self.nonfinite = 0  #: non-finite samples replaced by 0 since reset
        self.clamped = 0  #: samples beyond +-SAMPLE_LIMIT clamped since reset
        self.dropped = 0
        self.frames = 0

    def warmup(self) -> None:
        self._rs22.warmup()
        self._rs16.warmup()
        src = np.zeros((16, int(self.sel.max()) + 1), dtype=np.float32)
        _mix_sanitize(src, 16, self.sel, self._mono, np.zeros(2, np.int64))

    # -- streaming ------------------------------------------------------------------------
    def push(self, chunk: np.ndarray, n: int) -> None:
        """Consume ``chunk[:n]`` (capture rate, frames x channels)."""
        if n > self.max_chunk:
            raise ValueError(f"chunk of {n} frames exceeds max_chunk={self.max_chunk}")
        c = self._counts
        _mix_sanitize(chunk, n, self.sel, self._mono, c)
        self.nonfinite, self.clamped = int(c[0]), int(c[1])
        self.in_samples += n
        mono = self._mono[:n]
        k = self._rs22.process(mono, self._out22)
        self.h22.write(self._out22[:k])
        k = self._rs16.process(mono, self._out16)
        self.h16.write(self._out16[:k])

    def fast_blocks(self):
        """Yield each complete fast block (a reused buffer) not yet handed out."""
        while self._fast_done + self.fast_block <= self.h22.n:
            self.h22.copy_to(self._fast_done + self.fast_block, self._fast)
            self._fast_done += self.fast_block
            yield self._fast

    def pending_fast(self) -> int:
        return (self.h22.n - self._fast_done) // self.fast_block

    def available22(self) -> int:
        """Samples (22050-Hz count) present in *both* histories: the two resamplers need
        different look-ahead, so a boundary counts as crossed only when the 16-kHz stream has
        reached it too — that makes frames independent of how the input was chunked."""
        return min(self.h22.n, (self.h16.n * SR_RECIPE) // SR_VAE)

    def next_frame(self, limit: int | None = None) -> Frame | None:
        """The newest frame whose boundary has been crossed (at most ``limit``, a 22050-Hz
        sample count), or None; older due frames are dropped and counted."""
        n = self.available22()
        if limit is not None:
            n = min(n, limit)
        if n < self._next_boundary:
            return None
        k = (n - self._grid_origin) // self.hop22  # boundaries crossed since the grid origin
        end = self._grid_origin + k * self.hop22
        skipped = (end - self._next_boundary) // self.hop22
        self.dropped += skipped
        index = self._grid_index0 + k - 1
        f = self.frame
        n_new = min(SR_RECIPE, end - self._last_end)
        self.h22.copy_to(end, f.y22)
        end16 = (end * SR_VAE) // SR_RECIPE
        self.h16.copy_to(end16, f.y16)
        f.n_new16 = min(SR_VAE, end16 - self._last_end16)
        f.n_new22 = n_new
        f.index = index
        f.time = end / SR_RECIPE
        f.values.clear()
        self._last_end = end
        self._last_end16 = end16
        self._next_boundary = end + self.hop22
        self.frames += 1
        return f

    def ahead22(self, start: int) -> tuple[int, np.ndarray]:
        """Samples at 22050 Hz that arrived for the next frame, from ``start`` on (absolute
        count, clipped to the last frame's end) up to the next boundary: ``(first, view)``.

        The view is a reused buffer, valid until the next call. Never reaches past the next
        boundary, so work done on it ahead of time sees exactly what the next frame will hold.
        """
        first = max(int(start), self._last_end)
        stop = min(self.available22(), self._next_boundary)
        m = min(max(0, stop - first), self._ahead.shape[0])
        out = self._ahead[:m]
        if m:
            self.h22.copy_to(first + m, out)
        return first, out

    def flush_pad(self) -> int:
        """Capture-rate samples of silence that let both resamplers deliver everything pushed
        so far (end of a file)."""
        return max(self._rs22.lookahead, self._rs16.lookahead) + 2

    def capture_index(self, n22: int) -> int:
        """Capture-rate sample index corresponding to 22050-Hz sample ``n22``."""
        return int(n22 * self.samplerate / SR_RECIPE) + self._rs22.lookahead
