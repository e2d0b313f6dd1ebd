"""Stage 1, dsp: pure DSP functions and the small numba kernels behind them.

Public functions are keyword-only, take the sample rate explicitly and share librosa's
parameter names (``y, sr, n_fft, hop_length``). Kernels are private (``_name``), compiled with
``cache=True`` and write into buffers passed in, so the audio path never allocates.

May import: the base modules (errors) and numpy/numba; nothing else of the package.
"""
