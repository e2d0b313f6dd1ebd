"""Stage 10, offline: files through the pipeline.

Batch analysis, tables and summaries (analyze), figures and HTML reports (report), the similarity library (similarity).

May import: everything below it: the pipeline, the models, visuals (for images); never the engine or the CLI.
"""

from .analyze import (  # noqa: F401  the stage's public API
    AUDIO_EXTS,
    DEFAULT_OUT,
    SCHEMA_VERSION,
    QUADRANT_NAMES,
    EMB_MELS,
    EMB_N_FFT,
    EMB_HOP,
    EMB_OUTPUT,
    DESC_BLOCKS,
    mel_filterbank,
    log_mel,
    SegmentEmbedding,
    find_audio,
    output_name,
    load_audio,
    audio_warnings,
    file_fingerprint,
    models_fingerprint,
    analysis_processors,
    run_processors,
    Column,
    emotion_source,
    table_columns,
    pca_2d,
    build_table,
    summarize,
    write_csv,
    segments_arrays,
    FileResult,
    is_done,
    analyze_file,
    summary_state,
    make_image,
    SUMMARY_COLUMNS,
    summary_row,
    analyze_paths,
    write_batch_summary,
    cmd_analyze,
    register,
)
