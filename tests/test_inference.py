"""Plugin host, model cards, label smoothing/hysteresis and the rule-based emotion processor.

Models here are tiny ones trained and exported in seconds by the package's own training code
(real torch -> ONNX -> onnxruntime), written to tmp folders.
"""

from __future__ import annotations

import importlib.util

import csv
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from helpers import CI

if importlib.util.find_spec("torch") is None or importlib.util.find_spec("onnx") is None:
    if CI:  # a missing component fails under CI instead of skipping
        raise ImportError("torch and onnx are required (pip install -e '.[test]')")
    pytest.skip("torch/onnx not installed (the 'train' extra)", allow_module_level=True)

from s2s_live.inference import card as modelcard
from s2s_live.inference.emotion_rules import EmotionRulesProcessor, valence_arousal
from s2s_live.labels import quadrant_index as quadrant
from s2s_live.errors import ModelError
from s2s_live.frames import Frame
from s2s_live.inference import ModelHost, OnnxProcessor
from s2s_live.labels import ExpSmoother, Hysteresis
from s2s_live.pipeline import Pipeline
from s2s_live.processor import Output, Processor
from s2s_live.features.recipe import GTZAN_FEATURES

LABELS = ["alpha", "beta", "gamma"]


def synthetic_csv(path: Path, *, n_per: int = 30, seed: int = 0, labels=LABELS) -> Path:
    """A GTZAN-style CSV with 3 well separated classes (class k shifts every feature by k and is
    named ``labels[k]``)."""
    rng = np.random.default_rng(seed)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["filename"] + GTZAN_FEATURES + ["label"])
        for k, lab in enumerate(labels):
            for i in range(n_per):
                x = 1.0 + k * 2.0 + 0.3 * rng.standard_normal(len(GTZAN_FEATURES))
                w.writerow([f"{lab}.{i:05d}.au"] + [f"{abs(v):.6f}" for v in x] + [lab])
    return path


def class_vector(k: int) -> np.ndarray:
    return np.full(len(GTZAN_FEATURES), 1.0 + 2.0 * k)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    from s2s_live.train import genre, mlp

    root = tmp_path_factory.mktemp("models")
    csv_path = synthetic_csv(root / "data.csv")
    p = mlp.MLPParams(hidden=(16,), max_epochs=40, patience=10)
    genre.train(csv_path, root / "genre", folds=0, params=p, progress=False, seed=0)
    genre.train(csv_path, root / "genre2", folds=0, params=p, progress=False, seed=1)
    # same classes, names rotated: class_vector(1) is "gamma" here, "beta" for genre/genre2
    rotated = synthetic_csv(root / "rotated.csv", labels=LABELS[1:] + LABELS[:1])
    genre.train(rotated, root / "genre-rotated", folds=0, params=p, progress=False, seed=0)
    return root


def copy_model(models_dir: Path, src: str, dst: str) -> Path:
    d = models_dir / dst
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(models_dir / src, d)
    return d


class Inject(Processor):
    """Puts a fixed recipe vector into frame.values (stands in for the descriptor stage)."""

    name = "inject"
    outputs = (Output("recipe/gtzan", shape=len(GTZAN_FEATURES), range=None, internal=True),)

    def __init__(self, k: int = 0) -> None:
        self.k = k

    def process(self, frame):
        return {"recipe/gtzan": class_vector(self.k)}


def frame_with(vec, t=0.0) -> Frame:
    f = Frame()
    f.time = t
    f.values["recipe/gtzan"] = vec
    return f


