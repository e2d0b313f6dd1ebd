"""The numba kernel cache: where compiled DSP kernels live, whether they are there, and progress.

Every numba kernel in s2s_live is declared ``cache=True``: compiled once (about 0.6 s each on a
2-core VM, plus ~16 s for librosa's own kernels, which it compiles when first imported), then
loaded from disk in milliseconds. The compiled code goes to ``NUMBA_CACHE_DIR`` when that is set,
else to a per-user folder (:func:`default_cache_dir`, e.g. ``~/.cache/s2s_live/numba``) that
:func:`configure` points numba at when ``s2s_live`` is imported, before numba loads. Never the
package folder: site-packages may be read-only, and a numba that cannot write there silently
compiles again on every start.

numba keys each cached kernel on its source file's modification time and size and on numba's own
version, so after an upgrade of s2s_live, numba or librosa the old entries no longer match and the
kernels compile again on first use. ``s2s-live warmup`` (run by ``scripts/install.sh``) does that
ahead of time; :func:`check` tells whether it is needed; :class:`Preparation` reports progress
while a cold start compiles.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Seconds one s2s_live kernel takes to compile on the 2-core test VM (measured: 19 kernels in
#: 11-12 s during a cold ``Pipeline.warmup()``); used only for the "about N s" estimate.
SECONDS_PER_KERNEL = 0.6
#: Seconds librosa (and the numba internals it pulls in) takes to compile its kernels when it is
#: first imported with a cold cache, on the same VM (measured 16-18 s). Only for the estimate.
LIBRARY_SECONDS = 16.0
#: File in the cache folder recording the third-party versions whose kernels are cached.
STAMP_NAME = "s2s_live_warm.json"
#: Modules of the package that hold no kernels the live, analysis or visuals paths use, and whose
#: import is heavy (torch): never imported to look for kernels.
SKIP_PACKAGES = ("s2s_live.train",)


def default_cache_dir() -> Path:
    """The per-user kernel cache folder: ``$XDG_CACHE_HOME/s2s_live/numba`` (``~/.cache/...``
    when unset) on Linux, ``~/Library/Caches/s2s_live/numba`` on macOS,
    ``%LOCALAPPDATA%\\s2s_live\\numba`` on Windows."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "s2s_live" / "numba"


def configure() -> str | None:
    """Point numba's cache at :func:`default_cache_dir` unless ``NUMBA_CACHE_DIR`` is already set.

    Called by ``s2s_live/__init__.py`` before any module imports numba (numba reads the variable
    once, when it is imported). Returns the folder in effect, or None when the per-user folder
    cannot be created or written (then numba keeps its own default: next to the sources when
    writable, else its user-wide cache) — a read-only home must not stop the engine.
    """
    current = os.environ.get("NUMBA_CACHE_DIR")
    if current:
        return current
    d = default_cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(d, os.W_OK | os.X_OK):
        return None
    os.environ["NUMBA_CACHE_DIR"] = str(d)
    cfg = sys.modules.get("numba.core.config")
    if cfg is not None and not getattr(cfg, "CACHE_DIR", ""):
        # A host application imported numba before s2s_live: its config was read already, and
        # numba looks CACHE_DIR up each time a cached function is declared, so set it there too.
        cfg.CACHE_DIR = str(d)
    return str(d)


def cache_dir() -> str | None:
    """The folder numba caches into now (None: numba's defaults, see :func:`configure`)."""
    return os.environ.get("NUMBA_CACHE_DIR") or None


# ---------------------------------------------------------------------------------------------
# Which kernels exist, which are cached

def kernel_name(disp) -> str:
    """``module.function`` of a numba dispatcher (the name used in reports and progress)."""
    f = getattr(disp, "py_func", disp)
    return f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', getattr(f, '__name__', '?'))}"


def loaded_kernels(*, exclude: tuple[str, ...] = ()) -> dict[str, object]:
    """Every numba dispatcher defined in an already imported ``s2s_live`` module, by name.

    Modules under a name in ``exclude`` (package prefixes) are left out. Nothing is imported or
    compiled: this sees exactly the kernels of the modules the caller's code path has loaded.
    """
    from numba.core.dispatcher import Dispatcher

    out: dict[str, object] = {}
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not (mod_name == "s2s_live" or mod_name.startswith("s2s_live.")):
            continue
        if any(mod_name == e or mod_name.startswith(e + ".") for e in exclude):
            continue
        for value in list(vars(mod).values()):
            if isinstance(value, Dispatcher) and getattr(value, "__module__", None) == mod_name:
                out[kernel_name(value)] = value
    return dict(sorted(out.items()))


