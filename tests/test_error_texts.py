"""Error texts say what failed, not what is on disk (issue 12, Security).

These reach remote senders as ``/s2s/error`` (``/s2s/model/load``). The texts are made in
s2s_live/inference.py; they name the model folder, never a path or a file's digest.
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
