"""s2s_live: live audio understanding for performers.

Data flow (one package per stage; docs/architecture.md has the picture and the import rule)::

    capture  ->  frames  ->  features  ->  inference  ->  osc          (UDP out, profiles)
    (sources,    (mono,      (fast        (ONNX models,    \\-> mapping (the performer's models)
     ring)        resampled,  stream,      taggers,         \\-> visuals (own process), web viewer
                  1-s frames) recipe)      labels)
    osc.control (OSC commands in) -> engine;   offline/ runs files through the same pipeline

A module imports only its own stage and the stages before it (tests/test_layout.py).
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

from ._version import __version__  # noqa: E402,F401

from .errors import (  # noqa: F401
    AudioFileError,
    CommandError,
    ConfigError,
    DeviceError,
    LibraryError,
    ModelError,
    OSCError,
    S2SError,
    VisualsError,
)
