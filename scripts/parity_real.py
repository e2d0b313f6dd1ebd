"""Worst relative error per recipe feature, live (incremental) vs librosa, on real clips.

    python scripts/parity_real.py [DATA_DIR] [--clips 6] [--window 30] [--hop 0.25]

DATA_DIR defaults to ../shared/data/4q_train relative to the repository. Each clip is decoded
(soundfile), mixed to mono, resampled to 22050 Hz (soxr), streamed through RecipeStats with the
given hop, and the final rolling vector is compared with recipe_librosa on the same window.
Also prints the gap to librosa's *defaults* (mfcc top_db=80, estimated chroma tuning), which
is what the GTZAN CSV used. Nothing here is needed by the tests.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from s2s_live.dsp.spectral import SpectralStream
from s2s_live.features import RecipeStats
from s2s_live.pipeline import analyze_array
from s2s_live.features.recipe import GTZAN_FEATURES, recipe_librosa

SR = 22050


def defaults_gap(y: np.ndarray) -> dict[str, float]:
    """Relative difference of chroma/mfcc means between our recipe and librosa defaults."""
    import librosa

    ours = recipe_librosa(y)
    ch = librosa.feature.chroma_stft(y=y, sr=SR)
    mf = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20)
    ref = ours.copy()
    ref[0], ref[1] = np.mean(ch), np.var(ch)
    for q in range(20):
        ref[13 + 2 * q], ref[14 + 2 * q] = np.mean(mf[q]), np.var(mf[q])
    return dict(zip(GTZAN_FEATURES, np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-9)))


def main() -> None:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=str(here.parent / "shared" / "data" / "4q_train"))
    ap.add_argument("--clips", type=int, default=6)
    ap.add_argument("--window", type=float, default=30.0)
    ap.add_argument("--hop", type=float, default=0.25)
    a = ap.parse_args()
    import soundfile as sf
    import soxr

    files = sorted(Path(a.data).rglob("*.mp3"))[:: max(1, len(sorted(Path(a.data).rglob("*.mp3"))) // a.clips)][: a.clips]
    if not files:
        raise SystemExit(f"no .mp3 files under {a.data!r}")
    worst = np.zeros(len(GTZAN_FEATURES))
    gap = np.zeros(len(GTZAN_FEATURES))
    for f in files:
        y, sr = sf.read(str(f), dtype="float32", always_2d=True)
        y = y.mean(axis=1)
        y = soxr.resample(y, sr, SR).astype(np.float32)
        rs = RecipeStats(SpectralStream(history=a.window + 3), window=a.window, tempo_interval=0.0)
        row = analyze_array(y, SR, [rs], hop=a.hop)[-1]
        e = (int(round(row["time"] * SR)) // 512) * 512
        clip = y[max(0, e - rs.W):e].astype(np.float64)
        ref = recipe_librosa(clip)
        err = np.abs(row["recipe/gtzan"] - ref) / np.maximum(np.abs(ref), 1e-12)
        worst = np.maximum(worst, err)
        g = defaults_gap(clip)
        gap = np.maximum(gap, [g[k] for k in GTZAN_FEATURES])
        print(f"{f.relative_to(a.data)}: {len(clip) / SR:.1f} s, worst {GTZAN_FEATURES[int(np.argmax(err))]} {err.max():.2e}")
    print(f"\n{len(files)} clips, window {a.window} s, hop {a.hop} s")
    print(f"{'feature':26s} {'live vs recipe_librosa':>24s} {'recipe vs librosa defaults':>28s}")
    for k, name in enumerate(GTZAN_FEATURES):
        print(f"{name:26s} {worst[k]:24.2e} {gap[k]:28.2e}")


if __name__ == "__main__":
    main()
