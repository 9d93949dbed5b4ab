"""A per-image vector spread over a feature map as constant channels (how STGAN's units
read the attribute difference and both of Deelaka's generators read a style code)."""

from __future__ import annotations

import torch

__all__ = ["append_tiled", "tile"]


def tile(vector: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B, D) -> (B, D, H, W) with the height, width and dtype of ``like`` (B, C, H, W): each
    vector repeated over its image's map (a view, no copy)."""
    return vector.to(like.dtype)[:, :, None, None].expand(-1, -1, *like.shape[2:])


def append_tiled(features: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
    """Features (B, C, H, W) and codes (B, D) -> (B, C + D, H, W)."""
    return torch.cat([features, tile(code, features)], dim=1)
