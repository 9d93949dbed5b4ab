"""Adversarial losses.

LSGAN with GADN's targets (arXiv:1905.10742, Sec. 4.2.2): the discriminator pushes real
scores to 1 and fake ones to -1; the generator pulls fake scores to 0, the midpoint.
The standard (cross-entropy) GAN losses on logits, for the style-space paper's GAN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["gan_discriminator", "gan_generator", "lsgan_discriminator", "lsgan_generator"]


def lsgan_discriminator(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``mean((D(x) - 1)^2) + mean((D(x_fake) + 1)^2)``. Args: real, fake: scores, (B,)."""
    return (real - 1).square().mean() + (fake + 1).square().mean()


def lsgan_generator(fake: torch.Tensor) -> torch.Tensor:
    """``mean(D(x_fake)^2)``. Args: fake: scores, (B,)."""
    return fake.square().mean()


def gan_discriminator(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The standard GAN discriminator loss on logits, ``-log D(x) - log(1 - D(G(z)))``,
    averaged over each set (Goodfellow et al., 2014; the style-space paper, Sec. 4)."""
    return F.softplus(-real.float()).mean() + F.softplus(fake.float()).mean()


def gan_generator(fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss on logits, ``-log D(G(z))``, averaged."""
    return F.softplus(-fake.float()).mean()
