"""The processor interface shared by every analysis stage.

A processor is a stateful real-time object with one shape:

* ``outputs`` — a tuple of :class:`Output` declaring what it produces (name, OSC address,
  shape, range). The engine reads it once to build ``/s2s/meta`` and the OSC profiles.
* ``process(x)`` — called every hop with a :class:`~s2s_live.frames.Frame` (frame processors)
  or every block group with a 1-D float32 block at 22050 Hz (fast processors, ``stream="fast"``).
  Returns a dict mapping output names to values (float, int, str, or a 1-D numpy array).
  A name may be left out when there is nothing new (events such as ``beat``).
* ``reset()`` — forget all state (a new stream starts).
* ``warmup()`` — compile numba kernels / run ONNX sessions once so that nothing is compiled
  while streaming. Called by the engine before audio starts.
* ``ahead(y22, start)`` (optional) — audio that has arrived for the *next* frame (22050 Hz,
  ``start`` = absolute index of ``y22[0]``), offered between frames so streaming work (STFT
  columns) is done as the audio comes in rather than all at the frame boundary.
* ``after_frame(frame)`` (optional) — work that needs no newer audio, run after the frame's values
  are sent (live) or stored (offline); what it computes shows from a later frame on. It keeps slow
  periodic updates (the recipe's tempo, the taggers' front end) off the capture-to-OSC path.

Output names are the OSC address below the prefix (``"level"``, ``"features/centroid"``,
``"genre/probs"``), unique across the pipeline; the engine stores every processor's results in
``frame.values`` under those names so later processors (models, emotion rules, visuals) can read
what earlier ones computed. Outputs with ``address=None`` are internal: shared, never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

#: OSC type tags an output may declare: float32 scalar/vector, int32, string.
OUTPUT_TYPES = ("f", "i", "s")
#: When an output is produced: every hop ("frame"), every block group ("fast"), or on an event.
OUTPUT_STREAMS = ("frame", "fast", "event")


@dataclass(frozen=True)
class Output:
    """Declaration of one output of a processor.

    Parameters
    ----------
    name : str
        Unique key, also the OSC address below the prefix unless ``address`` says otherwise
        (``"features/centroid"`` is sent as ``/s2s/features/centroid``).
    type : str
        OSC type of each element: ``"f"`` float32, ``"i"`` int32, ``"s"`` string; or a tag string
        of mixed arguments such as ``"sf"`` (``/s2s/genre s f``), whose value is a tuple and
        whose ``shape`` is then ``len(type)``.
    shape : int
        Number of elements (1 for scalars; vectors have a fixed length, e.g. 10 genre probs).
    range : tuple(float, float) or None
        Documented value range (e.g. ``(0.0, 1.0)``); ``None`` for strings/unbounded values.
    stream : str
        ``"frame"`` (every hop), ``"fast"`` (every block group) or ``"event"`` (when it happens).
    address : str or None
        OSC address below the prefix; defaults to ``name``. ``""`` or ``None`` after
        construction with ``internal=True`` means the value is shared but never sent.
    unit : str
        Unit for documentation (``"Hz"``, ``"dBFS"``, ``"BPM"``, ``""``).
    labels : tuple of str
        Names of vector elements (genre labels, MFCC indices) for meta and Wekinator names.
    doc : str
        One-line description for docs and meta.
    """

    name: str
    type: str = "f"
    shape: int = 1
    range: tuple[float, float] | None = (0.0, 1.0)
    stream: str = "frame"
    address: str | None = None
    unit: str = ""
    labels: tuple[str, ...] = ()
    doc: str = ""
    internal: bool = False

    def __post_init__(self) -> None:
        if not self.type or any(c not in OUTPUT_TYPES for c in self.type):
            raise ValueError(
                f"Output {self.name!r}: type={self.type!r}, expected tags from {OUTPUT_TYPES}"
            )
        if len(self.type) > 1:
            object.__setattr__(self, "shape", len(self.type))
        if self.stream not in OUTPUT_STREAMS:
            raise ValueError(
                f"Output {self.name!r}: stream={self.stream!r}, expected one of {OUTPUT_STREAMS}"
            )
        if not isinstance(self.shape, int) or self.shape < 1:
            raise ValueError(f"Output {self.name!r}: shape={self.shape!r}, expected an int >= 1")
        if self.address is None and not self.internal:
            object.__setattr__(self, "address", self.name)

    @property
    def osc_address(self) -> str | None:
        """Address below the prefix, or None for internal outputs."""
        return None if self.internal else self.address


class Processor:
    """Base class: subclasses set ``name``, ``outputs`` and implement ``process``/``reset``.

    ``stream`` is ``"frame"`` for processors fed a :class:`~s2s_live.frames.Frame` every hop and
    ``"fast"`` for processors fed each block group of 22050 Hz audio.
    """

    name: str = "processor"
    stream: str = "frame"
    outputs: Sequence[Output] = ()

    def process(self, x: Any) -> Mapping[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    def reset(self) -> None:
        """Forget all state. The default does nothing (stateless processors)."""

    def warmup(self) -> None:
        """Compile / warm everything so streaming never compiles. Default: one silent call."""

    def close(self) -> None:
        """Release resources (ONNX sessions, files). Default: nothing."""

    def ahead(self, y22: np.ndarray, start: int) -> None:
        """Audio for the next frame, before it is due: ``y22`` (float32, 22050 Hz, a view valid
        only during the call) holds absolute samples ``start .. start + len(y22)``; later calls
        continue where this one ended, and never go past the next frame's end. What a processor
        computes here must equal what it would compute from the frame itself. Default: nothing."""

    def after_frame(self, frame: Any) -> None:
        """Deferred work for ``frame``, after its values have gone out; results show from a later
        frame on. Called for every analysed frame, live and offline alike. Default: nothing."""

    def set_live(self, live: bool) -> None:
        """Told by the pipeline whether it runs live (True: never wait for slow work, e.g. run
        it in a worker) or offline (False: deterministic, every frame complete). Default: nothing."""

    def describe(self) -> dict:
        """A JSON-able description for ``/s2s/meta`` and docs."""
        return {
            "name": self.name,
            "stream": self.stream,
            "outputs": [
                {
                    "name": o.name,
                    "address": o.osc_address,
                    "type": o.type,
                    "shape": o.shape,
                    "range": list(o.range) if o.range is not None else None,
                    "stream": o.stream,
                    "unit": o.unit,
                    "labels": list(o.labels),
                    "doc": o.doc,
                }
                for o in self.outputs
            ],
        }


def check_block(block: Any, *, name: str = "block") -> np.ndarray:
    """Validate a 1-D finite float audio block for a fast processor (used by public wrappers)."""
    if not isinstance(block, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(block).__name__}")
    if block.ndim != 1:
        raise ValueError(f"{name} must be 1-D (mono), got shape {block.shape}")
    if block.dtype.kind != "f":
        raise TypeError(f"{name} must be float32 or float64, got dtype {block.dtype}")
    return block
