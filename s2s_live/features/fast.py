"""The fast stream: level, three band energies, onset strength, live tempo and predicted beats.

:class:`FastStream` runs on every block of 256 samples at 22050 Hz (86.1 blocks/s) and sends
``level`` (0..1), ``bands`` (low/mid/high, 0..1), ``onset`` (0..1), ``bpm`` (0, or 60..200) and the
``beat`` event (a counter, sent in the block where the next predicted beat falls). The numba
kernels are its block step (:func:`_fast_block`), the beat period (:func:`_beat_period`) and the
beat phase (:func:`_beat_phase`).
"""

from __future__ import annotations

import numba
import numpy as np

from ..dsp.fft import RFFTPlan, _rfft
from ..frames import FAST_BLOCK, SR_RECIPE
from ..processor import Output, Processor
from .level import _EPS, db_to_unit


@numba.njit(cache=True, nogil=True)
def _fast_block(block, hist, window, bitrev, tw, post, work, spec, frame, band_lo, band_hi, norm,
                prev_logmag, bands_db):  # pragma: no cover
    """Shift the block into hist, return (rms, flux); band dB into bands_db."""
    m = block.shape[0]
    nh = hist.shape[0]
    for i in range(nh - m):
        hist[i] = hist[i + m]
    acc = 0.0
    for i in range(m):
        v = block[i]
        if not np.isfinite(v):
            v = 0.0
        hist[nh - m + i] = v
        acc += v * v
    rms = np.sqrt(acc / m)
    for i in range(nh):
        frame[i] = hist[i] * window[i]
    _rfft(frame, bitrev, tw, post, work, spec)
    nb = spec.shape[0]
    for b in range(band_lo.shape[0]):
        e = 0.0
        for k in range(band_lo[b], band_hi[b]):
            e += spec[k].real ** 2 + spec[k].imag ** 2
        bands_db[b] = 10.0 * np.log10(e / norm + 1e-10)
    flux = 0.0
    for k in range(nb):
        lm = np.log1p(100.0 * np.sqrt(spec[k].real ** 2 + spec[k].imag ** 2))
        d = lm - prev_logmag[k]
        if d > 0.0:
            flux += d
        prev_logmag[k] = lm
    return rms, flux / nb


#: live tempo range (BPM): every nonzero ``bpm`` lies in it, the interpolated period is clamped
BPM_MIN, BPM_MAX = 60.0, 200.0
#: tempo prior: log-normal in BPM around TEMPO_PRIOR_BPM, TEMPO_PRIOR_OCTAVES wide (1 sigma)
TEMPO_PRIOR_BPM, TEMPO_PRIOR_OCTAVES = 110.0, 0.7
#: weights of the autocorrelation at 1, 2 and 3 periods in a candidate's score: a period whose
#: multiples also repeat (the beat under its bar) beats a tatum that repeats alone
TEMPO_COMB = (1.0, 0.5, 0.33)
#: continuity: a candidate within ~5 % of the current period scores up to this factor higher,
#: so the clip's tempo does not flip between 3:2 / 4:3 related candidates every update
TEMPO_BOOST = 1.3


