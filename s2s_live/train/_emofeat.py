"""Feature extraction for the emotion model: GTZAN recipe over 4Q clips and windows (cached)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .fourq import default_cache_dir, load_clip, read_index

WINDOW_S = 10.0  #: augmentation windows (s): the live rolling window is shorter while warming up
WINDOW_HOP_S = 5.0


def clip_vectors(y: np.ndarray, sr: int = 22050) -> np.ndarray:
    """Recipe vectors of the whole clip (row 0) and of its 10-s windows every 5 s (rows 1..)."""
    from ..features.recipe import recipe_librosa

    rows = [recipe_librosa(y, sr)]
    w, h = int(WINDOW_S * sr), int(WINDOW_HOP_S * sr)
    for s in range(0, max(1, y.shape[0] - w + 1), h):
        rows.append(recipe_librosa(y[s : s + w], sr))
    return np.stack(rows)


def _work(args):
    root, i, clip, cache_dir = args
    y = load_clip(root, clip, sr=22050, cache_dir=cache_dir)
    return i, clip_vectors(y)


def extract(root: str | Path, *, cache_dir: str | Path | None = None, jobs: int = 2,
            progress: bool = True) -> dict:
    """Feature matrix of the 4Q clips, cached as ``<cache>/4q_recipe_v<N>.npz``.

    Returns dict with ``X`` (n_rows, 55), ``clip`` (row -> clip index), ``is_full`` (row is the
    whole clip), ``y`` (quadrant 0..3 per clip), ``artist`` (per clip), ``song`` (per clip).
    """
    from ..features.recipe import GTZAN_RECIPE_VERSION

    cache = Path(cache_dir or default_cache_dir())
    path = cache / f"4q_recipe_v{GTZAN_RECIPE_VERSION}.npz"
    clips = read_index(root)
    if path.is_file():
        d = dict(np.load(path, allow_pickle=False))
        if list(d["song"]) == [c.song for c in clips]:
            return d
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    results: dict[int, np.ndarray] = {}
    tasks = [(str(root), i, c, cache_dir) for i, c in enumerate(clips)]
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as ex:
        for i, v in tqdm(ex.map(_work, tasks, chunksize=4), total=len(tasks), disable=not progress,
                         desc="4Q features"):
            results[i] = v
    X, clip_idx, full = [], [], []
    for i in range(len(clips)):
        v = results[i]
        X.append(v)
        clip_idx += [i] * v.shape[0]
        full += [True] + [False] * (v.shape[0] - 1)
    d = {
        "X": np.concatenate(X).astype(np.float64),
        "clip": np.asarray(clip_idx, dtype=np.int64),
        "is_full": np.asarray(full, dtype=bool),
        "y": np.asarray([c.quadrant for c in clips], dtype=np.int64),
        "artist": np.asarray([c.artist for c in clips]),
        "song": np.asarray([c.song for c in clips]),
    }
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **d)
    return d


if __name__ == "__main__":
    import sys

    d = extract(sys.argv[1])
    print(d["X"].shape)
