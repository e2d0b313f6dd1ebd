"""Procedural backend: abstract audio-reactive images, no weights, CPU only (the default).

Mapping from the music (see :mod:`s2s_live.visuals.state` for the state keys):

* palette from valence/arousal — hue runs from cold blue (low valence) through magenta to
  warm orange (high valence); arousal raises saturation, contrast and hue spread;
* structure and texture from the genre — radial folds, ring and stripe frequencies, domain warp
  and grain per genre (:data:`GENRE_STYLES`; unknown genres get a style hashed from the name);
* motion from tempo and onsets — the phase advances one unit per beat, onsets/beats kick a
  decaying pulse that zooms the rings;
* brightness from level.

:func:`render` is a pure function of (style parameters, palette, size): the same state, time and
seed give the same pixels. :class:`Animator` integrates time, tempo and onsets for the live view.
One 512x512 frame takes ~10 ms on one core (numba kernel, ``nogil``), see docs/benchmarks.md.
"""

from __future__ import annotations

import colorsys
import math
import zlib
from typing import Mapping

import numba
import numpy as np

#: Genre -> (folds, ring_freq, stripe_freq, warp, grain, zoom, twist). Units are radians per
#: unit of normalised image coordinates (the image spans -1..1), grain is 0..1 noise amplitude.
GENRE_STYLES: dict[str, tuple[float, ...]] = {
    "blues":     (3.0, 6.0, 2.0, 0.35, 0.04, 1.0, 0.8),
    "classical": (6.0, 4.0, 1.0, 0.15, 0.02, 1.2, 0.3),
    "country":   (2.0, 3.0, 4.0, 0.20, 0.05, 1.0, 0.2),
    "disco":     (8.0, 14.0, 6.0, 0.10, 0.03, 1.4, 1.5),
    "hiphop":    (4.0, 8.0, 10.0, 0.25, 0.10, 0.9, 0.4),
    "jazz":      (5.0, 5.0, 3.0, 0.45, 0.05, 1.1, 1.2),
    "metal":     (7.0, 18.0, 12.0, 0.60, 0.22, 0.8, 2.5),
    "pop":       (6.0, 10.0, 4.0, 0.20, 0.02, 1.3, 0.9),
    "reggae":    (3.0, 7.0, 5.0, 0.30, 0.06, 1.0, 0.6),
    "rock":      (5.0, 12.0, 8.0, 0.50, 0.15, 0.9, 1.8),
    "techno":    (4.0, 16.0, 14.0, 0.08, 0.08, 1.6, 0.0),
    "ambient":   (1.0, 2.0, 1.0, 0.55, 0.01, 0.7, 0.2),
    "ballad":    (2.0, 3.0, 1.5, 0.40, 0.02, 0.8, 0.4),
}
#: Style of the neutral state (no genre yet).
NEUTRAL_STYLE = (3.0, 5.0, 3.0, 0.35, 0.03, 1.0, 0.6)

# Layout of the parameter vector handed to the kernel.
_P_PHASE, _P_FOLDS, _P_RING, _P_STRIPE, _P_WARP, _P_GRAIN, _P_ZOOM, _P_TWIST = range(8)
_P_BRIGHT, _P_PULSE, _P_CONTRAST, _P_S0, _P_S1, _P_SEED = range(8, 14)
N_PARAMS = 14


def genre_style(genre: str | None) -> tuple[float, ...]:
    """Structure parameters of a genre; unknown labels get a stable style hashed from the name."""
    if not genre:
        return NEUTRAL_STYLE
    g = genre.lower()
    if g in GENRE_STYLES:
        return GENRE_STYLES[g]
    h = zlib.crc32(g.encode("utf-8"))
    r = [((h >> (4 * i)) & 15) / 15.0 for i in range(7)]
    return (1.0 + round(7 * r[0]), 2.0 + 16 * r[1], 1.0 + 13 * r[2], 0.05 + 0.55 * r[3],
            0.01 + 0.2 * r[4], 0.7 + 0.9 * r[5], 2.5 * r[6])


