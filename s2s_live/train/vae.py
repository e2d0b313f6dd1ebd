"""Timbre VAE after ASCIML: one-second 16 kHz waveforms <-> a 128-d latent.

Architecture (mirrored decoder): strided 1-D convolutions (stride 4) then dense layers to the
latent mean/log-variance. ASCIML's encoder used 64/128/256 filters of kernel 66; that costs about
1 GMAC per frame (~10 ms on one core) and 40 MB of weights, beyond the live budget (all models
<= 3 ms per hop, files <= 10 MB). The shipped compact default keeps ASCIML's first layer shape
(kernel 66, stride 4) and uses 16/32/64/32 filters (later kernels 16), 4 stages down to 62 steps,
then dense 1984 -> 256 -> 128. ``VAEParams(preset="asciml")`` builds the original widths.

Loss: waveform MSE + multi-resolution STFT loss (log-magnitude L1 at 3 FFT sizes; plain MSE on
waveforms alone yields near-silent blur) + beta·KL, beta warmed up from 0.

Exported graphs: ``encoder`` (``audio`` [1,16000] -> ``mean`` [1,128], ``xy`` [1,2]: a PCA
projection of the mean fitted on training latents, scaled by 1st/99th percentiles and clipped to
0..1) and ``decoder`` (``z`` [1,128] -> ``audio`` [1,16000] in -1..1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from . import export

SR = 16000
LENGTH = 16000
LATENT = 128


@dataclass
class VAEParams:
    channels: tuple[int, ...] = (16, 32, 64, 32)
    kernels: tuple[int, ...] = (66, 16, 16, 16)
    stride: int = 4
    hidden: int = 256
    latent: int = LATENT
    beta: float = 1e-3  #: KL weight after warm-up
    beta_warmup_steps: int = 500
    lr: float = 1e-3
    batch_size: int = 32
    epochs: int = 12
    frames_per_clip: int = 8  #: random 1-s frames per music clip per epoch
    n_synth: int = 2000  #: synthetic sounds (ASCIML generator)
    stft_sizes: tuple[int, ...] = (256, 1024, 2048)
    time_budget_s: float = 900.0  #: stop training after this much wall time (CPU)

    @classmethod
    def preset(cls, name: str) -> "VAEParams":
        if name == "compact":
            return cls()
        if name == "asciml":
            return cls(channels=(64, 128, 256), kernels=(66, 66, 66))
        if name == "tiny":  # tests
            return cls(channels=(4, 8, 8, 4), kernels=(66, 16, 16, 16), hidden=32, latent=8, epochs=1,
                       n_synth=64, frames_per_clip=2, batch_size=16, stft_sizes=(256, 512))
        raise ValueError(f"preset={name!r}; expected 'compact', 'asciml' or 'tiny'")

    def as_dict(self) -> dict:
        d = asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}

    def with_architecture_of(self, card: dict) -> "VAEParams":
        """These training settings with the layer shapes (channels, kernels, stride, hidden,
        latent) of a trained encoder's card, so that its weights fit (fine-tuning)."""
        hp = (card.get("training") or {}).get("hyperparameters") or {}
        arch = {k: (tuple(hp[k]) if isinstance(hp[k], list) else hp[k])
                for k in ("channels", "kernels", "stride", "hidden", "latent") if k in hp}
        return replace(self, **arch)


