"""Networks of the style-space paper (Xiang & Li, "Anime Style Space Exploration Using Metric
Learning and Generative Adversarial Networks", arXiv:1805.07997, Sec. 5.2 and Table 1).

All are ResNets of weight-normalised residual blocks (:class:`~animestyle.nn.WNResidual`)
with no pooling after the first convolution and as many stride-2 levels as it takes to reach
a 4x4 map. The encoders (style, content, discriminator) go down, the decoders (VAE decoder,
GAN generator) come up; the VAE adds a fully connected layer of ``fc_width`` features between
the code and the 4x4 map (Sec. 5.2). The paper's networks work in Lab colour (the modules'
``network_colour``, Lab by default).

Table 1's numbers did not survive in our copy of the paper; :func:`style_space_preset`
chooses widths by image size the way GADN's Table 1 does (the same authors, one year later)
and every width can be set in a config.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from animestyle.networks.gadn import check_images
from animestyle.nn import GaussianHead, TPReLU, WNResidual
from animestyle.nn.weight_norm import weight_normed

__all__ = [
    "GaussianEncoder",
    "MultiScaleDiscriminator",
    "StyleSpacePreset",
    "WNDecoder",
    "WNEncoder",
    "discriminator_scales",
    "random_patches",
    "style_space_preset",
]


@dataclass(frozen=True)
class StyleSpacePreset:
    """Widths and code sizes for one image size.

    Attributes:
        widths: channels of each resolution level, from the input side.
        fc_width: the VAE's fully connected layer.
        style_dim: style code width before pruning.
        content_dim: content code width before pruning.
    """

    widths: tuple[int, ...]
    fc_width: int
    style_dim: int
    content_dim: int


def _levels(image_size: int) -> int:
    levels = (image_size // 4).bit_length() - 1
    if image_size < 16 or image_size != 4 * 2**levels:
        raise ValueError(f"image_size={image_size} must be 4 x a power of two, at least 16 (16, 32, 64, 128, 256)")
    return levels


def style_space_preset(image_size: int) -> StyleSpacePreset:
    """Widths doubling per level from 64 (up to 64 px) or 32 (larger), capped at 512; code
    widths 32 (style) and 64 (content) up to 64 px, 128 and 256 above."""
    levels = _levels(image_size)
    base = 64 if image_size <= 64 else 32
    widths = tuple(min(512, base * 2**i) for i in range(levels))
    small = image_size <= 64
    return StyleSpacePreset(widths, 256 if small else 1024, 32 if small else 128, 64 if small else 256)


def _down_levels(widths: tuple[int, ...], blocks_per_level: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    previous = widths[0]
    for width in widths:
        layers.append(WNResidual(previous, width, "down"))
        layers.extend(WNResidual(width, width) for _ in range(blocks_per_level - 1))
        previous = width
    return nn.Sequential(*layers)


class WNEncoder(nn.Module):
    """Images (B, in_channels, S, S) -> (B, out_features).

    A 3x3 convolution to ``widths[0]`` at full size, one stride-2 block (and
    ``blocks_per_level - 1`` more) per level down to 4x4, then a linear layer, or two with
    ``fc_width`` features between them.

    Args:
        image_size: ``S``; ``S / 2 ** len(widths)`` must be 4.
        widths: channels of each level.
        out_features: output width.
        fc_width: hidden fully connected width, or None for none.
        blocks_per_level: residual blocks per level.
        in_channels: 3 (the network colour space, Lab by default).
    """

    def __init__(
        self,
        image_size: int,
        widths: tuple[int, ...],
        out_features: int,
        fc_width: int | None = None,
        blocks_per_level: int = 1,
        in_channels: int = 3,
    ):
        super().__init__()
        if image_size // 2 ** len(widths) != 4 or image_size % 2 ** len(widths):
            raise ValueError(f"{len(widths)} widths take image_size={image_size} to 4x4 only at {4 * 2 ** len(widths)}")
        self.image_size, self.in_channels = image_size, in_channels
        self.stem = nn.Sequential(weight_normed(nn.Conv2d(in_channels, widths[0], 3, 1, 1)), TPReLU(widths[0]))
        self.levels = _down_levels(widths, blocks_per_level)
        flat = widths[-1] * 16
        hidden: list[nn.Module] = (
            [] if fc_width is None else [weight_normed(nn.Linear(flat, fc_width)), TPReLU(fc_width)]
        )
        self.head = nn.Sequential(*hidden, weight_normed(nn.Linear(fc_width or flat, out_features)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, self.image_size)
        return self.head(self.levels(self.stem(x)).flatten(1))


class GaussianEncoder(nn.Module):
    """The VAE's encoder: images (B, 3, S, S) -> mean and std (B, content_dim) each.

    Args:
        image_size: ``S``.
        widths: channels of each level.
        fc_width: the fully connected layer before the Gaussian head.
        content_dim: code width.
        blocks_per_level: residual blocks per level.
    """

    def __init__(
        self, image_size: int, widths: tuple[int, ...], fc_width: int, content_dim: int, blocks_per_level: int = 1
    ):
        super().__init__()
        self.body = WNEncoder(image_size, widths, fc_width, blocks_per_level=blocks_per_level)
        self.act = TPReLU(fc_width)
        self.head = GaussianHead(fc_width, content_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.act(self.body(x)))


class WNDecoder(nn.Module):
    """Codes (B, code_dim) -> images (B, out_channels, S, S), about [-1, 1] (not clamped).

    A linear layer (two with ``fc_width``) to a 4x4 map of ``widths[-1]`` channels, one
    upsampling block (and ``blocks_per_level - 1`` more) per level, a 3x3 convolution to
    the colour channels.

    Args:
        code_dim: input width.
        image_size: ``S``.
        widths: channels of each level, from the image side (as the encoders').
        fc_width: hidden fully connected width, or None for none.
        blocks_per_level: residual blocks per level.
        out_channels: 3 (the network colour space, Lab by default).
    """

    def __init__(
        self,
        code_dim: int,
        image_size: int,
        widths: tuple[int, ...],
        fc_width: int | None = None,
        blocks_per_level: int = 1,
        out_channels: int = 3,
    ):
        super().__init__()
        if image_size // 2 ** len(widths) != 4 or image_size % 2 ** len(widths):
            raise ValueError(f"{len(widths)} widths take 4x4 to image_size={image_size} only at {4 * 2 ** len(widths)}")
        self.code_dim, self.top = code_dim, widths[-1]
        flat = widths[-1] * 16
        hidden: list[nn.Module] = (
            [] if fc_width is None else [weight_normed(nn.Linear(code_dim, fc_width)), TPReLU(fc_width)]
        )
        self.fc = nn.Sequential(*hidden, weight_normed(nn.Linear(fc_width or code_dim, flat)), TPReLU(flat))
        layers: list[nn.Module] = []
        previous = widths[-1]
        for width in (*widths[-2::-1], widths[0]):
            layers.append(WNResidual(previous, width, "up"))
            layers.extend(WNResidual(width, width) for _ in range(blocks_per_level - 1))
            previous = width
        self.levels = nn.Sequential(*layers)
        self.to_image = weight_normed(nn.Conv2d(widths[0], out_channels, 3, 1, 1), gain=0.5)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        if code.ndim != 2 or code.shape[1] != self.code_dim:
            raise ValueError(f"code must be (B, {self.code_dim}); got {tuple(code.shape)}")
        return self.to_image(self.levels(self.fc(code).view(-1, self.top, 4, 4)))


def discriminator_scales(image_size: int) -> tuple[int, int, int]:
    """``(s, sqrt(s S), S)`` with ``s = max(16, S / 4)``: the paper's 64 / 128 / 256 at
    ``S = 256``; at 32 px, 16 / 23 / 32 (4 px inputs would leave the networks nothing to see)."""
    small = max(16, image_size // 4)
    return small, max(small, round((small * image_size) ** 0.5)), image_size


def random_patches(x: torch.Tensor, size: int, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``count`` random ``size`` x ``size`` crops of each image: (B, C, H, W) ->
    (B * count, C, size, size), the crops of image 0 first."""
    b, _, h, w = x.shape
    if size > min(h, w):
        raise ValueError(f"patches of {size} px do not fit in {h}x{w} images")
    n = b * count
    where = generator.device if generator is not None else x.device  # no host-to-GPU copy in training
    top = torch.randint(0, h - size + 1, (n, 1), generator=generator, device=where).to(x.device)
    left = torch.randint(0, w - size + 1, (n, 1), generator=generator, device=where).to(x.device)
    rows = (top + torch.arange(size, device=x.device)).unsqueeze(2)  # (n, size, 1)
    cols = (left + torch.arange(size, device=x.device)).unsqueeze(1)  # (n, 1, size)
    images = torch.arange(b, device=x.device).repeat_interleave(count).view(n, 1, 1)
    return x.permute(0, 2, 3, 1)[images, rows, cols].permute(0, 3, 1, 2)


class MultiScaleDiscriminator(nn.Module):
    """Three discriminators of one structure, each on ``scales[0]``-pixel inputs (Sec. 5.2):
    the whole image downscaled to ``scales[0]``; random patches of the image downscaled to
    ``scales[1]``; random patches of the image at ``scales[2]`` (full size).

    Args:
        image_size: ``S``, the full size.
        widths: channels of each level of one discriminator (for ``scales[0]`` inputs).
        scales: the three sizes, increasing, the last ``S``; default
            :func:`discriminator_scales`.
        patches: random patches per image at each patch scale; their losses are averaged.
        blocks_per_level: residual blocks per level.
    """

    def __init__(
        self,
        image_size: int,
        widths: tuple[int, ...],
        scales: tuple[int, int, int] | None = None,
        patches: int = 4,
        blocks_per_level: int = 1,
    ):
        super().__init__()
        scales = scales or discriminator_scales(image_size)
        if len(scales) != 3 or not scales[0] <= scales[1] <= scales[2] == image_size:
            raise ValueError(f"scales={scales} must be 3 increasing sizes ending at image_size={image_size}")
        if patches < 1:
            raise ValueError(f"patches={patches} must be >= 1")
        self.scales, self.patches = tuple(scales), patches
        self.networks = nn.ModuleList(
            WNEncoder(scales[0], widths, 1, blocks_per_level=blocks_per_level) for _ in range(3)
        )

    def views(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The three inputs: (B, 3, s, s), (B * patches, 3, s, s) twice; ``s = scales[0]``."""
        small, middle, full = self.scales
        check_images(x, 3, full)  # a wrong size would otherwise pass unnoticed (resized, cropped)

        def resize(image: torch.Tensor, size: int) -> torch.Tensor:
            if image.shape[-1] == size:
                return image
            # in float32: antialiased resizing has no bfloat16 kernel on CPU (bf16-mixed runs)
            resized = F.interpolate(
                image.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
            )
            return resized.to(image.dtype)

        return [
            resize(x, small),
            random_patches(resize(x, middle), small, self.patches),
            random_patches(x, small, self.patches),
        ]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Images (B, 3, S, S) -> the three networks' logits: (B,), (B * patches,), (B * patches,)."""
        return [net(view).squeeze(1) for net, view in zip(self.networks, self.views(x), strict=True)]
