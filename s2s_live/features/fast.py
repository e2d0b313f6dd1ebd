"""Descriptor processors: the fast stream, live descriptors and the rolling GTZAN recipe.

All frame processors share one :class:`~s2s_live.dsp.spectral.SpectralStream` (the streaming
STFT core): the first of them to see a frame pushes its new samples, every STFT column is
computed once, and each processor reads the rows it needs.

Fast processors (every block of 256 samples at 22050 Hz):

* :class:`FastStream` — ``level``, ``bands`` (low/mid/high), ``onset`` (0..1), ``bpm`` and the
  ``beat`` event (beat counter, sent on each predicted beat).

Frame processors (every hop):

* :class:`LevelProcessor` — ``features/rms``, ``features/peak``, ``features/dbfs`` of the last second.
* :class:`SpectralDescriptors` — centroid, rolloff, bandwidth, zcr, flatness, mfcc (20),
  contrast (7), chroma (12), instrument band energies (8), vocal presence; averaged over the
  STFT columns of the last hop.
* :class:`PitchProcessor` — ``features/f0`` (Hz, YIN) and ``features/voicing`` (0..1).
* :class:`KeyProcessor` — ``key`` ("C major"), ``key/id``, ``key/strength`` (Krumhansl–Schmuckler on
  a tuned spectral-peak chroma, with hysteresis), internal ``key/chroma``.
* :class:`RecipeStats` — ``recipe/gtzan`` (internal): the GTZAN recipe over the rolling window
  with running sums, plus ``features/tempo``.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.fft

from ..dsp.chroma import peak_chroma, peak_tuning, spectral_peaks
from ..dsp.fft import RFFTPlan, _rfft
from ..dsp.spectral import (COL_BANDS, COL_BANDWIDTH, COL_CENTROID, COL_CHROMA, COL_CONTRAST, COL_FLATNESS,
                           COL_FLUX, COL_MFCC, COL_POWER, COL_RMS, COL_ROLLOFF, COL_ZCR, INSTRUMENT_BANDS,
                           N_BANDS, N_COL, N_CONTRAST, N_MFCC, SpectralStream)
from ..frames import FAST_BLOCK, SR_RECIPE
from ..labels import Hysteresis
from ..processor import Output, Processor
from .recipe import GTZAN_FEATURES, HOP_LENGTH, N_FFT, N_MELS

DB_FLOOR = -60.0  #: dBFS mapped to 0 on the 0..1 level scales; 0 dBFS maps to 1
#: Bound of every MFCC: the orthonormal DCT of N_MELS mel bands, each in -100..+100 dB (the 1e-10
#: power floor; the +-32 sample clamp keeps bands far below +100 dB), has a norm of at most
#: 100 * sqrt(N_MELS) = 1131.4; silence reaches it (MFCC 1 = -1131.4). Rounded up.
MFCC_LIMIT = float(np.ceil(100.0 * np.sqrt(N_MELS)))
_EPS = 1e-10
PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
#: Krumhansl–Kessler key profiles (major, minor), tonic first.
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
KEY_NAMES = tuple(f"{p} major" for p in PITCH_NAMES) + tuple(f"{p} minor" for p in PITCH_NAMES)
KEY_TAU = 30.0  #: KeyProcessor's evidence time constant (s)


def _key_profiles() -> np.ndarray:
    """The 24 rotated Krumhansl–Kessler profiles (rows in KEY_NAMES order), zero-mean, unit norm."""
    prof = []
    for base in (KK_MAJOR, KK_MINOR):
        for k in range(12):
            p = np.roll(base, k)
            prof.append((p - p.mean()) / np.linalg.norm(p - p.mean()))
    return np.array(prof)


KEY_PROFILES = _key_profiles()


def key_correlations(chroma: np.ndarray) -> np.ndarray | None:
    """Correlation (-1..1) of a 12-bin chroma (C first) with each of the 24 key profiles, in
    KEY_NAMES order; None for a flat chroma (no pitched evidence)."""
    v = np.asarray(chroma, np.float64) - float(np.mean(chroma))
    nv = float(np.linalg.norm(v))
    return KEY_PROFILES @ (v / nv) if nv >= 1e-12 else None


def db_to_unit(db: float) -> float:
    """Map dBFS (DB_FLOOR..0) to 0..1, clipped."""
    return float(min(1.0, max(0.0, (db - DB_FLOOR) / -DB_FLOOR)))


# =========================================================================================
# fast stream: level, bands, onset, beat tracking
# =========================================================================================
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


# =========================================================================================
# frame processors
# =========================================================================================
class LevelProcessor(Processor):
    """RMS (0..1), peak (0..1) and dBFS (-120..0) of the one-second frame."""

    name = "level"
    outputs = (
        Output("features/rms", range=(0.0, 1.0), doc="RMS of the last second (full scale = 1)"),
        Output("features/peak", range=(0.0, 1.0), doc="absolute peak of the last second"),
        Output("features/dbfs", range=(-120.0, 0.0), unit="dBFS", doc="RMS in dB full scale"),
    )

    def process(self, frame):
        y = frame.y22
        rms = float(np.sqrt(np.dot(y, y) / y.shape[0]))
        peak = float(np.max(np.abs(y)))
        db = min(0.0, max(-120.0, 20.0 * np.log10(rms + _EPS)))
        # input beyond full scale (float files, up to the +-32 clamp) reads as full scale, like peak
        return {"features/rms": min(1.0, rms), "features/peak": min(1.0, peak), "features/dbfs": float(db)}


class _CoreUser(Processor):
    """A frame processor reading the shared :class:`SpectralStream`."""

    def __init__(self, core: SpectralStream) -> None:
        self.core = core

    def _update(self, frame) -> None:
        """Push the frame's new samples once per frame (the first core user does it)."""
        c = self.core
        if c.last_index == frame.index and c.last_time == frame.time:
            return
        c.last_index, c.last_time = frame.index, frame.time
        c.push(frame.new22)

    def reset(self) -> None:
        self.core.reset()

    def warmup(self) -> None:
        self.core.warmup()


