"""A headless, Wekinator-compatible mapper: record examples, train, run (docs/mapping.md).

:class:`MappingProcessor` is a frame processor. Every hop it concatenates the values of the
declared outputs it was told to read (``mapper_inputs``: e.g. ``features/rms``, ``level``,
``tags/msd``, ``latent``), in that order, into one input vector x. Then:

* **recording**: (x, the current output values set by ``/wekinator/control/outputs``) is
  stored as an example (at most ``max_examples``; outputs whose recording is disabled get NaN);
* **running** (once trained): the mapping's ONNX graph maps x to M output values, returned as
  ``map/outputs`` (and ``map/probs`` for classifiers) and sent as ``/wek/outputs f×M`` to the
  mapper's own targets (default 127.0.0.1:12000), once per hop.

Outputs (``mapper_outputs``) are ``NAME[:ALGO[:CLASSES]]``: without CLASSES a continuous output
(regression: ``knn``, ``linear``, ``ridge``, ``mlp``; default ``mlp``, as Wekinator's neural
net), with CLASSES (2..64) a classifier whose value is the class number 1..CLASSES (``knn``,
default, or ``logistic``) and whose class probabilities go to ``map/probs``.

**Training** runs in a child process at the lowest CPU priority, fed by a worker thread
(scikit-learn fits one pipeline — StandardScaler + the estimator — per output, then skl2onnx
exports them as one ONNX graph): scikit-learn's Python loops never hold the engine's GIL, and
the analysis thread only swaps in the finished model between hops, so it never waits. What runs
per hop after a training is :class:`FittedPredictor`: scikit-learn's own arithmetic in float64
on the fitted pipelines' arrays (equal to ``predict``/``predict_proba`` within rounding, without
their per-call input validation, which costs 1-7 ms), about half the cost of running the
exported ONNX graph through onnxruntime; a loaded mapping (only its ONNX graph is saved) runs on
that graph (float32, single-threaded onnxruntime). ``cancelTrain`` ends the training process
mid-fit (a fresh one is spawned for the next training).

**Save/load** (:func:`save_mapping`, :meth:`MappingProcessor.load`): a folder per name under
:func:`mappings_dir` holding ``examples.csv`` (a header of input and output names), and once
trained ``model.onnx`` with a model card (``kind: custom``, input kind ``features`` reading the
mapper's inputs), so the file is loaded and verified by the model host's loader
(:class:`~s2s_live.inference.onnx.OnnxProcessor`: sha256, names, shapes, a dummy run) and checked by
``s2s-live doctor``. A corrupt saved mapping is refused with its reason; the mapping running
before keeps running.

scikit-learn is a dependency of librosa (always installed); skl2onnx and onnx are only needed to
train (the ``mapping`` extra); a saved mapping runs with onnxruntime alone.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..inference import card as modelcard
from ..errors import ConfigError, ModelError
from ..osc.broadcast import OSCBroadcaster, parse_target
from ..osc.codec import encode_floats
from ..processor import Output, Processor

REGRESSORS = ("knn", "linear", "ridge", "mlp")  #: algorithms of continuous outputs
CLASSIFIERS = ("knn", "logistic")  #: algorithms of class outputs
DEFAULT_REGRESSOR = "mlp"  #: Wekinator's default for continuous outputs (a neural network)
DEFAULT_CLASSIFIER = "knn"  #: Wekinator's default for classifiers
MAX_OUTPUTS = 64  #: most mapper outputs (as /wek/outputs accepts)
MAX_CLASSES = 64
MAX_INPUT_VALUES = 1024  #: most values in the concatenated input vector
MAX_EXAMPLES = 20000  #: default bound on stored examples (memory: 20000 x (1024+64) x 4 B = 87 MB worst case)
MAX_CSV_BYTES = 128 << 20  #: a larger examples.csv is refused on load
KNN_K = 1  #: neighbours (Wekinator's default; fewer when there are fewer examples)
RECIPE = "s2s-map"  #: card input recipe of a mapping
RECIPE_VERSION = 1
CSV_FILE = "examples.csv"
DEFAULT_INPUTS = ["features/rms", "features/centroid", "features/flatness", "features/mfcc"]
DEFAULT_TARGETS = ["127.0.0.1:12000"]


def mappings_dir(override: str | None = None) -> Path:
    """Where mappings are saved: ``override``, else ``$XDG_DATA_HOME/s2s_live/mappings``
    (``~/.local/share/s2s_live/mappings`` when XDG_DATA_HOME is unset)."""
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "s2s_live" / "mappings"


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


def _check_name(kind: str, name: Any) -> str:
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
    name = _check_name("mapper output", parts[0])
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
        _check_name("mapper input", n)
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


# -- training and export ------------------------------------------------------------------
def _estimator(o: OutputSpec, n: int, seed: int):
    """A fresh scikit-learn pipeline (StandardScaler + estimator) for ``n`` examples."""
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    k = max(1, min(KNN_K, n))
    if o.classes:
        est = KNeighborsClassifier(n_neighbors=k) if o.algo == "knn" else LogisticRegression(max_iter=1000)
    elif o.algo == "knn":
        est = KNeighborsRegressor(n_neighbors=k)
    elif o.algo == "linear":
        est = LinearRegression()
    elif o.algo == "ridge":
        est = Ridge(alpha=1.0)
    else:  # one hidden layer, as Wekinator's network; lbfgs converges on small sets without tuning
        est = MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=500, random_state=seed)
    return make_pipeline(StandardScaler(), est)


def fit_output(o: OutputSpec, X: np.ndarray, y: np.ndarray, *, seed: int = 0):
    """Fit output ``o`` on the rows where ``y`` is finite; ModelError when it cannot be trained."""
    keep = np.isfinite(y)
    X, y = X[keep], y[keep]
    if X.shape[0] == 0:
        raise ModelError(f"mapper output {o.name!r} has no examples; record some first")
    if o.classes:
        yi = np.rint(y).astype(np.int64)
        if yi.min() < 1 or yi.max() > o.classes:
            raise ModelError(f"mapper output {o.name!r}: class values must be 1..{o.classes}, examples hold "
                             f"{int(yi.min())}..{int(yi.max())}")
        if o.algo == "logistic" and len(np.unique(yi)) < 2:
            raise ModelError(f"mapper output {o.name!r} (logistic) needs examples of at least 2 classes")
        y = yi
    from sklearn.exceptions import ConvergenceWarning

    est = _estimator(o, X.shape[0], seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X.astype(np.float64), y)
    return est


def sklearn_predict(models: Sequence, specs: Sequence[OutputSpec], X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the exported graph computes, with scikit-learn: (outputs (n, M), probs (n, sum K)).

    A class output is 1 + the index of its most probable class, from ``predict_proba`` laid
    out over all CLASSES (classes without examples get probability 0).
    """
    X = np.asarray(X, np.float64)
    cols, probs = [], []
    for m, o in zip(models, specs):
        if o.classes:
            p = np.zeros((X.shape[0], o.classes))
            p[:, m.classes_ - 1] = m.predict_proba(X)
            probs.append(p)
            cols.append(1.0 + np.argmax(p, axis=1))
        else:
            cols.append(np.asarray(m.predict(X), np.float64).reshape(-1))
    P = np.concatenate(probs, axis=1) if probs else np.zeros((X.shape[0], 0))
    return np.stack(cols, axis=1), P


