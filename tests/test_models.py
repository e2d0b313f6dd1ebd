"""The shipped models (models/genre, emotion, genre-gtzan, emotion-stats, encoder, decoder, the
taggers) load, match their cards and give outputs of the declared shapes, finite and in range,
inside the real pipeline."""

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
#: shipped model -> its kind
SHIPPED = {"genre": "genre", "emotion": "emotion", "genre-gtzan": "genre", "emotion-stats": "emotion",
           "encoder": "encoder", "decoder": "decoder", "tagger-msd": "tagger", "tagger-mtt": "tagger"}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_card_and_file(name):
    folder = MODELS / name
    card = modelcard.load_card(folder)
    assert card["name"] == name and card["kind"] == SHIPPED[name]
    modelcard.verify_sha256(folder, card)
    size = (folder / "model.onnx").stat().st_size
    assert size <= 10 * 2**20, f"{name}: {size} bytes"
    tr = card["training"]
    assert all(k in tr for k in ("data", "split", "hyperparameters", "seed", "command"))
    m = card["metrics"]
    parity = m["onnx_parity_max_abs_diff"] if "onnx_parity_max_abs_diff" in m else \
        m["onnx_vs_tensorflow"]["real"]["tags_max_abs"]
    assert parity <= 1e-4
    if card["kind"] == "tagger":  # the weights come from elsewhere: their licence travels with them
        assert (folder / "LICENSE").is_file()


def test_models_dir_small():
    total = sum(p.stat().st_size for p in MODELS.rglob("*") if p.is_file())
    assert total < 20 * 2**20


def test_shipped_metrics_reported():
    g = modelcard.load_card(MODELS / "genre")["metrics"]
    assert 0.0 < g["genre_six_accuracy"] <= 1.0 and g["cv_folds"] == 5 and g["genre_six_n"] == 140
    assert set(g["by_context"]) >= {"3", "6", "10"}
    e = modelcard.load_card(MODELS / "emotion")["metrics"]
    assert 0.0 < e["quadrant_accuracy"] <= 1.0 and e["quadrant_n"] == 456
    g = modelcard.load_card(MODELS / "genre-gtzan")["metrics"]
    assert 0.0 < g["cv_accuracy"] <= 1.0 and g["cv_folds"] == 5
    e = modelcard.load_card(MODELS / "emotion-stats")["metrics"]
    assert 0.0 < e["cv_accuracy"] <= 1.0 and "rules_cv_accuracy" in e
    v = modelcard.load_card(MODELS / "encoder")["metrics"]
    assert "heldout_music_snr_db" in v and "knn15_quadrant_clip_accuracy" in v


@pytest.mark.parametrize("name", ["genre", "emotion", "genre-gtzan", "emotion-stats", "encoder"])
def test_shipped_outputs_shapes_and_ranges(name):
    p = OnnxProcessor(MODELS / name, smoothing=0.0)
    rng = np.random.default_rng(1)
    f = Frame()
    if p.input_kind == "features" and p.value_key == "recipe/gtzan":
        f.values["recipe/gtzan"] = np.abs(rng.normal(1.0, 0.5, len(p.card["input"]["names"])))
    for amp in (0.0, 0.1, 0.9):  # silence, quiet noise, loud noise
        if p.input_kind == "features" and p.value_key != "recipe/gtzan":  # the heads: tagger outputs
            f.values["tags/msd"] = amp * rng.uniform(0, 1, 50).astype(np.float32)
            f.values["tags/mtt"] = amp * rng.uniform(0, 1, 50).astype(np.float32)
            f.values["tags/embedding"] = amp * rng.normal(0, 3, 400).astype(np.float32)
        f.y16[:] = amp * rng.uniform(-1, 1, f.y16.shape)
        f.y22[:] = amp * rng.uniform(-1, 1, f.y22.shape)
        out = p.process(f)
        declared = {o.name: o for o in p.outputs}
        for k, v in out.items():
            o = declared[k]
            if o.type == "f":
                arr = np.atleast_1d(np.asarray(v, dtype=np.float64))
                assert arr.shape == (o.shape,) and np.all(np.isfinite(arr)), k
                if o.range is not None:
                    assert arr.min() >= o.range[0] - 1e-5 and arr.max() <= o.range[1] + 1e-5, k
            elif set(o.type) == {"f"}:
                assert len(v) == o.shape and all(o.range[0] <= x <= o.range[1] for x in v), k
        assert {o.name for o in p.outputs if o.stream != "event"} <= set(out)


def test_decoder_output_audio():
    d = OnnxProcessor(MODELS / "decoder", smoothing=0.0)
    z = np.random.default_rng(0).standard_normal((1, d.in_size)).astype(np.float32)
    y = d.session.run(["audio"], {d.in_name: z})[0]
    assert y.shape == (1, 16000) and np.all(np.abs(y) <= 1.0)


def test_pipeline_broadcasts_model_outputs():
    """The default processors of a run host the shipped models; on synthetic music every model
    output appears on every frame once the descriptors have a recipe vector."""
    cfg = Config()
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
    assert last["genre"][0] in modelcard.load_card(MODELS / "genre")["outputs"][0]["labels"]
    assert last["latent"].shape == (128,)
