"""U-Net generator of conditional adversarial style transfer (Deelaka, approach 1).

The content and the style image are stacked into one 6-channel input; an encoder of
stride-2 4x4 convolutions (C64 without batch norm, then C128, C256, C512, C512, C512 at
128 px, LeakyReLU 0.2) brings it to a 2x2 map, and a decoder of transposed convolutions
mirrors it with a skip connection from every encoder level (dropout 0.4 on the first two
decoder levels, ReLU, tanh out) -- pix2pix's generator (Isola et al.) with a second image
as input.

With ``style_dim`` > 0 the style comes instead as a code (B, style_dim), e.g. the style
discriminator's embedding of the style image: the encoder reads the content image alone,
and the code is tiled over the innermost map and over every decoder level's output, as
approach 2's decoder (:class:`~animestyle.networks.SkipDecoder`) reads its style.
"""

from __future__ import annotations

import torch
from torch import nn

from animestyle.nn import append_tiled

__all__ = ["UNetGenerator"]


def _check_levels(image_size: int, levels: int) -> None:
    if levels < 1 or image_size % 2**levels or image_size < 2**levels:
        raise ValueError(f"image_size={image_size} must be a multiple of 2**{levels} (one halving per width)")


class UNetGenerator(nn.Module):
    """(content (B, C, S, S), style (B, C, S, S), or (B, style_dim) when ``style_dim`` > 0)
    -> transfer (B, out_channels, S, S) in [-1, 1].

    Args:
        image_size: ``S``, a multiple of ``2 ** len(widths)``.
        widths: encoder channels per level; the decoder mirrors them (the author's code:
            64, 128, 256, 512, 512, 512).
        channels: ``C``, channels of each input image.
        out_channels: channels of the output.
        dropout: dropout probability on the first ``dropout_levels`` decoder levels.
        dropout_levels: how many decoder levels (from the innermost) have dropout.
        style_dim: 0: the style is an image stacked onto the content (the author's code);
            else the size of a style code tiled into the decoder.
    """

    def __init__(
        self,
        image_size: int,
        widths: tuple[int, ...] = (64, 128, 256, 512, 512, 512),
        channels: int = 3,
        out_channels: int = 3,
        dropout: float = 0.4,
        dropout_levels: int = 2,
        style_dim: int = 0,
    ):
        super().__init__()
        _check_levels(image_size, len(widths))
        self.image_size, self.channels, self.style_dim = image_size, channels, style_dim
        self.down = nn.ModuleList()
        previous = channels if style_dim else 2 * channels
        for level, width in enumerate(widths):
            normed = 0 < level < len(widths) - 1  # pix2pix: none on the first nor on the 1x1-ish innermost
            layers: list[nn.Module] = [nn.Conv2d(previous, width, 4, 2, 1, bias=not normed)]
            layers += [nn.BatchNorm2d(width)] if normed else []
            self.down.append(nn.Sequential(*layers, nn.LeakyReLU(0.2)))
            previous = width
        previous += style_dim
        self.up = nn.ModuleList()
        for k, level in enumerate(range(len(widths) - 1, 0, -1)):  # innermost first
            width = widths[level - 1]
            layers = [nn.ConvTranspose2d(previous, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width)]
            layers += [nn.Dropout(dropout)] if k < dropout_levels else []
            self.up.append(nn.Sequential(*layers, nn.ReLU()))
            previous = 2 * width + style_dim  # with the encoder's features of that level (and the code)
        self.out = nn.Sequential(nn.ConvTranspose2d(previous, out_channels, 4, 2, 1), nn.Tanh())

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        image = (self.channels, self.image_size, self.image_size)
        inputs = (("content", content, image), ("style", style, (self.style_dim,) if self.style_dim else image))
        for name, x, expected in inputs:
            if x.ndim != 1 + len(expected) or tuple(x.shape[1:]) != expected:
                raise ValueError(f"{name} must be (B, {', '.join(map(str, expected))}); got {tuple(x.shape)}")

        def with_style(h: torch.Tensor) -> torch.Tensor:
            return append_tiled(h, style) if self.style_dim else h

        h = content if self.style_dim else torch.cat([content, style], dim=1)
        skips = []
        for block in self.down:
            h = block(h)
            skips.append(h)
        h = with_style(h)
        for block, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            h = with_style(torch.cat([block(h), skip], dim=1))
        return self.out(h)
