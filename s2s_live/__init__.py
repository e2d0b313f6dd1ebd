"""s2s_live: live audio understanding for performers.

Data flow (one module per stage)::

    capture  ->  frames  ->  features / inference  ->  osc_out
    (sources,    (mono,       (processors: descriptors,   (UDP targets,
     ring)        resampled,   ONNX models, smoothing)      profiles)
                  1-s frames)                      \\-> visuals (own process), web viewer
    control (OSC commands in) -> engine

See ``engine.Engine`` for how the stages are wired.
"""

import os as _os

# Per-hop linear algebra is tiny: multi-threaded BLAS only adds hand-off latency and competes
# with the audio path for the cores (measured 3x slower on 2 cores). One thread each, unless
# the user says otherwise; must be set before numpy loads its BLAS.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

# Compiled numba kernels go to a per-user cache (~/.cache/s2s_live/numba) unless NUMBA_CACHE_DIR
# says otherwise: numba reads the variable once, when it is imported, so this comes before any
# submodule that imports numba. See s2s_live.kernels.
from .kernels import configure as _configure_kernel_cache  # noqa: E402

_configure_kernel_cache()

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
