"""Networks of StarGAN (Choi et al., "StarGAN: Unified Generative Adversarial Networks for
Multi-Domain Image-to-Image Translation", CVPR 2018, arXiv:1711.09020; appendix Tables 4
and 5), with artists as the domains.

Generator: the target domain's one-hot label tiled over the image and concatenated to it;
a 7x7 convolution to 64 channels, two 4x4 stride-2 down-sampling convolutions (128, 256),
six residual blocks of two 3x3 convolutions at 256, two 4x4 stride-2 transposed convolutions
(128, 64) and a 7x7 convolution to 3 channels with tanh; instance normalisation (with affine
parameters) and ReLU after every convolution but the last.

Discriminator (PatchGAN): 4x4 stride-2 convolutions with LeakyReLU(0.01), 64 channels
doubling per level, no normalisation, down to 2x2 (6 levels at 128 px, the paper's), then two
heads: ``D_src``, a 3x3 convolution to one real/fake score per patch, and ``D_cls``, a
convolution over the whole 2x2 map to one logit per domain.
"""

from __future__ import annotations

import torch
from torch import nn

from animestyle.networks.gadn import check_images
from animestyle.nn.tiled_code import append_tiled

__all__ = ["StarGANDiscriminator", "StarGANGenerator", "stargan_levels"]

MAX_WIDTH = 2048


def stargan_levels(image_size: int) -> int:
    """The discriminator's stride-2 levels from ``image_size`` down to 2x2: ``log2(S) - 1``
    (6 at 128 px, the paper's)."""
    if image_size < 16 or image_size & (image_size - 1):
        raise ValueError(f"image_size={image_size} must be a power of two, at least 16 (16, 32, 64, 128, 256)")
    return image_size.bit_length() - 2


def _norm_relu(width: int) -> list[nn.Module]:
    return [nn.InstanceNorm2d(width, affine=True), nn.ReLU(inplace=True)]


class _ResidualBlock(nn.Module):
    """x + IN(conv3x3(ReLU(IN(conv3x3(x))))) at a constant width (the paper's Table 4)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            *_norm_relu(width),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.InstanceNorm2d(width, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class StarGANGenerator(nn.Module):
    """Images (B, 3, S, S) in [-1, 1] and target domains (B,) -> images (B, 3, S, S) in [-1, 1].

    Args:
        num_domains: the number of artists (one-hot channels appended to the image).
        width: channels of the first convolution (the paper's 64); doubled at each of the two
            down-samplings.
        residual_blocks: residual blocks at the bottleneck (the paper's 6).
    """

    def __init__(self, num_domains: int, width: int = 64, residual_blocks: int = 6) -> None:
        super().__init__()
        if num_domains < 1 or width < 1 or residual_blocks < 0:
            raise ValueError(
                f"num_domains={num_domains} and width={width} must be >= 1, residual_blocks={residual_blocks} >= 0"
            )
        self.num_domains = num_domains
        layers: list[nn.Module] = [nn.Conv2d(3 + num_domains, width, 7, padding=3, bias=False), *_norm_relu(width)]
        for _ in range(2):
            layers += [nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False), *_norm_relu(2 * width)]
            width *= 2
        layers += [_ResidualBlock(width) for _ in range(residual_blocks)]
        for _ in range(2):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, stride=2, padding=1, bias=False),
                *_norm_relu(width // 2),
            ]
            width //= 2
        layers += [nn.Conv2d(width, 3, 7, padding=3, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, domain: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[2] != x.shape[3] or x.shape[3] % 4:
            raise ValueError(f"x must be (B, 3, S, S) with S divisible by 4 (two down-samplings); got {tuple(x.shape)}")
        if domain.shape != (len(x),):
            raise ValueError(f"domain must be (B,) = ({len(x)},) labels; got {tuple(domain.shape)}")
        label = nn.functional.one_hot(domain, self.num_domains)
        return self.net(append_tiled(x, label))


class StarGANDiscriminator(nn.Module):
    """Images (B, 3, S, S) -> ``(src, cls)``: real/fake scores per patch (B, 1, 2, 2) and
    domain logits (B, num_domains).

    Args:
        image_size: ``S``, a power of two >= 16.
        num_domains: the number of artists.
        width: channels of the first level (the paper's 64), doubled per level up to 2048.
    """

    def __init__(self, image_size: int, num_domains: int, width: int = 64) -> None:
        super().__init__()
        levels = stargan_levels(image_size)
        if num_domains < 1 or width < 1:
            raise ValueError(f"num_domains={num_domains} and width={width} must be >= 1")
        self.image_size = image_size
        layers: list[nn.Module] = []
        previous = 3
        for i in range(levels):
            current = min(MAX_WIDTH, width * 2**i)
            layers += [nn.Conv2d(previous, current, 4, stride=2, padding=1), nn.LeakyReLU(0.01, inplace=True)]
            previous = current
        self.trunk = nn.Sequential(*layers)
        self.src = nn.Conv2d(previous, 1, 3, padding=1, bias=False)
        self.cls = nn.Conv2d(previous, num_domains, 2, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_images(x, 3, self.image_size)
        h = self.trunk(x)
        return self.src(h), self.cls(h).flatten(1)
