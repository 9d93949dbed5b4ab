"""Activations: a standardised PReLU (GADN) and a translated PReLU (the style-space paper)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from animestyle.nn.fused import standardised_prelu

__all__ = ["StandardisedPReLU", "TPReLU"]


class StandardisedPReLU(nn.Module):
    """``(prelu(x) - m) / s``, per-channel slope initialised to ``slope``.

    ``m`` and ``s`` are the mean and standard deviation of ``prelu(z)`` for ``z ~ N(0, 1)``
    at the initial slope, fixed (buffers): stacked blocks then start with unit-variance
    activations without normalisation layers (the GADN code's activation).

    Args:
        channels: number of channels (dimension 1 of the input).
        slope: initial negative slope.
    """

    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(self, channels: int, slope: float = 0.25):
        super().__init__()
        self.prelu = nn.PReLU(channels, init=slope)
        mean = (1 - slope) / math.sqrt(2 * math.pi)
        var = 0.5 * (1 + slope**2) - mean**2
        self.register_buffer("shift", torch.tensor(mean), persistent=False)
        self.register_buffer("scale", torch.tensor(1 / math.sqrt(var)), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x: (B, channels, ...). Returns: same shape."""
        return standardised_prelu(x, self.prelu.weight, self.shift, self.scale)


class TPReLU(nn.Module):
    """Translated PReLU: ``prelu(x - t) + t`` with a learnable per-channel translation ``t``
    and a negative slope clamped to [0, 1] (Xiang & Li, arXiv:1704.03971, the activation of
    their weight-normalised residual networks, which the style-space paper uses).

    Args:
        channels: number of channels (dimension 1 of the input).
        slope: initial negative slope, in [0, 1].
    """

    def __init__(self, channels: int, slope: float = 0.25):
        super().__init__()
        if not 0 <= slope <= 1:
            raise ValueError(f"slope={slope} must be in [0, 1]")
        self.slope = nn.Parameter(torch.full((channels,), slope))
        self.translation = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x: (B, channels, ...). Returns: same shape."""
        shape = (1, -1) + (1,) * (x.ndim - 2)
        t = self.translation.view(shape)
        return F.prelu(x - t, self.slope.clamp(0, 1)) + t
