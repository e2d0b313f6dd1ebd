"""The shape every capture source has: ``start()``, ``stop()``, ``ring``, ``samplerate``,
``channels``, ``health()`` and ``counters()``.

Three sources implement it: :class:`~s2s_live.capture.device.DeviceSource` (a PortAudio input
in its own capture process), :class:`~s2s_live.capture.sources.FileSource` and
:class:`~s2s_live.capture.sources.SynthSource` (paced threads in the engine process).
"""

from __future__ import annotations

from dataclasses import dataclass

from .ring import AudioRing

@dataclass
class SourceHealth:
    ok: bool = True
    message: str = ""


class Source:
    """Common interface of the capture sources."""

    samplerate: int
    channels: int  # channels written to the ring
    ring: AudioRing
    label: str = "source"
    paced: bool = True
    finished: bool = False  # a non-looping file reached its end

    def start(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def health(self) -> SourceHealth:
        return SourceHealth()

    def counters(self) -> dict:
        return {}
