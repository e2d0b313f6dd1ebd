"""A headless, Wekinator-compatible mapper: record examples, train, run (docs/mapping.md).

:class:`MappingProcessor` is a frame processor. Every hop it concatenates the values of the
declared outputs it was told to read (``mapper_inputs``: e.g. ``features/rms``, ``level``,
``tags/msd``, ``latent``), in that order, into one input vector x. Then:

* **recording**: (x, the current output values set by ``/wekinator/control/outputs``) is
  stored as an example (at most ``max_examples``; outputs whose recording is disabled get NaN);
* **running** (once trained): the mapping's ONNX graph maps x to M output values, returned as
  ``map/outputs`` (and ``map/probs`` for classifiers) and sent as ``/wek/outputs f×M`` to the
  mapper's own targets (default 127.0.0.1:12000), once per hop.

Outputs (``mapper_outputs``, :mod:`.specs`) are ``NAME[:ALGO[:CLASSES]]``: without CLASSES a
continuous output (regression: ``knn``, ``linear``, ``ridge``, ``mlp``; default ``mlp``, as Wekinator's neural
net), with CLASSES (2..64) a classifier whose value is the class number 1..CLASSES (``knn``,
default, or ``logistic``) and whose class probabilities go to ``map/probs``.

**Training** (:mod:`.fit`, :mod:`.trainer`) runs in a child process at the lowest CPU priority,
fed by a worker thread (scikit-learn fits one pipeline — StandardScaler + the estimator — per output, then skl2onnx
exports them as one ONNX graph): scikit-learn's Python loops never hold the engine's GIL, and
the analysis thread only swaps in the finished model between hops, so it never waits. What runs
per hop after a training is :class:`~.fit.FittedPredictor`: scikit-learn's own arithmetic in float64
on the fitted pipelines' arrays (equal to ``predict``/``predict_proba`` within rounding, without
their per-call input validation, which costs 1-7 ms), about half the cost of running the
exported ONNX graph through onnxruntime; a loaded mapping (only its ONNX graph is saved) runs on
that graph (float32, single-threaded onnxruntime). ``cancelTrain`` ends the training process
mid-fit (a fresh one is spawned for the next training).

**Save/load** (:mod:`.store`, :meth:`MappingProcessor.load`): a folder per name under
:func:`~.store.mappings_dir` holding ``examples.csv`` (a header of input and output names), and once
trained ``model.onnx`` with a model card (``kind: custom``, input kind ``features`` reading the
mapper's inputs), so the file is loaded and verified by the model host's loader
(:class:`~s2s_live.inference.onnx.OnnxProcessor`: sha256, names, shapes, a dummy run) and checked by
``s2s-live doctor``. A corrupt saved mapping is refused with its reason; the mapping running
before keeps running.

scikit-learn is a dependency of librosa (always installed); skl2onnx and onnx are only needed to
train (the ``mapping`` extra); a saved mapping runs with onnxruntime alone.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import ConfigError, ModelError
from ..osc.broadcast import OSCBroadcaster, parse_target
from ..osc.codec import encode_floats
from ..processor import Output, Processor
from .fit import make_runner, open_session
from .specs import (DEFAULT_INPUTS, DEFAULT_TARGETS, MAX_EXAMPLES, OutputSpec, check_inputs, check_name,
                    check_targets, input_layout, parse_output, parse_outputs)
from .store import mapping_card, mappings_dir, read_mapping, save_mapping
from .trainer import train_loop


def _osc_head(address: str, n: int) -> bytes:
    """The address and type tags of an OSC message of ``n`` floats (the values follow)."""
    msg = encode_floats(address, np.zeros(n, np.float32))
    return msg[: len(msg) - 4 * n]


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
            self._predict: Callable | None = None  # the running model's call (see fit.make_runner)
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
        n, names, sizes = input_layout(self.inputs, outputs)
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
            input_layout(names, self._pipeline_outputs)
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
        names = [check_name("mapper output", n) for n in names]
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
            self._thread = threading.Thread(target=train_loop, args=(self,), name="s2s-mapper-train", daemon=True)
            self._thread.start()

    def install(self, models: Sequence, model_bytes: bytes) -> None:
        """Run fitted pipelines ``models`` (one per output, as :func:`fit_output` fits them)
        and their exported graph ``model_bytes`` (:func:`export_onnx`): what a finished training
        swaps in (benchmarks and tests install their own)."""
        if len(models) != len(self.specs):
            raise ConfigError(f"install takes {len(self.specs)} fitted model(s), got {len(models)}")
        session = open_session(model_bytes)
        predict = make_runner(models, list(self.specs), session)
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
        card = None if model is None else mapping_card(name, specs, X.shape[0], n_in=self.n_in,
                                                       input_names=self.input_names, inputs=self.inputs,
                                                       seed=self.seed)
        meta = {"inputs": list(self.inputs), "outputs": [o.spec for o in specs]}
        folder = save_mapping(self.folder, name, self.input_names, [o.name for o in specs], X, Y, meta,
                              model=model, card=card)
        self.mapping_name = name
        return folder

    def load(self, name: str) -> dict:
        """Load mapping ``name``: examples, and the model if it was trained (verified by the model
        host's loader). On any failure ModelError with the reason; the current mapping is kept."""
        inputs, specs, X, Y, in_names, session, onnx_bytes = read_mapping(self.folder, name)
        try:
            n, now_names, _ = input_layout(inputs, self._pipeline_outputs or ())
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
            self._predict = None if session is None else make_runner(None, specs, session)
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
