"""Model cards: the JSON description next to every ONNX model (``models/<name>/card.json``).

A card tells the engine everything it needs to host a model without code (design.md)::

    {"name": "genre", "kind": "genre", "version": "1", "created": "2025-01-01T00:00:00Z",
     "input":  {"name": "features", "dtype": "float32", "shape": [1, 55], "kind": "features",
                "recipe": "gtzan-stats", "recipe_version": 1, "names": [... 55 names ...]},
     "outputs": [{"name": "probs", "dtype": "float32", "shape": [1, 10], "range": [0, 1],
                  "labels": ["blues", ...], "osc": "genre/probs", "top": "genre",
                  "top_type": "sf", "id": "genre/id", "changed": "genre/changed"}],
     "metrics": {...}, "training": {"data", "split", "hyperparameters", "seed", "command"},
     "sha256": "<hex digest of model.onnx>"}

Input ``kind`` is ``"features"`` (a vector the descriptors put in ``frame.values`` under
``"recipe/<...>"``, identified by ``recipe`` + ``recipe_version``) or ``"audio"`` (the last
second at ``sample_rate`` = 22050 or 16000 Hz, ``length`` samples) or ``"logmel"`` (the newest
3-s patch of the tagger front end, :mod:`s2s_live.dsp.mel`, recipe ``musicnn-logmel``; such
models run in the tagger processor, :mod:`s2s_live.inference.taggers`). A ``features`` input may name the
``frame.values`` key(s) it reads with ``value`` (a key or a list of keys, concatenated) and
average them over the last ``context_s`` seconds of hops. Output fields:

* ``name``, ``dtype``, ``shape`` — the ONNX output (batch dimension first, always 1 live).
* ``osc`` — output name/address below the prefix; absent = not sent (internal to the model).
* ``type`` — OSC tags for a fixed-length tuple such as ``"ff"`` (default: a float vector).
* ``split`` — optional names that receive each element as its own float (``emotion/valence``).
* ``range`` — documented [lo, hi] of every element; the loader checks a dummy run stays in it.
* ``labels`` (classifiers) with ``top`` (stable label address), ``top_type`` (``"s"`` or
  ``"sf"`` label + confidence), ``id`` (stable label index address) and ``changed`` (event
  address, ``from to``, after smoothing and hysteresis).
* ``smooth`` — exponential smoothing per hop (default true).

No pickle anywhere: cards are JSON, models ONNX.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from ..errors import ModelError

CARD_FILE = "card.json"
MODEL_FILE = "model.onnx"
KINDS = ("genre", "emotion", "encoder", "decoder", "tagger", "custom")
INPUT_KINDS = ("features", "audio", "logmel")
#: Log-mel recipes the live front end produces: recipe id -> (version, shape without batch).
LOGMEL_RECIPES = {"musicnn-logmel": (1, [187, 96])}
#: Model names: a plain folder name under models_dir (never a path).
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_OSC_RE = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$")


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_model_name(name: Any) -> bool:
    """A model name is a folder name under models_dir (letters, digits, ``_ . -``, at most 64
    characters, no ``..``), never a path. The one rule: the control port and the mapper use it."""
    return isinstance(name, str) and NAME_RE.fullmatch(name) is not None and ".." not in name


def check_name(name: Any) -> str:
    """Validate a model name (:func:`is_model_name`); return it."""
    if not is_model_name(name):
        raise ModelError(
            f"model name {name!r} is invalid: expected a folder name under the models directory "
            "(letters, digits, '_', '-', '.'; no '/', no '..', no absolute path)"
        )
    return name


def resolve(models_dir: str | Path, name: str) -> Path:
    """The folder of model ``name`` under ``models_dir``; refuses anything that escapes it."""
    check_name(name)
    root = Path(models_dir).resolve()
    folder = (root / name).resolve()
    if folder.parent != root:
        raise ModelError(f"model name {name!r} resolves outside the models directory (a link?); "
                         "expected a folder inside it")
    return folder


def _need(d: dict, key: str, types, where: str):
    if key not in d:
        raise ModelError(f"{where}: missing field {key!r}")
    v = d[key]
    if not isinstance(v, types):
        raise ModelError(f"{where}: field {key!r} = {v!r} has the wrong type; expected {types}")
    return v


def _shape(v, where: str) -> list[int]:
    if not isinstance(v, list) or not v or not all(isinstance(i, int) and i >= 1 for i in v):
        raise ModelError(f"{where}: shape {v!r} is invalid; expected a list of ints >= 1 like [1, 10]")
    return v


def validate_card(card: Any, *, where: str = "card") -> dict:
    """Check a card's structure (not the model); return it. Raises ModelError naming the field."""
    if not isinstance(card, dict):
        raise ModelError(f"{where}: expected a JSON object, got {type(card).__name__}")
    _need(card, "name", str, where)
    kind = _need(card, "kind", str, where)
    if kind not in KINDS:
        raise ModelError(f"{where}: kind={kind!r}; expected one of {KINDS}")
    sha = _need(card, "sha256", str, where)
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise ModelError(f"{where}: sha256={sha!r} is not a 64-digit hex digest")
    inp = _need(card, "input", dict, where)
    w = f"{where}: input"
    _need(inp, "name", str, w)
    if inp.get("dtype", "float32") != "float32":
        raise ModelError(f"{w}: dtype={inp.get('dtype')!r}; only 'float32' is supported")
    _shape(_need(inp, "shape", list, w), w)
    ik = _need(inp, "kind", str, w)
    if ik not in INPUT_KINDS:
        raise ModelError(f"{w}: kind={ik!r}; expected one of {INPUT_KINDS}")
    if ik == "logmel":
        rec = _need(inp, "recipe", str, w)
        if rec not in LOGMEL_RECIPES:
            raise ModelError(f"{w}: recipe={rec!r}; expected one of {sorted(LOGMEL_RECIPES)}")
        version, shape = LOGMEL_RECIPES[rec]
        if _need(inp, "recipe_version", int, w) != version:
            raise ModelError(f"{w}: recipe_version={inp['recipe_version']!r}; the live {rec!r} is version {version}")
        if inp["shape"][1:] != shape:
            raise ModelError(f"{w}: shape {inp['shape']}; the {rec!r} patch is [1, {shape[0]}, {shape[1]}]")
    elif ik == "features":
        _need(inp, "recipe", str, w)
        _need(inp, "recipe_version", int, w)
        names = _need(inp, "names", list, w)
        n = 1
        for d in inp["shape"][1:]:
            n *= d
        if len(names) != n:
            raise ModelError(f"{w}: {len(names)} feature names for an input of {n} values")
    else:
        sr = _need(inp, "sample_rate", int, w)
        if sr not in (16000, 22050):
            raise ModelError(f"{w}: sample_rate={sr}; expected 16000 or 22050 (the frame rates)")
        length = _need(inp, "length", int, w)
        if inp["shape"] != [1, length]:
            raise ModelError(f"{w}: shape {inp['shape']} does not match length {length}; expected [1, {length}]")
    outs = _need(card, "outputs", list, where)
    if not outs:
        raise ModelError(f"{where}: outputs is empty")
    seen = set()
    for i, o in enumerate(outs):
        w = f"{where}: outputs[{i}]"
        if not isinstance(o, dict):
            raise ModelError(f"{w}: expected an object")
        nm = _need(o, "name", str, w)
        if nm in seen:
            raise ModelError(f"{w}: duplicate output name {nm!r}")
        seen.add(nm)
        if o.get("dtype", "float32") != "float32":
            raise ModelError(f"{w}: dtype={o.get('dtype')!r}; only 'float32' is supported")
        shape = _shape(_need(o, "shape", list, w), w)
        size = 1
        for d in shape[1:]:
            size *= d
        for key in ("osc", "top", "id", "changed"):
            if key in o and (not isinstance(o[key], str) or not _OSC_RE.match(o[key])):
                raise ModelError(f"{w}: {key}={o[key]!r} is not an address below the prefix like 'genre/probs'")
        if "labels" in o:
            labels = o["labels"]
            if not isinstance(labels, list) or len(labels) != size or not all(isinstance(s, str) for s in labels):
                raise ModelError(f"{w}: labels must be {size} strings, got {labels!r}")
        if "type" in o and (not isinstance(o["type"], str) or set(o["type"]) != {"f"} or len(o["type"]) != size):
            raise ModelError(f"{w}: type={o.get('type')!r}; expected {'f' * size!r} for {size} values")
        if "split" in o and (not isinstance(o["split"], list) or len(o["split"]) != size):
            raise ModelError(f"{w}: split must list {size} names")
        if "range" in o and (not isinstance(o["range"], list) or len(o["range"]) != 2
                             or not all(isinstance(x, (int, float)) for x in o["range"])
                             or o["range"][0] > o["range"][1]):
            raise ModelError(f"{w}: range={o['range']!r}; expected [lo, hi]")
        if o.get("top_type", "s") not in ("s", "sf"):
            raise ModelError(f"{w}: top_type={o.get('top_type')!r}; expected 's' or 'sf'")
    return card