def _lengths(p: VAEParams) -> list[int]:
    L = [LENGTH]
    for k in p.kernels:
        pad = (k - p.stride) // 2
        L.append((L[-1] + 2 * pad - k) // p.stride + 1)
    return L


def build(p: VAEParams):
    """(encoder, decoder) torch modules. Encoder returns (mean, logvar); decoder z -> audio."""
    import torch
    from torch import nn

    L = _lengths(p)
    chans = (1,) + tuple(p.channels)
    flat = chans[-1] * L[-1]

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            layers = []
            for i, k in enumerate(p.kernels):
                layers += [nn.Conv1d(chans[i], chans[i + 1], k, stride=p.stride, padding=(k - p.stride) // 2),
                           nn.LeakyReLU(0.2)]
            self.conv = nn.Sequential(*layers)
            self.fc = nn.Sequential(nn.Linear(flat, p.hidden), nn.LeakyReLU(0.2))
            self.mean = nn.Linear(p.hidden, p.latent)
            self.logvar = nn.Linear(p.hidden, p.latent)

        def forward(self, x):  # x: (B, 16000)
            h = self.fc(self.conv(x.unsqueeze(1)).flatten(1))
            return self.mean(h), self.logvar(h)

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Sequential(nn.Linear(p.latent, p.hidden), nn.LeakyReLU(0.2),
                                    nn.Linear(p.hidden, flat), nn.LeakyReLU(0.2))
            layers = []
            n = len(p.kernels)
            for j in range(n):
                i = n - 1 - j  # mirror of encoder layer i: chans[i+1] -> chans[i], L[i+1] -> L[i]
                k = p.kernels[i]
                pad = (k - p.stride) // 2
                base = (L[i + 1] - 1) * p.stride - 2 * pad + k
                layers.append(nn.ConvTranspose1d(chans[i + 1], chans[i] if i > 0 else 8, k, stride=p.stride,
                                                 padding=pad, output_padding=L[i] - base))
                layers.append(nn.LeakyReLU(0.2))
            layers.append(nn.Conv1d(8, 1, 9, padding=4))  # smooth the transposed-conv checkerboard
            self.conv = nn.Sequential(*layers)

        def forward(self, z):
            h = self.fc(z).view(z.shape[0], chans[-1], L[-1])
            return torch.tanh(self.conv(h)).squeeze(1)

    return Encoder(), Decoder()


def stft_loss(x, y, sizes):
    """Mean over FFT sizes of L1 distance of log magnitudes (dB-like), batch averaged."""
    import torch

    total = 0.0
    for n in sizes:
        w = torch.hann_window(n, device=x.device)
        X = torch.stft(x, n, hop_length=n // 4, window=w, return_complex=True).abs()
        Y = torch.stft(y, n, hop_length=n // 4, window=w, return_complex=True).abs()
        total = total + (torch.log(X + 1e-5) - torch.log(Y + 1e-5)).abs().mean()
    return total / len(sizes)


def mrstft_distance(x: np.ndarray, y: np.ndarray, sizes=(256, 1024, 2048)) -> float:
    """Multi-resolution spectral distance: mean absolute difference of STFT magnitudes in dB
    (20·log10, floor 1e-5) over FFT sizes ``sizes`` (hop n/4), averaged over rows."""
    import torch

    with torch.no_grad():
        return float(stft_loss(torch.as_tensor(x), torch.as_tensor(y), sizes)) * 20.0 / np.log(10.0)


def snr_db(ref: np.ndarray, est: np.ndarray) -> float:
    """Mean SNR in dB over rows: 10 log10(|ref|² / |ref - est|²)."""
    num = np.sum(ref.astype(np.float64) ** 2, axis=-1)
    den = np.sum((ref.astype(np.float64) - est) ** 2, axis=-1) + 1e-12
    return float(np.mean(10 * np.log10(num / den + 1e-12)))


class _EncoderExport:
    @staticmethod
    def wrap(enc, pca_mean, pca_w, lo, hi):
        import torch

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = enc
                self.register_buffer("mu", torch.tensor(pca_mean, dtype=torch.float32))
                self.register_buffer("w", torch.tensor(pca_w, dtype=torch.float32))
                self.register_buffer("lo", torch.tensor(lo, dtype=torch.float32))
                self.register_buffer("span", torch.tensor(hi - lo, dtype=torch.float32))

            def forward(self, x):
                mean, _ = self.enc(x)
                xy = ((mean - self.mu) @ self.w - self.lo) / self.span
                return mean, torch.clamp(xy, 0.0, 1.0)

        return Net().eval()


def _music_frames(root, clips, idx, rng, per_clip, cache_dir):
    from .fourq import load_clip

    out = []
    for i in idx:
        y = load_clip(root, clips[i], sr=SR, cache_dir=cache_dir)
        n = y.shape[0] // SR
        if n < 1:
            continue
        starts = rng.choice(max(1, y.shape[0] - SR), size=min(per_clip, max(1, n)), replace=False)
        out += [y[s : s + SR] for s in starts]
    return np.stack(out) if out else np.zeros((0, SR), np.float32)


def init_folders(init) -> tuple[Path, Path]:
    """(encoder folder, decoder folder) of ``init``: an encoder's folder (its decoder is the
    sibling ``decoder``) or a models folder holding ``encoder`` and ``decoder``."""
    from ..errors import ModelError
    from ..inference.card import MODEL_FILE

    d = Path(init)
    enc = d if (d / MODEL_FILE).is_file() else d / "encoder"
    dec = enc.parent / "decoder"
    for f in (enc, dec):
        if not (f / MODEL_FILE).is_file():
            raise ModelError(f"--init {str(init)!r}: no model at {str(f)!r} (expected an encoder folder "
                             "with a 'decoder' folder beside it)")
    return enc, dec


def load_init(enc, dec, init) -> dict:
    """Copy a trained VAE's weights (the initializers of its exported encoder and decoder, which
    keep torch's parameter names) into ``enc``/``dec``; the encoder's log-variance layer, not
    exported, keeps its fresh initialisation. Returns the encoder's card."""
    import onnx
    import torch
    from onnx import numpy_helper

    from ..errors import ModelError
    from ..inference.card import MODEL_FILE, load_card

    enc_dir, dec_dir = init_folders(init)
    for module, folder, prefix in ((enc, enc_dir, "enc."), (dec, dec_dir, "")):
        w = {i.name[len(prefix):]: numpy_helper.to_array(i) for i in onnx.load(str(folder / MODEL_FILE)).graph.initializer
             if i.name.startswith(prefix)}
        state = module.state_dict()
        for k, v in state.items():
            if k.startswith("logvar."):
                continue
            if k not in w or tuple(w[k].shape) != tuple(v.shape):
                got = "missing" if k not in w else f"shape {list(w[k].shape)}"
                raise ModelError(f"--init {str(folder)!r}: weight {k!r} {got}, expected shape {list(v.shape)}; "
                                 "is it a VAE exported by `s2s-live train vae`?")
            state[k] = torch.from_numpy(w[k].copy())
        module.load_state_dict(state)
    return load_card(enc_dir)


def _dataset_split(folder, rng, fraction: float):
    """Training and held-out clips of a dataset folder: whole source files are held out for
    added clips (the clips of one file are alike); recorded and synthetic clips one by one."""
    from collections import Counter

    from ..dataset.store import clips as dataset_clips
    from ..errors import ConfigError

    items = dataset_clips(folder)
    if len(items) < 4:
        raise ConfigError(f"dataset {str(folder)!r} has {len(items)} clips; training needs at least 4")
    src = [str(c.meta.get("source", "")) for c in items]
    keys = [c.name if s.startswith(("synth:", "live:")) or not s else s for c, s in zip(items, src)]
    groups = sorted(set(keys))
    if len(groups) < 2:
        keys, groups = [c.name for c in items], sorted(c.name for c in items)
    want = max(1, int(round(fraction * len(items))))
    held, n = set(), 0
    for g in rng.permutation(len(groups)):
        if n >= want:
            break
        held.add(groups[g])
        n += keys.count(groups[g])
    X = np.stack([c.audio() for c in items])
    te = np.array([k in held for k in keys])
    if te.all():  # a group bigger than the rest: hold out clips instead
        te = np.zeros(len(items), bool)
        te[rng.choice(len(items), want, replace=False)] = True
    labels = Counter(c.label for c in items)
    desc = f"s2s-live dataset {str(folder)}: {len(items)} clips (" + ", ".join(f"{k} {v}" for k, v in sorted(labels.items())) + ")"
    split = f"{int(te.sum())} of {len(items)} clips held out for metrics (whole source files for added clips)"
    held_keys = sorted({k for k, t in zip(keys, te) if t})
    return X[~te], X[te], desc, split, held_keys


def encode_means(enc, X: np.ndarray, batch: int = 256) -> np.ndarray:
    import torch

    outs = []
    with torch.no_grad():
        for i in range(0, X.shape[0], batch):
            outs.append(enc(torch.as_tensor(X[i : i + batch]))[0].numpy())
    return np.concatenate(outs) if outs else np.zeros((0, enc.mean.out_features), np.float32)


def train(data: str | Path | None, out_dir: str | Path, *, seed: int = 0, params: VAEParams | None = None,
          progress: bool = True, cache_dir=None, heldout_fraction: float = 0.2, max_clips: int | None = None,
          init=None) -> dict:
    """Train the VAE on 1-s frames of the 4Q clips (``data`` = 4q_train folder, or None for
    synthetic sounds only) plus synthetic sounds, or on the clips of a dataset folder alone
    (``data`` holds ``dataset.json``, see :mod:`s2s_live.dataset`); export ``out_dir/encoder``
    and ``out_dir/decoder``; returns the encoder card (metrics on held-out artists' clips, or
    held-out dataset clips). ``init`` (an encoder folder with its ``decoder`` beside it)
    fine-tunes that model: its architecture replaces the one in ``params``."""
    import time

    import torch
    from tqdm import tqdm

    from ..dataset.store import is_dataset
    from ..capture import sounds
    from .fourq import read_index

    p = params or VAEParams()
    init_card = None
    if init is not None:
        from ..inference.card import load_card

        init_card = load_card(init_folders(init)[0])
        p = p.with_architecture_of(init_card)
    ds_mode = is_dataset(data)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    rng = np.random.default_rng(seed)
    clips = read_index(data) if data is not None and not ds_mode else []
    if max_clips:
        clips = clips[:max_clips] if len(clips) <= max_clips else [clips[i] for i in
                                                                 sorted(rng.choice(len(clips), max_clips, replace=False))]
    artists = sorted({c.artist for c in clips})
    held = set(rng.choice(artists, size=int(round(heldout_fraction * len(artists))), replace=False)) if artists else set()
    tr_idx = [i for i, c in enumerate(clips) if c.artist not in held]
    te_idx = [i for i, c in enumerate(clips) if c.artist in held]
    if ds_mode:  # the user's clips only ("syn_*" then holds them)
        syn_tr, syn_te, ds_desc, ds_split, ds_held = _dataset_split(data, rng, heldout_fraction)
    else:
        synth, kinds = sounds.dataset(n=p.n_synth, sr=SR, seed=seed)
        n_syn_te = max(1, p.n_synth // 10)
        syn_tr, syn_te = synth[n_syn_te:], synth[:n_syn_te]
    enc, dec = build(p)
    if init is not None:
        load_init(enc, dec, init)
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=p.lr)
    step, t0 = 0, time.perf_counter()
    log = []
    for epoch in range(p.epochs):
        music = _music_frames(data, clips, tr_idx, rng, p.frames_per_clip, cache_dir) if clips else np.zeros((0, SR), np.float32)
        X = np.concatenate([music, syn_tr]).astype(np.float32)
        X *= rng.uniform(0.5, 1.5, size=(X.shape[0], 1)).astype(np.float32)  # level augmentation
        np.clip(X, -1, 1, out=X)
        perm = rng.permutation(X.shape[0])
        bar = tqdm(range(0, X.shape[0], p.batch_size), desc=f"VAE epoch {epoch + 1}/{p.epochs}", disable=not progress)
        enc.train(), dec.train()
        tot = 0.0
        for i in bar:
            xb = torch.as_tensor(X[perm[i : i + p.batch_size]])
            mean, logvar = enc(xb)
            logvar = torch.clamp(logvar, -10, 10)
            z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
            yb = dec(z)
            rec = torch.mean((yb - xb) ** 2) * 10 + stft_loss(yb, xb, p.stft_sizes)
            kl = -0.5 * torch.mean(torch.sum(1 + logvar - mean**2 - logvar.exp(), dim=1))
            beta = p.beta * min(1.0, step / max(1, p.beta_warmup_steps))
            loss = rec + beta * kl
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(enc.parameters()) + list(dec.parameters()), 5.0)
            opt.step()
            step += 1
            tot += loss.item()
            bar.set_postfix(rec=f"{rec.item():.3f}", kl=f"{kl.item():.1f}")
        log.append({"epoch": epoch + 1, "loss": tot / max(1, len(bar)), "elapsed_s": time.perf_counter() - t0})
        if time.perf_counter() - t0 > p.time_budget_s:
            break
    enc.eval(), dec.eval()
    train_seconds = time.perf_counter() - t0
    # --- evaluation on held-out artists' clips and held-out synthetic sounds -----------------
    eval_rng = np.random.default_rng(seed + 1)
    metrics: dict = {"epochs_run": len(log), "train_seconds": round(train_seconds, 1), "loss_curve": log}
    te_frames, te_lab, te_clip = [], [], []
    for i in te_idx:
        f = _music_frames(data, clips, [i], eval_rng, 4, cache_dir)
        te_frames.append(f)
        te_lab += [clips[i].quadrant] * len(f)
        te_clip += [i] * len(f)
    sets = {"dataset" if ds_mode else "synthetic": syn_te}
    if te_frames:
        sets["music"] = np.concatenate(te_frames)
    with torch.no_grad():
        for nm, A in sets.items():
            A = A[:400]
            R = dec(torch.as_tensor(encode_means(enc, A))).numpy()
            metrics[f"heldout_{nm}_snr_db"] = snr_db(A, R)
            metrics[f"heldout_{nm}_mrstft_db"] = mrstft_distance(A, R, p.stft_sizes)
            metrics[f"heldout_{nm}_frames"] = int(A.shape[0])
    # latent geometry: k-NN quadrant accuracy (train clips' frames -> held-out clips' frames)
    tr_lat, tr_lab, tr_frames = np.zeros((0, p.latent)), [], []
    if clips:
        f_tr, lab_tr = [], []
        for i in tr_idx:
            f = _music_frames(data, clips, [i], eval_rng, 4, cache_dir)
            f_tr.append(f)
            lab_tr += [clips[i].quadrant] * len(f)
        tr_frames = np.concatenate(f_tr)
        tr_lat = encode_means(enc, tr_frames)
        tr_lab = np.array(lab_tr)
    lat_all = np.concatenate([tr_lat, encode_means(enc, syn_tr[:2000])]) if len(tr_lat) else encode_means(enc, syn_tr)
    if te_frames and len(tr_lat):
        from sklearn.neighbors import KNeighborsClassifier

        te_lat = encode_means(enc, sets["music"])
        te_lab_a = np.array(te_lab)
        knn = KNeighborsClassifier(n_neighbors=15).fit(tr_lat, tr_lab)
        metrics["knn15_quadrant_frame_accuracy"] = float((knn.predict(te_lat) == te_lab_a).mean())
        # clip level: mean latent per clip
        te_clip_a = np.array(te_clip)
        cm = np.stack([te_lat[te_clip_a == c].mean(0) for c in np.unique(te_clip_a)])
        cl = np.array([clips[c].quadrant for c in np.unique(te_clip_a)])
        metrics["knn15_quadrant_clip_accuracy"] = float((knn.predict(cm) == cl).mean())
        metrics["knn_heldout_clips"] = int(len(cl))
        metrics["chance_quadrant"] = float(np.bincount(cl, minlength=4).max() / len(cl))
    # PCA for latent/xy, fitted on training latents (music + synthetic)
    mu = lat_all.mean(0)
    _, _, vt = np.linalg.svd(lat_all - mu, full_matrices=False)
    W = vt[:2].T.astype(np.float32)
    proj = (lat_all - mu) @ W
    lo, hi = np.percentile(proj, 1, axis=0), np.percentile(proj, 99, axis=0)
    hi = np.where(hi - lo < 1e-6, lo + 1.0, hi)
    out_dir = Path(out_dir)
    enc_net = _EncoderExport.wrap(enc, mu, W, lo, hi)
    hp = p.as_dict()
    if ds_mode:
        prov, split = ds_desc, ds_split
    else:
        prov = ("4Q audio emotion dataset (Panda, Malheiro & Paiva 2018), 1-s 16 kHz frames of 30-s previews"
                if clips else "none") + f"; {p.n_synth} synthetic sounds (AM/FM/additive/subtractive + ADSR)"
        split = (f"artist-disjoint: {len(held)} of {len(artists)} artists ({len(te_idx)} clips) held out for metrics"
                 if clips else f"{n_syn_te} synthetic sounds held out")
    training = {"data": str(data) if data is not None else "synthetic", "data_provenance": prov, "split": split,
                "hyperparameters": hp, "seed": seed, "command": export.command_line()}
    if ds_mode:
        training["heldout"] = ds_held[:200]  # source files (added clips) or clip names
    if init_card is not None:
        training["init"] = {"model": str(init_folders(init)[0]), "sha256": init_card.get("sha256"),
                            "data_provenance": (init_card.get("training") or {}).get("data_provenance")}
    ed = out_dir / "encoder"
    export.export_onnx(enc_net, torch.zeros(1, LENGTH), ed, input_name="audio", output_names=["mean", "xy"])

    def rand_audio(r):
        return (r.uniform(0.05, 1.0) * r.standard_normal((1, LENGTH))).clip(-1, 1)

    enc_card = export.finish(ed, {
        "name": "encoder", "kind": "encoder", "version": "1",
        "input": {"name": "audio", "dtype": "float32", "shape": [1, LENGTH], "kind": "audio",
                  "sample_rate": SR, "length": LENGTH},
        "outputs": [{"name": "mean", "dtype": "float32", "shape": [1, p.latent], "osc": "latent", "smooth": True},
                    {"name": "xy", "dtype": "float32", "shape": [1, 2], "osc": "latent/xy", "type": "ff",
                     "range": [0.0, 1.0]}],
        "metrics": metrics, "training": training,
        "xy_projection": {"method": "PCA of training latent means, 1st..99th percentile -> 0..1, clipped",
                          "mean": mu.tolist(), "components": W.T.tolist(), "lo": lo.tolist(), "hi": hi.tolist()},
    }, enc_net, rand_audio)
    dd = out_dir / "decoder"
    export.export_onnx(dec, torch.zeros(1, p.latent), dd, input_name="z", output_names=["audio"])
    export.finish(dd, {
        "name": "decoder", "kind": "decoder", "version": "1",
        "input": {"name": "z", "dtype": "float32", "shape": [1, p.latent], "kind": "features",
                  "recipe": "vae-latent", "recipe_version": 1, "value": "latent",
                  "names": [f"z{i}" for i in range(p.latent)]},
        "outputs": [{"name": "audio", "dtype": "float32", "shape": [1, LENGTH], "range": [-1.0, 1.0],
                     "sample_rate": SR}],
        "metrics": {k: v for k, v in metrics.items() if "snr" in k or "mrstft" in k}, "training": training,
    }, dec, lambda r: r.standard_normal((1, p.latent)))
    return enc_card
