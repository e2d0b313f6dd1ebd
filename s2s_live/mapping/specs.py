"""The mapper's specifications and their validators (the one place they are checked:
``Config.validate`` calls :func:`check_config`; the processor, the Wekinator port and a loaded
mapping call the same functions).

An output is ``NAME[:ALGO[:CLASSES]]`` (:class:`OutputSpec`): without CLASSES a continuous
output (``knn``, ``linear``, ``ridge``, ``mlp``), with CLASSES (2..64) a classifier whose value
is the class number 1..CLASSES (``knn``, ``logistic``). Inputs are names of the pipeline's
numeric outputs, concatenated into one vector of at most :data:`MAX_INPUT_VALUES` values
(:func:`input_layout`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..errors import ConfigError, ModelError
from ..inference import card as modelcard
from ..osc.broadcast import parse_target
from ..processor import Output

REGRESSORS = ("knn", "linear", "ridge", "mlp")  #: algorithms of continuous outputs
CLASSIFIERS = ("knn", "logistic")  #: algorithms of class outputs
DEFAULT_REGRESSOR = "mlp"  #: Wekinator's default for continuous outputs (a neural network)
DEFAULT_CLASSIFIER = "knn"  #: Wekinator's default for classifiers
MAX_OUTPUTS = 64  #: most mapper outputs (as /wek/outputs accepts)
MAX_CLASSES = 64
MAX_INPUT_VALUES = 1024  #: most values in the concatenated input vector
MAX_EXAMPLES = 20000  #: default bound on stored examples (memory: 20000 x (1024+64) x 4 B = 87 MB worst case)
DEFAULT_INPUTS = ["features/rms", "features/centroid", "features/flatness", "features/mfcc"]
DEFAULT_TARGETS = ["127.0.0.1:12000"]


# -- specifications (the one place they are validated: Config.validate calls these) ----------
@dataclass(frozen=True)
class OutputSpec:
    """One mapper output: ``name``, ``algo`` and ``classes`` (0 = continuous)."""

    name: str
    algo: str
    classes: int = 0

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.algo}" + (f":{self.classes}" if self.classes else "")


def check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not name or len(name) > 64 or not name.isprintable() or any(
            c in name for c in " :,#"):
        raise ConfigError(f"{kind} name {name!r} is invalid; expected 1..64 printable characters without "
                          "spaces, ':', ',' or '#'")
    return name


def parse_output(spec: Any) -> OutputSpec:
    """``NAME[:ALGO[:CLASSES]]`` -> OutputSpec; ConfigError naming the bad part and the choices."""
    if isinstance(spec, OutputSpec):
        return spec
    if not isinstance(spec, str):
        raise ConfigError(f"mapper output {spec!r} is invalid; expected 'NAME[:ALGO[:CLASSES]]' like 'x:knn' or 'mood:logistic:3'")
    parts = spec.split(":")
    if len(parts) > 3:
        raise ConfigError(f"mapper output {spec!r} is invalid; expected 'NAME[:ALGO[:CLASSES]]'")
    name = check_name("mapper output", parts[0])
    classes = 0
    if len(parts) == 3:
        c = parts[2]
        if not c.isdigit() or not 2 <= int(c) <= MAX_CLASSES:
            raise ConfigError(f"mapper output {spec!r}: classes={c!r} is invalid; expected 2..{MAX_CLASSES}")
        classes = int(c)
    algo = parts[1] if len(parts) > 1 and parts[1] else (DEFAULT_CLASSIFIER if classes else DEFAULT_REGRESSOR)
    allowed = CLASSIFIERS if classes else REGRESSORS
    if algo not in allowed:
        kind = "a classifier" if classes else "a continuous output"
        raise ConfigError(f"mapper output {spec!r}: algorithm {algo!r} is invalid for {kind}; expected one of {allowed}")
    return OutputSpec(name, algo, classes)


def parse_outputs(specs: Any) -> list[OutputSpec]:
    if not isinstance(specs, (list, tuple)) or not 1 <= len(specs) <= MAX_OUTPUTS:
        raise ConfigError(f"mapper_outputs={specs!r} is invalid; expected a list of 1..{MAX_OUTPUTS} "
                          "'NAME[:ALGO[:CLASSES]]' strings")
    out = [parse_output(s) for s in specs]
    names = [o.name for o in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"mapper_outputs: names {dup} are given twice; expected unique names")
    return out


def check_inputs(names: Any) -> list[str]:
    """A non-empty list of distinct output names (checked against the pipeline at bind time)."""
    if not isinstance(names, (list, tuple)) or not 1 <= len(names) <= 64:
        raise ConfigError(f"mapper_inputs={names!r} is invalid; expected a list of 1..64 output names "
                          "like ['features/rms', 'features/centroid']")
    for n in names:
        check_name("mapper input", n)
    if len(set(names)) != len(names):
        raise ConfigError(f"mapper_inputs={list(names)!r} names an output twice; expected distinct names")
    return list(names)


def check_targets(specs: Any) -> list[str]:
    if not isinstance(specs, (list, tuple)) or len(specs) > 16:
        raise ConfigError(f"mapper_targets={specs!r} is invalid; expected a list of at most 16 HOST:PORT")
    for s in specs:
        parse_target(s)
    return list(specs)


def check_config(cfg) -> None:
    """Validate the ``mapper_*`` settings of a Config (called by ``Config.validate``)."""
    check_inputs(cfg.mapper_inputs)
    parse_outputs(cfg.mapper_outputs)
    check_targets(cfg.mapper_targets)
    me = cfg.mapper_max_examples
    if isinstance(me, bool) or not isinstance(me, int) or not 10 <= me <= 1_000_000:
        raise ConfigError(f"mapper_max_examples={me!r} is invalid; expected an integer in 10..1000000")
    if cfg.mapper_load is not None:
        try:
            modelcard.check_name(cfg.mapper_load)
        except ModelError as exc:
            raise ConfigError(f"mapper_load: {exc}") from None


def input_layout(inputs: Sequence[str], outputs: Sequence[Output]) -> tuple[int, list[str], list[int]]:
    """(values, element names, sizes) of the input vector ``inputs`` read from ``outputs``;
    ConfigError naming an input that is not a numeric output of the pipeline."""
    by = {o.name: o for o in outputs}
    names: list[str] = []
    n = 0
    for key in inputs:
        o = by.get(key)
        if o is None or o.name.startswith("map/"):
            avail = sorted(k for k, v in by.items() if "s" not in v.type and not k.startswith("map/"))
            raise ConfigError(f"mapper input {key!r} is not an output of this pipeline; expected one of {avail}")
        if "s" in o.type:
            raise ConfigError(f"mapper input {key!r} is text ({o.type!r}); expected a numeric output")
        if o.shape == 1:
            names.append(key)
        else:
            labs = list(o.labels) if len(o.labels) == o.shape else [str(k) for k in range(o.shape)]
            names += [f"{key}/{lab}" for lab in labs]
        n += o.shape
    if n > MAX_INPUT_VALUES:
        raise ConfigError(f"mapper_inputs give {n} values; at most {MAX_INPUT_VALUES}")
    return n, names, [by[k].shape for k in inputs]
