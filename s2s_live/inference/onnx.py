"""ONNX models described by model cards, as processors.

:class:`OnnxProcessor` is built from any model folder with a card (``models/<name>/``). The
card's outputs become the processor's outputs (OSC addresses); classifier outputs get smoothing,
a stable top label after hysteresis and ``*/changed`` events. At load it verifies the sha256,
the input/output names, shapes and dtypes with a dummy input, and refuses a mismatch with
:class:`~s2s_live.errors.ModelError` naming expected vs actual. Feature inputs may ask for a
rolling context (:class:`RollingMean`, up to :data:`MAX_CONTEXT_S`).

onnxruntime sessions run single-threaded (intra/inter op 1, sequential) and are warmed with ~20
runs at load, so nothing is compiled or allocated lazily while streaming.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frames import SR_RECIPE, SR_VAE
from ..labels import KEEP, ExpSmoother, Hysteresis
from ..processor import Output, Processor
from . import card as modelcard
from .taggers import TAGS_RECIPE_ID, TAGS_RECIPE_VERSION

def _recipes() -> dict[str, tuple[str, int, list[str]]]:
    """Feature recipes the live descriptors produce: recipe id -> (frame.values key, version, names)."""
    from ..features import recipe

    return {recipe.GTZAN_RECIPE_ID: ("recipe/gtzan", recipe.GTZAN_RECIPE_VERSION, list(recipe.GTZAN_FEATURES))}


#: Model slots hosted live by default (slot -> model name under models_dir), in run order.
DEFAULT_SLOTS = {"genre": "genre", "emotion": "emotion", "encoder": "encoder"}
WARMUP_RUNS = 20
WARMUP_BUDGET_S = 0.2  #: warm-up time per model beyond the first 3 runs
DEFAULT_MARGIN = 0.2  #: hysteresis margin (probability points) when the config has none
DEFAULT_HOLD = 1.0  #: hysteresis hold (s) when the config has none
DEFAULT_FAST = 0.3  #: a lead that switches at once (reaction and flicker measured: docs/models.md)

_ORT_TYPES = {"tensor(float)": "float32"}
MAX_CONTEXT_S = 30.0  #: longest rolling input context a card may ask for (s)


class RollingMean:
    """Mean of a vector input over the last ``seconds`` of stream time (hops), preallocated.

    Keeps up to ``capacity`` rows; with very short hops the window holds the newest
    ``capacity`` hops instead (documented limit, 512 rows = 5 s at a 0.01-s hop).
    A stream time that goes backwards (a new stream) starts the window afresh.
    """

    def __init__(self, size: int, seconds: float, capacity: int = 512) -> None:
        self.seconds = float(seconds)
        self.rows = np.zeros((capacity, size), np.float64)
        self.times = np.full(capacity, -np.inf)
        self.sum = np.zeros(size, np.float64)
        self.reset()

    def reset(self) -> None:
        self.rows[:] = 0.0
        self.times[:] = -np.inf
        self.sum[:] = 0.0
        self.head = 0  # next row to write
        self.count = 0
        self.last_t = -np.inf

    def push(self, x: np.ndarray, t: float) -> None:
        if t < self.last_t:
            self.reset()
        self.last_t = t
        cap = self.rows.shape[0]
        if self.count == cap:  # the oldest row falls out
            self.sum -= self.rows[self.head]
            self.count -= 1
        self.rows[self.head] = x
        self.times[self.head] = t
        self.sum += self.rows[self.head]
        self.head = (self.head + 1) % cap
        self.count += 1
        # drop rows older than the window (a row at exactly t - seconds is outside: N = seconds/hop rows)
        while self.count > 1:
            old = (self.head - self.count) % cap
            if self.times[old] > t - self.seconds + 1e-9:
                break
            self.sum -= self.rows[old]
            self.count -= 1

    def mean(self, out: np.ndarray) -> np.ndarray:
        out[:] = self.sum / max(1, self.count)
        return out


def make_session(model_bytes: bytes):
    """A single-threaded, sequential onnxruntime CPU session from serialized model bytes."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(model_bytes, sess_options=so, providers=["CPUExecutionProvider"])


def _dims_match(card_shape: list[int], ort_shape) -> bool:
    if len(card_shape) != len(ort_shape):
        return False
    # symbolic/unknown dims (a dynamic batch) accept the card's size
    return all(not isinstance(d, int) or d is None or d == c for c, d in zip(card_shape, ort_shape))


