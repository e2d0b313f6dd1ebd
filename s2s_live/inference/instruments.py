"""Instruments and vocals from the taggers' words (MagnaTagATune + Million Song Dataset tags).

Both taggers were trained on human tags that name instruments and voices; each output here is
the largest probability among the tags that name it (e.g. ``strings`` = max of MTT
``strings``, ``violin``, ``cello``, ``harp``; ``drums`` = max of ``drums``, ``beat``, ``beats``).
No training of our own: the words are the taggers', the grouping is listed in
:data:`INSTRUMENT_TAGS` / :data:`VOICE_TAGS` and in docs/models.md.

Outputs (every hop once the taggers have answered):

* ``instruments`` f×10 (0..1) — labels :data:`INSTRUMENTS`;
* ``vocals`` f (0..1) — a voice is heard (vocal tags against the "no vocals"/"instrumental" ones);
* ``vocals/female``, ``vocals/male`` f (0..1);
* ``vocals/label`` s — ``"female vocals"``, ``"male vocals"``, ``"vocals"`` or ``"instrumental"``;
* ``instruments/words`` (internal) — instrument words above :data:`WORD_THRESHOLD`, most
  probable first, at most three (what the prompt builder uses).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..processor import Output, Processor

#: Output label -> (MTT tags, MSD tags) whose maximum it is.
INSTRUMENT_TAGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "guitar": (("guitar",), ("guitar",)),
    "piano": (("piano", "harpsichord"), ()),
    "drums": (("drums", "beat", "beats"), ()),
    "strings": (("strings", "violin", "cello", "harp"), ()),
    "violin": (("violin",), ()),
    "cello": (("cello",), ()),
    "synth": (("synth", "techno"), ("electro",)),
    "flute": (("flute",), ()),
    "harp": (("harp",), ()),
    "sitar": (("sitar",), ()),
}
INSTRUMENTS = tuple(INSTRUMENT_TAGS)
VOICE_TAGS = {
    "voice": (("vocal", "vocals", "singing", "voice", "male vocal", "female vocal", "male voice",
               "female voice", "woman", "man", "choir", "opera"), ("female vocalists", "male vocalists",
                                                                   "female vocalist")),
    "none": (("no vocals", "no vocal", "no voice"), ("instrumental",)),
    "female": (("female", "woman", "female vocal", "female voice"), ("female vocalists", "female vocalist")),
    "male": (("male", "man", "male vocal", "male voice"), ("male vocalists",)),
}
WORD_THRESHOLD = 0.2  #: an instrument word enters prompts above this probability
VOICE_THRESHOLD = 0.5


def _indices(labels, words) -> np.ndarray:
    low = [w.lower() for w in labels]
    return np.array([low.index(w.lower()) for w in words if w.lower() in low], np.int64)


class InstrumentsProcessor(Processor):
    """Instrument and voice probabilities from ``tags/mtt`` and ``tags/msd`` (see module doc).

    Parameters
    ----------
    mtt_labels, msd_labels : sequence of str
        The taggers' vocabularies (from their cards).
    """

    name = "instruments"
    stream = "frame"

    def __init__(self, mtt_labels, msd_labels) -> None:
        self.groups = {k: (_indices(mtt_labels, a), _indices(msd_labels, b)) for k, (a, b) in INSTRUMENT_TAGS.items()}
        self.voice = {k: (_indices(mtt_labels, a), _indices(msd_labels, b)) for k, (a, b) in VOICE_TAGS.items()}
        missing = [k for k, (a, b) in {**self.groups, **self.voice}.items() if a.size + b.size == 0]
        if missing:
            raise ValueError(f"tagger vocabularies name none of the tags for {missing}")
        self.values = np.zeros(len(INSTRUMENTS), np.float32)
        self.outputs = (
            Output("instruments", shape=len(INSTRUMENTS), labels=INSTRUMENTS,
                   doc="probability that each instrument plays (taggers' instrument words)"),
            Output("vocals", doc="probability that a voice is heard"),
            Output("vocals/female", doc="probability of a female voice"),
            Output("vocals/male", doc="probability of a male voice"),
            Output("vocals/label", type="s", range=None,
                   doc='"female vocals", "male vocals", "vocals" or "instrumental"'),
            Output("instruments/words", type="s", range=None, internal=True,
                   doc="instrument words above 0.2, most probable first (at most 3), for prompts"),
        )

    @staticmethod
    def _max(mtt: np.ndarray, msd: np.ndarray, idx) -> float:
        a, b = idx
        v = 0.0
        if a.size:
            v = float(mtt[a].max())
        if b.size:
            v = max(v, float(msd[b].max()))
        return v

    def process(self, frame) -> dict[str, Any]:
        mtt, msd = frame.values.get("tags/mtt"), frame.values.get("tags/msd")
        if mtt is None or msd is None:
            return {}
        for i, k in enumerate(INSTRUMENTS):
            self.values[i] = self._max(mtt, msd, self.groups[k])
        voice, none = self._max(mtt, msd, self.voice["voice"]), self._max(mtt, msd, self.voice["none"])
        female, male = self._max(mtt, msd, self.voice["female"]), self._max(mtt, msd, self.voice["male"])
        # presence: the voice words against the "no vocals"/"instrumental" words
        vocals = voice / (voice + none) if voice + none > 0 else 0.0
        if vocals < VOICE_THRESHOLD:
            label = "instrumental"
        elif max(female, male) < 0.15:
            label = "vocals"
        else:
            label = "female vocals" if female >= male else "male vocals"
        order = np.argsort(-self.values, kind="stable")
        words = tuple(INSTRUMENTS[i] for i in order[:3] if self.values[i] >= WORD_THRESHOLD)
        return {"instruments": self.values.copy(), "vocals": float(vocals), "vocals/female": female,
                "vocals/male": male, "vocals/label": label, "instruments/words": words}
