"""Residual blocks.

``ResidualDown`` / ``ResidualSame`` / ``ResidualUp`` (GADN, arXiv:1905.10742, Sec. 4.3) and
``WNResidual`` (the style-space paper's weight-normalised block, described on the class).

GADN's blocks have one convolution each. The resampling ones have a single 6x6 stride-2
(transposed) convolution and an activation as the residual branch; the shortcut resamples
and, when the width changes, applies a 1x1 convolution. ``ResidualSame`` keeps the
resolution with a 3x3 convolution and an identity shortcut. The two branches are mixed with learnable per-
channel scales initialised to ``sqrt(r)`` and ``sqrt(1 - r)`` so that unit-variance inputs
give unit-variance outputs at initialisation; ``r`` is the residual share, smaller in deeper
blocks.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from animestyle.nn import fused
from animestyle.nn.activation import StandardisedPReLU, TPReLU
from animestyle.nn.weight_norm import weight_normed

__all__ = ["Mix", "ResidualDown", "ResidualSame", "ResidualUp", "WNResidual", "fuse_elementwise", "unit_norm_"]


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


class Mix(nn.Module):
    """``residual * a + shortcut * b`` with per-channel ``a``, ``b`` initialised to
    ``sqrt(residual_share)`` and ``sqrt(1 - residual_share)``: (B, C, ...) twice -> (B, C, ...).

    With ``fused`` set (:func:`fuse_elementwise`) it runs as one compiled kernel, and so does
    :meth:`activate` with the block's activation."""

    def __init__(self, channels: int, residual_share: float):
        super().__init__()
        if not 0 < residual_share < 1:
            raise ValueError(f"residual_share={residual_share} must be in (0, 1)")
        self.residual_scale = nn.Parameter(torch.full((1, channels, 1, 1), math.sqrt(residual_share)))
        self.shortcut_scale = nn.Parameter(torch.full((1, channels, 1, 1), math.sqrt(1 - residual_share)))
        self.fused = False

    def forward(self, residual: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        function = fused.compiled(fused.mix) if self.fused else fused.mix
        return function(residual, shortcut, self.residual_scale, self.shortcut_scale)

    def activate(self, act: nn.Module, z: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        """``self(act(z), shortcut)``; one kernel for both when fused and ``act`` is a
        :class:`StandardisedPReLU`."""
        if not (self.fused and isinstance(act, StandardisedPReLU)):
            return self(act(z), shortcut)
        return fused.compiled(fused.prelu_mix)(
            z, shortcut, act.prelu.weight, act.shift, act.scale, self.residual_scale, self.shortcut_scale
        )


def fuse_elementwise(module: nn.Module, on: bool = True) -> None:
    """Run every :class:`Mix` in ``module`` (and its block's activation) as compiled kernels
    (:mod:`animestyle.nn.fused`); parameters and checkpoints are unchanged."""
    for child in module.modules():
        if isinstance(child, Mix):
            child.fused = on


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
        self.mix = Mix(out_channels, residual_share)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = F.avg_pool2d(x, 2)
        if self.project is not None:
            shortcut = self.project(shortcut)
        return self.mix.activate(self.act, self.conv(x), shortcut)


class ResidualSame(nn.Module):
    """Keeps the resolution: (B, channels, H, W) -> (B, channels, H, W).

    Residual: Conv 3x3 stride 1 pad 1 + activation. Shortcut: identity.
    """

    def __init__(self, channels: int, residual_share: float = 0.5):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1)
        unit_norm_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)  # type: ignore[arg-type]
        self.act = StandardisedPReLU(channels)
        self.mix = Mix(channels, residual_share)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mix.activate(self.act, self.conv(x), x)


class ResidualUp(nn.Module):
    """Doubles the resolution: (B, in_channels, H, W) -> (B, out_channels, 2H, 2W).

    Residual: ConvTranspose 6x6 stride 2 pad 2 + activation (none when ``activation`` is
    False: the generator's last block, whose output is colour). Shortcut: 1x1 conv if the
    width changes, then nearest-neighbour x2.
    """

    def __init__(self, in_channels: int, out_channels: int, residual_share: float = 0.5, activation: bool = True):
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, 6, 2, 2)
        unit_norm_(self.conv.weight, dim=1)  # ConvTranspose weights are (in, out, k, k)
        self.conv.weight.data.mul_(2)  # each output pixel sees a quarter of the taps
        nn.init.zeros_(self.conv.bias)  # type: ignore[arg-type]
        self.act: nn.Module = StandardisedPReLU(out_channels) if activation else nn.Identity()
        self.project = _projection(in_channels, out_channels)
        self.mix = Mix(out_channels, residual_share)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.project is None else self.project(x)
        shortcut = F.interpolate(shortcut, scale_factor=2.0, mode="nearest")
        return self.mix.activate(self.act, self.conv(x), shortcut)


class WNResidual(nn.Module):
    """Weight-normalised residual block (Xiang & Li, arXiv:1704.03971; the style-space paper,
    Sec. 5.2): (B, in_channels, H, W) -> (B, out_channels, H', W') with H' = H/2, H or 2H.

    Residual: WN-conv (kernel stride + 2, i.e. 4x4 stride 2 when resampling, 3x3 otherwise)
    -> TPReLU -> WN-conv 3x3. Shortcut: AvgPool 2 (down) or nearest x2 (up), then a WN 1x1
    convolution when the width changes. The two are mixed by learnable per-channel weights
    ``a, b`` normalised as ``(a r + b s) / sqrt(a^2 + b^2)``, so unit-variance branches give
    a unit-variance sum whatever the weights learn.

    Args:
        in_channels: input width.
        out_channels: output width.
        resample: ``"down"``, ``"up"`` or ``"none"``.
    """

    def __init__(self, in_channels: int, out_channels: int, resample: Literal["down", "up", "none"] = "none"):
        super().__init__()
        if resample not in ("down", "up", "none"):
            raise ValueError(f"resample={resample!r} is not allowed; choose 'down', 'up' or 'none'")
        self.resample = resample
        first: nn.Conv2d | nn.ConvTranspose2d
        if resample == "up":
            first = weight_normed(nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1), gain=2.0)
        elif resample == "down":
            first = weight_normed(nn.Conv2d(in_channels, out_channels, 4, 2, 1))
        else:
            first = weight_normed(nn.Conv2d(in_channels, out_channels, 3, 1, 1))
        self.conv1, self.act = first, TPReLU(out_channels)
        # gain sqrt(2 / (1 + slope^2)): what the PReLU at slope 0.25 takes away from the variance
        self.conv2 = weight_normed(nn.Conv2d(out_channels, out_channels, 3, 1, 1), gain=math.sqrt(2 / 1.0625))
        self.project = weight_normed(nn.Conv2d(in_channels, out_channels, 1)) if in_channels != out_channels else None
        self.residual_weight = nn.Parameter(torch.ones(1, out_channels, 1, 1))
        self.shortcut_weight = nn.Parameter(torch.ones(1, out_channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.conv2(self.act(self.conv1(x)))
        shortcut = x
        if self.resample == "down":
            shortcut = F.avg_pool2d(shortcut, 2)
        if self.project is not None:
            shortcut = self.project(shortcut)
        if self.resample == "up":
            shortcut = F.interpolate(shortcut, scale_factor=2.0, mode="nearest")
        a, b = self.residual_weight, self.shortcut_weight
        return (a * residual + b * shortcut) * torch.rsqrt(a.square() + b.square() + 1e-8)
