"""Genre and emotion heads on the taggers' outputs, trained on the 4Q clips (artist-disjoint CV).

Input of both heads: the mean, over a rolling context of ``context_s`` seconds, of the taggers'
outputs for each patch: MSD tags (50), MTT tags (50), MSD and MTT penultimate embeddings (400)
= 500 values (``tags/msd``, ``tags/mtt``, ``tags/embedding`` in the engine). A multinomial
logistic regression on standardised inputs (scikit-learn), exported to ONNX through a small
torch module (standardisation folded in).

Genre: the 4Q clips carry AllMusic genres; each clip contributes one training example per
mapped genre (weight 1/count). AllMusic's "Pop/Rock" is one class; the head splits it into
pop, rock and metal in proportion to the taggers' own pop / rock / metal words (zero-shot).
GTZAN's "disco" is absent: neither tagger vocabulary nor the 4Q labels name it.

Emotion: the four Russell quadrants of the 4Q labels; valence = P(happy) + P(calm), arousal =
P(happy) + P(tense).

Evaluation (:func:`evaluate`) uses 5-fold GroupKFold by artist. Genre: the six-class check of
the data README (clips whose AllMusic genres are exactly one of Blues, Country, Jazz, Pop/Rock,
Rap, Reggae; model labels mapped by :data:`SIX_CLASS`), the prediction of a clip being the
argmax of its mean probabilities over the clip (as ``analyze`` writes ``genre.mean_probs``).
"""

from __future__ import annotations

import numpy as np

from ..inference.taggers import TAGS_RECIPE_ID, TAGS_RECIPE_VERSION
from . import fourq

#: AllMusic genre -> coarse head class.
ALLMUSIC = {
    "Pop/Rock": "pop/rock", "Jazz": "jazz", "Electronic": "electronic", "R&B": "soul", "Country": "country",
    "Blues": "blues", "New Age": "ambient", "Latin": "latin", "Rap": "hiphop", "Folk": "folk",
    "Reggae": "reggae", "Classical": "classical",
}
COARSE = ("blues", "classical", "country", "electronic", "folk", "hiphop", "jazz", "latin", "ambient",
          "pop/rock", "reggae", "soul")
#: The shipped labels: COARSE with pop/rock split into pop, rock, metal.
LABELS = ("blues", "classical", "country", "electronic", "folk", "hiphop", "jazz", "latin", "ambient",
          "pop", "rock", "metal", "reggae", "soul")
#: Tagger words that split pop/rock: label -> (MSD tags, MTT tags).
SPLIT_TAGS = {
    "pop": (("pop", "indie pop"), ("pop",)),
    "rock": (("rock", "alternative rock", "classic rock", "indie rock", "hard rock", "punk", "Progressive rock",
              "alternative", "indie"), ("rock",)),
    "metal": (("metal", "heavy metal"), ("metal",)),
}
#: Model label -> six-class check class (labels absent here map to none of the six).
SIX = ("Blues", "Country", "Jazz", "Pop/Rock", "Rap", "Reggae")
SIX_CLASS = {"blues": "Blues", "country": "Country", "jazz": "Jazz", "pop": "Pop/Rock", "rock": "Pop/Rock",
             "metal": "Pop/Rock", "hiphop": "Rap", "reggae": "Reggae",
             # GTZAN labels (the old model); classical, electronic, folk, latin, ambient, soul map to none
             "disco": "Pop/Rock"}
N_IN = 500
DEFAULT_C = 0.01  #: inverse L2 strength of the logistic heads
CONTEXTS = (3.0, 6.0, 10.0)
TRAIN_STRIDE = 3  #: every 3rd rolling window of a clip trains (neighbours overlap; 3x faster fits)


def features(clip: dict) -> np.ndarray:
    """Per-patch head inputs of one clip (n_patches, 500): msd tags, mtt tags, embeddings."""
    return np.concatenate([clip["msd"], clip["mtt"], clip["emb"]], axis=1).astype(np.float64)