@numba.njit(cache=True, nogil=True)
def _beat_period(env, pos, p_min, p_max, rate, prev, boost, acf):  # pragma: no cover
    """Beat period (blocks, fractional, in [p_min, p_max]) of the onset ring env (newest at
    pos-1), or 0 when the envelope is flat or has no clear periodicity.

    A candidate integer lag L scores max(0, Σ_k c_k·r(k·L)) (r the normalised autocorrelation,
    c = TEMPO_COMB) times the log-normal tempo prior, times ``boost`` near the previous period
    ``prev`` (5 % wide, 1 = no continuity preference); the winner is refined by a parabola
    through r and clamped to [p_min, p_max]. acf needs 3 * floor(p_max) + 2 entries."""
    n = env.shape[0]
    mean = 0.0
    for i in range(n):
        mean += env[i]
    mean /= n
    e0 = 0.0
    for i in range(n):
        d = env[i] - mean
        e0 += d * d
    if e0 <= 1e-12:
        return 0.0
    l_lo = int(np.ceil(p_min))
    l_hi = int(np.floor(p_max))
    top = min(3 * l_hi + 1, n - 1)
    for lag in range(l_lo - 1, top + 1):
        a = 0.0
        for i in range(lag, n):
            a += (env[(pos + i) % n] - mean) * (env[(pos + i - lag) % n] - mean)
        acf[lag] = a / e0
    best = -1e300
    bi = -1
    for lag in range(l_lo, l_hi + 1):
        sc = 0.0
        for k in range(3):
            if (k + 1) * lag <= top:
                sc += TEMPO_COMB[k] * acf[(k + 1) * lag]
        if sc < 0.0:
            sc = 0.0
        bpm = 60.0 * rate / lag
        w = np.exp(-0.5 * (np.log2(bpm / TEMPO_PRIOR_BPM) / TEMPO_PRIOR_OCTAVES) ** 2)
        if prev > 0.0:
            w *= 1.0 + (boost - 1.0) * np.exp(-0.5 * (np.log(lag / prev) / 0.05) ** 2)
        v = sc * w
        if v > best:
            best = v
            bi = lag
    if bi < 0 or acf[bi] <= 0.05:
        return 0.0
    y0, y1, y2 = acf[bi - 1], acf[bi], acf[bi + 1]
    den = y0 - 2.0 * y1 + y2
    off = 0.5 * (y0 - y2) / den if den < 0.0 else 0.0
    per = bi + min(0.5, max(-0.5, off))
    return min(p_max, max(p_min, per))


@numba.njit(cache=True, nogil=True)
def _beat_phase(env, pos, period, n_beats):  # pragma: no cover
    """Offset (blocks before the newest block, 0..period) whose comb of n_beats teeth spaced
    ``period`` back in time collects the most onset energy."""
    n = env.shape[0]
    best = -1.0
    bo = 0
    for off in range(int(period) + 1):
        a = 0.0
        for k in range(n_beats):
            t = off + k * period
            i0 = int(t)
            fr = t - i0
            if i0 + 1 >= n:
                break
            v0 = env[(pos - 1 - i0) % n]
            v1 = env[(pos - 2 - i0) % n]
            a += (1.0 - fr) * v0 + fr * v1
        if a > best:
            best = a
            bo = off
    return bo


