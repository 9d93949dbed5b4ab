"""A per-image code appended to a feature map as constant channels (how both of Deelaka's
generators read a style code)."""

from __future__ import annotations

import torch

__all__ = ["append_tiled"]


def append_tiled(features: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
    """Features (B, C, H, W) and codes (B, D) -> (B, C + D, H, W): each code repeated over its
    image's map."""
    tiled = code[:, :, None, None].expand(-1, -1, *features.shape[2:]).to(features.dtype)
    return torch.cat([features, tiled], dim=1)
