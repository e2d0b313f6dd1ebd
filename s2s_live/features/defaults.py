"""The built-in descriptor chain: every features processor, in run order, on one shared STFT core."""

from __future__ import annotations

from ..dsp.spectral import SpectralStream
from ..processor import Processor
from .fast import FastStream
from .key import KeyProcessor
from .level import LevelProcessor
from .pitch import PitchProcessor
from .rolling import RecipeStats
from .spectral import SpectralDescriptors


def default_processors(cfg) -> list[Processor]:
    """The built-in descriptor processors, in run order (fast first, then frame processors)."""
    window = float(getattr(cfg, "window", 30.0)) if cfg is not None else 30.0
    core = SpectralStream(history=max(32.0, window + 2.5))
    return [FastStream(), LevelProcessor(), RecipeStats(core, window=window), PitchProcessor(),
            SpectralDescriptors(core), KeyProcessor()]
