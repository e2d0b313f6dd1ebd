"""Diffusers backend: Stable Diffusion-family text-to-image from a local model, never downloading.

``--visuals diffusers --visuals-model PATH_OR_ID`` loads any pipeline that
``diffusers.AutoPipelineForText2Image`` understands (SD 1.x/2.x, sd-turbo, SDXL, sdxl-turbo, ...)
from a local folder (``save_pretrained`` layout) or from the local Hugging Face cache by id
(``stabilityai/sd-turbo``). ``HF_HUB_OFFLINE=1`` and ``local_files_only=True`` are always set:
a model that is not on disk is a :class:`~s2s_live.errors.VisualsError`, not a download.

Defaults are tuned for few-step distilled models such as sd-turbo: 2 steps, guidance 0 (no
classifier-free guidance, so the negative prompt is only used when guidance > 1). On CUDA the
pipeline runs in float16, optionally with the tiny autoencoder TAESD (``visuals_taesd``, a local
folder of ``madebyollin/taesd``) for a faster decode; on CPU it runs in float32.

Continuity (img2img): with ``strength`` in (0, 1) every image after the first starts from the
previous one (``AutoPipelineForImage2Image.from_pipe`` shares the weights), so the visuals evolve
instead of jumping; 0 makes every image independent.

torch and diffusers are imported here only, inside the visuals worker process.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import VisualsError


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when a CUDA GPU is usable, else ``"cpu"``; others pass through."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise VisualsError(f"visuals_device={device!r} but no CUDA GPU is available; use 'cpu' or 'auto'")
    if device not in ("cpu", "mps") and not device.startswith("cuda"):
        raise VisualsError(f"visuals_device={device!r} is invalid; expected 'auto', 'cpu', 'cuda[:N]' or 'mps'")
    return device


def locate_model(model: str) -> str:
    """Return a loadable local path/id for ``model`` or raise VisualsError explaining what to do.

    A folder must hold ``model_index.json``; anything else is looked up as an id in the local
    Hugging Face cache (``HF_HOME``/``HF_HUB_CACHE``), never on the network.
    """
    if not model or not isinstance(model, str):
        raise VisualsError("the diffusers visuals backend needs --visuals-model PATH_OR_ID (a local model folder "
                           "or a model id already in the Hugging Face cache)")
    p = Path(model).expanduser()
    if p.is_dir():
        if not (p / "model_index.json").is_file():
            raise VisualsError(f"visuals model folder {str(p)!r} has no model_index.json; expected a diffusers "
                               "pipeline saved with save_pretrained (or a Hugging Face snapshot folder)")
        return str(p)
    if p.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise VisualsError(f"visuals model {model!r} is not a folder; expected a diffusers pipeline folder "
                           "or a Hugging Face id like 'stabilityai/sd-turbo' that is already in the local cache")
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model, "model_index.json")
    if not isinstance(found, str):
        raise VisualsError(
            f"visuals model {model!r} is neither a local folder nor in the local Hugging Face cache; "
            f"s2s_live never downloads. Fetch it once on a machine with network "
            f"(`huggingface-cli download {model}`) or pass the folder of a saved pipeline")
    return model


def load_pipeline(model: str, *, device: str = "auto", taesd: str | None = None):
    """Load a text-to-image pipeline from a local folder or cached id, on ``device``.

    Returns ``(pipe, device)``. float16 on CUDA (plus TAESD when ``taesd`` is a folder), float32
    otherwise. Raises VisualsError with the cause when anything is missing or incompatible.
    """
    _offline()
    where = locate_model(model)
    try:
        import torch
        from diffusers import AutoPipelineForText2Image
    except ImportError as exc:
        raise VisualsError(f"the diffusers visuals backend needs torch and diffusers "
                           f"(pip install 's2s_live[diffusers]'): {exc}") from None
    dev = resolve_device(device)
    dtype = torch.float16 if dev.startswith("cuda") else torch.float32
    try:
        from diffusers.utils import logging as dlog

        dlog.disable_progress_bar()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch_dtype -> dtype rename in new diffusers
            pipe = AutoPipelineForText2Image.from_pretrained(where, torch_dtype=dtype, local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise VisualsError(f"cannot load visuals model {model!r} with diffusers: {exc}") from None
    if taesd:
        if not Path(taesd).is_dir():
            raise VisualsError(f"visuals_taesd={taesd!r} is not a folder; expected a local copy of madebyollin/taesd")
        from diffusers import AutoencoderTiny

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                pipe.vae = AutoencoderTiny.from_pretrained(taesd, torch_dtype=dtype, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise VisualsError(f"cannot load TAESD from {taesd!r}: {exc}") from None
    pipe = pipe.to(dev)
    pipe.set_progress_bar_config(disable=True)
    return pipe, dev


class DiffusionBackend:
    """Few-step text-to-image (and img2img continuity) with a loaded diffusers pipeline.

    Parameters: ``steps`` 1..50 (sd-turbo: 1–4), ``guidance`` 0 (turbo) or >1 (classic SD, uses
    the negative prompt), ``size`` output width = height in pixels (multiple of 8), ``strength``
    0 (independent images) or 0 < s < 1 (img2img from the previous image).
    """

    name = "diffusers"

    def __init__(self, model: str, *, device: str = "auto", steps: int = 2, guidance: float = 0.0,
                 size: int = 512, strength: float = 0.0, taesd: str | None = None) -> None:
        if not isinstance(steps, int) or not 1 <= steps <= 50:
            raise VisualsError(f"visuals_steps={steps!r} is invalid; expected an integer in 1..50")
        if not isinstance(size, int) or size % 8 or not 64 <= size <= 2048:
            raise VisualsError(f"visuals_size={size!r} is invalid; expected a multiple of 8 in 64..2048")
        if not 0.0 <= float(strength) < 1.0:
            raise VisualsError(f"visuals_strength={strength!r} is invalid; expected 0 (off) or 0 < s < 1")
        self.model = model
        self.steps = steps
        self.guidance = float(guidance)
        self.size = size
        self.strength = float(strength)
        t0 = time.perf_counter()
        self.pipe, self.device = load_pipeline(model, device=device, taesd=taesd)
        self.load_s = time.perf_counter() - t0
        self._img2img = None
        self._prev = None  # previous image (PIL) for continuity

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model, "device": self.device, "steps": self.steps,
                "guidance": self.guidance, "size": self.size, "strength": self.strength,
                "pipeline": type(self.pipe).__name__, "load_s": round(self.load_s, 3)}

    def warmup(self) -> None:
        """One single-step generation (allocates buffers, picks kernels) before the first job."""
        self._run("warm up", "", seed=0, steps=1, init=None, progress=None)

    def generate(self, prompt: str, negative: str = "", *, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """One image (size, size, 3) uint8 for ``prompt``; img2img from the previous one when enabled."""
        init = self._prev if self.strength > 0 else None
        img = self._run(prompt, negative, seed=seed, steps=self.steps, init=init, progress=progress)
        if self.strength > 0:
            from PIL import Image

            self._prev = Image.fromarray(img)
        return img

    def reset(self) -> None:
        """Forget the previous image (the next one starts from noise)."""
        self._prev = None

    def _run(self, prompt, negative, *, seed, steps, init, progress) -> np.ndarray:
        import torch

        gen = torch.Generator(device="cpu").manual_seed(int(seed) & 0x7FFFFFFFFFFFFFFF)
        kw = dict(prompt=prompt, guidance_scale=self.guidance, generator=gen, output_type="np")
        if self.guidance > 1.0 and negative:
            kw["negative_prompt"] = negative
        if init is None:
            pipe = self.pipe
            kw.update(num_inference_steps=steps, width=self.size, height=self.size)
            n_total = steps
        else:
            if self._img2img is None:
                from diffusers import AutoPipelineForImage2Image

                self._img2img = AutoPipelineForImage2Image.from_pipe(self.pipe)
                self._img2img.set_progress_bar_config(disable=True)
            pipe = self._img2img
            # img2img runs int(steps * strength) steps: make sure at least one runs.
            steps = max(steps, math.ceil(1.0 / self.strength))
            kw.update(num_inference_steps=steps, image=init, strength=self.strength)
            n_total = max(1, int(steps * self.strength))
        if progress is not None:
            def _cb(_pipe, step, _timestep, cb_kwargs):
                progress(step + 1, n_total)
                return cb_kwargs

            kw["callback_on_step_end"] = _cb
        try:
            with torch.inference_mode():
                out = pipe(**kw).images
        except (RuntimeError, ValueError, TypeError) as exc:
            raise VisualsError(f"diffusers generation failed: {exc}") from None
        arr = np.asarray(out[0])
        if arr.dtype != np.uint8:
            arr = (np.clip(np.nan_to_num(arr), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        return arr
