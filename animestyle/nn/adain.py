"""Adaptive instance normalisation (Huang & Belongie, "Arbitrary Style Transfer in Real-time
with Adaptive Instance Normalization", arXiv:1703.06868, Eq. 8): the content features'
per-channel statistics replaced by the style features'."""

from __future__ import annotations

import torch

__all__ = ["adaptive_instance_norm", "channel_statistics"]


def channel_statistics(h: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation over the positions of each channel of ``h`` (B, C, H, W):
    (B, C, 1, 1) each; ``eps`` is added to the variance."""
    mean = h.mean((2, 3), keepdim=True)
    std = (h.var((2, 3), keepdim=True, unbiased=False) + eps).sqrt()
    return mean, std


def adaptive_instance_norm(content: torch.Tensor, style: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """AdaIN(x, y) = sigma(y) (x - mu(x)) / sigma(x) + mu(y), per channel: ``content``
    (B, C, H, W) with the statistics of ``style`` (B, C, H', W')."""
    if content.shape[:2] != style.shape[:2]:
        raise ValueError(
            f"content and style features must agree in batch and channels; got {tuple(content.shape)}, "
            f"{tuple(style.shape)}"
        )
    c_mean, c_std = channel_statistics(content, eps)
    s_mean, s_std = channel_statistics(style, eps)
    return s_std * (content - c_mean) / c_std + s_mean
