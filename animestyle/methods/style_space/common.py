"""What the three style-space stages share: architecture resolution, the Lab colour path,
checks against the data, and reading the frozen encoders of earlier stages."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

from animestyle.data.colour import lab_to_rgb, rgb_to_lab
from animestyle.methods.base import AdversarialModule, CheckpointError, check_same, read_checkpoint
from animestyle.networks.style_space import WNEncoder, style_space_preset

ColourSpace = Literal["lab", "rgb"]

METRIC_FIX = "train the style encoder first (animestyle fit --config examples/style_space/<size>/metric.yaml)"
VAE_FIX = "train the content VAE first (animestyle fit --config examples/style_space/<size>/vae.yaml)"


class StyleSpaceModule(AdversarialModule):
    """Base of :class:`MetricStyleEncoder`, :class:`StyleConditionedVAE` and
    :class:`StyleContentGAN`: manual optimisation (one ``update`` per optimizer), the
    architecture fields every checkpoint records, and the colour path.

    Batches arrive as sRGB in [-1, 1]; :meth:`to_network` turns them into scaled Lab (the
    paper: "all networks operate in the Lab color space", Sec. 5.2) and :meth:`to_rgb` turns
    network images back. The public methods take and return sRGB.
    """

    def _resolve(
        self,
        num_artists: int,
        image_size: int,
        channels: str,
        colour_space: ColourSpace,
        widths: list[int] | None,
        blocks_per_level: int,
    ) -> None:
        if num_artists < 2:
            raise ValueError(f"num_artists={num_artists}: a style space needs at least 2 artists")
        if channels != "rgb":
            raise ValueError(
                f"channels={channels!r}: the style-space networks read colour only; set data.channels: rgb"
            )
        if colour_space not in ("lab", "rgb"):
            raise ValueError(f"network_colour={colour_space!r} is not allowed; choose 'lab' (the paper) or 'rgb'")
        if blocks_per_level < 1:
            raise ValueError(f"blocks_per_level={blocks_per_level} must be >= 1")
        self.num_artists, self.image_size, self.colour_space = num_artists, image_size, colour_space
        self.widths = tuple(widths) if widths else style_space_preset(image_size).widths
        self.blocks_per_level = blocks_per_level
        self.hparams.update(widths=list(self.widths))  # saved resolved: a checkpoint rebuilds these networks

    def record(self) -> dict[str, Any]:
        return {
            "num_artists": self.num_artists,
            "image_size": self.image_size,
            "colour_space": self.colour_space,
            "widths": list(self.widths),
            "blocks_per_level": self.blocks_per_level,
        }

    def to_network(self, x: torch.Tensor) -> torch.Tensor:
        """sRGB (B, 3, H, W) in [-1, 1] -> the networks' colour space (differentiable)."""
        return rgb_to_lab(x) if self.colour_space == "lab" else x

    def to_rgb(self, y: torch.Tensor) -> torch.Tensor:
        """Network images (B, 3, H, W) -> sRGB in [-1, 1], for pictures and metrics."""
        return lab_to_rgb(y) if self.colour_space == "lab" else y.clamp(-1, 1)

    def on_fit_start(self) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if getattr(datamodule, "colour_space", "rgb") != "rgb":
            raise ValueError(
                f"{type(self).__name__} converts sRGB batches to Lab itself; set data.colour_space: rgb "
                "(the model's network_colour chooses what the networks see)"
            )
        artists = getattr(datamodule, "num_artists", None)
        if artists is not None and artists != self.num_artists:
            raise CheckpointError(
                f"{type(self).__name__} has num_artists={self.num_artists} but the data has {artists} artists; "
                "train every stage on the same data (num_artists is linked from it)"
            )


def frozen_colour(network_colour: ColourSpace | None, style: dict[str, Any]) -> ColourSpace:
    """The colour space of a stage built on the frozen style encoder whose record is ``style``:
    the encoder's, which reads it. ``network_colour`` may only repeat it."""
    if network_colour is not None and network_colour != style["colour_space"]:
        raise ValueError(
            f"network_colour={network_colour!r} but the style encoder was trained in {style['colour_space']!r}; "
            "leave network_colour unset (it is read from the style checkpoint) or retrain the style encoder"
        )
    return style["colour_space"]


def input_record(path: str | None, argument: str, method: str, fix: str, expected: dict[str, Any]) -> dict[str, Any]:
    """The record of the earlier stage's checkpoint ``path``, checked against ``expected``.

    Raises:
        CheckpointError: no path, or the checkpoint is missing, from another method, or from
            other data.
    """
    if path is None:
        raise CheckpointError(f"{argument} is not set; {fix}")
    checkpoint = read_checkpoint(path, argument, (method,), fix)
    check_same(argument, checkpoint, expected, "train every stage on the same data, image size and colour space")
    return checkpoint["animestyle"]


def load_network(network: nn.Module, path: str, argument: str, method: str, fix: str, prefix: str) -> None:
    """Copy the weights under ``prefix.`` in the checkpoint ``path`` into ``network``."""
    state = read_checkpoint(path, argument, (method,), fix)["state_dict"]
    head = prefix + "."
    network.load_state_dict({k[len(head) :]: v for k, v in state.items() if k.startswith(head)})


def load_style_encoder(style: FrozenStyleEncoder, path: str) -> None:
    """Copy the encoder of the MetricStyleEncoder checkpoint ``path`` (``style_checkpoint``)
    into ``style``."""
    load_network(style.encoder, path, "style_checkpoint", "MetricStyleEncoder", METRIC_FIX, "encoder")


class FrozenStyleEncoder(nn.Module):
    """The metric style encoder of stage 1, frozen and pruned to its first ``kept``
    dimensions, optionally standardised with training-set statistics (Sec. 4: "the output of
    E_s is normalized to have zero mean and unit variance with style statistics from the
    training set").

    Args:
        image_size: as the encoder's.
        widths: as the encoder's.
        style_dim: the encoder's full output width.
        kept: dimensions kept after pruning.
        blocks_per_level: as the encoder's.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, image_size: int, widths: tuple[int, ...], style_dim: int, kept: int, blocks_per_level: int):
        super().__init__()
        if not 1 <= kept <= style_dim:
            raise ValueError(f"style_dims={kept} must be in [1, {style_dim}], the style encoder's width")
        self.encoder = WNEncoder(image_size, widths, style_dim, blocks_per_level=blocks_per_level)
        self.encoder.requires_grad_(False)
        self.kept = kept
        self.register_buffer("mean", torch.zeros(kept))
        self.register_buffer("std", torch.ones(kept))

    @classmethod
    def from_record(cls, record: dict[str, Any], kept: int) -> FrozenStyleEncoder:
        """The encoder a :class:`MetricStyleEncoder` checkpoint's record describes."""
        return cls(record["image_size"], tuple(record["widths"]), record["style_dim"], kept, record["blocks_per_level"])

    def forward(self, x: torch.Tensor, standardise: bool = True) -> torch.Tensor:
        """Network-colour images (B, 3, S, S) -> style codes (B, kept); gradients reach ``x``."""
        code = self.encoder(x)[:, : self.kept]
        return (code - self.mean) / self.std if standardise else code

    def train(self, mode: bool = True) -> FrozenStyleEncoder:
        return super().train(False)  # frozen: always in evaluation mode
