"""The training subprocess and the worker thread that feeds it.

Fits run in a child process (spawned, never forked: the engine runs audio threads) at the lowest
CPU priority, so scikit-learn's Python loops never hold the engine's GIL; :func:`train_loop` is
the processor's worker thread: it hands each training to the child and swaps in the result
between hops.
"""

from __future__ import annotations

import os
import time

from .fit import export_onnx, fit_output, make_runner, open_session
from .specs import parse_outputs


def trainer_main(conn) -> None:
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


def spawn_trainer():
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # never fork a process that runs audio threads
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=trainer_main, args=(child,), name="s2s-mapper-train", daemon=True)
    proc.start()
    child.close()
    return proc, parent


def end_trainer(proc, conn):
    if conn is not None:
        conn.close()
    if proc is not None:
        proc.terminate()
        proc.join(timeout=2.0)
    return None, None


def train_loop(m) -> None:
    """The worker thread of :class:`~.processor.MappingProcessor` ``m``: hands each training to the
    training process and swaps in its result (under ``m._lock``).

    The fits run in a child process (spawned once, at the lowest CPU priority), not in this
    thread: scikit-learn's Python-level loops would hold this process's GIL for most of a
    training, and the analysis thread needs it every hop. ``cancelTrain`` ends the child
    mid-fit; a new one is spawned for the next training."""
    done, proc, conn = 0, None, None
    try:
        while True:
            with m._lock:
                # no child: spawn one at once, while idle (its imports take seconds)
                while m._train_req == done and not m._stop and proc is not None:
                    m._wake.wait()
                if m._stop:
                    return
                job = m._train_req != done
                if job:
                    gen = done = m._train_req
                    specs = list(m.specs)
                    n_in = m.n_in
            if proc is None or not proc.is_alive():
                proc, conn = spawn_trainer()
            if not job:
                continue
            X, Y = m.examples()
            t0 = time.perf_counter()
            res = None
            try:
                conn.send(([o.spec for o in specs], X, Y, n_in, m.seed))
                while res is None:
                    if conn.poll(0.05):
                        res = conn.recv()
                    elif m._stop or gen <= m._train_cancel:
                        break
                    elif not proc.is_alive():
                        res = ("error", f"the training process ended (exit code {proc.exitcode})")
            except (EOFError, OSError) as exc:
                res = ("error", f"the training process failed: {type(exc).__name__}: {exc}")
            if res is None or res[0] == "error":
                proc, conn = end_trainer(proc, conn)  # cancelled mid-fit or broken: a fresh one next time
            session, predict, err = None, None, ""
            if res is not None and res[0] == "ok":
                try:
                    session = open_session(res[1])
                    predict = make_runner(res[2], specs, session)
                except Exception as exc:  # noqa: BLE001 - reported in status and /s2s/error
                    err = f"{type(exc).__name__}: {exc}"
            elif res is not None:
                err = res[1]
            with m._lock:
                m.train_s = time.perf_counter() - t0
                if res is None or gen <= m._train_cancel or specs != m.specs or n_in != m.n_in:
                    pass  # cancelled, or the inputs/outputs changed meanwhile: the result no longer fits
                elif err:
                    m.last_error = m._report = err
                else:
                    m._models, m._onnx, m._session, m._predict = res[2], res[1], session, predict
                    m.mapping_name, m.last_error = "", ""
                    m.trains += 1
                if gen == m._train_req:
                    m.training = False
    finally:
        end_trainer(proc, conn)
