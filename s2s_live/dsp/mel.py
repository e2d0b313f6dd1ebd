"""Streaming log-mel front end of the musicnn taggers (16 kHz, n_fft 512, hop 256, 96 mels).

The taggers were trained on ``log10(1 + 10000 * melspectrogram(y, sr=16000, n_fft=512,
hop_length=256, n_mels=96))`` (librosa defaults: periodic Hann window, centred frames, power
spectrum, Slaney-normalised Slaney-scale mel filters) in patches of 187 frames (3 s).

:class:`LogMelStream` computes each column exactly once, as soon as its window is complete:
column ``k`` is centred on sample ``k * hop_length`` of the stream, so it needs samples up to
``k * hop_length + n_fft // 2`` and trails the newest sample by at most 16 ms + one hop.
Edges: before the stream's first sample the window sees zeros, as librosa's ``center=True``
with ``pad_mode="constant"``; at the newest end no padded column is ever made (librosa pads the
last columns of a clip with zeros; those columns differ, the streaming front end waits for the
samples instead). The wheel's own extractor rounds the mel power to float16 before the log;
that rounding (~5e-4 relative) is not reproduced.

:func:`logmel` is the same kernel over a whole signal (offline analysis, training, tests), so a
stream and a batch computation over the same samples give the same columns bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np

from .fft import RFFTPlan, _rfft

SR = 16000  #: tagger input rate (Hz)
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
PATCH_FRAMES = 187  #: 3 s patch: librosa.time_to_frames(3, sr=16000, hop_length=256) + 1
LOG_SCALE = 10000.0  #: log10(1 + LOG_SCALE * mel_power)


def mel_basis(*, sr: int = SR, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """librosa's Slaney mel filter bank (n_mels x n_fft//2+1, float64), built once at start-up."""
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, dtype=np.float64)


@numba.njit(cache=True, nogil=True)
def _columns(sig, sig_start, n_have, k0, k1, window, bitrev, tw, post, work, frame, spec, fb, out, out_row0, n_rows):  # pragma: no cover
    """Log-mel columns k0..k1-1 into out rows (out_row0 + i) % n_rows.

    ``sig`` holds stream samples [sig_start, sig_start + len(sig)) (a linear window of the stream);
    samples before 0 are zeros. ``n_have`` samples of the stream exist (for bounds only).
    """
    n_fft = window.shape[0]
    half = n_fft // 2
    hop = HOP_LENGTH
    for i in range(k1 - k0):
        k = k0 + i
        a = k * hop - half
        for j in range(n_fft):
            s = a + j
            v = 0.0
            if s >= 0 and s < n_have:
                v = sig[s - sig_start]
            frame[j] = v * window[j]
        _rfft(frame, bitrev, tw, post, work, spec)
        row = (out_row0 + i) % n_rows
        for m in range(fb.shape[0]):
            acc = 0.0
            for f in range(fb.shape[1]):
                w = fb[m, f]
                if w != 0.0:
                    c = spec[f]
                    acc += w * (c.real * c.real + c.imag * c.imag)
            out[row, m] = np.log10(1.0 + LOG_SCALE * acc)


@numba.njit(cache=True, nogil=True)
def _shift_left(sig, n, keep):  # pragma: no cover
    """sig[:keep] = sig[n:n + keep] without a temporary (ascending copy is overlap-safe)."""
    for i in range(keep):
        sig[i] = sig[n + i]


