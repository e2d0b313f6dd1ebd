#!/usr/bin/env python
"""Convert the pretrained musicnn taggers to ONNX: models/tagger-msd and models/tagger-mtt.

    pip download --no-deps musicnn==0.1.0 -d /tmp/mnn
    pip install tensorflow-cpu tf_keras tf2onnx onnx    # conversion only, never at run time
    TF_USE_LEGACY_KERAS=1 python scripts/convert_musicnn.py --wheel /tmp/mnn/musicnn-0.1.0-py3-none-any.whl \\
        --audio ../shared/data/4q_train/Q1/MT0000040632.mp3 ../shared/data/4q_train/Q3/... --out models

``--audio`` gives real recordings whose patches check ONNX against TensorFlow (recorded in the
cards, tags <= 1e-5 abs). Reference patches for the tests are made from the project's own
synthetic music (no recording is copied into the repository) and written to
tests/data/tagger_ref.npz with TensorFlow's outputs.
"""
import argparse
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from s2s_live.dsp import mel
from s2s_live.capture.synth import MusicSynth
from s2s_live.train import musicnn


def synthetic_patches(seed: int) -> np.ndarray:
    """Three 3-s patches (pop, techno, ballad) of the project's synthetic music, 16 kHz."""
    out = []
    for style in ("pop", "techno", "ballad"):
        s = MusicSynth(sr=mel.SR, seed=seed, section_seconds=30, styles=[style])
        y = np.zeros(mel.SR * 4, np.float32)
        s.render_into(y)
        out.append(mel.patches(columns=mel.logmel(y=y), step=10_000)[-1])
    return np.stack(out).astype(np.float32)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", required=True, help="musicnn-0.1.0 wheel, or the folder it was unpacked into")
    ap.add_argument("--audio", nargs="*", default=[], help="real recordings for the TF-vs-ONNX check")
    ap.add_argument("--out", default="models", help="models folder (default: models)")
    ap.add_argument("--ref", default="tests/data/tagger_ref.npz", help="reference outputs for the tests")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    musicnn.convert(a.wheel, a.out, a.audio, ref_out=a.ref, ref_patches=synthetic_patches(a.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
