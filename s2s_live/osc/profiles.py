"""Receiver profiles: how the engine's output values become OSC messages for one kind of receiver.

The contract is docs/osc.md:

* ``s2s`` — every declared output on ``<prefix>/<name>``, in its documented unit and range;
* ``max``, ``sc`` — the same addresses, float values normalised to 0..1 from each output's
  declared range (so a patch can map them without knowing units);
* ``touchdesigner`` — one number per address (vectors split to ``<name>/<k>``), strings on a
  slow address (on change, refreshed every :data:`STRING_REFRESH` s) plus an integer index;
* ``wekinator`` — one fixed-length ``/wek/inputs`` vector per hop (:data:`WEK_INPUTS`; the
  genre block has :data:`WEK_GENRE_SLOTS` positions whatever the model's label count), and
  ``/wekinator/control/setInputNames`` with every meta block (start, model load).

A profile spec is ``NAME[:raw|:norm]``: ``:raw`` sends declared units, ``:norm`` normalises
(``s2s`` defaults to raw, every other profile to norm). Encoding is :mod:`.codec`'s.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError
from ..processor import Output
from .codec import encode_floats, encode_message

STRING_REFRESH = 2.0  #: seconds between repeats of unchanged strings (touchdesigner profile)
WEK_PORT = 6448  #: Wekinator's default input port


def output_args(o: Output, value: Any) -> tuple[str, list] | None:
    """Type tags and plain-Python args for an output value, or None if it has no valid value."""
    if value is None:
        return None
    if len(o.type) > 1:  # mixed tuple, e.g. ("rock", 0.8) for "sf"
        try:
            vals = list(value)
        except TypeError:
            return None
        if len(vals) != len(o.type):
            return None
        return o.type, vals
    if o.shape == 1:
        if isinstance(value, np.ndarray):
            if value.size == 0:
                return None
            value = value.reshape(-1)[0]
        return o.type, [value]
    arr = np.asarray(value).reshape(-1)
    if arr.shape[0] != o.shape:
        return None
    if o.type == "f":
        return "f" * o.shape, arr.astype(np.float64).tolist()
    return o.type * o.shape, arr.tolist()


#: Scaler of float outputs without a finite declared range (the VAE latent, z-scores): the
#: logistic function, so normalised profiles still send 0..1 (0 maps to 0.5, order is kept).
LOGISTIC = (math.nan, math.nan)


def _scaler(o: Output) -> tuple[float, float] | None:
    """(offset, scale) mapping the declared range to 0..1 (then clipped); :data:`LOGISTIC` for
    float outputs without a finite range; None for ints and strings (never scaled)."""
    if "f" not in o.type:
        return None
    if o.range is None:
        return LOGISTIC
    lo, hi = float(o.range[0]), float(o.range[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return LOGISTIC
    return lo, 1.0 / (hi - lo)


def _unit(v: float, sc: tuple[float, float]) -> float:
    if sc is LOGISTIC:
        x = float(v)
        if not math.isfinite(x):
            return 0.0 if x != x else (1.0 if x > 0 else 0.0)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))
    x = (float(v) - sc[0]) * sc[1]
    return 0.0 if not x > 0.0 else 1.0 if x > 1.0 else x  # NaN -> 0


# ------------------------------------------------------------------------------------------
# Profiles


class Profile:
    """Turns values into datagrams for one kind of receiver.

    The ``s2s`` profile sends every non-internal output on ``<prefix>/<address>``.
    Subclasses override :meth:`frame_messages` / :meth:`fast_messages` / :meth:`start_messages`
    / :meth:`event_message`.

    Parameters
    ----------
    prefix : str
        Address prefix, e.g. ``/s2s``.
    normalise : bool or None
        Map float values to 0..1 from each output's declared range; None = the profile's
        default (:attr:`normalise_default`).
    """

    name = "s2s"
    normalise_default = False

    def __init__(self, prefix: str = "/s2s", *, normalise: bool | None = None) -> None:
        self.prefix = prefix
        self.normalise = self.normalise_default if normalise is None else bool(normalise)
        self.outputs: list[Output] = []
        self._scale: dict[str, tuple[float, float] | None] = {}

    @property
    def spec(self) -> str:
        """The profile spec that recreates this profile (``NAME[:raw|:norm]``)."""
        if self.normalise == self.normalise_default:
            return self.name
        return f"{self.name}:{'norm' if self.normalise else 'raw'}"

    def bind(self, outputs: Sequence[Output]) -> None:
        """Called when the output list is known (and again when it changes)."""
        self.outputs = [o for o in outputs if o.osc_address]
        self._scale = {o.name: _scaler(o) if self.normalise else None for o in self.outputs}

    def sent_range(self, o: Output) -> tuple[float, float] | None:
        """The range of the values this profile sends for ``o`` (after normalisation)."""
        return (0.0, 1.0) if self._scale.get(o.name) is not None else o.range

    def args(self, o: Output, value: Any) -> tuple[str, list] | None:
        """Tags and args for one output value, normalised when this profile does so."""
        ta = output_args(o, value)
        if ta is None:
            return None
        sc = self._scale.get(o.name)
        if sc is not None:
            tags, vals = ta
            ta = tags, [_unit(v, sc) if t == "f" else v for t, v in zip(tags, vals)]
        return ta

    def _messages(self, values: dict, streams: tuple[str, ...]) -> list[bytes]:
        out = []
        p = self.prefix
        for o in self.outputs:
            if o.stream not in streams:
                continue
            v = values.get(o.name)
            if v is None:
                continue
            ta = self.args(o, v)
            if ta is None:
                continue
            self._encode(out, f"{p}/{o.osc_address}", o, ta[0], ta[1])
        return out

    def _encode(self, out: list, base: str, o: Output, tags: str, vals: list) -> None:
        """Append the message(s) for one output value: one plain message here."""
        out.append(encode_message(base, tags, vals))

    def frame_messages(self, values: dict, index: int, t: float) -> list[bytes]:
        msgs = [encode_message(f"{self.prefix}/frame", "if", [index, t])]
        return msgs + self._messages(values, ("frame", "event"))

    def fast_messages(self, values: dict) -> list[bytes]:
        return self._messages(values, ("fast", "event"))

    def start_messages(self, meta: dict) -> list[bytes]:
        """``<prefix>/meta/...`` messages describing the stream (sent at start and on request).

        Order: version, profile, rates, hop, one ``meta/output`` per output (address, type,
        shape, sent range lo, hi, stream), labels where declared, then ``meta/done i`` (count).
        """
        p = self.prefix
        rates = list(meta.get("rates") or [meta.get("samplerate", 0), 22050, 16000])
        msgs = [
            encode_message(f"{p}/meta/version", "s", [meta.get("version", "")]),
            encode_message(f"{p}/meta/profile", "s", [self.spec]),
            encode_message(f"{p}/meta/rates", "iii", [int(r or 0) for r in rates[:3]]),
            encode_message(f"{p}/meta/hop", "f", [meta.get("hop", 0.0)]),
        ]
        for o in self.outputs:
            r = self.sent_range(o)
            lo, hi = r if r is not None else (0.0, 0.0)
            msgs.append(encode_message(f"{p}/meta/output", "ssiffs",
                                       [f"{p}/{o.osc_address}", o.type, o.shape, lo, hi, o.stream]))
            if o.labels:
                msgs.append(encode_message(f"{p}/meta/labels/{o.osc_address}", "s" * len(o.labels), list(o.labels)))
        msgs.append(encode_message(f"{p}/meta/done", "i", [len(self.outputs)]))
        return msgs

    def event_message(self, address: str, tags: str, args: Sequence[Any]) -> bytes | None:
        return encode_message(f"{self.prefix}/{address}", tags, list(args))


class MaxProfile(Profile):
    """Max/MSP: the s2s addresses, float values normalised to 0..1 (``udpreceive`` + ``route``)."""

    name = "max"
    normalise_default = True


class SCProfile(Profile):
    """SuperCollider: the s2s addresses, float values normalised to 0..1 (``OSCdef``)."""

    name = "sc"
    normalise_default = True


class TouchDesignerProfile(Profile):
    """TouchDesigner: one number per address, for an OSC In CHOP; strings for an OSC In DAT.

    * float/int scalars: ``<p>/<name>`` (floats normalised by default);
    * vectors: ``<p>/<name>/<k>`` for k = 0..N-1 (labels in ``/s2s/meta/labels/<name>``);
    * mixed outputs (e.g. ``genre s f``): numeric element k on ``<p>/<name>/<k>``;
    * strings (``key``, ``emotion/label``, the string element k of a mixed output): the string
      on ``<p>/<name>`` (or ``<p>/<name>/<k>``) only when it changes and every
      :data:`STRING_REFRESH` s, and, when the output declares its labels, the label's index on
      ``<p>/<name>/index`` (``<p>/<name>/<k>/index``) every time;
    * events (``genre/changed``, ``beat``, images, errors) unchanged.
    """

    name = "touchdesigner"
    normalise_default = True

    def __init__(self, prefix: str = "/s2s", *, normalise: bool | None = None) -> None:
        super().__init__(prefix, normalise=normalise)
        self._last_str: dict[str, tuple[str, float]] = {}

    def bind(self, outputs: Sequence[Output]) -> None:
        super().bind(outputs)
        self._index = {o.name: {lab: i for i, lab in enumerate(o.labels)} for o in self.outputs}

    def _string(self, out: list, addr: str, o: Output, s: str, now: float) -> None:
        last = self._last_str.get(addr)
        if last is None or last[0] != s or now - last[1] >= STRING_REFRESH:
            self._last_str[addr] = (s, now)
            out.append(encode_message(addr, "s", [s]))
        idx = self._index.get(o.name, {}).get(s)
        if idx is not None:
            out.append(encode_message(f"{addr}/index", "i", [idx]))

    def _encode(self, out: list, base: str, o: Output, tags: str, vals: list) -> None:
        """Scalars on their own addresses: vectors as ``base/k``, labels as string + index."""
        now = time.monotonic()
        if o.stream == "event":
            out.append(encode_message(base, tags, vals))
        elif len(o.type) > 1:  # mixed
            for k, (t, a) in enumerate(zip(tags, vals)):
                if t == "s":
                    self._string(out, f"{base}/{k}", o, str(a), now)
                else:
                    out.append(encode_message(f"{base}/{k}", t, [a]))
        elif o.type == "s":
            self._string(out, base, o, str(vals[0]), now)
        elif o.shape == 1:
            out.append(encode_message(base, tags, vals))
        else:
            t = o.type
            out.extend(encode_message(f"{base}/{k}", t, [a]) for k, a in enumerate(vals))


#: Positions reserved for the genre probabilities in ``/wek/inputs``. Genre models differ in
#: their label count (10 for the GTZAN model, ~14 for the tagger-based one) and can be swapped
#: while Wekinator runs, but Wekinator needs a fixed input count: so the block is always this
#: long, filled in the loaded model's label order, zero-padded (a model with more labels sends
#: its first 16). 16 leaves room beyond the 14-label vocabulary without many idle inputs.
WEK_GENRE_SLOTS = 16
#: Positions reserved for the instrument-presence vector (``/s2s/instruments``, 10 today).
WEK_INSTRUMENT_SLOTS = 10

#: The fixed Wekinator input selection: (name, candidate outputs, count). The first candidate
#: the engine declares is used; ``name#k`` starts at element k of a vector/mixed output. Missing
#: outputs (e.g. no genre model loaded) send zeros and shorter vectors are zero-padded, so the
#: input count K never changes, neither between models nor when a model is hot-swapped.
WEK_INPUTS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("genre", ("genre/probs",), WEK_GENRE_SLOTS),
    ("valence", ("emotion/valence", "emotion#0", "emotion/rules#0"), 1),
    ("arousal", ("emotion/arousal", "emotion#1", "emotion/rules#1"), 1),
    ("level", ("level",), 1),
    ("band", ("bands",), 3),
    ("onset", ("onset",), 1),
    ("centroid", ("features/centroid",), 1),
    ("bpm", ("bpm", "features/tempo"), 1),
    ("latent_xy", ("latent/xy",), 2),
    ("latent", ("latent",), 8),
    # Model outputs only: the band-energy descriptors (features/band_energy) are not detectors.
    ("instrument", ("instruments",), WEK_INSTRUMENT_SLOTS),
    ("vocals", ("vocals",), 1),
)
WEK_K = sum(n for _, _, n in WEK_INPUTS)  #: length of /wek/inputs (46)


def _wek_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", str(s)).strip("_") or "x"


class WekinatorProfile(Profile):
    """Wekinator: ``/wek/inputs f×K`` (K = :data:`WEK_K`) once per hop, to port 6448.

    The vector is the concatenation of :data:`WEK_INPUTS`; vectors longer than their slot are
    truncated, shorter ones and missing outputs are zero-padded. Fast-stream values (level,
    bands, onset, bpm) are the latest ones before the frame. ``/wekinator/control/setInputNames``
    with K names is sent with every meta block: at start, and again after a model load, when
    :meth:`bind` has renamed the positions after the new model's labels (K stays the same).
    No other messages go to this target.
    """

    name = "wekinator"
    normalise_default = True

    def __init__(self, prefix: str = "/s2s", *, normalise: bool | None = None) -> None:
        super().__init__(prefix, normalise=normalise)
        self.vec = np.zeros(WEK_K, dtype=np.float64)
        self._fast: dict[str, Any] = {}
        self._slots: list[tuple[int, int, Output | None, int]] = []
        self.names: list[str] = []

    def bind(self, outputs: Sequence[Output]) -> None:
        super().bind(outputs)
        by_name = {o.name: o for o in self.outputs}
        self._slots, self.names, pos = [], [], 0
        for label, cands, n in WEK_INPUTS:
            o, first = None, 0
            for c in cands:
                name, _, k = c.partition("#")
                cand = by_name.get(name)
                if cand is not None and (int(k or 0) < len(cand.type) if len(cand.type) > 1 else "s" not in cand.type):
                    if len(cand.type) > 1 and cand.type[int(k or 0)] == "s":
                        continue
                    o, first = cand, int(k or 0)
                    break
            self._slots.append((pos, n, o, first))
            if n == 1:
                self.names.append(label)
            else:
                # Element names from the output's labels (the loaded model's), positions beyond
                # them as "<name>_<k>": those stay 0 until a model with more labels is loaded.
                labs = [_wek_name(x) for x in o.labels[first:first + n]] if o is not None else []
                labs += [str(k) for k in range(len(labs), n)]
                self.names += [f"{label}_{lab}" for lab in labs]
            pos += n
        seen: set[str] = set()
        for i, nm in enumerate(self.names):  # labels that differ only in punctuation stay unique
            if nm in seen:
                self.names[i] = nm = f"{nm}_{i}"
            seen.add(nm)

    def frame_messages(self, values: dict, index: int, t: float) -> list[bytes]:
        vec = self.vec
        vec[:] = 0.0
        for pos, n, o, first in self._slots:
            if o is None:
                continue
            v = values.get(o.name)
            if v is None:
                v = self._fast.get(o.name)
            if v is None:
                continue
            ta = self.args(o, v)
            if ta is None:
                continue
            vals = [float(a) for a in ta[1][first : first + n]]
            vec[pos : pos + len(vals)] = vals
        np.nan_to_num(vec, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        return [encode_floats("/wek/inputs", vec)]

    def fast_messages(self, values: dict) -> list[bytes]:
        self._fast.update(values)
        return []

    def start_messages(self, meta: dict) -> list[bytes]:
        return [encode_message("/wekinator/control/setInputNames", "s" * len(self.names), self.names)]

    def event_message(self, address: str, tags: str, args: Sequence[Any]) -> bytes | None:
        return None


#: Profile name -> class.
PROFILES: dict[str, type[Profile]] = {
    "s2s": Profile,
    "max": MaxProfile,
    "sc": SCProfile,
    "touchdesigner": TouchDesignerProfile,
    "wekinator": WekinatorProfile,
}


def make_profile(spec: str, prefix: str = "/s2s") -> Profile:
    """Build a profile from ``NAME[:raw|:norm]`` (``+`` is accepted instead of ``:``)."""
    if not isinstance(spec, str):
        raise ConfigError(f"profile={spec!r} is invalid; expected a string like 's2s' or 'touchdesigner:raw'")
    name, _, opt = spec.replace("+", ":").partition(":")
    if name not in PROFILES:
        raise ConfigError(f"profile={name!r} is unknown; expected one of {sorted(PROFILES)}")
    if opt not in ("", "raw", "norm"):
        raise ConfigError(f"profile option {opt!r} in {spec!r} is unknown; expected 'raw' or 'norm'")
    return PROFILES[name](prefix, normalise=None if not opt else opt == "norm")
