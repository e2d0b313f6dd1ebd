"""The model host: slots whose models are swapped while streaming, and the default model set.

* :class:`ModelSlot` — a processor in the pipeline whose model can be swapped while streaming
  (the analysis thread picks up the new model on its next hop; no frame is lost).
* :class:`ModelHost` — the slots; ``host.load(slot, name)`` serves ``/s2s/model/load slot name``;
  a failed load raises ModelError and keeps the previous model.
* :func:`default_processors` — the shipped genre/emotion/encoder slots and the taggers feeding them.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..errors import ModelError
from ..labels import KEEP, check_smoothing
from ..processor import Processor
from . import card as modelcard
from .onnx import DEFAULT_FAST, DEFAULT_HOLD, DEFAULT_MARGIN, DEFAULT_SLOTS, OnnxProcessor
from .taggers import DEFAULT_PATCH, TAGGER_MODELS, TaggerProcessor


class ModelSlot(Processor):
    """A pipeline processor whose model can be replaced between hops (hot swap)."""

    stream = "frame"

    def __init__(self, slot: str, model: OnnxProcessor, model_name: str) -> None:
        self.slot = slot
        self.name = f"model:{slot}"
        self.inner = model
        self.model_name = model_name
        self.host: ModelHost | None = None

    @property
    def outputs(self):  # type: ignore[override]
        return self.inner.outputs

    def process(self, frame):
        return self.inner.process(frame)  # one attribute read: a swap is atomic for this hop

    def reset(self) -> None:
        self.inner.reset()

    def warmup(self) -> None:
        self.inner.warmup()

    def set_smoothing(self, alpha: float) -> None:
        """Smoothing of this slot's model (and of models loaded into any slot later)."""
        a = check_smoothing(alpha)
        self.inner.set_smoothing(a)
        if self.host is not None:
            self.host.smoothing = a

    def describe(self) -> dict:
        d = self.inner.describe()
        d["name"], d["slot"], d["model_name"] = self.name, self.slot, self.model_name
        return d


class ModelHost:
    """The hosted model slots of one pipeline, with hot swap.

    Parameters
    ----------
    models_dir : str or Path
        Folder holding one sub-folder per model.
    smoothing, margin, hold, fast : float
        See :class:`OnnxProcessor`.
    """

    def __init__(self, models_dir: str | Path, *, smoothing: float = 0.5, margin: float = DEFAULT_MARGIN,
                 hold: float = DEFAULT_HOLD, fast: float | None = DEFAULT_FAST) -> None:
        self.models_dir = Path(models_dir)
        self.smoothing = check_smoothing(smoothing)
        self.margin, self.hold, self.fast = margin, hold, fast
        self.slots: dict[str, ModelSlot] = {}
        self._lock = threading.Lock()  # serialises loads (control thread), never taken per hop
        #: one line per model folder that could not be hosted (said at start, in /s2s/error too)
        self.problems: list[str] = modelcard.incomplete_folders(self.models_dir)

    def _build(self, name: str) -> OnnxProcessor:
        folder = modelcard.resolve(self.models_dir, name)
        if not folder.is_dir():
            avail = sorted(p.name for p in self.models_dir.iterdir() if (p / modelcard.CARD_FILE).is_file()) \
                if self.models_dir.is_dir() else []
            raise ModelError(f"model {name!r} not found in the models directory (available: {avail})")
        return OnnxProcessor(folder, smoothing=self.smoothing, margin=self.margin, hold=self.hold, fast=self.fast)

    def add(self, slot: str, name: str, *, model: OnnxProcessor | None = None) -> ModelSlot:
        """Create a slot hosting model ``name`` (at start-up; ``model`` if already built); raises ModelError."""
        if slot in self.slots:
            raise ValueError(f"slot {slot!r} already exists")
        model = model if model is not None else self._build(name)
        if model.input_kind == "logmel":
            raise ModelError(f"model {name!r} is a tagger (input: log-mel patches); the tagger processor hosts it")
        if model.card["kind"] == "decoder":
            raise ModelError(f"model {name!r} is a decoder (latent -> audio); it cannot analyse frames")
        s = ModelSlot(slot, model, name)
        s.host = self
        self.slots[slot] = s
        return s

    def processors(self) -> list[ModelSlot]:
        return list(self.slots.values())

    def load(self, slot: str, name: str) -> dict:
        """Hot swap: load model ``name`` (a folder name under models_dir) into ``slot``.

        The new model is fully loaded, verified and warmed first, then swapped in atomically; the
        analysis thread uses it from its next hop. On any failure ModelError is raised and the
        slot keeps its previous model. Returns the new model's ``describe()`` (its outputs may
        differ from the old model's: refresh ``/s2s/meta``).
        """
        if slot not in self.slots:
            raise ModelError(f"model slot {slot!r} does not exist; expected one of {sorted(self.slots)}")
        with self._lock:
            new = self._build(name)
            if new.card["kind"] == "decoder":
                raise ModelError(f"model {name!r} is a decoder (latent -> audio); it cannot analyse frames")
            if new.input_kind == "logmel":
                raise ModelError(f"model {name!r} is a tagger (input: log-mel patches); it cannot go into a slot")
            s = self.slots[slot]
            own = {o.name for o in new.outputs}
            for other in self.slots.values():
                if other is not s:
                    clash = own & {o.name for o in other.outputs}
                    if clash:
                        raise ModelError(f"model {name!r} outputs {sorted(clash)} are already produced by slot "
                                         f"{other.slot!r}; load it into that slot instead")
            s.inner, s.model_name = new, name
            return s.describe()

    def set_smoothing(self, alpha: float) -> None:
        """Smoothing per hop (0..0.99) for every slot, effective from the next hop."""
        self.smoothing = check_smoothing(alpha)
        for s in self.slots.values():
            s.inner.set_smoothing(self.smoothing)

    def set_hysteresis(self, *, margin: float | None = None, hold: float | None = None, fast=KEEP) -> None:
        """Change every slot's label hysteresis and the one models load with."""
        for s in self.slots.values():
            s.inner.set_hysteresis(margin=margin, hold=hold, fast=fast)
        if margin is not None:
            self.margin = margin
        if hold is not None:
            self.hold = hold
        if fast is not KEEP:
            self.fast = fast


