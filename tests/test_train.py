"""Training runs end to end on small synthetic data and writes loadable models with cards."""

from __future__ import annotations

import importlib.util

import argparse
from pathlib import Path

import numpy as np
import pytest

from helpers import CI

if importlib.util.find_spec("torch") is None or importlib.util.find_spec("onnx") is None:
    if CI:  # a missing component fails under CI instead of skipping
        raise ImportError("torch and onnx are required (pip install -e '.[test]')")
    pytest.skip("torch/onnx not installed (the 'train' extra)", allow_module_level=True)

from s2s_live.inference import card as modelcard
from s2s_live.frames import Frame
from s2s_live.inference import OnnxProcessor
from s2s_live.features.recipe import GTZAN_FEATURES
from s2s_live.capture import sounds
from s2s_live.train import commands, emotion, export, genre, mlp, vae

from test_inference import LABELS, class_vector, frame_with, synthetic_csv

FAST = mlp.MLPParams(hidden=(16,), max_epochs=30, patience=8)


def _check_card(folder: Path, kind: str) -> dict:
    card = modelcard.load_card(folder)
    assert card["kind"] == kind
    assert card["sha256"] == modelcard.sha256_file(folder / "model.onnx")
    for key in ("data", "split", "hyperparameters", "seed", "command"):
        assert key in card["training"], key
    assert card["metrics"]["onnx_parity_max_abs_diff"] <= 1e-4
    import onnx

    m = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in m.graph.initializer)
    return card


def test_genre_end_to_end(tmp_path):
    csv_path = synthetic_csv(tmp_path / "d.csv", n_per=20)
    card = genre.train(csv_path, tmp_path / "g", folds=2, params=FAST, progress=False)
    _check_card(tmp_path / "g", "genre")
    m = card["metrics"]
    assert m["cv_accuracy"] >= 0.9  # separable classes
    assert np.array(m["confusion_matrix"]).sum() == 60 and (tmp_path / "g" / "confusion.png").stat().st_size > 1000
    assert card["input"]["names"] == GTZAN_FEATURES and card["outputs"][0]["labels"] == LABELS
    p = OnnxProcessor(tmp_path / "g", smoothing=0.0)
    assert p.process(frame_with(class_vector(2)))["genre"][0] == "gamma"


def test_genre_from_audio_folder(tmp_path):
    """A user's GTZAN-style folder of audio: the recipe is computed with librosa, then trained."""
    import soundfile as sf

    sr = 22050
    rng = np.random.default_rng(0)
    for g, f0 in (("low", 110.0), ("high", 2000.0)):
        (tmp_path / "audio" / g).mkdir(parents=True)
        for i in range(3):
            t = np.arange(2 * sr) / sr
            y = 0.3 * np.sin(2 * np.pi * f0 * (1 + 0.01 * i) * t) + 0.01 * rng.standard_normal(t.shape)
            sf.write(str(tmp_path / "audio" / g / f"{g}{i}.wav"), y, sr)
    card = genre.train(tmp_path / "audio", tmp_path / "m", folds=0, params=FAST, progress=False, name="mine")
    assert card["outputs"][0]["labels"] == ["high", "low"] and card["outputs"][0]["osc"] == "mine/probs"
    OnnxProcessor(tmp_path / "m")


def test_emotion_end_to_end(tmp_path):
    rng = np.random.default_rng(0)
    n_clips, per = 40, 3
    y = np.arange(n_clips) % 4
    X = np.repeat(1.0 + 2.0 * y, per)[:, None] + 0.2 * rng.standard_normal((n_clips * per, len(GTZAN_FEATURES)))
    feats = {"X": np.abs(X), "clip": np.repeat(np.arange(n_clips), per), "is_full": np.tile([True, False, False], n_clips),
             "y": y, "artist": np.array([f"artist{i // 4}" for i in range(n_clips)]),  # each artist: 4 quadrants
             "song": np.array([str(i) for i in range(n_clips)])}
    card = emotion.train("synthetic", tmp_path / "e", folds=2, params=FAST, progress=False, features=feats)
    _check_card(tmp_path / "e", "emotion")
    m = card["metrics"]
    assert m["cv_accuracy"] >= 0.7 and 0.0 <= m["rules_cv_accuracy"] <= 1.0  # chance 0.25
    p = OnnxProcessor(tmp_path / "e", smoothing=0.0)
    out = p.process(frame_with(np.full(len(GTZAN_FEATURES), 1.0 + 2.0 * 2)))  # quadrant 3 = sad
    assert out["emotion/label"] == "sad"
    v, a = out["emotion"]
    assert v < 0.5 and a < 0.5 and out["emotion/valence"] == pytest.approx(v)


@pytest.fixture(scope="module")
def tiny_vae(tmp_path_factory):
    out = tmp_path_factory.mktemp("vae")
    card = vae.train(None, out, params=vae.VAEParams.preset("tiny"), progress=False)
    return out, card


