"""Stage 10, offline: files through the pipeline.

Modules, lowest first (each imports only those before it): ``files`` (discovery, decoding,
fingerprints), ``embedding`` (librosa mel DSP, the descriptor embedding), ``process`` (the
processors over a whole file), ``tables`` (the per-frame table, CSV, segment arrays),
``summary`` (file and batch summaries), ``report`` (figures, HTML), ``similarity`` (the segment
library: clusters, map, neighbours), ``run`` (files and batches, resumable), ``cli`` (the
``analyze``, ``similar`` and ``map`` commands).

May import: everything below it: the pipeline, the models, visuals (for images); never the engine or the CLI.
"""

from .files import (  # noqa: F401  the stage's public API
    AUDIO_EXTS,
    SCHEMA_VERSION,
    find_audio,
    output_name,
    load_audio,
    audio_warnings,
    file_fingerprint,
    models_fingerprint,
)
from .embedding import (  # noqa: F401
    EMB_MELS,
    EMB_N_FFT,
    EMB_HOP,
    EMB_OUTPUT,
    DESC_BLOCKS,
    mel_filterbank,
    log_mel,
    SegmentEmbedding,
)
from .process import analysis_processors, run_processors  # noqa: F401
from .tables import (  # noqa: F401
    Column,
    emotion_source,
    table_columns,
    pca_2d,
    build_table,
    write_csv,
    segments_arrays,
)
from .summary import (  # noqa: F401
    QUADRANT_NAMES,
    summarize,
    summary_state,
    FileResult,
    SUMMARY_COLUMNS,
    summary_row,
    write_batch_summary,
)
from .run import DEFAULT_OUT, is_done, analyze_file, make_image, analyze_paths  # noqa: F401
from .cli import cmd_analyze, register  # noqa: F401
