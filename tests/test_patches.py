"""The shipped patches against their real programs (Pure Data, SuperCollider) and the contract.

Max cannot run here: its patch is checked structurally (valid JSON, consistent connections,
udpreceive on the default port, every documented outgoing address routed).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time

import pytest
from helpers import REPO, free_port, have, parse_osc_doc, require, terminate
from label_models import LABELS10, LABELS14, make_genre_model

from s2s_live.config import Config
from s2s_live.osc.control import ControlServer
from s2s_live.osc import WEK_GENRE_SLOTS, WEK_K, WEK_PORT, WekinatorProfile, decode_message, encode_message

PATCHES = REPO / "patches"
DOC = parse_osc_doc()
OUT_SECTIONS = ("Outgoing: fast", "Outgoing: frame", "Outgoing: events", "Outgoing: meta")
OUTGOING = [r for r in DOC if r["section"].startswith(OUT_SECTIONS) and "<" not in r["address"]]
#: Outputs of the tagger work (issue 10) that the patches route before docs/osc.md lists them,
#: and the renamed band-energy descriptors.
COMING = ["/s2s/tags", "/s2s/tags/msd", "/s2s/tags/mtt", "/s2s/instruments", "/s2s/vocals", "/s2s/vocals/label",
          "/s2s/vocals/male", "/s2s/vocals/female", "/s2s/features/band_energy", "/s2s/features/vocal_band"]


# ---------------------------------------------------------------------------------------------
# Pure Data

def _pd_objects(text: str):
    """Top-level objects of a .pd file (subpatch contents counted as one) and its connections."""
    objs, conns, depth = [], [], 0
    for rec in re.split(r";\s*\n", text):
        rec = rec.strip()
        if rec.startswith("#N canvas"):
            depth += 1
            continue
        if rec.startswith("#X restore"):
            depth -= 1
            if depth == 1:
                objs.append(rec)
            continue
        if depth != 1 or not rec.startswith("#X "):
            continue
        if rec.startswith("#X connect"):
            conns.append(tuple(int(x) for x in rec.split()[2:6]))
        elif rec.split()[1] in ("obj", "msg", "floatatom", "symbolatom", "text", "listbox"):
            objs.append(rec)
    return objs, conns


def test_pd_patch_structure():
    text = (PATCHES / "s2s.pd").read_text()
    objs, conns = _pd_objects(text)
    assert objs and conns
    for a, _, b, _ in conns:
        assert 0 <= a < len(objs) and 0 <= b < len(objs), (a, b)
    texts = [o.split(" ", 4)[-1] for o in objs]
    assert any(t.startswith("netreceive -u -b 9000") for t in texts)
    assert any(t.startswith("oscparse") for t in texts) and any(t.startswith("list trim") for t in texts)
    assert any(t.startswith("oscformat s2s ping") for t in texts)
    assert "connect localhost 9001" in text
    # every documented outgoing address group is routed: /s2s/<group>/...
    routes = " ".join(t for t in texts if t.startswith("route "))
    for addr in [r["address"] for r in OUTGOING] + COMING:
        group = addr.split("/")[2]
        assert re.search(rf"\b{re.escape(group)}\b", routes), f"s2s.pd does not route {addr}"
    # sizes follow the model: the arrays are resized, from meta and from each list's length
    for name in ("s2s-probs", "s2s-instruments-array"):
        assert re.search(rf"\\; {name} resize \\\$1", text), name


def _engine(targets, control_port=0, **kw):
    from s2s_live.engine import Engine

    e = Engine(Config(source="synth", targets=targets, control_port=control_port, visuals="none", hop=0.25, **kw))
    e.start()
    return e


def _label_models(tmp_path):
    """A models folder with two genre models of different label counts (14, then 10)."""
    root = tmp_path / "models"
    make_genre_model(root, "genre14", LABELS14, seed=1)
    make_genre_model(root, "genre-gtzan", LABELS10, seed=2)
    return {"models_dir": str(root), "models": {"genre": "genre14"}}


def _model_load(ctl: int, slot: str, name: str) -> None:
    """Hot-swap a model through the real control port and wait for its ack."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        s.sendto(encode_message("/s2s/model/load", "ss", [slot, name]), ("127.0.0.1", ctl))
        while True:
            a, _, args = decode_message(s.recv(65536))
            if a in ("/s2s/ack", "/s2s/error"):
                assert (a, args) == ("/s2s/ack", ["/s2s/model/load", slot, name]), args
                return


