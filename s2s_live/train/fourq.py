"""The 4Q audio emotion dataset (Panda et al. 2018): index, decoding and a cache.

Decoding 456 MP3 clips and resampling them is the slow part of every experiment, so the mono
clips are cached once per rate as int16 ``.npy`` files in a cache folder outside the repository
(default ``~/.cache/s2s_live/4q``). The audio never enters the repository.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..labels import QUADRANTS as _WORDS

QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
#: Russell quadrant words, in QUADRANTS order (Q1 +v+a, Q2 -v+a, Q3 -v-a, Q4 +v-a).
QUADRANT_WORDS = _WORDS
#: Valence/arousal (0..1) at the centre of each quadrant, for turning probabilities into V/A.
QUADRANT_VA = np.array([[0.75, 0.75], [0.25, 0.75], [0.25, 0.25], [0.75, 0.25]], dtype=np.float32)


def default_cache_dir() -> Path:
    return Path(os.environ.get("S2S_CACHE", Path.home() / ".cache" / "s2s_live"))


@dataclass(frozen=True)
class Clip:
    file: str  #: path relative to the dataset root
    song: str
    quadrant: int  #: 0..3 (Q1..Q4)
    artist: str
    genres: str


def read_index(root: str | Path) -> list[Clip]:
    """Rows of ``index.csv`` under ``root`` (raises FileNotFoundError naming the path)."""
    root = Path(root)
    p = root / "index.csv"
    if not p.is_file():
        raise FileNotFoundError(f"4Q index not found: {p} (expected the 4q_train folder)")
    out = []
    with p.open(newline="") as fh:
        for row in csv.DictReader(fh):
            out.append(Clip(row["file"], row["song"], QUADRANTS.index(row["quadrant"]),
                            row["artist"].strip().lower(), row.get("genres", "")))
    return out


def load_clip(root: str | Path, clip: Clip, *, sr: int, cache_dir: str | Path | None = None) -> np.ndarray:
    """Mono float32 audio of one clip at ``sr`` Hz (soxr VHQ resampling), cached as int16."""
    import soundfile as sf
    import soxr

    cache = Path(cache_dir or default_cache_dir()) / "4q" / str(sr)
    cp = cache / (clip.song + ".npy")
    if cp.is_file():
        return np.load(cp).astype(np.float32) / 32767.0
    y, sr0 = sf.read(str(Path(root) / clip.file), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr0 != sr:
        y = soxr.resample(y, sr0, sr, quality="VHQ").astype(np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cp.with_suffix(".tmp.npy")
    np.save(tmp, np.round(np.clip(y, -1, 1) * 32767).astype(np.int16))
    os.replace(tmp, cp)
    return y.astype(np.float32)


def _main() -> None:  # python -m s2s_live.train.fourq ROOT [part nparts]: warm the cache
    import sys

    root = sys.argv[1]
    part, nparts = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (0, 1)
    clips = read_index(root)
    for i, c in enumerate(clips):
        if i % nparts == part:
            for sr in (22050, 16000):
                load_clip(root, c, sr=sr)


if __name__ == "__main__":
    _main()
