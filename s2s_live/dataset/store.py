"""A dataset folder after ASCIML's dataset design: one-second 16 kHz clips with JSON sidecars.

Layout: ``DIR/dataset.json`` (the marker: format and version), and per clip ``DIR/NAME.wav``
(mono float32, 16000 samples at 16 kHz) with ``DIR/NAME.json`` beside it (label, source, time,
sr, rms, ...). Every file is written to a temporary name in the same folder and moved into place
with ``os.replace``, the sidecar last: a clip exists once its sidecar does, so a crash or Ctrl-C
never leaves a half-written clip that later commands would read.

Clips come from three places, all cut the same way (recorded and added audio: one-second
Hamming-windowed frames at 16 kHz, the VAE's input):

* :func:`record` — the live input, through the engine's own capture path (``DeviceSource`` ->
  ring -> ``FrameAssembler``'s streaming 16 kHz resampling, hop 1 s);
* :func:`add_files` — audio files (soundfile; soxr resampling);
* :func:`synth` — ASCIML's generator (:mod:`s2s_live.capture.sounds`: AM/FM/additive/subtractive
  with ADSR envelopes; these already have their envelope and are not windowed again).
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..errors import AudioFileError, ConfigError, DeviceError
from ..frames import SR_VAE

SR = SR_VAE  #: clip sample rate (Hz)
CLIP = SR_VAE  #: clip length (samples): one second
MARKER = "dataset.json"
FORMAT = {"format": "s2s-live dataset", "version": 1, "sr": SR, "clip_samples": CLIP}
LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,159}$")
MAX_CLIPS_PER_CALL = 100_000  #: bound on --n and on the clips one command writes
RECORD_MAX_S = 3600.0  #: longest single recording (s)


@dataclass
class Clip:
    """One dataset item: ``name`` (file stem), ``path`` (the WAV) and ``meta`` (the sidecar)."""

    name: str
    path: Path
    meta: dict

    @property
    def label(self) -> str:
        return str(self.meta.get("label", ""))

    def audio(self) -> np.ndarray:
        """The clip as float32 mono, 16000 samples (zero-padded/cut if the file was edited)."""
        import soundfile as sf

        try:
            y, sr = sf.read(str(self.path), dtype="float32", always_2d=True)
        except (RuntimeError, sf.LibsndfileError) as exc:
            raise AudioFileError(f"dataset clip {str(self.path)!r} is not readable audio: {exc}") from None
        y = y.mean(axis=1)
        if sr != SR:
            import soxr

            y = soxr.resample(y, sr, SR, quality="VHQ").astype(np.float32)
        out = np.zeros(CLIP, np.float32)
        out[: min(CLIP, y.shape[0])] = y[:CLIP]
        return out


def check_label(label) -> str:
    """A label names clips' files: 1-40 of letters, digits, '_', '-', '.' (first a letter/digit)."""
    if not isinstance(label, str) or not LABEL_RE.match(label):
        raise ConfigError(f"label={label!r} is invalid; expected 1-40 letters, digits, '_', '-' or '.' "
                          "starting with a letter or digit")
    return label


def safe_label(text: str, default: str = "clip") -> str:
    """``text`` made into a valid label (other characters become '-'; cut to 40)."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-._")[:40]
    return s if s and LABEL_RE.match(s) else default


def hamming() -> np.ndarray:
    """The symmetric one-second Hamming window applied to recorded and added clips (float32)."""
    return np.hamming(CLIP).astype(np.float32)


def cut(*, y: np.ndarray, sr: int, hop: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut audio into one-second Hamming-windowed clips at 16 kHz.

    ``y`` is mono (samples,) or (samples, channels) at ``sr`` Hz (mixed to mono, soxr-resampled
    to 16 kHz); ``hop`` (0.1..10 s) spaces the clips. Audio shorter than a second gives one
    zero-padded clip. Returns (clips (n, 16000) float32, start times (s), RMS of each clip
    before the window).
    """
    if not isinstance(hop, (int, float)) or not 0.1 <= float(hop) <= 10.0:
        raise ConfigError(f"hop={hop!r} is invalid; expected seconds in 0.1..10")
    if not isinstance(sr, (int, np.integer)) or not 1000 <= sr <= 384000:
        raise ConfigError(f"sr={sr!r} is invalid; expected Hz in 1000..384000")
    m = np.asarray(y, dtype=np.float32)
    m = m.mean(axis=1) if m.ndim == 2 else m
    m = np.nan_to_num(m, nan=0.0, posinf=0.0, neginf=0.0)
    if sr != SR:
        import soxr

        m = soxr.resample(m, int(sr), SR, quality="VHQ").astype(np.float32)
    if m.shape[0] < CLIP:
        m = np.pad(m, (0, CLIP - m.shape[0]))
    step = max(1, int(round(float(hop) * SR)))
    starts = np.arange(0, m.shape[0] - CLIP + 1, step)
    raw = np.stack([m[s : s + CLIP] for s in starts])
    rms = np.sqrt(np.mean(raw.astype(np.float64) ** 2, axis=1))
    return (raw * hamming()).astype(np.float32), starts / SR, rms


