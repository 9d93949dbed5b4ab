"""Per-image PSNR and SSIM of images in [-1, 1] (the ANIMEGAN report's Table 2).

Both are computed on the [0, 1] scale, as image libraries report them: PSNR in dB with a
peak of 1, SSIM with an 11x11 Gaussian window (sigma 1.5), averaged over pixels and
channels (kornia's implementation). Inputs are compared in float32 whatever their dtype.
"""

from __future__ import annotations

import torch
from kornia.metrics import ssim as _ssim

__all__ = ["psnr", "ssim"]


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


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11) -> torch.Tensor:
    """(B,) SSIM between images ``x`` and ``y`` (B, C, H, W) in [-1, 1]."""
    _check(x, y)
    return _ssim((x.float() + 1) / 2, (y.float() + 1) / 2, window).mean((1, 2, 3))
