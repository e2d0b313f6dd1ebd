"""ASCIML's synthetic sound generator: AM, FM, additive and subtractive tones with ADSR envelopes.

Used to widen the VAE's training set beyond recorded music (clean, controllable timbres) and by
tests as a small dataset with known structure. All functions are pure and keyword-only, take the
sample rate explicitly and return float32 mono in -1..1.
"""

from __future__ import annotations

import numpy as np

KINDS = ("am", "fm", "additive", "subtractive")


def adsr(*, n: int, sr: int, attack: float, decay: float, sustain: float, release: float) -> np.ndarray:
    """ADSR envelope of ``n`` samples: times in seconds (>= 0), sustain level 0..1."""
    if n < 1 or sr <= 0:
        raise ValueError(f"n={n!r} and sr={sr!r} must be positive")
    if min(attack, decay, release) < 0 or not 0.0 <= sustain <= 1.0:
        raise ValueError(f"attack/decay/release must be >= 0 s and sustain in 0..1, got "
                         f"{attack}, {decay}, {release}, {sustain}")
    a, d, r = (max(0, int(round(t * sr))) for t in (attack, decay, release))
    a, d = min(a, n), min(d, max(0, n - a))
    r = min(r, max(0, n - a - d))
    s = n - a - d - r
    env = np.concatenate([
        np.linspace(0.0, 1.0, a, endpoint=False), np.linspace(1.0, sustain, d, endpoint=False),
        np.full(s, sustain), np.linspace(sustain, 0.0, r),
    ])
    return env.astype(np.float32)


def am(*, sr: int, duration: float, f0: float, fm_rate: float, depth: float) -> np.ndarray:
    """Amplitude modulation: a sine at ``f0`` Hz, gain 1 - depth/2 (1 - cos(2π fm_rate t))."""
    t = np.arange(int(round(sr * duration))) / sr
    return (np.sin(2 * np.pi * f0 * t) * (1.0 - depth * 0.5 * (1 - np.cos(2 * np.pi * fm_rate * t)))).astype(np.float32)


def fm(*, sr: int, duration: float, f0: float, ratio: float, index: float) -> np.ndarray:
    """Frequency modulation (Chowning): carrier ``f0``, modulator ``ratio·f0``, index ``index``."""
    t = np.arange(int(round(sr * duration))) / sr
    return np.sin(2 * np.pi * f0 * t + index * np.sin(2 * np.pi * ratio * f0 * t)).astype(np.float32)


def additive(*, sr: int, duration: float, f0: float, n_partials: int, tilt: float) -> np.ndarray:
    """Sum of harmonics below Nyquist with amplitudes k^-tilt, normalised to peak 1."""
    t = np.arange(int(round(sr * duration))) / sr
    y = np.zeros_like(t)
    for k in range(1, n_partials + 1):
        if k * f0 >= sr / 2:
            break
        y += k ** (-tilt) * np.sin(2 * np.pi * k * f0 * t)
    return (y / max(1e-9, np.max(np.abs(y)))).astype(np.float32)


def subtractive(*, sr: int, duration: float, f0: float, cutoff: float, q: float, wave: str,
                rng: np.random.Generator) -> np.ndarray:
    """A sawtooth, square or noise source through a resonant 2-pole low-pass at ``cutoff`` Hz."""
    from scipy.signal import butter, lfilter  # scipy: a train/test dependency only

    n = int(round(sr * duration))
    t = np.arange(n) / sr
    if wave == "saw":
        x = 2.0 * ((f0 * t) % 1.0) - 1.0
    elif wave == "square":
        x = np.sign(np.sin(2 * np.pi * f0 * t))
    elif wave == "noise":
        x = rng.uniform(-1, 1, n)
    else:
        raise ValueError(f"wave={wave!r}; expected 'saw', 'square' or 'noise'")
    b, a = butter(2, min(0.99, cutoff / (sr / 2)), btype="low")
    y = lfilter(b, a, x) * (1.0 + 0.2 * q)
    return (y / max(1e-9, np.max(np.abs(y)))).astype(np.float32)


def random_sound(*, rng: np.random.Generator, sr: int = 16000, duration: float = 1.0,
                 kind: str | None = None, info: dict | None = None) -> tuple[np.ndarray, str]:
    """One random synthetic sound (float32, peak <= 0.9) and its kind.

    ``info``, when given, is filled with the drawn parameters (``f0`` in Hz, the kind's own
    parameters, the ADSR times in s and sustain level, ``gain``): the dataset's sidecars keep them.
    """
    kind = kind or KINDS[int(rng.integers(len(KINDS)))]
    f0 = float(55.0 * 2 ** rng.uniform(0, 5))  # 55..1760 Hz
    if kind == "am":
        kw = dict(fm_rate=float(rng.uniform(0.5, 30)), depth=float(rng.uniform(0.2, 1)))
        y = am(sr=sr, duration=duration, f0=f0, **kw)
    elif kind == "fm":
        kw = dict(ratio=float(rng.choice([0.5, 1, 1.5, 2, 3, 3.5])), index=float(rng.uniform(0.1, 8)))
        y = fm(sr=sr, duration=duration, f0=f0, **kw)
    elif kind == "additive":
        kw = dict(n_partials=int(rng.integers(1, 30)), tilt=float(rng.uniform(0.3, 2.5)))
        y = additive(sr=sr, duration=duration, f0=f0, **kw)
    elif kind == "subtractive":
        kw = dict(cutoff=float(rng.uniform(200, 7000)), q=float(rng.uniform(0, 1)),
                  wave=str(rng.choice(["saw", "square", "noise"])))
        y = subtractive(sr=sr, duration=duration, f0=f0, rng=rng, **kw)
    else:
        raise ValueError(f"kind={kind!r}; expected one of {KINDS}")
    env_kw = dict(attack=float(rng.uniform(0.001, 0.2)), decay=float(rng.uniform(0.01, 0.3)),
                  sustain=float(rng.uniform(0.2, 1.0)), release=float(rng.uniform(0.01, 0.4)))
    env = adsr(n=y.shape[0], sr=sr, **env_kw)
    gain = float(rng.uniform(0.1, 0.9))
    if info is not None:
        info.update(kind=kind, f0=f0, **kw, **env_kw, gain=gain)
    return (y * env * gain).astype(np.float32), kind


def dataset(*, n: int, sr: int = 16000, duration: float = 1.0, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """``n`` random sounds as an (n, samples) float32 array, and their kinds."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, int(round(sr * duration))), dtype=np.float32)
    kinds = []
    for i in range(n):
        out[i], k = random_sound(rng=rng, sr=sr, duration=duration)
        kinds.append(k)
    return out, kinds