class _OutSpec:
    """One card output, prepared for streaming (smoother, hysteresis, value names)."""

    def __init__(self, o: dict, alpha: float, margin: float, hold: float, fast: float | None) -> None:
        self.name = o["name"]
        self.size = int(np.prod(o["shape"][1:])) if len(o["shape"]) > 1 else 1
        self.osc = o.get("osc")
        self.type = o.get("type")
        self.split = o.get("split")
        self.range = tuple(o["range"]) if "range" in o else None
        self.labels = tuple(o.get("labels", ()))
        self.top, self.top_type = o.get("top"), o.get("top_type", "s")
        self.id, self.changed = o.get("id"), o.get("changed")
        self.smoother = ExpSmoother(self.size, alpha) if o.get("smooth", True) else None
        self.hyst = Hysteresis(self.labels, margin=margin, hold=hold, fast=fast) if self.labels else None

    def declare(self, doc: str) -> list[Output]:
        outs: list[Output] = []
        if self.osc:
            t = self.type or "f"
            outs.append(Output(self.osc, type=t, shape=self.size if t == "f" else len(t), range=self.range,
                               labels=self.labels, doc=doc))
        for i, nm in enumerate(self.split or ()):
            lab = self.labels[i] if self.labels else f"{self.name}[{i}]"
            outs.append(Output(nm, range=self.range, doc=f"{doc}: {lab}"))
        if self.labels:
            n = len(self.labels)
            if self.top:
                # "sf": label and its probability, in the probabilities' range (normalised
                # profiles map it linearly like the probabilities, not through the logistic)
                outs.append(Output(self.top, type=self.top_type, labels=self.labels,
                                   range=self.range if "f" in self.top_type else None,
                                   doc="stable top label (after smoothing and hysteresis)"
                                   + (", its smoothed probability" if self.top_type == "sf" else "")))
            if self.id:
                outs.append(Output(self.id, type="i", range=(0.0, float(n - 1)), labels=self.labels,
                                   doc="index of the stable top label"))
            if self.changed:
                outs.append(Output(self.changed, type="ss", stream="event", range=None,
                                   doc="stable label changed: from, to"))
        return outs

    def emit(self, raw: np.ndarray, t: float, values: dict) -> None:
        v = raw.reshape(-1)
        if self.smoother is not None:
            v = self.smoother(v)
        if self.osc:
            if self.type:
                values[self.osc] = tuple(float(x) for x in v)
            elif self.size == 1:
                values[self.osc] = float(v[0])
            else:
                values[self.osc] = v.astype(np.float32, copy=True)
        for i, nm in enumerate(self.split or ()):
            values[nm] = float(v[i])
        if self.hyst is not None:
            idx, changed = self.hyst.update(v, t)
            if self.top:
                lab = self.labels[idx]
                values[self.top] = (lab, float(v[idx])) if self.top_type == "sf" else lab
            if self.id:
                values[self.id] = idx
            if self.changed and changed is not None:
                values[self.changed] = changed

    def reset(self) -> None:
        if self.smoother is not None:
            self.smoother.reset()
        if self.hyst is not None:
            self.hyst.reset()