# -- labels -----------------------------------------------------------------------------------
def test_smoother_converges_geometrically():
    s = ExpSmoother(2, alpha=0.5)
    np.testing.assert_allclose(s(np.array([1.0, 0.0])), [1.0, 0.0])  # first value primes
    out = s(np.array([0.0, 1.0]))
    np.testing.assert_allclose(out, [0.5, 0.5])
    for _ in range(30):
        out = s(np.array([0.0, 1.0]))
    np.testing.assert_allclose(out, [0.0, 1.0], atol=1e-6)
    s.set_alpha(0.0)
    np.testing.assert_allclose(s(np.array([0.25, 0.75])), [0.25, 0.75])
    with pytest.raises(ValueError, match="smoothing=1.5"):
        s.set_alpha(1.5)


def test_hysteresis_needs_margin_and_hold():
    h = Hysteresis(["a", "b"], margin=0.2, hold=1.0)
    assert h.update(np.array([0.9, 0.1]), 0.0) == (0, None)  # first label adopted silently
    # b leads by only 0.1: never switches
    for i in range(10):
        assert h.update(np.array([0.45, 0.55]), 0.25 * i)[1] is None
    # b leads by 0.4 from t=3.0: switch once hold (1 s) has elapsed
    events = [h.update(np.array([0.3, 0.7]), 3.0 + 0.25 * i) for i in range(8)]
    changed = [(i, e[1]) for i, e in enumerate(events) if e[1] is not None]
    assert changed == [(4, ("a", "b"))]
    assert all(e[0] == 1 for e in events[4:])
    with pytest.raises(ValueError, match="margin"):
        Hysteresis(["a"], margin=2.0)


def test_hysteresis_interrupted_lead_restarts_hold():
    h = Hysteresis(["a", "b"], margin=0.1, hold=1.0)
    h.update(np.array([1.0, 0.0]), 0.0)
    h.update(np.array([0.2, 0.8]), 1.0)
    h.update(np.array([0.8, 0.2]), 1.5)  # a is back on top: the challenge resets
    assert h.update(np.array([0.2, 0.8]), 2.25)[1] is None
    assert h.update(np.array([0.2, 0.8]), 3.25)[1] == ("a", "b")


def test_hysteresis_fast_lead_switches_at_once_and_weak_lead_waits():
    h = Hysteresis(["a", "b", "c"], margin=0.2, hold=1.0, fast=0.3)
    h.update(np.array([0.8, 0.1, 0.1]), 0.0)
    # b leads by 0.25 (between margin and fast): waits out the 1-s hold
    out = [h.update(np.array([0.3, 0.55, 0.15]), 0.25 * i)[1] for i in range(1, 7)]
    assert out == [None, None, None, None, ("a", "b"), None]  # the challenge began at 0.25: switch at 1.25
    # c leads b by 0.5 (>= fast): switches on the first hop, once
    assert h.update(np.array([0.1, 0.2, 0.7]), 2.0)[1] == ("b", "c")
    assert h.update(np.array([0.1, 0.2, 0.7]), 2.25) == (2, None)
    # exactly at the fast lead counts as fast; just below waits
    h2 = Hysteresis(["a", "b"], margin=0.2, hold=1.0, fast=0.3)
    h2.update(np.array([0.7, 0.3]), 0.0)
    assert h2.update(np.array([0.36, 0.64]), 0.25)[1] is None  # lead 0.28
    assert h2.update(np.array([0.35, 0.65]), 0.5)[1] == ("a", "b")  # lead 0.30
    # fast off: even a lead of 1 waits
    h3 = Hysteresis(["a", "b"], margin=0.2, hold=1.0, fast=None)
    h3.update(np.array([1.0, 0.0]), 0.0)
    assert h3.update(np.array([0.0, 1.0]), 0.25)[1] is None


