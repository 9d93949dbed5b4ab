"""Stage 1 of the style-space paper: a style encoder trained by metric learning (Sec. 3)."""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import OptimizerCallable
from torch import nn

from animestyle.losses import contrastive_loss, prefix_distances
from animestyle.methods.style_space.common import ColourSpace, StyleSpaceModule
from animestyle.networks.style_space import WNEncoder, style_space_preset
from animestyle.nn import NestedDropout

__all__ = ["MetricStyleEncoder"]

Objective = Literal["metric", "classification"]


class MetricStyleEncoder(StyleSpaceModule):
    """Style encoder ``E_s`` and one learned representative style ``R_a`` per artist,
    trained so that an artist's images lie near each other and near ``R_a``, and far from
    other artists' images and representatives (Sec. 3, eq. 1-2; see
    :mod:`animestyle.losses.metric`). Nested dropout with a learned scale per cut-off
    (eq. 3) orders the dimensions by importance, so the code can be pruned to a prefix.

    ``objective="classification"`` trains the same network, nested dropout and optimizer as
    a plain artist classifier (a linear layer on the cut code, cross-entropy): the paper's
    reference in Figure 1.

    Table 2's values did not survive in our copy of the paper; the defaults are Adam (its
    optimizer for this stage) at lr 1e-4, margin 1 and equal weights, and the nested dropout
    keep ratio ``1 - 2 / D``.

    Args:
        num_artists: artists in the data (linked from ``data.num_artists``).
        image_size: image size (linked from ``data.image_size``).
        channels: must be ``"rgb"`` (linked from ``data.channels``).
        objective: ``"metric"`` (the paper's method) or ``"classification"`` (its baseline).
        style_dim: code width before pruning; default from :func:`style_space_preset`.
        widths: channels per level; default from the preset.
        blocks_per_level: residual blocks per level.
        keep: nested dropout's keep ratio ``p``; None: ``1 - 2 / style_dim``.
        margin: distance beyond which different artists cost nothing (``L_d``).
        pair_weight: weight of the image-pair terms (eq. 1).
        representative_weight: weight of the image-to-representative terms (eq. 2).
        network_colour: what the network sees: ``"lab"`` (the paper) or ``"rgb"``.
        lr: learning rate.
        optimizer: optimizer class and settings; None is Adam.
    """

    def __init__(
        self,
        num_artists: int,
        image_size: int = 64,
        channels: str = "rgb",
        objective: Objective = "metric",
        style_dim: int | None = None,
        widths: list[int] | None = None,
        blocks_per_level: int = 1,
        keep: float | None = None,
        margin: float = 1.0,
        pair_weight: float = 1.0,
        representative_weight: float = 1.0,
        network_colour: ColourSpace = "lab",
        lr: float = 1e-4,
        optimizer: OptimizerCallable | None = None,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer"])
        self._resolve(num_artists, image_size, channels, network_colour, widths, blocks_per_level)
        if objective not in ("metric", "classification"):
            raise ValueError(f"objective={objective!r} is not allowed; choose 'metric' or 'classification'")
        if margin <= 0:
            raise ValueError(f"margin={margin} must be > 0")
        self.objective: Objective = objective
        self.style_dim = style_dim or style_space_preset(image_size).style_dim
        self.hparams["style_dim"] = self.style_dim
        self.encoder = WNEncoder(image_size, self.widths, self.style_dim, blocks_per_level=blocks_per_level)
        self.dropout = NestedDropout(self.style_dim, keep, scaled=True)
        if objective == "metric":
            self.representatives = nn.Parameter(torch.randn(num_artists, self.style_dim) / self.style_dim**0.5)
        else:
            self.head = nn.Linear(self.style_dim, num_artists)
        self.optimizer = optimizer

    def record(self) -> dict[str, Any]:
        return {**super().record(), "style_dim": self.style_dim, "objective": self.objective}

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """sRGB images (B, 3, S, S) in [-1, 1] -> style codes (B, style_dim), all dimensions."""
        return self.encoder(self.to_network(x))

    def classify(self, codes: torch.Tensor, dims: int) -> torch.Tensor:
        """Artists (B,) read from the first ``dims`` dimensions of ``codes`` (B, style_dim):
        the nearest representative (metric), or the classifier's argmax on the cut code."""
        if self.objective == "metric":  # the scale s_dims is the same for all: it cannot change the nearest
            return torch.cdist(codes[:, :dims].float(), self.representatives[:, :dims].float()).argmin(1)
        kept = torch.full((codes.shape[0],), dims, dtype=torch.long, device=codes.device)
        return self.head(self.dropout.cut(codes, kept)).argmax(1)

    def loss(self, codes: torch.Tensor, artist: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The training loss of ``codes`` (B, D) with labels ``artist`` (B,) under one draw of
        nested dropout, and its terms."""
        hp = self.hparams
        kept = self.dropout.draw(codes.shape[0], codes.device)
        if self.objective == "classification":
            logits = self.head(self.dropout.cut(codes, kept))
            loss = F.cross_entropy(logits.float(), artist)
            return loss, {"ce": loss, "accuracy": (logits.argmax(1) == artist).float().mean()}
        scale = self.dropout.scale[kept - 1]  # type: ignore[index]
        same = artist.unsqueeze(1) == artist.unsqueeze(0)
        itself = torch.eye(len(artist), dtype=torch.bool, device=codes.device)
        pair_pull, pair_push = contrastive_loss(
            prefix_distances(codes, codes, kept, scale), same, hp["margin"], ignore=itself
        )
        to_representatives = prefix_distances(codes, self.representatives, kept, scale)
        own = F.one_hot(artist, self.num_artists).bool()
        rep_pull, rep_push = contrastive_loss(to_representatives, own, hp["margin"])
        loss = hp["pair_weight"] * (pair_pull + pair_push) + hp["representative_weight"] * (rep_pull + rep_push)
        accuracy = (to_representatives.argmin(1) == artist).float().mean()
        parts = {"pair_pull": pair_pull, "pair_push": pair_push, "rep_pull": rep_pull, "rep_push": rep_push}
        return loss, {**parts, "accuracy": accuracy}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        (opt,) = self.optimizer_list()
        loss, parts = self.loss(self.encode(batch["x"]), batch["artist"])
        self.update(opt, loss, {"loss": loss, **parts})
        self.log_parts({"loss": loss, **parts}, prog_bar=("loss", "accuracy"))
        self.finish_iteration()

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        """``<stage>/accuracy``: artists read from the full codes (nearest representative, or
        the classifier's argmax)."""
        codes = self.encode(batch["x"])
        correct = (self.classify(codes, self.style_dim) == batch["artist"]).float()
        self.log_measures(stage, {"accuracy": correct}, len(correct), prog_bar=("accuracy",))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        params = [{"params": [p for p in self.parameters() if p.requires_grad], "lr": self.hparams["lr"]}]
        return self.optimizer(params) if self.optimizer else torch.optim.Adam(params)
