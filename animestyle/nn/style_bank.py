"""The style function ``S(a)`` of GADN (arXiv:1905.10742, Sec. 4.2.1): a learned Gaussian per artist.

Not an encoder: each artist ``a`` owns a mean and a standard deviation in ``style_dim``
dimensions, pulled toward ``N(0, I)`` by a KL term.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from animestyle.nn.gaussian import softplus_inverse

__all__ = ["StyleBank", "style_dim_for"]


def style_dim_for(num_artists: int) -> int:
    """The GADN code's style width: ``min(max(min(A // 4, 256), 16), A)`` (256 for 1,000+ artists)."""
    return min(max(min(num_artists // 4, 256), 16), num_artists)


class StyleBank(nn.Module):
    """Per-artist Gaussians ``N(mu_a, diag(std_a^2))``.

    Args:
        num_artists: ``A``.
        style_dim: ``D``.
        standardise: the official code's variant: express every artist's Gaussian relative
            to the artist-frequency-weighted mixture (zero mean, unit variance per dimension)
            before use and before the KL. Off: the paper's plain ``KL(S(a) || N(0, I))``.

    ``frequency`` (A,) weighs artists in the KL and the mixture; uniform until
    :meth:`set_frequency` is given the training counts.
    """

    frequency: torch.Tensor

    def __init__(self, num_artists: int, style_dim: int, standardise: bool = False):
        super().__init__()
        self.num_artists, self.style_dim, self.standardise = num_artists, style_dim, standardise
        self.mean = nn.Parameter(torch.zeros(num_artists, style_dim))
        self.pstd = nn.Parameter(torch.full((num_artists, style_dim), softplus_inverse(1.0)))
        self.register_buffer("frequency", torch.full((num_artists,), 1 / num_artists))

    @torch.no_grad()
    def set_frequency(self, counts: torch.Tensor) -> None:
        """Weights of the artists from their training image counts (A,)."""
        if counts.shape != (self.num_artists,):
            raise ValueError(f"counts must have shape ({self.num_artists},); got {tuple(counts.shape)}")
        self.frequency.copy_(counts.float() / counts.sum())

    def gaussians(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every artist's mean and std, (A, D) each, standardised if asked."""
        mean: torch.Tensor = self.mean
        std = F.softplus(self.pstd) + 1e-6
        if self.standardise:
            w = self.frequency[:, None]
            centre = (w * mean).sum(0)
            spread = ((w * (std**2 + mean**2)).sum(0) - centre**2).clamp_min(1e-8).sqrt()
            mean, std = (mean - centre) / spread, std / spread
        return mean, std

    def forward(self, artist: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: artist: (B,) int64 in [0, A). Returns: mean and std, (B, D) each."""
        mean, std = self.gaussians()
        return mean[artist], std[artist]

    def sample(self, artist: torch.Tensor) -> torch.Tensor:
        """A style code per row, (B, D): the mean in eval mode, a draw in training mode."""
        mean, std = self(artist)
        return mean + std * torch.randn_like(std) if self.training else mean

    def kl(self) -> torch.Tensor:
        """Frequency-weighted ``KL(N(mu_a, std_a) || N(0, I))`` over all artists (scalar)."""
        mean, std = self.gaussians()
        per_artist = (0.5 * (mean**2 + std**2) - std.log() - 0.5).sum(1)
        return (self.frequency * per_artist).sum()
