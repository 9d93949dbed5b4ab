"""Stage 3 of the style-space paper: a GAN conditioned on style and content codes."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.cli import OptimizerCallable

from animestyle.losses import gan_discriminator, gan_generator
from animestyle.methods.style_space.common import (
    METRIC_FIX,
    VAE_FIX,
    ColourSpace,
    FrozenStyleEncoder,
    StyleSpaceModule,
    frozen_colour,
    input_record,
    load_network,
    load_style_encoder,
)
from animestyle.methods.style_space.explore import random_styles, transfer_grid
from animestyle.networks.style_space import (
    GaussianEncoder,
    MultiScaleDiscriminator,
    WNDecoder,
    discriminator_scales,
    style_space_preset,
)

__all__ = ["StyleContentGAN"]


class StyleContentGAN(StyleSpaceModule):
    """Generator ``G`` of codes ``z = [style | content | free]`` drawn from N(0, I), trained
    against a multi-scale discriminator ``D`` and so that the frozen style encoder ``E_s``
    (standardised with training-set statistics) and content encoder ``E_c`` (the VAE's mean)
    read back the style and content parts of ``z`` (Sec. 4)::

        L_D = -log D(x) - log(1 - D(G(z)))
        L_G = -log D(G(z)) + lambda_s |E_s(G(z)) - z_s|^2 + lambda_c |E_c(G(z)) - z_c|^2

    ``D`` is three networks of one structure on three scales, their losses averaged
    (Sec. 5.2, :class:`~animestyle.networks.style_space.MultiScaleDiscriminator`). Both steps
    use RMSprop (Table 2); its learning rate and the weights did not survive in our copy of the
    paper: lr 2e-5 (the authors' weight-normalised GAN code) and ``lambda = 1``. The code
    distances are averaged over dimensions.

    Args:
        num_artists: artists in the data (linked from ``data.num_artists``).
        image_size: image size (linked from ``data.image_size``).
        channels: must be ``"rgb"`` (linked from ``data.channels``).
        style_checkpoint: a :class:`MetricStyleEncoder` checkpoint.
        content_checkpoint: a :class:`StyleConditionedVAE` checkpoint.
        style_dims: style dimensions kept (conditioned); default: the VAE's.
        content_dims: content dimensions kept (conditioned); None keeps all.
        free_dims: unconditioned dimensions of ``z``.
        widths: the generator's channels per level; default: the preset's.
        fc_width: the generator's fully connected layer; None: none.
        discriminator_widths: channels per level of each discriminator network; default:
            the preset of ``scales[0]``.
        scales: the discriminators' three scales; default :func:`discriminator_scales`.
        patches: random patches per image at each patch scale.
        blocks_per_level: residual blocks per level.
        lambda_style: weight of the style reconstruction.
        lambda_content: weight of the content reconstruction.
        statistics_batches: training batches that estimate the style statistics.
        lr: learning rate of both steps.
        optimizer: optimizer class and settings; None is RMSprop.
        network_colour: the earlier stages' (read from their checkpoints when None; any
            other value is refused: the frozen encoders read that colour space).
        style_record: the style checkpoint's record; read from ``style_checkpoint`` and saved.
        content_record: the VAE checkpoint's record and its hyperparameters; read from
            ``content_checkpoint`` and saved.
    """

    def __init__(
        self,
        num_artists: int,
        image_size: int = 64,
        channels: str = "rgb",
        style_checkpoint: str | None = None,
        content_checkpoint: str | None = None,
        style_dims: int | None = None,
        content_dims: int | None = None,
        free_dims: int = 32,
        widths: list[int] | None = None,
        fc_width: int | None = None,
        discriminator_widths: list[int] | None = None,
        scales: tuple[int, int, int] | None = None,
        patches: int = 4,
        blocks_per_level: int = 1,
        lambda_style: float = 1.0,
        lambda_content: float = 1.0,
        statistics_batches: int = 50,
        lr: float = 2e-5,
        optimizer: OptimizerCallable | None = None,
        network_colour: ColourSpace | None = None,
        style_record: dict[str, Any] | None = None,
        content_record: dict[str, Any] | None = None,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer"])
        expected = {"num_artists": num_artists, "image_size": image_size}
        style = style_record or input_record(
            style_checkpoint, "style_checkpoint", "MetricStyleEncoder", METRIC_FIX, {**expected, "objective": "metric"}
        )
        content = content_record or input_record(
            content_checkpoint, "content_checkpoint", "StyleConditionedVAE", VAE_FIX,
            {**expected, "colour_space": style["colour_space"]},
        )  # fmt: skip
        self._resolve(num_artists, image_size, channels, frozen_colour(network_colour, style), widths, blocks_per_level)
        if free_dims < 0 or statistics_batches < 1:
            raise ValueError(f"free_dims={free_dims} must be >= 0 and statistics_batches={statistics_batches} >= 1")
        self.style_dims = style_dims or content["style_dims"]
        self.content_dims = content_dims or content["content_dim"]
        if not 1 <= self.content_dims <= content["content_dim"]:
            raise ValueError(f"content_dims={self.content_dims} must be in [1, {content['content_dim']}]")
        self.free_dims = free_dims
        self.hparams.update(
            style_record=style, content_record=content, style_dims=self.style_dims, content_dims=self.content_dims,
            network_colour=self.colour_space,
        )  # fmt: skip
        self.style = FrozenStyleEncoder.from_record(style, self.style_dims)
        self.content = GaussianEncoder(
            image_size,
            tuple(content["widths"]),
            content["fc_width"],
            content["content_dim"],
            content["blocks_per_level"],
        ).requires_grad_(False)
        self.generator = WNDecoder(self.code_dim, image_size, self.widths, fc_width, blocks_per_level)
        sizes = (scales[0], scales[1], scales[2]) if scales else discriminator_scales(image_size)
        d_widths = tuple(discriminator_widths) if discriminator_widths else style_space_preset(sizes[0]).widths
        self.discriminator = MultiScaleDiscriminator(image_size, d_widths, sizes, patches, blocks_per_level)
        self.optimizer = optimizer

    @property
    def code_dim(self) -> int:
        """Width of ``z``: style + content + free dimensions."""
        return self.style_dims + self.content_dims + self.free_dims

    def record(self) -> dict[str, Any]:
        return {**super().record(), "style_dims": self.style_dims, "content_dims": self.content_dims}

    # -- set-up --

    def train(self, mode: bool = True) -> StyleContentGAN:
        super().train(mode)
        self.content.eval()  # frozen (the style encoder keeps itself in eval mode)
        return self

    def on_fit_start(self) -> None:
        super().on_fit_start()
        if int(self.iteration) == 0:  # a resumed run has all of it in its own checkpoint
            self.load_inputs()

    def load_inputs(self) -> None:
        """The frozen style and content encoders from ``style_checkpoint`` and
        ``content_checkpoint``, and the statistics that standardise the style codes."""
        hp = self.hparams
        load_style_encoder(self.style, hp["style_checkpoint"])
        load_network(
            self.content, hp["content_checkpoint"], "content_checkpoint", "StyleConditionedVAE", VAE_FIX, "encoder"
        )
        self._style_statistics()

    @torch.no_grad()
    def _style_statistics(self) -> None:
        """Mean and std of the kept style dimensions over ``statistics_batches`` training
        batches (averaged across devices), for the standardisation of ``E_s``."""
        datamodule = self.trainer.datamodule  # type: ignore[attr-defined]
        codes = []
        for i, batch in enumerate(datamodule.train_dataloader()):
            if i == self.hparams["statistics_batches"]:
                break
            batch = datamodule.on_after_batch_transfer(self.transfer_batch_to_device(batch, self.device, 0), 0)
            codes.append(self.style(self.to_network(batch["x"]), standardise=False))
        stacked = torch.cat(codes)
        mean, square = stacked.mean(0), stacked.square().mean(0)
        mean = self.trainer.strategy.reduce(mean, reduce_op="mean")
        square = self.trainer.strategy.reduce(square, reduce_op="mean")
        self.style.mean.copy_(mean)
        self.style.std.copy_((square - mean.square()).clamp_min(1e-8).sqrt())

    # -- codes and images --

    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``z`` (B, code_dim) -> its style, content and free parts."""
        style, content, free = z.split([self.style_dims, self.content_dims, self.free_dims], dim=1)
        return style, content, free

    def codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """sRGB images (B, 3, S, S) -> standardised style (B, style_dims) and content means
        (B, content_dims): the parts of ``z`` that would draw them."""
        lab = self.to_network(x)
        return self.style(lab), self.content(lab)[0][:, : self.content_dims]

    def generate(self, style: torch.Tensor, content: torch.Tensor, free: torch.Tensor | None = None) -> torch.Tensor:
        """Codes -> sRGB images (B, 3, S, S); ``free`` defaults to zeros (the prior's mode)."""
        if free is None:
            free = style.new_zeros(style.shape[0], self.free_dims)
        return self.to_rgb(self.generator(torch.cat([style, content, free], 1)))

    def transfer_like(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """sRGB images (B, 3, S, S) and style images (B or 1, 3, S, S) -> each image's content
        code drawn with its reference's style code (Sec. 6.4), (B, 3, S, S) in [-1, 1]."""
        with self.evaluating(self.generator):
            _, content = self.codes(x)
            style, _ = self.codes(reference)
            return self.generate(style.expand(len(content), -1), content).clamp(-1, 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """sRGB images (B, 3, S, S) -> (B, style_dims + content_dims): the standardised style
        code, then the content code (:meth:`codes` side by side)."""
        with self.evaluating(self.generator):
            return torch.cat(self.codes(x), 1)

    # -- losses --

    def discriminator_loss(
        self, real: torch.Tensor, fake: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Network-colour real and generated images -> the average of the three networks' losses."""
        terms = [
            gan_discriminator(r, f) for r, f in zip(self.discriminator(real), self.discriminator(fake), strict=True)
        ]
        parts = {f"d_{name}": t for name, t in zip(("whole", "middle", "full"), terms, strict=True)}
        return torch.stack(terms).mean(), parts

    def generator_loss(self, z: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``z`` and ``G(z)`` -> the generator's loss and its terms."""
        adversarial = torch.stack([gan_generator(f) for f in self.discriminator(fake)]).mean()
        z_style, z_content, _ = self.split(z)
        style = (self.style(fake).float() - z_style.float()).square().mean()
        content = (self.content(fake)[0][:, : self.content_dims].float() - z_content.float()).square().mean()
        hp = self.hparams
        loss = adversarial + hp["lambda_style"] * style + hp["lambda_content"] * content
        return loss, {"g_adv": adversarial, "style": style, "content": content}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_g, opt_d = self.optimizer_list()
        real = self.to_network(batch["x"])
        z = torch.randn(real.shape[0], self.code_dim, device=real.device)
        fake = self.generator(z)  # one forward for both steps: the D step leaves G's weights alone
        with self.toggled_optimizer(opt_d):
            d_loss, d_parts = self.discriminator_loss(real, fake.detach())
            self.update(opt_d, d_loss, {"d": d_loss, **d_parts})
        with self.toggled_optimizer(opt_g):
            g_loss, g_parts = self.generator_loss(z, fake)
            self.update(opt_g, g_loss, g_parts)
        self.log_parts({"d": d_loss, **d_parts, **g_parts}, prog_bar=("d", "g_adv", "style"))
        self.finish_iteration()

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        """``<stage>/style`` and ``<stage>/content``: how well the codes of real images come back
        from the images they generate (the paper's reconstruction, Sec. 6.4)."""
        style, content = self.codes(batch["x"])
        again = self.to_network(self.generate(style, content))
        measures = {
            "style": (self.style(again) - style).square().flatten(1).mean(1),
            "content": (self.content(again)[0][:, : self.content_dims] - content).square().flatten(1).mean(1),
        }
        self.log_measures(stage, measures, len(style), prog_bar=("style",))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        make = self.optimizer or torch.optim.RMSprop
        lr = self.hparams["lr"]
        return [
            make([{"params": list(self.generator.parameters()), "lr": lr}]),
            make([{"params": list(self.discriminator.parameters()), "lr": lr}]),
        ]

    def sample_grids(self, x: torch.Tensor, artist: torch.Tensor, artists: torch.Tensor) -> dict[str, torch.Tensor]:
        """``styles``: fixed contents (rows) x random styles (columns); ``transfer``: the
        content of each row's image with the style of each column's image;
        ``reconstruction``: each image beside the image its own codes draw."""
        with self.evaluating(self.generator):
            style, content = self.codes(x)
            rec = self.generate(style, content)
            return {
                "styles": random_styles(self, content, len(x), seed=0),
                "transfer": transfer_grid(self, x, x),
                "reconstruction": torch.stack([x, rec], 1),
            }