class OnnxProcessor(Processor):
    """A frame processor running one ONNX model described by its card.

    Parameters
    ----------
    folder : str or Path
        Model folder holding ``model.onnx`` and ``card.json``.
    smoothing : float
        Exponential smoothing per hop of every output (0..0.99), unless the card says
        ``"smooth": false`` for it.
    margin, hold, fast : float
        Hysteresis of classifier labels: a new top label must lead by ``margin`` (0..1) for
        ``hold`` seconds before ``*/changed`` fires, or by ``fast`` (margin..1, None: off) once.

    Raises ModelError when the card is missing/invalid, the sha256 differs, the model cannot be
    parsed, or its input/output names, shapes, dtypes or a dummy run disagree with the card.
    """

    stream = "frame"

    def __init__(self, folder: str | Path, *, smoothing: float = 0.5, margin: float = DEFAULT_MARGIN,
                 hold: float = DEFAULT_HOLD, fast: float | None = DEFAULT_FAST) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ModelError(f"model folder {self.folder.name!r} does not exist")
        card = modelcard.load_card(self.folder)
        self.card = card
        self.name = f"model:{card['name']}"
        mpath = self.folder / modelcard.MODEL_FILE
        if not mpath.is_file():
            raise ModelError(f"{self._where}: {modelcard.MODEL_FILE} is missing")
        data = mpath.read_bytes()  # hash and parse the same bytes
        actual = hashlib.sha256(data).hexdigest()
        if actual != card["sha256"]:
            raise ModelError(
                f"{self._where}: sha256 mismatch: {modelcard.MODEL_FILE} does not match its card "
                "(the model file was changed or corrupted; re-export it or fix the card)"
            )
        try:
            self.session = make_session(data)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises several private types
            raise ModelError(f"{self._where}: {modelcard.MODEL_FILE} cannot be loaded by onnxruntime: "
                             f"{str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}") from None
        inp = card["input"]
        self.input_kind = inp["kind"]
        self.in_name = inp["name"]
        self.in_shape = list(inp["shape"])
        self.in_size = int(np.prod(self.in_shape))
        self._check_signature()
        self.value_key = None
        self.context = None
        if self.input_kind == "logmel":
            pass  # a tagger: the TaggerProcessor feeds it the front end's patches (s2s_live.inference.taggers)
        elif self.input_kind == "features":
            self.value_key = inp.get("value")
            if isinstance(self.value_key, list):
                if not self.value_key or not all(isinstance(k, str) for k in self.value_key):
                    raise ModelError(f"{self._where}: input value={self.value_key!r}; expected a key or a list of keys")
                self.value_key = tuple(self.value_key)
            if "context_s" in inp:
                c = inp["context_s"]
                if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0.0 < c <= MAX_CONTEXT_S:
                    raise ModelError(f"{self._where}: input context_s={c!r}; expected seconds in (0, {MAX_CONTEXT_S}]")
                self.context = RollingMean(self.in_size, float(c))
            known = _recipes().get(inp["recipe"])
            version = known[1] if known else {TAGS_RECIPE_ID: TAGS_RECIPE_VERSION}.get(inp["recipe"])
            if version is not None and inp["recipe_version"] != version:  # a head trained on other outputs
                raise ModelError(f"{self._where}: input recipe_version expected {version} (live "
                                 f"{inp['recipe']!r}), card has {inp['recipe_version']}")
            if self.value_key is None:
                if known is None:
                    raise ModelError(f"{self._where}: input recipe {inp['recipe']!r} is not produced live "
                                     f"(known: {sorted(_recipes())}); give input.value to read another output")
                key, version, names = known
                if list(inp["names"]) != names:
                    raise ModelError(f"{self._where}: input names differ from the live recipe "
                                     f"{inp['recipe']!r} v{version} (expected {names[:3]}..., card has {inp['names'][:3]}...)")
                self.value_key = key
        else:
            self.sample_rate = inp["sample_rate"]
            self.length = inp["length"]
            frame_len = SR_VAE if self.sample_rate == SR_VAE else SR_RECIPE
            if self.length > frame_len:
                raise ModelError(f"{self._where}: input length {self.length} exceeds the one-second frame ({frame_len})")
        self.buf = np.zeros(self.in_shape, dtype=np.float32)
        self._flat = self.buf.reshape(-1)
        self.specs = [_OutSpec(o, smoothing, margin, hold, fast) for o in card["outputs"]]
        self.out_names = [s.name for s in self.specs]
        self.outputs = tuple(o for s in self.specs for o in s.declare(f"{card['name']} {s.name}"))
        names = [o.name for o in self.outputs]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ModelError(f"{self._where}: output addresses declared twice: {sorted(dup)}")
        self._dummy_check()
        self.warmup()

    @classmethod
    def from_folder(cls, folder: str | Path, **kw) -> "OnnxProcessor":
        """Load and verify the model in ``folder`` (used by ``s2s-live doctor``)."""
        return cls(folder, **kw)

    @property
    def _where(self) -> str:
        return f"model {self.folder.name!r}"

    def _check_signature(self) -> None:
        s = self.session
        ins = s.get_inputs()
        if len(ins) != 1 or ins[0].name != self.in_name:
            raise ModelError(f"{self._where}: input names expected [{self.in_name!r}], "
                             f"model has {[i.name for i in ins]}")
        if _ORT_TYPES.get(ins[0].type) != "float32":
            raise ModelError(f"{self._where}: input {self.in_name!r} dtype expected float32, model has {ins[0].type}")
        if not _dims_match(self.in_shape, ins[0].shape):
            raise ModelError(f"{self._where}: input {self.in_name!r} shape expected {self.in_shape}, "
                             f"model has {list(ins[0].shape)}")
        have = {o.name: o for o in s.get_outputs()}
        for o in self.card["outputs"]:
            if o["name"] not in have:
                raise ModelError(f"{self._where}: output {o['name']!r} expected by the card, model has {sorted(have)}")
            h = have[o["name"]]
            if _ORT_TYPES.get(h.type) != "float32":
                raise ModelError(f"{self._where}: output {o['name']!r} dtype expected float32, model has {h.type}")
            if not _dims_match(o["shape"], h.shape):
                raise ModelError(f"{self._where}: output {o['name']!r} shape expected {o['shape']}, "
                                 f"model has {list(h.shape)}")

    def _dummy_check(self) -> None:
        rng = np.random.default_rng(0)
        self.buf[...] = 0.1 * rng.standard_normal(self.buf.shape).astype(np.float32)
        try:
            outs = self.session.run(self.out_names, {self.in_name: self.buf})
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"{self._where}: dummy run with input shape {self.in_shape} failed: {exc}") from None
        for o, arr in zip(self.card["outputs"], outs):
            if list(arr.shape) != list(o["shape"]) or arr.dtype != np.float32:
                raise ModelError(f"{self._where}: output {o['name']!r} expected shape {o['shape']} float32, "
                                 f"dummy run gave shape {list(arr.shape)} {arr.dtype}")
            if not np.all(np.isfinite(arr)):
                raise ModelError(f"{self._where}: output {o['name']!r} is not finite on a dummy input")
            if "range" in o:
                lo, hi = o["range"]
                if arr.min() < lo - 1e-4 or arr.max() > hi + 1e-4:
                    raise ModelError(f"{self._where}: output {o['name']!r} expected range {o['range']}, dummy run "
                                     f"gave {float(arr.min()):.4g}..{float(arr.max()):.4g}")
        self.buf[...] = 0.0

    # -- Processor ------------------------------------------------------------------------
    def warmup(self) -> None:
        # up to WARMUP_RUNS runs, but no more than WARMUP_BUDGET_S for big models (a tagger run
        # costs ~40 ms: 20 runs each would add seconds to every start for nothing measurable)
        t_end = time.perf_counter() + WARMUP_BUDGET_S
        for i in range(WARMUP_RUNS):
            self.session.run(self.out_names, {self.in_name: self.buf})
            if i >= 2 and time.perf_counter() > t_end:
                break

    def reset(self) -> None:
        for s in self.specs:
            s.reset()
        if self.context is not None:
            self.context.reset()

    def set_smoothing(self, alpha: float) -> None:
        for s in self.specs:
            if s.smoother is not None:
                s.smoother.set_alpha(alpha)

    def set_hysteresis(self, *, margin: float | None = None, hold: float | None = None, fast=KEEP) -> None:
        """Change the label hysteresis (see :meth:`Hysteresis.set_params`)."""
        for s in self.specs:
            if s.hyst is not None:
                s.hyst.set_params(margin=margin, hold=hold, fast=fast)

    def _fill_input(self, frame) -> bool:
        if self.input_kind == "logmel":
            return False  # fed by the tagger processor, not per frame
        if self.input_kind == "features":
            keys = self.value_key if isinstance(self.value_key, tuple) else (self.value_key,)
            i = 0
            for key in keys:
                v = frame.values.get(key)
                if v is None:
                    return False  # the descriptor has nothing yet (warming up) or is not running
                v = np.asarray(v).reshape(-1)
                if i + v.size > self.in_size:
                    raise ModelError(f"{self._where}: frame values {list(keys)!r} give more than the "
                                     f"{self.in_size} input values the card declares")
                self._flat[i : i + v.size] = v
                i += v.size
            if i != self.in_size:
                raise ModelError(f"{self._where}: frame values {list(keys)!r} give {i} values, expected {self.in_size}")
            if self.context is not None:
                self.context.push(self._flat, frame.time)
                self.context.mean(self._flat)
            return True
        y = frame.y16 if self.sample_rate == SR_VAE else frame.y22
        self._flat[:] = y[y.shape[0] - self.length :]
        return True

    def process(self, frame):
        if not self._fill_input(frame):
            return {}
        outs = self.session.run(self.out_names, {self.in_name: self.buf})
        values: dict[str, Any] = {}
        for spec, arr in zip(self.specs, outs):
            spec.emit(arr, frame.time, values)
        return values

    def describe(self) -> dict:
        d = super().describe()
        d["model"] = {k: self.card.get(k) for k in ("name", "kind", "version", "sha256")}
        return d
