"""s2s_live: live audio understanding for performers.

Data flow (one module per stage)::

    capture  ->  frames  ->  features / inference  ->  osc_out
    (sources,    (mono,       (processors: descriptors,   (UDP targets,
     ring)        resampled,   ONNX models, smoothing)      profiles)
                  1-s frames)                      \\-> visuals (own process), web viewer
    control (OSC commands in) -> engine

See ``engine.Engine`` for how the stages are wired.
"""

__version__ = "0.1.0"

from .errors import (  # noqa: F401
    AudioFileError,
    ConfigError,
    DeviceError,
    ModelError,
    OSCError,
    S2SError,
    VisualsError,
)
