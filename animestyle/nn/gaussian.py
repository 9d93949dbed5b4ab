"""Two linear heads giving a diagonal Gaussian: mean and ``softplus`` standard deviation."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GaussianHead", "softplus_inverse"]


def softplus_inverse(value: float) -> float:
    """``y`` with ``softplus(y) == value`` (value > 0)."""
    return math.log(math.expm1(value))


class GaussianHead(nn.Module):
    """(B, in_features) -> mean (B, out_features) and std (B, out_features) > 0.

    The std head's bias starts at ``softplus_inverse(1)``: codes start with unit noise, as the
    unit-Gaussian prior they are pulled toward.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.mean = nn.Linear(in_features, out_features)
        self.std = nn.Linear(in_features, out_features)
        nn.init.zeros_(self.mean.bias)
        nn.init.constant_(self.std.bias, softplus_inverse(1.0))
        self.std.weight.data.mul_(0.1)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mean(h), F.softplus(self.std(h)) + 1e-6
