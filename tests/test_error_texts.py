"""Error texts say what failed, not what is on disk (issue 12, Security).

These reach remote senders as ``/s2s/error`` (``/s2s/model/load``). The texts are made in
s2s_live/inference/host.py; they name the model folder, never a path or a file's digest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import require

from s2s_live.config import DEFAULT_MODELS_DIR
from s2s_live.errors import ModelError



def _a_card_folder() -> Path:
    for d in sorted(Path(DEFAULT_MODELS_DIR).iterdir()):
        f = d / "card.json"
        if f.is_file() and (d / "model.onnx").is_file() and json.loads(f.read_text()).get("kind") != "decoder":
            return d
    require(False, "no shipped model with a card")


def test_symlinked_model_file_does_not_reveal_the_target_or_its_digest(tmp_path):
    from s2s_live.inference import ModelHost

    models = tmp_path / "models"
    (models / "m").mkdir(parents=True)
    shutil.copy(_a_card_folder() / "card.json", models / "m" / "card.json")
    secret = tmp_path / "private" / "id_rsa"
    secret.parent.mkdir()
    secret.write_bytes(os.urandom(512))
    (models / "m" / "model.onnx").symlink_to(secret)
    with pytest.raises(ModelError) as exc:
        ModelHost(models).add("genre", "m")
    msg = str(exc.value)
    assert "model.onnx" in msg and "'m'" in msg  # what failed
    assert hashlib.sha256(secret.read_bytes()).hexdigest() not in msg
    assert str(tmp_path) not in msg and "id_rsa" not in msg and "private" not in msg


def test_model_not_found_does_not_reveal_the_models_folder(tmp_path):
    from s2s_live.inference import ModelHost

    models = tmp_path / "secret-place" / "models"
    models.mkdir(parents=True)
    with pytest.raises(ModelError) as exc:
        ModelHost(models).add("genre", "nope")
    msg = str(exc.value)
    assert "'nope'" in msg and "not found" in msg
    assert str(tmp_path) not in msg and "secret-place" not in msg


def test_model_load_errors_over_the_control_port_name_no_path_nor_digest(tmp_path):
    """The probe's corrupt model folders (tests/hostile.py) plus a linked model file and a linked
    model folder, each sent as ``/s2s/model/load`` to a running engine over a real UDP socket:
    every ``/s2s/error`` names the model and what failed, never the models folder's path, a
    link's target or the target's sha256 - and the slot keeps its model."""
    import socket

    import hostile
    from helpers import free_port

    from s2s_live.config import Config
    from s2s_live.engine import Engine
    from s2s_live.osc import decode_message, encode_message

    good = "genre-gtzan"  # reads the descriptors' recipe only: no taggers needed
    require((Path(DEFAULT_MODELS_DIR) / good / "card.json").is_file(), f"shipped model {good} missing")
    models = tmp_path / "secret-place" / "models"
    models.mkdir(parents=True)
    names = hostile.broken_model_folders(Path(DEFAULT_MODELS_DIR), models, good=good)
    secret = tmp_path / "private" / "id_rsa"
    secret.parent.mkdir()
    secret.write_bytes(os.urandom(512))
    shutil.copytree(models / good, models / "linked-file")
    (models / "linked-file" / "model.onnx").unlink()
    (models / "linked-file" / "model.onnx").symlink_to(secret)
    (models / "linked-folder").symlink_to(tmp_path / "private", target_is_directory=True)
    names += ["linked-file", "linked-folder"]
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    forbidden = [str(tmp_path), "secret-place", "private", "id_rsa", "/etc/passwd", digest,
                 hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()]
    eng = Engine(Config(source="synth", targets=[], control_port=free_port(), visuals="none", hop=0.25,
                        models_dir=str(models), models={"genre": good}))
    eng.start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(15)
    try:
        replies = {}
        for name in names:
            client.sendto(encode_message("/s2s/model/load", "ss", ["genre", name]), ("127.0.0.1", eng.control.port))
            address, _, args = decode_message(client.recv(65536))
            replies[name] = (address, args)
        for name, (address, args) in replies.items():
            assert address == "/s2s/error", (name, address, args)
            where, why = args
            assert where == "/s2s/model/load", (name, args)
            leaked = [f for f in forbidden if f in why]
            assert not leaked, f"{name!r}: {why!r} reveals {leaked}"
            if name:  # what failed: the model's name (or the name check refusing it)
                assert repr(name[:60])[:-1] in why or "never a path" in why or "invalid" in why, (name, why)
        # the folder-level failures say which file or field failed
        assert "card" in replies["no-card"][1][1] and "missing" in replies["no-card"][1][1]
        assert "card.json" in replies["bad-card-json"][1][1] and "JSON" in replies["bad-card-json"][1][1]
        assert "model.onnx" in replies["linked-file"][1][1]
        assert "outside the models directory" in replies["linked-folder"][1][1]
        assert "not found" in replies["nope"][1][1]
        assert eng.models.slots["genre"].inner.card["name"] == good  # every refusal kept the model
    finally:
        client.close()
        eng.stop()