HARNESS = """#N canvas 0 50 400 300 12;
#X obj 10 10 r s2s-frame;
#X obj 10 40 print FRAME;
#X obj 110 10 r s2s-genre;
#X obj 110 40 print GENRE;
#X obj 210 10 r s2s-emotion-rules;
#X obj 210 40 print EMOTION-RULES;
#X obj 10 80 r s2s-key;
#X obj 10 110 print KEY;
#X obj 110 80 r s2s-features;
#X obj 110 110 route centroid;
#X obj 110 140 print CENTROID;
#X obj 210 80 r s2s-emotion;
#X obj 210 110 print EMOTION;
#X obj 10 170 r s2s-level;
#X obj 10 200 print LEVEL;
#X connect 0 0 1 0;
#X connect 2 0 3 0;
#X connect 4 0 5 0;
#X connect 6 0 7 0;
#X connect 8 0 9 0;
#X connect 9 0 10 0;
#X connect 11 0 12 0;
#X connect 13 0 14 0;
"""


def _pd_patch(folder, rx: int, ctl: int) -> None:
    """The shipped patch in ``folder``, with only its two port numbers changed to free ones."""
    src = (PATCHES / "s2s.pd").read_text()
    src = src.replace("netreceive -u -b 9000", f"netreceive -u -b {rx}").replace("connect localhost 9001",
                                                                                  f"connect localhost {ctl}")
    (folder / "s2s.pd").write_text(src)


