"""GADN networks (Xiang & Li, "Disentangling Style and Content in Anime Illustrations",
arXiv:1905.10742, Sec. 4.3 and Table 1).

Every network shares one residual trunk: stride-2 residual blocks with one convolution each,
down to a 4x4 map, then a fully connected layer. The encoder ``E`` adds a Gaussian head
(content code), the classifiers ``C1``/``C2`` an artist head, the discriminator ``D`` a
single output; the generator ``G`` mirrors the trunk from ``cat(content, style)``.
Widths follow the image size (:func:`gadn_preset`); at 256 px they are the paper's Table 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from animestyle.nn import GaussianHead, ResidualDown, ResidualUp, StandardisedPReLU
from animestyle.nn.residual import unit_norm_
from animestyle.nn.style_bank import style_dim_for

__all__ = ["Classifier", "Encoder", "GADNPreset", "Generator", "Trunk", "check_images", "gadn_preset"]


@dataclass(frozen=True)
class GADNPreset:
    """Network widths and batch size for one image size.

    Attributes:
        channels: channels after each stride-2 block, from the input side.
        fc_width: width of the fully connected layer.
        content_dim: content code width.
        style_dim: style code width.
        batch_size: the official code's batch size at this size.
    """

    channels: tuple[int, ...]
    fc_width: int
    content_dim: int
    style_dim: int
    batch_size: int


# (largest image size, channels, fc width, content dims, batch): the official code's defaults;
# at 256 px the paper's Table 1 (its content code has 256 dims; the code's default is 512).
_PRESETS = (
    (20, (128, 256), 512, 32, 64),
    (40, (64, 128, 256), 512, 64, 64),
    (80, (64, 128, 256, 512), 1024, 128, 32),
    (160, (64, 128, 256, 512, 1024), 2048, 256, 16),
    (320, (32, 64, 128, 256, 512, 1024), 2048, 256, 8),
)


def gadn_preset(image_size: int, num_artists: int) -> GADNPreset:
    """The widths for ``image_size`` (12 to 320 px) and ``num_artists`` artists."""
    for largest, channels, fc_width, content_dim, batch in _PRESETS:
        if 12 <= image_size <= largest:
            return GADNPreset(channels, fc_width, content_dim, style_dim_for(num_artists), batch)
    raise ValueError(f"image_size={image_size} has no GADN preset; use 12 to 320 px")


def _top_size(image_size: int, levels: int) -> int:
    if image_size % 2**levels:
        raise ValueError(
            f"image_size={image_size} must be divisible by 2**{levels}={2**levels} for {levels} resolution levels"
        )
    return image_size // 2**levels


def _residual_share(block: int) -> float:
    # Deeper blocks add a smaller share to what their shortcut carries: 1/2, 1/3, 1/4, ...
    return 1 / (block + 2)


def check_images(x: torch.Tensor, channels: int, size: int, name: str = "x") -> None:
    """ValueError naming ``name`` unless ``x`` is (B, channels, size, size)."""
    if x.ndim != 4 or x.shape[1] != channels or x.shape[2] != size or x.shape[3] != size:
        raise ValueError(f"{name} must be (B, {channels}, {size}, {size}); got {tuple(x.shape)}")


class Trunk(nn.Module):
    """Images (B, in_channels, S, S) -> features (B, fc_width).

    Args:
        in_channels: 3 (RGB) or 4 (RGB + alpha).
        channels: widths of the stride-2 residual blocks.
        fc_width: output width.
        image_size: ``S``, divisible by ``2 ** len(channels)``.
    """

    def __init__(self, in_channels: int, channels: tuple[int, ...], fc_width: int, image_size: int):
        super().__init__()
        self.in_channels, self.image_size = in_channels, image_size
        top = _top_size(image_size, len(channels))
        widths = (in_channels, *channels)
        self.blocks = nn.Sequential(
            *(ResidualDown(widths[i], widths[i + 1], _residual_share(i)) for i in range(len(channels)))
        )
        self.fc = nn.Linear(channels[-1] * top * top, fc_width)
        unit_norm_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)
        self.act = StandardisedPReLU(fc_width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, self.image_size)
        return self.act(self.fc(self.blocks(x).flatten(1)))


class Encoder(nn.Module):
    """``E``: images (B, in_channels, S, S) in [-1, 1] -> content mean and std, (B, content_dim) each."""

    def __init__(self, in_channels: int, channels: tuple[int, ...], fc_width: int, image_size: int, content_dim: int):
        super().__init__()
        self.trunk = Trunk(in_channels, channels, fc_width, image_size)
        self.head = GaussianHead(fc_width, content_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.trunk(x))


class Classifier(nn.Module):
    """``C1``, ``C2`` (``num_outputs`` = artists, logits) or ``D`` (``num_outputs=1``, a score
    per image): images (B, in_channels, S, S) -> (B, num_outputs), or (B,) when ``num_outputs=1``.
    """

    def __init__(self, in_channels: int, channels: tuple[int, ...], fc_width: int, image_size: int, num_outputs: int):
        super().__init__()
        self.trunk = Trunk(in_channels, channels, fc_width, image_size)
        self.head = nn.Linear(fc_width, num_outputs)
        nn.init.zeros_(self.head.bias)
        self.head.weight.data.mul_(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.head(self.trunk(x))
        return out.squeeze(1) if out.shape[1] == 1 else out


class Generator(nn.Module):
    """``G``: content (B, content_dim) and style (B, style_dim) codes -> images
    (B, out_channels, S, S), about [-1, 1] (not clamped).

    The trunk in reverse: ``cat(content, style)`` -> FC ``fc_width`` -> FC to the 4x4 map ->
    residual up-blocks -> a last transposed convolution to the colour channels.
    """

    def __init__(
        self,
        content_dim: int,
        style_dim: int,
        channels: tuple[int, ...],
        fc_width: int,
        image_size: int,
        out_channels: int = 3,
    ):
        super().__init__()
        self.content_dim, self.style_dim = content_dim, style_dim
        self.top = _top_size(image_size, len(channels))
        self.top_channels = channels[-1]
        self.fc = nn.Sequential(
            nn.Linear(content_dim + style_dim, fc_width),
            StandardisedPReLU(fc_width),
            nn.Linear(fc_width, channels[-1] * self.top**2),
            StandardisedPReLU(channels[-1] * self.top**2),
        )
        for layer in self.fc:
            if isinstance(layer, nn.Linear):
                unit_norm_(layer.weight)
                nn.init.zeros_(layer.bias)
        widths = channels[::-1]
        self.blocks = nn.Sequential(
            *(ResidualUp(widths[i], widths[i + 1], _residual_share(i)) for i in range(len(widths) - 1))
        )
        self.to_image = nn.ConvTranspose2d(widths[-1], out_channels, 6, 2, 2)
        nn.init.zeros_(self.to_image.bias)  # type: ignore[arg-type]
        self.to_image.weight.data.mul_(0.5)

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if content.ndim != 2 or content.shape[1] != self.content_dim:
            raise ValueError(f"content must be (B, {self.content_dim}); got {tuple(content.shape)}")
        if style.shape != (content.shape[0], self.style_dim):
            raise ValueError(f"style must be ({content.shape[0]}, {self.style_dim}); got {tuple(style.shape)}")
        h = self.fc(torch.cat([content, style], dim=1)).view(-1, self.top_channels, self.top, self.top)
        return self.to_image(self.blocks(h))
