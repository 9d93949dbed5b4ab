"""KL divergence of diagonal Gaussians to the unit Gaussian."""

from __future__ import annotations

import torch

__all__ = ["gaussian_kl"]


def gaussian_kl(mean: torch.Tensor, std: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """``KL(N(mean, diag(std^2)) || N(0, I))``: per dimension
    ``0.5 (mean^2 + std^2) - log std - 0.5``, summed over dimensions (optionally weighted,
    e.g. by nested-dropout keep probabilities), averaged over the batch.

    Args:
        mean: (B, D).
        std: (B, D), > 0.
        weight: optional (D,).

    Returns:
        scalar.
    """
    per_dim = 0.5 * (mean.square() + std.square()) - std.log() - 0.5
    if weight is not None:
        per_dim = per_dim * weight
    return per_dim.sum(1).mean()
