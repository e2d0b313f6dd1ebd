"""Evaluation on real music (the 4Q clips), old and new models side by side, artist-disjoint.

(a) Six-class genre accuracy on the single-genre clips, (b) quadrant accuracy, (c) reaction
time after a switch between two clips. Every figure for the new heads comes from models that
never saw the clip's artist (5-fold GroupKFold by artist). The old GTZAN-statistics genre model
never saw any 4Q clip; the old emotion model is re-trained per fold by its own CV code
(:func:`s2s_live.train.emotion.cross_validate`, the same folds); the rules need no training.

Reaction (c): pairs of clips of the same held-out fold whose six-class genre and quadrant both
differ are concatenated (all of A, then all of B) and run through the real pipeline
(:func:`s2s_live.pipeline.build_processors`, hop 0.25 s, the shipped smoothing and hysteresis)
with that fold's heads. For each label the engine's settled answer for B is the most frequent
stable label over B's last 10 s; the reaction is the first time after the switch at which the
stable label equals it (pairs where the label did not need to change are counted apart).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from . import fourq, heads, tagdata

SETTLE_S = 10.0  #: the settled label of B: mode over its last SETTLE_S seconds


def _label(v):
    return v[0] if isinstance(v, tuple) else v


def reaction(rows: list[dict], switch: float, end: float, key: str, mapping: dict | None = None) -> dict:
    """Reaction of the stable label ``key`` (s after ``switch``) in pipeline rows; ``mapping``
    maps labels first (e.g. to the six-class check's classes)."""
    m = (lambda x: mapping.get(x, "none")) if mapping else (lambda x: x)  # noqa: E731
    lab = [(r["time"], m(_label(r.get(key)))) for r in rows if r.get(key) is not None]
    tail = [l for t, l in lab if t >= end - SETTLE_S]
    if not tail:
        return {"settled": None, "reaction_s": None, "changed": False}
    settled = Counter(tail).most_common(1)[0][0]
    before = [l for t, l in lab if t < switch]
    at_switch = before[-1] if before else None
    first = next((t for t, l in lab if t >= switch and l == settled), None)
    return {"settled": settled, "at_switch": at_switch, "changed": at_switch != settled,
            "reaction_s": None if first is None else round(first - switch, 3)}


def pairs(clips: list[dict], fold: np.ndarray, *, per_fold: int, seed: int) -> list[tuple[int, int]]:
    """Clip index pairs (A, B) in the same fold with different six-class genre and quadrant."""
    rng = np.random.default_rng(seed)
    out = []
    for k in sorted(set(fold.tolist())):
        idx = [i for i in range(len(clips)) if fold[i] == k and heads.six_class(clips[i]["clip"])]
        cand = [(a, b) for a in idx for b in idx if a != b
                and heads.six_class(clips[a]["clip"]) != heads.six_class(clips[b]["clip"])
                and clips[a]["clip"].quadrant != clips[b]["clip"].quadrant
                and clips[a]["clip"].artist != clips[b]["clip"].artist]
        for j in rng.permutation(len(cand))[:per_fold]:
            out.append(cand[j])
    return out


def _models_dir(src: Path, tmp: Path) -> Path:
    """A models folder with the shipped taggers and the old models (no encoder: not needed here);
    the fold heads are exported into it as ``genre`` and ``emotion``."""
    d = tmp / "models"
    d.mkdir(parents=True, exist_ok=True)
    for name in ("tagger-msd", "tagger-mtt", "genre-gtzan", "emotion-stats"):
        if not (d / name).exists():
            shutil.copytree(src / name, d / name)
    return d


def run_pair(root, clips, a: int, b: int, cfg, cache_dir=None) -> dict:
    from ..pipeline import analyze_array, build_processors

    ya = fourq.load_clip(root, clips[a]["clip"], sr=22050, cache_dir=cache_dir)
    yb = fourq.load_clip(root, clips[b]["clip"], sr=22050, cache_dir=cache_dir)
    y = np.concatenate([ya, yb])
    rows = analyze_array(y, 22050, build_processors(cfg), hop=cfg.hop)
    switch, end = ya.size / 22050, y.size / 22050
    out = {k: reaction(rows, switch, end, k) for k in ("genre", "emotion/label")}
    out["genre_six"] = reaction(rows, switch, end, "genre", heads.SIX_CLASS)
    return out


def old_genre_six(root, clips, models_dir, cache_dir=None, log=print) -> dict:
    """The old GTZAN-statistics genre model through the real pipeline on the six-class clips."""
    from ..config import Config
    from ..pipeline import analyze_array, build_processors

    labels = json.loads((Path(models_dir) / "genre-gtzan" / "card.json").read_text())["outputs"][0]["labels"]
    t, p = [], []
    with tempfile.TemporaryDirectory() as tmp:  # a models folder with only the old genre model
        shutil.copytree(Path(models_dir) / "genre-gtzan", Path(tmp) / "genre-gtzan")
        cfg = Config(models_dir=tmp, models={"genre": "genre-gtzan"})
        procs = build_processors(cfg)
    for c in clips:
        s = heads.six_class(c["clip"])
        if s is None:
            continue
        rows = analyze_array(fourq.load_clip(root, c["clip"], sr=22050, cache_dir=cache_dir), 22050, procs, hop=0.25)
        probs = np.mean([r["genre/probs"] for r in rows if "genre/probs" in r], axis=0)
        t.append(s)
        p.append(heads.six_of(probs, labels))
    t, p = np.array(t), np.array(p)
    log(f"old genre (GTZAN statistics): six-class {np.mean(t == p):.3f} on {len(t)} clips")
    return {"genre_six_accuracy": float(np.mean(t == p)), "genre_six_n": int(len(t)),
            "genre_six_confusion": heads.confusion(t, p, heads.SIX),
            "majority_class": float(Counter(t.tolist()).most_common(1)[0][1] / len(t))}


def old_emotion_cv(root, cache_dir=None) -> dict:
    """The old emotion model (GTZAN statistics MLP) and the rules, re-trained per fold by their CV."""
    from . import emotion, mlp
    from ._emofeat import extract

    d = extract(root, cache_dir=cache_dir, progress=False)
    p = mlp.MLPParams(**emotion.DEFAULT_PARAMS)
    pred, pred_r, _, _ = emotion.cross_validate(d["X"], d["clip"], d["is_full"], d["y"], d["artist"], p,
                                                folds=5, seed=0, progress=False)
    return {"model_quadrant_accuracy": float((pred == d["y"]).mean()),
            "rules_quadrant_accuracy": float((pred_r == d["y"]).mean()), "n": int(len(d["y"]))}


def evaluate(root, *, models_dir, genre_context: float, emotion_context: float, C: float, n_pairs: int = 24,
             seed: int = 0, patch_s: float = 3.0, cache_dir=None, old: bool = True, log=print) -> dict:

    models_dir = Path(models_dir)
    clips = tagdata.dataset(root, models_dir, patch_s=patch_s, cache_dir=cache_dir)
    split = heads._split_indices(*heads._tagger_labels(models_dir))
    res: dict = {"new": {}, "old": {}, "patch_s": patch_s}
    for ctx in sorted(set(heads.CONTEXTS) | {genre_context, emotion_context}):
        r = heads.cross_validate(clips, context_s=ctx, C=C, seed=seed, split=split)
        res["new"][f"context_{ctx:g}"] = r
        log(f"new heads, context {ctx:g} s: six-class genre {r['genre_six_accuracy']:.3f}, "
            f"quadrant {r['quadrant_accuracy']:.3f}")
    if old:
        res["old"]["genre"] = old_genre_six(root, clips, models_dir, cache_dir, log)
        res["old"]["emotion"] = e = old_emotion_cv(root, cache_dir)
        log(f"old emotion model {e['model_quadrant_accuracy']:.3f}, rules {e['rules_quadrant_accuracy']:.3f}")
    res["reaction"] = reaction_eval(root, clips, models_dir=models_dir, genre_context=genre_context,
                                    emotion_context=emotion_context, C=C, n_pairs=n_pairs, seed=seed,
                                    cache_dir=cache_dir, old=old, log=log, settings={"tagger_patch": patch_s})
    return res


def reaction_eval(root, clips, *, models_dir, genre_context, emotion_context, C, n_pairs=24, seed=0,
                  cache_dir=None, old=True, settings=None, log=print) -> dict:
    """(c): reaction times over clip pairs with each fold's heads (and the old models)."""
    from ..config import Config

    models_dir = Path(models_dir)
    split = heads._split_indices(*heads._tagger_labels(models_dir))
    fold = heads.artist_folds(clips)
    per = max(1, int(np.ceil(n_pairs / 5)))
    prs = pairs(clips, fold, per_fold=per, seed=seed)
    react: dict = {"new": [], "old": []}
    settings = dict(settings or {})
    with tempfile.TemporaryDirectory() as tmp:
        mdir = _models_dir(models_dir, Path(tmp))
        names = heads.input_names(*heads._tagger_labels(models_dir))
        for k, te, gm, em in heads.fold_models(clips, genre_context=genre_context, emotion_context=emotion_context,
                                                 C=C, seed=seed, split=split):
            fold_pairs = [(a, b) for a, b in prs if fold[a] == k]
            if not fold_pairs:
                continue
            for kind, fitted, ctx in (("genre", gm, genre_context), ("emotion", em, emotion_context)):
                if (mdir / kind).exists():
                    shutil.rmtree(mdir / kind)
                heads.export(fitted, kind, mdir / kind, names=names, context_s=ctx, metrics={}, training={"fold": k},
                             patch_s=settings.get("tagger_patch", 3.0))
            cfg_new = Config(models_dir=str(mdir), models={"genre": "genre", "emotion": "emotion"}, **settings)
            cfg_old = Config(models_dir=str(mdir), models={"genre": "genre-gtzan", "emotion": "emotion-stats"},
                             **(settings | {"tagger_patch": 3.0}))
            for a, b in fold_pairs:
                r = run_pair(root, clips, a, b, cfg_new, cache_dir)
                react["new"].append({"a": clips[a]["clip"].song, "b": clips[b]["clip"].song, **r})
                if old:
                    react["old"].append({"a": clips[a]["clip"].song, "b": clips[b]["clip"].song,
                                         **run_pair(root, clips, a, b, cfg_old, cache_dir)})
                log(f"pair {len(react['new'])}/{len(prs)}: new {r['genre']['reaction_s']} s / "
                    f"{r['emotion/label']['reaction_s']} s")
    out: dict = {"pairs": len(prs), "settle_s": SETTLE_S, "settings": settings}
    for which, rows in react.items():
        if not rows:
            continue
        summ = {}
        for key in ("genre", "genre_six", "emotion/label"):
            ch = [r[key]["reaction_s"] for r in rows if r[key]["changed"] and r[key]["reaction_s"] is not None]
            summ[key] = {"median_s": float(np.median(ch)) if ch else None, "n_changed": len(ch),
                         "p75_s": float(np.percentile(ch, 75)) if ch else None,
                         "n_unchanged": sum(1 for r in rows if not r[key]["changed"])}
        out[which] = summ
        out[which + "_pairs"] = rows
        log(f"reaction {which}: genre median {summ['genre']['median_s']} s ({summ['genre']['n_changed']} pairs), "
            f"six-class genre {summ['genre_six']['median_s']} s ({summ['genre_six']['n_changed']} pairs), "
            f"emotion median {summ['emotion/label']['median_s']} s ({summ['emotion/label']['n_changed']} pairs)")
    return out


def _main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="scripts/eval_real.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the 4q_train folder (index.csv + Q1..Q4)")
    ap.add_argument("--models", default=None, help="models folder with tagger-msd, tagger-mtt, genre-gtzan, "
                                                   "emotion-stats (default: the shipped models)")
    ap.add_argument("--genre-context", type=float, default=None, help="seconds (default: the shipped genre card's)")
    ap.add_argument("--emotion-context", type=float, default=None, help="seconds (default: the shipped card's)")
    ap.add_argument("--C", type=float, default=None, help="logistic regularisation (default: the shipped card's)")
    ap.add_argument("--patch", type=float, default=None,
                    help="tagger patch seconds, 1..3 (default: the shipped genre card's tagger_patch_s)")
    ap.add_argument("--pairs", type=int, default=24, help="clip pairs for the reaction time (>= 20)")
    ap.add_argument("--no-old", action="store_true", help="skip the old models (faster)")
    ap.add_argument("--cache", default=None, help="decode/tag cache (default ~/.cache/s2s_live)")
    ap.add_argument("--json", default=None, help="write all results here")
    a = ap.parse_args(argv)
    from ..config import DEFAULT_MODELS_DIR

    models = Path(a.models or DEFAULT_MODELS_DIR)

    def card(name):
        p = models / name / "card.json"
        return json.loads(p.read_text()) if p.is_file() else {}

    g, e = card("genre"), card("emotion")
    gc = a.genre_context or g.get("input", {}).get("context_s", 3.0)
    ec = a.emotion_context or e.get("input", {}).get("context_s", 6.0)
    C = a.C or g.get("training", {}).get("hyperparameters", {}).get("C", heads.DEFAULT_C)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    patch = a.patch or g.get("input", {}).get("tagger_patch_s", 3.0)
    res = evaluate(a.data, models_dir=models, genre_context=gc, emotion_context=ec, C=C, n_pairs=a.pairs,
                   patch_s=patch, cache_dir=a.cache, old=not a.no_old)
    res["settings"] = {"genre_context": gc, "emotion_context": ec, "C": C, "tagger_patch": patch}
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1, default=str))
    return 0