def test_hysteresis_params_validated_and_unchanged_on_error():
    h = Hysteresis(["a", "b"], margin=0.2, hold=1.0, fast=0.3)
    with pytest.raises(ValueError, match=r"fast=0\.1 is invalid; expected a probability in margin\.\.1 \(0\.2\.\.1\)"):
        h.set_params(fast=0.1)
    with pytest.raises(ValueError, match=r"fast=0\.3 is invalid.*\(0\.5\.\.1\)"):
        h.set_params(margin=0.5)  # would leave fast below the margin
    with pytest.raises(ValueError, match="hold=nan"):
        h.set_params(hold=float("nan"))
    with pytest.raises(ValueError, match="fast=True"):
        h.set_params(fast=True)
    assert (h.margin, h.hold, h.fast) == (0.2, 1.0, 0.3)
    h.set_params(hold=2.0)  # fast kept
    assert (h.margin, h.hold, h.fast) == (0.2, 2.0, 0.3)
    h.set_params(fast=None)
    assert h.fast is None


def test_config_validates_hysteresis_fast():
    from s2s_live.config import Config
    from s2s_live.errors import ConfigError

    assert Config().hysteresis_fast == 0.3 and Config().hysteresis_margin == 0.2
    with pytest.raises(ConfigError, match=r"hysteresis_fast=0\.1 is invalid; expected a probability in hysteresis_margin\.\.1"):
        Config().update(hysteresis_fast=0.1)
    with pytest.raises(ConfigError, match="hysteresis_fast='high'"):
        Config().update(hysteresis_fast="high")
    assert Config().update(hysteresis_fast=None).hysteresis_fast is None


# -- model cards and the plugin host -----------------------------------------------------------
def test_processor_outputs_follow_card(models_dir):
    p = OnnxProcessor(models_dir / "genre", smoothing=0.0)
    names = {o.name: o for o in p.outputs}
    assert set(names) == {"genre/probs", "genre", "genre/id", "genre/changed"}
    assert names["genre/probs"].shape == 3 and names["genre/probs"].labels == tuple(LABELS)
    assert names["genre"].type == "sf" and names["genre/changed"].stream == "event"
    for k in range(3):
        p.reset()
        out = p.process(frame_with(class_vector(k)))
        assert out["genre"][0] == LABELS[k] and out["genre/id"] == k
        assert out["genre/probs"].dtype == np.float32 and abs(float(out["genre/probs"].sum()) - 1) < 1e-5
    assert p.process(Frame()) == {}  # no recipe vector yet: nothing


def test_changed_event_after_hysteresis(models_dir):
    p = OnnxProcessor(models_dir / "genre", smoothing=0.5, margin=0.1, hold=0.5, fast=None)
    events = []
    for i in range(12):
        out = p.process(frame_with(class_vector(0 if i < 4 else 2), t=0.25 * i))
        if "genre/changed" in out:
            events.append((i, out["genre/changed"]))
    assert len(events) == 1 and events[0][1] == ("alpha", "gamma") and events[0][0] >= 6


@pytest.mark.parametrize("bad", ["../genre", "/etc", "a/b", "", "..", "genre/../genre2", " genre"])
def test_host_rejects_paths(models_dir, bad):
    host = ModelHost(models_dir)
    host.add("genre", "genre")
    with pytest.raises(ModelError, match="invalid|outside"):
        host.load("genre", bad)


def _assert_refused(models_dir, name, match):
    host = ModelHost(models_dir, smoothing=0.0)
    slot = host.add("genre", "genre")
    old = slot.inner
    with pytest.raises(ModelError, match=match):
        host.load("genre", name)
    assert slot.inner is old and slot.model_name == "genre"  # the previous model is kept ...
    out = slot.process(frame_with(class_vector(1)))  # ... and still works
    assert out["genre"][0] == "beta"


def test_refuses_wrong_sha256(models_dir):
    d = copy_model(models_dir, "genre", "badsha")
    card = json.loads((d / "card.json").read_text())
    card["sha256"] = "0" * 64
    (d / "card.json").write_text(json.dumps(card))
    _assert_refused(models_dir, "badsha", "sha256 mismatch: model.onnx does not match its card")


