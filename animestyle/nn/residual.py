"""Residual blocks with one convolution each, resampling by 2 (GADN, arXiv:1905.10742, Sec. 4.3).

The residual branch is a single 6x6 stride-2 (transposed) convolution and an activation; the
shortcut resamples and, when the width changes, applies a 1x1 convolution. The two branches
are mixed with learnable per-channel scales initialised to ``sqrt(r)`` and ``sqrt(1 - r)``
so that unit-variance inputs give unit-variance outputs at initialisation; ``r`` is the
residual share, smaller in deeper blocks.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from animestyle.nn.activation import StandardisedPReLU

__all__ = ["ResidualDown", "ResidualUp", "unit_norm_"]


@torch.no_grad()
def unit_norm_(weight: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Scale ``weight`` in place so that each slice along ``dim`` (an output unit) has unit
    L2 norm: an initialisation only, not weight normalisation."""
    dims = [d for d in range(weight.ndim) if d != dim]
    return weight.div_(torch.linalg.vector_norm(weight, dim=dims, keepdim=True).clamp_min(1e-12))


def _projection(in_channels: int, out_channels: int) -> nn.Conv2d | None:
    """The shortcut's 1x1 convolution, or None when the width does not change."""
    if in_channels == out_channels:
        return None
    conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
    unit_norm_(conv.weight)
    return conv


class _Mix(nn.Module):
    def __init__(self, channels: int, residual_share: float):
        super().__init__()
        if not 0 < residual_share < 1:
            raise ValueError(f"residual_share={residual_share} must be in (0, 1)")
        self.residual_scale = nn.Parameter(torch.full((1, channels, 1, 1), math.sqrt(residual_share)))
        self.shortcut_scale = nn.Parameter(torch.full((1, channels, 1, 1), math.sqrt(1 - residual_share)))

    def forward(self, residual: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        return residual * self.residual_scale + shortcut * self.shortcut_scale


class ResidualDown(nn.Module):
    """Halves the resolution: (B, in_channels, H, W) -> (B, out_channels, H/2, W/2).

    Residual: Conv 6x6 stride 2 pad 2 + activation. Shortcut: AvgPool 2, then 1x1 conv if the
    width changes.
    """

    def __init__(self, in_channels: int, out_channels: int, residual_share: float = 0.5):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 6, 2, 2)
        unit_norm_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)  # type: ignore[arg-type]
        self.act = StandardisedPReLU(out_channels)
        self.project = _projection(in_channels, out_channels)
        self.mix = _Mix(out_channels, residual_share)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = F.avg_pool2d(x, 2)
        if self.project is not None:
            shortcut = self.project(shortcut)
        return self.mix(self.act(self.conv(x)), shortcut)


class ResidualUp(nn.Module):
    """Doubles the resolution: (B, in_channels, H, W) -> (B, out_channels, 2H, 2W).

    Residual: ConvTranspose 6x6 stride 2 pad 2 + activation. Shortcut: 1x1 conv if the width
    changes, then nearest-neighbour x2.
    """

    def __init__(self, in_channels: int, out_channels: int, residual_share: float = 0.5):
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, 6, 2, 2)
        unit_norm_(self.conv.weight, dim=1)  # ConvTranspose weights are (in, out, k, k)
        self.conv.weight.data.mul_(2)  # each output pixel sees a quarter of the taps
        nn.init.zeros_(self.conv.bias)  # type: ignore[arg-type]
        self.act = StandardisedPReLU(out_channels)
        self.project = _projection(in_channels, out_channels)
        self.mix = _Mix(out_channels, residual_share)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.project is None else self.project(x)
        shortcut = F.interpolate(shortcut, scale_factor=2.0, mode="nearest")
        return self.mix(self.act(self.conv(x)), shortcut)
