"""An exponential moving average copy of a network, kept inside the LightningModule.

Being a submodule, it is saved and restored with every checkpoint; its parameters never
require gradients and belong to no optimizer.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["EMA"]


class EMA(nn.Module):
    """``EMA(network, decay)``; ``update(network)`` after each optimizer step of ``network``.

    Args:
        network: the network to average (copied at construction).
        decay: weight of the old average per update (0.999: a horizon of ~1,000 steps).
    """

    def __init__(self, network: nn.Module, decay: float = 0.999):
        super().__init__()
        if not 0 <= decay < 1:
            raise ValueError(f"ema decay={decay} must be in [0, 1)")
        self.decay = decay
        self.network = copy.deepcopy(network).requires_grad_(False).eval()

    @torch.no_grad()
    def update(self, network: nn.Module, decay: float | None = None) -> None:
        """Move the average toward ``network``'s current weights (by ``1 - decay``; None:
        the constructor's decay); buffers are copied."""
        keep = self.decay if decay is None else decay
        for average, current in zip(self.network.parameters(), network.parameters(), strict=True):
            average.lerp_(current.detach(), 1 - keep)
        for kept, buffer in zip(self.network.buffers(), network.buffers(), strict=True):
            kept.copy_(buffer)

    @torch.no_grad()
    def reset(self, network: nn.Module) -> None:
        """Make the average equal to ``network`` (after loading weights into it)."""
        self.network.load_state_dict(network.state_dict())

    def train(self, mode: bool = True) -> EMA:
        super().train(mode)
        self.network.eval()  # the average is only ever used for inference
        return self

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        return self.network(*args)
