"""Stage 7, mapping: the performer's own models (Wekinator-style).

Importing downward only: specs (output specs, the mapper_* validators, the input vector layout) <
fit (scikit-learn training, FittedPredictor, ONNX export) < trainer (the training subprocess and
its worker thread) < store (examples.csv, save/load, the doctor's check) < processor
(MappingProcessor) < wekinator (the Wekinator-compatible control port).

May import: the stages below, osc included.
"""

from .specs import (  # noqa: F401  the stage's public API
    REGRESSORS,
    CLASSIFIERS,
    DEFAULT_REGRESSOR,
    DEFAULT_CLASSIFIER,
    MAX_OUTPUTS,
    MAX_CLASSES,
    MAX_INPUT_VALUES,
    MAX_EXAMPLES,
    DEFAULT_INPUTS,
    DEFAULT_TARGETS,
    OutputSpec,
    parse_output,
    parse_outputs,
    check_inputs,
    check_targets,
    check_config,
    input_layout,
)
from .fit import (  # noqa: F401
    KNN_K,
    fit_output,
    sklearn_predict,
    FittedPredictor,
    compile_models,
    export_onnx,
)
from .store import (  # noqa: F401
    MAX_CSV_BYTES,
    RECIPE,
    RECIPE_VERSION,
    CSV_FILE,
    META_FILE,
    mappings_dir,
    read_examples,
    save_mapping,
    check_saved,
)
from .processor import MappingProcessor  # noqa: F401
