"""GADN networks (Xiang & Li, "Disentangling Style and Content in Anime Illustrations",
arXiv:1905.10742, Sec. 4.3 and Table 1).

Every network shares one residual trunk of blocks with one convolution each, down to a 4x4
map, then a fully connected layer. The encoder ``E`` adds a Gaussian head (content code), the
classifiers ``C1``/``C2`` an artist head, the discriminator ``D`` a single output; the
generator ``G`` mirrors the trunk from ``cat(content, style)``. Widths follow the image size
(:func:`gadn_preset`); at 256 px they are the paper's Table 1.

Two depths (:data:`Depth`):

- ``"reference"`` (default): the paper's "increasing the number of blocks instead" as the
  official code builds it. Per resolution level, from the input side, a stride-2 block, a
  :class:`~animestyle.nn.BusBlock` and a stride-1 block (the first level has no bus block).
  ``G`` mirrors each level (stride-1, bus, stride-2 up) and its last up-block also writes
  a 2-channel offset map for a learned :class:`~animestyle.nn.Warp` of the picture.
- ``"shallow"``: one stride-2 block per level and no warp; 1.7 times fewer FLOPs, for small
  machines (and the networks animestyle had before the reference depth).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from animestyle.nn import BusBlock, GaussianHead, ResidualDown, ResidualSame, ResidualUp, StandardisedPReLU, Warp
from animestyle.nn.residual import unit_norm_
from animestyle.nn.style_bank import style_dim_for

__all__ = [
    "DEPTHS",
    "Classifier",
    "Depth",
    "Encoder",
    "GADNPreset",
    "Generator",
    "Trunk",
    "check_depth",
    "check_images",
    "default_warp",
    "gadn_preset",
]

Depth = Literal["reference", "shallow"]
DEPTHS: tuple[Depth, ...] = ("reference", "shallow")


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


def check_depth(depth: str) -> None:
    """ValueError naming the choices unless ``depth`` is one of :data:`DEPTHS`."""
    if depth not in DEPTHS:
        raise ValueError(f"depth={depth!r} is not allowed; choose one of {', '.join(map(repr, DEPTHS))}")


def default_warp(depth: Depth, warp: bool | None) -> bool:
    """Whether G ends in the learned warp: ``warp`` when given, else on at the reference depth
    (as the official code's default)."""
    return depth == "reference" if warp is None else warp


def level_blocks(depth: Depth, levels: int) -> list[int]:
    """Blocks per resolution level, from the input side: 1 each (shallow), or 2 for the first
    level and 3 for the others (reference: stride-2, [bus,] stride-1)."""
    check_depth(depth)
    return [1] * levels if depth == "shallow" else [2] + [3] * (levels - 1)


def residual_shares(blocks_per_level: Sequence[int]) -> list[float]:
    """The residual share of every block in build order: block ``k`` of a level of ``n``
    blocks has weight ``1/n``; its share is that weight over the weights so far (1 to start).
    Later blocks thus add less to what their shortcut carries (1/2, 1/3, ... at one block per
    level), keeping the variance of a deep stack at its input's."""
    shares, total = [], 1.0
    for n in blocks_per_level:
        for _ in range(n):
            total += 1 / n
            shares.append(1 / n / total)
    return shares


def check_images(x: torch.Tensor, channels: int, size: int, name: str = "x") -> None:
    """ValueError naming ``name`` unless ``x`` is (B, channels, size, size)."""
    if x.ndim != 4 or x.shape[1] != channels or x.shape[2] != size or x.shape[3] != size:
        raise ValueError(f"{name} must be (B, {channels}, {size}, {size}); got {tuple(x.shape)}")


class Trunk(nn.Module):
    """Images (B, in_channels, S, S) -> features (B, fc_width).

    Args:
        in_channels: 3 (RGB) or 4 (RGB + alpha).
        channels: widths of the resolution levels (each begins with a stride-2 block).
        fc_width: output width.
        image_size: ``S``, divisible by ``2 ** len(channels)``.
        depth: ``"reference"`` or ``"shallow"`` (see the module docstring).
    """

    def __init__(
        self, in_channels: int, channels: tuple[int, ...], fc_width: int, image_size: int, depth: Depth = "reference"
    ):
        super().__init__()
        self.in_channels, self.image_size = in_channels, image_size
        top = _top_size(image_size, len(channels))
        counts = level_blocks(depth, len(channels))
        shares = iter(residual_shares(counts))
        widths = (in_channels, *channels)
        blocks: list[nn.Module] = []
        for i, n in enumerate(counts):
            blocks.append(ResidualDown(widths[i], widths[i + 1], next(shares)))
            if n == 3:
                blocks.append(BusBlock(widths[i + 1], next(shares)))
            if n >= 2:
                blocks.append(ResidualSame(widths[i + 1], next(shares)))
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(channels[-1] * top * top, fc_width)
        unit_norm_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)
        self.act = StandardisedPReLU(fc_width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.in_channels, self.image_size)
        return self.act(self.fc(self.blocks(x).flatten(1)))


