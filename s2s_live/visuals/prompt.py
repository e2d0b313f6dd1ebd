"""Prompt builder after Sound to Something: genre, tempo, instruments, emotion, vocals -> text.

Templates live in a TOML file (the packaged ``s2s_live/data/prompts.toml`` by default; see its
comments for every placeholder). :func:`build_prompt` is pure and cheap (microseconds), so it
runs in the visuals process for each job, with the latest music state.

Continuous values weight the parts: the emotion's strength (distance of valence/arousal from the
neutral centre, 0..1) sets how many emotion words are used, and each Wekinator output (0..1) adds
its ``low`` or ``high`` words only when it is clearly away from the middle.
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

    def with_template(self, template: str | None = None, negative: str | None = None) -> "PromptTemplates":
        """A copy with a new template and/or negative prompt (checked like a loaded file)."""
        if template is not None:
            check_template(template)
        return PromptTemplates(
            template if template is not None else self.template,
            negative if negative is not None else self.negative,
            self.default, self.genres, self.tempo, self.emotions, self.voice, self.params,
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
        tempo = sorted((float(t["max_bpm"]), str(t["words"])) for t in data.get("tempo", []))
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
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise VisualsError(f"prompt templates {where} are malformed: {exc!r}") from None


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
    vocals = state.get("vocals")
    voice = ""
    if vocals is not None:
        thr = float(templates.voice.get("threshold", 0.5))
        voice = str(templates.voice.get("vocals" if vocals >= thr else "instrumental", ""))
    parts = {
        "subject": str(entry.get("subject", templates.default.get("subject", ""))),
        "style": str(entry.get("style", templates.default.get("style", ""))),
        "tempo": tempo_words(float(state.get("bpm") or 0.0), templates),
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