_ACTIVATIONS = {"identity": lambda a: a, "relu": lambda a: np.maximum(a, 0.0, out=a),
                "tanh": lambda a: np.tanh(a, out=a), "logistic": lambda a: np.divide(1.0, 1.0 + np.exp(-a), out=a)}


class FittedPredictor:
    """What :func:`sklearn_predict` computes, as float64 numpy arithmetic on the fitted arrays.

    The running mapper's hot path after a training (``process()`` calls it once per hop):
    scikit-learn's ``predict`` validates its input on every call (1-7 ms a call) and the ONNX
    graph runs in float32 through onnxruntime (0.1-0.2 ms a hop with a kNN over 5,000
    examples); this does the same arithmetic as scikit-learn on the same float64 arrays — the
    scaler's ``(x - mean_) / scale_`` (computed once for the outputs that share a scaler), then
    per output: ``coef_`` and ``intercept_`` (linear, ridge, logistic: softmax over classes,
    or ``[1 - p, p]`` with ``p = expit`` for two), the MLP's layers (``coefs_``, ``intercepts_``,
    its activations), or the nearest of the fitted examples (``_fit_X``, ``_y``; squared
    distances as ``|f|^2 - 2 f.x``, the uniform mean / vote of the k nearest). Equal to
    scikit-learn within rounding (1e-12; the tests hold it to 1e-6), except which of several
    examples at exactly the same distance a kNN takes (the first here).

    :func:`compile_models` builds one, or answers None for a pipeline of another form; the
    mapper then runs the ONNX graph.
    """

    def __init__(self, scalers: list, steps: list, M: int, K: int) -> None:
        self._scalers, self._steps, self.M, self.K = scalers, steps, M, K

    def __call__(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(outputs (n, M), probs (n, K)) float64 for inputs X (n, n_in)."""
        X = np.asarray(X, np.float64)
        n = X.shape[0]
        Z = [(X - mu) / sd for mu, sd in self._scalers]
        out = np.empty((n, self.M))
        probs = np.zeros((n, self.K))
        for kind, col, zi, a, b, c in self._steps:
            z = Z[zi]
            if kind == "affine":  # linear, ridge: a coef_ (d,), b intercept_
                out[:, col] = z @ a + b
            elif kind == "mlp":  # a the (coef, intercept) layers, b the hidden activation, c the output's
                h = z
                for i, (w, w0) in enumerate(a):
                    h = h @ w
                    h += w0
                    if i < len(a) - 1:
                        b(h)
                c(h)
                out[:, col] = h[:, 0]
            elif kind == "knn":  # a (|f|^2 (N,), -2 f.T (d, N), k), b _y (N,), c None
                nn, ft2, k = a
                d2 = z @ ft2
                d2 += nn
                if k == 1:
                    out[:, col] = b[np.argmin(d2, axis=1)]
                else:
                    out[:, col] = b[np.argpartition(d2, k - 1, axis=1)[:, :k]].mean(axis=1)
            else:  # classifiers: probabilities over the present classes, laid out over all CLASSES
                p = probs[:, col[1]:col[1] + col[2]]
                if kind == "knnc":  # a as knn, b the column of each example's class, c the column positions
                    nn, ft2, k = a
                    d2 = z @ ft2
                    d2 += nn
                    if k == 1:  # the nearest example's class has probability 1
                        i = np.argmin(d2, axis=1)
                        p[np.arange(n), b[i]] = 1.0
                        out[:, col[0]] = 1.0 + b[i]
                        continue
                    votes = b[np.argpartition(d2, k - 1, axis=1)[:, :k]]  # the uniform vote of the k nearest
                    pk = np.stack([(votes == j).sum(axis=1) for j in c], axis=1) / k
                else:  # logistic: a coef_.T (d, C or 1), b intercept_, c the column positions
                    dec = z @ a
                    dec += b
                    if dec.shape[1] == 1:  # two classes: scikit-learn's expit, [1 - p, p]
                        p1 = 1.0 / (1.0 + np.exp(-dec[:, 0]))
                        pk = np.stack([1.0 - p1, p1], axis=1)
                    else:  # softmax, as sklearn.utils.extmath.softmax
                        dec -= dec.max(axis=1, keepdims=True)
                        np.exp(dec, out=dec)
                        dec /= dec.sum(axis=1, keepdims=True)
                        pk = dec
                if c.shape[0] == col[2]:  # every class has examples: the columns are in order
                    p[:] = pk
                else:
                    p[:, c] = pk
                out[:, col[0]] = 1.0 + np.argmax(p, axis=1)
        return out, probs


def compile_models(models: Sequence, specs: Sequence[OutputSpec]) -> FittedPredictor | None:
    """A :class:`FittedPredictor` of the pipelines :func:`fit_output` fits, or None when one is
    of another form (another scaler, weighted neighbours, another metric...)."""
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import StandardScaler

    scalers: list = []
    keys: dict = {}
    steps: list = []
    off = 0
    for i, (m, o) in enumerate(zip(models, specs)):
        try:
            (_, sc), (_, est) = m.steps
        except (AttributeError, ValueError):
            return None
        if type(sc) is not StandardScaler or not (sc.with_mean and sc.with_std):
            return None
        mu, sd = np.asarray(sc.mean_, np.float64), np.asarray(sc.scale_, np.float64)
        key = (mu.tobytes(), sd.tobytes())
        if key not in keys:
            keys[key] = len(scalers)
            scalers.append((mu, sd))
        zi = keys[key]
        if isinstance(est, (KNeighborsRegressor, KNeighborsClassifier)):
            if est.weights != "uniform" or est.effective_metric_ != "euclidean" or getattr(est, "outputs_2d_", False):
                return None
            f = np.asarray(est._fit_X, np.float64)
            nn = (f * f).sum(axis=1)
            knn = (nn, np.ascontiguousarray(-2.0 * f.T), int(est.n_neighbors))
        if o.classes:
            cls = np.asarray(est.classes_, np.int64) - 1
            col = (i, off, o.classes)
            off += o.classes
            if type(est) is KNeighborsClassifier:
                steps.append(("knnc", col, zi, knn, cls[np.asarray(est._y, np.int64)], cls))
            elif type(est) is LogisticRegression:
                steps.append(("logistic", col, zi, np.ascontiguousarray(np.asarray(est.coef_, np.float64).T),
                              np.asarray(est.intercept_, np.float64), cls))
            else:
                return None
        elif type(est) is KNeighborsRegressor:
            y = np.asarray(est._y, np.float64)
            if y.ndim != 1:
                return None
            steps.append(("knn", i, zi, knn, y, None))
        elif type(est) in (LinearRegression, Ridge):
            coef = np.asarray(est.coef_, np.float64)
            if coef.ndim != 1:
                return None
            steps.append(("affine", i, zi, coef, float(est.intercept_), None))
        elif type(est) is MLPRegressor:
            if est.activation not in _ACTIVATIONS or est.out_activation_ not in _ACTIVATIONS or est.n_outputs_ != 1:
                return None
            layers = [(np.asarray(w, np.float64), np.asarray(b, np.float64))
                      for w, b in zip(est.coefs_, est.intercepts_)]
            steps.append(("mlp", i, zi, layers, _ACTIVATIONS[est.activation], _ACTIVATIONS[est.out_activation_]))
        else:
            return None
    return FittedPredictor(scalers, steps, len(specs), off)


def export_onnx(models: Sequence, specs: Sequence[OutputSpec], n_in: int):
    """One ONNX graph for all outputs: input ``x`` [N, n_in] -> ``outputs`` [N, M] (and ``probs``
    [N, sum K] when there are classifiers). Needs skl2onnx (the ``mapping`` extra)."""
    try:
        import onnx
        from onnx import TensorProto, compose, helper, numpy_helper
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import FloatTensorType
    except ImportError as exc:
        raise ModelError(f"training a mapping needs skl2onnx and onnx ({exc.name} is missing): "
                         "pip install 's2s_live[mapping]'") from None
    nodes, inits, opsets = [], [], {}
    cols, probs = [], []
    ir = 8
    for i, (m, o) in enumerate(zip(models, specs)):
        est = m.steps[-1][1]
        opts: dict = {}
        if o.classes:
            opts["zipmap"] = False
        if o.algo == "knn":
            opts["optim"] = "cdist"  # onnxruntime's CDist: 40 µs at 5000 examples instead of 12 ms
        sub = to_onnx(m, initial_types=[("x", FloatTensorType([None, n_in]))],
                      target_opset={"": 17, "ai.onnx.ml": 3}, options={id(est): opts} if opts else None)
        sub = compose.add_prefix(sub, f"o{i}_", rename_inputs=False)
        g = sub.graph
        nodes += list(g.node)
        inits += list(g.initializer)
        ir = max(ir, sub.ir_version)
        for op in sub.opset_import:
            opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
        outs = [v.name for v in g.output]
        if o.classes:
            prob = next(n for n in outs if "prob" in n)
            # present classes -> all CLASSES columns, then the class number 1..CLASSES
            lay = np.zeros((len(est.classes_), o.classes), np.float32)
            lay[np.arange(len(est.classes_)), est.classes_ - 1] = 1.0
            inits.append(numpy_helper.from_array(lay, f"m{i}_layout"))
            inits.append(numpy_helper.from_array(np.array(1.0, np.float32), f"m{i}_one"))
            nodes += [helper.make_node("MatMul", [prob, f"m{i}_layout"], [f"m{i}_probs"]),
                      helper.make_node("ArgMax", [f"m{i}_probs"], [f"m{i}_arg"], axis=1, keepdims=1),
                      helper.make_node("Cast", [f"m{i}_arg"], [f"m{i}_argf"], to=TensorProto.FLOAT),
                      helper.make_node("Add", [f"m{i}_argf", f"m{i}_one"], [f"m{i}_col"])]
            probs.append(f"m{i}_probs")
            cols.append(f"m{i}_col")
        else:
            inits.append(numpy_helper.from_array(np.array([-1, 1], np.int64), f"m{i}_shape"))
            nodes.append(helper.make_node("Reshape", [outs[0], f"m{i}_shape"], [f"m{i}_col"]))
            cols.append(f"m{i}_col")
    M, K = len(specs), sum(o.classes for o in specs)
    nodes.append(helper.make_node("Concat", cols, ["outputs"], axis=1))
    g_out = [helper.make_tensor_value_info("outputs", TensorProto.FLOAT, ["N", M])]
    if probs:
        nodes.append(helper.make_node("Concat", probs, ["probs"], axis=1))
        g_out.append(helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", K]))
    graph = helper.make_graph(nodes, "s2s_map", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_in])],
                              g_out, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()])
    model.ir_version = ir
    onnx.checker.check_model(model)
    return model


# -- the processor ---------------------------------------------------------------------------
class MappingProcessor(Processor):
    """Record / train / run a mapping from chosen outputs to M values (see the module doc).

    Parameters
    ----------
    inputs : list of str
        Output names read every hop, concatenated in this order (checked in :meth:`bind`).
    outputs : list of str or OutputSpec
        ``NAME[:ALGO[:CLASSES]]`` per output (1..64).
    targets : list of str
        ``HOST:PORT`` receivers of ``/wek/outputs`` (default 127.0.0.1:12000).
    folder : str or None
        Where mappings are saved (None: :func:`mappings_dir`).
    max_examples : int
        Examples kept at most (10..1000000); later ones are counted in ``dropped``.
    seed : int
        Seed of the MLP's initial weights.
    """

    name = "mapper"
    stream = "frame"

    def __init__(self, *, inputs: Sequence[str] = tuple(DEFAULT_INPUTS), outputs: Sequence[Any] = ("out1",),
                 targets: Sequence[str] = tuple(DEFAULT_TARGETS), folder: str | None = None,
                 max_examples: int = MAX_EXAMPLES, seed: int = 0) -> None:
        self.folder = mappings_dir(folder)
        self.max_examples = int(max_examples)
        self.seed = int(seed)
        self.osc = OSCBroadcaster(prefix="")
        for t in check_targets(list(targets)):
            host, port, _ = parse_target(t)
            self.osc.add_target(host, port)
        self.fast_values: Callable[[], dict] = dict  #: latest fast-stream values (set by the engine)
        self.on_outputs_changed: Callable[[], None] | None = None  #: the engine re-binds OSC profiles
        self._lock = threading.Lock()  # examples, flags; never held while training or running ONNX
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._stop = False
        self._train_req = 0  # generation of the newest train request (0: none)
        self._train_cancel = 0
        self.training = False
        self.last_error = ""  #: the newest training/export failure, '' when none
        self.trains = 0
        self.train_s = 0.0  #: seconds of the newest training + export
        self.dropped = 0
        self._session = None  # (onnxruntime session, has probs) of the running mapping
        self._report = ""  # a training failure not yet reported through the pipeline (/s2s/error)
        self.mapping_name = ""  #: name of the saved mapping loaded or saved last
        self._declared: list[Output] | None = None
        self._pipeline_outputs: list[Output] | None = None  # what bind() saw (re-checked on changes)
        self._set_io(check_inputs(list(inputs)), parse_outputs(list(outputs)))

    # -- configuration ---------------------------------------------------------------------
    @classmethod
    def from_config(cls, cfg) -> "MappingProcessor":
        return cls(inputs=cfg.mapper_inputs, outputs=cfg.mapper_outputs, targets=cfg.mapper_targets,
                   folder=cfg.mapper_dir, max_examples=cfg.mapper_max_examples, seed=cfg.seed)

    def _set_io(self, inputs: list[str], specs: list[OutputSpec]) -> None:
        """New inputs/outputs: examples and the trained model are dropped (they no longer fit)."""
        with self._lock:
            self.inputs = inputs
            self.specs = specs
            self.input_names: list[str] = list(inputs)  # element names after bind()
            self.n_in = 0  # known after bind(); 0 = not bound
            self._X: list[np.ndarray] = []
            self._counts = np.zeros(len(specs), np.int64)  # recorded values per output (status)
            self._Y: list[np.ndarray] = []
            self.values = np.zeros(len(specs), np.float32)  # what /wekinator/control/outputs set
            self.record_mask = np.ones(len(specs), bool)
            self.run_mask = np.ones(len(specs), bool)
            self.recording = False
            self.running = False
            self._session = None
            self._predict: Callable | None = None  # the running model's call (see _runner)
            self._models: list | None = None  # the fitted scikit-learn pipelines (from the training process)
            self._onnx: bytes | None = None  # the running graph, as saved
            self._train_cancel = self._train_req
            self._out = np.zeros(len(specs), np.float32)
            self._probs = np.zeros(sum(o.classes for o in specs), np.float32)
            self._wek_head = _osc_head("/wek/outputs", len(specs))
        self._declare()

    def _declare(self) -> None:
        M, K = len(self.specs), sum(o.classes for o in self.specs)
        outs = [Output("map/outputs", shape=M, range=None, labels=tuple(o.name for o in self.specs),
                       doc="the mapper's outputs while running (class outputs: class number 1..CLASSES)")]
        if K:
            outs.append(Output("map/probs", shape=K, labels=tuple(
                f"{o.name}_{k}" for o in self.specs for k in range(1, o.classes + 1)),
                doc="class probabilities of the mapper's class outputs, CLASSES per output in output order"))
        self._declared = outs
        self.outputs = tuple(outs)

    def bind(self, outputs: Sequence[Output]) -> None:
        """Check the inputs against the pipeline's declared outputs and size the input vector.

        Raises ConfigError naming an input that is not declared, or that is a string."""
        n, names, sizes = _layout(self.inputs, outputs)
        with self._lock:
            if n != self.n_in:
                self._X, self._Y, self._session, self._models, self._onnx = [], [], None, None, None
                self._predict = None
                self._counts[:] = 0
            self.n_in, self.input_names = n, names
            self._sizes = sizes
            self._x = np.zeros((1, n), np.float32)
        self._pipeline_outputs = list(outputs)

    def set_inputs(self, names: Sequence[str]) -> None:
        """Read other outputs (``setInputNames``): examples and model are dropped. Checked first:
        a refused list changes nothing."""
        names = check_inputs(list(names))
        if self._pipeline_outputs is not None:
            _layout(names, self._pipeline_outputs)
        self._set_io(names, list(self.specs))
        if self._pipeline_outputs is not None:
            self.bind(self._pipeline_outputs)

    def set_outputs(self, specs: Sequence[Any]) -> None:
        """New outputs (``setOutputNames`` with another count, ``/s2s/map/outputs/set``): examples
        and model are dropped; the declared outputs change (the engine re-binds OSC)."""
        new = parse_outputs(list(specs))
        self._set_io(list(self.inputs), new)
        if self._pipeline_outputs is not None:
            self.bind(self._pipeline_outputs)
        if self.on_outputs_changed is not None:
            self.on_outputs_changed()

    def rename_outputs(self, names: Sequence[str]) -> None:
        """``setOutputNames``: same count renames (examples kept); another count re-creates the
        outputs as continuous ones with the default algorithm."""
        names = [_check_name("mapper output", n) for n in names]
        if len(names) == len(self.specs):
            if len(set(names)) != len(names):
                raise ConfigError(f"output names {names} repeat; expected unique names")
            with self._lock:
                self.specs = [OutputSpec(n, o.algo, o.classes) for n, o in zip(names, self.specs)]
            self._declare()
            if self.on_outputs_changed is not None:
                self.on_outputs_changed()
        else:
            self.set_outputs(names)

    def set_algorithm(self, index: int, algo: str, classes: int | None = None) -> None:
        """Output ``index`` (1-based) uses ``algo`` (and ``classes``) from the next training."""
        if not 1 <= index <= len(self.specs):
            raise ConfigError(f"output index={index} is out of range; expected 1..{len(self.specs)}")
        o = self.specs[index - 1]
        c = o.classes if classes is None else classes
        new = parse_output(f"{o.name}:{algo}" + (f":{c}" if c else ""))
        specs = list(self.specs)
        specs[index - 1] = new
        if new.classes != o.classes:
            self.set_outputs(specs)
        else:
            with self._lock:
                self.specs = specs

    # -- commands (control threads) ---------------------------------------------------------
    def set_values(self, vals: Sequence[float]) -> None:
        """``/wekinator/control/outputs f×M``: the output values recorded from now on."""
        if len(vals) != len(self.specs):
            raise ConfigError(f"outputs takes {len(self.specs)} value(s) (one per mapper output "
                              f"{[o.name for o in self.specs]}), got {len(vals)}")
        v = np.asarray(vals, np.float64)
        if not np.all(np.isfinite(v)) or np.any(np.abs(v) > 1e9):
            raise ConfigError(f"outputs values {list(vals)!r} must be finite numbers within ±1e9")
        for o, x in zip(self.specs, v):
            if o.classes and not (1 <= x <= o.classes and float(x).is_integer()):
                raise ConfigError(f"output {o.name!r} is a classifier: value {x!r} must be a class 1..{o.classes}")
        with self._lock:
            self.values[:] = v

    def _mask(self, indices: Sequence[int]) -> np.ndarray:
        M = len(self.specs)
        if not indices:
            return np.ones(M, bool)
        m = np.zeros(M, bool)
        for i in indices:
            if isinstance(i, bool) or not isinstance(i, int) or not 1 <= i <= M:
                raise ConfigError(f"model index {i!r} is out of range; expected 1..{M} (outputs are numbered from 1)")
            m[i - 1] = True
        return m

    def enable(self, what: str, indices: Sequence[int], on: bool) -> None:
        """``enable/disableModelRunning|Recording`` (1-based output indices; none = all)."""
        m = self._mask(indices)
        with self._lock:
            arr = self.run_mask if what == "running" else self.record_mask
            arr[m] = on

    def set_recording(self, on: bool) -> None:
        with self._lock:
            self.recording = bool(on)

    def set_running(self, on: bool) -> None:
        """Run (or stop). Accepted while a first training is in progress, as Wekinator does: the
        outputs start when it finishes."""
        if on and self._session is None and not self.training:
            raise ModelError("the mapping is not trained yet; record examples and train first")
        with self._lock:
            self.running = bool(on)

    def delete_examples(self) -> None:
        with self._lock:
            self._X, self._Y = [], []
            self._counts[:] = 0
            self.dropped = 0

    def add_examples(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Add examples directly (tests, benchmarks, loading a CSV): X (n, n_in), Y (n, M)."""
        X = np.asarray(X, np.float32)
        Y = np.asarray(Y, np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_in or Y.shape != (X.shape[0], len(self.specs)):
            raise ConfigError(f"examples of shape {X.shape}/{Y.shape} do not fit {self.n_in} inputs and "
                              f"{len(self.specs)} outputs")
        with self._lock:
            room = max(0, self.max_examples - len(self._X))
            self._X.extend(X[:room])
            self._Y.extend(Y[:room])
            self._counts += np.isfinite(Y[:room]).sum(axis=0)
            self.dropped += X.shape[0] - min(room, X.shape[0])

    def examples(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the examples: X (n, n_in) and Y (n, M) float32 (NaN: not recorded)."""
        with self._lock:
            n = len(self._X)
            X = np.array(self._X, np.float32).reshape(n, self.n_in)
            Y = np.array(self._Y, np.float32).reshape(n, len(self.specs))
        return X, Y

    def train(self) -> None:
        """Start training in the worker (returns at once); ``status()['training']`` says when it is
        done, ``last_error`` why it failed."""
        X, _ = self.examples()
        if X.shape[0] == 0:
            raise ModelError("no examples to train on; record some first (startRecording)")
        with self._lock:
            self._train_req += 1
            self.training = True
            self._wake.notify()
        self._start_worker()

    def cancel_train(self) -> None:
        with self._lock:
            self._train_cancel = self._train_req
            self.training = False

    def wait_trained(self, timeout: float) -> bool:
        """Wait until no training is pending (True) or ``timeout`` seconds pass (False)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if not self.training:
                    return True
            time.sleep(0.01)
        return False

    # -- the worker --------------------------------------------------------------------------
    def _start_worker(self) -> None:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._worker, name="s2s-mapper-train", daemon=True)
            self._thread.start()

    def _worker(self) -> None:
        """Hands each training to the training process and swaps in its result.

        The fits run in a child process (spawned once, at the lowest CPU priority), not in this
        thread: scikit-learn's Python-level loops would hold this process's GIL for most of a
        training, and the analysis thread needs it every hop. ``cancelTrain`` ends the child
        mid-fit; a new one is spawned for the next training."""
        done, proc, conn = 0, None, None
        try:
            while True:
                with self._lock:
                    # no child: spawn one at once, while idle (its imports take seconds)
                    while self._train_req == done and not self._stop and proc is not None:
                        self._wake.wait()
                    if self._stop:
                        return
                    job = self._train_req != done
                    if job:
                        gen = done = self._train_req
                        specs = list(self.specs)
                        n_in = self.n_in
                if proc is None or not proc.is_alive():
                    proc, conn = _spawn_trainer()
                if not job:
                    continue
                X, Y = self.examples()
                t0 = time.perf_counter()
                res = None
                try:
                    conn.send(([o.spec for o in specs], X, Y, n_in, self.seed))
                    while res is None:
                        if conn.poll(0.05):
                            res = conn.recv()
                        elif self._stop or gen <= self._train_cancel:
                            break
                        elif not proc.is_alive():
                            res = ("error", f"the training process ended (exit code {proc.exitcode})")
                except (EOFError, OSError) as exc:
                    res = ("error", f"the training process failed: {type(exc).__name__}: {exc}")
                if res is None or res[0] == "error":
                    proc, conn = _end_trainer(proc, conn)  # cancelled mid-fit or broken: a fresh one next time
                session, predict, err = None, None, ""
                if res is not None and res[0] == "ok":
                    try:
                        session = _session(res[1])
                        predict = _runner(res[2], specs, session)
                    except Exception as exc:  # noqa: BLE001 - reported in status and /s2s/error
                        err = f"{type(exc).__name__}: {exc}"
                elif res is not None:
                    err = res[1]
                with self._lock:
                    self.train_s = time.perf_counter() - t0
                    if res is None or gen <= self._train_cancel or specs != self.specs or n_in != self.n_in:
                        pass  # cancelled, or the inputs/outputs changed meanwhile: the result no longer fits
                    elif err:
                        self.last_error = self._report = err
                    else:
                        self._models, self._onnx, self._session, self._predict = res[2], res[1], session, predict
                        self.mapping_name, self.last_error = "", ""
                        self.trains += 1
                    if gen == self._train_req:
                        self.training = False
        finally:
            _end_trainer(proc, conn)

    def install(self, models: Sequence, model_bytes: bytes) -> None:
        """Run fitted pipelines ``models`` (one per output, as :func:`fit_output` fits them)
        and their exported graph ``model_bytes`` (:func:`export_onnx`): what a finished training
        swaps in (benchmarks and tests install their own)."""
        if len(models) != len(self.specs):
            raise ConfigError(f"install takes {len(self.specs)} fitted model(s), got {len(models)}")
        session = _session(model_bytes)
        predict = _runner(models, list(self.specs), session)
        with self._lock:
            self._models, self._onnx, self._session, self._predict = list(models), model_bytes, session, predict
            self.mapping_name, self.last_error = "", ""

    # -- Processor ----------------------------------------------------------------------------
    def reset(self) -> None:
        self._out[:] = 0.0

    def warmup(self) -> None:
        self._start_worker()  # nothing compiles; the worker spawns the training process meanwhile

    def close(self) -> None:
        with self._lock:
            self._stop = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self.osc.close()

    def _fill(self, frame) -> bool:
        x = self._x[0]
        vals = frame.values
        fast = None
        i = 0
        for key, n in zip(self.inputs, self._sizes):
            v = vals.get(key)
            if v is None:
                if fast is None:
                    fast = self.fast_values()
                v = fast.get(key)
                if v is None:
                    return False  # not computed yet (warming up) or not this hop
            if n == 1:
                x[i] = v if not isinstance(v, tuple) else v[0]
            else:
                x[i : i + n] = v
            i += n
        if not np.isfinite(x).all():  # rare: the check costs a quarter of nan_to_num's always
            np.nan_to_num(x, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        return True

    def process(self, frame) -> dict[str, Any]:
        if self._report:  # a worker failure: reported once by the pipeline (/s2s/error)
            err, self._report = self._report, ""
            raise ModelError(f"mapper training: {err}")
        if self.n_in == 0 or not self._fill(frame):
            return {}
        if self.recording:
            with self._lock:
                if not self.recording:
                    pass
                elif len(self._X) < self.max_examples:
                    self._X.append(self._x[0].copy())
                    y = self.values.copy()
                    y[~self.record_mask] = np.nan
                    self._Y.append(y)
                    self._counts += self.record_mask
                else:
                    self.dropped += 1
        predict = self._predict  # one read: a new training swaps it between hops
        if not self.running or predict is None:
            return {}
        y, p = predict(self._x)
        out_ = self._out
        np.copyto(out_, y[0], where=self.run_mask)  # a disabled output holds its last value
        msg = self._wek_head + out_.astype(">f4").tobytes()
        osc = self.osc
        for t in osc.targets:
            osc.send_raw(t.addr, msg)
        if p.shape[1]:
            self._probs[:] = p[0]
            return {"map/outputs": out_, "map/probs": self._probs}
        return {"map/outputs": out_}

    @property
    def input_vector(self) -> np.ndarray:
        """The newest hop's input vector (a view overwritten every hop: copy what you keep)."""
        return self._x[0]

    # -- status, save, load -----------------------------------------------------------------
    def status(self) -> dict:
        """JSON-able: inputs, outputs (name, algo, classes, examples), flags, counters."""
        with self._lock:
            n = len(self._X)
            return {
                "inputs": list(self.inputs), "n_inputs": self.n_in,
                "outputs": [{"name": o.name, "algo": o.algo, "classes": o.classes,
                             "examples": int(self._counts[i]), "recording": bool(self.record_mask[i]),
                             "running": bool(self.run_mask[i])} for i, o in enumerate(self.specs)],
                "examples": n, "dropped": self.dropped, "recording": self.recording, "running": self.running,
                "trained": self._session is not None, "training": self.training, "trains": self.trains,
                "train_s": round(self.train_s, 3), "error": self.last_error, "mapping": self.mapping_name,
                "targets": [f"{t.host}:{t.port}" for t in self.osc.targets],
            }

    def save(self, name: str) -> Path:
        """Save examples (and the trained model, if any) as ``name`` under the mappings folder."""
        X, Y = self.examples()
        with self._lock:
            model, specs = self._onnx, list(self.specs)
        card = self._card(name, specs, X.shape[0]) if model is not None else None
        meta = {"inputs": list(self.inputs), "outputs": [o.spec for o in specs]}
        folder = save_mapping(self.folder, name, self.input_names, [o.name for o in specs], X, Y, meta,
                              model=model, card=card)
        self.mapping_name = name
        return folder

    def _card(self, name: str, specs: list[OutputSpec], n: int) -> dict:
        outs = [{"name": "outputs", "dtype": "float32", "shape": [1, len(specs)], "osc": "map/outputs", "smooth": False}]
        K = sum(o.classes for o in specs)
        if K:
            outs.append({"name": "probs", "dtype": "float32", "shape": [1, K], "range": [0, 1], "osc": "map/probs",
                         "smooth": False})
        return {"name": name, "kind": "custom", "version": "1",
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "input": {"name": "x", "dtype": "float32", "shape": [1, self.n_in], "kind": "features",
                          "recipe": RECIPE, "recipe_version": RECIPE_VERSION, "names": list(self.input_names),
                          "value": list(self.inputs)},
                "outputs": outs,
                "mapping": {"inputs": list(self.inputs), "outputs": [o.spec for o in specs], "examples": n},
                "training": {"data": f"{n} recorded examples", "command": "/wekinator/control/train",
                             "seed": self.seed}, "sha256": "0" * 64}

    def load(self, name: str) -> dict:
        """Load mapping ``name``: examples, and the model if it was trained (verified by the model
        host's loader). On any failure ModelError with the reason; the current mapping is kept."""
        folder = modelcard.resolve(self.folder, name)
        if not folder.is_dir():
            avail = sorted(p.name for p in self.folder.iterdir() if p.is_dir()) if self.folder.is_dir() else []
            raise ModelError(f"mapping {name!r} not found in {str(self.folder)!r} (saved: {avail})")
        session = onnx_bytes = None
        if (folder / modelcard.CARD_FILE).is_file():
            from ..inference.host import OnnxProcessor

            proc = OnnxProcessor(folder, smoothing=0.0)  # sha256, names, shapes, dummy run
            mp = proc.card.get("mapping")
            if not isinstance(mp, dict) or proc.card["input"].get("recipe") != RECIPE:
                raise ModelError(f"model {name!r} is not a mapping (its card has no 'mapping' section / recipe {RECIPE!r})")
            inputs, specs = check_inputs(mp.get("inputs")), parse_outputs(mp.get("outputs"))
            session = (proc.session, len(proc.card["outputs"]) > 1)
            onnx_bytes = (folder / modelcard.MODEL_FILE).read_bytes()  # verified above: re-saved as is
        else:
            meta = _read_meta(folder)
            try:
                inputs, specs = check_inputs(meta.get("inputs")), parse_outputs(meta.get("outputs"))
            except ConfigError as exc:
                raise ModelError(f"mapping {name!r}: {META_FILE}: {exc}") from None
        X, Y, in_names, out_names = read_examples(folder / CSV_FILE)
        if out_names != [o.name for o in specs]:
            raise ModelError(f"mapping {name!r}: examples.csv outputs {out_names} differ from the card's "
                             f"{[o.name for o in specs]}")
        try:
            n, now_names, _ = _layout(inputs, self._pipeline_outputs or ())
        except ConfigError as exc:
            raise ModelError(f"mapping {name!r}: {exc}") from None
        if now_names != in_names:
            raise ModelError(f"mapping {name!r} was saved with inputs {in_names[:4]}... ({len(in_names)} values); "
                             f"this pipeline gives {now_names[:4]}... ({n} values)")
        # Everything is read and verified: now swap (a failure above left the old mapping running)
        changed = (list(self.inputs), list(self.specs)) != (inputs, specs)
        was_running = self.running
        self._set_io(inputs, specs)
        self.bind(self._pipeline_outputs)
        self.add_examples(X, Y)
        with self._lock:
            self._session = session
            self._predict = None if session is None else _runner(None, specs, session)
            self._onnx = onnx_bytes if session is not None else None
            self.running = was_running and session is not None  # a hot swap keeps running
            self.mapping_name = name
        if changed and self.on_outputs_changed is not None:
            self.on_outputs_changed()
        return self.status()

    def describe(self) -> dict:
        d = super().describe()
        d["inputs"] = list(self.inputs)
        d["mapper_outputs"] = [o.spec for o in self.specs]
        return d


def _layout(inputs: Sequence[str], outputs: Sequence[Output]) -> tuple[int, list[str], list[int]]:
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


def _trainer_main(conn) -> None:
    """The training process: fit and export each job sent on ``conn`` until it closes.

    A job is (output specs, X, Y, n_in, seed); the answer ("ok", ONNX bytes, fitted pipelines)
    or ("error", reason). Runs at the lowest CPU priority: the stream's process comes first."""
    try:
        os.nice(19)
    except (AttributeError, OSError):
        pass
    try:  # the imports take seconds: done before the first job arrives
        import sklearn.neighbors  # noqa: F401
        import skl2onnx  # noqa: F401
    except ImportError:
        pass  # reported by the job that needs them
    while True:
        try:
            specs, X, Y, n_in, seed = conn.recv()
        except (EOFError, OSError):
            return
        try:
            specs = parse_outputs(specs)
            models = [fit_output(o, X, Y[:, i], seed=seed) for i, o in enumerate(specs)]
            conn.send(("ok", export_onnx(models, specs, n_in).SerializeToString(), models))
        except Exception as exc:  # noqa: BLE001 - every failure goes back as the reason
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _spawn_trainer():
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # never fork a process that runs audio threads
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_trainer_main, args=(child,), name="s2s-mapper-train", daemon=True)
    proc.start()
    child.close()
    return proc, parent


def _end_trainer(proc, conn):
    if conn is not None:
        conn.close()
    if proc is not None:
        proc.terminate()
        proc.join(timeout=2.0)
    return None, None


def _osc_head(address: str, n: int) -> bytes:
    """The address and type tags of an OSC message of ``n`` floats (the values follow)."""
    msg = encode_floats(address, np.zeros(n, np.float32))
    return msg[: len(msg) - 4 * n]


def _runner(models, specs, session):
    """The running model's call, x (1, n_in) float32 -> (outputs (1, M), probs (1, K)): the fitted
    arrays (:class:`FittedPredictor`, float64, scikit-learn's arithmetic) when the fitted
    pipelines are here (a training of this session), else the ONNX graph (a loaded mapping)."""
    fast = compile_models(models, specs) if models is not None else None
    if fast is not None:
        return fast
    sess, has_probs = session
    none = np.zeros((1, 0), np.float32)

    def run(x):
        res = sess.run(None, {"x": x})
        return res[0], (res[1] if has_probs else none)

    return run


def _session(model_bytes: bytes):
    from ..inference.host import make_session

    s = make_session(model_bytes)
    names = [o.name for o in s.get_outputs()]
    x = np.zeros((1, s.get_inputs()[0].shape[1]), np.float32)
    for _ in range(3):  # allocate now, not on the first running hop
        s.run(None, {"x": x})
    return s, "probs" in names


# -- files -----------------------------------------------------------------------------------
META_FILE = "mapping.json"


def _read_meta(folder: Path) -> dict:
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except FileNotFoundError:
        raise ModelError(f"mapping {folder.name!r} has no {META_FILE} and no card") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"mapping {folder.name!r}: {META_FILE} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise ModelError(f"mapping {folder.name!r}: {META_FILE} must hold a JSON object")
    return meta


def read_examples(path: Path) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """``examples.csv`` -> X, Y, input names, output names. The header is ``in:<name>`` columns
    then ``out:<name>`` columns; ModelError naming the line of a bad row."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"mapping examples missing: {str(p)!r}")
    if p.stat().st_size > MAX_CSV_BYTES:
        raise ModelError(f"{str(p)!r} is {p.stat().st_size} bytes; at most {MAX_CSV_BYTES}")
    with open(p, newline="") as fh:
        rows = csv.reader(fh)
        header = next(rows, None)
        if not header or not all(h.startswith(("in:", "out:")) for h in header):
            raise ModelError(f"{str(p)!r}: the header must name 'in:<input>' then 'out:<output>' columns")
        ins = [h[3:] for h in header if h.startswith("in:")]
        outs = [h[4:] for h in header if h.startswith("out:")]
        if header != [f"in:{h}" for h in ins] + [f"out:{h}" for h in outs] or not ins or not outs:
            raise ModelError(f"{str(p)!r}: the header must list inputs first, then outputs")
        data = []
        for line, r in enumerate(rows, start=2):
            if len(r) != len(header):
                raise ModelError(f"{str(p)!r} line {line}: {len(r)} values, expected {len(header)}")
            try:
                v = [float(a) for a in r]
            except ValueError:
                raise ModelError(f"{str(p)!r} line {line}: a value is not a number") from None
            if not all(math.isfinite(a) for a in v[: len(ins)]):
                raise ModelError(f"{str(p)!r} line {line}: inputs must be finite")
            data.append(v)
    a = np.array(data, np.float32).reshape(len(data), len(header))
    return a[:, : len(ins)], a[:, len(ins):], ins, outs


def save_mapping(root: Path, name: str, input_names: Sequence[str], output_names: Sequence[str],
                 X: np.ndarray, Y: np.ndarray, meta: dict, *, model: bytes | None = None,
                 card: dict | None = None) -> Path:
    """Write ``root/name/`` atomically (a temporary folder renamed over the old one): examples.csv,
    mapping.json (``meta``: inputs and output specs), and model.onnx + card.json when a model is
    given. Returns the folder."""
    root = Path(root)
    modelcard.check_name(name)
    root.mkdir(parents=True, exist_ok=True)
    folder = modelcard.resolve(root, name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([f"in:{n}" for n in input_names] + [f"out:{n}" for n in output_names])
        for x, y in zip(X, Y):
            w.writerow([repr(float(a)) for a in x] + [repr(float(a)) for a in y])
        (tmp / CSV_FILE).write_text(buf.getvalue())
        (tmp / META_FILE).write_text(json.dumps(meta) + "\n")
        if model is not None and card is not None:
            (tmp / modelcard.MODEL_FILE).write_bytes(model)
            modelcard.write_card(tmp, card)
        old = None
        if folder.exists():
            old = root / f".{name}.old.{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def check_saved(folder: str | None = None) -> list[tuple[bool, str, str]]:
    """``s2s-live doctor``: every saved mapping's (ok, name, message). A trained one is loaded and
    verified by the model host's loader (sha256, names, shapes, a dummy run); every examples.csv
    is read. An absent folder gives no rows."""
    root = mappings_dir(folder)
    rows: list[tuple[bool, str, str]] = []
    if not root.is_dir():
        return rows
    for f in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            X, _, ins, outs = read_examples(f / CSV_FILE)
            msg = f"{X.shape[0]} examples, {len(ins)} input values, outputs {outs}"
            if (f / modelcard.CARD_FILE).is_file():
                from ..inference.host import OnnxProcessor

                card = OnnxProcessor(f, smoothing=0.0).card
                if card["input"].get("recipe") != RECIPE or not isinstance(card.get("mapping"), dict):
                    raise ModelError(f"its card is not a mapping's (recipe {card['input'].get('recipe')!r})")
                msg += "; trained model loads and matches its card (sha256, names, shapes)"
            else:
                msg += "; not trained"
            rows.append((True, f.name, msg))
        except (ModelError, ConfigError, OSError, ValueError) as exc:
            rows.append((False, f.name, str(exc)))
    return rows
