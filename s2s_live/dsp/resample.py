"""Streaming band-limited resampling (windowed-sinc polyphase), allocation-free per call.

Equivalent in purpose to soxr's streaming API, but it writes into buffers the caller owns so
that frame assembly never allocates per hop. Quality: Kaiser-windowed sinc (beta 8.6,
24 zero crossings, cutoff 0.94 of the lower Nyquist): stop-band rejection better than 80 dB,
pass band flat to within 0.01 dB up to 0.85 of the output Nyquist.
"""

from __future__ import annotations

from math import gcd

import numba
import numpy as np

_ZERO_CROSSINGS = 24
_CUTOFF = 0.94
_BETA = 8.6


@numba.njit(cache=True, nogil=True)
def _resample_kernel(buf, n_avail, pos, up, down, table, out, out_start, out_cap):  # pragma: no cover
    """Produce outputs while the filter's input span is inside buf[:n_avail].

    ``pos`` is the position of the next output in units of 1/up input samples, relative to
    buf[0] (the first tap). Returns (outputs written, new pos).
    """
    ntaps = table.shape[1]
    n = 0
    while out_start + n < out_cap:
        i = pos // up
        if i + ntaps > n_avail:
            break
        phase = pos - i * up
        acc = 0.0
        row = table[phase]
        for k in range(ntaps):
            acc += buf[i + k] * row[k]
        out[out_start + n] = acc
        n += 1
        pos += down
    return n, pos


@numba.njit(cache=True, nogil=True)
def _shift_left(buf, start, stop):  # pragma: no cover
    """Move buf[start:stop] to buf[0:stop-start] in place (start >= 0)."""
    m = stop - start
    for j in range(m):
        buf[j] = buf[start + j]
    return m


def _design_table(up: int, down: int) -> np.ndarray:
    """Polyphase table (up phases x ntaps) of a Kaiser-windowed sinc low-pass."""
    fc = _CUTOFF * min(1.0, up / down)  # cutoff relative to the input Nyquist
    half = int(np.ceil(_ZERO_CROSSINGS / fc))
    ntaps = 2 * half
    k = np.arange(ntaps, dtype=np.float64)
    table = np.empty((up, ntaps), dtype=np.float64)
    for p in range(up):
        # tap k sits at input offset (k - half + 1) from output time t = i + half - 1 + p/up
        u = (half - 1 + p / up) - k
        x = np.clip(u / half, -1.0, 1.0)
        win = np.i0(_BETA * np.sqrt(np.maximum(0.0, 1.0 - x * x))) / np.i0(_BETA)
        h = fc * np.sinc(fc * u) * win
        table[p] = h / h.sum()  # exact unity DC gain per phase
    return table


class StreamResampler:
    """Resample a mono stream from ``sr_in`` to ``sr_out`` in arbitrary-sized chunks.

    Parameters
    ----------
    sr_in, sr_out : int
        Sample rates in Hz (positive integers). Equal rates pass samples through.
    max_block : int
        Largest input chunk ``process`` accepts (samples); buffers are sized from it.

    Notes
    -----
    ``process(x, out)`` writes the new output samples to ``out`` and returns how many; it
    allocates nothing. Output sample ``n`` is the signal at input time ``n * sr_in / sr_out``
    (no offset); it is available once ``lookahead`` more input samples have arrived (about
    1.2 ms at 48 kHz to 22.05 kHz).
    """

    def __init__(self, *, sr_in: int, sr_out: int, max_block: int = 65536) -> None:
        for name, v in (("sr_in", sr_in), ("sr_out", sr_out), ("max_block", max_block)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.sr_in = int(sr_in)
        self.sr_out = int(sr_out)
        g = gcd(self.sr_in, self.sr_out)
        self.up = self.sr_out // g
        self.down = self.sr_in // g
        self.max_block = int(max_block)
        self.passthrough = self.sr_in == self.sr_out
        if not self.passthrough:
            self.table = _design_table(self.up, self.down)
            self.ntaps = self.table.shape[1]
        else:
            self.table = np.zeros((1, 1))
            self.ntaps = 1
        self._buf = np.zeros(self.ntaps + self.max_block + 8, dtype=np.float64)
        self.max_out = int(np.ceil(self.max_block * self.up / self.down)) + 2
        self.reset()

    @property
    def lookahead(self) -> int:
        """Input samples needed beyond an output's time before it can be produced."""
        return 0 if self.passthrough else self.ntaps // 2

    def reset(self) -> None:
        # Prime with half a filter of zeros: output n then sits exactly at input time
        # n * sr_in / sr_out (no timestamp offset); it is produced ntaps/2 samples later.
        self._buf[:] = 0.0
        self._n = self.ntaps // 2 - 1 if not self.passthrough else 0
        self._pos = 0

    def warmup(self) -> None:
        out = np.empty(self.max_out, dtype=np.float32)
        self.process(np.zeros(64, dtype=np.float32), out)
        self.reset()

    def process(self, x: np.ndarray, out: np.ndarray) -> int:
        """Feed input chunk ``x`` (1-D float, at most ``max_block``); write outputs to ``out``.

        Returns the number of samples written to ``out[:n]``. ``out`` must hold at least
        ``max_out`` samples.
        """
        m = x.shape[0]
        if m > self.max_block:
            raise ValueError(f"chunk of {m} samples exceeds max_block={self.max_block}")
        if self.passthrough:
            out[:m] = x
            return m
        self._buf[self._n : self._n + m] = x
        self._n += m
        n, pos = _resample_kernel(
            self._buf, self._n, self._pos, self.up, self.down, self.table, out, 0, out.shape[0]
        )
        # Drop consumed input, keep the filter history.
        consumed = pos // self.up
        if consumed > 0:
            self._n = _shift_left(self._buf, consumed, self._n)
            pos -= consumed * self.up
        self._pos = pos
        return n
