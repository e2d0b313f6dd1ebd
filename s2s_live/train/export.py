"""ONNX export of trained torch modules, parity checks and model cards.

Every shipped model is one self-contained ``model.onnx`` (no external data) with named inputs
and outputs and a fixed batch of 1 (the live engine runs one frame at a time), checked against
torch on 100 random inputs (max abs diff <= 1e-4), with ``card.json`` beside it.
"""

from __future__ import annotations

import datetime as _dt
import io
import sys
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from ..inference.card import MODEL_FILE, write_card

PARITY_TOL = 1e-4
OPSET = 17


def export_onnx(module, example, folder: str | Path, *, input_name: str, output_names: list[str]) -> Path:
    """Export ``module`` (eval mode) at ``example``'s shape to ``folder/model.onnx``; return the path."""
    import onnx
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    module = module.eval()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated but exact and small
        torch.onnx.export(module, (example,), buf, input_names=[input_name], output_names=output_names,
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
    model = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(model)
    path = folder / MODEL_FILE
    onnx.save_model(model, str(path), save_as_external_data=False)  # one file, weights inside
    return path


def parity(module, path: str | Path, make_input: Callable[[np.random.Generator], np.ndarray], *,
           n: int = 100, seed: int = 0) -> float:
    """Max abs difference between torch and onnxruntime over ``n`` random inputs (all outputs)."""
    import torch

    from ..inference.onnx import make_session

    sess = make_session(Path(path).read_bytes())
    in_name = sess.get_inputs()[0].name
    out_names = [o.name for o in sess.get_outputs()]
    rng = np.random.default_rng(seed)
    worst = 0.0
    module = module.eval()
    with torch.no_grad():
        for _ in range(n):
            x = make_input(rng).astype(np.float32)
            ref = module(torch.from_numpy(x))
            ref = ref if isinstance(ref, (tuple, list)) else (ref,)
            got = sess.run(out_names, {in_name: x})
            for r, g in zip(ref, got):
                worst = max(worst, float(np.max(np.abs(r.numpy() - g))))
    return worst


def _rel(p: str) -> str:
    try:
        return str(Path(p).resolve().relative_to(Path.cwd()))
    except ValueError:
        return p


#: Set by :func:`s2s_live.train.commands.main` to the command as the user typed it.
COMMAND: str | None = None


def command_line() -> str:
    """The command that is running (recorded in cards)."""
    if COMMAND:
        return COMMAND
    return " ".join(["s2s-live" if Path(sys.argv[0]).name in ("s2s-live", "cli.py") else "python " + _rel(sys.argv[0])]
                    + sys.argv[1:])


def finish(folder: str | Path, card: dict, module, make_input, *, tol: float = PARITY_TOL) -> dict:
    """Check parity, then write the card (sha256 filled in). Raises RuntimeError over ``tol``."""
    diff = parity(module, Path(folder) / MODEL_FILE, make_input)
    if not diff <= tol:
        raise RuntimeError(f"ONNX parity failed: max abs diff {diff:.3g} > {tol:g}")
    card = dict(card)
    card.setdefault("created", _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat())
    card.setdefault("metrics", {})["onnx_parity_max_abs_diff"] = diff
    return write_card(folder, card)