class FastStream(Processor):
    """Level, three band energies, onset strength, tempo and beat events for every fast block.

    Bands: low 20–250 Hz, mid 250–4000 Hz, high 4–11 kHz, from a 1024-sample Hann window ending
    at the block. Onset strength is the half-wave rectified log-spectral flux, normalised by a
    slowly decaying running maximum to 0..1. The beat tracker autocorrelates the last 6 s of
    onset strength every 0.5 s and picks the beat period by :func:`_beat_period` (the
    autocorrelation at 1, 2 and 3 periods, a log-normal prior around 110 BPM, a preference for
    the current period); the period is clamped to BPM_MIN..BPM_MAX, so a nonzero ``bpm`` is
    always within 60..200. It locks the phase with a 4-beat comb and emits ``beat`` (a counter)
    in the block where the next predicted beat falls, so beats come on time rather than after
    detection (causal and predictive; no look-ahead).
    """

    name = "fast"
    stream = "fast"
    outputs = (
        Output("level", stream="fast", doc="loudness of the block: dBFS mapped -60..0 to 0..1"),
        Output("bands", shape=3, stream="fast", labels=("low", "mid", "high"),
               doc="band energies (dBFS mapped to 0..1): 20-250 Hz, 250-4000 Hz, 4-11 kHz"),
        Output("onset", stream="fast", doc="onset strength (spectral flux, adaptive 0..1)"),
        Output("bpm", stream="fast", range=(0.0, 200.0), unit="BPM",
               doc="live tempo estimate (0 until a pulse is found), 60..200"),
        Output("beat", type="i", stream="event", range=(0.0, 2.0**31 - 1),
               doc="beat counter, sent in the fast block where a beat falls"),
    )

    def __init__(self, n_fft: int = 1024, block: int = FAST_BLOCK, sr: int = SR_RECIPE) -> None:
        self.n_fft, self.block, self.sr = n_fft, block, sr
        self.plan = RFFTPlan(n_fft)
        self.window = np.hanning(n_fft + 1)[:-1].astype(np.float64)
        f = np.fft.rfftfreq(n_fft, 1.0 / sr)
        edges = ((20, 250), (250, 4000), (4000, sr / 2 + 1))
        self.band_lo = np.array([np.searchsorted(f, lo) for lo, _ in edges], np.int64)
        self.band_hi = np.array([np.searchsorted(f, hi) for _, hi in edges], np.int64)
        self.norm = float(np.sum(self.window) ** 2 / 2.0)  # a full-scale sine in one bin -> 0 dB
        self.hist = np.zeros(n_fft, np.float64)
        self.frame = np.zeros(n_fft, np.float64)
        self.spec = np.zeros(n_fft // 2 + 1, np.complex128)
        self.prev_logmag = np.zeros(n_fft // 2 + 1, np.float64)
        self.bands_db = np.zeros(3, np.float64)
        self.bands = np.zeros(3, np.float32)
        self.rate = sr / block  # blocks per second
        self.env = np.zeros(int(6.0 * self.rate), np.float64)  # 6 s of onset strength
        # beat periods in blocks for BPM_MAX..BPM_MIN (25.8..86.1 at 86.1 blocks/s)
        self.p_min = 60.0 * self.rate / BPM_MAX
        self.p_max = 60.0 * self.rate / BPM_MIN
        self.acf = np.zeros(3 * int(np.floor(self.p_max)) + 2, np.float64)
        self.reset()

    def reset(self) -> None:
        self.hist[:] = 0.0
        self.prev_logmag[:] = 0.0
        self.env[:] = 0.0
        self.flux_max = 1e-3
        self.count = 0  # blocks seen
        self.period = 0.0  # blocks per beat (0 = unknown)
        self.next_beat = -1.0  # block index (fractional) of the next predicted beat
        self.beats = 0

    def warmup(self) -> None:
        self.process(np.zeros(self.block, np.float32))
        _beat_period(self.env, 0, self.p_min, self.p_max, self.rate, 0.0, TEMPO_BOOST, self.acf)
        _beat_phase(self.env, 0, 43.0, 4)
        self.reset()

    def process(self, block):
        if block.dtype != np.float32 or not block.flags.c_contiguous:
            block = np.ascontiguousarray(block, dtype=np.float32)
        p = self.plan
        rms, flux = _fast_block(block, self.hist, self.window, p.bitrev, p.tw, p.post, p.work, self.spec,
                                self.frame, self.band_lo, self.band_hi, self.norm, self.prev_logmag,
                                self.bands_db)
        for i in range(3):
            self.bands[i] = db_to_unit(self.bands_db[i])
        self.flux_max = max(flux, self.flux_max * 0.999)  # ~3 s half-life at 86 blocks/s
        n = self.env.shape[0]
        self.env[self.count % n] = flux
        self.count += 1
        out = {
            "level": db_to_unit(20.0 * np.log10(rms + _EPS)),
            "bands": self.bands,
            "onset": min(1.0, flux / self.flux_max),
        }
        self._track(out)
        return out

    def _track(self, out: dict) -> None:
        n = self.env.shape[0]
        c = self.count  # blocks seen; the newest block has index c - 1
        if c >= int(2.0 * self.rate) and c % int(0.5 * self.rate) == 0:
            per = _beat_period(self.env, c % n, self.p_min, self.p_max, self.rate, self.period, TEMPO_BOOST,
                               self.acf)
            if per > 0.0:
                n_beats = int(min(c, n) / per) - 1
                off = _beat_phase(self.env, c % n, per, max(1, min(4, n_beats)))
                last = (c - 1) - off
                nb = last + per
                while nb < c - 0.5:
                    nb += per
                if self.period <= 0.0 or self.next_beat < 0.0:
                    self.next_beat = nb
                else:  # pull the running phase halfway to the new estimate (smooth, no jumps)
                    d = ((nb - self.next_beat + per / 2.0) % per) - per / 2.0
                    self.next_beat += d if abs(d) > per / 4.0 else 0.5 * d
                self.period = per
            else:
                self.period = 0.0
        if self.period > 0.0:
            out["bpm"] = 60.0 * self.rate / self.period
            if c - 1 <= self.next_beat < c:  # beat falls in the newest block
                self.beats += 1
                out["beat"] = self.beats
                self.next_beat += self.period
            elif self.next_beat < c - 1:
                while self.next_beat < c - 1:
                    self.next_beat += self.period
        else:
            out["bpm"] = 0.0