def palette(valence: float, arousal: float, *, hue_shift: float = 0.0, n: int = 256) -> np.ndarray:
    """Colour look-up table (n, 3) float32 in 0..1 from valence/arousal (0..1 each).

    Dark -> saturated base hue -> a second hue (spread grows with arousal) -> pale highlight.
    """
    v = min(1.0, max(0.0, float(valence)))
    a = min(1.0, max(0.0, float(arousal)))
    base = (0.66 + 0.42 * v + hue_shift) % 1.0  # blue (sad) .. magenta .. orange (happy)
    spread = 0.04 + 0.14 * a
    sat = 0.35 + 0.6 * a
    stops = [
        colorsys.hsv_to_rgb(base, sat, 0.05),
        colorsys.hsv_to_rgb(base, sat, 0.55),
        colorsys.hsv_to_rgb((base + spread) % 1.0, sat, 0.85),
        colorsys.hsv_to_rgb((base + 2 * spread) % 1.0, sat * 0.5, 1.0),
    ]
    xs = np.linspace(0.0, 1.0, len(stops))
    t = np.linspace(0.0, 1.0, n)
    lut = np.stack([np.interp(t, xs, [s[c] for s in stops]) for c in range(3)], axis=1)
    return lut.astype(np.float32)


def params_for(state: Mapping, *, phase: float, pulse: float = 0.0, seed: int = 0,
               wek: tuple = ()) -> np.ndarray:
    """Kernel parameter vector (float64[N_PARAMS]) for a state at a motion ``phase`` (beats).

    ``wek`` are optional Wekinator outputs 0..1: [0] detail (frequencies), [1] warp, [2] zoom.
    """
    folds, ring, stripe, warp, grain, zoom, twist = genre_style(state.get("genre"))
    a = float(state.get("arousal", 0.5))
    level = float(state.get("level", 0.0))
    p = np.zeros(N_PARAMS)
    if len(wek) > 0:
        ring *= 0.5 + float(wek[0]); stripe *= 0.5 + float(wek[0])
    if len(wek) > 1:
        warp *= 0.25 + 1.5 * float(wek[1])
    if len(wek) > 2:
        zoom *= 0.5 + float(wek[2])
    rng = np.random.default_rng(int(seed) & 0x7FFFFFFF)
    p[_P_PHASE] = phase
    p[_P_FOLDS] = folds
    p[_P_RING] = ring
    p[_P_STRIPE] = stripe
    p[_P_WARP] = warp * (0.7 + 0.6 * a)
    p[_P_GRAIN] = grain
    p[_P_ZOOM] = zoom
    p[_P_TWIST] = twist
    p[_P_BRIGHT] = 0.35 + 0.65 * min(1.0, max(0.0, level))
    p[_P_PULSE] = pulse
    p[_P_CONTRAST] = 0.8 + 0.8 * a
    p[_P_S0], p[_P_S1] = rng.uniform(0.0, 2.0 * math.pi, 2)
    p[_P_SEED] = float(int(seed) & 0xFFFF)
    return p


@numba.njit(cache=True, nogil=True, fastmath=True)
def _render(out, lut, p):  # pragma: no cover - compiled
    h, w = out.shape[0], out.shape[1]
    n = lut.shape[0]
    ph = p[0]
    folds, ring, stripe, warp, grain, zoom, twist = p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    bright, pulse, contrast, s0, s1, seed = p[8], p[9], p[10], p[11], p[12], p[13]
    tw = 2.0 * math.pi * ph * 0.25  # one turn of the slow motion every 4 beats
    zk = zoom * (1.0 - 0.25 * pulse)
    inv = 2.0 / min(h, w)
    iseed = np.uint32(int(seed) * 2654435761 & 0xFFFFFFFF)
    for y in range(h):
        v0 = (y - 0.5 * h) * inv * zk
        for x in range(w):
            u0 = (x - 0.5 * w) * inv * zk
            u = u0 + warp * math.sin(3.0 * v0 + tw + s0)
            v = v0 + warp * math.sin(3.0 * u0 - 0.7 * tw + s1)
            r = math.sqrt(u * u + v * v)
            ang = math.atan2(v, u)
            f = 0.45 * math.sin(ring * r - 2.0 * tw - 3.0 * pulse)
            f += 0.35 * math.sin(folds * ang + twist * r + 0.5 * tw)
            f += 0.20 * math.sin(stripe * (u + v) + tw + s0)
            # Cheap integer hash noise for grain (deterministic per pixel and seed).
            hsh = (np.uint32(x) * np.uint32(374761393) + np.uint32(y) * np.uint32(668265263)) ^ iseed
            hsh = (hsh ^ (hsh >> np.uint32(13))) * np.uint32(1274126177)
            f += grain * ((hsh & np.uint32(1023)) / 511.5 - 1.0)
            g = 0.5 + 0.5 * contrast * f
            if g < 0.0:
                g = 0.0
            elif g > 1.0:
                g = 1.0
            k = int(g * (n - 1))
            vig = 1.0 - 0.35 * r * r / (zk * zk + 1e-6)
            if vig < 0.2:
                vig = 0.2
            s = bright * vig * 255.0
            for c in range(3):
                val = lut[k, c] * s
                out[y, x, c] = 255 if val >= 255.0 else np.uint8(val)


