"""Networks of STGAN (Liu et al., CVPR 2019) with the ANIMEGAN report's gated encoder
(COMP4471 report, Sec. 4.1).

Generator: an encoder of stride-2 4x4 convolutions down to a 4x4 map (gated convolutions,
:class:`~animestyle.nn.GatedConv2d`, in the report's version), a decoder of stride-2 4x4
transposed convolutions back to the image, and skip connections through selective transfer
units (:class:`~animestyle.nn.SelectiveTransferUnit`) that see the attribute difference
vector. The difference vector is also tiled into the decoder. Discriminator: stride-2
convolutions with instance normalisation (WGAN-GP needs each sample's gradient on its own,
so no batch norm) and two heads, adversarial and attribute.

STGAN at 128 px: widths 64, 128, 256, 512, 1024 (5 levels to 4x4, capped at 1024), decoder
1024, 512, 256, 128 then 3, STUs on 4 skips (512, 256, 128, 64 channels), the difference
vector injected into the decoder after its first 4 layers as well as at its input,
discriminator widths as the encoder's and fully connected heads of 1024.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from animestyle.networks.gadn import check_images
from animestyle.nn import GatedConv2d, SelectiveTransferUnit
from animestyle.nn.tiled_code import append_tiled, tile

__all__ = ["STGANDiscriminator", "STGANGenerator", "STGANPreset", "stgan_levels", "stgan_preset"]

MAX_WIDTH = 1024


@dataclass(frozen=True)
class STGANPreset:
    """Widths for one image size.

    Attributes:
        widths: the encoder's channels per level, from the image side, ending at 4x4.
        stu_levels: skip connections through STUs (the deepest-but-one levels).
        discriminator_widths: the discriminator's channels per level.
        fc_width: the discriminator heads' hidden width.
    """

    widths: tuple[int, ...]
    stu_levels: int
    discriminator_widths: tuple[int, ...]
    fc_width: int


def stgan_levels(image_size: int) -> int:
    """Stride-2 levels from ``image_size`` down to 4x4: ``log2(image_size / 4)``."""
    if image_size < 16 or image_size & (image_size - 1):
        raise ValueError(f"image_size={image_size} must be a power of two, at least 16 (16, 32, 64, 128, 256)")
    return image_size.bit_length() - 3


def stgan_preset(image_size: int) -> STGANPreset:
    """STGAN's widths at any power-of-two size: 64 doubling per level, capped at 1024, as
    many levels as reach 4x4 (at 128 px: 64, 128, 256, 512, 1024, the paper's); STUs on
    ``min(4, levels - 1)`` skips (4 at 128 px); the same discriminator widths and
    fully connected heads of 1024."""
    levels = stgan_levels(image_size)
    widths = tuple(min(MAX_WIDTH, 64 * 2**i) for i in range(levels))
    return STGANPreset(widths, min(4, levels - 1), widths, 1024)


def _checked_widths(
    image_size: int, widths: tuple[int, ...] | list[int] | None, default: tuple[int, ...]
) -> tuple[int, ...]:
    levels = stgan_levels(image_size)
    if widths is None:
        return default
    widths = tuple(widths)
    if len(widths) != levels:
        raise ValueError(
            f"widths={list(widths)} has {len(widths)} levels; image_size={image_size} needs {levels} to reach 4x4"
        )
    return widths


def _check_diff(diff: torch.Tensor, batch: int, attr_dim: int) -> None:
    if diff.shape != (batch, attr_dim):
        raise ValueError(f"diff must be (B, {attr_dim}) = {(batch, attr_dim)}; got {tuple(diff.shape)}")


class STGANGenerator(nn.Module):
    """Images (B, 3, S, S) in [-1, 1] and attribute differences (B, A) -> images (B, 3, S, S)
    in [-1, 1].

    Encoder level ``i`` (of ``L = log2(S / 4)``): 4x4 stride-2 gated convolution + batch norm +
    LeakyReLU(0.2) (a plain convolution with ``gated=False``), ``widths[i]`` channels at
    ``S / 2**(i+1)``. Decoder layer ``j`` (of ``L - 1``): 4x4 stride-2 transposed convolution +
    batch norm + ReLU to ``widths[L-1-j]`` channels, then a last one to 3 channels and tanh.
    The ``stu_levels`` skips from encoder levels ``L-2, L-3, ...`` are joined to the decoder
    features of their size, through STUs whose state starts at the deepest feature and runs
    from deep to shallow (directly, as U-Net skips, with ``use_stu=False``).

    The difference vector is tiled onto the deepest feature (the decoder's input) and onto the
    outputs of the first ``inject_levels`` decoder layers (STGAN's ``inject_layers``); every
    STU sees it with its state.

    Args:
        image_size: ``S``, a power of two >= 16.
        attr_dim: ``A``.
        widths: the encoder's ``L`` widths; default :func:`stgan_preset`'s.
        stu_levels: skip connections, 0 to ``L - 1``; default the preset's (4 at 128 px).
        inject_levels: decoder layers after which the difference vector is tiled in again,
            0 to ``L - 1``; default ``stu_levels``.
        gated: gated convolutions in the encoder (the report) or plain ones (STGAN).
        use_stu: skips through STUs (STGAN) or plain concatenation (ablation).
    """

    def __init__(
        self,
        image_size: int,
        attr_dim: int,
        widths: tuple[int, ...] | list[int] | None = None,
        stu_levels: int | None = None,
        inject_levels: int | None = None,
        gated: bool = True,
        use_stu: bool = True,
    ):
        super().__init__()
        preset = stgan_preset(image_size)
        self.widths = _checked_widths(image_size, widths, preset.widths)
        levels = len(self.widths)
        self.stu_levels = preset.stu_levels if stu_levels is None else stu_levels
        self.inject_levels = self.stu_levels if inject_levels is None else inject_levels
        for name, value in (("stu_levels", self.stu_levels), ("inject_levels", self.inject_levels)):
            if not 0 <= value <= levels - 1:
                raise ValueError(f"{name}={value} must be in [0, {levels - 1}] at image_size={image_size}")
        if attr_dim < 1:
            raise ValueError(f"attr_dim={attr_dim} must be >= 1")
        self.image_size, self.attr_dim, self.use_stu = image_size, attr_dim, use_stu

        self.encoder = nn.ModuleList()
        previous = 3
        for width in self.widths:
            if gated:
                self.encoder.append(GatedConv2d(previous, width, 4, 2, 1, norm="batch", activation="leaky_relu"))
            else:  # no bias: the batch norm would subtract it again
                self.encoder.append(
                    nn.Sequential(
                        nn.Conv2d(previous, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.LeakyReLU(0.2)
                    )
                )
            previous = width

        # STU k serves encoder level L-2-k; its state comes from level L-1-k (the deepest
        # feature, then the previous STU's state out, which has that level's width)
        self.stus = nn.ModuleList(
            SelectiveTransferUnit(self.widths[levels - 2 - k], self.widths[levels - 1 - k], attr_dim)
            for k in range(self.stu_levels if use_stu else 0)
        )

        self.decoder = nn.ModuleList()
        previous = self.widths[-1] + attr_dim
        for j in range(levels):
            joined = 0
            if j > 0:
                joined += self.widths[levels - 1 - j] if j - 1 < self.stu_levels else 0
                joined += attr_dim if j - 1 < self.inject_levels else 0
            if j < levels - 1:
                width = self.widths[levels - 1 - j]
                self.decoder.append(
                    nn.Sequential(
                        nn.ConvTranspose2d(previous + joined, width, 4, 2, 1, bias=False),
                        nn.BatchNorm2d(width),
                        nn.ReLU(),
                    )
                )
                previous = width
            else:
                self.decoder.append(nn.Sequential(nn.ConvTranspose2d(previous + joined, 3, 4, 2, 1), nn.Tanh()))

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Images (B, 3, S, S) -> the ``L`` encoder features, shallow to deep: level ``i`` is
        (B, widths[i], S / 2**(i+1), S / 2**(i+1)); the last is 4x4."""
        check_images(x, 3, self.image_size)
        features = []
        for level in self.encoder:
            x = level(x)
            features.append(x)
        return features

    def skips(self, features: list[torch.Tensor], diff: torch.Tensor) -> list[torch.Tensor]:
        """The ``stu_levels`` skip features, deep to shallow: STU outputs, or the encoder
        features themselves with ``use_stu=False``."""
        levels = len(self.widths)
        if not self.use_stu:
            return [features[levels - 2 - k] for k in range(self.stu_levels)]
        out, state = [], features[-1]
        for k, stu in enumerate(self.stus):
            skip, state = stu(features[levels - 2 - k], state, diff)
            out.append(skip)
        return out

    def decode(self, features: list[torch.Tensor], diff: torch.Tensor) -> torch.Tensor:
        """Encoder features (as :meth:`encode` gives them) and differences (B, A) -> images
        (B, 3, S, S) in [-1, 1]."""
        if len(features) != len(self.widths):
            raise ValueError(f"features must be the {len(self.widths)} encoder levels; got {len(features)}")
        _check_diff(diff, features[0].shape[0], self.attr_dim)
        skips = self.skips(features, diff)
        z = append_tiled(features[-1], diff)
        for j, layer in enumerate(self.decoder):
            if j > 0:
                joined = [z]
                if j - 1 < self.stu_levels:
                    joined.append(skips[j - 1])
                if j - 1 < self.inject_levels:
                    joined.append(tile(diff, z))
                z = torch.cat(joined, 1)
            z = layer(z)
        return z

    def forward(self, x: torch.Tensor, diff: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, S, S) and differences (B, A) -> edited images (B, 3, S, S)."""
        _check_diff(diff, x.shape[0], self.attr_dim)
        return self.decode(self.encode(x), diff)


class STGANDiscriminator(nn.Module):
    """Images (B, 3, S, S) -> adversarial scores (B,) and attribute logits (B, A).

    ``L`` levels of 4x4 stride-2 convolution + InstanceNorm(affine) + LeakyReLU(0.2) down to
    4x4, flattened; two heads, each Linear(fc_width) + LeakyReLU(0.2) + Linear (to 1 and to A).

    Args:
        image_size: ``S``, a power of two >= 16.
        attr_dim: ``A``.
        widths: ``L`` widths; default :func:`stgan_preset`'s ``discriminator_widths``.
        fc_width: the heads' hidden width; default the preset's (1024).
    """

    def __init__(
        self,
        image_size: int,
        attr_dim: int,
        widths: tuple[int, ...] | list[int] | None = None,
        fc_width: int | None = None,
    ):
        super().__init__()
        preset = stgan_preset(image_size)
        self.widths = _checked_widths(image_size, widths, preset.discriminator_widths)
        fc_width = preset.fc_width if fc_width is None else fc_width
        if attr_dim < 1:
            raise ValueError(f"attr_dim={attr_dim} must be >= 1")
        self.image_size, self.attr_dim = image_size, attr_dim
        layers: list[nn.Module] = []
        previous = 3
        for width in self.widths:
            # no bias: the instance norm subtracts each channel's mean again
            layers += [nn.Conv2d(previous, width, 4, 2, 1, bias=False), nn.InstanceNorm2d(width, affine=True)]
            layers.append(nn.LeakyReLU(0.2))
            previous = width
        self.body = nn.Sequential(*layers, nn.Flatten())
        flat = self.widths[-1] * 16
        self.adversarial = nn.Sequential(nn.Linear(flat, fc_width), nn.LeakyReLU(0.2), nn.Linear(fc_width, 1))
        self.attributes = nn.Sequential(nn.Linear(flat, fc_width), nn.LeakyReLU(0.2), nn.Linear(fc_width, attr_dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_images(x, 3, self.image_size)
        h = self.body(x)
        return self.adversarial(h).squeeze(1), self.attributes(h)
