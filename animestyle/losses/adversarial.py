"""Adversarial losses.

LSGAN with GADN's targets (arXiv:1905.10742, Sec. 4.2.2): the discriminator pushes real
scores to 1 and fake ones to -1; the generator pulls fake scores to 0, the midpoint.
The standard (cross-entropy) GAN losses on logits, for the style-space paper's GAN.
WGAN with gradient penalty (Gulrajani et al., 2017), STGAN's loss and one of the ANIMEGAN
report's choices.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = [
    "gan_discriminator",
    "gan_generator",
    "gradient_penalty",
    "lsgan_discriminator",
    "lsgan_generator",
    "wgan_discriminator",
    "wgan_generator",
]


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


def wgan_discriminator(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic's Wasserstein loss, ``mean(D(x_fake)) - mean(D(x))``. Args: real, fake:
    scores, (B,)."""
    return fake.float().mean() - real.float().mean()


def wgan_generator(fake: torch.Tensor) -> torch.Tensor:
    """``-mean(D(x_fake))``. Args: fake: scores, (B,)."""
    return -fake.float().mean()


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor | tuple[torch.Tensor, ...]],
    real: torch.Tensor,
    fake: torch.Tensor,
    weight_generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP's penalty, ``mean((||grad D(x_hat)||_2 - 1)^2)`` on ``x_hat = real + alpha
    (fake - real)`` with one ``alpha ~ U(0, 1)`` per sample (Gulrajani et al., 2017).

    Computed in float32 with autocast off, whatever the precision plugin: bf16 keeps about
    three significant digits, too few for ``(norm - 1)^2`` near its minimum, and fp16
    gradients of gradients can overflow. The graph is kept
    (``create_graph``) so the penalty trains the critic; the interpolates are detached, so
    nothing flows back to whatever made ``fake``.

    Args:
        critic: images -> scores (B,) or (B, 1); a tuple's first element is taken (a
            discriminator with an attribute head).
        real: (B, ...) real samples.
        fake: (B, ...) generated samples, the shape of ``real``.
        weight_generator: random source for the interpolation weights ``alpha``.

    Returns:
        The scalar penalty, float32 (multiply by its weight, 10 in STGAN).
    """
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} must have one shape")
    with torch.autocast(device_type=real.device.type, enabled=False):
        real, fake = real.detach().float(), fake.detach().float()
        where = weight_generator.device if weight_generator is not None else real.device
        shape = (real.shape[0],) + (1,) * (real.ndim - 1)
        alpha = torch.rand(shape, generator=weight_generator, device=where).to(real.device)
        mixed = (real + alpha * (fake - real)).requires_grad_(True)
        scores = critic(mixed)
        if isinstance(scores, tuple):
            scores = scores[0]
        if scores.shape not in ((real.shape[0],), (real.shape[0], 1)):
            raise ValueError(f"critic must return (B,) or (B, 1) scores; got {tuple(scores.shape)}")
        (grad,) = torch.autograd.grad(scores.float().sum(), mixed, create_graph=True)
        return (grad.flatten(1).norm(dim=1) - 1).square().mean()
