"""Stage 7, mapping: the performer's own models (Wekinator-style).

The mapper: examples, training, ONNX export, the processor (mapper); the Wekinator-compatible port (wekinator).

May import: the stages below, osc included.
"""

from .mapper import (  # noqa: F401  the stage's public API
    REGRESSORS,
    CLASSIFIERS,
    DEFAULT_REGRESSOR,
    DEFAULT_CLASSIFIER,
    MAX_OUTPUTS,
    MAX_CLASSES,
    MAX_INPUT_VALUES,
    MAX_EXAMPLES,
    MAX_CSV_BYTES,
    KNN_K,
    RECIPE,
    RECIPE_VERSION,
    CSV_FILE,
    DEFAULT_INPUTS,
    DEFAULT_TARGETS,
    mappings_dir,
    OutputSpec,
    parse_output,
    parse_outputs,
    check_inputs,
    check_targets,
    check_config,
    fit_output,
    sklearn_predict,
    FittedPredictor,
    compile_models,
    export_onnx,
    MappingProcessor,
    META_FILE,
    read_examples,
    save_mapping,
    check_saved,
)
