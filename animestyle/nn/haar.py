"""One level of the orthonormal 2D Haar wavelet transform, and its exact inverse.

The wavelet style discriminator of conditional adversarial style transfer (Deelaka) splits
an image into a low band and three detail bands at each level. A few lines of tensor maths
do it exactly, on any device and dtype, and keep gradients; the wavelet libraries for
PyTorch would add a dependency for this one transform.
"""

from __future__ import annotations

import torch

__all__ = ["haar_merge", "haar_split"]


def haar_split(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(B, C, H, W) with even H and W -> the bands ``(ll, lh, hl, hh)``, each (B, C, H/2, W/2).

    ``ll`` is the local average (times 2: the transform is orthonormal, so energy is kept);
    ``lh`` the difference across rows (horizontal edges), ``hl`` across columns (vertical
    edges), ``hh`` the diagonal detail.
    """
    if x.ndim != 4 or x.shape[-1] % 2 or x.shape[-2] % 2:
        raise ValueError(f"x must be (B, C, H, W) with even H and W; got {tuple(x.shape)}")
    a, b = x[..., 0::2, 0::2], x[..., 0::2, 1::2]  # top-left, top-right of each 2x2 block
    c, d = x[..., 1::2, 0::2], x[..., 1::2, 1::2]  # bottom-left, bottom-right
    return (a + b + c + d) / 2, (a + b - c - d) / 2, (a - b + c - d) / 2, (a - b - c + d) / 2


def haar_merge(ll: torch.Tensor, lh: torch.Tensor, hl: torch.Tensor, hh: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`haar_split`: four (B, C, h, w) bands -> (B, C, 2h, 2w)."""
    if not ll.shape == lh.shape == hl.shape == hh.shape:
        raise ValueError(f"the bands must have one shape; got {[tuple(t.shape) for t in (ll, lh, hl, hh)]}")
    a, b = (ll + lh + hl + hh) / 2, (ll + lh - hl - hh) / 2
    c, d = (ll - lh + hl - hh) / 2, (ll - lh - hl + hh) / 2
    top = torch.stack([a, b], -1).flatten(-2)  # interleave columns
    bottom = torch.stack([c, d], -1).flatten(-2)
    return torch.stack([top, bottom], -2).flatten(-3, -2)  # interleave rows
