"""Build Stable Diffusion pipelines with random weights, offline (tests, benchmarks, doctor).

Nothing here downloads: configs are written out in code and the tokenizer is a byte-level CLIP
vocabulary generated on the fly. ``arch="tiny"`` is diffusers' own test size (a 64x64 image in
~0.1 s on a CPU); ``arch="sd-turbo"`` has the real sd-turbo (SD 2.1) UNet/VAE/text-encoder
shapes, for timing on a GPU. The images are noise-like: the weights are random.
"""

from __future__ import annotations

import json
from pathlib import Path


def _bytes_to_unicode() -> list[str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def write_tokenizer(folder: str | Path) -> Path:
    """Write a byte-level CLIP tokenizer (vocab.json, merges.txt) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = _bytes_to_unicode()
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": i + len(chars) for i, c in enumerate(chars)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return folder


def build_random_pipeline(folder: str | Path, *, arch: str = "tiny", seed: int = 0) -> Path:
    """Create a StableDiffusionPipeline with random weights and ``save_pretrained`` it to ``folder``."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    if arch not in ("tiny", "sd-turbo"):
        raise ValueError(f"arch={arch!r} is invalid; expected 'tiny' or 'sd-turbo'")
    folder = Path(folder)
    torch.manual_seed(seed)
    tok_dir = write_tokenizer(folder / "_tokenizer_src")
    tokenizer = CLIPTokenizer.from_pretrained(str(tok_dir), model_max_length=77)
    if arch == "tiny":
        unet = UNet2DConditionModel(
            block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4, out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32)
        vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                            down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
                            up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"], latent_channels=4)
        text = CLIPTextModel(CLIPTextConfig(
            bos_token_id=0, eos_token_id=2, hidden_size=32, intermediate_size=37, layer_norm_eps=1e-05,
            num_attention_heads=4, num_hidden_layers=5, pad_token_id=1, vocab_size=1000))
    else:  # sd-turbo = SD 2.1-base shapes
        unet = UNet2DConditionModel(
            sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
            block_out_channels=(320, 640, 1280, 1280),
            down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
            cross_attention_dim=1024, attention_head_dim=(5, 10, 20, 20), use_linear_projection=True)
        vae = AutoencoderKL(block_out_channels=[128, 256, 512, 512], in_channels=3, out_channels=3,
                            down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
                            latent_channels=4, layers_per_block=2, sample_size=768)
        text = CLIPTextModel(CLIPTextConfig(
            hidden_size=1024, intermediate_size=4096, num_attention_heads=16, num_hidden_layers=23,
            hidden_act="gelu", projection_dim=512, vocab_size=49408, max_position_embeddings=77))
    sched = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                   timestep_spacing="trailing", steps_offset=1)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(str(folder))
    return folder


def build_random_video_pipeline(folder: str | Path, *, seed: int = 0) -> Path:
    """Create a tiny StableVideoDiffusionPipeline with random weights (diffusers' test sizes; the
    image encoder takes SVD's 224x224 input) and ``save_pretrained`` it to ``folder``, offline."""
    import torch
    from diffusers import (AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, StableVideoDiffusionPipeline,
                           UNetSpatioTemporalConditionModel)
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    folder = Path(folder)
    torch.manual_seed(seed)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32, num_attention_heads=2, projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32)
    sched = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", interpolation_type="linear",
        num_train_timesteps=1000, prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002,
        steps_offset=1, timestep_spacing="leading", timestep_type="continuous", use_karras_sigmas=True)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"], latent_channels=4)
    enc = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4, image_size=224,
        intermediate_size=37, patch_size=14))
    fe = CLIPImageProcessor(crop_size=224, size=224)
    pipe = StableVideoDiffusionPipeline(vae=vae, image_encoder=enc, unet=unet, scheduler=sched, feature_extractor=fe)
    pipe.save_pretrained(str(folder))
    return folder
