"""Command line: ``s2s-live devices | run | demo | doctor | warmup | analyze | similar | train | vae | dataset``.

Errors users will hit (unknown device, unsupported rate, not an audio file, port in use, bad
config) print one line and exit with status 2; Ctrl-C stops everything within a second.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import __version__
from .config import Config
from .errors import ConfigError, S2SError


def _add_run_options(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--device", help="input device index or name substring (see `s2s-live devices`)")
    src.add_argument("--file", help="stream an audio file (wav/flac/ogg/mp3) in real time")
    src.add_argument("--synth", action="store_true", help="the built-in synthetic music (no device)")
    p.add_argument("--loop", action="store_true", help="loop --file")
    p.add_argument("--samplerate", type=int, help="capture sample rate in Hz (default: the device's)")
    p.add_argument("--blocksize", type=int, help="frames per audio callback (default 256)")
    p.add_argument("--channels", help="comma-separated 0-based input channels to mix (default: all)")
    p.add_argument("--hop", type=float, help="seconds between analysis frames (default 0.25)")
    p.add_argument("--window", type=float, help="seconds of rolling recipe statistics (default 30)")
    p.add_argument("--target", action="append", metavar="HOST:PORT[:PROFILE]",
                   help="OSC target, repeatable (default 127.0.0.1:9000:s2s)")
    p.add_argument("--control-port", type=int, help="control server UDP port (default 9001; 0 = off)")
    p.add_argument("--control-host", help="control interface (default 127.0.0.1; others must be explicit)")
    p.add_argument("--allow-target", action="append", metavar="IP_OR_NET",
                   help="non-loopback address or CIDR network that /s2s/targets/add may name at run time, "
                        "repeatable (default: loopback only; broadcast/multicast only when named)")
    p.add_argument("--wek-port", type=int, help="listen for Wekinator's /wek/outputs on this port (12000; 0 = off)")
    p.add_argument("--mapper", action="store_true",
                   help="run the Wekinator-compatible mapper (docs/mapping.md): record, train, run over OSC")
    p.add_argument("--mapper-port", type=int, help="port of the mapper's /wekinator/control/* (default 6448; 0 = off)")
    p.add_argument("--map-input", action="append", metavar="OUTPUT",
                   help="an output the mapper reads (e.g. level, features/centroid, tags/msd), repeatable, in order")
    p.add_argument("--map-output", action="append", metavar="NAME[:ALGO[:CLASSES]]",
                   help="a mapper output, repeatable (e.g. x:knn, mood:logistic:3; default one 'out1:mlp')")
    p.add_argument("--map-target", action="append", metavar="HOST:PORT",
                   help="receiver of /wek/outputs, repeatable (default 127.0.0.1:12000)")
    p.add_argument("--map-load", metavar="NAME", help="load (and run) a saved mapping at start")
    p.add_argument("--midi-out", metavar="PORT", help="send genre/emotion/level as MIDI CC (port name; else virtual)")
    p.add_argument("--midi-in", metavar="PORT", help="MIDI control input: a note triggers an image, a CC sets smoothing")
    p.add_argument("--midi-api", choices=("jack", "alsa", "coremidi"), help="rtmidi backend (default: platform's)")
    p.add_argument("--midi-channel", type=int, help="MIDI channel 1..16 for the CCs sent (default 1)")
    p.add_argument("--visuals", choices=("procedural", "diffusers", "none"), help="visuals backend")
    p.add_argument("--visuals-model", metavar="PATH_OR_ID", help="local diffusers model folder or cached id")
    p.add_argument("--web-port", type=int, help="web viewer port (default 8765; 0 = off)")
    p.add_argument("--out-dir", help="where generated images go (default ./s2s_out)")
    p.add_argument("--dataset-root", help="folder of the operator page's datasets (default "
                                          "$XDG_DATA_HOME/s2s_live/datasets)")
    p.add_argument("--visuals-keep", type=int, metavar="N",
                   help="images kept in --out-dir, oldest deleted first (default 2000; 0 = no limit)")
    p.add_argument("--seconds", type=float, help="stop N seconds after the first frame (default: run until Ctrl-C)")
    p.add_argument("--quiet", action="store_true", help="no live terminal view")
    p.add_argument("--config", help="TOML config file (flags override it)")


#: flags of ``run``/``demo`` that set the setting of the same name when given
RUN_FLAGS = ("loop", "samplerate", "blocksize", "hop", "window", "control_port", "control_host", "visuals",
             "visuals_model", "web_port", "out_dir", "dataset_root", "seconds", "wek_port", "midi_out", "midi_in",
             "midi_api", "midi_channel", "visuals_keep", "mapper_port", ("map_load", "mapper_load"))


def config_from_args(args: argparse.Namespace, *, demo: bool = False) -> Config:
    """Merge defaults, the optional TOML file and the flags (flags win)."""
    over: dict = {}
    if demo:
        over.update(source="synth", visuals="procedural")
    if args.device is not None:
        over.update(source="device", device=args.device)
    if args.file is not None:
        over.update(source="file", file=args.file)
    if args.synth:
        over["source"] = "synth"
    if args.channels:
        try:
            over["channels"] = [int(c) for c in args.channels.split(",")]
        except ValueError:
            raise ConfigError(f"--channels={args.channels!r} is invalid; expected e.g. 0 or 0,1") from None
    if args.quiet:
        over["quiet"] = True
    for flag, key in (("map_input", "mapper_inputs"), ("map_output", "mapper_outputs"), ("map_target", "mapper_targets")):
        if getattr(args, flag, None):
            over[key] = list(getattr(args, flag))
    if getattr(args, "mapper", False) or getattr(args, "map_load", None):
        over["mapper"] = True
    if args.target:
        over["targets"] = list(args.target)
    if getattr(args, "allow_target", None):
        over["targets_allow"] = list(args.allow_target)
    return Config.from_args(args, RUN_FLAGS, **over)


def cmd_devices(args) -> int:
    from .capture.portaudio import list_input_devices

    devs = list_input_devices()
    if not devs:
        print("no audio input devices (use --file or --synth, or start a sound server such as JACK)")
        return 0
    print(f"{'idx':>3}  {'name':<40} {'host api':<28} {'ch':>3} {'rate':>7}")
    for d in devs:
        print(f"{d['index']:>3}  {d['name'][:40]:<40} {d['hostapi'][:28]:<28} {d['channels']:>3} {d['samplerate']:>7.0f}")
    return 0


class _StartInterrupted(BaseException):
    """Raised by the signal handler while ``Engine.start()`` runs, to unwind it at once.

    Not KeyboardInterrupt: when that passes through code a C extension runs with
    ``PyRun_String`` (as during librosa's first import), CPython 3.11 remembers it as unhandled
    even after it is caught, and the process then kills itself with SIGINT at exit (status -2
    instead of 0; seen once in ~14 stops during a cold start). A BaseException subclass also
    passes through libraries' ``except Exception``.
    """


def run_engine(cfg: Config) -> int:
    """Start the engine, show the live view, stop on Ctrl-C/SIGTERM/--seconds/end of file.

    With a cold kernel cache the engine compiles for ~30 s before the first frame: that is said
    before the wait (and shown with progress in the live view and ``/s2s/status``), a signal
    during it stops at once, and ``--seconds`` counts from the first frame.
    """
    import time

    from .inference import card as modelcard
    from .engine import Engine
    from .liveview import LiveView

    engine = Engine(cfg)
    stop = threading.Event()
    starting = [True]
    interrupted = [False]

    def on_signal(signum, frame):  # noqa: ARG001
        stop.set()
        if starting[0] and not interrupted[0]:
            # engine.start() may be compiling kernels for half a minute: unwind it now (start()
            # stops whatever it had opened) rather than after the wait.
            interrupted[0] = True
            raise _StartInterrupted

    old_int = signal.signal(signal.SIGINT, on_signal)
    old_term = signal.signal(signal.SIGTERM, on_signal)
    view = None

    def opened(eng) -> None:
        nonlocal view
        targets = ", ".join(t.spec for t in eng.osc.targets)
        ctl = f"; control on {cfg.control_host}:{eng.control.port}" if eng.control else ""
        web = ""
        if cfg.visuals != "none" and cfg.web_port:
            web_url = f"http://127.0.0.1:{cfg.web_port}/"
            web = f"; viewer {web_url} (operator page: {web_url}control)"
        print(f"s2s-live {__version__}: {eng.source.label} at {eng.source.samplerate} Hz -> OSC {targets}{ctl}{web}",
              flush=True)
        for problem in modelcard.incomplete_folders(cfg.models_dir):
            print(f"s2s-live: warning: {problem}", file=sys.stderr, flush=True)
        prep = eng.preparation
        if prep is not None:
            where = prep.state.folder or "numba's default cache"
            print(f"{prep.message()} (kept in {where}; `s2s-live warmup` does this ahead of a show)", flush=True)
        if not cfg.quiet:
            view = LiveView(eng)
            view.start()

    try:
        try:
            engine.start(on_open=opened)
            starting[0] = False
        except _StartInterrupted:
            pass
        while not stop.is_set() and not engine.finished.is_set():
            if cfg.seconds is not None:
                # from the first frame; from the start of audio if no frame comes (dead input)
                t0 = engine.t_first_frame or engine.t_streaming
                if t0 is not None and time.perf_counter() - t0 >= cfg.seconds:
                    break
            stop.wait(0.05)
    finally:
        starting[0] = False
        if view is not None:
            view.stop()
        engine.stop()
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
    prep = engine.preparation
    if interrupted[0] and prep is not None and engine.t_streaming is None:
        print(f"stopped while preparing DSP kernels: {len(prep.compiled)} of {len(prep.expected)} compiled "
              f"and cached; the rest compile on the next start (or run `s2s-live warmup`)", flush=True)
    c = engine.stats.counters
    frames = engine.pipeline.assembler.frames if engine.pipeline is not None else 0
    print(f"stopped: {max(frames, c.get('frames', 0))} frames, {c.get('dropped', 0)} dropped, "
          f"{c.get('osc_sent', 0)} OSC messages, {c.get('overflows', 0)} overflows", flush=True)
    return 0


def cmd_run(args) -> int:
    return run_engine(config_from_args(args))


def cmd_demo(args) -> int:
    return run_engine(config_from_args(args, demo=True))


def cmd_doctor(args) -> int:
    from .doctor import run_checks

    # doctor has only --config: the run flags that config_from_args reads do not exist here
    return run_checks(Config.from_toml(args.config) if args.config else Config())


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="s2s-live", description="Live audio understanding -> OSC for performers.")
    ap.add_argument("--version", action="version", version=f"s2s-live {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("devices", help="list audio input devices")
    p.set_defaults(func=cmd_devices)
    p = sub.add_parser("run", help="analyse live input and send OSC")
    _add_run_options(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("demo", help="the embedded default: synthetic music, OSC to 127.0.0.1:9000, visuals")
    _add_run_options(p)
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("doctor", help="self-test: audio, models, OSC loopback, visuals")
    p.add_argument("--config", help="TOML config file")
    p.set_defaults(func=cmd_doctor)
    for modname in ("s2s_live.warmup", "s2s_live.offline.cli", "s2s_live.train.commands", "s2s_live.dataset.commands"):
        try:
            mod = __import__(modname, fromlist=["register"])
        except ImportError as exc:
            if exc.name and exc.name.startswith("s2s_live"):
                continue  # the module is not part of this build
            raise
        if hasattr(mod, "register"):
            mod.register(sub)
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    try:
        rc = int(args.func(args) or 0)
    except S2SError as exc:
        print(f"s2s-live: error: {exc}", file=sys.stderr)
        rc = 2
    except KeyboardInterrupt:
        rc = 130
    return rc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
