"""Stage 4, features: descriptors computed from the frames.

One concept per module, importing downward only (level < fast; level, key < spectral < rolling;
all of them < defaults):

* ``level``    — the dBFS-to-0..1 scale and the one-second level processor;
* ``fast``     — the fast stream: level, bands, onset, live tempo and beat prediction;
* ``pitch``    — YIN f0 and voicing;
* ``key``      — key profiles, chroma correlation and the key processor;
* ``spectral`` — the spectral descriptors of the last hop (and the shared-STFT-core base class);
* ``recipe``   — the GTZAN recipe's names and its librosa reference;
* ``rolling``  — the rolling GTZAN recipe with its incremental tempogram;
* ``defaults`` — the built-in processor chain in run order.

May import: errors, processor, stats, labels, kernels, dsp, capture, frames.
"""

from .fast import BPM_MAX, BPM_MIN, TEMPO_BOOST, TEMPO_COMB, TEMPO_PRIOR_BPM, TEMPO_PRIOR_OCTAVES, FastStream
from .key import KEY_NAMES, KEY_PROFILES, KEY_TAU, KK_MAJOR, KK_MINOR, PITCH_NAMES, KeyProcessor, key_correlations
from .level import DB_FLOOR, LevelProcessor, db_to_unit
from .pitch import PitchProcessor
from .rolling import RecipeStats
from .spectral import MFCC_LIMIT, SpectralDescriptors
from .defaults import default_processors

__all__ = [  # the stage's public API
    "DB_FLOOR", "MFCC_LIMIT", "PITCH_NAMES", "KK_MAJOR", "KK_MINOR", "KEY_NAMES", "KEY_TAU", "KEY_PROFILES",
    "key_correlations", "db_to_unit", "BPM_MIN", "BPM_MAX", "TEMPO_PRIOR_BPM", "TEMPO_PRIOR_OCTAVES", "TEMPO_COMB",
    "TEMPO_BOOST", "FastStream", "LevelProcessor", "SpectralDescriptors", "PitchProcessor", "KeyProcessor",
    "RecipeStats", "default_processors",
]
