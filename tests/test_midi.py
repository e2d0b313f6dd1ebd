"""MIDI out (CC) and in (notes, CC) on real JACK MIDI ports of the dummy JACK server."""

from __future__ import annotations

import importlib.util
import subprocess
import time

import numpy as np
import pytest
from helpers import OSCRecorder, free_port, require

from s2s_live.config import Config
from s2s_live.errors import ConfigError
from s2s_live.midi import DEFAULT_CC, MidiBridge, check_cc_map
from s2s_live.processor import Output

OUTS = [Output("level", stream="fast"), Output("bands", shape=3, stream="fast"),
        Output("features/centroid", range=(0.0, 11025.0)), Output("genre/id", type="i", range=(0.0, 9.0)),
        Output("key", type="s", range=None), Output("emotion/rules", type="ff")]


def test_cc_mapping_scales_from_declared_ranges():
    b = MidiBridge(None, cc_map={"level": 20, "bands/2": 21, "features/centroid": 22, "genre/id": 23,
                                 "key": 24, "emotion/rules/1": 25, "missing": 26})
    b._replan(OUTS)
    got = dict(b.cc_values({"level": 0.5, "bands": np.array([0.0, 0.0, 1.0], np.float32),
                            "features/centroid": 11025.0 / 4, "genre/id": 7, "key": "A minor",
                            "emotion/rules": (0.1, 0.25)}))
    assert got == {20: 64, 21: 127, 22: 32, 23: 7, 25: 32}  # strings and unknown names are skipped
    assert dict(b.cc_values({"level": float("nan"), "genre/id": 400})) == {23: 127}


@pytest.mark.parametrize("bad,msg", [({"level": 120}, "0..119"), ({"level": True}, "0..119"), ({"": 1}, "output name"),
                                     ([("level", 1)], "table")])
def test_cc_map_validation(bad, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        check_cc_map(bad)


def test_config_validates_midi_fields():
    with pytest.raises(ConfigError, match="midi_channel"):
        Config(midi_channel=17).validate()
    with pytest.raises(ConfigError, match="midi_api"):
        Config(midi_api="winmm").validate()
    with pytest.raises(ConfigError, match="midi_cc"):
        Config(midi_cc={"level": 200}).validate()
    with pytest.raises(ValueError, match="channel"):
        MidiBridge(None, channel=0)


def _jack_connect(src: str, dst: str) -> None:
    r = subprocess.run(["jack_connect", src, dst], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, (src, dst, r.stderr)


def test_jack_midi_cc_out_and_note_in(jack_server, tmp_path):
    import mido

    from s2s_live import midi
    from s2s_live.engine import Engine

    be = midi.backend("jack")
    visuals = "procedural" if importlib.util.find_spec("s2s_live.visuals.controller") else "none"
    rec = OSCRecorder()
    cfg = Config(source="synth", targets=[f"127.0.0.1:{rec.port}"], control_port=free_port(), visuals=visuals,
                 web_port=0, visuals_auto=False, out_dir=str(tmp_path), midi_api="jack",
                 midi_out="s2s_test_out", midi_in="s2s_test_in", midi_channel=3)
    eng = Engine(cfg)
    eng.start()
    # the engine starts the bridge itself from midi_out/midi_in: the test never starts one
    bridge = eng.midi
    assert isinstance(bridge, midi.MidiBridge), "Engine.start() did not start the MIDI bridge"
    probe_in = be.open_input("probe_in", virtual=True, client_name="s2s_probe_rx")
    probe_out = be.open_output("probe_out", virtual=True, client_name="s2s_probe_tx")
    try:
        _jack_connect("s2s_live_out:s2s_test_out", "s2s_probe_rx:probe_in")
        _jack_connect("s2s_probe_tx:probe_out", "s2s_live_in:s2s_test_in")
        # CCs arrive: level on CC 20 (the synth plays music, so it is not 0), channel 3
        got, deadline = [], time.time() + 10
        while time.time() < deadline and not any(m.control == DEFAULT_CC["level"] for m in got):
            got += [m for m in probe_in.iter_pending() if m.type == "control_change"]
            time.sleep(0.05)
        levels = [m.value for m in got if m.control == DEFAULT_CC["level"]]
        assert levels and max(levels) > 10 and all(m.channel == 2 for m in got)
        assert bridge.counters["cc_sent"] >= 1
        # a CC on the input sets the smoothing
        probe_out.send(mido.Message("control_change", control=cfg.midi_smoothing_cc, value=127))
        deadline = time.time() + 5
        while time.time() < deadline and eng.cfg.smoothing != 0.99:
            time.sleep(0.02)
        assert eng.cfg.smoothing == 0.99
        # a note asks for an image
        rec.clear()
        probe_out.send(mido.Message("note_on", note=60, velocity=100))
        deadline = time.time() + 5
        while time.time() < deadline and bridge.counters["notes"] < 1:
            time.sleep(0.02)
        assert bridge.counters["notes"] == 1
        if visuals == "none":
            require(False, "s2s_live.visuals.controller is not available: cannot check /s2s/image/started")
        started = rec.wait_for("/s2s/image/started", timeout=30)
        assert started, rec.addresses()
    finally:
        probe_in.close()
        probe_out.close()
        eng.stop()  # stops the bridge too
        rec.close()
    ports = subprocess.run(["jack_lsp"], capture_output=True, text=True, timeout=10).stdout
    assert "s2s_test_out" not in ports and "s2s_test_in" not in ports, ports  # closed by Engine.stop()
