"""Gated convolution (Yu et al., "Free-Form Image Inpainting with Gated Convolution", 2019).

``O(x) = phi(norm(W_f * x)) * sigmoid(W_g * x)``: a second convolution learns a soft
per-pixel, per-channel mask in [0, 1] that chooses which features go on. The ANIMEGAN report
(Sec. 4.1.1) uses it in the encoder of its STGAN-style generator so that capacity goes to the
textures of anime's flat colour blocks rather than to the colours; everywhere else it keeps
plain convolutions (gated ones made the colour of a block drift).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

__all__ = ["GatedConv2d", "activation_layer", "norm_layer"]

Norm = Literal["batch", "instance", "none"]
Activation = Literal["leaky_relu", "relu", "none"]


def norm_layer(norm: str, channels: int) -> nn.Module:
    """``"batch"`` -> BatchNorm2d, ``"instance"`` -> InstanceNorm2d(affine=True), ``"none"``
    -> Identity."""
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm={norm!r} is not allowed; choose 'batch', 'instance' or 'none'")


def activation_layer(activation: str) -> nn.Module:
    """``"leaky_relu"`` (slope 0.2, as in STGAN), ``"relu"`` or ``"none"``."""
    if activation == "leaky_relu":
        return nn.LeakyReLU(0.2)
    if activation == "relu":
        return nn.ReLU()
    if activation == "none":
        return nn.Identity()
    raise ValueError(f"activation={activation!r} is not allowed; choose 'leaky_relu', 'relu' or 'none'")


class GatedConv2d(nn.Module):
    """(B, in_channels, H, W) -> (B, out_channels, H', W') with the sizes of ``nn.Conv2d``
    (H' = H / 2 with the defaults, 4x4 stride 2 padding 1).

    Args:
        in_channels: input width.
        out_channels: output width.
        kernel_size: of both convolutions.
        stride: of both convolutions.
        padding: of both convolutions.
        norm: ``"batch"``, ``"instance"`` (affine) or ``"none"``, on the feature branch only.
        activation: ``phi``: ``"leaky_relu"`` (0.2), ``"relu"`` or ``"none"``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 4,
        stride: int = 2,
        padding: int = 1,
        norm: Norm = "batch",
        activation: Activation = "leaky_relu",
    ):
        super().__init__()
        self.norm = norm_layer(norm, out_channels)
        self.act = activation_layer(activation)
        # a bias before a normalisation is subtracted again: it would only be a dead parameter
        self.feature = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=norm == "none")
        self.gating = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """The mask ``sigmoid(W_g * x)``, (B, out_channels, H', W'), values in [0, 1]."""
        return torch.sigmoid(self.gating(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.feature(x))) * self.gate(x)
