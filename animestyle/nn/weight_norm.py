"""Weight normalisation (Salimans & Kingma, 2016) of convolutions and linear layers.

Each output unit's weight is ``g * v / ||v||``, recomputed on every forward; the style-space
paper's networks use it instead of batch normalisation (Xiang & Li, arXiv:1704.03971).
torch's own parametrization does the work; this file only picks the output dimension and
the initial gain.
"""

from __future__ import annotations

from typing import TypeVar

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

__all__ = ["weight_normed"]

Layer = TypeVar("Layer", nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def weight_normed(layer: Layer, gain: float = 1.0) -> Layer:
    """``layer`` with weight normalisation per output unit, every unit's norm ``g`` set to
    ``gain`` and the bias zeroed.

    ``ConvTranspose2d`` keeps its output channels in weight dimension 1, the others in 0.
    For a transposed convolution of stride 2 each output pixel sees a quarter of the taps,
    so pass ``gain=2`` to keep unit variance.
    """
    dim = 1 if isinstance(layer, nn.ConvTranspose2d) else 0
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    layer = weight_norm(layer, dim=dim)
    with torch.no_grad():
        layer.parametrizations.weight.original0.fill_(gain)  # type: ignore[union-attr,operator]
    return layer