class Encoder(nn.Module):
    """``E``: images (B, in_channels, S, S) in [-1, 1] -> content mean and std, (B, content_dim) each."""

    def __init__(
        self,
        in_channels: int,
        channels: tuple[int, ...],
        fc_width: int,
        image_size: int,
        content_dim: int,
        depth: Depth = "reference",
    ):
        super().__init__()
        self.trunk = Trunk(in_channels, channels, fc_width, image_size, depth)
        self.head = GaussianHead(fc_width, content_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.trunk(x))


class Classifier(nn.Module):
    """``C1``, ``C2`` (``num_outputs`` = artists, logits) or ``D`` (``num_outputs=1``, a score
    per image): images (B, in_channels, S, S) -> (B, num_outputs), or (B,) when ``num_outputs=1``.
    """

    def __init__(
        self,
        in_channels: int,
        channels: tuple[int, ...],
        fc_width: int,
        image_size: int,
        num_outputs: int,
        depth: Depth = "reference",
    ):
        super().__init__()
        self.trunk = Trunk(in_channels, channels, fc_width, image_size, depth)
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
    per level (reference depth) a stride-1 block, a bus block (not at the highest
    resolution) and a stride-2 up-block; the last up-block writes the colour channels (no
    activation), plus two offset channels for the :class:`~animestyle.nn.Warp` when
    ``warp`` is on. The shallow depth has the up-blocks only and ends in a plain transposed
    convolution.

    Args:
        content_dim: content code width.
        style_dim: style code width.
        channels: as :class:`Trunk`.
        fc_width: as :class:`Trunk`.
        image_size: as :class:`Trunk`.
        out_channels: colour channels.
        depth: as :class:`Trunk`.
        warp: end in a learned warp; None: on at the reference depth (official default).
    """

    def __init__(
        self,
        content_dim: int,
        style_dim: int,
        channels: tuple[int, ...],
        fc_width: int,
        image_size: int,
        out_channels: int = 3,
        depth: Depth = "reference",
        warp: bool | None = None,
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
        warp = default_warp(depth, warp)
        last = out_channels + (2 if warp else 0)
        counts = level_blocks(depth, len(channels))[::-1]  # from the top level down
        shares = iter(residual_shares(counts))
        widths = channels[::-1]
        blocks: list[nn.Module] = []
        for i, n in enumerate(counts):
            if n >= 2:
                blocks.append(ResidualSame(widths[i], next(shares)))
            if n == 3:
                blocks.append(BusBlock(widths[i], next(shares)))
            if i + 1 < len(widths):
                blocks.append(ResidualUp(widths[i], widths[i + 1], next(shares)))
            elif depth == "reference":
                blocks.append(ResidualUp(widths[i], last, next(shares), activation=False))
        self.blocks = nn.Sequential(*blocks)
        self.to_image: nn.ConvTranspose2d | None = None
        if depth == "shallow":
            self.to_image = nn.ConvTranspose2d(widths[-1], last, 6, 2, 2)
            nn.init.zeros_(self.to_image.bias)  # type: ignore[arg-type]
            self.to_image.weight.data.mul_(0.5)
        self.warp = Warp() if warp else None
        if warp:  # the offsets start at 0: the warp starts as the identity
            self._zero_offsets()

    @torch.no_grad()
    def _zero_offsets(self) -> None:
        last = self.to_image if self.to_image is not None else self.blocks[-1]
        conv = last if isinstance(last, nn.ConvTranspose2d) else last.get_submodule("conv")
        assert isinstance(conv, nn.ConvTranspose2d)
        assert conv.bias is not None
        conv.weight[:, -2:].zero_()  # ConvTranspose weights are (in, out, k, k)
        conv.bias[-2:].zero_()
        project = getattr(last, "project", None)
        if isinstance(project, nn.Conv2d):
            project.weight[-2:].zero_()

    def render(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The images, as :meth:`forward`, and the warp's fold-over penalty (0 without a warp)."""
        if content.ndim != 2 or content.shape[1] != self.content_dim:
            raise ValueError(f"content must be (B, {self.content_dim}); got {tuple(content.shape)}")
        if style.shape != (content.shape[0], self.style_dim):
            raise ValueError(f"style must be ({content.shape[0]}, {self.style_dim}); got {tuple(style.shape)}")
        h = self.fc(torch.cat([content, style], dim=1)).view(-1, self.top_channels, self.top, self.top)
        h = self.blocks(h)
        if self.to_image is not None:
            h = self.to_image(h)
        if self.warp is None:
            return h, h.new_zeros(())
        return self.warp(h)

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.render(content, style)[0]
