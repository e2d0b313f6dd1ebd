"""The shipped models (models/genre, emotion, genre-gtzan, emotion-stats, encoder, decoder, the
taggers): each card's claims are recomputed, not read back, and the models answer known inputs.

* the sha256 of every model.onnx is recomputed from the file;
* the taggers' ONNX-vs-TensorFlow parity is recomputed on the stored reference patches
  (tests/data/tagger_ref.npz, TensorFlow's outputs written at conversion time);
* the encoder/decoder's held-out synthetic reconstruction metrics are recomputed on the same
  200 held-out sounds the training used (s2s_live.capture.sounds, seed from the card);
* the classifiers' accuracies, counts and chance levels are recomputed from their confusion
  matrices, and the labels and context the metrics were measured with are the ones served live;
* outputs move with the input and give known answers on the synthetic styles (techno is more
  aroused than a ballad; techno and ballad frames lie apart in the latent space), instead of
  ranges a softmax, sigmoid or clamp guarantees anyway.

The cards' ONNX-vs-training-framework parity numbers (``onnx_parity_max_abs_diff``) need the
training framework's model, which is not shipped: they are not checked here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from s2s_live.inference import card as modelcard
from s2s_live.config import Config
from s2s_live.frames import Frame
from s2s_live.inference import DEFAULT_SLOTS, OnnxProcessor, host_of
from s2s_live.pipeline import analyze_array, build_processors
from s2s_live.capture.synth import MusicSynth

MODELS = Path(__file__).resolve().parents[1] / "models"
REF = Path(__file__).resolve().parent / "data" / "tagger_ref.npz"
#: shipped model -> its kind
SHIPPED = {"genre": "genre", "emotion": "emotion", "genre-gtzan": "genre", "emotion-stats": "emotion",
           "encoder": "encoder", "decoder": "decoder", "tagger-msd": "tagger", "tagger-mtt": "tagger"}


def card(name: str) -> dict:
    return modelcard.load_card(MODELS / name)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_card_and_file(name):
    folder = MODELS / name
    c = modelcard.load_card(folder)
    assert c["name"] == name and c["kind"] == SHIPPED[name]
    modelcard.verify_sha256(folder, c)  # recomputes the file's sha256
    size = (folder / "model.onnx").stat().st_size
    assert size <= 10 * 2**20, f"{name}: {size} bytes"
    tr = c["training"]
    assert all(k in tr for k in ("data", "split", "hyperparameters", "seed", "command"))
    if c["kind"] == "tagger":  # the weights come from elsewhere: their licence travels with them
        assert (folder / "LICENSE").is_file()


def test_models_dir_small():
    total = sum(p.stat().st_size for p in MODELS.rglob("*") if p.is_file())
    assert total < 20 * 2**20


# -- metrics recomputed -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["tagger-msd", "tagger-mtt"])
def test_tagger_parity_recomputed_on_the_reference_patches(name):
    """The card's ``onnx_vs_tensorflow.reference`` numbers are what the shipped ONNX model gives
    on the stored patches against TensorFlow's stored outputs (within float32 noise)."""
    ref = np.load(REF)
    claim = card(name)["metrics"]["onnx_vs_tensorflow"]["reference"]
    assert claim["patches"] == ref["patches"].shape[0]
    m = OnnxProcessor(MODELS / name)
    tags, emb = m.session.run(["tags", "embedding"], {"logmel": ref["patches"]})
    got_tags = float(np.abs(tags - ref[f"{name}__tags"]).max())
    got_emb = float(np.abs(emb - ref[f"{name}__embedding"]).max())
    for got, claimed in ((got_tags, claim["tags_max_abs"]), (got_emb, claim["embedding_max_abs"])):
        # the same float32 noise, within a factor 4 (other CPUs may round differently)
        assert claimed / 4 - 1e-7 <= got <= 4 * claimed + 1e-7, (got, claimed)


