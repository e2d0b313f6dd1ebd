"""Genre model: Sound to Something's dense network on GTZAN descriptor statistics.

Data: a GTZAN-style CSV (``features_30_sec.csv``: one row per track, a ``label`` column and the
columns of :data:`s2s_live.features.recipe.GTZAN_FEATURES`), or a folder of audio in genre sub-folders
(``DIR/<genre>/*.wav|mp3|au|flac``) from which the same recipe is computed with librosa.
Validation: 5-fold stratified cross-validation split by track (one row = one track); out-of-fold
predictions give the accuracy and the confusion matrix. The shipped model is then trained on all
tracks (early stopping on a 10% validation split of tracks).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from . import export, mlp

AUDIO_EXT = (".wav", ".mp3", ".au", ".flac", ".ogg", ".aiff", ".aif")


def load_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """(X, y, labels, track ids) from a GTZAN-style CSV with the recipe's columns."""
    from ..features.recipe import GTZAN_FEATURES

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"genre CSV not found: {path}")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"genre CSV {path} has no rows")
    missing = [c for c in GTZAN_FEATURES + ["label"] if c not in rows[0]]
    if missing:
        raise ValueError(f"genre CSV {path} lacks columns {missing[:5]} (expected the GTZAN recipe columns)")
    labels = sorted({r["label"] for r in rows})
    X = np.array([[float(r[c]) for c in GTZAN_FEATURES] for r in rows], dtype=np.float64)
    y = np.array([labels.index(r["label"]) for r in rows], dtype=np.int64)
    ids = [r.get("filename", str(i)) for i, r in enumerate(rows)]
    return X, y, labels, ids


def features_from_folder(root: str | Path, *, jobs: int = 1, progress: bool = True):
    """(X, y, labels, ids) from ``root/<genre>/<audio files>`` with the live recipe (librosa)."""
    import soundfile as sf
    import soxr
    from tqdm import tqdm

    from ..features.recipe import SR, recipe_librosa

    root = Path(root)
    labels = sorted(p.name for p in root.iterdir() if p.is_dir())
    files = [(f, labels.index(d.name)) for d in sorted(root.iterdir()) if d.is_dir()
             for f in sorted(d.iterdir()) if f.suffix.lower() in AUDIO_EXT]
    if len(labels) < 2 or not files:
        raise ValueError(f"{root} must hold at least two genre folders with audio files ({AUDIO_EXT})")
    X, y = [], []
    for f, lab in tqdm(files, desc="recipe", disable=not progress):
        a, sr = sf.read(str(f), dtype="float32", always_2d=True)
        a = a.mean(axis=1)
        if sr != SR:
            a = soxr.resample(a, sr, SR, quality="VHQ")
        X.append(recipe_librosa(a[: 30 * SR], SR))
        y.append(lab)
    return np.array(X), np.array(y), labels, [str(f) for f, _ in files]


class GenreNet:
    """Export wrapper: raw features -> softmax probabilities (named output ``probs``)."""

    @staticmethod
    def wrap(model):
        import torch

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.body = model

            def forward(self, x):
                return torch.softmax(self.body(x), dim=-1)

        return Net().eval()


def cross_validate(X, y, labels, p: mlp.MLPParams, *, folds: int = 5, seed: int = 0, progress: bool = True,
                   names: list[str] | None = None):
    """Out-of-fold predictions with stratified K folds by track; returns (pred, fold_acc, info)."""
    from sklearn.model_selection import StratifiedKFold
    from tqdm import tqdm

    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    pred = np.zeros(len(y), dtype=np.int64)
    accs, epochs = [], []
    bar = tqdm(list(skf.split(X, y)), desc="genre CV", disable=not progress)
    for k, (tr, te) in enumerate(bar):
        model, info = mlp.fit(X[tr], y[tr], len(labels), p, seed=seed + k, progress=bar, names=names)
        pred[te] = mlp.predict_proba(model, X[te]).argmax(1)
        accs.append(float((pred[te] == y[te]).mean()))
        epochs.append(info["best_epoch"])
    return pred, accs, {"best_epochs": epochs}


def confusion(y, pred, n):
    cm = np.zeros((n, n), dtype=np.int64)
    for a, b in zip(y, pred):
        cm[a, b] += 1
    return cm


def plot_confusion(cm, labels, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 6), dpi=100)
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def train(data: str | Path, out: str | Path, *, seed: int = 0, folds: int = 5, params: mlp.MLPParams | None = None,
          progress: bool = True, name: str = "genre") -> dict:
    """Cross-validate, train on everything, export ``out/model.onnx`` + ``card.json``; return the card.

    ``data`` is a GTZAN-style CSV or a folder of genre sub-folders with audio.
    """
    import torch

    from ..features.recipe import GTZAN_FEATURES, GTZAN_RECIPE_ID, GTZAN_RECIPE_VERSION

    torch.set_num_threads(1)
    p = params or mlp.MLPParams()
    data = Path(data)
    X, y, labels, ids = load_csv(data) if data.is_file() else features_from_folder(data, progress=progress)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics: dict = {}
    if folds >= 2:
        pred, accs, info = cross_validate(X, y, labels, p, folds=folds, seed=seed, progress=progress,
                                          names=list(GTZAN_FEATURES))
        cm = confusion(y, pred, len(labels))
        acc = float((pred == y).mean())
        metrics = {
            "cv_accuracy": acc, "cv_fold_accuracy": accs, "cv_accuracy_std": float(np.std(accs)),
            "cv_folds": folds, "confusion_matrix": cm.tolist(), "confusion_labels": labels,
            "chance": 1.0 / len(labels),
        }
        plot_confusion(cm, labels, out / "confusion.png",
                       f"{name}: {folds}-fold CV by track, accuracy {acc:.1%}")
    final, finfo = mlp.fit(X, y, len(labels), p, seed=seed, progress=None, names=list(GTZAN_FEATURES))
    net = GenreNet.wrap(final)
    export.export_onnx(net, torch.zeros(1, X.shape[1]), out, input_name="features", output_names=["probs"])
    lo, hi = X.min(0), X.max(0)

    def make_input(rng):  # random inputs spanning the training range (and a little beyond)
        return (lo + (hi - lo) * rng.uniform(-0.1, 1.1, size=lo.shape))[None, :]

    card = {
        "name": name, "kind": "genre", "version": "1",
        "input": {"name": "features", "dtype": "float32", "shape": [1, len(GTZAN_FEATURES)], "kind": "features",
                  "recipe": GTZAN_RECIPE_ID, "recipe_version": GTZAN_RECIPE_VERSION, "names": list(GTZAN_FEATURES)},
        "outputs": [{"name": "probs", "dtype": "float32", "shape": [1, len(labels)], "range": [0.0, 1.0],
                     "labels": labels, "osc": f"{name}/probs", "top": name, "top_type": "sf",
                     "id": f"{name}/id", "changed": f"{name}/changed"}],
        "metrics": metrics,
        "training": {
            "data": str(data) if data.is_file() else f"audio folder {data}",
            "data_provenance": "GTZAN (Tzanetakis & Cook 2002), features_30_sec.csv: librosa statistics of "
                               "1000 30-s tracks, 100 per genre" if data.is_file() else "user audio folder",
            "n_examples": int(len(y)),
            "split": f"{folds}-fold stratified CV by track (one CSV row = one track); final model on all "
                     "tracks with early stopping on a 10% validation split",
            "hyperparameters": p.as_dict(), "final_best_epoch": finfo["best_epoch"],
            "seed": seed, "command": export.command_line(),
        },
    }
    return export.finish(out, card, net, make_input)
