"""Stage 2 of the style-space paper: a content VAE whose decoder is also given the style."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.cli import OptimizerCallable

from animestyle.losses import gaussian_kl
from animestyle.methods.style_space.common import (
    METRIC_FIX,
    ColourSpace,
    FrozenStyleEncoder,
    StyleSpaceModule,
    frozen_colour,
    input_record,
    load_style_encoder,
)
from animestyle.networks.style_space import GaussianEncoder, WNDecoder, style_space_preset
from animestyle.nn.nested_dropout import NestedDropout, prefix_mask

__all__ = ["StyleConditionedVAE"]


class StyleConditionedVAE(StyleSpaceModule):
    """Content encoder ``E_c`` (a VAE) whose decoder receives ``cat(content, style)``, the
    style from the frozen, pruned stage-1 encoder (Sec. 4). Given the style "for free", the
    content code need not hold it. After reparametrisation, nested dropout keeps a random
    prefix of the content code, so that the first dimensions hold the most important content
    and the tail can be pruned by reconstruction error (:meth:`reconstruction_error`).

    The loss is the usual VAE's: squared error summed over pixels (logged per pixel as
    ``rec``) plus ``kl_weight`` times the KL divergence to N(0, I) (logged in nats as ``kl``).
    Table 2 names RMSprop for this stage; its learning rate did not survive in our copy, so
    the default is 1e-4.

    Args:
        num_artists: artists in the data (linked from ``data.num_artists``).
        image_size: image size (linked from ``data.image_size``).
        channels: must be ``"rgb"`` (linked from ``data.channels``).
        style_checkpoint: a :class:`MetricStyleEncoder` checkpoint (``objective="metric"``).
        style_dims: style dimensions kept after pruning; None keeps all.
        content_dim: content code width before pruning; default from the preset.
        fc_width: the fully connected layer next to the code (Sec. 5.2); default from the preset.
        widths: channels per level; default: the style encoder's.
        blocks_per_level: residual blocks per level.
        keep: nested dropout's keep ratio ``p``; None: ``1 - 2 / content_dim``.
        kl_weight: weight of the KL term.
        network_colour: as the style encoder's; read from its checkpoint when None.
        lr: learning rate.
        optimizer: optimizer class and settings; None is RMSprop.
        style_record: the style checkpoint's record (its architecture); read from
            ``style_checkpoint`` and saved, so that this stage's checkpoint rebuilds without it.
    """

    def __init__(
        self,
        num_artists: int,
        image_size: int = 64,
        channels: str = "rgb",
        style_checkpoint: str | None = None,
        style_dims: int | None = None,
        content_dim: int | None = None,
        fc_width: int | None = None,
        widths: list[int] | None = None,
        blocks_per_level: int = 1,
        keep: float | None = None,
        kl_weight: float = 1.0,
        network_colour: ColourSpace | None = None,
        lr: float = 1e-4,
        optimizer: OptimizerCallable | None = None,
        style_record: dict[str, Any] | None = None,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer"])
        expected = {"num_artists": num_artists, "image_size": image_size, "objective": "metric"}
        style = style_record or input_record(
            style_checkpoint, "style_checkpoint", "MetricStyleEncoder", METRIC_FIX, expected
        )
        self._resolve(
            num_artists, image_size, channels, frozen_colour(network_colour, style), widths or style["widths"],
            blocks_per_level,
        )  # fmt: skip
        preset = style_space_preset(image_size)
        self.content_dim = content_dim or preset.content_dim
        self.fc_width = fc_width or preset.fc_width
        self.style_dims = style_dims or style["style_dim"]
        self.hparams.update(
            style_record=style, style_dims=self.style_dims, content_dim=self.content_dim, fc_width=self.fc_width,
            network_colour=self.colour_space,
        )  # fmt: skip
        self.style = FrozenStyleEncoder.from_record(style, self.style_dims)
        self.encoder = GaussianEncoder(image_size, self.widths, self.fc_width, self.content_dim, blocks_per_level)
        self.dropout = NestedDropout(self.content_dim, keep)
        self.decoder = WNDecoder(
            self.content_dim + self.style_dims, image_size, self.widths, self.fc_width, blocks_per_level
        )
        self.optimizer = optimizer

    def record(self) -> dict[str, Any]:
        extra = {"content_dim": self.content_dim, "fc_width": self.fc_width, "style_dims": self.style_dims}
        return {**super().record(), **extra}

    def on_fit_start(self) -> None:
        super().on_fit_start()
        if int(self.iteration) == 0:  # a resumed run has the style encoder in its own checkpoint
            self.load_inputs()

    def load_inputs(self) -> None:
        """The frozen style encoder from ``style_checkpoint``."""
        load_style_encoder(self.style, self.hparams["style_checkpoint"])

    def _encode(self, lab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Network-colour images (B, 3, S, S) -> content means (B, content_dim) and raw style
        codes (B, style_dims)."""
        return self.encoder(lab)[0], self.style(lab, standardise=False)

    @torch.no_grad()
    def reconstruction_error(self, x: torch.Tensor, dims: list[int]) -> list[float]:
        """Mean squared error per pixel (in the network's colour space) of reconstructions
        from the first ``k`` content dimensions, for each ``k`` in ``dims``: the pruning curve."""
        lab = self.to_network(x)
        mean, style = self._encode(lab)
        errors = []
        for k in dims:
            cut = mean * prefix_mask(mean.new_full((len(mean),), k, dtype=torch.long), self.content_dim)
            errors.append(float((self.decoder(torch.cat([cut, style], 1)) - lab).square().mean()))
        return errors

    def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Network-colour images (B, 3, S, S) -> the VAE loss and its terms."""
        mean, std = self.encoder(x)
        content = self.dropout(mean + std * torch.randn_like(std))
        with torch.no_grad():
            style = self.style(x, standardise=False)
        squared = (self.decoder(torch.cat([content, style], 1)).float() - x.float()).square()
        kl = gaussian_kl(mean.float(), std.float())
        loss = squared.sum((1, 2, 3)).mean() + self.hparams["kl_weight"] * kl
        return loss, {"rec": squared.mean(), "kl": kl}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        (opt,) = self.optimizer_list()
        loss, parts = self.loss(self.to_network(batch["x"]))
        self.update(opt, loss, parts)
        self.log_parts(parts, prog_bar=("rec",))
        self.finish_iteration()

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        """``<stage>/rec``: :meth:`reconstruction_error` from every content dimension."""
        rec = torch.tensor(self.reconstruction_error(batch["x"], [self.content_dim])[0], device=batch["x"].device)
        self.log_measures(stage, {"rec": rec}, len(batch["x"]), prog_bar=("rec",))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        params = [{"params": [p for p in self.parameters() if p.requires_grad], "lr": self.hparams["lr"]}]
        return self.optimizer(params) if self.optimizer else torch.optim.RMSprop(params)

    def transfer_like(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """sRGB images (B, 3, S, S) and style images (B or 1, 3, S, S) -> each image's content
        decoded with its reference's style code, (B, 3, S, S) sRGB in [-1, 1]."""
        with self.evaluating(self.encoder, self.decoder):
            mean, _ = self._encode(self.to_network(x))
            _, style = self._encode(self.to_network(reference))
            pairs = torch.cat([mean, style.expand(len(mean), -1)], 1)
            return self.to_rgb(self.decoder(pairs)).clamp(-1, 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """sRGB images (B, 3, S, S) -> content codes (B, content_dim): the encoder's means."""
        with self.evaluating(self.encoder):
            return self._encode(self.to_network(x))[0]

    def sample_grids(self, x: torch.Tensor, artist: torch.Tensor, artists: torch.Tensor) -> dict[str, torch.Tensor]:
        """``reconstruction``: each image beside its reconstruction; ``transfer``: the content
        of each row's image with the style of each column's image (the same images)."""
        with self.evaluating(self.encoder, self.decoder):
            mean, style = self._encode(self.to_network(x))
            n = len(x)
            pairs = torch.cat([mean.repeat_interleave(n, 0), style.repeat(n, 1)], 1)
            transfer = self.to_rgb(self.decoder(pairs)).view(n, n, *x.shape[1:])
            rec = self.to_rgb(self.decoder(torch.cat([mean, style], 1)))
        return {"reconstruction": torch.stack([x, rec], 1), "transfer": transfer}