def windows(x: np.ndarray, t: np.ndarray, context_s: float) -> np.ndarray:
    """Rolling means of per-patch rows over the patches ending in (t - context_s, t]."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        m = (t > t[i] - context_s + 1e-9) & (t <= t[i] + 1e-9)
        out[i] = x[m].mean(axis=0)
    return out


def genre_targets(clip: fourq.Clip) -> list[str]:
    g = [ALLMUSIC[s.strip()] for s in clip.genres.split(";") if s.strip() in ALLMUSIC]
    return list(dict.fromkeys(g))


def six_class(clip: fourq.Clip) -> str | None:
    g = [s.strip() for s in clip.genres.split(";") if s.strip()]
    return g[0] if len(g) == 1 and g[0] in SIX else None


def _split_indices(msd_labels, mtt_labels) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    lm, lt = [w.lower() for w in msd_labels], [w.lower() for w in mtt_labels]
    return {k: (np.array([lm.index(w.lower()) for w in a], np.int64), np.array([50 + lt.index(w.lower()) for w in b], np.int64))
            for k, (a, b) in SPLIT_TAGS.items()}


def split_ratios(X: np.ndarray, idx) -> np.ndarray:
    """(n, 3) shares of pop, rock, metal from the tag part of head inputs (numpy twin of the ONNX graph)."""
    r = np.stack([X[:, np.concatenate(idx[k])].max(axis=1) for k in ("pop", "rock", "metal")], axis=1)
    return r / np.maximum(r.sum(axis=1, keepdims=True), 1e-6)


def expand_genre(p_coarse: np.ndarray, ratios: np.ndarray) -> np.ndarray:
    """Coarse probabilities (n, 12) and pop/rock/metal shares (n, 3) -> LABELS probabilities (n, 14)."""
    out = np.zeros((p_coarse.shape[0], len(LABELS)))
    for j, lab in enumerate(COARSE):
        if lab == "pop/rock":
            for k, sub in enumerate(("pop", "rock", "metal")):
                out[:, LABELS.index(sub)] = p_coarse[:, j] * ratios[:, k]
        else:
            out[:, LABELS.index(lab)] = p_coarse[:, j]
    return out


def _fit(X, y, w, C, seed):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from threadpoolctl import threadpool_limits

    sc = StandardScaler().fit(X)
    lr = LogisticRegression(C=C, max_iter=3000, random_state=seed)
    with threadpool_limits(1):  # small problem: one BLAS thread is faster on 2 cores (measured 20 s vs 37 s)
        lr.fit(sc.transform(X), y, sample_weight=w / w.mean())
    return sc, lr


def genre_rows(clips: list[dict], context_s: float):
    """Training rows: every rolling window of every clip, once per mapped genre."""
    X, y, w, g = [], [], [], []
    for c in clips:
        tg = genre_targets(c["clip"])
        if not tg:
            continue
        win = windows(features(c), c["t"], context_s)[TRAIN_STRIDE - 1 :: TRAIN_STRIDE]
        for lab in tg:
            X.append(win)
            y += [COARSE.index(lab)] * len(win)
            w += [1.0 / len(tg) / len(win)] * len(win)
            g += [c["clip"].artist] * len(win)
    return np.concatenate(X), np.array(y), np.array(w), np.array(g)


def emotion_rows(clips: list[dict], context_s: float):
    X, y, w = [], [], []
    for c in clips:
        win = windows(features(c), c["t"], context_s)[TRAIN_STRIDE - 1 :: TRAIN_STRIDE]
        X.append(win)
        y += [c["clip"].quadrant] * len(win)
        w += [1.0 / len(win)] * len(win)
    return np.concatenate(X), np.array(y), np.array(w)


class Fitted:
    """A trained head: scaler + logistic regression (+ the pop/rock split for genre)."""

    def __init__(self, sc, lr, classes: int, split=None) -> None:
        self.sc, self.lr, self.split = sc, lr, split
        # sklearn drops classes absent from a training fold: map back to fixed columns
        self.cols = np.asarray(lr.classes_, dtype=int)
        self.n = classes

    def coarse(self, X: np.ndarray) -> np.ndarray:
        p = np.zeros((X.shape[0], self.n))
        p[:, self.cols] = self.lr.predict_proba(self.sc.transform(X))
        return p

    def predict(self, X: np.ndarray) -> np.ndarray:
        p = self.coarse(X)
        return expand_genre(p, split_ratios(X, self.split)) if self.split is not None else p


def fit_genre(clips, context_s, C, seed, split) -> Fitted:
    X, y, w, _ = genre_rows(clips, context_s)
    sc, lr = _fit(X, y, w, C, seed)
    return Fitted(sc, lr, len(COARSE), split)


def fit_emotion(clips, context_s, C, seed) -> Fitted:
    X, y, w = emotion_rows(clips, context_s)
    sc, lr = _fit(X, y, w, C, seed)
    return Fitted(sc, lr, 4)


def artist_folds(clips: list[dict], folds: int = 5, seed: int = 0) -> np.ndarray:  # noqa: ARG001
    """Fold index of every clip: GroupKFold by artist, the same folds the old emotion model's CV
    uses (:func:`s2s_live.train.emotion.cross_validate`), so old and new are compared fold by fold."""
    from sklearn.model_selection import GroupKFold

    artists = np.array([c["clip"].artist for c in clips])
    fold = np.zeros(len(clips), int)
    for k, (_, te) in enumerate(GroupKFold(n_splits=folds).split(np.zeros(len(clips)), groups=artists)):
        fold[te] = k
    return fold


def fold_models(clips, *, genre_context, emotion_context, C, seed=0, folds=5, split=None):
    """For each artist-disjoint fold: (k, held-out clips, genre head, emotion head)."""
    fold = artist_folds(clips, folds, seed)
    for k in range(folds):
        tr = [c for c, f in zip(clips, fold) if f != k]
        te = [c for c, f in zip(clips, fold) if f == k]
        yield k, te, fit_genre(tr, genre_context, C, seed, split), fit_emotion(tr, emotion_context, C, seed)


def clip_mean_probs(model: Fitted, clip: dict, context_s: float) -> np.ndarray:
    return model.predict(windows(features(clip), clip["t"], context_s)).mean(axis=0)


def cross_validate(clips: list[dict], *, context_s: float, C: float, seed: int = 0, folds: int = 5,
                   split=None) -> dict:
    """Artist-disjoint CV of both heads: six-class genre and quadrant accuracy (clip level and per patch)."""
    g_true, g_pred, q_true, q_pred, q_hop = [], [], [], [], []
    six_hop = []
    for _, te, gm, em in fold_models(clips, genre_context=context_s, emotion_context=context_s, C=C, seed=seed,
                                     folds=folds, split=split):
        for c in te:
            s = six_class(c["clip"])
            if s is not None:
                P = gm.predict(windows(features(c), c["t"], context_s))
                g_true.append(s)
                g_pred.append(six_of(P.mean(axis=0)))
                six_hop += [six_of(p) == s for p in P]
            Q = em.predict(windows(features(c), c["t"], context_s))
            q_true.append(c["clip"].quadrant)
            q_pred.append(int(np.argmax(Q.mean(axis=0))))
            q_hop += list(np.argmax(Q, axis=1) == c["clip"].quadrant)
    g_true, g_pred = np.array(g_true), np.array(g_pred)
    return {
        "genre_six_accuracy": float(np.mean(g_true == g_pred)), "genre_six_n": int(len(g_true)),
        "genre_six_patch_accuracy": float(np.mean(six_hop)),
        "genre_six_confusion": confusion(g_true, g_pred, SIX),
        "quadrant_accuracy": float(np.mean(np.array(q_true) == np.array(q_pred))), "quadrant_n": len(q_true),
        "quadrant_patch_accuracy": float(np.mean(q_hop)),
        "quadrant_confusion": confusion(np.array(q_true), np.array(q_pred), range(4)),
    }


def six_of(p: np.ndarray, labels=LABELS) -> str:
    """The six-class check class of a probability vector: the most probable mapped label."""
    best, cls = -1.0, "none"
    for i, lab in enumerate(labels):
        c = SIX_CLASS.get(lab)
        if c is not None and p[i] > best:
            best, cls = p[i], c
    return cls


def confusion(t, p, classes) -> list[list[int]]:
    classes = list(classes)
    m = np.zeros((len(classes), len(classes)), int)
    for a, b in zip(t, p):
        if a in classes and b in classes:
            m[classes.index(a), classes.index(b)] += 1
    return m.tolist()


# ---------------------------------------------------------------------------------------------
# Export

def input_names(msd_labels, mtt_labels) -> list[str]:
    return ([f"msd:{w}" for w in msd_labels] + [f"mtt:{w}" for w in mtt_labels]
            + [f"msd_emb{i}" for i in range(200)] + [f"mtt_emb{i}" for i in range(200)])


def _module(fitted: Fitted, kind: str):
    import torch

    mu = torch.tensor(fitted.sc.mean_, dtype=torch.float32)
    sd = torch.tensor(fitted.sc.scale_, dtype=torch.float32)
    W = np.zeros((fitted.n, N_IN))
    b = np.full(fitted.n, -30.0)  # a class absent from the training data never wins
    W[fitted.cols] = fitted.lr.coef_
    b[fitted.cols] = fitted.lr.intercept_
    W, b = torch.tensor(W, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)

    class Head(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mu", mu)
            self.register_buffer("sd", sd)
            self.register_buffer("W", W)
            self.register_buffer("b", b)
            if kind == "genre":
                E = np.zeros((len(COARSE), len(LABELS)))
                for j, lab in enumerate(COARSE):
                    if lab != "pop/rock":
                        E[j, LABELS.index(lab)] = 1.0
                S = np.zeros((3, len(LABELS)))
                for k, sub in enumerate(("pop", "rock", "metal")):
                    S[k, LABELS.index(sub)] = 1.0
                self.register_buffer("E", torch.tensor(E, dtype=torch.float32))
                self.register_buffer("S", torch.tensor(S, dtype=torch.float32))
                self.j = COARSE.index("pop/rock")
                self.idx = [torch.tensor(np.concatenate(fitted.split[k])) for k in ("pop", "rock", "metal")]
            else:
                self.register_buffer("VA", torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]))

        def forward(self, x):
            p = torch.softmax(((x - self.mu) / self.sd) @ self.W.T + self.b, dim=1)
            if kind != "genre":
                return p, p @ self.VA
            r = torch.stack([x[:, i].max(dim=1).values for i in self.idx], dim=1)
            r = r / torch.clamp(r.sum(dim=1, keepdim=True), min=1e-6)
            return p @ self.E + p[:, self.j : self.j + 1] * r @ self.S

    return Head().eval()


def export(fitted: Fitted, kind: str, folder, *, names: list[str], context_s: float, metrics: dict,
           training: dict, patch_s: float = 3.0) -> dict:
    """Write ``folder/model.onnx`` and its card (ONNX parity against torch checked)."""
    import torch

    from .export import export_onnx, finish

    mod = _module(fitted, kind)
    ex = torch.zeros(1, N_IN)
    # outputs carry "smooth": False: the rolling context of the input is the head's smoothing, an
    # exponential smoother on top only delays a change (measured: docs/models.md, reaction)
    inp = {"name": "features", "dtype": "float32", "shape": [1, N_IN], "kind": "features",
           "recipe": TAGS_RECIPE_ID, "recipe_version": TAGS_RECIPE_VERSION, "names": names,
           "value": ["tags/msd", "tags/mtt", "tags/embedding"], "context_s": context_s,
           "tagger_patch_s": patch_s}  # the tagger patch length the head was trained on
    if kind == "genre":
        export_onnx(mod, ex, folder, input_name="features", output_names=["probs"])
        outputs = [{"name": "probs", "dtype": "float32", "shape": [1, len(LABELS)], "range": [0.0, 1.0],
                    "labels": list(LABELS), "osc": "genre/probs", "top": "genre", "top_type": "sf",
                    "id": "genre/id", "changed": "genre/changed", "smooth": False}]
    else:
        export_onnx(mod, ex, folder, input_name="features", output_names=["probs", "va"])
        outputs = [{"name": "probs", "dtype": "float32", "shape": [1, 4], "range": [0.0, 1.0],
                    "labels": list(fourq.QUADRANT_WORDS), "osc": "emotion/probs", "top": "emotion/label",
                    "top_type": "s", "changed": "emotion/changed", "smooth": False},
                   {"name": "va", "dtype": "float32", "shape": [1, 2], "range": [0.0, 1.0], "osc": "emotion",
                    "type": "ff", "split": ["emotion/valence", "emotion/arousal"], "smooth": False}]
    card = {"name": "genre" if kind == "genre" else "emotion", "kind": kind, "version": "2", "input": inp,
            "outputs": outputs, "metrics": metrics, "training": training}

    def make_input(rng):
        x = np.zeros((1, N_IN), np.float32)
        x[:, :100] = rng.uniform(0, 1, (1, 100))
        x[:, 100:] = rng.normal(0, 1, (1, 400))
        return x

    return finish(folder, card, mod, make_input)


def train(data, out, *, models_dir=None, seed: int = 0, folds: int = 5, C: float = DEFAULT_C,
          genre_context: float = 3.0, emotion_context: float = 3.0, patch_s: float = 3.0, cache_dir=None,
          log=print) -> dict:
    """Cross-validate both heads at every context in :data:`CONTEXTS` (and the chosen ones),
    then fit them on all clips and write ``out/genre`` and ``out/emotion``. Returns the metrics."""
    from pathlib import Path

    from . import tagdata
    from .export import command_line

    models_dir = Path(models_dir or out)
    clips = tagdata.dataset(data, models_dir, patch_s=patch_s, cache_dir=cache_dir)
    split = _split_indices(*_tagger_labels(models_dir))
    table = {}
    for ctx in sorted(set(CONTEXTS) | {genre_context, emotion_context}):
        table[f"{ctx:g}"] = r = cross_validate(clips, context_s=ctx, C=C, seed=seed, folds=folds, split=split)
        log(f"context {ctx:g} s: six-class genre {r['genre_six_accuracy']:.3f} (per patch "
            f"{r['genre_six_patch_accuracy']:.3f}), quadrant {r['quadrant_accuracy']:.3f} (per patch "
            f"{r['quadrant_patch_accuracy']:.3f})")
    names = input_names(*_tagger_labels(models_dir))
    training = {"data": str(data), "data_provenance": "4Q audio emotion dataset (Panda, Malheiro & Paiva 2018), "
                "456 30-s clips with AllMusic genres and quadrants; research use",
                "split": f"{folds}-fold GroupKFold by artist for the metrics; final model on all clips",
                "features": "rolling mean of the musicnn taggers' outputs (MSD tags, MTT tags, both penultimate "
                            f"layers; patches every {tagdata.STEP_S:g} s holding the newest {patch_s:g} s, "
                            "repeated to the taggers' 3-s input)", "tagger_patch_s": patch_s,
                "hyperparameters": {"model": "multinomial logistic regression on standardised inputs", "C": C},
                "seed": seed, "command": command_line()}
    cards = {}
    for kind, ctx in (("genre", genre_context), ("emotion", emotion_context)):
        r = table[f"{ctx:g}"]
        if kind == "genre":
            fitted = fit_genre(clips, ctx, C, seed, split)
            m = {k: r[k] for k in ("genre_six_accuracy", "genre_six_n", "genre_six_patch_accuracy", "genre_six_confusion")}
            m["six_classes"], m["six_class_map"] = list(SIX), SIX_CLASS
        else:
            fitted = fit_emotion(clips, ctx, C, seed)
            m = {k: r[k] for k in ("quadrant_accuracy", "quadrant_n", "quadrant_patch_accuracy", "quadrant_confusion")}
            m["confusion_labels"] = list(fourq.QUADRANT_WORDS)
        m["cv_folds"], m["context_s"] = folds, ctx
        m["by_context"] = {c: {k: v for k, v in t.items() if not k.endswith("confusion")} for c, t in table.items()}
        cards[kind] = export(fitted, kind, Path(out) / kind, names=names, context_s=ctx, metrics=m,
                             training=training | {"context_s": ctx}, patch_s=patch_s)
        log(f"wrote {Path(out) / kind}")
    return {"by_context": table, "cards": cards}


def _tagger_labels(models_dir):
    import json
    from pathlib import Path

    return tuple(json.loads((Path(models_dir) / n / "card.json").read_text())["outputs"][0]["labels"]
                 for n in ("tagger-msd", "tagger-mtt"))