def host_of(processors) -> ModelHost | None:
    """The ModelHost behind a processor list (the engine calls this to serve /s2s/model/load)."""
    for p in processors:
        h = getattr(p, "host", None)
        if isinstance(h, ModelHost):
            return h
    return None


def default_processors(cfg) -> list:
    """Model slots for the configured models plus the rule-based emotion processor.

    ``cfg.models`` (slot -> model name) overrides :data:`DEFAULT_SLOTS`; a default model whose
    folder is absent is skipped, an explicitly configured one that fails raises ModelError.
    """
    from .emotion_rules import EmotionRulesProcessor

    procs: list[Processor] = []
    host = ModelHost(cfg.models_dir, smoothing=cfg.smoothing,
                     margin=getattr(cfg, "hysteresis_margin", DEFAULT_MARGIN),
                     hold=getattr(cfg, "hysteresis_hold", DEFAULT_HOLD),
                     fast=getattr(cfg, "hysteresis_fast", DEFAULT_FAST))
    slots = dict(DEFAULT_SLOTS)
    explicit = dict(getattr(cfg, "models", None) or {})
    slots.update(explicit)
    tagger = _tagger(host, cfg, _head_patches(cfg.models_dir, slots.values()))
    if tagger is not None:
        procs.append(tagger)  # before the heads: they read tags/* of this hop
    for slot, name in slots.items():
        if slot not in explicit and not (Path(cfg.models_dir) / name / modelcard.CARD_FILE).is_file():
            continue
        model = host._build(name)
        if model.value_key and tagger is None and any(str(k).startswith("tags/") for k in _keys(model.value_key)):
            if slot in explicit:
                raise ModelError(f"model {name!r} reads the taggers' outputs, but models/tagger-msd and "
                                 "models/tagger-mtt are not in the models folder")
            continue
        host.add(slot, name, model=model)
    procs += host.processors()
    if tagger is not None:
        from .instruments import InstrumentsProcessor

        procs.append(InstrumentsProcessor(tagger.labels[1], tagger.labels[0]))
    procs.append(EmotionRulesProcessor())
    return procs


def _keys(value_key) -> tuple:
    return value_key if isinstance(value_key, tuple) else (value_key,)


def _head_patches(models_dir, names) -> dict[str, float]:
    """model name -> the tagger patch length (s) its card says it was trained on, for the heads
    that read the taggers (unreadable cards are left to the model loader to report)."""
    out = {}
    for n in names:
        try:
            inp = modelcard.load_card(Path(models_dir) / n).get("input", {})
        except (ModelError, OSError):
            continue
        if "tagger_patch_s" in inp:
            out[n] = float(inp["tagger_patch_s"])
    return out


def _tagger(host: "ModelHost", cfg, head_patches: dict[str, float] | None = None):
    """The tagger processor when both tagger models are in the models folder, else None.

    Its patch length is ``cfg.tagger_patch`` when set, else the one the heads were trained on
    (their cards' ``tagger_patch_s``), else 3 s; a head trained on another length is named in
    ``host.problems`` (its answers would drift)."""
    if not all((Path(cfg.models_dir) / n / modelcard.CARD_FILE).is_file() for n in TAGGER_MODELS):
        return None
    head_patches = head_patches or {}
    patch = getattr(cfg, "tagger_patch", None)
    if patch is None:
        patch = next(iter(head_patches.values()), DEFAULT_PATCH)
    for name, p in head_patches.items():
        if abs(p - patch) > 1e-6:
            host.problems.append(f"model {name!r} was trained on {p:g}-s tagger patches but the taggers run "
                                 f"on {patch:g}-s patches (tagger_patch); its answers will be less accurate")
    msd, mtt = (host._build(n) for n in TAGGER_MODELS)
    return TaggerProcessor(msd, mtt, interval=getattr(cfg, "tagger_interval", 0.5), patch=patch)
