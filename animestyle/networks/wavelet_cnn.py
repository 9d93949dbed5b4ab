"""Wavelet CNN style embedding: the siamese style discriminator of Deelaka's approach 1.

A wavelet CNN (Fujieda et al., 2018) sees an image at several resolutions at once: at each
of ``levels`` levels the low band of the previous level is split by the Haar transform
(:func:`~animestyle.nn.haar_split`) into four bands at half the size, and these bands are
concatenated with the (strided) features of the level before, then two 3x3 convolutions
with batch norm and ReLU follow. Detail bands carry line and texture statistics, the low
band colour, so style is judged both locally and globally. A global average pool, a dense
layer to 16 numbers and an L2 normalisation give the embedding the pairwise margin loss
compares.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from animestyle.nn import haar_split

__all__ = ["WaveletStyleEncoder"]


def _block(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU()
    )


class WaveletStyleEncoder(nn.Module):
    """Images (B, C, S, S) -> style embeddings (B, dim), unit length.

    Args:
        image_size: ``S``, a multiple of ``2 ** levels``.
        channels: ``C``.
        levels: Haar levels (the author's code: 4).
        width: channels at the first level, doubling per level up to ``max_width``.
        max_width: the cap.
        dim: embedding size (the author's code: 16).
    """

    def __init__(
        self, image_size: int, channels: int = 3, levels: int = 4, width: int = 64, max_width: int = 512, dim: int = 16
    ):
        super().__init__()
        if levels < 1 or image_size % 2**levels:
            raise ValueError(
                f"image_size={image_size} must be a multiple of 2**levels = {2**levels}; "
                "lower the style discriminator's levels (style_levels) or change the image size"
            )
        self.image_size, self.channels = image_size, channels
        widths = [min(max_width, width * 2**k) for k in range(levels)]
        self.downsample = nn.ModuleList()  # features of level k-1 to the size of level k
        self.blocks = nn.ModuleList()
        previous = 0
        for w in widths:
            self.downsample.append(_block(previous, previous, stride=2) if previous else nn.Identity())
            self.blocks.append(nn.Sequential(_block(previous + 4 * channels, w), _block(w, w)))
            previous = w
        self.head = nn.Linear(previous, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = (self.channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"x must be (B, {', '.join(map(str, expected))}); got {tuple(x.shape)}")
        low, h = x, None
        for downsample, block in zip(self.downsample, self.blocks, strict=True):
            bands = haar_split(low)
            low = bands[0]
            h = block(torch.cat([*bands] if h is None else [downsample(h), *bands], dim=1))
        assert h is not None
        return F.normalize(self.head(h.mean(dim=(2, 3))), dim=1)