# -- the folder ---------------------------------------------------------------------------------
def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def is_dataset(folder) -> bool:
    """True when ``folder`` holds the dataset marker (``dataset.json``)."""
    return folder is not None and (Path(folder) / MARKER).is_file()


def open_dataset(folder, *, create: bool = True) -> Path:
    """The dataset folder, created with its marker when ``create``; ConfigError otherwise."""
    d = Path(folder)
    if is_dataset(d):
        return d
    if not create:
        what = "does not exist" if not d.exists() else "is not a dataset (no dataset.json)"
        raise ConfigError(f"dataset folder {str(d)!r} {what}; make one with `s2s-live dataset add|record|synth`")
    if d.exists() and not d.is_dir():
        raise ConfigError(f"dataset folder {str(d)!r} is a file, not a folder")
    d.mkdir(parents=True, exist_ok=True)
    _atomic_write(d / MARKER, json.dumps(FORMAT, indent=1).encode())
    return d


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def write_clip(folder: Path, *, y: np.ndarray, stem: str, meta: dict) -> Clip:
    """Write one clip (16000 float32 samples) and its sidecar atomically; the name is ``stem``
    or ``stem-2``, ``stem-3``... when taken. The sidecar gets name, sr, samples, rms, peak."""
    import soundfile as sf

    y = np.clip(np.asarray(y, dtype=np.float32).reshape(-1)[:CLIP], -1.0, 1.0)
    if y.shape[0] != CLIP:
        y = np.pad(y, (0, CLIP - y.shape[0]))
    name, k = stem, 1
    while (folder / f"{name}.json").exists() or (folder / f"{name}.wav").exists():
        k += 1
        name = f"{stem}-{k}"
    buf = io.BytesIO()
    sf.write(buf, y, SR, format="WAV", subtype="FLOAT")
    full = {"name": name, **meta, "sr": SR, "samples": CLIP,
            "rms": float(np.sqrt(np.mean(y.astype(np.float64) ** 2))), "peak": float(np.max(np.abs(y)))}
    full.setdefault("time", _now())
    _atomic_write(folder / f"{name}.wav", buf.getvalue())
    _atomic_write(folder / f"{name}.json", json.dumps(full, indent=1).encode())
    return Clip(name, folder / f"{name}.wav", full)


def clips(folder) -> list[Clip]:
    """The dataset's clips sorted by name (those with both the WAV and the sidecar)."""
    d = open_dataset(folder, create=False)
    out = []
    for side in sorted(d.glob("*.json")):
        if side.name == MARKER or side.name.startswith("."):
            continue
        wav = side.with_suffix(".wav")
        if not wav.is_file():
            continue
        try:
            meta = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AudioFileError(f"dataset sidecar {str(side)!r} is not valid JSON: {exc}") from None
        if not isinstance(meta, dict):
            raise AudioFileError(f"dataset sidecar {str(side)!r} is not a JSON object")
        out.append(Clip(side.stem, wav, meta))
    return out


