"""Input files of offline analysis: discovery, decoding, warnings, fingerprints, JSON writing.

* :func:`find_audio` expands files and folders into ``(file, root)`` pairs, :func:`output_name`
  names a file's results folder; :func:`load_audio` decodes with soundfile into float32
  ``(frames, channels)`` at the file's rate (Hz); :func:`audio_warnings` says what is wrong with
  a file that still decoded (cut short, shorter than one 1-s frame).
* :func:`file_fingerprint` (``size:mtime_ns``) and :func:`models_fingerprint` (sha256 of the
  processors' declarations, settings and version) decide whether a file is already analysed.
* ``_atomic_json``: numpy values to plain JSON (:func:`s2s_live.jsonvalues.jsonable`: non-finite floats -> null),
  written through a temporary file so a crash never leaves half a JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .. import __version__
from ..config import Config
from ..errors import AudioFileError
from ..jsonvalues import jsonable
from ..processor import Processor

AUDIO_EXTS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".au", ".oga", ".opus")
SCHEMA_VERSION = 1  #: bump when the layout of the per-file outputs changes (forces re-analysis)


def find_audio(paths: Iterable[str | os.PathLike]) -> list[tuple[Path, Path]]:
    """Expand files and folders (recursively) into ``(file, root)`` pairs, sorted, deduplicated.

    ``root`` is the folder the file was found under (its parent for a file given directly); it
    names the output folder. A path that does not exist raises :class:`AudioFileError`; files
    given explicitly are kept whatever their extension (unreadable ones fail later, per file).
    """
    out: list[tuple[Path, Path]] = []
    seen: set[Path] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTS)
            pairs = [(f, p) for f in found]
        elif p.is_file():
            pairs = [(p, p.parent)]
        else:
            raise AudioFileError(f"path {str(p)!r} does not exist (expected audio files or folders)")
        for f, root in pairs:
            r = f.resolve()
            if r not in seen:
                seen.add(r)
                out.append((f, root))
    return out


def output_name(path: Path, root: Path) -> str:
    """Folder name of a file's outputs: its path below ``root`` with ``/`` -> ``__``.

    The extension is kept (``a.wav`` and ``a.mp3`` do not collide): ``Q1/song.mp3`` -> ``Q1__song.mp3``.
    """
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        rel = Path(path.name)
    return "__".join(rel.parts).replace(" ", "_")


def load_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Decode a file with soundfile: ``(y, sr)`` with y float32 (frames, channels), sr in Hz.

    Raises AudioFileError naming the file when it cannot be decoded or holds no audio.
    """
    import soundfile as sf

    try:
        y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # noqa: BLE001 - libsndfile raises several types (LibsndfileError, RuntimeError...)
        raise AudioFileError(f"{str(path)!r} is not a readable audio file (wav/flac/ogg/mp3): {exc}") from None
    if y.shape[0] == 0:
        raise AudioFileError(f"{str(path)!r} contains no audio frames")
    return np.ascontiguousarray(y), int(sr)


_SAMPLE_BYTES = {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}


def _declared_frames(path: str | os.PathLike, info) -> int:
    """Frames the file's header promises. libsndfile trims a WAV's frame count to the bytes
    present (a cut file or a lying header reads as complete), so for RIFF/WAV the ``data``
    chunk's declared size is read directly; other formats report their header's count."""
    if info.format == "WAV" and info.subtype in _SAMPLE_BYTES:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        i = head.find(b"data", 12)
        if i >= 0 and i + 8 <= len(head):
            n = int.from_bytes(head[i + 4 : i + 8], "little")
            if n != 0xFFFFFFFF:  # "unknown" (streamed writers)
                return n // (_SAMPLE_BYTES[info.subtype] * max(1, info.channels))
    return int(info.frames)


def audio_warnings(path: str | os.PathLike, y: np.ndarray, sr: int) -> list[str]:
    """One line per thing wrong with a file that still decoded: cut short, or shorter than a frame."""
    import soundfile as sf

    out = []
    got = y.shape[0]
    try:
        want = _declared_frames(path, sf.info(str(path)))
    except (OSError, RuntimeError, ValueError):
        want = got
    if want > got * 1.01 + sr * 0.05:  # MP3 headers are estimates: allow 1% + 50 ms
        out.append(f"{str(path)!r} is truncated: its header promises {want / sr:.1f} s, only {got / sr:.2f} s "
                   "could be decoded; the analysis covers what is there")
    if got < sr:
        out.append(f"{str(path)!r} is {got / sr:.3f} s long, shorter than one analysis frame (1 s): "
                   "the frame is padded with silence")
    return out


def file_fingerprint(path: str | os.PathLike) -> str:
    """``size:mtime_ns`` of a file: changes when the file is rewritten."""
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}"


def models_fingerprint(processors: Sequence[Processor], cfg: Config) -> str:
    """sha256 over what decides the analysis values: every processor's declaration (which for
    ONNX models includes the model card's sha256), the analysis settings and the package version.
    Two runs with the same fingerprint produce the same values for the same file."""
    desc = []
    for p in processors:
        try:
            desc.append(p.describe())
        except Exception as exc:  # noqa: BLE001 - a processor without describe(): use its name
            desc.append({"name": getattr(p, "name", type(p).__name__), "describe_error": str(exc)})
        card = getattr(p, "card", None) or getattr(getattr(p, "inner", None), "card", None)
        if isinstance(card, dict) and "sha256" in card:
            desc.append({"card_sha256": card["sha256"]})
    blob = {
        "schema": SCHEMA_VERSION, "version": __version__, "processors": desc,
        "settings": {k: getattr(cfg, k, None) for k in ("hop", "window", "smoothing", "models")},
    }
    return hashlib.sha256(json.dumps(jsonable(blob), sort_keys=True, default=str).encode()).hexdigest()



def _atomic_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(jsonable(obj), indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
