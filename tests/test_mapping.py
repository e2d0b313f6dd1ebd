"""The Wekinator-compatible mapper: a real engine on the synth, real UDP clients and receivers.

The synth alternates a quiet section (ambient, gain 0.4, no drums) and a loud one (techno, gain
0.9, driven) every SECTION seconds. A client (its own UDP socket, as a patch) records output x =
0.0 / class 1 in the middle of quiet sections and x = 1.0 / class 2 in loud ones over
Wekinator's port, trains, runs; the ``/wek/outputs`` received on a real UDP port must follow the
sections. Section membership is read from the stream time of each ``/s2s/frame`` (the frame's
audio is its last second, so only frames whose whole second lies in one section are used).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from helpers import OSCRecorder, free_port, require
from test_control import Client

from s2s_live.config import Config
from s2s_live.engine import Engine
from s2s_live.errors import ConfigError, ModelError
from s2s_live.mapping import (MappingProcessor, export_onnx, parse_output, parse_outputs, read_examples,
                              sklearn_predict)
from s2s_live.osc import encode_message
from s2s_live.capture.synth import STYLES



@pytest.fixture(autouse=True, scope="module")
def _skl2onnx():
    import importlib.util

    require(importlib.util.find_spec("skl2onnx") is not None, "skl2onnx (the mapping extra) is not installed")

SECTION = 3.0  #: seconds asked per synth section (ambient, techno, ambient, ...)
HOP = 0.1
W = "/wekinator/control"
# the synth rounds sections to whole bars: ambient 1 bar of 4 s, techno 2 bars of 1.875 s
QUIET, LOUD = (max(1, round(SECTION / (240 / STYLES[s].bpm))) * 240 / STYLES[s].bpm for s in ("ambient", "techno"))
CYCLE = QUIET + LOUD


def _phase(t: float) -> tuple[int, bool]:
    """(section number: even quiet, odd loud; whether a frame at stream time t has its whole
    last second inside that section, with a margin)."""
    c, p = divmod(t, CYCLE)
    k, p = (2 * int(c), p) if p < QUIET else (2 * int(c) + 1, p - QUIET)
    return k, 1.25 <= p <= (QUIET if k % 2 == 0 else LOUD) - 0.1


def _cfg(rec_port: int, folder, **kw) -> Config:
    c = dict(source="synth", synth_styles=["ambient", "techno"], synth_section=SECTION, hop=HOP,
             targets=[f"127.0.0.1:{rec_port}"], control_port=free_port(), visuals="none",
             mapper=True, mapper_port=free_port(), mapper_inputs=["features/rms", "level", "features/centroid"],
             mapper_outputs=["x:knn", "style:knn:2"], mapper_targets=[f"127.0.0.1:{rec_port}"],
             mapper_dir=str(folder))
    c.update(kw)
    return Config(**c)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("mappings")


@pytest.fixture(scope="module")
def eng(folder):
    rec = OSCRecorder()
    e = Engine(_cfg(rec.port, folder))
    e.start()
    e.rec = rec
    assert rec.wait_for("/s2s/frame", 2, timeout=30)
    yield e
    e.stop()
    rec.close()


class PyOscClient:
    """A patch's sender: python-osc's own client and encoder (not s2s_live's), its own socket."""

    def __init__(self, port: int) -> None:
        from pythonosc.udp_client import SimpleUDPClient

        self.c = SimpleUDPClient("127.0.0.1", port)

    def send(self, address: str, tags: str = "", *args) -> None:
        self.c.send_message(address, [float(a) if t == "f" else a for t, a in zip(tags, args)])

    def close(self) -> None:
        self.c._sock.close()


def _latest_time(rec) -> float:
    fr = rec.of("/s2s/frame")
    return fr[-1][1][1] if fr else -1.0


def _record_cycle(rec, wek: Client) -> None:
    """One quiet + one loud section: record x=0/style=1 in quiet, x=1/style=2 in loud middles."""
    t0 = _latest_time(rec)
    start = (int(t0 // CYCLE) + 1) * CYCLE  # the next quiet section
    state = None
    while _latest_time(rec) < start + CYCLE:
        t = _latest_time(rec)
        k, inside = _phase(t + HOP)  # the next frame's
        want = ("loud" if k % 2 else "quiet") if inside and t + HOP >= start else None
        if want != state:
            if want is None:
                wek.send(f"{W}/stopRecording")
            else:
                wek.send(f"{W}/outputs", "ff", *((1.0, 2.0) if want == "loud" else (0.0, 1.0)))
                wek.send(f"{W}/startRecording")
            state = want
        time.sleep(0.01)
    wek.send(f"{W}/stopRecording")


def _observe(rec, cycles: float = 1.0) -> tuple[list, list]:
    """/wek/outputs values of frames inside quiet and inside loud sections for ``cycles`` cycles."""
    rec.clear()
    end = time.time() + cycles * CYCLE + 0.5
    while time.time() < end:
        time.sleep(0.05)
    quiet, loud = [], []
    pending = None
    for _, addr, args in list(rec.messages):
        if addr == "/wek/outputs":
            pending = args
        elif addr == "/s2s/frame" and pending is not None:
            k, inside = _phase(args[1])
            if inside:
                (loud if k % 2 else quiet).append(pending)
            pending = None
    return quiet, loud


def _status(ctl: Client) -> dict:
    m = ctl.ask("/s2s/map/status", want="/s2s/map/status")
    assert m is not None
    return json.loads(m[2][0])


def _train(ctl: Client, wek: Client) -> dict:
    wek.send(f"{W}/train")
    deadline = time.time() + 60
    while time.time() < deadline:
        s = _status(ctl)
        if not s["training"] and s["trained"]:
            return s
        assert not s["error"], s["error"]
        time.sleep(0.2)
    raise AssertionError("training did not finish")


def _follows(quiet, loud, *, cls: bool = True) -> None:
    assert len(quiet) >= 5 and len(loud) >= 5, (len(quiet), len(loud))
    q, lo = np.array(quiet), np.array(loud)
    assert np.median(q[:, 0]) < 0.25 and np.median(lo[:, 0]) > 0.75, (q[:, 0], lo[:, 0])
    if cls:  # class numbers: 1 in quiet sections, 2 in loud ones, for nearly every frame
        assert np.mean(q[:, 1] == 1.0) >= 0.9 and np.mean(lo[:, 1] == 2.0) >= 0.9, (q[:, 1], lo[:, 1])


def test_round_trip_knn_then_mlp_and_logistic(eng, folder):
    rec = eng.rec
    wek, ctl = PyOscClient(eng.wekinator.port), Client(eng.control.port)
    try:
        assert _status(ctl)["examples"] == 0
        _record_cycle(rec, wek)
        s = _status(ctl)
        assert s["examples"] >= 20 and [o["examples"] for o in s["outputs"]] == [s["examples"]] * 2
        X, Y = eng.mapper.examples()
        assert set(np.unique(Y[:, 0])) == {0.0, 1.0} and set(np.unique(Y[:, 1])) == {1.0, 2.0}
        # the loud examples are louder (features/rms is input 0): the recording followed the sections
        assert X[Y[:, 0] == 1, 0].mean() > 1.5 * X[Y[:, 0] == 0, 0].mean()
        _train(ctl, wek)
        wek.send(f"{W}/startRunning")
        _follows(*_observe(rec))
        assert rec.of("/s2s/map/outputs") and rec.of("/s2s/map/probs")
        # the same examples with an MLP (x) and logistic regression (style), over /s2s/map/algorithm
        assert ctl.ask("/s2s/map/algorithm", "is", 1, "mlp", want="/s2s/ack")[2][:3] == ["/s2s/map/algorithm", 1, "mlp"]
        assert ctl.ask("/s2s/map/algorithm", "is", 2, "logistic", want="/s2s/ack") is not None
        s = _train(ctl, wek)
        assert [o["algo"] for o in s["outputs"]] == ["mlp", "logistic"] and s["running"]
        _follows(*_observe(rec))
        # the exported graph the mapper runs equals scikit-learn on 100 inputs (<= 1e-5)
        rng = np.random.default_rng(0)
        Xt = (X[rng.integers(0, len(X), 100)] * (1 + 0.05 * rng.standard_normal((100, X.shape[1])))).astype(np.float32)
        session, _ = eng.mapper._session
        o, p = session.run(None, {"x": Xt})
        so, sp = sklearn_predict(eng.mapper._models, eng.mapper.specs, Xt)
        assert np.abs(o - so).max() <= 1e-5 and np.abs(p - sp).max() <= 1e-5
        # what runs per hop after this training: the fitted arrays, scikit-learn's own arithmetic
        from s2s_live.mapping import FittedPredictor

        assert isinstance(eng.mapper._predict, FittedPredictor)
        o64, p64 = eng.mapper._predict(Xt)
        assert np.abs(o64 - so).max() <= 1e-6 and np.abs(p64 - sp).max() <= 1e-6
        # saved by name: examples CSV with names, ONNX + card
        assert ctl.ask("/s2s/map/save", "s", "perf", want="/s2s/ack") is not None
        Xs, Ys, ins, outs = read_examples(folder / "perf" / "examples.csv")
        assert ins == ["features/rms", "level", "features/centroid"] and outs == ["x", "style"]
        assert np.array_equal(Xs, X) and np.array_equal(Ys, Y, equal_nan=True)
        eng.saved = (Xt, o, p)
    finally:
        wek.close()
        ctl.close()


def test_corrupt_mapping_refused_old_keeps_running(eng, folder):
    ctl = Client(eng.control.port)
    try:
        before = _status(ctl)
        assert before["running"] and before["mapping"] == "perf"
        bad = folder / "bad"
        bad.mkdir(exist_ok=True)
        for f in (folder / "perf").iterdir():
            (bad / f.name).write_bytes(f.read_bytes())
        m = bytearray((bad / "model.onnx").read_bytes())
        m[len(m) // 2] ^= 0xFF
        (bad / "model.onnx").write_bytes(bytes(m))
        err = ctl.ask("/s2s/map/load", "s", "bad", want="/s2s/error")
        assert err is not None and err[2][0] == "/s2s/map/load" and "sha256 mismatch" in err[2][1]
        # an examples file that is not numbers, with an intact model: refused naming the line
        (bad / "model.onnx").write_bytes((folder / "perf" / "model.onnx").read_bytes())
        (bad / "examples.csv").write_text((folder / "perf" / "examples.csv").read_text() + "1,x,2,3,4\n")
        err = ctl.ask("/s2s/map/load", "s", "bad", want="/s2s/error")
        assert err is not None and "is not a number" in err[2][1]
        # remote senders read these texts: the mapping and file by name, never the folder's path
        assert str(folder) not in err[2][1] and "'bad/examples.csv' line" in err[2][1], err[2][1]
        err = ctl.ask("/s2s/map/load", "s", "no-such-mapping", want="/s2s/error")
        assert err is not None and "not found" in err[2][1] and str(folder) not in err[2][1], err[2][1]
        err = ctl.ask("/s2s/map/load", "s", "../perf", want="/s2s/error")
        assert err is not None and "invalid" in err[2][1]
        after = _status(ctl)
        assert after["running"] and after["mapping"] == "perf" and after["examples"] == before["examples"]
        # a hot swap to a good mapping (the saved one, as a new name) keeps running
        (bad / "examples.csv").write_text((folder / "perf" / "examples.csv").read_text())
        assert ctl.ask("/s2s/map/load", "s", "bad", want="/s2s/ack")[2] == ["/s2s/map/load", "bad"]
        after = _status(ctl)
        assert after["running"] and after["mapping"] == "bad" and after["examples"] == before["examples"]
        (bad / "examples.csv").write_text((folder / "perf" / "examples.csv").read_text() + "1,x,2,3,4\n")
        eng.rec.clear()
        assert len(eng.rec.wait_for("/wek/outputs", 3, timeout=5)) >= 3
        # doctor checks every saved mapping through the model host's loader
        from s2s_live import doctor

        rows = {name: (v, msg) for v, name, msg in doctor.check_mappings(eng.cfg)}
        assert rows["mapping:perf"][0] == doctor.OK and "matches its card" in rows["mapping:perf"][1]
        assert rows["mapping:bad"][0] == doctor.FAIL and "is not a number" in rows["mapping:bad"][1]
    finally:
        ctl.close()


def test_hostile_input_on_the_wekinator_port_is_counted(eng):
    wk = eng.wekinator
    assert wk.sock.getsockname()[0] == "127.0.0.1"  # loopback unless control_host says otherwise
    c = Client(wk.port)
    try:
        before = dict(wk.counters)
        c.raw(b"\x00garbage")  # malformed
        c.raw(encode_message(f"{W}/train", "", []) + b"x" * 9000)  # oversize
        c.send(f"{W}/outputs", "s", "loud")  # wrong type
        c.send(f"{W}/outputs", "fff", 1.0, 2.0, 3.0)  # 3 values for 2 outputs
        c.send(f"{W}/outputs", "ff", 0.5, 7.0)  # class 7 of 2
        c.send(f"{W}/enableModelRunning", "i", 9)  # no model 9
        c.send("/wekinator/control/../../etc/passwd")
        c.send(f"{W}/setInputNames", "s", "not/an/output")
        c.send("/wek/inputs", "ff", 0.1, 0.2)  # a feature extractor's inputs: accepted, ignored
        replies = c.recv(timeout=2.0)
        errors = [m for m in replies if m[0] == "/s2s/error"]
        assert len(errors) == 6, replies
        reasons = " | ".join(m[2][1] for m in errors)
        for part in ("must be a finite number", "takes 2 value(s)", "a class 1..2", "expected 1..2",
                     "unknown Wekinator control address", "is not an output of this pipeline"):
            assert part in reasons, (part, reasons)
        d = {k: wk.counters[k] - before.get(k, 0) for k in wk.counters}
        assert d["malformed"] == 1 and d["oversize"] == 1 and d["bad"] == 6 and d["wek_inputs"] == 1
        assert eng.mapper.status()["inputs"] == ["features/rms", "level", "features/centroid"]
        assert eng.running
    finally:
        c.close()


def test_save_restart_load_same_outputs(eng, folder):
    Xt, o, p = eng.saved
    eng.stop()
    rec = OSCRecorder()
    e2 = Engine(_cfg(rec.port, folder, mapper_load="perf"))
    try:
        e2.start()
        s = e2.mapper.status()
        assert s["trained"] and s["running"] and s["mapping"] == "perf"
        assert s["examples"] == len(e2.mapper.examples()[0]) > 0
        o2, p2 = e2.mapper._session[0].run(None, {"x": Xt})
        assert np.abs(o2 - o).max() <= 1e-6 and np.abs(p2 - p).max() <= 1e-6
        e2.rec = rec
        _follows(*_observe(rec, 0.75), cls=True)
    finally:
        e2.stop()
        rec.close()


def test_specs_and_binding_refuse_bad_values():
    with pytest.raises(ConfigError, match=r"algorithm 'svm' is invalid for a continuous output"):
        parse_output("x:svm")
    with pytest.raises(ConfigError, match=r"classes='1' is invalid; expected 2..64"):
        parse_output("x:knn:1")
    with pytest.raises(ConfigError, match=r"names \['a'\] are given twice"):
        parse_outputs(["a", "a:knn"])
    assert parse_output("mood:logistic:3").spec == "mood:logistic:3" and parse_output("y").algo == "mlp"
    with pytest.raises(ConfigError, match="mapper_outputs"):
        Config(mapper_outputs=[]).validate()
    m = MappingProcessor(inputs=["nope"], outputs=["x"], targets=[])
    from s2s_live.processor import Output

    with pytest.raises(ConfigError, match=r"mapper input 'nope' is not an output of this pipeline; expected one of \['a'\]"):
        m.bind([Output("a"), Output("key", type="s")])
    with pytest.raises(ModelError, match="no examples"):
        m.train()
    m.close()


def test_export_matches_sklearn_for_every_algorithm():
    """Every algorithm, classes missing from the examples included, on 100 new inputs."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 4)).astype(np.float32)
    specs = parse_outputs(["a:knn", "b:mlp", "c:linear", "d:ridge", "e:knn:3", "f:logistic:4"])
    Y = np.stack([X[:, 0], np.tanh(X[:, 1]), 2 * X[:, 2], X[:, 3], 1 + (X[:, 0] > 0) + (X[:, 1] > 0.5),
                  np.where(X[:, 2] > 0, 4, 1)], axis=1)  # f: classes 2 and 3 never recorded
    from s2s_live.inference import make_session
    from s2s_live.mapping import fit_output

    models = [fit_output(o, X, Y[:, i]) for i, o in enumerate(specs)]
    s = make_session(export_onnx(models, specs, 4).SerializeToString())
    Xt = rng.standard_normal((100, 4)).astype(np.float32)
    o, p = s.run(None, {"x": Xt})
    so, sp = sklearn_predict(models, specs, Xt)
    assert o.shape == (100, 6) and p.shape == (100, 7)
    assert np.abs(o - so).max() <= 1e-5 and np.abs(p - sp).max() <= 1e-5
    assert set(np.unique(o[:, 5])) <= {1.0, 4.0} and np.all(p[:, 3:][:, [1, 2]] == 0)


def test_cancel_ends_the_training_and_the_next_one_runs():
    """cancelTrain ends the training process mid-fit: nothing is swapped in; the next train works."""
    from s2s_live.processor import Output

    m = MappingProcessor(inputs=["a", "v"], outputs=["x:mlp", "c:logistic:3"], targets=[])
    try:
        m.bind([Output("a"), Output("v", shape=7)])
        rng = np.random.default_rng(2)
        X = rng.standard_normal((2000, 8)).astype(np.float32)
        m.add_examples(X, np.stack([np.tanh(X[:, 0]), 1 + (X[:, 1] > 0) + (X[:, 2] > 0)], axis=1))
        m.warmup()  # spawns the training process
        m.train()
        m.cancel_train()
        assert m.wait_trained(5) and not m.status()["trained"]
        m.train()
        assert m.wait_trained(120)
        s = m.status()
        assert s["trained"] and not s["error"] and s["trains"] == 1, s
    finally:
        m.close()


def test_recording_masks_and_counts_per_output():
    """disableModelRecording leaves an output out of the next examples (NaN, not counted); inputs
    come from the frame's values and from the fast stream (level)."""
    from s2s_live.processor import Output

    class _Frame:
        values = {"features/rms": 0.2, "v": np.array([1.0, 2.0], np.float32)}

    m = MappingProcessor(inputs=["features/rms", "v", "level"], outputs=["x:knn", "c:knn:2"], targets=[])
    try:
        m.bind([Output("features/rms"), Output("v", shape=2, labels=("p", "q")), Output("level", stream="fast")])
        assert m.input_names == ["features/rms", "v/p", "v/q", "level"]
        assert m.process(_Frame()) == {}  # no fast value yet: nothing recorded, nothing sent
        m.fast_values = lambda: {"level": 0.5}
        m.set_values([0.7, 2])
        m.enable("recording", [2], False)
        m.set_recording(True)
        for _ in range(3):
            m.process(_Frame())
        X, Y = m.examples()
        assert np.allclose(X, [[0.2, 1.0, 2.0, 0.5]] * 3) and np.allclose(Y[:, 0], 0.7) and np.isnan(Y[:, 1]).all()
        assert [o["examples"] for o in m.status()["outputs"]] == [3, 0]
        with pytest.raises(ConfigError, match=r"a class 1..2"):
            m.set_values([0.1, 1.5])
        with pytest.raises(ModelError, match="not trained yet"):
            m.set_running(True)
    finally:
        m.close()


SPECS_ALL = ["a:knn", "b:mlp", "c:linear", "d:ridge", "e:knn:3", "f:logistic:4", "g:logistic:2", "h:knn:2"]


def _fitted(n: int, d: int, seed: int):
    """Every algorithm fitted on n examples of d inputs: f never sees classes 2 and 3, h only
    class 1, b misses every third example (its own scaler)."""
    from s2s_live.mapping import fit_output

    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, d)) * rng.uniform(0.01, 1000, d)).astype(np.float32)
    z = (X - X.mean(0)) / X.std(0)
    Y = np.stack([z[:, 0], np.tanh(z[:, 1]), 2 * z[:, 2] + 3, z[:, 3] - 1.5, 1 + (z[:, 0] > 0) + (z[:, 1] > 0.5),
                  np.where(z[:, 2] > 0, 4, 1), 1 + (z[:, 3] > 0), np.ones(n)], axis=1).astype(np.float32)
    Y[::3, 1] = np.nan
    specs = parse_outputs(SPECS_ALL)
    models = [fit_output(o, X, Y[:, i], seed=seed) for i, o in enumerate(specs)]
    Xt = (X[rng.integers(0, n, 100)] * (1 + 0.05 * rng.standard_normal((100, d)))).astype(np.float32)
    return specs, models, X, Y, Xt


@pytest.mark.parametrize("n,d", [(200, 4), (3000, 23)])  # scikit-learn's kd-tree and brute-force kNN
def test_fitted_predictor_equals_sklearn_for_every_algorithm(n, d):
    """The mapper's running arithmetic (the fitted arrays in float64) equals scikit-learn's
    predict / predict_proba on 100 new inputs within 1e-6, one by one (as per hop) and batched."""
    from s2s_live.mapping import compile_models

    specs, models, _, _, Xt = _fitted(n, d, seed=n)
    f = compile_models(models, specs)
    assert f is not None and len(f._scalers) == 2  # b's scaler differs; the others share one
    so, sp = sklearn_predict(models, specs, Xt)
    o, p = f(Xt)
    assert o.shape == (100, 8) and p.shape == (100, 11)
    assert np.abs(o - so).max() <= 1e-6 and np.abs(p - sp).max() <= 1e-6
    rows = [f(Xt[i:i + 1]) for i in range(100)]
    assert np.abs(np.concatenate([r[0] for r in rows]) - so).max() <= 1e-6
    assert np.abs(np.concatenate([r[1] for r in rows]) - sp).max() <= 1e-6
    # not trivially equal: the outputs vary, every class output takes more than one class but h
    assert all(len(np.unique(so[:, j])) > 1 for j in range(7)) and set(np.unique(o[:, 7])) == {1.0}


def test_fitted_predictor_votes_like_sklearn_with_more_neighbours(monkeypatch):
    """k > 1 (KNN_K): the mean of the k nearest examples' values, the classes' share of their votes."""
    import s2s_live.mapping.fit as fit  # the module whose _estimator reads KNN_K

    monkeypatch.setattr(fit, "KNN_K", 3)
    specs, models, _, _, Xt = _fitted(400, 6, seed=4)
    assert models[0].steps[-1][1].n_neighbors == 3
    o, p = fit.compile_models(models, specs)(Xt)
    so, sp = sklearn_predict(models, specs, Xt)
    assert np.abs(o - so).max() <= 1e-6 and np.abs(p - sp).max() <= 1e-6
    assert len(np.unique(sp[:, :3])) > 2  # votes of 1/3 and 2/3, not only 0 and 1


def test_running_mapper_sends_what_sklearn_predicts():
    """process() of a running mapper (fitted pipelines installed as a training does): the
    ``/wek/outputs`` received on a real UDP port and map/outputs, map/probs are scikit-learn's
    predictions (float32); a disabled output holds its value; a NaN input counts as 0; a
    pipeline of another form runs on the exported ONNX graph."""
    from s2s_live.mapping import compile_models
    from s2s_live.processor import Output

    specs, models, _, _, Xt = _fitted(300, 5, seed=3)
    rec = OSCRecorder()
    m = MappingProcessor(inputs=["a", "v"], outputs=SPECS_ALL, targets=[f"127.0.0.1:{rec.port}"])

    class _Frame:
        values: dict = {}

    try:
        m.bind([Output("a"), Output("v", shape=4)])
        m.install(models, export_onnx(models, specs, 5).SerializeToString())
        m.set_running(True)
        so, sp = sklearn_predict(models, specs, Xt)
        got = []
        for i in range(20):
            _Frame.values = {"a": np.float32(Xt[i, 0]), "v": Xt[i, 1:]}
            r = m.process(_Frame())
            assert np.abs(r["map/outputs"] - so[i]).max() <= 1e-6 * max(1.0, np.abs(so[i]).max())
            assert np.abs(r["map/probs"] - sp[i]).max() <= 1e-6
            got.append(so[i].astype(np.float32))
        sent = rec.wait_for("/wek/outputs", 20, timeout=5)
        assert len(sent) == 20 and np.array_equal(np.array([a for _, a in sent], np.float32), np.array(got))
        m.enable("running", [3], False)  # c holds its last value, the others follow
        _Frame.values = {"a": np.float32(np.nan), "v": Xt[20, 1:]}
        r = m.process(_Frame())
        x0 = Xt[20].copy()
        x0[0] = 0.0
        s0, _ = sklearn_predict(models, specs, x0[None])
        assert r["map/outputs"][2] == got[-1][2]
        keep = [0, 1, 3, 4, 5, 6, 7]
        assert np.abs(r["map/outputs"][keep] - s0[0, keep]).max() <= 1e-6 * max(1.0, np.abs(s0).max())
        # weighted neighbours are not a form the fitted arithmetic knows: the ONNX graph runs
        models[0].steps[-1][1].set_params(weights="distance")
        assert compile_models(models, specs) is None
        m.install(models, export_onnx(models, specs, 5).SerializeToString())
        m.enable("running", [], True)
        _Frame.values = {"a": np.float32(Xt[0, 0]), "v": Xt[0, 1:]}
        r = m.process(_Frame())
        o, p = m._session[0].run(None, {"x": Xt[:1]})
        assert np.array_equal(r["map/outputs"], o[0]) and np.array_equal(r["map/probs"], p[0])
    finally:
        m.close()
        rec.close()
