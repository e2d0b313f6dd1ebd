"""ASCIML's generation mode: decode points on the line between the latents of two sounds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import AudioFileError, ModelError


def _load_16k(path) -> np.ndarray:
    import soundfile as sf
    import soxr

    try:
        y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise AudioFileError(f"cannot read {str(path)!r} as audio: {exc}") from None
    y = y.mean(axis=1)
    if sr != 16000:
        y = soxr.resample(y, sr, 16000, quality="VHQ").astype(np.float32)
    out = np.zeros(16000, np.float32)  # first second, zero-padded
    out[: min(16000, y.shape[0])] = y[:16000]
    return out


def load_vae(models_dir, *, encoder: str = "encoder", decoder: str = "decoder"):
    """The encoder and decoder (:class:`~s2s_live.inference.onnx.OnnxProcessor`, no smoothing) named
    under ``models_dir``; ModelError when either is missing or of the wrong kind."""
    from ..inference import card as modelcard
    from ..inference.onnx import OnnxProcessor

    enc = OnnxProcessor(modelcard.resolve(models_dir, encoder), smoothing=0.0)
    dec = OnnxProcessor(modelcard.resolve(models_dir, decoder), smoothing=0.0)
    if enc.card["kind"] != "encoder" or dec.card["kind"] != "decoder":
        raise ModelError(f"expected an encoder and a decoder, got kinds {enc.card['kind']!r}, {dec.card['kind']!r}")
    return enc, dec


def interpolate_files(a, b, *, steps: int = 8, out_dir, sr: int = 16000, models_dir, encoder: str = "encoder",
                      decoder: str = "decoder") -> list[Path]:
    """Encode the first second of ``a`` and ``b``, decode ``steps`` evenly spaced latents between
    them (ends included) and write ``out_dir/step_00.wav``... at ``sr`` Hz (soxr VHQ
    resampling from 16 kHz). Returns the written paths."""
    import soundfile as sf
    import soxr

    if not isinstance(steps, int) or not 2 <= steps <= 256:
        raise ValueError(f"steps={steps!r} is invalid; expected an int in 2..256")
    if not isinstance(sr, int) or not 8000 <= sr <= 192000:
        raise ValueError(f"sr={sr!r} is invalid; expected Hz in 8000..192000")
    enc, dec = load_vae(models_dir, encoder=encoder, decoder=decoder)
    za, zb = (enc.session.run(["mean"], {enc.in_name: _load_16k(p)[None, :]})[0] for p in (a, b))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, t in enumerate(np.linspace(0.0, 1.0, steps)):
        z = ((1 - t) * za + t * zb).astype(np.float32)
        y = dec.session.run(["audio"], {dec.in_name: z})[0][0]
        if sr != 16000:
            y = soxr.resample(y, 16000, sr, quality="VHQ")
        p = out / f"step_{i:02d}.wav"
        sf.write(str(p), np.clip(y, -1, 1).astype(np.float32), sr, subtype="FLOAT")
        paths.append(p)
    return paths