def test_refuses_corrupted_model(models_dir):
    d = copy_model(models_dir, "genre", "corrupt")
    data = (d / "model.onnx").read_bytes()
    (d / "model.onnx").write_bytes(data[: len(data) // 3])  # truncated; card updated to match
    card = json.loads((d / "card.json").read_text())
    card["sha256"] = modelcard.sha256_file(d / "model.onnx")
    (d / "card.json").write_text(json.dumps(card))
    _assert_refused(models_dir, "corrupt", "cannot be loaded by onnxruntime")


def test_refuses_corrupted_model_with_old_sha(models_dir):
    d = copy_model(models_dir, "genre", "flipped")
    data = bytearray((d / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (d / "model.onnx").write_bytes(bytes(data))
    _assert_refused(models_dir, "flipped", "sha256 mismatch")


def test_refuses_wrong_output_shape(models_dir):
    d = copy_model(models_dir, "genre", "badshape")
    card = json.loads((d / "card.json").read_text())
    card["outputs"][0]["shape"] = [1, 4]
    card["outputs"][0]["labels"] = LABELS + ["delta"]
    (d / "card.json").write_text(json.dumps(card))
    _assert_refused(models_dir, "badshape", r"output 'probs' shape expected \[1, 4\], model has \[1, 3\]")


def test_refuses_wrong_input_name(models_dir):
    d = copy_model(models_dir, "genre", "badname")
    card = json.loads((d / "card.json").read_text())
    card["input"]["name"] = "x"
    (d / "card.json").write_text(json.dumps(card))
    _assert_refused(models_dir, "badname", r"input names expected \['x'\], model has \['features'\]")


def test_refuses_missing_card_and_missing_model(models_dir):
    d = copy_model(models_dir, "genre", "nocard")
    (d / "card.json").unlink()
    _assert_refused(models_dir, "nocard", "model card missing")
    _assert_refused(models_dir, "does-not-exist", "not found")


def test_refuses_unknown_recipe_version(models_dir):
    d = copy_model(models_dir, "genre", "oldrecipe")
    card = json.loads((d / "card.json").read_text())
    card["input"]["recipe_version"] = 99
    (d / "card.json").write_text(json.dumps(card))
    _assert_refused(models_dir, "oldrecipe", "recipe_version expected 1")


def test_hot_swap_during_stream_loses_no_frames(models_dir):
    """Swap the model from another thread while a pipeline streams; every frame keeps its outputs,
    and the answer changes at the swap: the two models answer the same input differently
    (class 1 is "beta" for ``genre``, "gamma" for ``genre-rotated``)."""
    host = ModelHost(models_dir, smoothing=0.0)
    slot = host.add("genre", "genre")
    old = slot.inner
    sr = 22050
    pipe = Pipeline(samplerate=sr, channels=[0], processors=[Inject(1), slot], hop=0.1, drop_late=False)
    pipe.warmup()
    rng = np.random.default_rng(0)
    block = (0.1 * rng.standard_normal((512, 1))).astype(np.float32)
    frames = []  # (index, genre label, model before the frame, model after it)
    swapper = None
    for i in range(400):
        pipe.push(block, 512)
        while True:
            before = slot.inner
            f = pipe.run_frame()
            if f is None:
                break
            g = f.values.get("genre")
            frames.append((f.index, None if g is None else g[0], before, slot.inner))
        if i == 150:
            swapper = threading.Thread(target=host.load, args=("genre", "genre-rotated"))
            swapper.start()
    swapper.join()
    idx = [i for i, *_ in frames]
    assert idx == list(range(idx[0], idx[0] + len(idx)))  # consecutive: nothing lost
    new = slot.inner
    assert new is not old and slot.model_name == "genre-rotated"
    by_old = [g for _, g, b, a in frames if b is old and a is old]
    by_new = [g for _, g, b, a in frames if b is new and a is new]
    assert by_old and by_new and len(by_old) + len(by_new) >= len(frames) - 1  # at most the swap hop between
    assert set(by_old) == {"beta"} and set(by_new) == {"gamma"}
    labels = [g for _, g, *_ in frames]
    # one change, at the swap hop: beta ... beta gamma ... gamma
    k = labels.index("gamma")
    assert labels[:k] == ["beta"] * k and labels[k:] == ["gamma"] * (len(labels) - k)
    first_new = next(j for j, (_, _, b, a) in enumerate(frames) if a is new)
    assert k in (first_new, first_new + 1)
    assert pipe.stats.counters.get("errors:model:genre", 0) == 0


def test_set_smoothing_on_host(models_dir):
    host = ModelHost(models_dir, smoothing=0.0)
    slot = host.add("genre", "genre")
    host.set_smoothing(0.9)
    a = slot.process(frame_with(class_vector(0)))["genre/probs"]
    b = slot.process(frame_with(class_vector(2)))["genre/probs"]
    # with alpha 0.9 the second hop moves only 10% of the way towards the new class
    assert b[0] > 0.8 * a[0]
    with pytest.raises(ValueError, match="smoothing"):
        host.set_smoothing(2.0)


def test_card_validation_messages():
    with pytest.raises(ModelError, match="missing field 'kind'"):
        modelcard.validate_card({"name": "x"})
    with pytest.raises(ModelError, match="kind='nope'"):
        modelcard.validate_card({"name": "x", "kind": "nope"})


# -- rule-based emotion ------------------------------------------------------------------------
def _vec(**kw) -> np.ndarray:
    v = np.zeros(len(GTZAN_FEATURES))
    for k, x in kw.items():
        v[GTZAN_FEATURES.index(k)] = x
    return v


def test_rules_known_corners():
    loud_fast = _vec(rms_mean=0.3, spectral_centroid_mean=3500, tempo=180, zero_crossing_rate_mean=0.02)
    quiet_slow = _vec(rms_mean=0.01, spectral_centroid_mean=800, tempo=60, zero_crossing_rate_mean=0.15)
    v, a = valence_arousal(features=loud_fast)
    assert v > 0.9 and a > 0.9 and quadrant(v, a) == 0
    v, a = valence_arousal(features=quiet_slow)
    assert v < 0.1 and a < 0.1 and quadrant(v, a) == 2
    with pytest.raises(ValueError, match="recipe vector"):
        valence_arousal(features=np.zeros(3))


def test_rules_processor_outputs():
    p = EmotionRulesProcessor()
    assert p.process(Frame()) == {}
    out = p.process(frame_with(_vec(rms_mean=0.1, spectral_centroid_mean=2000, tempo=120)))
    v, a = out["emotion/rules"]
    assert 0 <= v <= 1 and 0 <= a <= 1 and out["emotion/rules/label"] in ("happy", "tense", "sad", "calm")


def test_default_processors_slots(models_dir, tmp_path):
    from s2s_live.config import Config
    from s2s_live.inference import default_processors, host_of

    empty = tmp_path / "none"
    empty.mkdir()
    procs = default_processors(Config(models_dir=str(empty)))
    assert [p.name for p in procs] == ["emotion_rules"] and host_of(procs) is None
    cfg = Config(models_dir=str(models_dir), models={"genre": "genre"}, hysteresis_margin=0.3, hysteresis_hold=2.0)
    procs = default_processors(cfg)
    host = host_of(procs)
    assert set(host.slots) == {"genre"} and host.slots["genre"].inner.specs[0].hyst.hold == 2.0
    with pytest.raises(ModelError, match="not found"):
        default_processors(Config(models_dir=str(models_dir), models={"mood": "nope"}))


def test_decoder_cannot_fill_a_slot(models_dir, tmp_path):
    from s2s_live.train import vae

    out = tmp_path / "v"
    vae.train(None, out, params=vae.VAEParams.preset("tiny"), progress=False)
    host = ModelHost(out)
    with pytest.raises(ModelError, match="decoder"):
        host.add("x", "decoder")
