"""Video mode (after Sound to Something's short videos): the latest image becomes a short loop.

An optional image-to-video backend on diffusers' Stable Video Diffusion architecture
(``StableVideoDiffusionPipeline``), loaded from a local folder or the local Hugging Face cache
(never downloaded; :func:`~.diffusion.locate_model` checks it). It runs in the visuals worker,
after each image, in the same job thread and with the same latest-wins rule: when a newer image
request is waiting, the loop of the older image is skipped.

A loop is stored as one PNG *sprite sheet* (the frames side by side, ``frames x size`` wide;
written atomically like the images) that the viewer plays as a ping-pong loop from a single
texture: no video encoder is needed and the same image route serves it.

Off by default (``visuals_video`` = None). Expected speeds: SVD (14 frames) and SVD-XT (25) at
576x1024 take tens of seconds per clip on a recent CUDA GPU in float16, and are impractical on a
CPU; use small ``visuals_size`` (e.g. 256-512), few frames and steps. Not measured here: no GPU
in this session.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..errors import VisualsError


class VideoBackend:
    """Image -> ``frames`` frames (uint8, (N, size, size, 3)) with a Stable Video Diffusion pipeline.

    ``frames`` 2..25, ``steps`` 1..50, ``size`` multiple of 8 (the image is resized to it),
    ``fps`` playback rate of the loop in the viewer (1..30; also SVD's ``fps`` conditioning).
    """

    name = "svd"

    def __init__(self, model: str, *, device: str = "auto", frames: int = 8, steps: int = 4,
                 size: int = 512, fps: int = 7) -> None:
        for name, v, lo, hi in (("visuals_video_frames", frames, 2, 25), ("visuals_video_steps", steps, 1, 50),
                                ("visuals_video_fps", fps, 1, 30)):
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise VisualsError(f"{name}={v!r} is invalid; expected an integer in {lo}..{hi}")
        from .diffusion import _offline, locate_model, resolve_device

        _offline()
        where = locate_model(model)
        try:
            import torch
            from diffusers import StableVideoDiffusionPipeline
        except ImportError as exc:
            raise VisualsError(f"the video mode needs torch and diffusers (pip install 's2s_live[diffusers]'): {exc}") from None
        self.device = resolve_device(device)
        dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
        t0 = time.perf_counter()
        try:
            from diffusers.utils import logging as dlog

            dlog.disable_progress_bar()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch_dtype rename, torchvision-less image processor
                pipe = StableVideoDiffusionPipeline.from_pretrained(where, torch_dtype=dtype, local_files_only=True)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise VisualsError(f"cannot load video model {model!r} as a Stable Video Diffusion pipeline: {exc}") from None
        self.pipe = pipe.to(self.device)
        self.pipe.set_progress_bar_config(disable=True)
        self.load_s = time.perf_counter() - t0
        self.model, self.frames, self.steps, self.size, self.fps = model, frames, steps, size, fps

    def describe(self) -> dict:
        return {"video": self.name, "video_model": self.model, "video_frames": self.frames,
                "video_steps": self.steps, "video_fps": self.fps}

    def generate(self, img: np.ndarray, *, seed: int) -> np.ndarray:
        """The loop's frames for ``img`` ((H, W, 3) uint8); raises VisualsError when the pipeline fails."""
        import torch
        from PIL import Image

        im = Image.fromarray(img).convert("RGB").resize((self.size, self.size))
        try:
            with torch.inference_mode():
                out = self.pipe(im, height=self.size, width=self.size, num_frames=self.frames,
                                num_inference_steps=self.steps, fps=self.fps, decode_chunk_size=min(8, self.frames),
                                generator=torch.Generator(device="cpu").manual_seed(seed), output_type="np")
        except (RuntimeError, ValueError) as exc:  # out of memory, shapes the model cannot take
            raise VisualsError(f"video generation failed: {exc}") from None
        frames = np.asarray(out.frames)[0]  # (N, H, W, 3) floats in 0..1
        return (np.clip(np.nan_to_num(frames), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def sprite_sheet(frames: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) frames -> one (H, N*W, 3) image, frame i at columns i*W..(i+1)*W."""
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must have shape (N, H, W, 3), got {frames.shape}")
    return np.ascontiguousarray(np.concatenate(list(frames), axis=1))
