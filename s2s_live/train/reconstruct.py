"""``vae reconstruct DIR``: each dataset clip and the VAE's reconstruction of it, as WAV pairs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..dataset.store import SR, clips


def reconstruct(folder, out, *, models_dir, encoder: str = "encoder", decoder: str = "decoder",
                limit: int = 0) -> list[dict]:
    """Encode every clip of the dataset ``folder`` (the first ``limit``, 1..100000, when > 0) to
    its latent mean and decode it; write ``out/NAME.orig.wav`` and ``out/NAME.recon.wav``
    (16 kHz float) and ``out/reconstruct.csv`` (per clip: label, waveform SNR in dB —
    near 0 for any VAE that does not keep phase — and, when torch is installed, the
    multi-resolution STFT distance in dB, the measure the VAE is trained on; see
    :mod:`s2s_live.train.vae`). Returns the CSV's rows."""
    import soundfile as sf

    from ..errors import ConfigError
    from .interpolate import load_vae
    from .vae import mrstft_distance, snr_db

    try:
        import torch  # noqa: F401  (the spectral distance only)
        spectral = True
    except ImportError:
        spectral = False

    if not isinstance(limit, int) or not 0 <= limit <= 100_000:
        raise ConfigError(f"limit={limit!r} is invalid; expected an int in 0..100000 (0 = all clips)")
    items = clips(folder)
    if limit:
        items = items[:limit]
    if not items:
        raise ConfigError(f"dataset {str(folder)!r} has no clips to reconstruct")
    enc, dec = load_vae(models_dir, encoder=encoder, decoder=decoder)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for c in items:
        y = c.audio()
        z = enc.session.run(["mean"], {enc.in_name: y[None, :]})[0]
        r = np.clip(dec.session.run(["audio"], {dec.in_name: z.astype(np.float32)})[0][0], -1, 1)
        sf.write(str(out / f"{c.name}.orig.wav"), y, SR, subtype="FLOAT")
        sf.write(str(out / f"{c.name}.recon.wav"), r.astype(np.float32), SR, subtype="FLOAT")
        row = {"name": c.name, "label": c.label, "snr_db": round(snr_db(y[None], r[None]), 3)}
        if spectral:
            row["mrstft_db"] = round(mrstft_distance(y[None], r[None].astype(np.float32)), 3)
        rows.append(row)
    with open(out / "reconstruct.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return rows
