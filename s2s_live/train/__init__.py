"""Stage 13, train: training and export of the shipped models (needs the ``train`` extra:
torch, onnx, librosa). May import every stage below it; nothing below imports it.

Modules: :mod:`.genre` (GTZAN descriptor MLP), :mod:`.emotion` (4Q quadrant model),
:mod:`.vae` (ASCIML 1-s waveform VAE), :mod:`.interpolate` (latent interpolation to audio),
:mod:`.mlp` (the shared dense classifier), :mod:`.export` (ONNX export, parity, model cards),
:mod:`.reconstruct` (VAE reconstructions of a dataset folder), :mod:`.fourq` (4Q dataset loading with a
decode cache), :mod:`._emofeat` (cached 4Q recipe features) and :mod:`.commands`
(``s2s-live train ...`` / ``s2s-live vae interpolate``).
Nothing here is imported by the live engine.
"""