def test_pd_patch_receives_from_the_engine(tmp_path):
    require(have("pd"), "Pure Data is not installed (apt-get install puredata-core)")
    rx, ctl = free_port(), free_port()
    _pd_patch(tmp_path, rx, ctl)
    (tmp_path / "harness.pd").write_text(HARNESS)
    e = _engine([f"127.0.0.1:{rx}"], control_port=ctl)
    try:
        declared = {o.name for o in e.osc.outputs}
        p = subprocess.Popen(["pd", "-nogui", "-nosound", "-nomidi", "-stderr", "-open", str(tmp_path / "s2s.pd"),
                              "-open", str(tmp_path / "harness.pd")], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        time.sleep(4.0)
        p.terminate()
        out = p.communicate(timeout=10)[0]
    finally:
        e.stop()
    lines = out.splitlines()
    assert not [l for l in lines if "connection failed" in l or l.startswith("error")], out[-2000:]

    def values(tag):
        return [l.split(":", 1)[1].split() for l in lines if l.startswith(tag + ":")]

    levels = [float(v[0]) for v in values("LEVEL")]
    assert len(levels) > 50 and max(levels) > 0.2 and all(0 <= x <= 1 for x in levels)
    frames = [int(v[0]) for v in values("FRAME")]
    assert len(frames) >= 8 and frames == sorted(frames)
    assert values("CENTROID") and values("KEY")
    if "emotion/rules" in declared:
        v = values("EMOTION-RULES")
        assert v and all(0 <= float(x) <= 1 for x in v[-1])
    if "genre" in declared:  # a genre model is loaded: label and confidence
        g = values("GENRE")
        assert g and 0 <= float(g[-1][-1]) <= 1
    if "emotion" in declared:
        assert values("EMOTION")
    # the control section pinged at load time and printed the reply
    assert "s2s-reply: s2s pong" in lines


LABEL_HARNESS = """#N canvas 0 50 400 300 12;
#X obj 10 10 r s2s-genre-labels;
#X obj 10 40 print LABELS;
#X obj 150 10 r s2s-genre-probs;
#X obj 150 40 print PROBS;
#X obj 10 70 loadbang;
#X obj 10 100 metro 100;
#X obj 10 130 array size s2s-probs;
#X obj 10 160 print ARRSIZE;
#X obj 150 130 array get s2s-probs;
#X obj 150 160 print ARR;
#X connect 0 0 1 0;
#X connect 2 0 3 0;
#X connect 4 0 5 0;
#X connect 5 0 6 0;
#X connect 6 0 7 0;
#X connect 5 0 8 0;
#X connect 8 0 9 0;
"""


def test_pd_patch_follows_the_genre_label_list(tmp_path):
    """A 14-label genre model, then a hot swap to a 10-label one: the shipped patch's probability
    graph resizes (14, then 10 bars holding the probabilities) and it publishes the label names
    it read from the meta block, which it asked for itself at load (Pd starts after the engine)."""
    require(have("pd"), "Pure Data is not installed (apt-get install puredata-core)")
    rx, ctl = free_port(), free_port()
    _pd_patch(tmp_path, rx, ctl)
    (tmp_path / "harness.pd").write_text(LABEL_HARNESS)
    e = _engine([f"127.0.0.1:{rx}"], control_port=ctl, **_label_models(tmp_path))
    p = None
    try:
        p = subprocess.Popen(["pd", "-nogui", "-nosound", "-nomidi", "-stderr", "-open", str(tmp_path / "s2s.pd"),
                              "-open", str(tmp_path / "harness.pd")], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        time.sleep(4.0)  # the patch asks for meta 1 s after load
        _model_load(ctl, "genre", "genre-gtzan")
        time.sleep(2.5)
        terminate(p)
        out = p.communicate(timeout=10)[0]
    finally:
        if p is not None:
            terminate(p)
        e.stop()
    lines = out.splitlines()
    assert not [l for l in lines if l.startswith("error") or "couldn't create" in l], out[-2000:]

    def values(tag):  # Pd prints a list that starts with a symbol as "list a b ..."
        return [[x for x in l.split(":", 1)[1].split()][l.split(":", 1)[1].split()[:1] == ["list"]:]
                for l in lines if l.startswith(tag + ":")]

    labels = values("LABELS")
    assert labels and labels[0] == list(LABELS14) and labels[-1] == list(LABELS10), labels
    nprobs = [len(v) for v in values("PROBS")]
    assert 14 in nprobs and nprobs[-1] == 10 and set(nprobs) == {14, 10}, nprobs
    sizes = [int(float(v[0])) for v in values("ARRSIZE")]
    assert 14 in sizes and sizes[-1] == 10, sizes
    assert set(sizes[sizes.index(14):]) == {14, 10}  # from the first 14 on, only the model's sizes
    # the graph holds the latest probabilities, all of them
    last = [float(x) for x in values("ARR")[-1]]
    sent = [[float(x) for x in v] for v in values("PROBS") if len(v) == 10]
    assert len(last) == 10 and any(last == pytest.approx(v, abs=1e-5) for v in sent[-5:]), (last, sent[-5:])


# ---------------------------------------------------------------------------------------------
# SuperCollider


def test_sc_patch_receives_and_controls(tmp_path):
    require(have("sclang"), "SuperCollider is not installed (apt-get install supercollider-language)")
    rx, ctl = free_port(), free_port()
    e = _engine([f"127.0.0.1:{rx}:sc"], control_port=ctl)
    script = tmp_path / "run.scd"
    script.write_text(
        f"~s2sPort = {rx}; ~s2sCtlPort = {ctl}; ~s2sPlay = false; ~s2sVerbose = true;\n"
        f'"{PATCHES / "s2s.scd"}".load;\n'
        "AppClock.sched(3, { ~s2sCtl.sendMsg('/s2s/hop', 0.5); nil });\n"
        "AppClock.sched(5, { 0.exit });\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QTWEBENGINE_DISABLE_SANDBOX="1")
    try:
        declared = {o.name for o in e.osc.outputs}
        r = subprocess.run(["sclang", "-D", str(script)], capture_output=True, text=True, timeout=90, env=env)
        hop = e.cfg.hop
    finally:
        e.stop()
    out = (r.stdout + r.stderr).splitlines()
    got: dict[str, list] = {}
    for l in out:
        parts = l.split()
        if len(parts) >= 2 and parts[0] == "s2s" and parts[1].startswith("/"):
            got.setdefault(parts[1], []).append(parts[2:])
    assert len(got.get("/s2s/level", [])) > 50, "\n".join(out[-40:])
    assert all(0 <= float(v[0]) <= 1 for v in got["/s2s/level"])
    assert len(got["/s2s/bands"][0]) == 3 and got.get("/s2s/frame") and got.get("/s2s/key")
    assert all(0 <= float(v[0]) <= 1 for v in got["/s2s/features/centroid"])  # sc profile: normalised
    if "emotion/rules" in declared:
        assert got.get("/s2s/emotion/rules")
    if "genre" in declared:
        assert got.get("/s2s/genre")
    assert "s2s pong" in out and any(l.startswith("s2s ack /s2s/hop 0.5") for l in out)
    assert hop == 0.5  # the OSCdef-side control changed the engine


def test_sc_patch_has_a_responder_for_the_coming_outputs():
    src = (PATCHES / "s2s.scd").read_text()
    for addr in COMING + ["/s2s/meta/output"]:
        assert f"'{addr}')" in src, f"s2s.scd has no OSCdef for {addr}"


def test_sc_patch_follows_the_genre_label_list(tmp_path):
    """The shipped SC patch reads lengths and names from the meta block (asked for at load,
    re-sent after a hot swap): 14 labels, then the 10 GTZAN ones; label -> probability pairs."""
    require(have("sclang"), "SuperCollider is not installed (apt-get install supercollider-language)")
    rx, ctl = free_port(), free_port()
    e = _engine([f"127.0.0.1:{rx}:sc"], control_port=ctl, **_label_models(tmp_path))
    script = tmp_path / "run.scd"
    script.write_text(
        f"~s2sPort = {rx}; ~s2sCtlPort = {ctl}; ~s2sPlay = false; ~s2sVerbose = true;\n"
        f'"{PATCHES / "s2s.scd"}".load;\n'
        "AppClock.sched(7, {\n"
        '  ("STATE " ++ [~s2s.sizes[\'genre/probs\'], ~s2s.genreLabels.size, ~s2s.genreProbs.size].join(" ")).postln;\n'
        '  ("NAMED " ++ ~s2s.genreByLabel.keys.asArray.collect(_.asString).sort.join(" ")).postln; nil });\n'
        "AppClock.sched(7.5, { 0.exit });\n")  # a separate task: exits even if the lines above fail
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QTWEBENGINE_DISABLE_SANDBOX="1")
    p = None
    try:
        p = subprocess.Popen(["sclang", "-D", str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env=env)
        time.sleep(4.0)
        _model_load(ctl, "genre", "genre-gtzan")
        out = p.communicate(timeout=30)[0].splitlines()
    finally:
        if p is not None:
            terminate(p)
        e.stop()
    got: dict[str, list] = {}
    for l in out:
        parts = l.split()
        if len(parts) >= 2 and parts[0] == "s2s" and parts[1].startswith("/"):
            got.setdefault(parts[1], []).append(parts[2:])
    labels = got.get("/s2s/meta/labels/genre/probs", [])
    assert labels and labels[0] == list(LABELS14) and labels[-1] == list(LABELS10), "\n".join(out[-40:])
    n = [len(v) for v in got["/s2s/genre/probs"]]
    assert 14 in n and n[-1] == 10 and set(n) == {14, 10}, n
    assert "STATE 10 10 10" in out, "\n".join(out[-20:])
    assert f"NAMED {' '.join(sorted(LABELS10))}" in out


# ---------------------------------------------------------------------------------------------
# Max (structural)


# ---------------------------------------------------------------------------------------------
# the mapping sections: Wekinator's control messages drive s2s_live's mapper unchanged

def _mapper_engine(wek: int, out: int, tmp_path):
    return _engine([], mapper=True, mapper_port=wek, mapper_outputs=["x:knn"], mapper_targets=[f"127.0.0.1:{out}"],
                   mapper_dir=str(tmp_path / "mappings"))


MAP_HARNESS = """#N canvas 0 50 400 300 12;
#X obj 10 10 r s2s-wek-outputs;
#X obj 10 40 print WEK;
#X obj 150 10 loadbang;
#X obj 150 40 delay 300;
#X msg 150 70 \\; s2s-map outputs 0.25 \\; s2s-map startRecording;
#X obj 150 100 delay 1500;
#X msg 150 130 \\; s2s-map stopRecording \\; s2s-map train \\; s2s-map startRunning;
#X connect 0 0 1 0;
#X connect 2 0 3 0;
#X connect 3 0 4 0;
#X connect 3 0 5 0;
#X connect 5 0 6 0;
"""


def test_pd_mapping_section_trains_and_runs_the_mapper(tmp_path):
    """[pd mapping] sends Wekinator's messages (outputs, start/stopRecording, train, startRunning)
    to the mapper's port; a constant recorded value 0.25 comes back as /wek/outputs."""
    require(have("pd"), "Pure Data is not installed (apt-get install puredata-core)")
    wek, out = free_port(), free_port()
    _pd_patch(tmp_path, free_port(), free_port())
    src = (tmp_path / "s2s.pd").read_text()
    assert "connect localhost 6448" in src and "netreceive -u -b 12000" in src
    (tmp_path / "s2s.pd").write_text(src.replace("connect localhost 6448", f"connect localhost {wek}")
                                     .replace("netreceive -u -b 12000", f"netreceive -u -b {out}"))
    (tmp_path / "harness.pd").write_text(MAP_HARNESS)
    e = _mapper_engine(wek, out, tmp_path)
    try:
        p = subprocess.Popen(["pd", "-nogui", "-nosound", "-nomidi", "-stderr", "-open", str(tmp_path / "s2s.pd"),
                              "-open", str(tmp_path / "harness.pd")], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30  # until trained and running (the first training imports skl2onnx)
        while time.time() < deadline and not (e.mapper.status()["running"] and e.mapper.status()["trained"]):
            time.sleep(0.1)
        time.sleep(1.5)
        p.terminate()
        lines = p.communicate(timeout=10)[0].splitlines()
        st = e.mapper.status()
    finally:
        e.stop()
    assert st["examples"] >= 3 and st["trained"] and st["running"], st
    assert [l for l in lines if l.strip() == "WEK: 0.25"], lines[-30:]


def test_sc_mapping_section_trains_and_runs_the_mapper(tmp_path):
    require(have("sclang"), "SuperCollider is not installed (apt-get install supercollider-language)")
    wek, out = free_port(), free_port()
    e = _mapper_engine(wek, out, tmp_path)
    script = tmp_path / "run.scd"
    script.write_text(
        f"~s2sPort = {free_port()}; ~s2sCtlPort = {free_port()}; ~s2sWekPort = {wek}; ~s2sWekOutPort = {out};\n"
        f'~s2sPlay = false; ~s2sVerbose = true;\n"{PATCHES / "s2s.scd"}".load;\n'
        "AppClock.sched(0.3, { ~s2sMap.(\\outputs, 0.25); ~s2sMap.(\\startRecording); nil });\n"
        "AppClock.sched(1.8, { ~s2sMap.(\\stopRecording); ~s2sMap.(\\train); ~s2sMap.(\\startRunning); nil });\n"
        "~s2sWait = { if(~s2s.wekOutputs.notNil) { AppClock.sched(1, { 0.exit }) } { AppClock.sched(0.2, ~s2sWait) }; nil };\n"
        "AppClock.sched(2, ~s2sWait); AppClock.sched(30, { 0.exit });\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QTWEBENGINE_DISABLE_SANDBOX="1")
    try:
        r = subprocess.run(["sclang", "-D", str(script)], capture_output=True, text=True, timeout=90, env=env)
        st = e.mapper.status()
    finally:
        e.stop()
    out_lines = (r.stdout + r.stderr).splitlines()
    assert st["examples"] >= 3 and st["trained"] and st["running"], st
    assert [l for l in out_lines if l.strip() == "s2s /wek/outputs 0.25"], out_lines[-30:]


def test_maxpat_structure():
    pat = json.loads((PATCHES / "s2s.maxpat").read_text())["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in pat["boxes"]}
    assert len(boxes) == len(pat["boxes"])  # unique ids
    for ln in pat["lines"]:
        (src, so), (dst, di) = ln["patchline"]["source"], ln["patchline"]["destination"]
        assert src in boxes and dst in boxes, ln
        assert 0 <= so < boxes[src]["numoutlets"], ln
        assert 0 <= di < boxes[dst]["numinlets"], ln
    for b in boxes.values():
        assert len(b.get("outlettype", [])) == b["numoutlets"], b
        if b["maxclass"] == "newobj" and b["text"].startswith("route "):
            assert b["numoutlets"] == len(b["text"].split()) , b["text"]  # one per address + reject
    texts = [b.get("text", "") for b in boxes.values() if b["maxclass"] == "newobj"]
    assert "udpreceive 9000" in texts and "udpsend 127.0.0.1 9001" in texts
    assert any(t.startswith("jit.matrix") for t in texts) and any(b["maxclass"] == "jit.pwindow" for b in boxes.values())
    # genre probabilities and instruments: the multislider is resized to each list's length
    # ([t l l] -> [zl len] -> [change] -> [prepend size]) before the list is drawn
    out_of = {}
    for ln in pat["lines"]:
        (src, so), (dst, _) = ln["patchline"]["source"], ln["patchline"]["destination"]
        out_of.setdefault((src, so), []).append(dst)

    def follow(bid, outlet, text):
        nxt = [d for d in out_of.get((bid, outlet), []) if boxes[d].get("text", "").startswith(text)]
        assert nxt, f"{boxes[bid].get('text')} outlet {outlet} does not lead to [{text}]"
        return nxt[0]

    for addr in ("/s2s/genre/probs", "/s2s/instruments"):
        (r,) = [b for b in boxes.values() if b.get("text", "").startswith("route ") and addr in b["text"].split()]
        t = follow(r["id"], r["text"].split()[1:].index(addr), "t l l")
        size = follow(follow(follow(t, 1, "zl len"), 0, "change"), 0, "prepend size")
        (ms,) = [d for d in out_of[(size, 0)]]
        assert boxes[ms]["maxclass"] == "multislider" and ms in out_of[(t, 0)]
    for addr in ("/s2s/meta/labels/genre/probs", "/s2s/meta/labels/instruments"):
        (r,) = [b for b in boxes.values() if b.get("text", "").startswith("route ") and addr in b["text"].split()]
        follow(r["id"], r["text"].split()[1:].index(addr), "prepend set")
    # stills and video loops (sprite sheets): [unpack i s] -> path -> importmovie into a matrix -> a window
    for addr in ("/s2s/image", "/s2s/image/video"):
        (r,) = [b for b in boxes.values() if b.get("text", "").startswith("route ") and addr in b["text"].split()]
        u = follow(r["id"], r["text"].split()[1:].index(addr), "unpack i s")
        m = follow(follow(follow(u, 1, "prepend importmovie"), 0, "t b l"), 1, "jit.matrix")
        assert [d for d in out_of[(m, 0)] if boxes[d]["maxclass"] == "jit.pwindow"], addr
    assert any(b["maxclass"] == "pictslider" for b in boxes.values())  # valence/arousal XY
    routed = {a for t in texts if t.startswith("route ") for a in t.split()[1:]}
    # the mapper's outputs (--mapper) have their sections in the Pd and SC patches, not in Max's
    missing = [a for a in [r["address"] for r in OUTGOING] + COMING if a not in routed and not a.startswith("/s2s/map/")]
    assert not missing, f"s2s.maxpat does not route {missing}"
    # every routed outlet goes somewhere
    linked = {(ln["patchline"]["source"][0], ln["patchline"]["source"][1]) for ln in pat["lines"]}
    for bid, b in boxes.items():
        if b["maxclass"] == "newobj" and b["text"].startswith("route "):
            for k in range(b["numoutlets"]):
                assert (bid, k) in linked, f"{b['text'][:40]}... outlet {k} is not connected"
    # control buttons send documented control addresses
    ctl = {r["address"] for r in DOC if r["section"].startswith("Incoming: control") and r["rate"] == "control"}
    msgs = [b["text"].split()[0] for b in boxes.values() if b["maxclass"] == "message" and b.get("text")]
    assert msgs and all(m in ctl for m in msgs), msgs


# ---------------------------------------------------------------------------------------------
# the contract: every documented incoming address is handled; the guides give exact settings


def _control_addresses() -> list[str]:
    """The commands of docs/osc.md's control-server table, in doc order."""
    return [r["address"] for r in DOC if r["section"].startswith("Incoming: control") and r["rate"] == "control"]


def _raw_rows(section: str) -> list[str]:
    """The addresses of the first table under ``## <section>`` in docs/osc.md, read line by line
    (not through parse_osc_doc), so that a row the parser skips is noticed."""
    lines = (REPO / "docs" / "osc.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {section}"))
    rows, in_table = [], False
    for line in lines[start + 1:]:
        if line.startswith("|"):
            in_table = True
            m = re.match(r"\|\s*`(/[^`]+)`", line)
            if m:
                rows.append(m.group(1))
        elif in_table or line.startswith("## "):
            break
    return rows


def test_every_documented_control_address_is_handled():
    from s2s_live.osc import OSCBroadcaster

    class _Eng:  # only what ControlServer's constructor reads
        cfg = Config(control_port=0)
        osc = OSCBroadcaster()  # no targets

    from s2s_live.mapping.wekinator import map_handlers

    srv = ControlServer(_Eng(), host="127.0.0.1", port=0, wek_port=0)
    srv.handlers.update(map_handlers(srv))  # as the engine does: the mapping stage gives them
    try:
        incoming = _control_addresses()
        # the parsed rows are every row of the doc's command table (none dropped by the parser)
        assert incoming and incoming == _raw_rows("Incoming: control server") and len(set(incoming)) == len(incoming)
        assert sorted(incoming) == sorted(h for h in srv.handlers if not h.startswith("/s2s/map/"))
        assert [r["address"] for r in DOC if r["section"].startswith("Incoming: Wekinator")] == ["/wek/outputs"]
        # the mapper's commands: /s2s/map/* on the control port, /wekinator/control/* on its own
        mapper = [r["address"] for r in DOC if r["section"].startswith("Incoming: mapper") and r["rate"] == "control"]
        assert sorted(a for a in mapper if a.startswith("/s2s/map/")) == sorted(
            h for h in srv.handlers if h.startswith("/s2s/map/"))
        from s2s_live.mapping.wekinator import WekinatorServer

        wek = WekinatorServer(_Eng(), host="127.0.0.1", port=0)
        try:
            assert sorted(a for a in mapper if not a.startswith("/s2s/")) == sorted(wek.handlers)
        finally:
            wek.stop()
    finally:
        srv.stop()


def test_every_documented_control_address_reaches_its_handler():
    """Each documented command, sent without arguments over UDP to a running engine, is answered
    by its own handler (a pong, a meta block, a status, or its argument error) and never as an
    unknown address; an undocumented address is. Each is followed by a ping, so that the replies
    of one command are told from the next's."""
    ctl = free_port()
    e = _engine([], control_port=ctl)
    replies: dict[str, list] = {}
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(10)
            for a in _control_addresses() + ["/s2s/no/such/command"]:
                s.sendto(encode_message(a, "", []), ("127.0.0.1", ctl))
                s.sendto(encode_message("/s2s/ping", "", []), ("127.0.0.1", ctl))
                got, pongs = [], 2 if a == "/s2s/ping" else 1
                while pongs:
                    m = decode_message(s.recv(65536))
                    pongs -= m[0] == "/s2s/pong"
                    got.append(m)
                replies[a] = got[:-1]  # without the fence's pong
    finally:
        e.stop()

    def unknown(a):
        return [m for m in replies[a] if m[0] == "/s2s/error" and m[2][0] == a and "unknown control address" in m[2][1]]

    assert unknown("/s2s/no/such/command"), replies["/s2s/no/such/command"]
    for a in _control_addresses():
        assert replies[a] and not unknown(a), (a, replies[a][:3])


def test_wekinator_and_touchdesigner_guides():
    wek = (PATCHES / "wekinator" / "README.md").read_text()
    from s2s_live.pipeline import build_processors

    p = WekinatorProfile()
    p.bind([o for proc in build_processors(Config()) for o in proc.outputs])
    assert f"{WEK_K} inputs" in wek and str(WEK_PORT) in wek and "12000" in wek and "/wek/inputs" in wek
    assert re.search(rf"{WEK_GENRE_SLOTS}\s+positions", wek) and "hot swap" in wek.lower()
    for name in p.names[WEK_GENRE_SLOTS:WEK_GENRE_SLOTS + 19] + ["vocals"]:  # names that no model changes
        assert f"`{name}`" in wek, name
    td = (PATCHES / "touchdesigner" / "README.md").read_text()
    for needle in ("touchdesigner", "OSC In CHOP", "OSC In DAT", "/s2s/bands/0", "9001", "7000",
                   "/s2s/meta/labels/genre/probs", "s2s/instruments/0"):
        assert needle in td, needle
