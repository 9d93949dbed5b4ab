"""Per-image PSNR and SSIM of images in [-1, 1] (the ANIMEGAN report's Table 2).

Both are computed on the [0, 1] scale, as image libraries report them: PSNR in dB with a
peak of 1, SSIM with an 11x11 Gaussian window (sigma 1.5), averaged over pixels and
channels (kornia's implementation). Inputs are compared in float32 whatever their dtype.
"""

from __future__ import annotations

import torch
from kornia.metrics import ssim as _ssim

__all__ = ["changed_region", "psnr", "region_psnr", "ssim"]


def _check(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(
            f"images must be two (B, C, H, W) tensors of one shape; got {tuple(x.shape)}, {tuple(y.shape)}"
        )


def psnr(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """(B,) PSNR in dB between images ``x`` and ``y`` (B, C, H, W) in [-1, 1]; 100 dB caps
    identical images."""
    _check(x, y)
    mse = ((x.float() - y.float()) / 2).square().mean((1, 2, 3))
    return (-10 * torch.log10(mse.clamp_min(eps))).clamp_max(100.0)


def changed_region(before: torch.Tensor, after: torch.Tensor, threshold: float = 0.1) -> torch.Tensor:
    """(B, 1, H, W) bool: the pixels where ``after`` differs from ``before`` (B, C, H, W), in
    [-1, 1], by more than ``threshold`` in some channel (0.1: 5% of the range)."""
    _check(before, after)
    return ((after.float() - before.float()).abs() > threshold).any(1, keepdim=True)


def region_psnr(x: torch.Tensor, y: torch.Tensor, region: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """(B,) PSNR in dB of ``x`` against ``y`` (B, C, H, W) in [-1, 1] over the pixels of
    ``region`` (B, 1, H, W) only; NaN for an image whose region is empty."""
    _check(x, y)
    if region.shape != (x.shape[0], 1, *x.shape[2:]):
        raise ValueError(f"region must be (B, 1, H, W) = {(x.shape[0], 1, *x.shape[2:])}; got {tuple(region.shape)}")
    weight = region.float()
    pixels = weight.sum((1, 2, 3)) * x.shape[1]
    mse = (((x.float() - y.float()) / 2).square() * weight).sum((1, 2, 3)) / pixels.clamp_min(1)
    value = (-10 * torch.log10(mse.clamp_min(eps))).clamp_max(100.0)
    return torch.where(pixels > 0, value, torch.full_like(value, float("nan")))


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11) -> torch.Tensor:
    """(B,) SSIM between images ``x`` and ``y`` (B, C, H, W) in [-1, 1]."""
    _check(x, y)
    return _ssim((x.float() + 1) / 2, (y.float() + 1) / 2, window).mean((1, 2, 3))