class _Kernel:
    """Tables and work buffers shared by the batch function and the stream."""

    def __init__(self) -> None:
        import scipy.signal

        self.window = scipy.signal.get_window("hann", N_FFT, fftbins=True).astype(np.float64)
        self.plan = RFFTPlan(N_FFT)
        self.fb = np.ascontiguousarray(mel_basis())
        self.frame = np.zeros(N_FFT, np.float64)
        self.spec = np.zeros(N_FFT // 2 + 1, np.complex128)

    def run(self, sig, sig_start, n_have, k0, k1, out, row0):
        p = self.plan
        _columns(sig, sig_start, n_have, k0, k1, self.window, p.bitrev, p.tw, p.post, p.work, self.frame,
                 self.spec, self.fb, out, row0, out.shape[0])


def logmel(*, y: np.ndarray, sr: int = SR) -> np.ndarray:
    """Log-mel columns of a whole 16 kHz mono signal: (n_columns, 96) float32.

    Column ``k`` is centred on sample ``k * 256``; only columns whose window lies before the end
    of ``y`` are returned (``max(0, (len(y) - 256) // 256 + 1)`` of them), exactly what
    :class:`LogMelStream` produces for the same samples.
    """
    if sr != SR:
        raise ValueError(f"sr={sr!r}: the tagger front end runs at {SR} Hz; resample first")
    if not isinstance(y, np.ndarray) or y.ndim != 1:
        raise ValueError(f"y must be a 1-D numpy array, got {getattr(y, 'shape', type(y).__name__)}")
    y = np.ascontiguousarray(y, dtype=np.float64)
    n = y.shape[0]
    n_cols = max(0, (n - N_FFT // 2) // HOP_LENGTH + 1)
    out = np.zeros((n_cols, N_MELS), np.float32)
    if n_cols:
        _Kernel().run(y, 0, n, 0, n_cols, out, 0)
    return out


def patches(*, columns: np.ndarray, step: int) -> np.ndarray:
    """Patches of 187 columns every ``step`` columns (the last one ending at the last column).

    Returns (n, 187, 96) float32; a signal shorter than a patch is zero-padded at the start, as
    the stream's patch is before 3 s have arrived.
    """
    c = np.asarray(columns, dtype=np.float32)
    if c.shape[0] < PATCH_FRAMES:
        c = np.concatenate([np.full((PATCH_FRAMES - c.shape[0], N_MELS), 0.0, np.float32), c])
    ends = np.arange(c.shape[0], PATCH_FRAMES - 1, -max(1, int(step)))[::-1]
    return np.stack([c[e - PATCH_FRAMES : e] for e in ends])


def patch_columns(seconds: float) -> int:
    """Columns of the newest ``seconds`` of audio (1.0..3.0 s -> 63..187 columns)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 1.0 <= seconds <= 3.0:
        raise ValueError(f"patch seconds={seconds!r} is invalid; expected 1.0..3.0")
    return min(PATCH_FRAMES, int(round(seconds * SR / HOP_LENGTH)) + 1)


def tile_newest(patch: np.ndarray, n: int) -> np.ndarray:
    """Fill a (187, 96) patch, in place, with repeats of its newest ``n`` columns; returns it.

    The taggers take a fixed 3-s input and pool over time (max and mean), so a sound that left
    the patch 2 s ago still sets its maxima: a 3-s patch keeps answering for the previous music
    until all of it has gone. Repeating the newest ``n`` columns instead keeps the pooled
    statistics of the newest audio only (measured: docs/models.md, "patch length"). The newest
    columns are never overwritten, so the copy needs no buffer; ``n >= 187`` leaves it as is.
    """
    P = patch.shape[0]
    if n >= P:
        return patch
    if n < 1:
        raise ValueError(f"n={n!r} columns is invalid; expected 1..{P}")
    end = P - n
    while end > 0:
        k = min(n, end)
        patch[end - k : end] = patch[P - k :]
        end -= k
    return patch


class LogMelStream:
    """The tagger front end, streaming: ``process(block)`` adds new 16 kHz samples.

    Keeps the newest 187 columns in a ring; :meth:`patch` copies them, oldest first, into a
    (187, 96) float32 buffer. Before 3 s have arrived the missing columns are zeros (the
    log-mel of silence). Nothing is allocated per call; each column is computed once.

    Parameters
    ----------
    max_block : int
        Largest block ``process`` accepts (samples at 16 kHz).
    """

    def __init__(self, *, max_block: int = SR) -> None:
        self.max_block = int(max_block)
        self._k = _Kernel()
        self._sig = np.zeros(N_FFT + self.max_block, np.float64)  # stream samples [start, start+len)
        self.ring = np.zeros((PATCH_FRAMES, N_MELS), np.float32)
        self.reset()

    def reset(self) -> None:
        self._sig[:] = 0.0
        self.ring[:] = 0.0
        self.n_samples = 0  #: samples received since reset
        self.n_columns = 0  #: columns computed since reset

    def process(self, block: np.ndarray) -> int:
        """Add ``block`` (1-D float, 16 kHz); returns how many new columns were computed."""
        n = block.shape[0]
        if n > self.max_block:
            raise ValueError(f"block has {n} samples; at most max_block={self.max_block} are accepted")
        sig = self._sig
        # sig[:N_FFT] holds the stream's last N_FFT samples (zeros before the start: the pad)
        sig[N_FFT : N_FFT + n] = block
        start = self.n_samples - N_FFT
        self.n_samples += n
        k0 = self.n_columns
        k1 = max(0, (self.n_samples - N_FFT // 2) // HOP_LENGTH + 1)
        if k1 > k0:
            self._k.run(sig, start, self.n_samples, k0, k1, self.ring, k0 % PATCH_FRAMES)
            self.n_columns = k1
        _shift_left(sig, n, N_FFT)
        return max(0, k1 - k0)

    def patch(self, out: np.ndarray) -> np.ndarray:
        """The newest 187 columns, oldest first, into ``out`` (187 x 96 float32); returns it."""
        r = self.n_columns % PATCH_FRAMES
        out[: PATCH_FRAMES - r] = self.ring[r:]
        out[PATCH_FRAMES - r :] = self.ring[:r]
        return out
