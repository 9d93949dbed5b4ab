"""Adversarial losses.

LSGAN with GADN's targets (arXiv:1905.10742, Sec. 4.2.2): the discriminator pushes real
scores to 1 and fake ones to -1; the generator pulls fake scores to 0, the midpoint.
"""

from __future__ import annotations

import torch

__all__ = ["lsgan_discriminator", "lsgan_generator"]


def lsgan_discriminator(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``mean((D(x) - 1)^2) + mean((D(x_fake) + 1)^2)``. Args: real, fake: scores, (B,)."""
    return (real - 1).square().mean() + (fake + 1).square().mean()


def lsgan_generator(fake: torch.Tensor) -> torch.Tensor:
    """``mean(D(x_fake)^2)``. Args: fake: scores, (B,)."""
    return fake.square().mean()
