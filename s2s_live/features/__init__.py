"""Stage 4, features: descriptors computed from the frames.

The fast stream and beat tracker, level, spectral descriptors, pitch, key and the rolling GTZAN recipe (fast),
the recipe's names and librosa reference (recipe).

May import: errors, processor, stats, config, labels, dsp, capture, frames.
"""

from .fast import (  # noqa: F401  the stage's public API
    DB_FLOOR,
    MFCC_LIMIT,
    PITCH_NAMES,
    KK_MAJOR,
    KK_MINOR,
    KEY_NAMES,
    KEY_TAU,
    KEY_PROFILES,
    key_correlations,
    db_to_unit,
    BPM_MIN,
    BPM_MAX,
    TEMPO_PRIOR_BPM,
    TEMPO_PRIOR_OCTAVES,
    TEMPO_COMB,
    TEMPO_BOOST,
    FastStream,
    LevelProcessor,
    SpectralDescriptors,
    PitchProcessor,
    KeyProcessor,
    RecipeStats,
    default_processors,
)
