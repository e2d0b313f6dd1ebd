"""MIDI stage: analysis values out as Control Change, and MIDI control in (mido + python-rtmidi).

Out (for lighting desks and DAWs): after every analysed frame, each mapped output is scaled to
0..127 and sent as a CC on ``channel`` — only when its 7-bit value changed. The mapping
(``Config.midi_cc``, default :data:`DEFAULT_CC`) is ``{"output name[/k]": cc_number}``: a
float output is scaled from its declared range (``level`` 0..1 -> 0..127), an integer output
(``genre/id``) is sent as is (clipped to 0..127), ``name/k`` picks element k of a vector
(``genre/probs/3``, ``bands/0``). Unknown names are ignored until an output with that name
exists (a model loaded later).

In: a Note On (velocity > 0) on any channel asks the visuals for an image
(``engine.visuals.generate()``, which announces ``/s2s/image/started``); CC
``Config.midi_smoothing_cc`` (default 1, the mod wheel) sets the smoothing to value/127*0.99.

Ports: ``Config.midi_out`` / ``Config.midi_in`` name a port; an existing port whose name
contains it is opened, otherwise a virtual port with that name is created (connect it with
``aconnect`` or ``jack_connect``). ``Config.midi_api`` picks the rtmidi API: ``""`` (the
platform default: ALSA on Linux, CoreMIDI on macOS), ``"jack"``, ``"alsa"``.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Mapping

import numpy as np

from .errors import DeviceError

#: Default CC mapping: output name (or name/k) -> controller number.
DEFAULT_CC: dict[str, int] = {
    "level": 20,
    "emotion/valence": 21,
    "emotion/arousal": 22,
    "genre/id": 23,
    "bands/0": 24,
    "bands/1": 25,
    "bands/2": 26,
    "features/centroid": 27,
}
DEFAULT_SMOOTHING_CC = 1  #: the mod wheel
APIS = {"": "mido.backends.rtmidi", "jack": "mido.backends.rtmidi/UNIX_JACK",
        "alsa": "mido.backends.rtmidi/LINUX_ALSA", "coremidi": "mido.backends.rtmidi/MACOSX_CORE"}


def check_cc_map(cc_map: Any) -> dict[str, int]:
    """Validate a mapping {output name[/k]: CC 0..119}; ValueError names the bad entry."""
    if not isinstance(cc_map, Mapping):
        raise TypeError(f"midi_cc must be a table of output name -> CC number, got {type(cc_map).__name__}")
    out = {}
    for k, v in cc_map.items():
        if not isinstance(k, str) or not k:
            raise ValueError(f"midi_cc key {k!r} is invalid; expected an output name like 'level'")
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 119:
            raise ValueError(f"midi_cc[{k!r}]={v!r} is invalid; expected a controller number 0..119")
        out[k] = v
    return out


def backend(api: str = ""):
    """The mido backend for an rtmidi API name ("", "jack", "alsa", "coremidi")."""
    if api not in APIS:
        raise ValueError(f"midi_api={api!r} is unknown; expected one of {sorted(APIS)}")
    import mido

    return mido.Backend(APIS[api], load=True)


def _open(be, kind: str, name: str, client: str, **kw):
    names = be.get_output_names() if kind == "output" else be.get_input_names()
    match = next((n for n in names if n == name), None) or next((n for n in names if name in n), None)
    opener = be.open_output if kind == "output" else be.open_input
    try:
        if match is not None and not match.startswith(f"{client}:"):
            return opener(match, client_name=client, **kw)
        return opener(name, virtual=True, client_name=client, **kw)
    except Exception as exc:  # noqa: BLE001 - rtmidi raises its own SystemError/RtMidiError types
        raise DeviceError(f"cannot open MIDI {kind} {name!r} ({type(exc).__name__}: {exc}); "
                          f"available: {names}") from None


class MidiBridge:
    """Sends mapped outputs as CC after each frame and turns MIDI input into commands.

    Parameters
    ----------
    engine : Engine
        A started engine (its outputs must be known).
    out_port, in_port : str or None
        Port names (see the module docstring); None disables that direction.
    api : str
        rtmidi API ("", "jack", "alsa", "coremidi").
    channel : int
        MIDI channel 1..16 of the CCs sent.
    cc_map : mapping or None
        Output name[/k] -> CC number; None = :data:`DEFAULT_CC`.
    smoothing_cc : int
        Incoming CC number that sets the smoothing (0..119).
    """

    def __init__(self, engine, *, out_port: str | None = None, in_port: str | None = None, api: str = "",
                 channel: int = 1, cc_map: Mapping[str, int] | None = None,
                 smoothing_cc: int = DEFAULT_SMOOTHING_CC, client_name: str = "s2s_live") -> None:
        if isinstance(channel, bool) or not isinstance(channel, int) or not 1 <= channel <= 16:
            raise ValueError(f"midi channel={channel!r} is invalid; expected 1..16")
        if isinstance(smoothing_cc, bool) or not isinstance(smoothing_cc, int) or not 0 <= smoothing_cc <= 119:
            raise ValueError(f"midi_smoothing_cc={smoothing_cc!r} is invalid; expected 0..119")
        self.engine = engine
        self.out_name, self.in_name = out_port, in_port
        self.api = api
        self.channel = channel - 1
        self.cc_map = check_cc_map(DEFAULT_CC if cc_map is None else cc_map)
        self.smoothing_cc = smoothing_cc
        self.client_name = client_name
        self.out = self.inp = None
        self._last = np.full(128, -1, dtype=np.int16)  # last value sent per CC
        self._plan: list[tuple[int, str, int, float, float, bool]] = []
        self._bound: tuple = ()
        self._active = False
        self.counters = {"cc_sent": 0, "notes": 0, "cc_in": 0, "midi_errors": 0}
        self._lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "MidiBridge":
        import mido

        be = backend(self.api)
        self._Message = mido.Message
        if self.out_name:
            self.out = _open(be, "output", self.out_name, f"{self.client_name}_out")
        if self.in_name:
            try:
                self.inp = _open(be, "input", self.in_name, f"{self.client_name}_in", callback=self._on_message)
            except DeviceError:
                self.stop()
                raise
        self._active = True
        if self.out is not None:
            self.engine.subscribe(self.on_frame)
        return self

    def stop(self) -> None:
        self._active = False
        with self._lock:
            for p in (self.inp, self.out):
                if p is not None:
                    try:
                        p.close()
                    except Exception:  # noqa: BLE001 - closing a vanished port is harmless
                        self.counters["midi_errors"] += 1
            self.inp = self.out = None

    # -- out --------------------------------------------------------------------------------
    def _replan(self, outputs) -> None:
        """(cc, name, element, lo, scale, is_int) for each mapping entry naming a known output."""
        by_name = {o.name: o for o in outputs}
        plan = []
        for key, cc in self.cc_map.items():
            name, k = key, 0
            if key not in by_name and "/" in key:
                head, _, tail = key.rpartition("/")
                if tail.isdigit() and head in by_name:
                    name, k = head, int(tail)
            o = by_name.get(name)
            if o is None or "s" in o.type or k >= o.shape:
                continue
            is_int = o.type[min(k, len(o.type) - 1)] == "i"
            lo, hi = o.range if o.range is not None else (0.0, 1.0)
            scale = 1.0 / (hi - lo) if hi > lo else 1.0
            plan.append((cc, name, k, float(lo), scale, is_int))
        self._plan = plan

    def cc_values(self, values: Mapping[str, Any]) -> list[tuple[int, int]]:
        """(cc, 0..127) for every mapped output present in ``values``."""
        out = []
        for cc, name, k, lo, scale, is_int in self._plan:
            v = values.get(name)
            if v is None:
                continue
            try:
                x = float(np.asarray(v).reshape(-1)[k]) if not isinstance(v, tuple) else float(v[k])
            except (TypeError, ValueError, IndexError):
                continue
            if not math.isfinite(x):
                continue
            n = int(round(x)) if is_int else int(round((x - lo) * scale * 127.0))
            out.append((cc, min(127, max(0, n))))
        return out

    def on_frame(self, frame) -> None:
        """Engine subscriber (analysis thread): send the CCs whose value changed."""
        if not self._active or self.out is None:
            return
        outs = tuple(self.engine.osc.outputs)
        if outs != self._bound:
            self._bound = outs
            self._replan(outs)
        values = dict(self.engine.last_fast or {})
        values.update(frame.values)
        with self._lock:
            if self.out is None:
                return
            for cc, v in self.cc_values(values):
                if self._last[cc] == v:
                    continue
                self._last[cc] = v
                try:
                    self.out.send(self._Message("control_change", channel=self.channel, control=cc, value=v))
                    self.counters["cc_sent"] += 1
                except Exception as exc:  # noqa: BLE001 - a vanished port must not stop analysis
                    self.counters["midi_errors"] += 1
                    self.engine.report_error("midi", f"MIDI send failed: {exc}")
                    return

    # -- in ---------------------------------------------------------------------------------
    def _on_message(self, msg) -> None:
        """rtmidi's thread: note on -> an image; the smoothing CC -> smoothing."""
        if not self._active:
            return
        try:
            if msg.type == "note_on" and msg.velocity > 0:
                self.counters["notes"] += 1
                v = getattr(self.engine, "visuals", None)
                if v is None:
                    self.engine.report_error("midi", "note received but visuals are off (--visuals none)")
                else:
                    v.generate()
            elif msg.type == "control_change" and msg.control == self.smoothing_cc:
                self.counters["cc_in"] += 1
                self.engine.set_smoothing(round(msg.value / 127.0 * 0.99, 4))
        except Exception as exc:  # noqa: BLE001 - never let a MIDI event kill rtmidi's thread
            self.counters["midi_errors"] += 1
            self.engine.report_error("midi", f"{type(exc).__name__}: {exc}")


def from_config(engine) -> MidiBridge | None:
    """A started bridge for ``engine.cfg`` (``midi_out``/``midi_in``...), or None if both are off."""
    cfg = engine.cfg
    out_port, in_port = getattr(cfg, "midi_out", None), getattr(cfg, "midi_in", None)
    if not out_port and not in_port:
        return None
    return MidiBridge(engine, out_port=out_port, in_port=in_port, api=getattr(cfg, "midi_api", ""),
                      channel=getattr(cfg, "midi_channel", 1), cc_map=getattr(cfg, "midi_cc", None),
                      smoothing_cc=getattr(cfg, "midi_smoothing_cc", DEFAULT_SMOOTHING_CC)).start()