@numba.njit(cache=True, nogil=True)
def _mean_rows(feats, ccap, m_from, m_to, out):  # pragma: no cover
    """Mean of descriptor rows m_from..m_to-1 (ring of ccap rows) into out."""
    for j in range(out.shape[0]):
        out[j] = 0.0
    n = m_to - m_from
    if n <= 0:
        return
    for m in range(m_from, m_to):
        r = feats[m % ccap]
        for j in range(out.shape[0]):
            out[j] += r[j]
    for j in range(out.shape[0]):
        out[j] /= n


class SpectralDescriptors(_CoreUser):
    """Spectral descriptors averaged over the STFT columns that completed during the last hop.

    Scalars in Hz for centroid/rolloff/bandwidth (0..11025), zcr and flatness 0..1, 20 MFCCs
    (librosa scale, no 80-dB clamp), 7 spectral-contrast bands in dB (0..80 typical), 12 chroma
    values (0..1, C first), energies in 8 bands named after instruments (dBFS mapped -60..0 to
    0..1) and a voice-band share 0..1 (a descriptor: share of the 300–3400 Hz band, times tonality, times voicing
    from :class:`PitchProcessor` when it runs before this processor — it does by default).
    """

    name = "spectral"
    outputs = (
        Output("features/centroid", range=(0.0, SR_RECIPE / 2), unit="Hz", doc="spectral centroid"),
        Output("features/rolloff", range=(0.0, SR_RECIPE / 2), unit="Hz", doc="85 % spectral rolloff"),
        Output("features/bandwidth", range=(0.0, SR_RECIPE / 2), unit="Hz", doc="spectral bandwidth (p=2)"),
        Output("features/zcr", range=(0.0, 1.0), doc="zero-crossing rate (crossings per sample)"),
        Output("features/flatness", range=(0.0, 1.0), doc="spectral flatness (1 = white noise)"),
        Output("features/envelope", range=(0.0, 1.0), doc="RMS envelope: mean 2048-sample RMS over the hop"),
        Output("features/mfcc", shape=N_MFCC, range=(-MFCC_LIMIT, MFCC_LIMIT), labels=tuple(f"mfcc{i}" for i in range(1, 21)),
               doc="20 MFCCs (librosa: 128 mels, dB without top_db clamp, DCT-II ortho)"),
        Output("features/contrast", shape=N_CONTRAST, range=(0.0, 100.0), unit="dB",
               labels=("0-200", "200-400", "400-800", "800-1600", "1.6k-3.2k", "3.2k-6.4k", "6.4k-11k"),
               doc="spectral contrast per octave band (librosa bands)"),
        Output("features/chroma", shape=12, range=(0.0, 1.0), labels=PITCH_NAMES, doc="chroma (max-normalised)"),
        Output("features/band_energy", shape=N_BANDS, labels=tuple(b[0] for b in INSTRUMENT_BANDS),
               doc="energy in 8 frequency bands named after instruments (dBFS mapped -60..0 to 0..1); "
                   "energies, not detectors: /s2s/instruments says what plays"),
        Output("features/vocal_band", range=(0.0, 1.0),
               doc="voice-band energy share x tonality x voicing 0..1; a descriptor, not a detector: "
                   "/s2s/vocals says whether a voice is heard"),
    )

    def __init__(self, core: SpectralStream) -> None:
        super().__init__(core)
        self.mean = np.zeros(N_COL, np.float64)
        self.mfcc = np.zeros(N_MFCC, np.float32)
        self.contrast = np.zeros(N_CONTRAST, np.float32)
        self.chroma = np.zeros(12, np.float32)
        self.instruments = np.zeros(N_BANDS, np.float32)
        f = core.freqs
        self._voice = (np.searchsorted(f, 300.0), np.searchsorted(f, 3400.0))

    def warmup(self) -> None:
        super().warmup()
        _mean_rows(self.core.feats, self.core.ccap, 0, 1, self.mean)

    def process(self, frame):
        self._update(frame)
        c = self.core
        m_to = c.next_col
        m_from = max(0, m_to - max(1, c.new_cols))
        _mean_rows(c.feats, c.ccap, m_from, m_to, self.mean)
        mu = self.mean
        self.mfcc[:] = mu[COL_MFCC:COL_MFCC + N_MFCC]
        self.contrast[:] = mu[COL_CONTRAST:COL_CONTRAST + N_CONTRAST]
        self.chroma[:] = mu[COL_CHROMA:COL_CHROMA + 12]
        for i in range(N_BANDS):
            self.instruments[i] = db_to_unit(10.0 * np.log10(mu[COL_BANDS + i] + _EPS))
        # vocal: how much of the energy is in the voice band, times tonality and voicing
        tot = mu[COL_POWER]
        voice_band = mu[COL_BANDS + 6] / tot if tot > 1e-8 else 0.0  # brass band = 500-3000 Hz
        tonal = 1.0 - min(1.0, mu[COL_FLATNESS] * 10.0)
        voicing = float(frame.values.get("features/voicing", 1.0))
        loud = 1.0 if mu[COL_RMS] > 1e-3 else 0.0
        vocal = float(min(1.0, max(0.0, voice_band * 1.5)) * tonal * voicing * loud)
        return {
            "features/centroid": float(mu[COL_CENTROID]),
            "features/rolloff": float(mu[COL_ROLLOFF]),
            "features/bandwidth": float(mu[COL_BANDWIDTH]),
            "features/zcr": float(mu[COL_ZCR]),
            "features/flatness": float(mu[COL_FLATNESS]),
            "features/envelope": min(1.0, float(mu[COL_RMS])),
            "features/mfcc": self.mfcc,
            "features/contrast": self.contrast,
            "features/chroma": self.chroma,
            "features/band_energy": self.instruments,
            "features/vocal_band": vocal,
        }