def import_kernel_modules() -> list[str]:
    """Import every module of the package whose source mentions numba (except SKIP_PACKAGES).

    Importing declares the kernels without compiling them; used by ``doctor`` and
    ``warmup --check`` so kernels other modules add later are seen without a list to maintain.
    Returns the module names that could not be imported (an optional dependency missing).
    """
    import importlib

    root = Path(__file__).resolve().parent
    failed = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        if any(name == s or name.startswith(s + ".") for s in SKIP_PACKAGES):
            continue
        try:
            if "numba" not in path.read_text(encoding="utf-8", errors="replace"):
                continue
            importlib.import_module(name)
        except ImportError:
            failed.append(name)
    return failed


def is_cached(disp) -> bool | None:
    """True when numba's on-disk index holds a valid compiled entry for this dispatcher (same
    source file stamp, same numba version); False when it does not (a ``cache=False`` kernel
    never does); None when this numba's cache internals are not the ones read here (cannot tell:
    callers then say nothing rather than announce a wait that may not come)."""
    cache = getattr(disp, "_cache", None)
    if cache is None or type(cache).__name__ == "NullCache":
        return False
    load_index = getattr(getattr(cache, "_cache_file", None), "_load_index", None)
    if load_index is None:
        return None
    try:
        return bool(load_index())  # {} when missing or stale
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
        return False  # an unreadable index is recompiled (and rewritten) by numba too