def render(params: np.ndarray, lut: np.ndarray, *, width: int = 512, height: int = 512,
           out: np.ndarray | None = None) -> np.ndarray:
    """Render one RGB image (height, width, 3) uint8 from kernel params and a palette.

    ``out`` may be a preallocated C-contiguous uint8 array of that shape (the live animation
    reuses one buffer). Pure: same inputs, same pixels.
    """
    if not isinstance(width, int) or not isinstance(height, int) or not (8 <= width <= 4096 and 8 <= height <= 4096):
        raise ValueError(f"width/height={width}x{height} are invalid; expected integers in 8..4096")
    params = np.ascontiguousarray(params, dtype=np.float64)
    if params.shape != (N_PARAMS,):
        raise ValueError(f"params has shape {params.shape}; expected ({N_PARAMS},)")
    lut = np.ascontiguousarray(lut, dtype=np.float32)
    if lut.ndim != 2 or lut.shape[1] != 3 or lut.shape[0] < 2:
        raise ValueError(f"lut has shape {lut.shape}; expected (n>=2, 3)")
    if out is None:
        out = np.empty((height, width, 3), dtype=np.uint8)
    elif out.shape != (height, width, 3) or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"out must be C-contiguous uint8 of shape {(height, width, 3)}, got {out.shape} {out.dtype}")
    _render(out, lut, params)
    return out


def render_state(state: Mapping, *, seed: int = 0, phase: float = 0.0, size: int = 512,
                 params: tuple = (), hue_shift: float = 0.0) -> np.ndarray:
    """A still image (size, size, 3) uint8 of a music state: deterministic in (state, seed, phase)."""
    lut = palette(state.get("valence", 0.5), state.get("arousal", 0.5), hue_shift=hue_shift)
    return render(params_for(state, phase=phase, seed=seed, wek=params), lut, width=size, height=size)


class Animator:
    """Live procedural animation: integrates tempo, onsets and level over time.

    ``update(state, fast, dt)`` advances the motion by ``dt`` seconds (the phase moves one unit
    per beat at the state's BPM, 0.5 units/s when the tempo is unknown); ``fast`` holds the fast
    stream (level, onset 0..1, beat counter). ``frame()`` renders into one reused buffer.
    """

    def __init__(self, *, size: int = 512, seed: int = 0) -> None:
        self.size = int(size)
        self.seed = int(seed)
        self.buf = np.empty((self.size, self.size, 3), dtype=np.uint8)
        self.phase = 0.0
        self.pulse = 0.0
        self.level = 0.0
        self._beats = 0.0
        self._lut_key = None
        self._lut = palette(0.5, 0.5)
        self.state: dict = {}
        self.wek: tuple = ()

    def update(self, state: Mapping, fast: Mapping | None, dt: float) -> None:
        dt = min(max(float(dt), 0.0), 0.5)
        self.state = dict(state)
        bpm = float(state.get("bpm") or 0.0)
        self.phase += dt * (bpm / 60.0 if bpm > 0 else 0.5)
        self.pulse *= math.exp(-dt / 0.18)  # ~180 ms decay of the onset kick
        lvl = float(state.get("level", 0.0))
        if fast:
            lvl = float(fast.get("level", lvl))
            self.pulse = max(self.pulse, float(fast.get("onset", 0.0)))
            beats = float(fast.get("beats", self._beats))
            if beats != self._beats:
                self.pulse = 1.0
                self._beats = beats
        self.level += (lvl - self.level) * min(1.0, dt / 0.08)  # smooth brightness, ~80 ms
        key = (round(float(state.get("valence", 0.5)), 2), round(float(state.get("arousal", 0.5)), 2))
        if key != self._lut_key:
            self._lut = palette(*key)
            self._lut_key = key

    def frame(self) -> np.ndarray:
        st = dict(self.state)
        st["level"] = self.level
        p = params_for(st, phase=self.phase, pulse=self.pulse, seed=self.seed, wek=self.wek)
        return render(p, self._lut, width=self.size, height=self.size, out=self.buf)
