"""The music state the visuals follow: a small, picklable dict extracted from frame values.

The engine's analysis thread hands :meth:`VisualsController.on_frame` the whole ``frame.values``
dict; :func:`state_from_values` keeps only what the visuals need, as plain Python scalars and
strings, so it can cross the process boundary cheaply. Every key may be missing in the input
(no genre model loaded, silence, ...); the result always has every key, with neutral defaults.

Keys of the state (units and ranges):

* ``genre`` str or None — top genre label; ``genre_conf`` 0..1
* ``valence``, ``arousal`` 0..1 (0.5 = neutral); ``emotion`` quadrant word or None
* ``bpm`` beats per minute (0 = unknown); ``key`` e.g. ``"A minor"`` or None
* ``level`` 0..1 loudness; ``centroid`` Hz (0 = unknown)
* ``instruments`` tuple of str, most probable first (empty = unknown), from the engine's
  ``instruments/words``; ``vocals`` 0..1 or None (unknown), from ``vocals``; ``vocals_label``
  ``"female vocals"`` / ``"male vocals"`` / ``"vocals"`` / ``"instrumental"`` or None
* ``tags`` tuple of up to three tag words, most probable first (from ``tags``, the taggers'
  ``s f s f s f``); ``xy`` (x, y) 0..1 latent map position (``latent/xy``) or None;
  ``latent`` tuple of up to 8 latent floats (``latent``, an encoder's mean) or ()

Scene families of the WebGL viewer (:data:`SCENES`) are chosen from the genre (or, with no genre,
the tags) and the emotion quadrant by :func:`scene_for`; :class:`SceneChooser` holds a choice
until the new one has been stable for ``hold`` seconds.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..labels import QUADRANTS, quadrant  # noqa: F401  (the one quadrant rule; prompt.py reads it here)
from ..osc.checks import SCENES  # noqa: F401  (the protocol's scene list; visuals read it here)

# The shared fast-stream array between the engine and the visuals process (layout shared by
# the controller, the worker and the web viewer).
#: Slots of the shared fast-stream array.
FAST_SLOTS = ("level", "low", "mid", "high", "onset", "beats", "bpm", "t")
FAST_INDEX = {k: i for i, k in enumerate(FAST_SLOTS)}
FAST_RING = 64  #: blocks kept in the ring (~0.75 s at 86 blocks/s)
FAST_COUNT = len(FAST_SLOTS)  #: index of the ring's write counter (blocks written so far)
FAST_SIZE = len(FAST_SLOTS) * (FAST_RING + 1) + 1  #: length of the shared array

#: Base family per genre (GTZAN labels and the synth's styles); the quadrant shifts it.
GENRE_SCENE = {
    "blues": "flow", "classical": "reaction", "country": "flow", "disco": "particles",
    "hiphop": "grid", "jazz": "kaleido", "metal": "tunnel", "pop": "particles",
    "reggae": "kaleido", "rock": "tunnel", "techno": "grid", "electronic": "grid",
    "ambient": "reaction", "ballad": "flow", "dance": "particles", "house": "grid",
}
#: Steps along :data:`SCENES` per quadrant: every quadrant change changes the family.
QUADRANT_SHIFT = {"happy": 0, "tense": 1, "sad": 3, "calm": 4, None: 0}


def scene_for(genre: str | None, emotion: str | None, tags: tuple = ()) -> str:
    """The scene family for a genre label (else the first tag word that names a genre) and an
    emotion quadrant word. Unknown genres hash to a family; no genre at all is ``"flow"``."""
    label = genre.lower() if isinstance(genre, str) and genre else None
    if label is None:
        label = next((t.lower() for t in tags if isinstance(t, str) and t.lower() in GENRE_SCENE), None)
    if label is None:
        base = 0
    elif label in GENRE_SCENE:
        base = SCENES.index(GENRE_SCENE[label])
    else:
        base = sum(label.encode()) % len(SCENES)  # stable across runs (no hash randomisation)
    return SCENES[(base + QUADRANT_SHIFT.get(emotion, 0)) % len(SCENES)]


class SceneChooser:
    """The viewer's scene family: :func:`scene_for` of the latest state, changed only after the
    new family has been the answer for ``hold`` seconds (a flickering genre does not cut)."""

    def __init__(self, *, hold: float = 1.5) -> None:
        self.hold = float(hold)
        self.scene = scene_for(None, None)
        self._cand: str | None = None
        self._since = 0.0

    def update(self, state: dict, now: float) -> str:
        """``now`` in seconds (monotonic); returns the current family."""
        want = scene_for(state.get("genre"), state.get("emotion"), state.get("tags") or ())
        if want == self.scene:
            self._cand = None
        elif want != self._cand:
            self._cand, self._since = want, now
        elif now - self._since >= self.hold:
            self.scene, self._cand = want, None
        return self.scene


def default_state() -> dict:
    """A neutral state (no analysis yet)."""
    return {
        "genre": None, "genre_conf": 0.0, "valence": 0.5, "arousal": 0.5, "emotion": None,
        "bpm": 0.0, "key": None, "level": 0.0, "centroid": 0.0, "instruments": (), "vocals": None,
        "vocals_label": None, "tags": (), "xy": None, "latent": (),
    }


def _num(x: Any, default: float) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


def _first(x: Any):
    """First element of a tuple/list/array value, or the value itself."""
    if isinstance(x, (tuple, list)):
        return x[0] if x else None
    if hasattr(x, "shape") and getattr(x, "ndim", 0) >= 1:
        return x[0] if len(x) else None
    return x


def state_from_values(values: Mapping[str, Any], into: dict | None = None) -> dict:
    """Extract the visuals state from ``frame.values`` (cheap: a few dict look-ups).

    ``genre`` may be ``("rock", 0.8)`` (the ``/s2s/genre s f`` output) or a bare label;
    ``emotion`` a (valence, arousal) pair; ``emotion/valence``/``emotion/arousal`` scalars win
    when present. ``into`` is updated in place (keys absent from ``values`` keep their value).
    """
    st = default_state() if into is None else into
    g = values.get("genre")
    if g is not None:
        if isinstance(g, str):
            st["genre"] = g
        else:
            label = _first(g)
            if isinstance(label, str):
                st["genre"] = label
                if isinstance(g, (tuple, list)) and len(g) > 1:
                    st["genre_conf"] = min(1.0, max(0.0, _num(g[1], 0.0)))
    e = values.get("emotion")
    if e is not None and not isinstance(e, str):
        try:
            st["valence"] = min(1.0, max(0.0, _num(e[0], 0.5)))
            st["arousal"] = min(1.0, max(0.0, _num(e[1], 0.5)))
        except (TypeError, IndexError, KeyError):
            pass
    if "emotion/valence" in values:
        st["valence"] = min(1.0, max(0.0, _num(values["emotion/valence"], st["valence"])))
    if "emotion/arousal" in values:
        st["arousal"] = min(1.0, max(0.0, _num(values["emotion/arousal"], st["arousal"])))
    lab = values.get("emotion/label")
    if isinstance(lab, str) and lab:
        st["emotion"] = lab
    elif e is not None or "emotion/valence" in values:
        st["emotion"] = quadrant(st["valence"], st["arousal"])
    bpm = values.get("bpm", values.get("features/tempo"))
    if bpm is not None:
        st["bpm"] = max(0.0, min(400.0, _num(bpm, st["bpm"])))
    k = values.get("key")
    if isinstance(k, str) and k:
        st["key"] = k
    lv = values.get("level", values.get("features/rms"))
    if lv is not None:
        st["level"] = min(1.0, max(0.0, _num(lv, st["level"])))
    c = values.get("features/centroid")
    if c is not None:
        st["centroid"] = max(0.0, _num(c, st["centroid"]))
    ins = values.get("instruments/words")  # words; ``instruments`` itself is the f×10 vector
    if isinstance(ins, (tuple, list)):
        st["instruments"] = tuple(str(i) for i in ins if isinstance(i, str))
    v = values.get("vocals")
    if v is not None:
        st["vocals"] = min(1.0, max(0.0, _num(v, 0.0)))
    vl = values.get("vocals/label")
    if isinstance(vl, str) and vl:
        st["vocals_label"] = vl
    tg = values.get("tags")  # ("word1", p1, "word2", p2, ...)
    if isinstance(tg, (tuple, list)):
        st["tags"] = tuple(w for w in tg[0::2] if isinstance(w, str))[:3]
    xy = values.get("latent/xy")
    if xy is not None:
        try:
            st["xy"] = (min(1.0, max(0.0, _num(xy[0], 0.5))), min(1.0, max(0.0, _num(xy[1], 0.5))))
        except (TypeError, IndexError, KeyError):
            pass
    lat = values.get("latent")
    if lat is not None and hasattr(lat, "__len__"):
        st["latent"] = tuple(_num(x, 0.0) for x in list(lat[:8]))
    return st