def test_autoencoder_heldout_synthetic_metrics_recomputed():
    """Encoder then decoder on the training's 200 held-out synthetic sounds (the first n_synth/10
    of ``sounds.dataset(seed)``) give the SNR and multi-resolution STFT distance both cards claim."""
    from s2s_live.capture import sounds
    from s2s_live.train import vae

    enc_card, dec_card = card("encoder"), card("decoder")
    hp, seed = enc_card["training"]["hyperparameters"], enc_card["training"]["seed"]
    n = max(1, hp["n_synth"] // 10)
    assert enc_card["metrics"]["heldout_synthetic_frames"] == n
    a, _ = sounds.dataset(n=n, sr=16000, seed=seed)
    enc, dec = OnnxProcessor(MODELS / "encoder"), OnnxProcessor(MODELS / "decoder")
    z = np.concatenate([enc.session.run(["mean"], {enc.in_name: a[i : i + 1]})[0] for i in range(n)])
    r = np.concatenate([dec.session.run(["audio"], {dec.in_name: z[i : i + 1]})[0] for i in range(n)])
    snr = vae.snr_db(a, r)
    mrstft = vae.mrstft_distance(a, r, tuple(hp["stft_sizes"]))
    for c in (enc_card, dec_card):
        assert snr == pytest.approx(c["metrics"]["heldout_synthetic_snr_db"], abs=1e-3), snr
        assert mrstft == pytest.approx(c["metrics"]["heldout_synthetic_mrstft_db"], abs=1e-2), mrstft


def _acc(cm) -> tuple[float, int]:
    cm = np.asarray(cm)
    return float(np.trace(cm) / cm.sum()), int(cm.sum())


def test_classifier_metrics_agree_with_their_confusion_matrices():
    """Every accuracy, count and chance level a classifier card states is recomputed from the
    confusion matrix it ships, and the matrix's labels are the labels served live."""
    g = card("genre-gtzan")
    m = g["metrics"]
    acc, n = _acc(m["confusion_matrix"])
    assert m["cv_accuracy"] == pytest.approx(acc, abs=1e-9) and n == 1000
    assert np.mean(m["cv_fold_accuracy"]) == pytest.approx(acc, abs=1e-9)  # equal folds of 200 tracks
    assert np.std(m["cv_fold_accuracy"]) == pytest.approx(m["cv_accuracy_std"], abs=1e-9)
    assert len(m["cv_fold_accuracy"]) == m["cv_folds"]
    assert m["chance"] == pytest.approx(np.asarray(m["confusion_matrix"]).sum(axis=1).max() / n)
    assert m["confusion_labels"] == g["outputs"][0]["labels"]

    e = card("emotion-stats")
    m = e["metrics"]
    acc, n = _acc(m["confusion_matrix"])
    assert m["cv_accuracy"] == pytest.approx(acc, abs=1e-9) and n == m["n_clips"]
    assert m["rules_cv_accuracy"] == pytest.approx(_acc(m["rules_confusion_matrix"])[0], abs=1e-9)
    assert _acc(m["rules_confusion_matrix"])[1] == n
    assert np.array_equal(np.sum(m["confusion_matrix"], axis=1), np.sum(m["rules_confusion_matrix"], axis=1))
    assert m["chance"] == pytest.approx(np.asarray(m["confusion_matrix"]).sum(axis=1).max() / n)
    assert len(m["cv_fold_accuracy"]) == len(m["rules_cv_fold_accuracy"]) == m["cv_folds"]
    assert m["confusion_labels"] == e["outputs"][0]["labels"]

    for name, key in (("genre", "genre_six"), ("emotion", "quadrant")):
        c = card(name)
        m = c["metrics"]
        acc, n = _acc(m[f"{key}_confusion"])
        assert m[f"{key}_accuracy"] == pytest.approx(acc, abs=1e-9) and m[f"{key}_n"] == n
        # measured at the context the live model uses, and that row of by_context is the headline
        assert m["context_s"] == c["input"]["context_s"]
        at = m["by_context"][f"{m['context_s']:g}"]
        assert at[f"{key}_accuracy"] == m[f"{key}_accuracy"] and at[f"{key}_n"] == n
    g6 = card("genre")["metrics"]
    assert len(g6["six_classes"]) == np.shape(g6["genre_six_confusion"])[0]
    assert set(g6["six_class_map"].values()) <= set(g6["six_classes"])
    assert card("emotion")["metrics"]["confusion_labels"] == card("emotion")["outputs"][0]["labels"]


# -- outputs move with the input and give known answers ----------------------------------------
def _outputs(p: OnnxProcessor, amp: float, rng) -> dict:
    f = Frame()
    if p.input_kind == "features" and p.value_key == "recipe/gtzan":
        f.values["recipe/gtzan"] = amp * np.abs(rng.normal(1.0, 0.5, len(p.card["input"]["names"])))
    elif p.input_kind == "features":  # the heads: tagger outputs
        f.values["tags/msd"] = amp * rng.uniform(0, 1, 50).astype(np.float32)
        f.values["tags/mtt"] = amp * rng.uniform(0, 1, 50).astype(np.float32)
        f.values["tags/embedding"] = amp * rng.normal(0, 3, 400).astype(np.float32)
    f.y16[:] = amp * rng.uniform(-1, 1, f.y16.shape)
    f.y22[:] = amp * rng.uniform(-1, 1, f.y22.shape)
    return p.process(f)


@pytest.mark.parametrize("name", ["genre", "emotion", "genre-gtzan", "emotion-stats", "encoder"])
def test_shipped_outputs_have_their_shapes_and_move_with_the_input(name):
    """Every declared output has its shape and is finite, and differs between silence-like,
    quiet and loud inputs (a model stuck on one answer fails); the same input gives the same answer."""
    def fresh() -> OnnxProcessor:  # the heads average their inputs over context_s: no history
        return OnnxProcessor(MODELS / name, smoothing=0.0)

    p = fresh()
    declared = {o.name: o for o in p.outputs if o.stream != "event" and set(o.type) == {"f"}}
    runs = [_outputs(fresh(), amp, np.random.default_rng(1)) for amp in (0.01, 0.3, 1.0)]
    again = _outputs(fresh(), 0.3, np.random.default_rng(1))
    for k, o in declared.items():
        vals = [np.atleast_1d(np.asarray(r[k], dtype=np.float64)) for r in runs]
        for v in vals:
            assert v.shape == (o.shape,) and np.all(np.isfinite(v)), k
        spread = max(np.abs(a - b).max() for a in vals for b in vals)
        assert spread > 1e-3, f"{name} {k}: the same answer for every input ({vals[0][:4]})"
        np.testing.assert_array_equal(np.atleast_1d(np.asarray(again[k], dtype=np.float64)), vals[1], err_msg=k)
    assert {o.name for o in p.outputs if o.stream != "event"} <= set(runs[0])


def _style(style: str, seconds: float = 8.0, sr: int = 22050) -> np.ndarray:
    s = MusicSynth(sr=sr, seed=0, section_seconds=max(seconds, 5), styles=[style])
    y = np.zeros(int(seconds * sr), np.float32)
    s.render_into(y)
    return y


@pytest.fixture(scope="module")
def style_rows():
    """techno and ballad through the default models and through the descriptor-based ones."""
    out = {}
    for kind, models in (("tags", {}), ("stats", {"genre": "genre-gtzan", "emotion": "emotion-stats"})):
        cfg = Config(models_dir=str(MODELS))
        if models:
            cfg.update(models=models)
        procs = build_processors(cfg)
        for style in ("techno", "ballad"):
            out[kind, style] = analyze_array(_style(style), 22050, procs, hop=0.5)[6:]  # past the first 3 s
    return out


@pytest.mark.parametrize("kind", ["tags", "stats"])
def test_emotion_known_answer_techno_is_more_aroused_than_a_ballad(style_rows, kind):
    """Measured (hop 0.5, 8-s synthetic pieces): arousal techno 0.87 vs ballad 0.004 with the
    tag heads, 0.75 vs 0.26 with emotion-stats; the quadrant is never tense/happy for the ballad."""
    ar = {s: np.mean([r["emotion"][1] for r in style_rows[kind, s]]) for s in ("techno", "ballad")}
    assert ar["techno"] > ar["ballad"] + 0.3, ar
    assert {r["emotion/label"] for r in style_rows[kind, "ballad"]} <= {"sad", "calm"}
    g = {s: np.mean([r["genre/probs"] for r in style_rows[kind, s]], axis=0) for s in ("techno", "ballad")}
    assert np.abs(g["techno"] - g["ballad"]).max() > 0.2, "genre probabilities do not tell the styles apart"


def test_encoder_known_answer_styles_lie_apart_in_the_latent(style_rows):
    """Each techno frame's latent is nearer the other techno frames' mean than the ballad's."""
    lat = {s: np.array([r["latent"] for r in style_rows["tags", s]], dtype=np.float64) for s in ("techno", "ballad")}
    mean = {s: v.mean(axis=0) for s, v in lat.items()}
    for s, other in (("techno", "ballad"), ("ballad", "techno")):
        d_own = np.linalg.norm(lat[s] - mean[s], axis=1)
        d_other = np.linalg.norm(lat[s] - mean[other], axis=1)
        assert np.all(d_own < d_other), (s, d_own, d_other)


def test_pipeline_broadcasts_model_outputs():
    """The default processors of a run host the shipped models; on synthetic music every model
    output appears on every frame once the descriptors have a recipe vector."""
    cfg = Config(models_dir=str(MODELS))
    procs = build_processors(cfg)
    host = host_of(procs)
    assert host is not None and set(host.slots) == set(DEFAULT_SLOTS)
    sr = 22050
    y = MusicSynth(sr=sr, seed=0).render(6.0)
    rows = analyze_array(y, sr, procs, hop=0.5)
    assert rows
    last = rows[-1]
    for key in ("genre", "genre/probs", "genre/id", "emotion", "emotion/valence", "emotion/arousal",
                "emotion/label", "emotion/probs", "latent", "latent/xy", "emotion/rules"):
        assert key in last, key
    labels = card("genre")["outputs"][0]["labels"]
    # the stable label and its index are the classifier's: probs, label and id agree
    assert last["genre"][0] in labels and last["genre/id"] == labels.index(last["genre"][0])
    assert len(last["genre/probs"]) == len(labels)
    assert last["latent"].shape == (128,)
