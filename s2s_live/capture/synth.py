"""Built-in synthetic music: drums, bass and chords in several styles, for the demo and tests.

Needs no device and no data. Sections of ``section_seconds`` cycle through styles that differ
in tempo, mode, density and timbre, so genre, emotion, tempo and loudness visibly move:

=========  =====  =====  ===============================================  ===================
style      BPM    mode   texture                                          intended quadrant
=========  =====  =====  ===============================================  ===================
pop        116    major  four-on-the-floor, bright piano chords, bass      happy (Q1)
techno     128    minor  driving kick, saw bass, dark stabs, open hats     tense (Q2)
ballad      72    minor  no drums, soft low piano, sustained bass          sad (Q3)
ambient     60    major  slow pads, no drums, gentle bass                  calm (Q4)
rock       150    minor  kick/snare backbeat, distorted power chords       tense (Q2)
reggae      84    major  off-beat chord skank, one-drop kick               happy (Q1)
=========  =====  =====  ===============================================  ===================

Rendering is vectorised numpy, one bar at a time, into a buffer that ``render_into`` copies
from; it runs in the source's thread, never in an audio callback.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)


@dataclass(frozen=True)
class Style:
    name: str
    bpm: float
    mode: str  # "major" | "minor"
    root: int  # MIDI note of the tonic (bass register)
    progression: tuple[int, ...]  # scale degrees (0-based) of the chord roots, one per bar
    kick: tuple[float, ...]  # 16th-note steps with kick hits (positions in 0..15)
    snare: tuple[float, ...]
    hats: tuple[float, ...]
    chord_steps: tuple[float, ...]  # when chords are struck (16ths); empty = sustained pad
    bass_steps: tuple[float, ...]
    brightness: float  # number of harmonics scale 0..1
    drive: float  # soft-clip amount for rock/techno
    level: float  # overall gain
    valence: float  # intended 0..1 (for tests/doc)
    arousal: float


STYLES: dict[str, Style] = {
    "pop": Style("pop", 116, "major", 43, (0, 4, 5, 3), (0, 4, 8, 12), (4, 12), tuple(range(0, 16, 2)),
                 (0, 3, 6, 8, 11, 14), (0, 6, 8, 14), 0.8, 0.0, 0.8, 0.8, 0.7),
    "techno": Style("techno", 128, "minor", 36, (0, 0, 5, 6), (0, 4, 8, 12), (4, 12), (2, 6, 10, 14),
                    (3, 7, 11, 15), tuple(range(0, 16, 1)), 1.0, 0.6, 0.9, 0.25, 0.85),
    "ballad": Style("ballad", 72, "minor", 38, (0, 5, 2, 6), (), (), (), (0, 8), (0,), 0.3, 0.0, 0.45,
                    0.2, 0.2),
    "ambient": Style("ambient", 60, "major", 41, (0, 3, 0, 4), (), (), (), (), (0,), 0.2, 0.0, 0.4, 0.75,
                     0.15),
    "rock": Style("rock", 150, "minor", 40, (0, 6, 5, 6), (0, 6, 8, 10), (4, 12), tuple(range(0, 16, 2)),
                  tuple(range(0, 16, 2)), (0, 2, 4, 6, 8, 10, 12, 14), 1.0, 0.8, 0.85, 0.3, 0.9),
    "reggae": Style("reggae", 84, "major", 45, (0, 3, 4, 3), (8,), (8,), tuple(range(2, 16, 4)),
                    (4, 12), (0, 3, 6, 10), 0.6, 0.0, 0.7, 0.7, 0.45),
}

#: Default demo order: alternates quadrants so emotion and genre both move.
DEFAULT_ORDER = ("pop", "techno", "ballad", "reggae", "rock", "ambient")


class MusicSynth:
    """Endless synthetic music, one style per section.

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    seed : int
        Seed of the small random variations (noise, humanised velocities).
    section_seconds : float
        Length of each style's section in seconds (rounded to whole bars). Default 20 s.
    styles : sequence of str or Style, or None
        Styles to cycle through: names from ``STYLES`` or :class:`Style` instances (e.g.
        ``dataclasses.replace(STYLES["pop"], bpm=90)`` for drums at a known tempo); default
        ``DEFAULT_ORDER``.
    tuning_cents : float
        Detuning of every pitched note from A440, in cents (-100..100; known-answer key tests).
    """

    def __init__(self, *, sr: int = 44100, seed: int = 0, section_seconds: float = 20.0, styles=None,
                 tuning_cents: float = 0.0):
        if sr <= 0:
            raise ValueError(f"sr must be positive, got {sr}")
        if section_seconds <= 0:
            raise ValueError(f"section_seconds must be positive, got {section_seconds}")
        if not -100.0 <= tuning_cents <= 100.0:
            raise ValueError(f"tuning_cents must be in -100..100, got {tuning_cents}")
        names = tuple(styles) if styles else DEFAULT_ORDER
        for n in names:
            if not isinstance(n, Style) and n not in STYLES:
                raise ValueError(f"unknown style {n!r}; expected one of {sorted(STYLES)} or a Style")
        self.sr = int(sr)
        self.a4 = 440.0 * 2.0 ** (tuning_cents / 1200.0)
        self.styles = [n if isinstance(n, Style) else STYLES[n] for n in names]
        self.section_seconds = float(section_seconds)
        self.rng = np.random.default_rng(seed)
        self._buf = np.zeros(0, dtype=np.float32)
        self._pos = 0
        self._bar = 0
        self._section = 0
        self._bars_in_section = 0
        self._tail = np.zeros(0)  # decays that ring past the bar end
        self.samples_rendered = 0

    @property
    def style(self) -> Style:
        """The style currently playing."""
        return self.styles[self._section % len(self.styles)]

    # -- public ---------------------------------------------------------------------------
    def render_into(self, out: np.ndarray) -> None:
        """Fill ``out`` (1-D float32) with the next ``len(out)`` samples."""
        i = 0
        n = out.shape[0]
        while i < n:
            if self._pos >= self._buf.shape[0]:
                self._next_bar()
            k = min(n - i, self._buf.shape[0] - self._pos)
            out[i : i + k] = self._buf[self._pos : self._pos + k]
            self._pos += k
            i += k
        self.samples_rendered += n

    def render(self, seconds: float) -> np.ndarray:
        """Return ``seconds`` of audio as a new float32 array (offline use)."""
        out = np.zeros(int(round(seconds * self.sr)), dtype=np.float32)
        self.render_into(out)
        return out

    # -- internals ------------------------------------------------------------------------
    def _next_bar(self) -> None:
        st = self.style
        bar_s = 4 * 60.0 / st.bpm
        bars_per_section = max(1, int(round(self.section_seconds / bar_s)))
        if self._bars_in_section >= bars_per_section:
            self._section += 1
            self._bars_in_section = 0
            st = self.style
            bar_s = 4 * 60.0 / st.bpm
        n = int(round(bar_s * self.sr))
        tail_len = int(2.0 * self.sr)
        y = np.zeros(n + tail_len)
        y[: self._tail.shape[0]] += self._tail
        step = n / 16.0
        scale = MAJOR if st.mode == "major" else MINOR
        deg = st.progression[self._bars_in_section % len(st.progression)]
        root = st.root + scale[deg % 7]
        chord = [root + 12 + scale[(deg + k) % 7] - scale[deg % 7] + (12 if (deg + k) >= 7 else 0)
                 for k in (0, 2, 4)]
        rng = self.rng
        for s in st.kick:
            self._add(y, int(s * step), self._kick(rng.uniform(0.9, 1.0)))
        for s in st.snare:
            self._add(y, int(s * step), self._snare(rng))
        for s in st.hats:
            self._add(y, int(s * step), self._hat(rng, open_=st.name == "techno" and s % 4 == 2))
        if st.chord_steps:
            for s in st.chord_steps:
                dur = step * (2 if st.name != "ballad" else 8)
                self._add(y, int(s * step), self._chord(chord, dur, st, rng))
        else:  # sustained pad over the whole bar
            self._add(y, 0, self._pad(chord, n, st))
        for j, s in enumerate(st.bass_steps):
            nxt = st.bass_steps[j + 1] if j + 1 < len(st.bass_steps) else 16
            note = root - 12 + (12 if (st.name == "techno" and j % 2) else 0)
            self._add(y, int(s * step), self._bass(note, (nxt - s) * step, st))
        if st.drive > 0:
            y = np.tanh((1 + 4 * st.drive) * y) / np.tanh(1 + 4 * st.drive)
        y *= st.level * 0.5
        self._buf = y[:n].astype(np.float32)
        self._tail = y[n:] if st.drive == 0 else np.zeros(0)
        self._pos = 0
        self._bars_in_section += 1
        self._bar += 1

    @staticmethod
    def _add(y: np.ndarray, start: int, x: np.ndarray) -> None:
        end = min(y.shape[0], start + x.shape[0])
        if end > start:
            y[start:end] += x[: end - start]

    def _hz(self, n: float) -> float:
        """Frequency of MIDI note n at this synth's tuning."""
        return self.a4 * 2.0 ** ((n - 69) / 12.0)

    def _t(self, seconds: float) -> np.ndarray:
        return np.arange(int(seconds * self.sr)) / self.sr

    def _kick(self, vel: float) -> np.ndarray:
        t = self._t(0.35)
        f = 50 + 100 * np.exp(-t * 30)
        phase = 2 * np.pi * np.cumsum(f) / self.sr
        return vel * 0.9 * np.sin(phase) * np.exp(-t * 9)

    def _snare(self, rng) -> np.ndarray:
        t = self._t(0.2)
        noise = rng.standard_normal(t.shape[0])
        noise = np.diff(noise, prepend=0.0) * 0.5
        return (0.35 * noise + 0.3 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t * 22)

    def _hat(self, rng, open_: bool = False) -> np.ndarray:
        t = self._t(0.25 if open_ else 0.06)
        noise = rng.standard_normal(t.shape[0])
        hp = np.diff(np.diff(noise, prepend=0.0), prepend=0.0) * 0.25
        return 0.18 * hp * np.exp(-t * (12 if open_ else 60))

    def _harmonics(self, f0: float, t: np.ndarray, n_harm: int, decay: float) -> np.ndarray:
        out = np.zeros_like(t)
        nyq = self.sr / 2
        for h in range(1, n_harm + 1):
            if f0 * h >= nyq * 0.9:
                break
            out += np.sin(2 * np.pi * f0 * h * t) * (1.0 / h) * np.exp(-t * decay * h * 0.5)
        return out

    def _chord(self, notes, dur_samples: float, st: Style, rng) -> np.ndarray:
        t = self._t(max(0.1, dur_samples / self.sr) + 0.3)
        n_harm = 2 + int(8 * st.brightness)
        y = np.zeros_like(t)
        for note in notes:
            y += self._harmonics(self._hz(note + 12 * (st.name != "ballad")), t, n_harm, 3.0 if st.drive == 0 else 0.5)
        env = np.minimum(1.0, t / 0.005) * np.exp(-t * (2.5 if st.name != "ballad" else 0.8))
        return 0.22 * y * env * rng.uniform(0.85, 1.0)

    def _pad(self, notes, n: int, st: Style) -> np.ndarray:
        t = np.arange(n + int(0.5 * self.sr)) / self.sr
        y = np.zeros_like(t)
        for note in notes:
            f = self._hz(note + 12)
            for det in (-0.15, 0.15):
                y += self._harmonics(f * 2 ** (det / 12), t, 3, 0.0)
        env = np.minimum(1.0, t / 0.6) * np.minimum(1.0, np.maximum(0.0, (t[-1] - t) / 0.5))
        return 0.12 * y * env

    def _bass(self, note: int, dur_samples: float, st: Style) -> np.ndarray:
        t = self._t(max(0.05, dur_samples / self.sr))
        n_harm = 1 + int(6 * st.brightness)
        y = self._harmonics(self._hz(note), t, n_harm, 1.0)
        env = np.minimum(1.0, t / 0.004) * np.minimum(1.0, (t[-1] - t) / 0.01 + 1e-9)
        return 0.4 * y * env
