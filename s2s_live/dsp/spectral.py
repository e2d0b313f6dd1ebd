"""Streaming STFT core: every new STFT column once, with all per-column descriptors.

:class:`SpectralStream` keeps a float64 ring of the signal at 22050 Hz and computes each STFT
column (Hann, ``n_fft`` 2048, ``hop_length`` 512, centred at ``m * hop_length``) exactly once,
as soon as its samples have arrived. For each column it stores a row of descriptors
(``COL_*`` indices below) and the column's mel power in dB. Rolling statistics, live
descriptors and beat/tempo estimation all read these rows; nothing recomputes a spectrum.

:meth:`SpectralStream.edge_column` computes a column of a *clip* ``[s, e)`` of the stream with
librosa's padding (zeros for the STFT and RMS, edge values for the zero-crossing rate), which is
what librosa sees at the ends of a window; rolling statistics use it for the 2 columns at each end.

Per-column values follow librosa 0.11 (``feature.chroma_stft(tuning=0)``, ``rms``,
``spectral_centroid``, ``spectral_bandwidth``, ``spectral_rolloff``, ``zero_crossing_rate``,
``spectral_flatness``, ``mfcc`` of ``power_to_db(melspectrogram, top_db=None)``); spectral
contrast follows ``feature.spectral_contrast`` except that dB values are not clamped to 80 dB
below the clip's maximum.
"""

from __future__ import annotations

import numba
import numpy as np

from .fft import RFFTPlan, _rfft

# -- column layout --------------------------------------------------------------------------
COL_CHROMA = 0  #: 12 chroma values (C..B), max-normalised per column, 0..1
COL_RMS = 12  #: RMS of the 2048-sample frame (full scale 1)
COL_CENTROID = 13  #: Hz
COL_BANDWIDTH = 14  #: Hz (p=2)
COL_ROLLOFF = 15  #: Hz (85 %)
COL_ZCR = 16  #: crossings per sample, 0..1
COL_FLATNESS = 17  #: 0..1
COL_MFCC = 18  #: 20 MFCCs
N_MFCC = 20
COL_CONTRAST = 38  #: 7 spectral-contrast bands (dB)
N_CONTRAST = 7
COL_BANDS = 45  #: 8 instrument band powers (sum of |X|^2 / norm, linear)
N_BANDS = 8
COL_FLUX = 53  #: onset strength: mean over mel bands of max(0, dB[m] - dB[m-1])
COL_POWER = 54  #: total power of the column (sum |X|^2 / norm)
N_COL = 55

#: Instrument heuristic bands (Hz): name, low, high. Energies only, not detectors.
INSTRUMENT_BANDS = (
    ("bass", 40.0, 250.0),
    ("kick", 40.0, 120.0),
    ("guitar", 250.0, 1500.0),
    ("piano", 250.0, 4000.0),
    ("synth", 1000.0, 6000.0),
    ("strings", 400.0, 3500.0),
    ("brass", 500.0, 3000.0),
    ("drums", 5000.0, 11025.0),
)

_TINY = float(np.finfo(np.float64).tiny)