def library_versions() -> dict[str, str]:
    """Versions whose change invalidates the third-party kernels (read from package metadata,
    without importing librosa, whose import is what compiles them)."""
    from importlib import metadata

    out = {"python": "%d.%d.%d" % sys.version_info[:3]}
    for dist in ("numba", "librosa"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = ""
    return out


def read_stamp(folder: str | None = None) -> dict:
    """The stamp a finished warm-up left in the cache folder, or {}."""
    folder = folder or cache_dir()
    if not folder:
        return {}
    try:
        data = json.loads((Path(folder) / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_stamp(*, by: str, seconds: float, unused: list[str] | None = None) -> None:
    """Record that third-party kernels are now cached for these versions (atomic; never raises:
    the stamp only improves the next start's estimate)."""
    from ._version import __version__

    folder = cache_dir()
    if not folder:
        return
    data = {"versions": library_versions(), "s2s_live": __version__, "by": by,
            "seconds": round(float(seconds), 1), "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "unused": sorted(unused or [])}
    tmp = Path(folder) / f".{STAMP_NAME}.{os.getpid()}"
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, Path(folder) / STAMP_NAME)
    except OSError:
        pass


@dataclass
class CacheState:
    """What a start would have to compile.

    ``kernels``: the s2s_live kernels looked at; ``cold``: those without a valid cache entry;
    ``libraries_cold``: no stamp for the installed numba/librosa/python, so librosa's kernels are
    presumed uncompiled too.
    """

    folder: str | None
    kernels: list[str] = field(default_factory=list)
    cold: list[str] = field(default_factory=list)
    libraries_cold: bool = False

    @property
    def warm(self) -> bool:
        return not self.cold and not self.libraries_cold

    @property
    def estimate_s(self) -> float:
        """Seconds of compiling ahead, from the per-kernel figures measured on a 2-core VM."""
        return len(self.cold) * SECONDS_PER_KERNEL + (LIBRARY_SECONDS if self.libraries_cold else 0.0)


def check(*, exclude: tuple[str, ...] = ()) -> CacheState:
    """Which kernels of the loaded modules are not cached, and whether librosa's presumably are."""
    ks = loaded_kernels(exclude=exclude)
    cold = [n for n, d in ks.items() if is_cached(d) is False]
    stamp = read_stamp()
    return CacheState(folder=cache_dir(), kernels=list(ks), cold=cold,
                      libraries_cold=stamp.get("versions") != library_versions())


# ---------------------------------------------------------------------------------------------
# Progress while compiling

class Preparation:
    """Progress of a cold start: counts kernels as numba compiles them.

    Use as a context manager around the code that compiles (it listens to numba's
    ``numba:compile`` events, which fire only on cache misses, so whatever code path compiles —
    processors added later included — is counted). Written by the compiling thread, read by the
    live view and the control thread (plain attribute reads of ints and sets' lengths).

    Parameters
    ----------
    state : CacheState
        The check made before compiling (the kernels expected to compile).
    what : str
        Start of the message shown to the user.
    """

    def __init__(self, state: CacheState, *, what: str = "preparing DSP kernels, first run only") -> None:
        self.state = state
        self.what = what
        self.expected: set[str] = set(state.cold)
        self.compiled: set[str] = set()
        self.libraries_pending = state.libraries_cold
        self.libraries_cold = state.libraries_cold
        self.step = "building processors"
        self.t0 = time.perf_counter()
        self.t_end: float | None = None
        self.estimate_s = state.estimate_s
        self._listener = None
        self._lock = threading.Lock()

    # -- numba events ----------------------------------------------------------------------
    def __enter__(self) -> "Preparation":
        from numba.core import event

        prep = self

        class _Listener(event.Listener):
            def on_start(self, ev) -> None:  # noqa: ARG002 - only completions are counted
                pass

            def on_end(self, ev) -> None:
                name = kernel_name(ev.data.get("dispatcher"))
                if name.startswith("s2s_live."):
                    with prep._lock:
                        prep.expected.add(name)
                        prep.compiled.add(name)

        self._listener = _Listener()
        event.register("numba:compile", self._listener)
        return self

    def __exit__(self, *exc) -> None:
        from numba.core import event

        if self._listener is not None:
            event.unregister("numba:compile", self._listener)
            self._listener = None
        self.t_end = time.perf_counter()

    # -- steps -----------------------------------------------------------------------------
    def built(self, state: CacheState) -> None:
        """Processors are built (librosa imported and compiled): add kernels of modules that
        building imported, and move on to compiling."""
        with self._lock:
            self.expected |= set(state.cold)
        self.libraries_pending = False
        self.step = "compiling kernels"

    # -- reading -----------------------------------------------------------------------------
    @property
    def elapsed_s(self) -> float:
        return (self.t_end or time.perf_counter()) - self.t0

    def fraction(self) -> float:
        """Work done, 0..1: the library step and each kernel weighted by their measured cost."""
        total = (LIBRARY_SECONDS if self.libraries_cold else 0.0) + len(self.expected) * SECONDS_PER_KERNEL
        if total <= 0:
            return 1.0
        lib = 0.0
        if self.libraries_cold:
            # librosa compiles inside one import and reports nothing: count its step by the clock,
            # never quite complete until building returns
            lib = LIBRARY_SECONDS * (min(0.95, self.elapsed_s / LIBRARY_SECONDS) if self.libraries_pending else 1.0)
        done = lib + len(self.compiled) * SECONDS_PER_KERNEL
        return min(1.0, done / total)

    def message(self) -> str:
        """The line shown before the wait: what happens, that it happens once, how long."""
        return f"{self.what}, about {max(1, round(self.estimate_s))} s"

    def progress_line(self) -> str:
        """``[######----]  60%  12 s, kernels 7/19 (compiling kernels)``"""
        f = self.fraction()
        bar = "#" * int(round(10 * f))
        return (f"[{bar:<10}] {100 * f:3.0f}%  {self.elapsed_s:4.0f} s, kernels "
                f"{len(self.compiled)}/{len(self.expected)} ({self.step})")

    def snapshot(self) -> dict:
        """JSON-able progress for ``/s2s/status`` (seconds, counts, fraction 0..1). No paths:
        status replies go to remote senders, who need not learn the user's home folder."""
        return {"message": self.message(), "step": self.step, "estimate_s": round(self.estimate_s, 1),
                "elapsed_s": round(self.elapsed_s, 1), "kernels_compiled": len(self.compiled),
                "kernels_expected": len(self.expected), "progress": round(self.fraction(), 3)}
