"""Colour spaces of batches: sRGB in [-1, 1], or CIE Lab scaled to about [-1, 1].

The style-space paper trains every network in Lab. Conversion uses kornia, so it is
differentiable and runs on the batch's device. Scaling: ``L / 50 - 1`` (L is 0 to 100) and
``a / 110``, ``b / 110`` (the sRGB gamut spans a in [-86, 98] and b in [-108, 95]).
"""

from __future__ import annotations

import torch
from kornia.color import lab_to_rgb as _lab_to_rgb
from kornia.color import rgb_to_lab as _rgb_to_lab

__all__ = ["lab_to_rgb", "rgb_to_lab"]

_AB_SCALE = 110.0


def rgb_to_lab(x: torch.Tensor) -> torch.Tensor:
    """sRGB ``x`` (B, 3, H, W) in [-1, 1] -> scaled Lab (B, 3, H, W), about [-1, 1]."""
    lab = _rgb_to_lab(((x + 1) / 2).clamp(0, 1))
    return torch.cat([lab[:, :1] / 50 - 1, lab[:, 1:] / _AB_SCALE], dim=1)


def lab_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Scaled Lab ``x`` (B, 3, H, W) -> sRGB (B, 3, H, W) in [-1, 1], for display and metrics.

    Out-of-gamut colours are clipped; use kornia directly with ``clip=False`` inside losses.
    """
    lab = torch.cat([(x[:, :1] + 1) * 50, x[:, 1:] * _AB_SCALE], dim=1)
    return _lab_to_rgb(lab, clip=True) * 2 - 1