@numba.njit(cache=True, nogil=True)
def _column(ring, cap, center, s, e, half, window, bitrev, tw, post, work, spec, frame, zframe,
            pw, mag, freqs, chroma_fb, mel_fb, mel_lo, mel_hi, dct, con_start, con_stop, con_q,
            band_lo, band_hi, norm, scratch, out, out_db):  # pragma: no cover
    """One STFT column centred at absolute sample ``center``, seeing only samples in [s, e).

    ``frame`` gets zeros outside [s, e) (STFT, RMS), ``zframe`` edge values (ZCR). Writes the
    descriptor row into ``out`` and the mel dB column into ``out_db``.
    """
    n_fft = frame.shape[0]
    start = center - half
    for i in range(n_fft):
        t = start + i
        if t < s or t >= e:
            frame[i] = 0.0
            tz = s if t < s else e - 1
            zframe[i] = ring[tz % cap]
        else:
            v = ring[t % cap]
            frame[i] = v
            zframe[i] = v
    # time-domain: rms, zcr (librosa threshold 1e-10, zero counts as positive)
    acc = 0.0
    for i in range(n_fft):
        acc += frame[i] * frame[i]
    out[12] = np.sqrt(acc / n_fft)
    cnt = 0
    prev = zframe[0]
    prev_neg = prev < 0.0 and abs(prev) > 1e-10
    for i in range(1, n_fft):
        v = zframe[i]
        neg = v < 0.0 and abs(v) > 1e-10
        if neg != prev_neg:
            cnt += 1
        prev_neg = neg
    out[16] = cnt / n_fft
    # spectrum
    for i in range(n_fft):
        work_in = frame[i] * window[i]
        frame[i] = work_in
    _rfft(frame, bitrev, tw, post, work, spec)
    nb = spec.shape[0]
    smag = 0.0
    for k in range(nb):
        re = spec[k].real
        im = spec[k].imag
        p = re * re + im * im
        pw[k] = p
        mag[k] = np.sqrt(p)
        smag += mag[k]
    # centroid, bandwidth, rolloff on magnitude (librosa normalises by the L1 norm)
    d = smag if smag >= _TINY_C else 1.0
    c = 0.0
    for k in range(nb):
        c += freqs[k] * (mag[k] / d)
    out[13] = c
    b = 0.0
    for k in range(nb):
        dev = abs(freqs[k] - c)
        b += (mag[k] / d) * dev * dev
    out[14] = np.sqrt(b)
    thr = 0.85 * _cumsum_last(mag)
    cs = 0.0
    roll = freqs[nb - 1]
    for k in range(nb):
        cs += mag[k]
        if cs >= thr:
            roll = freqs[k]
            break
    out[15] = roll
    # flatness on power with amin 1e-10
    lg = 0.0
    am = 0.0
    for k in range(nb):
        p = pw[k] if pw[k] > 1e-10 else 1e-10
        lg += np.log(p)
        am += p
    out[17] = np.exp(lg / nb) / (am / nb)
    # chroma (power), max-normalised
    nc = chroma_fb.shape[0]
    mx = 0.0
    for ci in range(nc):
        a = 0.0
        for k in range(nb):
            a += chroma_fb[ci, k] * pw[k]
        out[ci] = a
        if abs(a) > mx:
            mx = abs(a)
    if mx < _TINY_C:
        mx = 1.0
    for ci in range(nc):
        out[ci] = out[ci] / mx
    # mel dB (power_to_db, ref 1, amin 1e-10, no top_db) and MFCC (DCT-II ortho)
    nm = mel_fb.shape[0]
    for j in range(nm):
        a = 0.0
        for k in range(mel_lo[j], mel_hi[j]):
            a += mel_fb[j, k] * pw[k]
        out_db[j] = 10.0 * np.log10(a if a > 1e-10 else 1e-10)
    for q in range(dct.shape[0]):
        a = 0.0
        for j in range(nm):
            a += dct[q, j] * out_db[j]
        out[18 + q] = a
    # spectral contrast (librosa's octave bands and 2 % quantile, on magnitude)
    for bi in range(con_start.shape[0]):
        m = con_stop[bi] - con_start[bi]
        for k in range(m):
            scratch[k] = mag[con_start[bi] + k]
        sub = scratch[:m]
        sub.sort()
        qn = con_q[bi]
        lo = 0.0
        hi = 0.0
        for k in range(qn):
            lo += sub[k]
            hi += sub[m - qn + k]
        lo /= qn
        hi /= qn
        out[38 + bi] = 10.0 * np.log10(hi if hi > 1e-10 else 1e-10) - 10.0 * np.log10(lo if lo > 1e-10 else 1e-10)
    # band powers (normalised so a full-scale sine in one band ~ 1)
    tot = 0.0
    for k in range(nb):
        tot += pw[k]
    out[54] = tot / norm
    for bi in range(band_lo.shape[0]):
        a = 0.0
        for k in range(band_lo[bi], band_hi[bi]):
            a += pw[k]
        out[45 + bi] = a / norm


_TINY_C = _TINY


@numba.njit(cache=True, nogil=True)
def _cumsum_last(x):  # pragma: no cover
    """Sequential sum (the last element of np.cumsum, same rounding order)."""
    a = 0.0
    for k in range(x.shape[0]):
        a += x[k]
    return a


@numba.njit(cache=True, nogil=True)
def _flux(db_now, db_prev):  # pragma: no cover
    """librosa onset strength of one column: mean over bands of max(0, now - prev)."""
    a = 0.0
    for j in range(db_now.shape[0]):
        d = db_now[j] - db_prev[j]
        if d > 0.0:
            a += d
    return a / db_now.shape[0]


