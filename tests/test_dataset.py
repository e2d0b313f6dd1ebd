"""ASCIML's dataset workflow: record from a real JACK input, add a file, synthesise, show, train.

Signals with known answers: a 440 Hz sine at amplitude 0.5 played into the JACK dummy server, a
220 Hz sine file at amplitude 0.25, and the generator's AM tones whose f0 the sidecars record.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from helpers import CI, input_clients, wait_new_input_client
from s2s_live import cli
from s2s_live.inference import card as modelcard
from s2s_live.dataset import show as dshow
from s2s_live.dataset import store
from s2s_live.frames import Frame

HAVE_TORCH = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("onnx") is not None
HAMMING_RMS = float(np.sqrt(np.mean(np.hamming(16000) ** 2)))  # RMS gain of the window (0.63)


def _run(capsys, *argv) -> tuple[int, str, str]:
    rc = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.jack
def test_record_from_jack_sine(jack_server, jack_play, tmp_path):
    player = jack_play("sine:440:0.5")
    before = input_clients()

    def on_open(src):  # connect the player to our capture client before recording starts
        assert player.connect_to(wait_new_input_client(before)), "no PortAudio input port to connect to"
        time.sleep(0.2)
        at_open.append(player.underflows())

    at_open = []
    items = store.record(tmp_path / "ds", seconds=5, label="sine440", device="system", on_open=on_open)
    assert [c.name for c in items] == [c.name for c in store.clips(tmp_path / "ds")]
    assert len(items) == 5
    for c in items:
        y, sr = sf.read(str(c.path), dtype="float32")
        assert sr == 16000 and y.shape == (16000,)
        assert c.meta["label"] == "sine440" and c.meta["source"].startswith("live:")
        assert c.meta["window"] == "hamming" and c.meta["source_sr"] == 48000
        assert c.meta["input_rms"] == pytest.approx(0.5 / np.sqrt(2), abs=0.005)  # the level played
        assert c.meta["rms"] == pytest.approx(0.5 / np.sqrt(2) * HAMMING_RMS, abs=0.005)
        assert np.abs(y[:20]).max() < 0.5 * 0.09  # windowed: the edges fade in
    rows = dshow.table(items, f0="pyin")
    # The JACK dummy driver (and a player client starved by a loaded machine) wakes late now and
    # then (see test_engine_jack): the discontinuity in the played sine smears the spectrum of the
    # clip it lands in and the resampler overshoots at it (a loaded CI run: one clip's peak 0.524).
    # Not every such glitch reaches the capture as an overflow, so the waveform-shape checks hold
    # for the median over the 5 clips (2 glitched clips cannot move it) and per clip where the
    # player reported no underflow and the capture no overflow; pitch and level hold for every clip.
    glitches = player.underflows() - at_open[0]
    for c, r in zip(items, rows):
        assert r["f0_hz"] == pytest.approx(440.0, abs=2.0)
        assert r["voiced"] > 0.7
        assert r["rms"] == pytest.approx(0.5 / np.sqrt(2), rel=0.02)  # the envelope is of the input (window divided out)
        if c.meta["overflows"] == 0 and glitches == 0:
            y, _ = sf.read(str(c.path), dtype="float32")
            assert np.abs(y).max() == pytest.approx(0.5, abs=0.01), c.meta
            assert r["centroid_hz"] == pytest.approx(440.0, rel=0.02), c.meta
    peaks = [float(np.abs(sf.read(str(c.path), dtype="float32")[0]).max()) for c in items]
    assert float(np.median(peaks)) == pytest.approx(0.5, abs=0.01), peaks
    assert float(np.median([r["centroid_hz"] for r in rows])) == pytest.approx(440.0, rel=0.02), rows


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """20 synthetic sounds and a 2.5-s 44.1 kHz stereo sine file (220 Hz, amplitude 0.25) added."""
    root = tmp_path_factory.mktemp("dataset")
    sr = 44100
    t = np.arange(int(2.5 * sr)) / sr
    y = 0.25 * np.sin(2 * np.pi * 220 * t)
    sf.write(str(root / "sine220.wav"), np.stack([y, y], 1).astype(np.float32), sr)
    ds = root / "ds"
    assert cli.main(["dataset", "synth", str(ds), "--n", "20", "--seed", "3"]) == 0
    assert cli.main(["dataset", "add", str(ds), str(root / "sine220.wav"), "--label", "sine"]) == 0
    return ds


def test_add_synth_and_show(dataset, tmp_path, capsys):
    items = store.clips(dataset)
    labels = [c.label for c in items]
    assert len(items) == 22
    assert {k: labels.count(k) for k in set(labels)} == {"am": 5, "fm": 5, "additive": 5, "subtractive": 5, "sine": 2}
    rc, out, _ = _run(capsys, "dataset", "show", dataset, "--out", tmp_path / "fig", "--f0", "yin", "--quiet")
    assert rc == 0, out
    rows = json.loads((tmp_path / "fig" / "table.json").read_text())
    assert [r["name"] for r in rows] == [c.name for c in items]
    by = {r["name"]: r for r in rows}
    for c in items:
        r = by[c.name]
        if c.label == "sine":  # the added file: known f0, level and cut
            assert r["f0_hz"] == pytest.approx(220.0, abs=1.0)
            assert r["input_rms"] == pytest.approx(0.25 / np.sqrt(2), abs=1e-3)
            assert r["rms"] == pytest.approx(0.25 / np.sqrt(2), rel=0.02)  # the envelope of the input
            assert c.meta["offset_s"] in (0.0, 1.0) and c.meta["source_sr"] == 44100
        if c.label == "am":  # amplitude modulation keeps the carrier's pitch
            assert r["f0_hz"] == pytest.approx(c.meta["params"]["f0"], rel=0.03)
    csv_lines = (tmp_path / "fig" / "table.csv").read_text().splitlines()
    assert len(csv_lines) == 23 and csv_lines[0].startswith("name,label,source,f0_hz")
    from PIL import Image

    seen = []
    for name in dshow.FIGURES:
        im = Image.open(tmp_path / "fig" / name)
        im.load()
        assert im.format == "PNG" and im.width >= 600 and im.height >= 250, (name, im.size)
        a = np.asarray(im.convert("L"), dtype=np.float64)
        assert a.std() > 10 and len(np.unique(a)) > 20, name  # drawn content, not a blank canvas
        seen.append(a.tobytes())
    assert len(set(seen)) == 4
    page = (tmp_path / "fig" / "index.html").read_text()
    assert all(f"src='{f}'" in page for f in dshow.FIGURES) and page.count("<tr>") == 23


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    ds = tmp_path / "ds"
    rc, _, err = _run(capsys, "dataset", "synth", ds, "--n", "4", "--kinds", "am,wobble")
    assert rc == 2 and "kinds='am,wobble'" in err and "am,fm,additive,subtractive" in err and err.count("\n") == 1
    rc, _, err = _run(capsys, "dataset", "synth", ds, "--n", "0")
    assert rc == 2 and "n=0" in err and "1..100000" in err
    (tmp_path / "notes.wav").write_text("not audio")
    rc, _, err = _run(capsys, "dataset", "add", ds, tmp_path / "notes.wav")
    assert rc == 2 and "notes.wav" in err and "not a readable audio file" in err
    assert not ds.exists() or store.clips(ds) == []
    rc, _, err = _run(capsys, "dataset", "show", tmp_path, "--out", tmp_path / "o")
    assert rc == 2 and "is not a dataset" in err
    rc, _, err = _run(capsys, "dataset", "record", ds, "--seconds", "0.5")
    assert rc == 2 and "seconds=0.5" in err and "1..3600" in err
    rc, _, err = _run(capsys, "dataset", "add", ds, tmp_path / "notes.wav", "--label", "a/b")
    assert rc == 2 and "label='a/b'" in err


@pytest.mark.skipif(not HAVE_TORCH and not CI, reason="torch/onnx not installed (the 'train' extra)")
def test_vae_finetune_one_epoch_loads_and_listens(dataset, tmp_path, capsys):
    from s2s_live.inference import ModelHost

    models = Path(__file__).resolve().parents[1] / "models"
    rc, out, err = _run(capsys, "train", "vae", "--data", dataset, "--init", models / "encoder", "--epochs", "1",
                        "--out", tmp_path / "m", "--quiet")
    assert rc == 0, err
    card = modelcard.load_card(tmp_path / "m" / "encoder")
    shipped = modelcard.load_card(models / "encoder")
    assert card["training"]["init"]["sha256"] == shipped["sha256"]
    assert card["metrics"]["epochs_run"] == 1 and "heldout_dataset_mrstft_db" in card["metrics"]
    assert "22 clips" in card["training"]["data_provenance"]
    assert card["sha256"] != shipped["sha256"]  # the weights moved
    host = ModelHost(tmp_path / "m", smoothing=0.0)
    slot = host.add("encoder", "encoder")
    f = Frame()
    f.y16[:] = store.clips(dataset)[0].audio()
    v = slot.process(f)
    assert np.asarray(v["latent"]).shape == (128,) and np.isfinite(v["latent"]).all()
    assert 0.0 <= min(v["latent/xy"]) and max(v["latent/xy"]) <= 1.0
    # listen: original/reconstruction pairs and an interpolation between two items by name
    rc, out, err = _run(capsys, "vae", "reconstruct", dataset, "--out", tmp_path / "rec", "--limit", "3",
                        "--models-dir", tmp_path / "m")
    assert rc == 0, err
    names = [c.name for c in store.clips(dataset)[:3]]
    for n in names:
        for kind in ("orig", "recon"):
            y, sr = sf.read(str(tmp_path / "rec" / f"{n}.{kind}.wav"))
            assert sr == 16000 and y.shape == (16000,) and np.abs(y).max() > 0
    rc, out, err = _run(capsys, "vae", "interpolate", names[0], names[1], "--data", dataset, "--steps", "3",
                        "--out", tmp_path / "it", "--models-dir", tmp_path / "m")
    assert rc == 0, err and len(list((tmp_path / "it").glob("step_*.wav"))) == 3
    rc, _, err = _run(capsys, "vae", "interpolate", names[0], "../x", "--data", dataset, "--out", tmp_path / "it")
    assert rc == 2 and "'../x' is invalid" in err
