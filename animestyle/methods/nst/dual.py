"""Approach 1 of "Neural Artistic Style Transfer with Conditional Adversarial Networks"
(Deelaka): one generator, a content and a style discriminator.

The paper gives the design, not the numbers; the defaults follow the author's code
(``reference-code.md`` Sec. 4, 128 px, batch 16). Per iteration, with ``c`` a content
image, ``s`` a style reference and ``s'`` another image by the reference's artist (the
data module's ``style_pairs``)::

    y = G(c, s)                                  U-Net on cat(c, s)
    D_c:  [BCE(D_c(c, c), 1) + BCE(D_c(c, y), 0)] / 2   PatchGAN on cat(content, image)
    D_s:  pairwise margin loss on squared distances of wavelet-CNN embeddings f:
          (s, s') same artist; (s, c) same iff their artists are; (s', y) different
    G:    0.6 |f(y) - f(s')|^2 + 0.4 BCE(D_c(c, y), 1) + 1.0 |y - c|_1

The content discriminator's only real pair is ``(c, c)``: no other image is known to show
``c``'s content (there are no paired examples), so it judges whether the transfer still
shows the content image's layout and palette. The style discriminator is adversarial
through its third pair: a transfer must not pass as the reference artist's work, while the
generator pulls the transfer's embedding onto ``s'``'s (the artist's style, not the one
reference picture). The L1 term is to the content image (the author's ``cntLoss``).

With ``style_input="embedding"`` (ours) the generator reads ``f(s)``, the style
discriminator's embedding of the reference, instead of ``s``'s pixels: ``y = G(c, f(s))``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import OptimizerCallable
from torch import nn

from animestyle.losses import pairwise_margin_loss
from animestyle.methods.nst.common import ReferenceTransferModule
from animestyle.networks import PatchDiscriminator, UNetGenerator, WaveletStyleEncoder

__all__ = ["STYLE_INPUTS", "DualDiscriminatorNST"]

STYLE_INPUTS = ("image", "embedding")  # how the generator reads the style image (style_input)


def _squared_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a.float() - b.float()).pow(2).sum(dim=1)


class DualDiscriminatorNST(ReferenceTransferModule):
    """Reference-guided style transfer with a PatchGAN content discriminator and a siamese
    wavelet-CNN style discriminator (Deelaka, approach 1; the author's code's settings).

    Logged terms: ``dc`` (content discriminator BCE), ``ds`` (style discriminator pairwise
    loss), ``ds_pair_acc`` (pairs it places on the right side of half the margin),
    ``g_style``, ``g_content``, ``g_l1``; validation and test: see
    :meth:`~animestyle.methods.nst.common.ReferenceTransferModule.evaluation_step`.

    Args:
        num_artists: linked from the data (sample grids, records).
        image_size: image side (linked from the data); a multiple of ``2 ** len(widths)``
            and of ``patches`` times a power of two.
        channels: must be ``"rgb"``.
        widths: U-Net encoder channels per level (64, 128, 256, 512, 512, 512).
        dropout: dropout on the first two decoder levels (0.4).
        patches: cells per side of the PatchGAN's logit map (4 at 128 px).
        patch_width: the PatchGAN's first-level channels (64).
        style_levels: Haar levels of the style discriminator (4).
        style_width: its first-level channels (64).
        style_dim: its embedding size (16).
        style_input: how the generator reads the style image: ``"image"`` (the author's
            code: stacked onto the content as three more input channels) or ``"embedding"``
            (ours: the style discriminator's embedding of it, tiled into the U-Net's
            decoder; the paper's text has the generator fuse "a local-global representation"
            of the style image into its latent space). With ``"embedding"`` the generator's
            updates leave the style discriminator alone, and :meth:`transfer` runs both
            networks (their moving averages, when kept).
        margin: ``m`` of the pairwise margin loss (1).
        lambda_style: weight of the style term in G's loss (0.6).
        lambda_content: weight of the content adversarial term (0.4).
        lambda_l1: weight of |G(c, s) - c|_1 (1).
        lambda_reconstruction: weight of |G(s', s) - s'|_1 (ours; 0: off, the paper's); see
            :meth:`~animestyle.methods.nst.common.ReferenceTransferModule.combine_generator_terms`.
        output: what the generator draws: ``"image"`` (the paper's), ``"residual"``,
            ``"colour"`` or ``"warp"`` (ours); see
            :meth:`~animestyle.methods.nst.common.ReferenceTransferModule.finish_transfer`.
        pretrain_iterations: iterations at the start in which the discriminators train
            as usual but the generator only learns to give the content image back (its L1
            term alone), so that its style and content terms start from trained judges (the
            author trained the descriptors first, in scripts of their own); 0: none.
        ema_decay: decay of the EMA copy of the generator that :meth:`transfer` and the
            pictures use (GADN's 0.999); None: the generator itself.
        lr: Adam learning rate of every network (pix2pix: 2e-4).
        betas: Adam's betas (0.5, 0.999).
        optimizer: optimizer class and settings for all three networks; None: Adam.
    """

    inference_networks: tuple[str, ...] = ("generator",)
    optimized_networks = ("generator", "content_discriminator", "style_discriminator")

    def __init__(
        self,
        num_artists: int | None = None,
        image_size: int = 128,
        channels: str = "rgb",
        widths: tuple[int, ...] = (64, 128, 256, 512, 512, 512),
        dropout: float = 0.4,
        patches: int = 4,
        patch_width: int = 64,
        style_levels: int = 4,
        style_width: int = 64,
        style_dim: int = 16,
        style_input: str = "image",
        margin: float = 1.0,
        lambda_style: float = 0.6,
        lambda_content: float = 0.4,
        lambda_l1: float = 1.0,
        lambda_reconstruction: float = 0.0,
        output: str = "image",
        pretrain_iterations: int = 0,
        ema_decay: float | None = 0.999,
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        optimizer: OptimizerCallable | None = None,
    ):
        super().__init__(num_artists, image_size, channels)
        self.save_hyperparameters(ignore=["optimizer"])
        self.check_settings()
        if style_input not in STYLE_INPUTS:
            raise ValueError(f"style_input={style_input!r} is not allowed; choose one of {list(STYLE_INPUTS)}")
        self.embeds_style = style_input == "embedding"
        if self.embeds_style:
            self.inference_networks = ("generator", "style_discriminator")
        self.generator = UNetGenerator(
            image_size,
            tuple(widths),
            out_channels=self.output_channels(),
            dropout=dropout,
            style_dim=style_dim if self.embeds_style else 0,
        )
        self.start_from_content(self.generator.out[0])
        self.content_discriminator = PatchDiscriminator(image_size, 6, patches, patch_width)
        self.style_discriminator = WaveletStyleEncoder(image_size, 3, style_levels, style_width, dim=style_dim)
        self.optimizer = optimizer
        self.keep_averages(ema_decay)

    def generate_with(
        self, networks: Mapping[str, nn.Module], content: torch.Tensor, style: torch.Tensor
    ) -> torch.Tensor:
        """With ``style_input="embedding"`` the style embedding is read without gradients, so
        training (through the default :meth:`generator_pass`) gives them to the generator only."""
        if self.embeds_style:
            with torch.no_grad():
                style = networks["style_discriminator"](style)
        return self.finish_transfer(content, networks["generator"](content, style))

    def style_distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        with self.evaluating(self.style_discriminator):
            return _squared_distance(self.style_discriminator(a), self.style_discriminator(b))

    # -- losses --------------------------------------------------------------------------

    def content_discriminator_loss(
        self, content: torch.Tensor, fake: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """BCE of the PatchGAN: ``(content, content)`` real, ``(content, fake)`` generated."""
        real = self.content_discriminator(torch.cat([content, content], 1)).float()
        generated = self.content_discriminator(torch.cat([content, fake], 1)).float()
        loss = (
            F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(generated, torch.zeros_like(generated))
        ) / 2
        return loss, {"dc": loss}

    def style_discriminator_loss(
        self, batch: dict[str, torch.Tensor], fake: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Pairwise margin loss on (reference, second image) [same], (reference, content)
        [same iff their artists are] and (second image, fake) [different]."""
        content, style, positive = batch["x"], batch["style_x"], batch["style_pos_x"]
        e_style, e_positive, e_content = self.style_discriminator(torch.cat([style, positive, content])).chunk(3)
        e_fake = self.style_discriminator(fake)
        distance = torch.cat(
            [
                _squared_distance(e_style, e_positive),
                _squared_distance(e_style, e_content),
                _squared_distance(e_positive, e_fake),
            ]
        )
        n = len(content)
        ones = torch.ones(n, device=distance.device)
        same = torch.cat([ones, (batch["style_artist"] == batch["artist"]).float(), 0 * ones])
        loss = pairwise_margin_loss(distance, same, self.hparams["margin"])
        accuracy = ((distance < self.hparams["margin"] / 2).float() == same).float().mean()
        return loss, {"ds": loss, "ds_pair_acc": accuracy}

    def generator_loss(
        self, batch: dict[str, torch.Tensor], fake: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        content = batch["x"]
        with torch.no_grad():
            target = self.style_discriminator(batch["style_pos_x"])
        style = _squared_distance(self.style_discriminator(fake), target).mean()
        logits = self.content_discriminator(torch.cat([content, fake], 1)).float()
        adversarial = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        return self.combine_generator_terms(style, adversarial, fake, batch)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_g, opt_content, opt_style = self.optimizer_list()
        fake = self.generator_pass(batch["x"], batch["style_x"])
        with self.toggled_optimizer(opt_content):
            loss, parts = self.content_discriminator_loss(batch["x"], fake.detach())
            self.update(opt_content, loss, parts)
        with self.toggled_optimizer(opt_style):
            loss, style_parts = self.style_discriminator_loss(batch, fake.detach())
            self.update(opt_style, loss, style_parts)
        with self.toggled_optimizer(opt_g):
            loss, g_parts = self.generator_loss(batch, fake)
            self.update(opt_g, loss, g_parts)
        self.log_parts({**parts, **style_parts, **g_parts}, prog_bar=("ds_pair_acc", "g_l1"))
        self.finish_iteration()
