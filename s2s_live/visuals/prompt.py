"""Prompt builder after Sound to Something: genre, tempo, instruments, emotion, vocals -> text.

Templates live in a TOML file (the packaged ``s2s_live/data/prompts.toml`` by default; see its
comments for every placeholder). :func:`build_prompt` is pure and cheap (microseconds), so it
runs in the visuals process for each job, with the latest music state.

Continuous values weight the parts: the emotion's strength (distance of valence/arousal from the
neutral centre, 0..1) sets how many emotion words are used, and each Wekinator output (0..1) adds
its ``low`` or ``high`` words only when it is clearly away from the middle.

Parts never contradict each other in energy: a genre scene or tempo entry may declare
``energy = "high"`` or ``"low"``; when the emotion is on the other side of the arousal axis
(happy/tense = high, sad/calm = low) the genre's ``calm_subject``/``lively_subject`` is used
instead (or the default scene when it has none) and contradicting tempo words are left out, so
"calm, serene" never meets "a storm of fire".

The state's ``scene`` (the WebGL viewer's family when the job starts) adds that family's
``[scenes]`` style preset to ``{style}``, so the image suits the shader it is projected through.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import VisualsError
from .state import QUADRANTS, quadrant

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - 3.10
    import tomli as tomllib  # type: ignore[no-redef]

PLACEHOLDERS = ("subject", "style", "tempo", "instruments", "emotion", "vocals", "params", "key", "genre")
_FIELD = re.compile(r"\{([a-z_]+)\}")


@dataclass
class PromptTemplates:
    """Parsed prompt templates (see ``s2s_live/data/prompts.toml``)."""

    template: str
    negative: str
    default: dict
    genres: dict[str, dict]
    tempo: list[tuple[float, str]]
    emotions: dict[str, list[str]]
    voice: dict = field(default_factory=dict)
    params: list[dict] = field(default_factory=list)
    tempo_energy: list[tuple[float, str, int]] = field(default_factory=list)
    scenes: dict[str, str] = field(default_factory=dict)  #: scene family -> style words

    def with_template(self, template: str | None = None, negative: str | None = None) -> "PromptTemplates":
        """A copy with a new template and/or negative prompt (checked like a loaded file)."""
        if template is not None:
            check_template(template)
        return PromptTemplates(
            template if template is not None else self.template,
            negative if negative is not None else self.negative,
            self.default, self.genres, self.tempo, self.emotions, self.voice, self.params, self.tempo_energy,
            self.scenes,
        )


def check_template(template: str) -> None:
    """Raise ValueError when ``template`` is not a string or uses an unknown placeholder."""
    if not isinstance(template, str):
        raise ValueError(f"template must be a string, got {type(template).__name__}")
    if len(template) > 2000:
        raise ValueError(f"template is {len(template)} characters long; at most 2000 are accepted")
    for name in _FIELD.findall(template):
        if name not in PLACEHOLDERS:
            raise ValueError(f"template placeholder {{{name}}} is unknown; accepted: "
                             + ", ".join("{%s}" % p for p in PLACEHOLDERS))


def load_templates(path: str | Path | None = None) -> PromptTemplates:
    """Load prompt templates from a TOML file (None = the packaged default).

    Raises VisualsError naming the file and the problem when it is missing or malformed.
    """
    try:
        if path is None:
            text = resources.files("s2s_live").joinpath("data/prompts.toml").read_text(encoding="utf-8")
            where = "packaged prompts.toml"
        else:
            text = Path(path).read_text(encoding="utf-8")
            where = str(path)
    except (FileNotFoundError, IsADirectoryError):
        raise VisualsError(f"prompt templates file {str(path)!r} does not exist") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise VisualsError(f"prompt templates {where} is not valid TOML: {exc}") from None
    try:
        template = str(data["template"])
        check_template(template)
        tempo_e = sorted((float(t["max_bpm"]), str(t["words"]), _ENERGY.get(str(t.get("energy", "")).lower(), 0))
                         for t in data.get("tempo", []))
        tempo = [(m, w) for m, w, _ in tempo_e]
        emotions = {q: [str(w) for w in data.get("emotions", {}).get(q, [])] for q in QUADRANTS}
        genres = {str(k).lower(): dict(v) for k, v in data.get("genres", {}).items()}
        return PromptTemplates(
            template=template,
            negative=str(data.get("negative", "")),
            default=dict(data.get("default", {"subject": "abstract shapes", "style": ""})),
            genres=genres,
            tempo=tempo,
            emotions=emotions,
            voice=dict(data.get("voice", {})),
            params=[dict(p) for p in data.get("params", [])],
            tempo_energy=tempo_e,
            scenes={str(k): str(v) for k, v in data.get("scenes", {}).items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise VisualsError(f"prompt templates {where} are malformed: {exc!r}") from None


_ENERGY = {"high": 1, "low": -1}


def emotion_energy(state: Mapping[str, Any]) -> int:
    """+1 for a high-arousal emotion (happy, tense), -1 for low (sad, calm), 0 when unknown."""
    q = state.get("emotion")
    if q not in QUADRANTS:
        return 0
    return 1 if q in ("happy", "tense") else -1


def entry_energy(entry: Mapping[str, Any]) -> int:
    """Declared energy of a genre scene: +1 high, -1 low, 0 neutral/undeclared."""
    return _ENERGY.get(str(entry.get("energy", "")).lower(), 0)


def tempo_energy(bpm: float, templates: PromptTemplates) -> int:
    if not bpm or bpm <= 0 or not templates.tempo:
        return 0
    for max_bpm, _words, energy in templates.tempo_energy:
        if bpm <= max_bpm:
            return energy
    return templates.tempo_energy[-1][2]


def tempo_words(bpm: float, templates: PromptTemplates) -> str:
    """Tempo category words for ``bpm`` (0 or less = unknown -> "")."""
    if not bpm or bpm <= 0:
        return ""
    for max_bpm, words in templates.tempo:
        if bpm <= max_bpm:
            return words
    return templates.tempo[-1][1] if templates.tempo else ""


def emotion_strength(valence: float, arousal: float) -> float:
    """Distance of (valence, arousal) in 0..1 from the neutral centre, scaled to 0..1."""
    return min(1.0, math.hypot(valence - 0.5, arousal - 0.5) / math.hypot(0.5, 0.5))


def emotion_words(valence: float, arousal: float, templates: PromptTemplates, label: str | None = None) -> str:
    """1..N words of the quadrant's list; more the stronger the emotion."""
    q = label if label in QUADRANTS else quadrant(valence, arousal)
    words = templates.emotions.get(q, [])
    if not words:
        return ""
    n = 1 + int(round(emotion_strength(valence, arousal) * (len(words) - 1)))
    return ", ".join(words[:n])


