"""U-Net generator of conditional adversarial style transfer (Deelaka, approach 1).

The content and the style image are stacked into one 6-channel input; an encoder of
stride-2 4x4 convolutions (C64 without batch norm, then C128, C256, C512, C512, C512 at
128 px, LeakyReLU 0.2) brings it to a 2x2 map, and a decoder of transposed convolutions
mirrors it with a skip connection from every encoder level (dropout 0.4 on the first two
decoder levels, ReLU, tanh out) -- pix2pix's generator (Isola et al.) with a second image
as input.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["UNetGenerator"]


def _check_levels(image_size: int, levels: int) -> None:
    if levels < 1 or image_size % 2**levels or image_size < 2**levels:
        raise ValueError(f"image_size={image_size} must be a multiple of 2**{levels} (one halving per width)")


class UNetGenerator(nn.Module):
    """(content (B, C, S, S), style (B, C, S, S)) -> transfer (B, out_channels, S, S) in [-1, 1].

    Args:
        image_size: ``S``, a multiple of ``2 ** len(widths)``.
        widths: encoder channels per level; the decoder mirrors them (the author's code:
            64, 128, 256, 512, 512, 512).
        channels: ``C``, channels of each input image.
        out_channels: channels of the output.
        dropout: dropout probability on the first ``dropout_levels`` decoder levels.
        dropout_levels: how many decoder levels (from the innermost) have dropout.
    """

    def __init__(
        self,
        image_size: int,
        widths: tuple[int, ...] = (64, 128, 256, 512, 512, 512),
        channels: int = 3,
        out_channels: int = 3,
        dropout: float = 0.4,
        dropout_levels: int = 2,
    ):
        super().__init__()
        _check_levels(image_size, len(widths))
        self.image_size, self.channels = image_size, channels
        self.down = nn.ModuleList()
        previous = 2 * channels
        for level, width in enumerate(widths):
            normed = 0 < level < len(widths) - 1  # pix2pix: none on the first nor on the 1x1-ish innermost
            layers: list[nn.Module] = [nn.Conv2d(previous, width, 4, 2, 1, bias=not normed)]
            layers += [nn.BatchNorm2d(width)] if normed else []
            self.down.append(nn.Sequential(*layers, nn.LeakyReLU(0.2)))
            previous = width
        self.up = nn.ModuleList()
        for k, level in enumerate(range(len(widths) - 1, 0, -1)):  # innermost first
            width = widths[level - 1]
            layers = [nn.ConvTranspose2d(previous, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width)]
            layers += [nn.Dropout(dropout)] if k < dropout_levels else []
            self.up.append(nn.Sequential(*layers, nn.ReLU()))
            previous = 2 * width  # concatenated with the encoder's features of that level
        self.out = nn.Sequential(nn.ConvTranspose2d(previous, out_channels, 4, 2, 1), nn.Tanh())

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        expected = (self.channels, self.image_size, self.image_size)
        for name, x in (("content", content), ("style", style)):
            if x.ndim != 4 or tuple(x.shape[1:]) != expected:
                raise ValueError(f"{name} must be (B, {', '.join(map(str, expected))}); got {tuple(x.shape)}")
        h = torch.cat([content, style], dim=1)
        skips = []
        for block in self.down:
            h = block(h)
            skips.append(h)
        for block, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            h = torch.cat([block(h), skip], dim=1)
        return self.out(h)
