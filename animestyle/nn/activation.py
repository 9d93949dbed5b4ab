"""PReLU followed by a fixed affine map that keeps a unit Gaussian input standardised."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["StandardisedPReLU"]


class StandardisedPReLU(nn.Module):
    """``(prelu(x) - m) / s``, per-channel slope initialised to ``slope``.

    ``m`` and ``s`` are the mean and standard deviation of ``prelu(z)`` for ``z ~ N(0, 1)``
    at the initial slope, fixed (buffers): stacked blocks then start with unit-variance
    activations without normalisation layers (the GADN code's activation).

    Args:
        channels: number of channels (dimension 1 of the input).
        slope: initial negative slope.
    """

    def __init__(self, channels: int, slope: float = 0.25):
        super().__init__()
        self.prelu = nn.PReLU(channels, init=slope)
        mean = (1 - slope) / math.sqrt(2 * math.pi)
        var = 0.5 * (1 + slope**2) - mean**2
        self.register_buffer("shift", torch.tensor(mean), persistent=False)
        self.register_buffer("scale", torch.tensor(1 / math.sqrt(var)), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x: (B, channels, ...). Returns: same shape."""
        return (self.prelu(x) - self.shift) * self.scale
