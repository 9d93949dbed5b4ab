"""Nested dropout (Rippel et al., 2014): keep a random prefix of a code's dimensions.

Dimension ``i`` (from 0) survives with probability ``p**i``; training under it orders the
dimensions by importance, so the first 2 or 8 of a code can be read on their own (GADN's
encoder analysis, Tables 4-7; the style-space paper's dimension pruning).

The style-space paper (Sec. 3) also scales a code cut to its first ``b`` dimensions by a
learned ``s_b``, one per possible ``b``, "to account for different feature scaling under
different number of dimensions"; ``scaled=True`` adds those scales. Its metric loss needs the
cut-offs themselves (the learned artist styles are cut and scaled like the image they are
compared with): :meth:`NestedDropout.draw` and :meth:`NestedDropout.cut` split the forward.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["NestedDropout", "prefix_mask"]


def prefix_mask(kept: torch.Tensor, dims: int) -> torch.Tensor:
    """(B,) numbers of kept dimensions -> (B, dims) bool, True on each row's first ``kept``."""
    return torch.arange(dims, device=kept.device) < kept.unsqueeze(-1)


class NestedDropout(nn.Module):
    """Zero the dimensions after a random cut-off ``b`` of each row, in training mode only.

    Args:
        dims: code width ``D``.
        keep: ``p``, the ratio of successive keep probabilities; default ``1 - 2 / D`` (the
            GADN code's choice).
        scaled: learn a scale ``s_b`` per cut-off (the style-space paper's eq. 3), 1 at first.
    """

    def __init__(self, dims: int, keep: float | None = None, scaled: bool = False):
        super().__init__()
        p = 1 - 2 / dims if keep is None else keep
        if not 0 < p <= 1:
            raise ValueError(f"keep={p} must be in (0, 1]; with keep=None, dims must be > 2")
        self.dims, self.keep = dims, p
        self.register_buffer("keep_probability", p ** torch.arange(dims, dtype=torch.float32), persistent=False)
        self.scale = nn.Parameter(torch.ones(dims)) if scaled else None

    def draw(self, batch: int, device: torch.device | None = None) -> torch.Tensor:
        """(batch,) int64 cut-offs ``b`` in [1, D] with ``P(b > i) = p**i``; all ``D`` when
        ``p == 1``."""
        if self.keep == 1:
            return torch.full((batch,), self.dims, dtype=torch.long, device=device)
        u = torch.rand(batch, device=device).clamp_min(1e-12)
        # b - 1 is geometric with success probability 1 - p, truncated at D.
        b = 1 + torch.floor(torch.log(u) / torch.log(torch.tensor(self.keep)))
        return b.clamp(max=self.dims).long()

    def cut(self, code: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
        """Cut each row of ``code`` (B, D) to its first ``kept`` (B,) dimensions and scale it
        by ``s_kept`` when scaled. Returns (B, D)."""
        out = code * prefix_mask(kept, self.dims).to(code.dtype)
        if self.scale is not None:
            out = out * self.scale[kept - 1].unsqueeze(-1).to(code.dtype)
        return out

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        """Args: code: (B, D). Returns: (B, D), cut and scaled when training; else whole,
        scaled by ``s_D`` when scaled (as a row that keeps every dimension in training)."""
        if not self.training:
            return code if self.scale is None else code * self.scale[-1].to(code.dtype)
        return self.cut(code, self.draw(code.shape[0], code.device))
