"""Settings of a run: one flat, typed object that rejects misspelled keys.

Every default is documented here, where it is defined. A TOML file may hold the same keys
(flat, or under a ``[s2s]`` table); command-line flags override it::

    hop = 0.25
    targets = ["127.0.0.1:9000:s2s", "127.0.0.1:6448:wekinator"]
    visuals = "procedural"
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .frames import check_hop
from .labels import check_smoothing
from .mapping.specs import check_config as _check_mapper
from .osc.checks import INTERVAL_RANGE, target_networks

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - 3.10
    import tomli as tomllib  # type: ignore[no-redef]

PACKAGE_DIR = Path(__file__).resolve().parent
#: Shipped models: ``<repo>/models`` in a checkout, else ``s2s_live/models`` when installed.
DEFAULT_MODELS_DIR = (PACKAGE_DIR.parent / "models") if (PACKAGE_DIR.parent / "models").is_dir() else PACKAGE_DIR / "models"


@dataclass
class Config:
    """All settings of ``s2s-live run``/``demo``; see the field comments for defaults and units."""

    # --- source -------------------------------------------------------------------------
    source: str = "device"  #: "device" | "file" | "synth"
    device: str | int | None = None  #: input device index or name substring; None = default
    file: str | None = None  #: audio file for source="file"
    loop: bool = False  #: loop the file
    samplerate: int | None = None  #: capture rate (Hz); None = the device's/file's own
    blocksize: int = 256  #: frames per PortAudio callback (0 = host's choice)
    channels: list[int] | None = None  #: 0-based input channels mixed to mono; None = all
    synth_styles: list[str] | None = None  #: synth section styles; None = all, cycling
    synth_section: float = 20.0  #: seconds per synth style section
    seed: int = 0  #: seed of the synth and of procedural visuals
    # --- analysis -----------------------------------------------------------------------
    hop: float = 0.25  #: seconds between analysis frames (0.01..1.0)
    window: float = 30.0  #: seconds of the rolling recipe statistics (genre features), 1..120
    smoothing: float = 0.5  #: exponential smoothing of model outputs per hop, 0 (none)..0.99
    hysteresis_margin: float = 0.2  #: a new top label must lead by this probability (0..1) ...
    hysteresis_hold: float = 1.0  #: ... for this many seconds before */changed fires (0..3600) ...
    hysteresis_fast: float | None = 0.3  #: ... or by this much once (margin..1; unset: never) (docs/models.md)
    tagger_interval: float = 0.5  #: seconds between tagged patches: 0 (every hop) or 0.05..10
    tagger_patch: float | None = None  #: s of newest audio per tagged patch, 1..3; None: as the heads' cards
    models_dir: str = str(DEFAULT_MODELS_DIR)  #: folder of shipped/custom models
    models: dict[str, str] = field(default_factory=dict)  #: slot -> model name under models_dir
    # --- OSC ----------------------------------------------------------------------------
    targets: list[str] = field(default_factory=lambda: ["127.0.0.1:9000:s2s"])  #: HOST:PORT[:PROFILE]
    prefix: str = "/s2s"  #: OSC address prefix of outgoing messages and control
    control_host: str = "127.0.0.1"  #: control server interface (loopback unless explicit)
    control_port: int = 9001  #: control server UDP port; 0 disables it
    control_allow: list[str] | None = None  #: sender IPs allowed to control; None = any
    #: Non-loopback destinations that /s2s/targets/add may name at run time: IP addresses or
    #: CIDR networks (e.g. ["192.168.1.0/24"]); broadcast and multicast addresses only when listed
    #: themselves (or, for multicast, a multicast network). None/[] = loopback only. Targets in
    #: ``targets`` (command line, config) are never restricted.
    targets_allow: list[str] | None = None
    wek_port: int = 0  #: UDP port of the /wek/outputs listener on control_host (Wekinator: 12000); 0 = off
    # --- mapper (s2s_live/mapping/, docs/mapping.md) --------------------------------------------
    mapper: bool = False  #: run the Wekinator-compatible mapper (record / train / run over OSC)
    mapper_port: int = 6448  #: UDP port of Wekinator's /wekinator/control/* on control_host; 0 = only /s2s/map/*
    #: outputs read every hop, concatenated in this order (names as in docs/osc.md, e.g. "level", "tags/msd")
    mapper_inputs: list[str] = field(default_factory=lambda: ["features/rms", "features/centroid",
                                                              "features/flatness", "features/mfcc"])
    #: the mapper's outputs, NAME[:ALGO[:CLASSES]]: ALGO knn|linear|ridge|mlp (continuous, default mlp),
    #: with CLASSES 2..64 a classifier, ALGO knn (default)|logistic
    mapper_outputs: list[str] = field(default_factory=lambda: ["out1"])
    mapper_targets: list[str] = field(default_factory=lambda: ["127.0.0.1:12000"])  #: receivers of /wek/outputs
    mapper_dir: str | None = None  #: saved mappings; None = $XDG_DATA_HOME/s2s_live/mappings (~/.local/share/...)
    mapper_load: str | None = None  #: a saved mapping to load at start (and run if it is trained)
    mapper_max_examples: int = 20000  #: examples kept at most, 10..1000000
    midi_out: str | None = None  #: MIDI output port (name or substring; else a virtual port); None = off
    midi_in: str | None = None  #: MIDI input port for control (notes -> image, CC -> smoothing); None = off
    midi_api: str = ""  #: rtmidi API: "" platform default | "jack" | "alsa" | "coremidi"
    midi_channel: int = 1  #: channel 1..16 of the CCs sent
    midi_cc: dict[str, int] | None = None  #: output name[/k] -> CC 0..119; None = midi.DEFAULT_CC
    midi_smoothing_cc: int = 1  #: incoming CC that sets smoothing (value/127*0.99), 0..119
    # --- visuals ------------------------------------------------------------------------
    visuals: str = "none"  #: "procedural" | "diffusers" | "none"
    visuals_model: str | None = None  #: local folder or cached id for diffusers
    web_port: int = 8765  #: web viewer port on 127.0.0.1; 0 disables it
    out_dir: str = "s2s_out"  #: where generated images are written
    #: root of the operator page's dataset folders (the page names a folder, never a path);
    #: None = $XDG_DATA_HOME/s2s_live/datasets (~/.local/share/s2s_live/datasets)
    dataset_root: str | None = None
    #: images kept in out_dir (with sidecars and loops), 0..1000000, 0 = no count limit; when a new
    #: image passes it, the oldest s2s images are deleted (never the newest, never other files)
    visuals_keep: int = 2000
    visuals_keep_mb: float = 500.0  #: ... and at most this many MB (1e6 bytes) of them, 0..1e6, 0 = no size limit
    visuals_auto: bool = True  #: a new image every visuals_interval seconds (besides genre/emotion changes)
    visuals_interval: float = 30.0  #: seconds between automatic images, 1..3600
    visuals_min_interval: float = 2.0  #: rate limit: seconds between image starts, 0..600
    visuals_size: int = 512  #: image width = height in px, multiple of 8 in 64..2048
    visuals_steps: int = 2  #: diffusion steps per image, 1..50 (sd-turbo: 1-4)
    visuals_guidance: float = 0.0  #: classifier-free guidance, 0..30 (0 for turbo models, ~7 classic SD)
    visuals_strength: float = 0.5  #: diffusers img2img continuity from the previous image: 0 off, 0.3..0.7 evolve
    visuals_device: str = "auto"  #: diffusers device: "auto" | "cpu" | "cuda[:N]"
    visuals_taesd: str | None = None  #: local TAESD folder for a faster decode on CUDA; None = model's VAE
    visuals_video: str | None = None  #: video mode: local Stable Video Diffusion folder (or cached id); None = off
    visuals_video_frames: int = 8  #: frames per loop, 2..25
    visuals_video_steps: int = 4  #: denoising steps per loop, 1..50
    visuals_prompts: str | None = None  #: prompt templates TOML; None = packaged data/prompts.toml
    visuals_live_fps: float = 20.0  #: live procedural animation in the web viewer, frames/s (0 off, <=60)
    # --- run ----------------------------------------------------------------------------
    seconds: float | None = None  #: stop after this many seconds; None = until Ctrl-C
    quiet: bool = False  #: no live terminal view

    # ------------------------------------------------------------------------------------
    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def update(self, **kw: Any) -> "Config":
        """Set keys in place; unknown keys raise ConfigError with the closest valid name."""
        valid = self.keys()
        for k, v in kw.items():
            if k not in valid:
                close = difflib.get_close_matches(k, valid, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"unknown setting {k!r}{hint} (valid: {', '.join(valid)})")
            setattr(self, k, v)
        self.validate()
        return self

    @classmethod
    def from_args(cls, args: Any, flags: Any = (), **over: Any) -> "Config":
        """The command line's config: the TOML file named by ``args.config`` (if any), then each of
        ``over`` (settings the command derives itself, e.g. the demo's source), then each of
        ``flags`` the user gave (a value other than None/False) onto its setting: flags win.
        ``flags`` are attribute names of ``args`` equal to the setting's name, or ``(flag, key)``
        pairs. Every command builds its Config here, so a flag means the same in all of them."""
        cfg = cls.from_toml(args.config) if getattr(args, "config", None) else cls()
        kw: dict = dict(over)
        for f in flags:
            flag, key = (f, f) if isinstance(f, str) else f
            v = getattr(args, flag, None)
            if v is not None and v is not False:
                kw[key] = v
        if kw:
            cfg.update(**kw)
        return cfg

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> "Config":
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {str(p)!r} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {str(p)!r} is not valid TOML: {exc}") from None
        if "s2s" in data and isinstance(data["s2s"], dict):
            data = data["s2s"]
        cfg = cls()
        cfg.update(**data)
        cfg.update(**overrides)
        return cfg

    def validate(self) -> None:
        def bad(name, value, expected):
            raise ConfigError(f"{name}={value!r} is invalid; expected {expected}")

        if self.source not in ("device", "file", "synth"):
            bad("source", self.source, '"device", "file" or "synth"')
        check_hop(self.hop)
        if not isinstance(self.window, (int, float)) or not 1.0 <= self.window <= 120.0:
            bad("window", self.window, "seconds in 1..120")
        check_smoothing(self.smoothing)
        ti = self.tagger_interval
        if isinstance(ti, bool) or not isinstance(ti, (int, float)) or not (ti == 0 or 0.05 <= ti <= 10.0):
            bad("tagger_interval", ti, "0 (every hop) or seconds in 0.05..10")
        tp = self.tagger_patch
        if tp is not None and (isinstance(tp, bool) or not isinstance(tp, (int, float)) or not 1.0 <= tp <= 3.0):
            bad("tagger_patch", tp, "seconds in 1.0..3.0 (or unset: the heads' cards decide)")
        if not isinstance(self.hysteresis_margin, (int, float)) or not 0.0 <= self.hysteresis_margin <= 1.0:
            bad("hysteresis_margin", self.hysteresis_margin, "a probability in 0..1")
        if not isinstance(self.hysteresis_hold, (int, float)) or not 0.0 <= self.hysteresis_hold <= 3600.0:
            bad("hysteresis_hold", self.hysteresis_hold, "seconds in 0..3600")
        hf = self.hysteresis_fast
        if hf is not None and (isinstance(hf, bool) or not isinstance(hf, (int, float))
                               or not self.hysteresis_margin <= hf <= 1.0):
            bad("hysteresis_fast", hf, f"a probability in hysteresis_margin..1 ({self.hysteresis_margin:g}..1), or unset")
        if not isinstance(self.blocksize, int) or not 0 <= self.blocksize <= 16384:
            bad("blocksize", self.blocksize, "frames in 0..16384")
        if self.samplerate is not None and (not isinstance(self.samplerate, int) or not 8000 <= self.samplerate <= 384000):
            bad("samplerate", self.samplerate, "Hz in 8000..384000")
        if self.visuals not in ("procedural", "diffusers", "none"):
            bad("visuals", self.visuals, '"procedural", "diffusers" or "none"')
        for name, (lo, hi) in (("visuals_interval", INTERVAL_RANGE), ("visuals_min_interval", (0.0, 600.0)),
                               ("visuals_live_fps", (0.0, 60.0)), ("visuals_strength", (0.0, 0.99)),
                               ("visuals_guidance", (0.0, 30.0))):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                bad(name, v, f"a number in {lo:g}..{hi:g}")
        for name, lo, hi in (("visuals_steps", 1, 50), ("visuals_video_frames", 2, 25), ("visuals_video_steps", 1, 50)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                bad(name, v, f"an integer in {lo}..{hi}")
        size = self.visuals_size
        if isinstance(size, bool) or not isinstance(size, int) or size % 8 or not 64 <= size <= 2048:
            bad("visuals_size", size, "a multiple of 8 in 64..2048")
        if self.visuals_video and self.visuals_video_frames * size > 16384:
            raise ConfigError(f"visuals_video_frames={self.visuals_video_frames} x visuals_size={size} is wider than "
                              "16384 px (the loop is one sprite sheet texture); use fewer frames or a smaller size")
        vk = self.visuals_keep
        if isinstance(vk, bool) or not isinstance(vk, int) or not 0 <= vk <= 1_000_000:
            bad("visuals_keep", vk, "a number of images in 0..1000000 (0 = no count limit)")
        vm = self.visuals_keep_mb
        if isinstance(vm, bool) or not isinstance(vm, (int, float)) or not 0 <= vm <= 1e6:
            bad("visuals_keep_mb", vm, "megabytes in 0..1000000 (0 = no size limit)")
        for name in ("control_port", "web_port", "wek_port", "mapper_port"):
            v = getattr(self, name)
            if not isinstance(v, int) or not 0 <= v <= 65535:
                bad(name, v, "a port in 0..65535 (0 disables)")
        if not isinstance(self.midi_channel, int) or not 1 <= self.midi_channel <= 16:
            bad("midi_channel", self.midi_channel, "a MIDI channel in 1..16")
        if self.midi_api not in ("", "jack", "alsa", "coremidi"):
            bad("midi_api", self.midi_api, '"", "jack", "alsa" or "coremidi"')
        if not isinstance(self.midi_smoothing_cc, int) or not 0 <= self.midi_smoothing_cc <= 119:
            bad("midi_smoothing_cc", self.midi_smoothing_cc, "a controller number in 0..119")
        if self.midi_cc is not None and (not isinstance(self.midi_cc, dict) or not all(
                isinstance(k, str) and isinstance(v, int) and 0 <= v <= 119 for k, v in self.midi_cc.items())):
            bad("midi_cc", self.midi_cc, 'a table of output name -> CC 0..119, e.g. {level = 20}')
        if not isinstance(self.prefix, str) or not self.prefix.startswith("/") or self.prefix.endswith("/"):
            bad("prefix", self.prefix, 'an OSC address like "/s2s"')
        if self.seconds is not None and (not isinstance(self.seconds, (int, float)) or self.seconds <= 0):
            bad("seconds", self.seconds, "a positive number of seconds")
        target_networks(self.targets_allow)
        if self.dataset_root is not None and (not isinstance(self.dataset_root, str) or not self.dataset_root.strip()):
            bad("dataset_root", self.dataset_root, "a folder path (or unset: $XDG_DATA_HOME/s2s_live/datasets)")
        if not isinstance(self.mapper, bool):
            bad("mapper", self.mapper, "true or false")
        _check_mapper(self)  # the mapper's settings: its validator, called from here only
