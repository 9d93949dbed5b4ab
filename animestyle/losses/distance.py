"""Distances between images and between codes."""

from __future__ import annotations

import torch

__all__ = ["content_distance", "pixel_distance"]


def pixel_distance(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """GADN's per-pixel L2 distance (arXiv:1905.10742, Sec. 4.1): the Euclidean distance
    between the colour vectors of each pixel (not its square), averaged over pixels and images.

    Args:
        x: images, (B, C, H, W).
        y: images of the same shape.
        weight: optional (B, 1, H, W) >= 0, e.g. alpha: pixels are averaged with these
            weights, normalised to sum to 1 in each image.

    Returns:
        scalar.
    """
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape; got {tuple(x.shape)} and {tuple(y.shape)}")
    per_pixel = ((x - y).square().sum(1, keepdim=True) + 1e-8).sqrt()
    if weight is None:
        return per_pixel.mean()
    weight = weight / weight.sum((1, 2, 3), keepdim=True).clamp_min(1e-8)
    return (per_pixel * weight).sum((1, 2, 3)).mean()


def content_distance(c: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Squared Euclidean distance between codes, summed over dimensions (optionally
    weighted per dimension), averaged over the batch.

    Args:
        c: codes, (B, D).
        target: codes, (B, D).
        weight: optional (D,) per-dimension weights.

    Returns:
        scalar.
    """
    squared = (c - target).square()
    if weight is not None:
        squared = squared * weight
    return squared.sum(1).mean()
