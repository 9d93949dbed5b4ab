"""Exploring a trained :class:`StyleContentGAN` (the style-space paper, Sec. 6): random
styles for a fixed content, bilinear interpolation between four styles, one-dimension
sweeps beside the training images ranked lowest and highest on that dimension,
reconstruction and style transfer.

Every function takes and returns sRGB images in [-1, 1]; grids are (rows, cols, 3, H, W),
ready for :func:`animestyle.callbacks.save_grid`. Call them under ``torch.no_grad()`` and
with the module in eval mode (:func:`explore` does both).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import torch

__all__ = [
    "StyleContentGenerator",
    "dimension_sweep",
    "random_styles",
    "rank_by_dimension",
    "style_interpolation",
    "transfer_grid",
]

SIGMAS = (-2.0, -1.0, 0.0, 1.0, 2.0)


class StyleContentGenerator(Protocol):
    """What exploring uses of a :class:`~animestyle.methods.StyleContentGAN` (which calls
    these functions for its own sample grids, so they cannot import it)."""

    style_dims: int

    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Codes (B, code_dim) -> style (B, style_dims), content and free parts."""
        ...

    def codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """sRGB images (B, 3, S, S) -> standardised style and content codes."""
        ...

    def generate(self, style: torch.Tensor, content: torch.Tensor, free: torch.Tensor | None = None) -> torch.Tensor:
        """Codes -> sRGB images (B, 3, S, S) in [-1, 1]."""
        ...


def random_styles(gan: StyleContentGenerator, content: torch.Tensor, count: int, seed: int = 0) -> torch.Tensor:
    """Each content (rows) drawn in ``count`` random styles from N(0, I) (columns), the same
    styles in every row (Figure 3, left).

    Args:
        gan: the trained GAN.
        content: (N, content_dims) content codes.
        count: styles per row.
        seed: seed of the styles.

    Returns:
        (N, count, 3, S, S).
    """
    styles = torch.randn(count, gan.style_dims, generator=torch.Generator().manual_seed(seed)).to(content)
    n = len(content)
    images = gan.generate(styles.repeat(n, 1), content.repeat_interleave(count, 0))
    return images.view(n, count, *images.shape[1:])


def style_interpolation(
    gan: StyleContentGenerator, corners: torch.Tensor, content: torch.Tensor, steps: int = 5
) -> torch.Tensor:
    """One content in styles bilinearly interpolated between four corner styles (Figure 3,
    right): top-left, top-right, bottom-left, bottom-right.

    Args:
        gan: the trained GAN.
        corners: (4, style_dims).
        content: (content_dims,) or (1, content_dims).
        steps: rows and columns of the grid, >= 2.

    Returns:
        (steps, steps, 3, S, S).
    """
    if corners.shape != (4, gan.style_dims) or steps < 2:
        raise ValueError(f"corners must be (4, {gan.style_dims}) and steps >= 2; got {tuple(corners.shape)}, {steps}")
    t = torch.linspace(0, 1, steps, device=corners.device)
    v, u = torch.meshgrid(t, t, indexing="ij")  # v: down, u: across
    weights = torch.stack([(1 - v) * (1 - u), (1 - v) * u, v * (1 - u), v * u], -1).view(-1, 4)
    styles = weights @ corners
    images = gan.generate(styles, content.reshape(1, -1).expand(len(styles), -1))
    return images.view(steps, steps, *images.shape[1:])


def dimension_sweep(
    gan: StyleContentGenerator, dim: int, z: torch.Tensor, sigmas: Iterable[float] = SIGMAS
) -> torch.Tensor:
    """Random codes (rows) with style dimension ``dim`` set to each of ``sigmas`` (columns),
    everything else unchanged (Figures 4 and 5; the styles are standardised, so a value is
    in standard deviations of the training set).

    Args:
        gan: the trained GAN.
        dim: style dimension, 0-based.
        z: (N, code_dim) codes.
        sigmas: values of the dimension.

    Returns:
        (N, len(sigmas), 3, S, S).
    """
    if not 0 <= dim < gan.style_dims:
        raise ValueError(f"dim={dim} is not a kept style dimension (0 to {gan.style_dims - 1})")
    values = torch.tensor(list(sigmas), dtype=z.dtype, device=z.device)
    swept = z.repeat_interleave(len(values), 0).clone()
    swept[:, dim] = values.repeat(len(z))
    style, content, free = gan.split(swept)
    images = gan.generate(style, content, free)
    return images.view(len(z), len(values), *images.shape[1:])


def rank_by_dimension(styles: torch.Tensor, dim: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of the ``count`` images lowest and highest on style dimension ``dim``.

    Args:
        styles: (N, style_dims) style codes of the training images.
        dim: the dimension.
        count: images at each end.

    Returns:
        ``(lowest, highest)``, (count,) each, most extreme first.
    """
    order = styles[:, dim].argsort()
    return order[:count], order.flip(0)[:count]


def transfer_grid(gan: StyleContentGenerator, contents: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
    """The content of each of ``contents`` (rows) with the style of each of ``styles``
    (columns), from their codes (Sec. 6.4, Figure 7).

    Args:
        gan: the trained GAN.
        contents: (N, 3, S, S) sRGB images.
        styles: (M, 3, S, S) sRGB images.

    Returns:
        (N, M, 3, S, S).
    """
    _, content = gan.codes(contents)
    style, _ = gan.codes(styles)
    n, m = len(content), len(style)
    images = gan.generate(style.repeat(n, 1), content.repeat_interleave(m, 0))
    return images.view(n, m, *images.shape[1:])
