"""Emotion model: Russell quadrants (happy/tense/sad/calm) from the live descriptor statistics.

Data: the 4Q clips (Panda et al. 2018). Features: the GTZAN recipe (:func:`recipe_librosa`) over
each whole ~30-s clip — what the live rolling window sees — plus its 10-s windows every 5 s as
augmentation (the live window is shorter while it fills). Validation: 5 artist-disjoint folds
(GroupKFold by artist); accuracy is clip-level on whole-clip vectors of held-out artists. The
rule-based mapping (:mod:`s2s_live.inference.emotion_rules`) is scored on the same folds.

The exported graph outputs ``probs`` (4 quadrant probabilities) and ``va`` = probs @ quadrant
centres (valence, arousal in 0.25..0.75), so V/A move smoothly with the model's confidence.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import export, mlp
from .fourq import QUADRANT_VA, QUADRANT_WORDS

DEFAULT_PARAMS = dict(hidden=(64,), dropout=0.5, weight_decay=1e-3, patience=20, max_epochs=200, batch_size=32)


def _wrap(model):
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = model
            self.register_buffer("va", torch.tensor(QUADRANT_VA))

        def forward(self, x):
            p = torch.softmax(self.body(x), dim=-1)
            return p, p @ self.va

    return Net().eval()


def cross_validate(X, clip, is_full, y, artist, p, *, folds=5, seed=0, progress=True):
    """Out-of-fold clip predictions (model and rules) with GroupKFold by artist."""
    from sklearn.model_selection import GroupKFold
    from tqdm import tqdm

    from ..inference.emotion_rules import valence_arousal
    from ..labels import quadrant_index
    from ..features.recipe import GTZAN_FEATURES

    n = len(y)
    gkf = GroupKFold(n_splits=folds)
    pred, pred_rules = np.zeros(n, np.int64), np.zeros(n, np.int64)
    accs, accs_rules = [], []
    bar = tqdm(list(gkf.split(np.zeros(n), y, artist)), desc="emotion CV", disable=not progress)
    for k, (tr, te) in enumerate(bar):
        rows = np.isin(clip, tr)
        model, _ = mlp.fit(X[rows], y[clip[rows]], 4, p, seed=seed + k, val_groups=artist[clip[rows]],
                           progress=bar, names=list(GTZAN_FEATURES))
        te_rows = np.flatnonzero(np.isin(clip, te) & is_full)
        pr = mlp.predict_proba(model, X[te_rows]).argmax(1)
        pred[clip[te_rows]] = pr
        pred_rules[clip[te_rows]] = [quadrant_index(*valence_arousal(features=x)) for x in X[te_rows]]
        accs.append(float((pr == y[clip[te_rows]]).mean()))
        accs_rules.append(float((pred_rules[clip[te_rows]] == y[clip[te_rows]]).mean()))
    return pred, pred_rules, accs, accs_rules


def train(data: str | Path, out: str | Path, *, seed: int = 0, folds: int = 5, params: mlp.MLPParams | None = None,
          progress: bool = True, name: str = "emotion", cache_dir=None, features: dict | None = None) -> dict:
    """Cross-validate (model and rules), train on all clips, export ``out`` (model.onnx + card).

    ``features`` may pass a precomputed dict like :func:`_emofeat.extract` returns (tests)."""
    import torch

    from ..features.recipe import GTZAN_FEATURES, GTZAN_RECIPE_ID, GTZAN_RECIPE_VERSION
    from ._emofeat import extract
    from .genre import confusion, plot_confusion

    torch.set_num_threads(1)
    p = params or mlp.MLPParams(**DEFAULT_PARAMS)
    d = features if features is not None else extract(data, cache_dir=cache_dir, progress=progress)
    X, clip, is_full, y, artist = d["X"], d["clip"], d["is_full"], d["y"], d["artist"]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics: dict = {}
    if folds >= 2:
        pred, pred_r, accs, accs_r = cross_validate(X, clip, is_full, y, artist, p, folds=folds, seed=seed,
                                                    progress=progress)
        cm = confusion(y, pred, 4)
        metrics = {
            "cv_accuracy": float((pred == y).mean()), "cv_fold_accuracy": accs, "cv_folds": folds,
            "rules_cv_accuracy": float((pred_r == y).mean()), "rules_cv_fold_accuracy": accs_r,
            "confusion_matrix": cm.tolist(), "rules_confusion_matrix": confusion(y, pred_r, 4).tolist(),
            "confusion_labels": list(QUADRANT_WORDS), "chance": float(np.bincount(y).max() / len(y)),
            "n_clips": int(len(y)), "n_artists": int(len(np.unique(artist))),
        }
        plot_confusion(cm, list(QUADRANT_WORDS), out / "confusion.png",
                       f"{name}: artist-disjoint {folds}-fold, accuracy {metrics['cv_accuracy']:.1%}")
    final, finfo = mlp.fit(X, y[clip], 4, p, seed=seed, val_groups=artist[clip], names=list(GTZAN_FEATURES))
    net = _wrap(final)
    export.export_onnx(net, torch.zeros(1, X.shape[1]), out, input_name="features", output_names=["probs", "va"])
    lo, hi = X.min(0), X.max(0)

    def make_input(rng):
        return (lo + (hi - lo) * rng.uniform(-0.1, 1.1, size=lo.shape))[None, :]

    card = {
        "name": name, "kind": "emotion", "version": "1",
        "input": {"name": "features", "dtype": "float32", "shape": [1, X.shape[1]], "kind": "features",
                  "recipe": GTZAN_RECIPE_ID, "recipe_version": GTZAN_RECIPE_VERSION, "names": list(GTZAN_FEATURES)},
        "outputs": [
            {"name": "probs", "dtype": "float32", "shape": [1, 4], "range": [0.0, 1.0], "labels": list(QUADRANT_WORDS),
             "osc": f"{name}/probs", "top": f"{name}/label", "top_type": "s", "changed": f"{name}/changed"},
            {"name": "va", "dtype": "float32", "shape": [1, 2], "range": [0.0, 1.0], "osc": name, "type": "ff",
             "split": [f"{name}/valence", f"{name}/arousal"]},
        ],
        "metrics": metrics,
        "training": {
            "data": str(data),
            "data_provenance": "4Q audio emotion dataset (Panda, Malheiro & Paiva 2018), 456 30-s clips, "
                               "quadrants from AllMusic moods; research use",
            "n_examples": int(len(y)), "rows_with_windows": int(X.shape[0]),
            "split": f"{folds}-fold GroupKFold by artist; clip-level accuracy on whole-clip vectors; final model on "
                     "all clips (early stopping on 10% of artists)",
            "features": "GTZAN recipe v1 over whole clips + 10-s windows every 5 s (augmentation)",
            "hyperparameters": p.as_dict(), "final_best_epoch": finfo["best_epoch"],
            "seed": seed, "command": export.command_line(),
        },
    }
    return export.finish(out, card, net, make_input)
