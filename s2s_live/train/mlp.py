"""The dense classifier shared by the genre and emotion models (Sound to Something's network).

Standardisation (training-set mean/std) is a layer of the network, so the exported ONNX graph
takes raw descriptor values. Training: Adam, cross-entropy, early stopping on a validation split,
learning-rate reduction on plateau. Exported graphs end in a softmax.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class MLPParams:
    hidden: tuple[int, ...] = (512, 256, 128, 64)
    dropout: float = 0.3
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 64
    max_epochs: int = 300
    patience: int = 30  #: early stopping: epochs without a better validation loss
    lr_patience: int = 10  #: ReduceLROnPlateau patience (epochs)
    lr_factor: float = 0.5
    val_fraction: float = 0.1
    log_inputs: bool = True  #: log(x + 1e-6·scale) of non-negative heavy-tailed inputs (variances), in the graph

    def as_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d


def log_mask(names: list[str] | None, n: int) -> np.ndarray:
    """Inputs compressed with a log before standardisation: the variances (``*_var``)."""
    if names is None:
        return np.zeros(n, dtype=bool)
    return np.array([nm.endswith("_var") for nm in names], dtype=bool)


def _prelog(X: np.ndarray, mask: np.ndarray, floor: np.ndarray) -> np.ndarray:
    X = np.array(X, dtype=np.float64, copy=True)
    X[:, mask] = np.log(np.maximum(X[:, mask], 0.0) + floor[mask])
    return X


def build(n_in: int, n_out: int, mean: np.ndarray, std: np.ndarray, p: MLPParams,
          mask: np.ndarray | None = None, floor: np.ndarray | None = None):
    """Network: [log of masked inputs] -> standardise -> dense blocks -> logits (raw inputs in)."""
    import torch
    from torch import nn

    mask = np.zeros(n_in, dtype=bool) if mask is None else mask
    floor = np.ones(n_in) if floor is None else floor

    class Standardize(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mask", torch.tensor(mask.astype(np.float32)))
            self.register_buffer("floor", torch.tensor(floor, dtype=torch.float32))
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
            self.register_buffer("inv_std", torch.tensor(1.0 / std, dtype=torch.float32))

        def forward(self, x):
            if bool(self.mask.any()):
                logx = torch.log(torch.clamp(x, min=0.0) + self.floor)
                x = self.mask * logx + (1.0 - self.mask) * x
            return (x - self.mean) * self.inv_std

    layers: list = [Standardize()]
    d = n_in
    for h in p.hidden:
        layers += [nn.Linear(d, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(p.dropout)]
        d = h
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


def fit(X: np.ndarray, y: np.ndarray, n_classes: int, p: MLPParams, *, seed: int,
        val_groups: np.ndarray | None = None, progress=None, names: list[str] | None = None):
    """Train an MLP on (X, y); a validation split (by group if given) drives early stopping.

    Returns ``(model, info)`` with the best-validation-loss weights restored.
    """
    import torch
    from torch import nn

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    n = X.shape[0]
    if val_groups is None:
        val_groups = np.arange(n)
    ug = np.unique(val_groups)
    val_g = rng.choice(ug, size=max(1, int(round(p.val_fraction * len(ug)))), replace=False)
    is_val = np.isin(val_groups, val_g)
    mask = log_mask(names, X.shape[1]) if p.log_inputs else np.zeros(X.shape[1], dtype=bool)
    # floor of the log: a small fraction of each variance's median, so silence stays finite
    floor = np.maximum(1e-6 * np.median(np.abs(X[~is_val]), axis=0), 1e-12)
    Z = _prelog(X, mask, floor)
    Xtr, ytr, Xva, yva = Z[~is_val], y[~is_val], Z[is_val], y[is_val]
    mean = Xtr.mean(axis=0)
    std = Xtr.std(axis=0)
    std[std < 1e-9] = 1.0
    model = build(X.shape[1], n_classes, mean, std, p, mask, floor)
    tx_raw, vx_raw = X[~is_val], X[is_val]
    opt = torch.optim.Adam(model.parameters(), lr=p.lr, weight_decay=p.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=p.lr_factor, patience=p.lr_patience)
    lossf = nn.CrossEntropyLoss()
    tx, ty = torch.tensor(tx_raw, dtype=torch.float32), torch.tensor(ytr)
    vx, vy = torch.tensor(vx_raw, dtype=torch.float32), torch.tensor(yva)
    best, best_state, best_epoch, bad = np.inf, None, 0, 0
    g = torch.Generator().manual_seed(seed)
    for epoch in range(p.max_epochs):
        model.train()
        perm = torch.randperm(tx.shape[0], generator=g)
        for i in range(0, tx.shape[0], p.batch_size):
            idx = perm[i : i + p.batch_size]
            if idx.numel() < 2:
                continue  # batch norm needs two samples
            opt.zero_grad()
            loss = lossf(model(tx[idx]), ty[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            vl = float(lossf(model(vx), vy))
        sched.step(vl)
        if vl < best - 1e-4:
            best, best_epoch, bad = vl, epoch, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= p.patience:
                break
        if progress is not None:
            progress.set_postfix(epoch=epoch, val_loss=f"{vl:.3f}")
    model.load_state_dict(best_state)
    model.eval()
    return model, {"best_epoch": best_epoch, "val_loss": best, "epochs_run": epoch + 1}


def predict_proba(model, X: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return torch.softmax(model(torch.tensor(X, dtype=torch.float32)), dim=-1).numpy()
