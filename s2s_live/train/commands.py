"""``s2s-live train genre|emotion|heads|vae`` and ``s2s-live vae interpolate|reconstruct`` (argparse subcommands).

The CLI calls :func:`register` with its subparsers; each command sets ``func`` to a handler taking
the parsed namespace and returning an exit code. ``scripts/train_*.py`` call :func:`main`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _default_models_dir() -> str:
    from ..config import DEFAULT_MODELS_DIR

    return str(DEFAULT_MODELS_DIR)


def _cmd_genre(a) -> int:
    from . import genre, mlp

    p = mlp.MLPParams(max_epochs=a.epochs) if a.epochs else mlp.MLPParams()
    card = genre.train(a.data, Path(a.out) / a.name, seed=a.seed, folds=a.folds, params=p,
                       progress=not a.quiet, name=a.name)
    m = card["metrics"]
    if "cv_accuracy" in m:
        print(f"{a.name}: {m['cv_folds']}-fold CV accuracy {m['cv_accuracy']:.3f} "
              f"(folds {', '.join(f'{x:.3f}' for x in m['cv_fold_accuracy'])}); wrote {Path(a.out) / a.name}")
    return 0


def _cmd_emotion(a) -> int:
    from . import emotion

    card = emotion.train(a.data, Path(a.out) / a.name, seed=a.seed, folds=a.folds, progress=not a.quiet,
                         name=a.name, cache_dir=a.cache)
    m = card["metrics"]
    print(f"{a.name}: artist-disjoint {m.get('cv_folds')}-fold accuracy model {m.get('cv_accuracy', float('nan')):.3f}, "
          f"rules {m.get('rules_cv_accuracy', float('nan')):.3f}; wrote {Path(a.out) / a.name}")
    return 0


def _cmd_heads(a) -> int:
    from . import heads

    res = heads.train(a.data, a.out, models_dir=a.models_dir or a.out, seed=a.seed, folds=a.folds, C=a.C,
                      genre_context=a.genre_context, emotion_context=a.emotion_context,
                      patch_s=a.patch, cache_dir=a.cache,
                      log=(lambda *_: None) if a.quiet else print)
    g, e = res["cards"]["genre"]["metrics"], res["cards"]["emotion"]["metrics"]
    print(f"genre: six-class {g['genre_six_accuracy']:.3f} ({g['genre_six_n']} clips), emotion: quadrant "
          f"{e['quadrant_accuracy']:.3f} (artist-disjoint {a.folds}-fold); wrote {a.out}/genre and {a.out}/emotion")
    return 0


def _cmd_vae(a) -> int:
    from . import vae

    p = vae.VAEParams.preset(a.preset)
    if a.epochs:
        p.epochs = a.epochs
    if a.time_budget:
        p.time_budget_s = a.time_budget
    card = vae.train(a.data, a.out, seed=a.seed, params=p, progress=not a.quiet, cache_dir=a.cache, init=a.init)
    m = card["metrics"]
    print("VAE: " + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in m.items()
                              if k != "loss_curve") + f"; wrote {a.out}/encoder and {a.out}/decoder")
    return 0


def _cmd_interpolate(a) -> int:
    from .interpolate import interpolate_files

    if a.data:  # two dataset items by name
        from ..dataset.store import find

        a.a, a.b = (str(find(a.data, n).path) for n in (a.a, a.b))
    paths = interpolate_files(a.a, a.b, steps=a.steps, out_dir=a.out, sr=a.sr,
                              models_dir=a.models_dir, encoder=a.encoder, decoder=a.decoder)
    for p in paths:
        print(p)
    return 0


def _cmd_reconstruct(a) -> int:
    from .reconstruct import reconstruct

    rows = reconstruct(a.dir, a.out, models_dir=a.models_dir, encoder=a.encoder, decoder=a.decoder, limit=a.limit)
    med = {k: sorted(r[k] for r in rows)[len(rows) // 2] for k in ("snr_db", "mrstft_db") if k in rows[0]}
    print(f"{len(rows)} original/reconstruction pairs in {a.out} (NAME.orig.wav, NAME.recon.wav); median "
          + ", ".join(f"{k} {v:.2f}" for k, v in med.items()) + f"; per clip in {a.out}/reconstruct.csv")
    return 0


def register(subparsers) -> None:
    """Add ``train`` (genre|emotion|vae) and ``vae`` (interpolate) to an argparse subparsers object."""
    tr = subparsers.add_parser("train", help="train a shipped model (needs the 'train' extra)")
    ts = tr.add_subparsers(dest="model", required=True)

    def common(p, data_help):
        p.add_argument("--data", required=True, help=data_help)
        p.add_argument("--out", default=_default_models_dir(), help="models folder to write into (default: %(default)s)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    g = ts.add_parser("genre", help="genre MLP on GTZAN-style descriptor statistics")
    common(g, "GTZAN-style features CSV (features_30_sec.csv) or a folder DIR/<genre>/<audio files>")
    g.add_argument("--name", default="genre-gtzan")
    g.add_argument("--folds", type=int, default=5, help="cross-validation folds by track (0 = none)")
    g.add_argument("--epochs", type=int, default=0, help="max epochs (0 = default 300, early stopping)")
    g.set_defaults(func=_cmd_genre)

    e = ts.add_parser("emotion", help="Russell-quadrant model on the 4Q clips")
    common(e, "the 4q_train folder (index.csv + Q1..Q4)")
    e.add_argument("--name", default="emotion-stats")
    e.add_argument("--folds", type=int, default=5, help="artist-disjoint folds")
    e.add_argument("--cache", default=None, help="feature/decode cache (default ~/.cache/s2s_live)")
    e.set_defaults(func=_cmd_emotion)

    h = ts.add_parser("heads", help="genre and emotion heads on the taggers' outputs (4Q clips)")
    common(h, "the 4q_train folder (index.csv + Q1..Q4)")
    h.add_argument("--models-dir", default=None, help="folder holding tagger-msd and tagger-mtt (default: --out)")
    h.add_argument("--folds", type=int, default=5, help="artist-disjoint folds for the metrics")
    h.add_argument("--C", type=float, default=0.01, help="inverse L2 strength of the logistic regressions")
    h.add_argument("--genre-context", type=float, default=3.0, help="rolling context of the genre head (s)")
    h.add_argument("--emotion-context", type=float, default=3.0, help="rolling context of the emotion head (s)")
    h.add_argument("--patch", type=float, default=3.0,
                   help="seconds of newest audio per tagger patch, 1..3 (the engine's tagger_patch)")
    h.add_argument("--cache", default=None, help="decode/tag cache (default ~/.cache/s2s_live)")
    h.set_defaults(func=_cmd_heads)

    v = ts.add_parser("vae", help="timbre VAE (encoder + decoder) on 1-s 16 kHz frames")
    common(v, "the 4q_train folder (music frames; synthetic sounds are added), or a dataset folder "
              "(`s2s-live dataset`: its clips alone)")
    v.add_argument("--preset", default="compact", choices=["compact", "asciml", "tiny"])
    v.add_argument("--epochs", type=int, default=0)
    v.add_argument("--time-budget", type=float, default=0.0, help="stop after this many seconds of training")
    v.add_argument("--cache", default=None)
    v.add_argument("--init", default=None, metavar="ENCODER_DIR",
                   help="fine-tune this trained encoder (e.g. models/encoder; its 'decoder' beside it) "
                        "instead of starting from random weights; its architecture replaces --preset's")
    v.set_defaults(func=_cmd_vae)

    vp = subparsers.add_parser("vae", help="VAE generation tools")
    vs = vp.add_subparsers(dest="vae_cmd", required=True)
    it = vs.add_parser("interpolate", help="decode points between the latents of two sounds")
    it.add_argument("a", help="first sound (any soundfile format), or a clip name with --data")
    it.add_argument("b", help="second sound, or a clip name with --data")
    it.add_argument("--data", default=None, metavar="DATASET_DIR", help="take A and B as clip names in this dataset")
    it.add_argument("--steps", type=int, default=8, help="number of sounds written, including both ends (2..256)")
    it.add_argument("--out", required=True, help="folder for step_00.wav ...")
    it.add_argument("--sr", type=int, default=16000, help="sample rate of the written files (8000..192000 Hz)")
    _add_vae_models(it)
    it.set_defaults(func=_cmd_interpolate)
    rc = vs.add_parser("reconstruct", help="original/reconstruction WAV pairs of a dataset's clips, to listen to")
    rc.add_argument("dir", help="dataset folder (`s2s-live dataset`)")
    rc.add_argument("--out", required=True, help="folder for NAME.orig.wav / NAME.recon.wav and reconstruct.csv")
    rc.add_argument("--limit", type=int, default=0, help="only the first N clips (0 = all)")
    _add_vae_models(rc)
    rc.set_defaults(func=_cmd_reconstruct)


def _add_vae_models(p) -> None:
    """The encoder/decoder pair options shared by ``vae interpolate`` and ``vae reconstruct``."""
    p.add_argument("--models-dir", default=_default_models_dir())
    p.add_argument("--encoder", default="encoder", help="encoder model name under --models-dir")
    p.add_argument("--decoder", default="decoder", help="decoder model name under --models-dir")


def main(argv=None, prog: str = "s2s-live", record: str | None = None) -> int:
    """Stand-alone entry (scripts/train_*.py): ``main(["train", "genre", "--data", ...])``.

    ``record`` is the command line written into model cards (default: ``prog`` + ``argv``)."""
    from ..errors import S2SError
    from . import export

    ap = argparse.ArgumentParser(prog=prog)
    register(ap.add_subparsers(dest="command", required=True))
    a = ap.parse_args(argv)
    if argv is not None:
        export.COMMAND = record or " ".join([prog, *map(str, argv)])
    try:
        return a.func(a)
    except (S2SError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        export.COMMAND = None
