"""Label stability for performers: exponential smoothing and a hysteresis rule.

Raw classifier probabilities flicker from hop to hop; a performer's patch should not. Two stages:

* :class:`ExpSmoother` — per-hop exponential smoothing ``s = a*s + (1-a)*x`` of a float vector,
  ``a`` in 0 (none) .. 0.99 (very slow), settable while running. Preallocated state.
* :class:`Hysteresis` — the *stable* label only changes when a new top label leads the current
  one by at least ``margin`` (probability points) continuously for at least ``hold`` seconds of
  stream time, or at once when it leads by ``fast`` or more (a clear change need not wait: a
  performer hears it at once; an ambiguous one still waits out the hold); each change is
  reported once as ``(from, to)``.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError

#: Russell's quadrants of the valence/arousal plane, in the 4Q dataset's order Q1..Q4:
#: happy (+v +a), tense (-v +a), sad (-v -a), calm (+v -a). The one quadrant rule of the package.
QUADRANTS = ("happy", "tense", "sad", "calm")


def quadrant_index(valence: float, arousal: float) -> int:
    """Quadrant 0..3 (index into :data:`QUADRANTS`) of valence/arousal in 0..1 (0.5 = neutral);
    -1 when either is not finite."""
    if not (math.isfinite(valence) and math.isfinite(arousal)):
        return -1
    if arousal >= 0.5:
        return 0 if valence >= 0.5 else 1
    return 3 if valence >= 0.5 else 2


def quadrant(valence: float, arousal: float) -> str:
    """Quadrant word (:data:`QUADRANTS`) of valence/arousal in 0..1; ``""`` when either is not finite."""
    i = quadrant_index(valence, arousal)
    return QUADRANTS[i] if i >= 0 else ""


KEEP = object()  #: ``Hysteresis.set_params(fast=KEEP)``: leave ``fast`` as it is (None switches it off)


SMOOTHING_RANGE = (0.0, 0.99)  #: exponential smoothing factor per hop


def check_smoothing(alpha) -> float:
    """A smoothing factor in :data:`SMOOTHING_RANGE` as float; ConfigError naming the value
    otherwise. The one check: config, the engine, the model host and the processors call it."""
    lo, hi = SMOOTHING_RANGE
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not lo <= float(alpha) <= hi:
        raise ConfigError(f"smoothing={alpha!r} is invalid; expected a number in {lo}..{hi}")
    return float(alpha)


class ExpSmoother:
    """Exponential smoothing of a fixed-length float vector, one step per hop.

    Parameters
    ----------
    size : int
        Vector length.
    alpha : float
        0 (output = input) .. 0.99 (time constant ~100 hops).
    """

    def __init__(self, size: int, alpha: float = 0.5) -> None:
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"size={size!r} is invalid; expected an int >= 1")
        self.alpha = check_smoothing(alpha)
        self.state = np.zeros(size, dtype=np.float32)
        self.primed = False

    def set_alpha(self, alpha: float) -> None:
        self.alpha = check_smoothing(alpha)

    def reset(self) -> None:
        self.state[:] = 0.0
        self.primed = False

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Update with ``x`` (the first value primes the state); returns the state (a view)."""
        if not self.primed:
            self.state[:] = x
            self.primed = True
        else:
            a = self.alpha
            self.state *= a
            self.state += (1.0 - a) * x
        return self.state


class Hysteresis:
    """Stable top label of a probability vector.

    Parameters
    ----------
    labels : sequence of str
        Class names, in probability order.
    margin : float
        A challenger's probability must exceed the current label's by at least this (0..1).
    hold : float
        ... continuously for at least this many seconds of stream time (>= 0).
    fast : float or None
        A challenger leading by at least this (margin..1) switches at once, without the hold;
        None: never (every change waits out the hold).

    ``update(probs, t)`` returns ``(index, changed)`` where ``changed`` is ``(from, to)`` on the
    hop the stable label switches, else None. The first update adopts the top label silently.
    """

    def __init__(self, labels, *, margin: float = 0.1, hold: float = 1.0, fast: float | None = None) -> None:
        self.labels = tuple(labels)
        if not self.labels:
            raise ValueError("labels is empty; expected at least one class name")
        self.margin, self.hold, self.fast = 0.0, 0.0, None
        self.set_params(margin=margin, hold=hold, fast=fast)
        self.reset()

    def set_params(self, *, margin: float | None = None, hold: float | None = None, fast=KEEP) -> None:
        """Change the rule while running; an argument left out keeps its value (``fast=None``: off).
        Raises ValueError naming the value and the range, and then changes nothing."""
        if margin is not None and (isinstance(margin, bool) or not isinstance(margin, (int, float))
                                   or not 0.0 <= margin <= 1.0):
            raise ValueError(f"margin={margin!r} is invalid; expected a probability in 0..1")
        if hold is not None and (isinstance(hold, bool) or not isinstance(hold, (int, float))
                                 or math.isnan(hold) or not 0.0 <= hold <= 3600.0):
            raise ValueError(f"hold={hold!r} is invalid; expected seconds in 0..3600")
        m = float(margin) if margin is not None else self.margin
        f = self.fast if fast is KEEP else fast
        if f is not None and (isinstance(f, bool) or not isinstance(f, (int, float)) or not m <= f <= 1.0):
            raise ValueError(f"fast={f!r} is invalid; expected a probability in margin..1 ({m:g}..1) or None (off)")
        self.margin = m
        if hold is not None:
            self.hold = float(hold)
        self.fast = None if f is None else float(f)

    def reset(self) -> None:
        self.current = -1
        self.candidate = -1
        self.since = 0.0

    def update(self, probs: np.ndarray, t: float):
        top = int(np.argmax(probs))
        if self.current < 0:
            self.current = top
            return self.current, None
        if top == self.current or probs[top] - probs[self.current] < self.margin:
            self.candidate = -1
            return self.current, None
        if top != self.candidate or t < self.since:  # new challenger, or the stream time restarted
            self.candidate, self.since = top, t
        if t - self.since >= self.hold or (self.fast is not None and probs[top] - probs[self.current] >= self.fast):
            old = self.current
            self.current, self.candidate = top, -1
            return self.current, (self.labels[old], self.labels[top])
        return self.current, None
