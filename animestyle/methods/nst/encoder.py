"""Approach 2 of "Neural Artistic Style Transfer with Conditional Adversarial Networks"
(Deelaka): the encoders are the discriminators (the paper's "unidirectional GAN").

The generator is a content encoder ``E_c``, a style encoder ``E_s`` and a decoder ``Dec``;
there are no other networks, which is why the model is much smaller than approach 1's.
Each encoder is trained only by its discriminator loss, the decoder only by the
generator's; the decoder reads the encoders' outputs detached. Per iteration, with ``c`` a
content image, ``s`` a style reference, ``s'`` another image by its artist::

    y = Dec(features of E_c(c), E_s(s))
    E_c:  pairwise margin loss on cosine distances of content embeddings: (c, another
          content image) and (c, y) are different pairs
    E_s:  N-pair loss: softmax over cosine similarities / 0.2 of E_s(s) against
          E_s(s') of the batch (other images by the same artist left out) and E_s(y)
          (every transfer a negative)
    Dec:  0.5 N-pair(E_s(y) -> E_s(s')) + 0.5 cosine distance(E_c(y), E_c(c)) + 1.0 |y - c|_1

The encoders thus learn what tells a content image from anything else, transfers included,
and what tells an artist's real work from other artists' and from transfers; the decoder
learns to fool both. The defaults follow the author's code (``reference-code.md`` Sec. 4).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import OptimizerCallable
from torch import nn

from animestyle.losses import n_pair_loss, pairwise_margin_loss
from animestyle.methods.nst.common import ReferenceTransferModule
from animestyle.networks import ContentEncoder, SkipDecoder, StyleEncoder

__all__ = ["EncoderDiscriminatorNST"]


def _cosine_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return 1 - F.cosine_similarity(a.float(), b.float(), dim=1)


class EncoderDiscriminatorNST(ReferenceTransferModule):
    """Reference-guided style transfer whose content and style encoders double as its
    discriminators (Deelaka, approach 2; the author's code's settings).

    Logged terms: ``dc`` (content encoder's pairwise loss), ``ds`` (style encoder's N-pair
    loss), ``ds_acc`` (references whose nearest column is a second image by their artist),
    ``g_style``, ``g_content``, ``g_l1``; validation and test: see
    :meth:`~animestyle.methods.nst.common.ReferenceTransferModule.evaluation_step`.

    Args:
        num_artists: linked from the data (sample grids, records).
        image_size: image side (linked from the data); a multiple of ``2 ** len(widths)``.
        channels: must be ``"rgb"``.
        widths: content encoder channels per level (32, 64, 128, 256); the decoder mirrors them.
        style_backbone: ``"conv"`` (ours, from scratch) or a torchvision network
            (``resnet18``, ``resnet50``, ``densenet121``: the author's, ImageNet-trained).
        style_weights: local file with the torchvision backbone's ``state_dict`` (never
            downloaded); None: random initialisation.
        freeze_style_backbone: keep the backbone fixed (the author did, with ImageNet
            weights); only the style encoder's dense layer then learns.
        style_dim: style embedding size (32).
        margin: margin of the content encoder's pairwise loss on cosine distances (1).
        temperature: of the N-pair softmax (0.2).
        lambda_style: weight of the style term in the decoder's loss (0.5).
        lambda_content: weight of the content term (0.5).
        lambda_l1: weight of |y - c|_1 (1).
        lambda_reconstruction: weight of |G(s', s) - s'|_1 (ours; 0: off, the paper's); see
            :meth:`~animestyle.methods.nst.common.ReferenceTransferModule.combine_generator_terms`.
        output: what the generator draws: ``"image"`` (the paper's), ``"residual"``,
            ``"colour"`` or ``"warp"`` (ours); see
            :meth:`~animestyle.methods.nst.common.ReferenceTransferModule.finish_transfer`.
        pretrain_iterations: iterations at the start in which the encoders train
            as usual but the generator only learns to give the content image back (its L1
            term alone), so that its style and content terms start from trained judges (the
            author trained the descriptors first, in scripts of their own); 0: none.
        ema_decay: decay of the EMA copies of the three networks that :meth:`transfer` and
            the pictures use (GADN's 0.999); None: the networks themselves.
        lr: Adam learning rate of every network (2e-4).
        betas: Adam's betas (0.5, 0.999).
        optimizer: optimizer class and settings for all three networks; None: Adam.
    """

    inference_networks = ("content_encoder", "style_encoder", "decoder")
    optimized_networks = ("decoder", "content_encoder", "style_encoder")

    def __init__(
        self,
        num_artists: int | None = None,
        image_size: int = 128,
        channels: str = "rgb",
        widths: tuple[int, ...] = (32, 64, 128, 256),
        style_backbone: str = "conv",
        style_weights: str | None = None,
        freeze_style_backbone: bool = False,
        style_dim: int = 32,
        margin: float = 1.0,
        temperature: float = 0.2,
        lambda_style: float = 0.5,
        lambda_content: float = 0.5,
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
        widths = tuple(widths)
        self.content_encoder = ContentEncoder(image_size, widths)
        self.style_encoder = StyleEncoder(
            image_size, style_backbone, widths, style_dim, style_weights, freeze_style_backbone
        )
        self.decoder = SkipDecoder(widths, style_dim, self.output_channels())
        self.start_from_content(self.decoder.out[0])
        self.optimizer = optimizer
        self.keep_averages(ema_decay)

    def generate_with(
        self, networks: Mapping[str, nn.Module], content: torch.Tensor, style: torch.Tensor
    ) -> torch.Tensor:
        _, features = networks["content_encoder"](content)
        return self.finish_transfer(content, networks["decoder"](features, networks["style_encoder"](style)))

    def style_distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        with self.evaluating(self.style_encoder):
            return _cosine_distance(self.style_encoder(a), self.style_encoder(b))

    # -- losses --------------------------------------------------------------------------

    def content_encoder_loss(
        self, content: torch.Tensor, fake: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Pairwise margin loss: each content image against the next one in the batch and
        against its transfer, both different pairs."""
        e_content, _ = self.content_encoder(content)
        e_fake, _ = self.content_encoder(fake)
        distance = torch.cat(
            [
                _cosine_distance(e_content, e_content.roll(1, dims=0)),
                _cosine_distance(e_content, e_fake),
            ]
        )
        loss = pairwise_margin_loss(distance, torch.zeros_like(distance), self.hparams["margin"])
        return loss, {"dc": loss}

    def style_encoder_loss(
        self, batch: dict[str, torch.Tensor], fake: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """N-pair loss of the references against the second images, transfers as negatives."""
        e_style = self.style_encoder(batch["style_x"])
        e_positive = self.style_encoder(batch["style_pos_x"])
        e_fake = self.style_encoder(fake)
        labels = batch["style_artist"]
        loss = n_pair_loss(e_style, e_positive, self.hparams["temperature"], labels=labels, negatives=e_fake)
        with torch.no_grad():
            nearest = (e_style.float() @ torch.cat([e_positive, e_fake]).float().T).argmax(dim=1)
            accuracy = (nearest < len(labels)) & (labels[nearest.clamp_max(len(labels) - 1)] == labels)
        return loss, {"ds": loss, "ds_acc": accuracy.float().mean()}

    def generator_loss(
        self, batch: dict[str, torch.Tensor], fake: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        hp = self.hparams
        content = batch["x"]
        with torch.no_grad():  # the targets, by the encoders as they are after this iteration's updates
            e_content, _ = self.content_encoder(content)
            e_positive = self.style_encoder(batch["style_pos_x"])
        e_fake_content, _ = self.content_encoder(fake)
        content_term = _cosine_distance(e_fake_content, e_content).mean()
        e_fake_style = self.style_encoder(fake)
        style_term = n_pair_loss(e_fake_style, e_positive, hp["temperature"], labels=batch["style_artist"])
        return self.combine_generator_terms(style_term, content_term, fake, batch)

    def generator_pass(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Transfers with gradients to the decoder only; the encoders judge in passes of their own."""
        with torch.no_grad():
            _, features = self.content_encoder(content)
            style_code = self.style_encoder(style)
        return self.finish_transfer(content, self.decoder(features, style_code))

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_decoder, opt_content, opt_style = self.optimizer_list()
        fake = self.generator_pass(batch["x"], batch["style_x"])
        with self.toggled_optimizer(opt_content):
            loss, parts = self.content_encoder_loss(batch["x"], fake.detach())
            self.update(opt_content, loss, parts)
        with self.toggled_optimizer(opt_style):
            loss, style_parts = self.style_encoder_loss(batch, fake.detach())
            self.update(opt_style, loss, style_parts)
        with self.toggled_optimizer(opt_decoder):
            loss, g_parts = self.generator_loss(batch, fake)
            self.update(opt_decoder, loss, g_parts)
        self.log_parts({**parts, **style_parts, **g_parts}, prog_bar=("ds_acc", "g_l1"))
        self.finish_iteration()