# -- pitch -----------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _yin(x, tau_min, tau_max, threshold, d):  # pragma: no cover
    """YIN on x (len >= W + tau_max, W = len - tau_max): returns (period in samples, aperiodicity).

    period 0 means unvoiced. d is a work buffer of len tau_max + 2.
    """
    w = x.shape[0] - tau_max - 1
    d[0] = 1.0
    run = 0.0
    for tau in range(1, tau_max + 2):
        a = 0.0
        for j in range(w):
            df = x[j] - x[j + tau]
            a += df * df
        run += a
        d[tau] = a * tau / run if run > 0.0 else 1.0
    best = -1
    for tau in range(tau_min, tau_max + 1):
        if d[tau] < threshold:
            while tau + 1 <= tau_max and d[tau + 1] < d[tau]:
                tau += 1
            best = tau
            break
    if best < 0:
        mn = 1e300
        for tau in range(tau_min, tau_max + 1):
            if d[tau] < mn:
                mn = d[tau]
                best = tau
        return 0.0, mn
    y0, y1, y2 = d[best - 1], d[best], d[best + 1]
    den = y0 - 2.0 * y1 + y2
    off = 0.5 * (y0 - y2) / den if den > 0.0 else 0.0
    return best + off, d[best]


class PitchProcessor(Processor):
    """f0 (Hz, 0 when unvoiced) and voicing (0..1, 1 - YIN aperiodicity) of the newest 93 ms.

    YIN (de Cheveigné & Kawahara 2002) on the last ``frame_length`` samples at 22050 Hz,
    threshold 0.1, f0 range ``fmin``..``fmax`` (default 50..1000 Hz), parabolic interpolation.
    """

    name = "pitch"
    outputs = (
        Output("features/f0", range=(0.0, 1000.0), unit="Hz", doc="fundamental frequency, 0 when unvoiced"),
        Output("features/voicing", range=(0.0, 1.0), doc="voicing confidence (1 - YIN aperiodicity)"),
    )

    def __init__(self, *, sr: int = SR_RECIPE, fmin: float = 50.0, fmax: float = 1000.0,
                 frame_length: int = 2048, threshold: float = 0.1) -> None:
        if not 20.0 <= fmin < fmax <= sr / 4:
            raise ValueError(f"fmin={fmin!r}, fmax={fmax!r}: need 20 <= fmin < fmax <= sr/4 = {sr / 4}")
        self.sr = sr
        self.tau_min = int(np.floor(sr / fmax))
        self.tau_max = int(np.ceil(sr / fmin))
        if frame_length <= self.tau_max + 64:
            raise ValueError(f"frame_length={frame_length!r} must exceed sr/fmin + 64 = {self.tau_max + 64}")
        self.frame_length = frame_length
        self.threshold = threshold
        self.x = np.zeros(frame_length, np.float64)
        self.d = np.zeros(self.tau_max + 3, np.float64)

    def warmup(self) -> None:
        _yin(self.x, self.tau_min, self.tau_max, self.threshold, self.d)

    def process(self, frame):
        self.x[:] = frame.y22[-self.frame_length:]
        if float(np.max(np.abs(self.x))) < 1e-4:  # silence: unvoiced, skip the search
            return {"features/f0": 0.0, "features/voicing": 0.0}
        period, ap = _yin(self.x, self.tau_min, self.tau_max, self.threshold, self.d)
        voicing = float(min(1.0, max(0.0, 1.0 - ap)))
        f0 = float(self.sr / period) if period > 0.0 else 0.0
        return {"features/f0": f0, "features/voicing": voicing if f0 > 0.0 else min(voicing, 0.5)}


