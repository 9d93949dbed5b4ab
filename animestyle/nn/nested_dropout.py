"""Nested dropout (Rippel et al., 2014): keep a random prefix of a code's dimensions.

Dimension ``i`` (from 0) survives with probability ``p**i``; training under it orders the
dimensions by importance, so the first 2 or 8 of a code can be read on their own (GADN's
encoder analysis, Tables 4-7; the style-space paper's dimension pruning).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["NestedDropout"]


class NestedDropout(nn.Module):
    """Zero the dimensions after a random cut-off ``k`` of each row, in training mode only.

    Args:
        dims: code width ``D``.
        keep: ``p``, the ratio of successive keep probabilities; default ``1 - 2 / D`` (the
            GADN code's choice).
    """

    def __init__(self, dims: int, keep: float | None = None):
        super().__init__()
        p = 1 - 2 / dims if keep is None else keep
        if not 0 < p <= 1:
            raise ValueError(f"keep={p} must be in (0, 1]; with keep=None, dims must be > 2")
        self.dims, self.keep = dims, p
        self.register_buffer("keep_probability", p ** torch.arange(dims, dtype=torch.float32), persistent=False)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        """Args: code: (B, D). Returns: (B, D), rows zeroed after their cut-off when training."""
        if not self.training or self.keep == 1:
            return code
        u = torch.rand(code.shape[0], 1, device=code.device).clamp_min(1e-12)
        # P(k > i) = p**i: k - 1 is geometric with success probability 1 - p.
        kept = 1 + torch.floor(torch.log(u) / torch.log(torch.tensor(self.keep)))
        mask = torch.arange(self.dims, device=code.device) < kept
        return code * mask.to(code.dtype)