def test_vae_end_to_end(tiny_vae):
    out, card = tiny_vae
    _check_card(out / "encoder", "encoder")
    _check_card(out / "decoder", "decoder")
    for k in ("heldout_synthetic_snr_db", "heldout_synthetic_mrstft_db"):
        assert np.isfinite(card["metrics"][k])
    enc = OnnxProcessor(out / "encoder", smoothing=0.0)
    f = Frame()
    f.y16[:] = sounds.fm(sr=16000, duration=1.0, f0=220.0, ratio=2.0, index=3.0) * 0.5
    res = enc.process(f)
    assert res["latent"].shape == (8,) and np.all(np.isfinite(res["latent"]))
    x, yv = res["latent/xy"]
    assert 0.0 <= x <= 1.0 and 0.0 <= yv <= 1.0


def test_vae_interpolate_command(tiny_vae, tmp_path):
    import soundfile as sf

    out, _ = tiny_vae
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    sf.write(str(a), sounds.am(sr=44100, duration=1.0, f0=330.0, fm_rate=4.0, depth=0.5) * 0.5, 44100)
    sf.write(str(b), sounds.additive(sr=16000, duration=1.5, f0=110.0, n_partials=10, tilt=1.0) * 0.5, 16000)
    ap = argparse.ArgumentParser()
    commands.register(ap.add_subparsers(dest="command"))
    args = ap.parse_args(["vae", "interpolate", str(a), str(b), "--steps", "4", "--out", str(tmp_path / "o"),
                          "--sr", "22050", "--models-dir", str(out)])
    assert args.func(args) == 0
    files = sorted((tmp_path / "o").glob("step_*.wav"))
    assert [p.name for p in files] == [f"step_{i:02d}.wav" for i in range(4)]
    for p in files:
        info = sf.info(str(p))
        assert info.samplerate == 22050 and info.frames == 22050
        assert np.all(np.isfinite(sf.read(str(p))[0]))


def test_parity_helper_detects_mismatch(tmp_path):
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(4, 3)).eval()
    export.export_onnx(net, torch.zeros(1, 4), tmp_path, input_name="x", output_names=["y"])
    assert export.parity(net, tmp_path / "model.onnx", lambda r: r.standard_normal((1, 4))) <= 1e-5
    with torch.no_grad():
        net[0].bias += 1.0  # torch changed after export: parity must notice
    assert export.parity(net, tmp_path / "model.onnx", lambda r: r.standard_normal((1, 4))) > 0.5


# -- ASCIML's synthetic sound generator --------------------------------------------------------
def _peak_hz(y, sr):
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.argmax(spec) * sr / len(y)


@pytest.mark.parametrize("sr", [16000, 22050, 44100])
def test_generators_known_pitch(sr):
    assert abs(_peak_hz(sounds.am(sr=sr, duration=1.0, f0=440.0, fm_rate=5.0, depth=0.3), sr) - 440) <= 1.5
    assert abs(_peak_hz(sounds.fm(sr=sr, duration=1.0, f0=440.0, ratio=2.0, index=0.1), sr) - 440) <= 1.5
    y = sounds.additive(sr=sr, duration=1.0, f0=200.0, n_partials=5, tilt=1.0)
    assert abs(_peak_hz(y, sr) - 200) <= 1.5 and np.max(np.abs(y)) == pytest.approx(1.0, abs=1e-5)
    rng = np.random.default_rng(0)
    y = sounds.subtractive(sr=sr, duration=1.0, f0=100.0, cutoff=300.0, q=0.0, wave="saw", rng=rng)
    assert abs(_peak_hz(y, sr) - 100) <= 1.5


def test_adsr_shape():
    env = sounds.adsr(n=1000, sr=1000, attack=0.1, decay=0.1, sustain=0.5, release=0.2)
    assert env.shape == (1000,) and env[0] == 0.0 and env.max() <= 1.0
    assert env[150] == pytest.approx(0.75, abs=0.02) and env[500] == 0.5 and env[-1] == 0.0
    with pytest.raises(ValueError, match="sustain"):
        sounds.adsr(n=10, sr=10, attack=0, decay=0, sustain=2, release=0)


def test_dataset_seeded():
    a, ka = sounds.dataset(n=8, seed=3)
    b, kb = sounds.dataset(n=8, seed=3)
    np.testing.assert_array_equal(a, b)
    assert ka == kb and a.shape == (8, 16000) and np.max(np.abs(a)) <= 0.9 + 1e-6


def test_train_genre_command(tmp_path):
    csv_path = synthetic_csv(tmp_path / "d.csv", n_per=12)
    rc = commands.main(["train", "genre", "--data", str(csv_path), "--out", str(tmp_path / "m"), "--folds", "2",
                        "--epochs", "15", "--quiet", "--name", "g2"])
    assert rc == 0
    card = modelcard.load_card(tmp_path / "m" / "g2")
    assert card["outputs"][0]["osc"] == "g2/probs" and "train genre" in card["training"]["command"]
    assert commands.main(["train", "genre", "--data", str(tmp_path / "missing.csv"), "--quiet"]) == 2