def find(folder, name: str) -> Clip:
    """The clip called ``name`` (a file stem, never a path) in the dataset ``folder``."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"dataset item {name!r} is invalid; expected a clip name (file stem, no '/')")
    items = clips(folder)
    for c in items:
        if c.name == name:
            return c
    some = ", ".join(c.name for c in items[:5]) + (", ..." if len(items) > 5 else "")
    raise ConfigError(f"dataset item {name!r} not found in {str(folder)!r} ({len(items)} clips: {some or 'none'})")


# -- sources of clips ---------------------------------------------------------------------------
def add_files(folder, files: Iterable, *, label: str | None = None, hop: float = 1.0) -> list[Clip]:
    """Cut each audio file into Hamming-windowed one-second clips (see :func:`cut`) and add them.

    ``label`` defaults to the name of each file's parent folder (``4q_train/Q1/x.mp3`` -> Q1).
    A file that is not audio raises AudioFileError before anything of it is written.
    """
    import soundfile as sf

    if label is not None:
        check_label(label)
    d = open_dataset(folder)
    out: list[Clip] = []
    for f in files:
        p = Path(f)
        try:
            y, sr = sf.read(str(p), dtype="float32", always_2d=True)
        except (RuntimeError, sf.LibsndfileError, OSError) as exc:
            raise AudioFileError(f"{str(p)!r} is not a readable audio file (wav/flac/ogg/mp3): {exc}") from None
        lab = label or safe_label(p.resolve().parent.name, "file")
        X, starts, rms = cut(y=y, sr=sr, hop=hop)
        stem = f"{lab}-{safe_label(p.stem, 'file')}"
        for i in range(X.shape[0]):
            out.append(write_clip(d, y=X[i], stem=f"{stem}-{i:04d}", meta={
                "label": lab, "source": str(p), "offset_s": round(float(starts[i]), 4), "source_sr": int(sr),
                "window": "hamming", "input_rms": float(rms[i])}))
    return out


def check_kinds(kinds) -> list[str]:
    from ..capture.sounds import KINDS

    ks = [k.strip() for k in kinds.split(",")] if isinstance(kinds, str) else list(kinds)
    bad = [k for k in ks if k not in KINDS]
    if not ks or bad:
        raise ConfigError(f"kinds={','.join(map(str, ks))!r} is invalid; expected a comma-separated subset of "
                          f"{','.join(KINDS)}")
    return ks


def synth(folder, *, n: int, kinds="am,fm,additive,subtractive", seed: int = 0) -> list[Clip]:
    """``n`` (1..100000) sounds of ASCIML's generator, kinds taken in turn; the label is the kind
    and the sidecar keeps the drawn parameters (``params``: f0 in Hz, ADSR, ...)."""
    from ..capture.sounds import random_sound

    if not isinstance(n, int) or not 1 <= n <= MAX_CLIPS_PER_CALL:
        raise ConfigError(f"n={n!r} is invalid; expected an int in 1..{MAX_CLIPS_PER_CALL}")
    ks = check_kinds(kinds)
    d = open_dataset(folder)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        info: dict = {}
        y, kind = random_sound(rng=rng, sr=SR, duration=1.0, kind=ks[i % len(ks)], info=info)
        out.append(write_clip(d, y=y, stem=f"{kind}-s{seed}-{i:04d}", meta={
            "label": kind, "source": f"synth:{kind}", "seed": seed, "index": i, "window": "adsr",
            "params": info}))
    return out


def record(folder, *, seconds: float, label: str = "live", device=None, samplerate: int | None = None,
           channels=None, blocksize: int = 256, on_open: Callable | None = None,
           log: Callable[[str], None] | None = None) -> list[Clip]:
    """Record ``seconds`` (1..3600) of the live input as one-second Hamming-windowed clips.

    The audio takes the engine's path: a :class:`~s2s_live.capture.device.DeviceSource` (its own
    capture process) feeding the ring, and the :class:`~s2s_live.frames.FrameAssembler`'s
    mono mix and streaming 16 kHz resampler with a hop of one second, so each frame is the next
    second of input. ``on_open(source)`` runs once the device is open, before recording starts
    (audio before it is discarded). Each clip is written as soon as its second is complete, so a
    Ctrl-C keeps every clip finished so far. Raises DeviceError when the input delivers nothing.
    """
    from ..capture.device import DeviceSource
    from ..frames import FrameAssembler

    if not isinstance(seconds, (int, float)) or not 1.0 <= float(seconds) <= RECORD_MAX_S:
        raise ConfigError(f"seconds={seconds!r} is invalid; expected 1..{RECORD_MAX_S:.0f} s")
    check_label(label)
    d = open_dataset(folder)
    want = int(float(seconds))
    src = DeviceSource(device, samplerate=samplerate, blocksize=blocksize, channels=channels)
    out: list[Clip] = []
    try:
        src.start()
        fa = FrameAssembler(samplerate=src.samplerate, channels=src.selected, hop=1.0)
        fa.warmup()
        if on_open is not None:
            on_open(src)
        chunk = np.zeros((fa.max_chunk, src.channels), np.float32)
        while src.ring.read_into(chunk, fa.max_chunk):  # audio from before the start is not recorded
            pass
        name = f"{src.info['name']}"
        stem = f"{label}-rec{_dt.datetime.now(_dt.timezone.utc).strftime('%Y%m%dT%H%M%S')}"
        if log:
            log(f"recording {want} s from {name!r} at {src.samplerate} Hz into {str(d)!r}")
        last_audio = time.perf_counter()
        ovf_seen = int(src.counters().get("overflows", 0))
        win = hamming()
        while len(out) < want:
            n = src.ring.read_into(chunk, fa.max_chunk)
            if n == 0:
                if time.perf_counter() - last_audio > 5.0:
                    raise DeviceError(f"input device {name!r} delivered no audio for 5 s "
                                      f"({len(out)} of {want} clips recorded)")
                time.sleep(0.01)
                continue
            last_audio = time.perf_counter()
            fa.push(chunk, n)
            f = fa.next_frame()
            if f is None:
                continue
            raw = f.y16
            ovf_now = int(src.counters().get("overflows", 0))
            rms = float(np.sqrt(np.mean(raw.astype(np.float64) ** 2)))
            out.append(write_clip(d, y=raw * win, stem=f"{stem}-{len(out):04d}", meta={
                "label": label, "source": f"live:{name}", "offset_s": round(float(f.time) - 1.0, 4),
                "source_sr": int(src.samplerate), "window": "hamming", "input_rms": rms,
                "overflows": ovf_now - ovf_seen}))  # capture overflows during this clip
            ovf_seen = ovf_now
            if log:
                log(f"  {out[-1].name}: input RMS {rms:.4f}")
    finally:
        src.close()
    return out


__all__ = ["SR", "CLIP", "Clip", "cut", "hamming", "is_dataset", "open_dataset", "write_clip", "clips", "find",
           "add_files", "synth", "record", "check_label", "check_kinds"]
