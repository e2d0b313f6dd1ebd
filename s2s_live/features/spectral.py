"""Spectral descriptors of the last hop, read from the shared streaming STFT core.

:class:`SpectralDescriptors` averages the :class:`~s2s_live.dsp.spectral.SpectralStream` rows of
the STFT columns that completed during the last hop: centroid, rolloff and bandwidth (Hz,
0..11025), zcr and flatness (0..1), the RMS envelope (0..1), 20 MFCCs (within +-MFCC_LIMIT),
7 contrast bands (dB), 12 chroma values (0..1), 8 instrument band energies (0..1) and the
voice-band share (0..1).

:class:`_CoreUser` is the base of every frame processor that reads that core (this one and
:class:`~s2s_live.features.rolling.RecipeStats`): the first of them to see a frame pushes its
new samples, so every STFT column is computed once per stream.
"""

from __future__ import annotations

import numba
import numpy as np

from ..dsp.spectral import (COL_BANDS, COL_BANDWIDTH, COL_CENTROID, COL_CHROMA, COL_CONTRAST, COL_FLATNESS,
                           COL_MFCC, COL_POWER, COL_RMS, COL_ROLLOFF, COL_ZCR, INSTRUMENT_BANDS, N_BANDS, N_COL,
                           N_CONTRAST, N_MFCC, SpectralStream)
from ..frames import SR_RECIPE
from ..processor import Output, Processor
from .key import PITCH_NAMES
from .level import _EPS, db_to_unit
from .recipe import N_MELS

#: Bound of every MFCC: the orthonormal DCT of N_MELS mel bands, each in -100..+100 dB (the 1e-10
#: power floor; the +-32 sample clamp keeps bands far below +100 dB), has a norm of at most
#: 100 * sqrt(N_MELS) = 1131.4; silence reaches it (MFCC 1 = -1131.4). Rounded up.
MFCC_LIMIT = float(np.ceil(100.0 * np.sqrt(N_MELS)))


class _CoreUser(Processor):
    """A frame processor reading the shared :class:`SpectralStream`."""

    def __init__(self, core: SpectralStream) -> None:
        self.core = core

    def _update(self, frame) -> None:
        """Push the frame's new samples once per frame (the first core user does it), minus
        those :meth:`ahead` already pushed; ``core.new_cols`` becomes the columns completed
        since the previous frame."""
        c = self.core
        if c.last_index == frame.index and c.last_time == frame.time:
            return
        c.last_index, c.last_time = frame.index, frame.time
        end = int(round(frame.time * SR_RECIPE))
        start = end - frame.n_new22
        x = frame.new22
        if start < c.abs_end <= end:  # the part before abs_end went in ahead of the frame
            x = x[c.abs_end - start:]
        if x.shape[0]:
            c.push(x)
        c.abs_end = end
        c.new_cols = c.next_col - c.frame_col
        c.frame_col = c.next_col

    def ahead(self, y22: np.ndarray, start: int) -> None:
        """Compute the STFT columns of audio that arrived for the next frame, as it arrives,
        so the frame itself finds them done (only contiguous audio: after a gap the frame
        pushes its own samples, as before)."""
        c = self.core
        if start != c.abs_end or not y22.shape[0]:
            return  # another core user already pushed it, or not contiguous
        c.push(y22)
        c.abs_end = start + y22.shape[0]

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
