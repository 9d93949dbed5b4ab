"""GADN's bus block: global context written back to every position (arXiv:1905.10742,
Sec. 4.3, "increasing the number of blocks"; the official code's default)."""

from __future__ import annotations

import torch
from torch import nn

from animestyle.nn import fused
from animestyle.nn.residual import Mix, unit_norm_

__all__ = ["BusBlock"]


class BusBlock(nn.Module):
    """(B, C, H, W) -> (B, C, H, W): an attention-weighted mean over all positions, read
    back through a linear layer and added at every position, mixed like a residual block.

    Two 1x1 convolutions give a value map and a weight map (``bus_channels`` each); per
    channel, the weights are ``softplus`` and normalised over the positions, so each bus
    channel pools the values where its own weight is high. This gives a convolutional
    network the whole picture's context at every level for the price of two 1x1
    convolutions. Fused with its :class:`Mix` (:func:`~animestyle.nn.residual.fuse_elementwise`),
    the pooling is one compiled kernel too.

    Args:
        channels: ``C``.
        residual_share: the pooled branch's share at initialisation (see ``Mix``).
        bus_channels: pooled channels; None: ``channels``.
    """

    def __init__(self, channels: int, residual_share: float = 0.5, bus_channels: int | None = None):
        super().__init__()
        bus = bus_channels or channels
        self.value = nn.Conv2d(channels, bus, 1)
        self.weight = nn.Conv2d(channels, bus, 1)
        self.read = nn.Linear(bus, channels)
        for layer in (self.value, self.weight, self.read):
            unit_norm_(layer.weight)
            nn.init.zeros_(layer.bias)  # type: ignore[arg-type]
        self.mix = Mix(channels, residual_share)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = fused.compiled(fused.attention_pool) if self.mix.fused else fused.attention_pool
        pooled = pool(self.value(x).flatten(2), self.weight(x).flatten(2))  # (B, bus)
        return self.mix(self.read(pooled)[:, :, None, None], x)