@numba.njit(cache=True, nogil=True)
def _push(x, ring, cap, n, next_col, hop, half, feats, dbs, ccap, window, bitrev, tw, post, work,
          spec, frame, zframe, pw, mag, freqs, chroma_fb, mel_fb, mel_lo, mel_hi, dct, con_start,
          con_stop, con_q, band_lo, band_hi, norm, scratch):  # pragma: no cover
    """Append x to the ring and compute every column whose samples are complete.

    Returns (new n, new next_col). Non-finite samples are stored as 0.
    """
    m = x.shape[0]
    for i in range(m):
        v = x[i]
        ring[(n + i) % cap] = v if np.isfinite(v) else 0.0
    n += m
    while next_col * hop + half <= n:
        r = next_col % ccap
        _column(ring, cap, next_col * hop, 0, n, half, window, bitrev, tw, post, work, spec, frame,
                zframe, pw, mag, freqs, chroma_fb, mel_fb, mel_lo, mel_hi, dct, con_start, con_stop,
                con_q, band_lo, band_hi, norm, scratch, feats[r], dbs[r])
        if next_col > 0:
            feats[r, 53] = _flux(dbs[r], dbs[(next_col - 1) % ccap])
        else:
            feats[r, 53] = 0.0
        next_col += 1
    return n, next_col


def _contrast_bands(freqs: np.ndarray, *, fmin: float = 200.0, n_bands: int = 6, quantile: float = 0.02):
    """librosa.feature.spectral_contrast's band index ranges and quantile counts."""
    octa = np.zeros(n_bands + 2)
    octa[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
    starts, stops, qs = [], [], []
    for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:])):
        current = np.logical_and(freqs >= f_low, freqs <= f_high)
        idx = np.flatnonzero(current)
        if k > 0:
            current[idx[0] - 1] = True
        if k == n_bands:
            current[idx[-1] + 1 :] = True
        sel = np.flatnonzero(current)
        lo, hi = int(sel[0]), int(sel[-1]) + 1
        q = max(int(np.rint(quantile * np.sum(current))), 1)
        if k < n_bands:
            hi -= 1
        starts.append(lo)
        stops.append(hi)
        qs.append(q)
    return np.array(starts, np.int64), np.array(stops, np.int64), np.array(qs, np.int64)