# -- key ---------------------------------------------------------------------------------------
class KeyProcessor(Processor):
    """Key and mode: Krumhansl–Schmuckler on a tuned spectral-peak chroma, with hysteresis.

    Each hop, the last ``n_fft`` samples (8192 = 0.37 s at 22050 Hz) give up to 60 spectral peaks
    (:mod:`s2s_live.dsp.chroma`). Their deviation from the A440 grid is accumulated with a
    ``tuning_tau``-second time constant into the tuning estimate (``tuning_cents``, -50..50), and
    their chroma, folded after removing that tuning and with harmonics 2..4 put back on their
    fundamental, is accumulated with a ``tau``-second time constant (weighted by the hop's
    length in seconds, so the hop size does not change the evidence). The accumulated chroma is
    correlated with the 24 rotated Krumhansl–Kessler profiles; the stable key
    (:class:`~s2s_live.labels.Hysteresis`) changes only when another key's correlation leads by
    ``margin`` for ``hold`` seconds, except during the first ``warmup_s`` seconds of pitched
    input, when it follows the best profile. ``key/strength`` is the stable key's correlation
    (-1..1). Temperley's (Kostka–Payne) profiles were tried and agreed less with Essentia on
    4q_train (docs/features.md).
    Until any pitched evidence arrives the key is "C major" with strength 0.
    """

    name = "key"
    outputs = (
        Output("key", type="s", range=None, doc='estimated key, e.g. "A minor"'),
        Output("key/id", type="i", range=(0.0, 23.0), labels=KEY_NAMES,
               doc="key index: 0..11 C..B major, 12..23 C..B minor"),
        Output("key/strength", range=(-1.0, 1.0), doc="correlation of the chroma with the stable key's profile"),
        Output("key/chroma", shape=12, range=None, internal=True, labels=PITCH_NAMES,
               doc="this hop's tuned peak chroma times the hop length (s): summed over a file, its key evidence"),
    )

    def __init__(self, *, tau: float = KEY_TAU, tuning_tau: float = 60.0, margin: float = 0.05, hold: float = 2.0,
                 warmup_s: float = 5.0, n_fft: int = 8192, sr: int = SR_RECIPE) -> None:
        for name, v, lo, hi in (("tau", tau, 0.5, 3600.0), ("tuning_tau", tuning_tau, 0.5, 3600.0),
                                ("margin", margin, 0.0, 1.0), ("hold", hold, 0.0, 3600.0)):
            if not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise ValueError(f"{name}={v!r} is invalid; expected {lo:g}..{hi:g}")
        if n_fft not in (2048, 4096, 8192, 16384) or n_fft > sr:
            raise ValueError(f"n_fft={n_fft!r} is invalid; expected 2048, 4096, 8192 or 16384 (<= sr)")
        self.tau, self.tuning_tau, self.n_fft, self.sr = float(tau), float(tuning_tau), n_fft, sr
        self.warmup_s = float(warmup_s)
        self.window = np.hanning(n_fft + 1)[:-1]
        self.acc = np.zeros(12, np.float64)
        self.chroma = np.zeros(12, np.float64)
        self.stable = Hysteresis(KEY_NAMES, margin=margin, hold=hold)
        self.reset()

    def reset(self) -> None:
        self.acc[:] = 0.0
        self.tz = 0j  # accumulated tuning evidence (complex, see peak_tuning)
        self.evidence = 0.0  # seconds of pitched input accumulated (saturates at tau)
        self.stable.reset()

    @property
    def tuning_cents(self) -> float:
        """The current tuning estimate in cents relative to A440 (-50..50; 0 before evidence)."""
        return float(100.0 * np.angle(self.tz) / (2.0 * np.pi)) if abs(self.tz) > 0.0 else 0.0

    def process(self, frame):
        dt = frame.n_new22 / self.sr
        freqs, mags = spectral_peaks(y=frame.y22[-self.n_fft:], sr=self.sr, window=self.window)
        self.tz = self.tz * np.exp(-dt / self.tuning_tau) + dt * peak_tuning(freqs=freqs, mags=mags)
        peak_chroma(freqs=freqs, mags=mags, tuning=self.tuning_cents / 100.0, out=self.chroma)
        self.chroma *= dt
        self.acc *= np.exp(-dt / self.tau)
        self.acc += self.chroma
        corr = key_correlations(self.acc)
        if corr is None:
            return {"key": "C major", "key/id": 0, "key/strength": 0.0, "key/chroma": self.chroma}
        self.evidence = min(self.tau, self.evidence + dt)
        if self.evidence < self.warmup_s:  # too little evidence to hold on to a key: follow the best
            self.stable.reset()
        k, _ = self.stable.update(corr, frame.time)
        return {"key": KEY_NAMES[k], "key/id": k, "key/strength": float(corr[k]), "key/chroma": self.chroma}


# -- rolling recipe --------------------------------------------------------------------------
#: descriptor row columns behind the recipe's per-frame values (chroma handled separately)
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
    librosa pads) are recomputed every ``tempo_interval`` seconds.

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
            self.tempo = self._tempo(m0, K, s, e)
            self.t_last_tempo = frame.time
        vec[12] = self.tempo
        return {"recipe/gtzan": vec, "features/tempo": float(self.tempo)}

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


def default_processors(cfg) -> list[Processor]:
    """The built-in descriptor processors, in run order (fast first, then frame processors)."""
    window = float(getattr(cfg, "window", 30.0)) if cfg is not None else 30.0
    core = SpectralStream(history=max(32.0, window + 2.5))
    return [FastStream(), LevelProcessor(), RecipeStats(core, window=window), PitchProcessor(),
            SpectralDescriptors(core), KeyProcessor()]
