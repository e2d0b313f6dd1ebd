"""``s2s-live dataset record|add|synth|show`` (argparse subcommands; the CLI calls :func:`register`)."""

from __future__ import annotations


def _print_written(items, folder) -> None:
    labels = sorted({c.label for c in items})
    print(f"wrote {len(items)} clips into {folder} (labels: {', '.join(labels) or '-'})")


def _cmd_record(a) -> int:
    from .store import record

    ch = None
    if a.channels:
        from ..errors import ConfigError

        try:
            ch = [int(c) for c in a.channels.split(",")]
        except ValueError:
            raise ConfigError(f"--channels={a.channels!r} is invalid; expected e.g. 0 or 0,1") from None
    items = record(a.dir, seconds=a.seconds, label=a.label, device=a.device, samplerate=a.samplerate,
                   channels=ch, blocksize=a.blocksize, log=None if a.quiet else print)
    _print_written(items, a.dir)
    return 0


def _cmd_add(a) -> int:
    from .store import add_files

    _print_written(add_files(a.dir, a.files, label=a.label, hop=a.hop), a.dir)
    return 0


def _cmd_synth(a) -> int:
    from .store import synth

    _print_written(synth(a.dir, n=a.n, kinds=a.kinds, seed=a.seed), a.dir)
    return 0


def _cmd_show(a) -> int:
    from .show import show

    res = show(a.dir, a.out, f0=a.f0, progress=not a.quiet)
    print(f"{len(res['rows'])} clips: {res['csv']}, {res['json']}, "
          f"{', '.join(str(p) for p in res['figures'])}; report {res['html']}")
    return 0


def register(subparsers) -> None:
    """Add ``dataset`` (record|add|synth|show) to an argparse subparsers object."""
    dp = subparsers.add_parser("dataset", help="build and look at a sound dataset for the timbre VAE (ASCIML)")
    ds = dp.add_subparsers(dest="dataset_cmd", required=True, metavar="ACTION")

    r = ds.add_parser("record", help="record the live input as 1-s Hamming-windowed 16 kHz clips")
    r.add_argument("dir", help="dataset folder (created if absent)")
    r.add_argument("--seconds", type=float, required=True, help="how long to record (1..3600 s; one clip a second)")
    r.add_argument("--label", default="live", help="label of the clips (default: live)")
    r.add_argument("--device", help="input device index or name substring (see `s2s-live devices`)")
    r.add_argument("--samplerate", type=int, help="capture rate in Hz (default: the device's)")
    r.add_argument("--channels", help="comma-separated 0-based input channels to mix (default: all)")
    r.add_argument("--blocksize", type=int, default=256, help="frames per audio callback (default 256)")
    r.add_argument("--quiet", action="store_true")
    r.set_defaults(func=_cmd_record)

    d = ds.add_parser("add", help="cut audio files into 1-s Hamming-windowed 16 kHz clips")
    d.add_argument("dir", help="dataset folder (created if absent)")
    d.add_argument("files", nargs="+", help="audio files (wav/flac/ogg/mp3)")
    d.add_argument("--label", default=None, help="label of the clips (default: each file's folder name)")
    d.add_argument("--hop", type=float, default=1.0, help="seconds between clip starts (0.1..10, default 1)")
    d.set_defaults(func=_cmd_add)

    s = ds.add_parser("synth", help="synthesise AM/FM/additive/subtractive sounds with ADSR envelopes")
    s.add_argument("dir", help="dataset folder (created if absent)")
    s.add_argument("--n", type=int, required=True, help="number of sounds (1..100000)")
    s.add_argument("--kinds", default="am,fm,additive,subtractive", help="comma-separated kinds, taken in turn")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=_cmd_synth)

    w = ds.add_parser("show", help="the clip table and ASCIML's figures (PCA, f0, centroid, envelopegram)")
    w.add_argument("dir", help="dataset folder")
    w.add_argument("--out", required=True, help="folder for table.csv/json, the PNGs and index.html")
    w.add_argument("--f0", choices=("pyin", "yin"), default="pyin",
                   help="f0 tracker: pyin (voicing-aware, ~0.6 s a clip) or yin (fast)")
    w.add_argument("--quiet", action="store_true", help="no progress bar")
    w.set_defaults(func=_cmd_show)
