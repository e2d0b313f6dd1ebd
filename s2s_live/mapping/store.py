"""Saved mappings on disk: the mappings folder, ``examples.csv``, ``mapping.json``, the model
card of a trained mapping, loading and ``s2s-live doctor``'s check.

A mapping is a folder per name under :func:`mappings_dir` holding ``examples.csv`` (a header of
``in:<name>`` then ``out:<name>`` columns, one example a row), ``mapping.json`` (inputs and output
specs), and once trained ``model.onnx`` with a model card (``kind: custom``, input recipe
:data:`RECIPE`), so the model host's loader verifies it (sha256, names, shapes, a dummy run).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ConfigError, ModelError
from ..inference import card as modelcard
from .specs import OutputSpec, check_inputs, parse_outputs

MAX_CSV_BYTES = 128 << 20  #: a larger examples.csv is refused on load
RECIPE = "s2s-map"  #: card input recipe of a mapping
RECIPE_VERSION = 1
CSV_FILE = "examples.csv"
META_FILE = "mapping.json"


def mappings_dir(override: str | None = None) -> Path:
    """Where mappings are saved: ``override``, else ``$XDG_DATA_HOME/s2s_live/mappings``
    (``~/.local/share/s2s_live/mappings`` when XDG_DATA_HOME is unset)."""
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "s2s_live" / "mappings"


def _read_meta(folder: Path) -> dict:
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except FileNotFoundError:
        raise ModelError(f"mapping {folder.name!r} has no {META_FILE} and no card") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"mapping {folder.name!r}: {META_FILE} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise ModelError(f"mapping {folder.name!r}: {META_FILE} must hold a JSON object")
    return meta


def read_examples(path: Path) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """``examples.csv`` -> X, Y, input names, output names. The header is ``in:<name>`` columns
    then ``out:<name>`` columns; ModelError naming the line of a bad row."""
    p = Path(path)
    # named as <mapping>/<file>, never by its path on disk: the text can reach a remote sender
    # as /s2s/error for /s2s/map/load (issue 12)
    where = f"{p.parent.name}/{p.name}"
    if not p.is_file():
        raise ModelError(f"mapping examples missing: {where!r}")
    if p.stat().st_size > MAX_CSV_BYTES:
        raise ModelError(f"{where!r} is {p.stat().st_size} bytes; at most {MAX_CSV_BYTES}")
    with open(p, newline="") as fh:
        rows = csv.reader(fh)
        header = next(rows, None)
        if not header or not all(h.startswith(("in:", "out:")) for h in header):
            raise ModelError(f"{where!r}: the header must name 'in:<input>' then 'out:<output>' columns")
        ins = [h[3:] for h in header if h.startswith("in:")]
        outs = [h[4:] for h in header if h.startswith("out:")]
        if header != [f"in:{h}" for h in ins] + [f"out:{h}" for h in outs] or not ins or not outs:
            raise ModelError(f"{where!r}: the header must list inputs first, then outputs")
        data = []
        for line, r in enumerate(rows, start=2):
            if len(r) != len(header):
                raise ModelError(f"{where!r} line {line}: {len(r)} values, expected {len(header)}")
            try:
                v = [float(a) for a in r]
            except ValueError:
                raise ModelError(f"{where!r} line {line}: a value is not a number") from None
            if not all(math.isfinite(a) for a in v[: len(ins)]):
                raise ModelError(f"{where!r} line {line}: inputs must be finite")
            data.append(v)
    a = np.array(data, np.float32).reshape(len(data), len(header))
    return a[:, : len(ins)], a[:, len(ins):], ins, outs


def save_mapping(root: Path, name: str, input_names: Sequence[str], output_names: Sequence[str],
                 X: np.ndarray, Y: np.ndarray, meta: dict, *, model: bytes | None = None,
                 card: dict | None = None) -> Path:
    """Write ``root/name/`` atomically (a temporary folder renamed over the old one): examples.csv,
    mapping.json (``meta``: inputs and output specs), and model.onnx + card.json when a model is
    given. Returns the folder."""
    root = Path(root)
    modelcard.check_name(name)
    root.mkdir(parents=True, exist_ok=True)
    folder = modelcard.resolve(root, name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([f"in:{n}" for n in input_names] + [f"out:{n}" for n in output_names])
        for x, y in zip(X, Y):
            w.writerow([repr(float(a)) for a in x] + [repr(float(a)) for a in y])
        (tmp / CSV_FILE).write_text(buf.getvalue())
        (tmp / META_FILE).write_text(json.dumps(meta) + "\n")
        if model is not None and card is not None:
            (tmp / modelcard.MODEL_FILE).write_bytes(model)
            modelcard.write_card(tmp, card)
        old = None
        if folder.exists():
            old = root / f".{name}.old.{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def mapping_card(name: str, specs: list[OutputSpec], n: int, *, n_in: int, input_names: Sequence[str],
                 inputs: Sequence[str], seed: int) -> dict:
    """The model card of a trained mapping ``name`` (``n`` examples, ``n_in`` input values named
    ``input_names``, read from outputs ``inputs``); its sha256 is filled in when written."""
    outs = [{"name": "outputs", "dtype": "float32", "shape": [1, len(specs)], "osc": "map/outputs", "smooth": False}]
    K = sum(o.classes for o in specs)
    if K:
        outs.append({"name": "probs", "dtype": "float32", "shape": [1, K], "range": [0, 1], "osc": "map/probs",
                     "smooth": False})
    return {"name": name, "kind": "custom", "version": "1",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "input": {"name": "x", "dtype": "float32", "shape": [1, n_in], "kind": "features",
                      "recipe": RECIPE, "recipe_version": RECIPE_VERSION, "names": list(input_names),
                      "value": list(inputs)},
            "outputs": outs,
            "mapping": {"inputs": list(inputs), "outputs": [o.spec for o in specs], "examples": n},
            "training": {"data": f"{n} recorded examples", "command": "/wekinator/control/train",
                         "seed": seed}, "sha256": "0" * 64}


def read_mapping(root: Path, name: str) -> tuple:
    """Read and verify saved mapping ``name`` under ``root``: (inputs, output specs, X, Y, input
    element names, (onnxruntime session, has probs) or None, model bytes or None). A trained one is
    loaded by the model host's loader (sha256, names, shapes, dummy run). ModelError with the reason."""
    folder = modelcard.resolve(root, name)
    if not folder.is_dir():
        avail = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        raise ModelError(f"mapping {name!r} not found in the mappings folder (saved: {avail})")
    session = onnx_bytes = None
    if (folder / modelcard.CARD_FILE).is_file():
        from ..inference.onnx import OnnxProcessor

        proc = OnnxProcessor(folder, smoothing=0.0)  # sha256, names, shapes, dummy run
        mp = proc.card.get("mapping")
        if not isinstance(mp, dict) or proc.card["input"].get("recipe") != RECIPE:
            raise ModelError(f"model {name!r} is not a mapping (its card has no 'mapping' section / recipe {RECIPE!r})")
        inputs, specs = check_inputs(mp.get("inputs")), parse_outputs(mp.get("outputs"))
        session = (proc.session, len(proc.card["outputs"]) > 1)
        onnx_bytes = (folder / modelcard.MODEL_FILE).read_bytes()  # verified above: re-saved as is
    else:
        meta = _read_meta(folder)
        try:
            inputs, specs = check_inputs(meta.get("inputs")), parse_outputs(meta.get("outputs"))
        except ConfigError as exc:
            raise ModelError(f"mapping {name!r}: {META_FILE}: {exc}") from None
    X, Y, in_names, out_names = read_examples(folder / CSV_FILE)
    if out_names != [o.name for o in specs]:
        raise ModelError(f"mapping {name!r}: examples.csv outputs {out_names} differ from the card's "
                         f"{[o.name for o in specs]}")
    return inputs, specs, X, Y, in_names, session, onnx_bytes


def check_saved(folder: str | None = None) -> list[tuple[bool, str, str]]:
    """``s2s-live doctor``: every saved mapping's (ok, name, message). A trained one is loaded and
    verified by the model host's loader (sha256, names, shapes, a dummy run); every examples.csv
    is read. An absent folder gives no rows."""
    root = mappings_dir(folder)
    rows: list[tuple[bool, str, str]] = []
    if not root.is_dir():
        return rows
    for f in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            X, _, ins, outs = read_examples(f / CSV_FILE)
            msg = f"{X.shape[0]} examples, {len(ins)} input values, outputs {outs}"
            if (f / modelcard.CARD_FILE).is_file():
                from ..inference.onnx import OnnxProcessor

                card = OnnxProcessor(f, smoothing=0.0).card
                if card["input"].get("recipe") != RECIPE or not isinstance(card.get("mapping"), dict):
                    raise ModelError(f"its card is not a mapping's (recipe {card['input'].get('recipe')!r})")
                msg += "; trained model loads and matches its card (sha256, names, shapes)"
            else:
                msg += "; not trained"
            rows.append((True, f.name, msg))
        except (ModelError, ConfigError, OSError, ValueError) as exc:
            rows.append((False, f.name, str(exc)))
    return rows