def param_words(params: Sequence[float], templates: PromptTemplates) -> str:
    out = []
    for p, spec in zip(params, templates.params):
        if p < 0.35 and spec.get("low"):
            out.append(str(spec["low"]))
        elif p > 0.65 and spec.get("high"):
            out.append(str(spec["high"]))
    return ", ".join(out)


def _join_instruments(ins: Sequence[str]) -> str:
    ins = [i for i in ins if i]
    if not ins:
        return ""
    if len(ins) == 1:
        return f"with {ins[0]}"
    return "with " + ", ".join(ins[:-1]) + f" and {ins[-1]}"


@dataclass(frozen=True)
class Prompt:
    """A built prompt: ``text``, ``negative`` and the ``parts`` it was made of (for the sidecar)."""

    text: str
    negative: str
    parts: dict


def build_prompt(state: Mapping[str, Any], templates: PromptTemplates, *,
                 params: Sequence[float] = ()) -> Prompt:
    """Build the prompt for a music state (see :mod:`s2s_live.visuals.state` for its keys).

    Empty parts are dropped with their separator, so an unknown genre/tempo/vocals never leaves
    ", ," in the text.
    """
    genre = state.get("genre")
    entry = templates.genres.get(str(genre).lower(), templates.default) if genre else templates.default
    mood = emotion_energy(state)
    subject = str(entry.get("subject", templates.default.get("subject", "")))
    if mood and entry_energy(entry) == -mood:
        alt = entry.get("calm_subject" if mood < 0 else "lively_subject")
        subject = str(alt) if alt else str(templates.default.get("subject", ""))
    tempo = tempo_words(float(state.get("bpm") or 0.0), templates)
    if mood and tempo_energy(float(state.get("bpm") or 0.0), templates) == -mood:
        tempo = ""
    vocals = state.get("vocals")
    voice = ""
    if vocals is not None:
        thr = float(templates.voice.get("threshold", 0.5))
        if vocals < thr:
            voice = str(templates.voice.get("instrumental", ""))
        else:
            lab = str(state.get("vocals_label") or "")
            kind = {"female vocals": "female", "male vocals": "male"}.get(lab, "vocals")
            voice = str(templates.voice.get(kind, templates.voice.get("vocals", "")))
    style = str(entry.get("style", templates.default.get("style", "")))
    scene_style = templates.scenes.get(str(state.get("scene") or ""), "")
    parts = {
        "subject": subject,
        "style": f"{style}, {scene_style}" if style and scene_style else style or scene_style,
        "tempo": tempo,
        "instruments": _join_instruments(state.get("instruments") or ()),
        "emotion": emotion_words(float(state.get("valence", 0.5)), float(state.get("arousal", 0.5)),
                                 templates, state.get("emotion")) if state.get("emotion") else "",
        "vocals": voice,
        "params": param_words([float(p) for p in params], templates),
        "key": str(state.get("key") or ""),
        "genre": str(genre or ""),
    }
    text = _FIELD.sub(lambda m: parts.get(m.group(1), ""), templates.template)
    # Drop the separators of empty parts: ", ," -> ",", trailing/leading commas, double spaces.
    chunks = [c.strip() for c in text.split(",")]
    text = ", ".join(c for c in chunks if c)
    text = re.sub(r"\s{2,}", " ", text)
    return Prompt(text=text, negative=templates.negative, parts=parts)
