"""The rolling GTZAN recipe: the recipe's 53 values over the last ``window`` seconds, every hop.

:class:`RecipeStats` sends ``recipe/gtzan`` (internal, :data:`~s2s_live.features.recipe.GTZAN_FEATURES`
order) and ``features/tempo`` (BPM, 0..320). It equals
:func:`~s2s_live.features.recipe.recipe_librosa` on the window's clip: running sums of the
interior STFT columns (kernels :func:`_recipe_row`, :func:`_accumulate`) and an incremental
tempogram (kernel :func:`_acf_direct`), with the zero-padded columns at both ends recomputed.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.fft

from ..dsp.spectral import (COL_BANDWIDTH, COL_CENTROID, COL_FLUX, COL_MFCC, COL_RMS, COL_ROLLOFF, COL_ZCR, N_MFCC,
                           SpectralStream)
from ..frames import SR_RECIPE
from ..processor import Output
from .recipe import GTZAN_FEATURES, HOP_LENGTH, N_FFT
from .spectral import _CoreUser

_RECIPE_COLS = np.array([COL_RMS, COL_CENTROID, COL_BANDWIDTH, COL_ROLLOFF, COL_ZCR]
                        + list(range(COL_MFCC, COL_MFCC + N_MFCC)), np.int64)
_NV = 2 + len(_RECIPE_COLS)  # chroma sum, chroma sum of squares, then the 25 columns


@numba.njit(cache=True, nogil=True)
def _recipe_row(row, cols, v):  # pragma: no cover
    """Per-frame recipe values of one descriptor row into v (len _NV)."""
    a = 0.0
    b = 0.0
    for i in range(12):
        a += row[i]
        b += row[i] * row[i]
    v[0] = a
    v[1] = b
    for j in range(cols.shape[0]):
        v[2 + j] = row[cols[j]]


@numba.njit(cache=True, nogil=True)
def _accumulate(feats, ccap, cols, m_from, m_to, sign, shift, s1, s2, v):  # pragma: no cover
    """Add (sign=1) or remove (sign=-1) rows m_from..m_to-1 to shifted running sums."""
    for m in range(m_from, m_to):
        _recipe_row(feats[m % ccap], cols, v)
        for j in range(v.shape[0]):
            d = v[j] - shift[j]
            s1[j] += sign * d
            s2[j] += sign * d * d


@numba.njit(cache=True, nogil=True)
def _acf_direct(seg, out):  # pragma: no cover
    """Autocorrelation of seg for lags 0..len(out)-1 (direct sum), normalised by its max."""
    n = seg.shape[0]
    for lag in range(out.shape[0]):
        a = 0.0
        for i in range(lag, n):
            a += seg[i] * seg[i - lag]
        out[lag] = a
    mx = 0.0
    for lag in range(out.shape[0]):
        if abs(out[lag]) > mx:
            mx = abs(out[lag])
    if mx >= 2.2250738585072014e-308:
        for lag in range(out.shape[0]):
            out[lag] /= mx


class RecipeStats(_CoreUser):
    """The GTZAN recipe (:data:`~s2s_live.features.recipe.GTZAN_FEATURES`) over a rolling window.

    The window is the clip ``[s, e)`` of the stream with ``e`` the newest multiple of 512
    samples and ``s = max(0, e - W)``, ``W`` = ``window`` seconds rounded to 512 samples; the
    output equals :func:`~s2s_live.features.recipe.recipe_librosa` on that clip. Interior STFT columns
    are kept in shifted running sums (O(hop) per hop; the sums are rebuilt exactly once per
    window length, which bounds rounding drift); the 2 columns at each end, which librosa
    zero-pads, are recomputed each hop. The tempo's tempogram is handled the same way: interior
    autocorrelation columns are summed incrementally, the ~350 columns touching the ends (which
    librosa pads) are recomputed every ``tempo_interval`` seconds: in :meth:`after_frame`, after
    the frame's values are out, so the update never delays a frame and shows from the next hop
    (``tempo_interval=0``: every hop, inline, equal to librosa at every hop).

    Until the window holds ``n_fft`` samples the vector is all zeros.
    """

    name = "recipe"

    def __init__(self, core: SpectralStream, *, window: float = 30.0, tempo_interval: float = 1.0) -> None:
        super().__init__(core)
        if not isinstance(window, (int, float)) or not 1.0 <= window <= 120.0:
            raise ValueError(f"window={window!r} must be seconds in 1..120")
        if core.hop_length != HOP_LENGTH or core.n_fft != N_FFT or core.sr != SR_RECIPE:
            raise ValueError("RecipeStats needs a SpectralStream with the recipe's sr/n_fft/hop_length")
        if window + 2.0 > core.cap / core.sr:
            raise ValueError(f"window={window!r} s exceeds the core's history ({core.cap / core.sr:.1f} s)")
        self.window = float(window)
        self.tempo_interval = float(tempo_interval)
        self.W = int(round(window * core.sr / HOP_LENGTH)) * HOP_LENGTH
        self.outputs = (
            Output("recipe/gtzan", shape=len(GTZAN_FEATURES), range=None, internal=True, labels=tuple(GTZAN_FEATURES),
                   doc=f"GTZAN recipe over the last {self.window:g} s (recipe gtzan-stats v1)"),
            Output("features/tempo", range=(0.0, 320.0), unit="BPM", doc="librosa tempo of the rolling window"),
        )
        # tempogram (librosa.feature.tempo defaults)
        self.win_length = int(np.floor(8.0 * core.sr / HOP_LENGTH))  # time_to_frames(8 s) = 344
        self.hw = self.win_length // 2
        import librosa

        self.tg_window = librosa.filters.get_window("hann", self.win_length, fftbins=True)
        self.n_pad = scipy.fft.next_fast_len(2 * self.win_length - 1, real=True)
        lags = np.arange(self.win_length, dtype=np.float64)
        with np.errstate(divide="ignore"):
            bpms = 60.0 * core.sr / (HOP_LENGTH * lags)
        bpms[0] = np.inf
        self.bpms = bpms
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = -0.5 * ((np.log2(bpms) - np.log2(120.0)) / 1.0) ** 2
        lp[: int(np.argmax(bpms < 320.0))] = -np.inf
        self.logprior = lp
        nwin = self.W // HOP_LENGTH + 1
        self.tcap = core.ccap
        self.tg = np.zeros((self.tcap, self.win_length), np.float64)
        self.o = np.zeros(nwin + 8, np.float64)
        self.seg = np.zeros(self.win_length, np.float64)
        self.vec = np.zeros(len(GTZAN_FEATURES), np.float64)
        self.s1 = np.zeros(_NV)
        self.s2 = np.zeros(_NV)
        self.shift = np.zeros(_NV)
        self.e1 = np.zeros(_NV)
        self.e2 = np.zeros(_NV)
        self.v = np.zeros(_NV)
        self.tg_sum = np.zeros(self.win_length)
        self.edge_db = np.zeros((3, core.dbs.shape[1]))
        self._reset_state()

    def _reset_state(self) -> None:
        self.lo = self.hi = 0  # stream columns in the running sums: [lo, hi)
        self.anchor = 0
        self.s1[:] = self.s2[:] = self.shift[:] = 0.0
        self.tlo = self.thi = 0  # tempogram stream columns in tg_sum: [tlo, thi)
        self.tg_sum[:] = 0.0
        self.tempo = 0.0
        self.t_last_tempo = -np.inf
        self._tempo_due: tuple[int, int, int, int] | None = None
        self.vec[:] = 0.0

    def reset(self) -> None:
        super().reset()
        self._reset_state()

    def warmup(self) -> None:
        super().warmup()
        c = self.core
        _recipe_row(c.feats[0], _RECIPE_COLS, self.v)
        _accumulate(c.feats, c.ccap, _RECIPE_COLS, 0, 1, 1.0, self.shift, self.s1, self.s2, self.v)
        _acf_direct(self.seg, self.tg[0])
        self._reset_state()

    # -- running sums of interior columns ---------------------------------------------------
    def _move(self, lo: int, hi: int) -> None:
        c = self.core
        if hi <= lo:
            lo = hi = max(lo, hi)
        if lo >= self.hi or hi <= self.lo or lo - self.anchor >= self.W // HOP_LENGTH:
            # disjoint or a window length since the last rebuild: rebuild exactly, re-shifted
            self.s1[:] = self.s2[:] = 0.0
            if hi > lo:
                _recipe_row(c.feats[((lo + hi) // 2) % c.ccap], _RECIPE_COLS, self.shift)
            _accumulate(c.feats, c.ccap, _RECIPE_COLS, lo, hi, 1.0, self.shift, self.s1, self.s2, self.v)
            self.anchor = lo
        else:
            if hi > self.hi:
                _accumulate(c.feats, c.ccap, _RECIPE_COLS, self.hi, hi, 1.0, self.shift, self.s1, self.s2, self.v)
            if lo > self.lo:
                _accumulate(c.feats, c.ccap, _RECIPE_COLS, self.lo, lo, -1.0, self.shift, self.s1, self.s2, self.v)
        self.lo, self.hi = lo, hi

    def process(self, frame):
        self._update(frame)
        c = self.core
        e = (c.n // HOP_LENGTH) * HOP_LENGTH
        s = max(0, e - self.W)
        if e - s < N_FFT:
            return {"recipe/gtzan": self.vec, "features/tempo": 0.0}
        K = (e - s) // HOP_LENGTH
        m0 = s // HOP_LENGTH
        self._move(m0 + 2, m0 + K - 1)  # interior: librosa columns j in [2, K-2]
        self.e1[:] = 0.0
        self.e2[:] = 0.0
        for j in sorted({0, 1, K - 1, K}):
            if j < 0 or 2 <= j <= K - 2:
                continue
            row, db = c.edge_column(s + j * HOP_LENGTH, s, e)
            if j <= 2:
                self.edge_db[j] = db
            _recipe_row(row, _RECIPE_COLS, self.v)
            d = self.v - self.shift
            self.e1 += d
            self.e2 += d * d
        N = K + 1
        t1 = (self.s1 + self.e1) / N
        t2 = (self.s2 + self.e2) / N
        mean = self.shift + t1
        var = np.maximum(t2 - t1 * t1, 0.0)
        vec = self.vec
        # chroma: over 12 bins and all frames (sums are unshifted when shift is 0 ... use exact form)
        cm = mean[0] / 12.0
        vec[0] = cm
        vec[1] = max(mean[1] / 12.0 - cm * cm, 0.0)
        for i in range(5):
            vec[2 + 2 * i] = mean[2 + i]
            vec[3 + 2 * i] = var[2 + i]
        for q in range(N_MFCC):
            vec[13 + 2 * q] = mean[7 + q]
            vec[14 + 2 * q] = var[7 + q]
        if frame.time - self.t_last_tempo >= self.tempo_interval - 1e-9:
            self.t_last_tempo = frame.time
            if self.tempo_interval > 0.0:
                self._tempo_due = (m0, K, s, e)  # computed in after_frame, shown from the next hop
            else:
                self.tempo = self._tempo(m0, K, s, e)
        vec[12] = self.tempo
        return {"recipe/gtzan": vec, "features/tempo": float(self.tempo)}

    def after_frame(self, frame) -> None:
        """The due tempo update (~5-15 ms: the tempogram's edge columns), after the frame is out.

        It reads only this frame's window, which the core keeps until the next hop's audio
        arrives, so the value equals the inline computation, one hop later.
        """
        if self._tempo_due is not None:
            due, self._tempo_due = self._tempo_due, None
            self.tempo = self._tempo(*due)

    # -- tempo ------------------------------------------------------------------------------
    def _tempo(self, m0: int, K: int, s: int, e: int) -> float:
        c = self.core
        o = self.o[: K + 1]
        o[:] = 0.0
        # o[k] = flux(col k-2 vs col k-3); stream flux for k >= 5, edge columns below
        db = [None, None, None]
        for j in range(3):
            if j <= K:
                if 2 <= j <= K - 2:
                    db[j] = c.dbs[(m0 + j) % c.ccap]
                elif j < 2:
                    db[j] = self.edge_db[j]
                else:
                    db[j] = c.edge_column(s + j * HOP_LENGTH, s, e)[1].copy()
        if K >= 3:
            o[3] = np.mean(np.maximum(0.0, db[1] - db[0]))
        if K >= 4:
            o[4] = np.mean(np.maximum(0.0, db[2] - db[1]))
        if K >= 5:
            idx = (np.arange(m0 + 3, m0 + K - 1)) % c.ccap
            o[5:] = c.feats[idx, COL_FLUX]
        hw, wl = self.hw, self.win_length
        # interior tempogram columns k in [hw+5, K-hw+1) <-> stream key m0+k
        k_lo, k_hi = hw + 5, K - hw + 1
        if k_hi > k_lo:
            self._tg_move(m0 + k_lo, m0 + k_hi, m0, o)
        else:
            self._tg_move(0, 0, m0, o)
        edges = np.r_[np.arange(0, min(k_lo, K + 1)), np.arange(max(k_lo, k_hi), K + 1)]
        total = self.tg_sum.copy() if k_hi > k_lo else np.zeros(wl)
        if edges.size:
            opad = np.pad(o, hw, mode="linear_ramp", end_values=0)
            segs = np.lib.stride_tricks.sliding_window_view(opad, wl)[edges] * self.tg_window
            ps = np.abs(scipy.fft.rfft(segs, n=self.n_pad, axis=-1)) ** 2
            ac = scipy.fft.irfft(ps, n=self.n_pad, axis=-1)[:, :wl]
            mx = np.max(np.abs(ac), axis=-1, keepdims=True)
            mx[mx < np.finfo(np.float64).tiny] = 1.0
            total += (ac / mx).sum(axis=0)
        tg = total / (K + 1)
        with np.errstate(invalid="ignore"):
            score = np.log1p(1e6 * tg) + self.logprior
        score[~np.isfinite(score)] = -np.inf
        best = int(np.argmax(score))
        return float(self.bpms[best]) if np.isfinite(score[best]) else 0.0

    def _tg_col(self, key: int, m0: int, o: np.ndarray) -> None:
        """Tempogram column of stream key (= m0 + k), from stream onset values only."""
        k = key - m0
        self.seg[:] = o[k - self.hw: k - self.hw + self.win_length] * self.tg_window
        _acf_direct(self.seg, self.tg[key % self.tcap])

    def _tg_move(self, lo: int, hi: int, m0: int, o: np.ndarray) -> None:
        if hi <= lo or lo >= self.thi or hi <= self.tlo:
            self.tg_sum[:] = 0.0
            for key in range(lo, hi):
                self._tg_col(key, m0, o)
                self.tg_sum += self.tg[key % self.tcap]
        else:
            for key in range(self.thi, hi):
                self._tg_col(key, m0, o)
                self.tg_sum += self.tg[key % self.tcap]
            for key in range(self.tlo, lo):
                self.tg_sum -= self.tg[key % self.tcap]
        self.tlo, self.thi = lo, hi
