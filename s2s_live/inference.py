"""Inference stage: ONNX model plugins described by model cards (see docs/models.md)."""

from __future__ import annotations


def default_processors(cfg) -> list:
    """Model processors for the configured slots (none until models are shipped)."""
    return []
