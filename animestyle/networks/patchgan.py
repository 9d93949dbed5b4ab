"""PatchGAN discriminator (Isola et al., pix2pix): one real/fake logit per image patch.

Conditional adversarial style transfer (Deelaka, approach 1) judges ``cat(content, image)``
with it: a 6-channel input, and a 4x4 map of logits at 128 px. Stride-2 4x4 convolutions
(no norm on the first, batch norm after) with LeakyReLU(0.2) halve the image until the map
has ``patches`` x ``patches`` cells; a 3x3 convolution gives the logits.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["PatchDiscriminator"]


class PatchDiscriminator(nn.Module):
    """(B, in_channels, S, S) -> logits (B, 1, patches, patches).

    Args:
        image_size: ``S``, ``patches`` times a power of two.
        in_channels: 6 for a (content, image) pair.
        patches: cells per side of the output map (4: the author's code at 128 px).
        width: channels of the first level, doubling per level up to ``max_width``.
        max_width: the cap.
    """

    def __init__(self, image_size: int, in_channels: int = 6, patches: int = 4, width: int = 64, max_width: int = 512):
        super().__init__()
        ratio = image_size // patches if patches > 0 else 0
        if patches < 1 or image_size % patches or ratio < 2 or ratio & (ratio - 1):
            raise ValueError(f"image_size={image_size} must be patches={patches} times a power of two >= 2")
        self.image_size, self.in_channels, self.patches = image_size, in_channels, patches
        layers: list[nn.Module] = []
        previous = in_channels
        for level in range(ratio.bit_length() - 1):
            out = min(max_width, width * 2**level)
            layers.append(nn.Conv2d(previous, out, 4, 2, 1, bias=level == 0))  # a batch norm follows the others
            if level > 0:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.LeakyReLU(0.2))
            previous = out
        layers.append(nn.Conv2d(previous, 1, 3, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = (self.in_channels, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"x must be (B, {', '.join(map(str, expected))}); got {tuple(x.shape)}")
        return self.net(x)
