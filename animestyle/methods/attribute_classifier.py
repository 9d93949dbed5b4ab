"""An independent multi-label attribute classifier that scores attribute edits.

The ANIMEGAN report (Sec. 5, Figure 4) re-classifies edited faces with a classifier of its
own (Figure 2, right): for each attribute, is it on? The editor's discriminator must not be
the judge of its own edits, so this classifier is a separate network, trained on the same
data as the editor (never on edits) with binary cross-entropy per attribute.

Network: per level, a 3x3 stride-2 convolution and a 3x3 convolution, each with batch norm
and ReLU, from the image side down to 4x4; global average pooling; one linear logit per
attribute.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from animestyle.checks import check_channels
from animestyle.data.synthetic.portrait import check_size
from animestyle.data.tags import check_attribute_names
from animestyle.methods.base import AnimeStyleModule, refuse_lab_data
from animestyle.nn.modes import eval_mode

__all__ = ["AttributeClassifier", "default_widths"]


def _levels(image_size: int) -> int:
    """Stride-2 levels from ``image_size`` down to 4x4 (sides rounded up at each halving)."""
    levels, size = 0, image_size
    while size > 4:
        levels, size = levels + 1, (size + 1) // 2
    return levels


def default_widths(image_size: int) -> list[int]:
    """Channels per level: 32 doubling per level, capped at 256 (32, 64, 128, 256, 256 at 128 px)."""
    return [min(32 * 2**i, 256) for i in range(_levels(image_size))]


def _conv(in_channels: int, out_channels: int, stride: int = 1) -> list[nn.Module]:
    # no bias: the batch norm subtracts each channel's mean again
    return [
        nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class AttributeClassifier(AnimeStyleModule):
    """Multi-label CNN: images (B, 3, S, S) in [-1, 1] -> one logit per attribute (B, A).

    Logged: ``train/loss``, ``val/loss`` (BCE with logits, mean over attributes),
    ``val/accuracy`` (mean over attributes of the accuracy at probability 0.5) and
    ``val/acc_<attribute>`` for each attribute; ``animestyle test`` logs the same under ``test/``.

    Args:
        attribute_names: the attributes, in the order of the data's ``attrs`` columns
            (linked from the data by the CLI).
        num_artists: linked from the data; unused.
        image_size: image side in pixels (32 to 256; linked from the data).
        channels: the data's channels; with ``"rgba"`` the alpha channel is dropped (the
            classifier reads colour, as the editor does).
        widths: channels per stride-2 level, as many as halvings reach 4x4; None:
            :func:`default_widths`.
        lr: Adam's learning rate.
    """

    def __init__(
        self,
        attribute_names: list[str],
        num_artists: int | None = None,
        image_size: int = 128,
        channels: str = "rgb",
        widths: list[int] | None = None,
        lr: float = 1e-3,
    ):
        super().__init__()
        self.save_hyperparameters()
        check_channels(channels)
        self.image_size = check_size(image_size, "image_size")
        levels = _levels(image_size)
        self.widths = list(widths) if widths else default_widths(image_size)
        if len(self.widths) != levels or min(self.widths) < 1:
            raise ValueError(
                f"widths={self.widths} must be {levels} positive channel counts: image_size={image_size} "
                f"halves {levels} times to reach 4x4"
            )
        self.attribute_names = check_attribute_names(attribute_names)
        layers: list[nn.Module] = []
        previous = 3
        for width in self.widths:
            layers += _conv(previous, width, stride=2) + _conv(width, width)
            previous = width
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(previous, len(self.attribute_names))
        self.lr = lr

    def record(self) -> dict[str, Any]:
        return {"attribute_names": self.attribute_names, "image_size": self.image_size}

    def on_fit_start(self) -> None:
        refuse_lab_data(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, S, S) in [-1, 1] (a 4th, alpha channel is dropped) -> logits (B, A)."""
        size = self.image_size
        if x.ndim != 4 or x.shape[1] not in (3, 4) or tuple(x.shape[2:]) != (size, size):
            raise ValueError(f"x must be (B, 3, {size}, {size}) images; got {tuple(x.shape)}")
        return self.head(self.body(x[:, :3]))

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities (B, A) that each attribute is on, in eval mode (restored afterwards)."""
        with eval_mode(self):
            return torch.sigmoid(self(x).float())

    def _loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self(batch["x"]).float()
        return F.binary_cross_entropy_with_logits(logits, batch["attrs"].float()), logits

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, _ = self._loss(batch)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        loss, logits = self._loss(batch)
        correct = ((logits > 0) == (batch["attrs"] > 0.5)).float()  # (B, A): probability > 0.5
        measures = {"loss": loss, "accuracy": correct.mean(1)}
        measures.update({f"acc_{name}": c for name, c in zip(self.attribute_names, correct.T, strict=True)})
        self.log_measures(stage, measures, len(correct), prog_bar=("loss", "accuracy"))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr)