class SpectralStream:
    """The shared streaming STFT core (see module docstring).

    Parameters
    ----------
    sr : int
        Sample rate (Hz), 22050 for the recipe.
    n_fft, hop_length : int
        STFT size (power of two) and hop in samples.
    history : float
        Seconds of signal and of column rows kept (>= the longest rolling window + 1 s).
    """

    def __init__(self, *, sr: int = 22050, n_fft: int = 2048, hop_length: int = 512,
                 history: float = 32.0, n_mels: int = 128) -> None:
        import librosa  # filter constructors only, once

        if not isinstance(hop_length, (int, np.integer)) or not 1 <= hop_length <= n_fft:
            raise ValueError(f"hop_length={hop_length!r} must be an int in 1..n_fft={n_fft}")
        if not (isinstance(history, (int, float)) and history > 0):
            raise ValueError(f"history={history!r} must be a positive number of seconds")
        self.sr, self.n_fft, self.hop_length = int(sr), int(n_fft), int(hop_length)
        self.half = self.n_fft // 2
        self.plan = RFFTPlan(self.n_fft)
        nb = self.n_fft // 2 + 1
        self.window = librosa.filters.get_window("hann", self.n_fft, fftbins=True).astype(np.float64)
        self.freqs = np.linspace(0.0, self.sr / 2.0, nb)
        self.chroma_fb = np.ascontiguousarray(librosa.filters.chroma(sr=self.sr, n_fft=self.n_fft, tuning=0.0), dtype=np.float64)
        self.mel_fb = np.ascontiguousarray(librosa.filters.mel(sr=self.sr, n_fft=self.n_fft, n_mels=n_mels), dtype=np.float64)
        nz = self.mel_fb != 0
        self.mel_lo = np.array([np.argmax(r) if r.any() else 0 for r in nz], np.int64)
        self.mel_hi = np.array([nb - np.argmax(r[::-1]) if r.any() else 0 for r in nz], np.int64)
        import scipy.fft

        self.dct = np.ascontiguousarray(scipy.fft.dct(np.eye(n_mels), axis=0, type=2, norm="ortho")[:N_MFCC])
        self.con_start, self.con_stop, self.con_q = _contrast_bands(self.freqs)
        self.band_lo = np.array([np.searchsorted(self.freqs, lo) for _, lo, _ in INSTRUMENT_BANDS], np.int64)
        self.band_hi = np.array([np.searchsorted(self.freqs, hi, side="right") for _, _, hi in INSTRUMENT_BANDS], np.int64)
        self.norm = float(np.sum(self.window) ** 2 / 4.0)  # full-scale sine (amp 1) -> ~1 in its bins
        self.cap = int(np.ceil(history * self.sr)) + 2 * self.n_fft
        self.ccap = self.cap // self.hop_length + 4
        self.ring = np.zeros(self.cap, np.float64)
        self.feats = np.zeros((self.ccap, N_COL), np.float64)
        self.dbs = np.zeros((self.ccap, n_mels), np.float64)
        self.spec = np.zeros(nb, np.complex128)
        self.frame = np.zeros(self.n_fft, np.float64)
        self.zframe = np.zeros(self.n_fft, np.float64)
        self.pw = np.zeros(nb, np.float64)
        self.mag = np.zeros(nb, np.float64)
        self.scratch = np.zeros(nb, np.float64)
        self.edge_feat = np.zeros(N_COL, np.float64)
        self.edge_db = np.zeros(n_mels, np.float64)
        self.last_index = None  # frame index of the last update (processors share one core)
        self.reset()

    def reset(self) -> None:
        self.ring[:] = 0.0
        self.feats[:] = 0.0
        self.dbs[:] = 0.0
        self.n = 0  # samples written
        self.next_col = 0  # next stream column to compute
        self.last_index = None
        self.last_time = None
        self.new_cols = 0  # columns computed by the last push (frame users: since the last frame)
        self.abs_end = 0  # absolute 22050-Hz index after the last pushed sample (frame users' bookkeeping)
        self.frame_col = 0  # next_col at the last frame

    def _tables(self):
        p = self.plan
        return (self.window, p.bitrev, p.tw, p.post, p.work, self.spec, self.frame, self.zframe,
                self.pw, self.mag, self.freqs, self.chroma_fb, self.mel_fb, self.mel_lo, self.mel_hi,
                self.dct, self.con_start, self.con_stop, self.con_q, self.band_lo, self.band_hi,
                self.norm, self.scratch)

    def push(self, x: np.ndarray) -> int:
        """Append samples (1-D float32, contiguous) and compute the new columns; returns how many."""
        if not isinstance(x, np.ndarray) or x.ndim != 1 or x.dtype != np.float32:
            raise TypeError(f"x must be a 1-D float32 array, got {getattr(x, 'dtype', type(x).__name__)} "
                            f"{getattr(x, 'shape', '')}")
        if x.shape[0] > self.cap - 2 * self.n_fft:
            raise ValueError(f"x has {x.shape[0]} samples, more than the history ({self.cap - 2 * self.n_fft})")
        x = np.ascontiguousarray(x)
        before = self.next_col
        self.n, self.next_col = _push(x, self.ring, self.cap, self.n, self.next_col, self.hop_length,
                                      self.half, self.feats, self.dbs, self.ccap, *self._tables())
        self.new_cols = self.next_col - before
        return self.new_cols

    def row(self, m: int) -> np.ndarray:
        """Descriptor row of stream column m (a view; valid while m is within the history)."""
        return self.feats[m % self.ccap]

    def edge_column(self, center: int, s: int, e: int) -> tuple[np.ndarray, np.ndarray]:
        """Column centred at absolute sample ``center`` of the clip [s, e) (librosa padding).

        Returns views of internal buffers (descriptor row, mel dB), overwritten by the next call.
        """
        _column(self.ring, self.cap, int(center), int(s), int(e), self.half, *self._tables(),
                self.edge_feat, self.edge_db)
        return self.edge_feat, self.edge_db

    def warmup(self) -> None:
        """Compile the kernels (cache=True) and leave the state reset."""
        self.push(np.zeros(self.n_fft + self.hop_length, np.float32))
        self.edge_column(self.hop_length, 0, self.n_fft)
        self.reset()