def load_card(folder: str | Path) -> dict:
    """Read and validate ``folder/card.json``; ModelError if missing or malformed.

    The messages name the model (its folder's name), the file and the field, never the folder's
    path: they reach remote senders as ``/s2s/error`` (``/s2s/model/load``)."""
    folder = Path(folder)
    p = folder / CARD_FILE
    where = f"model {folder.name!r}"
    if not p.is_file():
        raise ModelError(f"{where}: model card missing (every model folder needs {CARD_FILE} next to {MODEL_FILE})")
    try:
        card = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{where}: {CARD_FILE} is not valid JSON: {exc}") from None
    return validate_card(card, where=f"{where} {CARD_FILE}")


def verify_sha256(folder: str | Path, card: dict) -> Path:
    """Check model.onnx exists and matches the card's sha256; return its path. The message names
    the model, not the file's path nor its digest (a linked model.onnx must not tell what it
    points to)."""
    folder = Path(folder)
    m = folder / MODEL_FILE
    if not m.is_file():
        raise ModelError(f"model {folder.name!r}: {MODEL_FILE} is missing")
    if sha256_file(m) != card["sha256"]:
        raise ModelError(
            f"model {folder.name!r}: sha256 mismatch: {MODEL_FILE} does not match its card "
            "(the model file was changed or corrupted; re-export it or fix the card)"
        )
    return m


def incomplete_folders(models_dir: str | Path) -> list[str]:
    """One line per sub-folder of ``models_dir`` holding ``model.onnx`` without ``card.json``:
    such a model is never loaded (there is no card to verify it against), which must be said
    rather than silently dropped. Hidden folders are ignored."""
    root = Path(models_dir)
    if not root.is_dir():
        return []
    return [f"model folder {p.name!r} has {MODEL_FILE} but no {CARD_FILE}: it is not loaded "
            "(restore the card or re-export the model)"
            for p in sorted(root.iterdir())
            if not p.name.startswith(".") and p.is_dir() and (p / MODEL_FILE).exists()
            and not (p / CARD_FILE).exists()]


def write_card(folder: str | Path, card: dict) -> dict:
    """Fill ``sha256`` from ``folder/model.onnx``, validate and write ``card.json``; return it."""
    folder = Path(folder)
    card = dict(card)
    card["sha256"] = sha256_file(folder / MODEL_FILE)
    validate_card(card, where=f"card for {str(folder)!r}")
    (folder / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
    return card
