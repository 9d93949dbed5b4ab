"""A learned warp of the generator's output (GADN's official code: its generator ends in
a spatial transform)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Warp"]


class Warp(nn.Module):
    """(B, C + 2, H, W) -> (B, C, H, W) and a fold-over penalty (a scalar tensor).

    The last two input channels are per-pixel offsets in pixels (x, then y); the first ``C``
    are resampled bilinearly at each pixel's position plus its offset (``align_corners=True``,
    so zero offsets return the input, to float rounding). Sample positions are clamped to the picture.
    The penalty is the mean amount by which neighbouring sample positions cross each other
    (a fold), 0 for any warp that keeps their order; the official code weighs it by 100.
    """

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim != 4 or x.shape[1] < 3:
            raise ValueError(f"x must be (B, C + 2, H, W) with C >= 1; got {tuple(x.shape)}")
        value, offset = x[:, :-2], x[:, -2:].float()
        h, w = x.shape[2:]
        # neighbours one pixel apart must stay in order: 1 + d(offset) >= 0
        fold_x = (offset[:, 0, :, :-1] - offset[:, 0, :, 1:] - 1).clamp_min(0)
        fold_y = (offset[:, 1, :-1, :] - offset[:, 1, 1:, :] - 1).clamp_min(0)
        penalty = fold_x.mean() + fold_y.mean()
        base_y, base_x = torch.meshgrid(
            torch.linspace(-1, 1, h, device=x.device), torch.linspace(-1, 1, w, device=x.device), indexing="ij"
        )
        grid_x = (base_x + offset[:, 0] * (2 / max(w - 1, 1))).clamp(-1, 1)
        grid_y = (base_y + offset[:, 1] * (2 / max(h - 1, 1))).clamp(-1, 1)
        grid = torch.stack([grid_x, grid_y], dim=3).to(value.dtype)
        return F.grid_sample(value, grid, mode="bilinear", align_corners=True), penalty
