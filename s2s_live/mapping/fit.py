"""Training and running a mapping: scikit-learn pipelines per output, their ONNX export, and
the float64 predictor that runs them per hop.

:func:`fit_output` fits one StandardScaler + estimator pipeline per output; :func:`export_onnx`
joins them into one ONNX graph (``x`` [N, n_in] -> ``outputs`` [N, M], ``probs`` [N, sum K]);
:class:`FittedPredictor` (built by :func:`compile_models`) is scikit-learn's arithmetic on the
fitted arrays; :func:`make_runner` picks it, or the ONNX graph of a loaded mapping
(:func:`open_session`). scikit-learn comes with librosa; skl2onnx and onnx (the ``mapping``
extra) are needed only to export.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from ..errors import ModelError
from .specs import OutputSpec

KNN_K = 1  #: neighbours (Wekinator's default; fewer when there are fewer examples)


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


def make_runner(models, specs, session):
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


def open_session(model_bytes: bytes):
    """(onnxruntime session, has probs) of an exported graph, run 3 times so its buffers exist."""
    from ..inference.onnx import make_session

    s = make_session(model_bytes)
    names = [o.name for o in s.get_outputs()]
    x = np.zeros((1, s.get_inputs()[0].shape[1]), np.float32)
    for _ in range(3):  # allocate now, not on the first running hop
        s.run(None, {"x": x})
    return s, "probs" in names
