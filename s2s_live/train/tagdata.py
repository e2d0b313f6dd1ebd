"""Tagger outputs of the 4Q clips, for training and evaluating the heads (cached outside the repo).

For every clip: the log-mel columns of the whole clip (the live front end's kernel), 3-s patches
ending every ``step_s`` seconds, and both taggers' tags and embeddings on each patch. Patches
are the live ones: patch ``i`` covers the 3 s before ``t_i`` (zero columns before the clip's
start, as the stream before 3 s have arrived). Cached per clip as ``.npz`` in
``<cache>/4q_tags/<step>/`` (the audio itself stays in ``<cache>/4q``, never in the repository).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..dsp import mel
from . import fourq

STEP_S = 1.0  #: seconds between patches of the training data


def load_taggers(models_dir: str | Path):
    """The tagger processor over the shipped tagger models (offline: inline)."""
    from ..inference.onnx import OnnxProcessor
    from ..inference.taggers import TaggerProcessor

    msd, mtt = (OnnxProcessor(Path(models_dir) / n) for n in ("tagger-msd", "tagger-mtt"))
    return TaggerProcessor(msd, mtt, background=False)


def clip_tags(tagger, y16: np.ndarray, *, step_s: float = STEP_S, patch_s: float = 3.0) -> dict[str, np.ndarray]:
    """Tags/embeddings of patches ending every ``step_s`` s of a 16 kHz clip (first at 1 s);
    ``patch_s`` < 3 repeats each patch's newest seconds, as the live tagger does."""
    cols = mel.logmel(y=y16)
    step = step_s * mel.SR / mel.HOP_LENGTH
    ends = np.arange(step, cols.shape[0] + 1e-9, step)
    ends = np.round(ends).astype(int)
    pad = np.zeros((mel.PATCH_FRAMES, mel.N_MELS), np.float32)
    c = np.concatenate([pad, cols])
    patches = np.stack([c[e : e + mel.PATCH_FRAMES] for e in ends])  # ends shifted by the pad
    n = mel.patch_columns(patch_s)
    for p in patches:
        mel.tile_newest(p, n)
    msd, mtt, emb = tagger.batch(patches)
    return {"t": ends * mel.HOP_LENGTH / mel.SR, "msd": msd, "mtt": mtt, "emb": emb}


def dataset(root: str | Path, models_dir: str | Path, *, step_s: float = STEP_S, patch_s: float = 3.0,
            cache_dir=None, part: int = 0, nparts: int = 1, log=None) -> list[dict]:
    """Tag every clip of the 4Q set (cached); one dict per clip (index order)."""
    clips = fourq.read_index(root)
    sub = f"{step_s:g}" if patch_s == 3.0 else f"{step_s:g}_patch{patch_s:g}"
    cache = Path(cache_dir or fourq.default_cache_dir()) / "4q_tags" / sub
    cache.mkdir(parents=True, exist_ok=True)
    tagger = None
    out = []
    for i, c in enumerate(clips):
        if i % nparts != part:
            continue
        p = cache / (c.song + ".npz")
        if not p.is_file():
            if tagger is None:
                tagger = load_taggers(models_dir)
            d = clip_tags(tagger, fourq.load_clip(root, c, sr=mel.SR, cache_dir=cache_dir), step_s=step_s,
                          patch_s=patch_s)
            tmp = p.with_suffix(".tmp.npz")
            np.savez(tmp, **d)
            os.replace(tmp, p)
            if log:
                log(f"{i + 1}/{len(clips)} {c.song}")
        with np.load(p) as z:
            out.append({k: z[k] for k in z.files} | {"clip": c})
    return out


if __name__ == "__main__":  # python -m s2s_live.train.tagdata ROOT MODELS [part nparts [patch_s]]: fill the cache
    import sys

    a = sys.argv[1:]
    dataset(a[0], a[1], part=int(a[2]) if len(a) > 2 else 0, nparts=int(a[3]) if len(a) > 3 else 1,
            patch_s=float(a[4]) if len(a) > 4 else 3.0, log=print)
