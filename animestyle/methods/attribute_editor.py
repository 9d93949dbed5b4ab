"""Face attribute editing: STGAN with gated convolutions (the ANIMEGAN report).

"ANIMEGAN: Face Manipulation on Anime Illustrations" edits the attributes of a face (hair
colour, blush, glasses, an open mouth) and keeps everything else. Its generator is STGAN's
(Liu et al., 2019): an encoder-decoder conditioned on the *difference* between the target
and the source attributes, with selective transfer units (STUs) on the skip connections;
the report replaces the encoder's convolutions by gated convolutions (Sec. 4.1). The
discriminator has an adversarial head and an attribute head.

Per iteration, with ``a`` the source attributes and ``b`` a shuffled copy of the batch's
(STGAN's choice: valid attribute combinations)::

    diff = b - a  in {-1, 0, 1}
    D:  adv(D(x), D(G(x, diff))) + lambda_gp GP + lambda_attr_d BCE(D_att(x), a)
    G (every n_critic-th iteration):
        adv_G(D(G(x, diff))) + lambda_attr_g BCE(D_att(G(x, diff)), b)
        + lambda_rec |G(x, 0) - x|_1

The adversarial loss is selectable: ``wgan-gp`` (STGAN's, the default), ``vanilla`` (the
report's final choice, Sec. 4.2.1) or ``lsgan``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import OptimizerCallable

from animestyle.checks import check_count
from animestyle.data.tags import check_attribute_names, exclusive_groups
from animestyle.losses import (
    gan_discriminator,
    gan_generator,
    gradient_penalty,
    lsgan_discriminator,
    lsgan_generator,
    wgan_discriminator,
    wgan_generator,
)
from animestyle.methods.base import AdversarialModule, refuse_lab_data
from animestyle.metrics.image_quality import psnr, ssim
from animestyle.networks.stgan import STGANDiscriminator, STGANGenerator, stgan_preset

__all__ = ["AttributeEditor"]

Adversarial = Literal["wgan-gp", "vanilla", "lsgan"]

_D_LOSS = {"wgan-gp": wgan_discriminator, "vanilla": gan_discriminator, "lsgan": lsgan_discriminator}
_G_LOSS = {"wgan-gp": wgan_generator, "vanilla": gan_generator, "lsgan": lsgan_generator}


class AttributeEditor(AdversarialModule):
    """STGAN with a gated-convolution encoder: edit named attributes of a face.

    Defaults are STGAN's (``reference-code.md`` Sec. 3: WGAN-GP with penalty 10, 5 critic
    steps per generator step, attribute weights 10 (G) and 1 (D), reconstruction weight 100,
    Adam lr 2e-4 with beta1 0.5, batch 32 in the configs); the report trains at 128 px.

    Logged terms: ``d_adv``, ``gp`` (WGAN-GP), ``d_att`` (BCE of the attribute head on real
    images), ``d_att_acc``; ``g_adv``, ``g_att``, ``rec`` on generator iterations; and
    ``val/psnr``, ``val/ssim`` of reconstructions (the report's Table 2) and ``val/d_att_acc``
    (the discriminator's attribute head on real faces; edits are scored by ``edit-report``),
    the same under ``test/`` in ``animestyle test``.

    Args:
        attribute_names: the attributes, in the order of the data's ``attrs`` columns
            (linked from the data by the CLI).
        num_artists: linked from the data; editing ignores the artist (sample grids read it).
        image_size: image side in pixels (a power of two >= 16; linked from the data).
        channels: must be ``"rgb"``.
        widths: encoder (and discriminator) channels per level; None:
            :func:`~animestyle.networks.stgan.stgan_preset`.
        fc_width: width of the discriminator's heads; None: the preset's (1024).
        exclusive: groups of attributes of which a face has at most one (switching one on
            switches the others off); None: :func:`exclusive_groups` of the names. The
            synthetic portraits also never smile with an open mouth: add
            ``[open_mouth, smile]`` when both are attributes.
        stu_levels: skip connections through STUs; None: the preset's.
        inject_levels: decoder layers that receive the tiled difference vector; None: as
            ``stu_levels`` (STGAN's inject_layers = shortcut_layers).
        gated: gated convolutions in the encoder (the report); False: STGAN's plain ones.
        use_stu: selective transfer units on the skips; False: plain U-Net skips.
        adversarial: ``"wgan-gp"``, ``"vanilla"`` or ``"lsgan"``.
        lambda_gp: weight of the gradient penalty (WGAN-GP only).
        lambda_attr_g: weight of the generator's attribute loss.
        lambda_attr_d: weight of the discriminator's attribute loss.
        lambda_rec: weight of the L1 reconstruction with a zero difference.
        n_critic: discriminator steps per generator step.
        lr: learning rate of both networks.
        betas: Adam's betas.
        lr_decay_iteration: iteration from which both learning rates are divided by 10
            (STGAN: halfway); None: never.
        optimizer: optimizer class and settings for both networks; None: Adam with ``lr`` and
            ``betas``.
    """

    def __init__(
        self,
        attribute_names: list[str],
        num_artists: int | None = None,
        image_size: int = 128,
        channels: str = "rgb",
        widths: list[int] | None = None,
        fc_width: int | None = None,
        exclusive: list[list[str]] | None = None,
        stu_levels: int | None = None,
        inject_levels: int | None = None,
        gated: bool = True,
        use_stu: bool = True,
        adversarial: Adversarial = "wgan-gp",
        lambda_gp: float = 10.0,
        lambda_attr_g: float = 10.0,
        lambda_attr_d: float = 1.0,
        lambda_rec: float = 100.0,
        n_critic: int = 5,
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        lr_decay_iteration: int | None = None,
        optimizer: OptimizerCallable | None = None,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer"])
        if channels != "rgb":
            raise ValueError(f"channels={channels!r}: the attribute editor reads colour only; set data.channels: rgb")
        if adversarial not in _D_LOSS:
            raise ValueError(f"adversarial={adversarial!r} is not one of {list(_D_LOSS)}")
        check_count("n_critic", n_critic, 1)
        if lr_decay_iteration is not None:
            check_count("lr_decay_iteration", lr_decay_iteration, 1)
        self.attribute_names = check_attribute_names(attribute_names)
        self.num_artists = num_artists or 1
        self.groups = exclusive if exclusive is not None else exclusive_groups(self.attribute_names)
        for group in self.groups:
            for name in group:
                self._index(name)
        preset = stgan_preset(image_size)
        self.image_size = image_size
        self.widths = tuple(widths) if widths else preset.widths
        attrs = len(self.attribute_names)
        self.generator = STGANGenerator(
            image_size, attrs, list(self.widths), stu_levels, inject_levels, gated=gated, use_stu=use_stu
        )
        self.discriminator = STGANDiscriminator(image_size, attrs, list(self.widths), fc_width)
        self.optimizer = optimizer

    def record(self) -> dict[str, Any]:
        return {
            "attribute_names": self.attribute_names, "image_size": self.image_size, "widths": list(self.widths),
            "num_artists": self.num_artists,
        }  # fmt: skip

    def on_fit_start(self) -> None:
        refuse_lab_data(self)

    # -- editing -------------------------------------------------------------------------

    def forward(self, x: torch.Tensor, diff: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, S, S) in [-1, 1] and attribute differences (B, A) -> edited images."""
        return self.generator(x, diff)

    def predict_attributes(self, x: torch.Tensor) -> torch.Tensor:
        """The discriminator's attribute head: probabilities (B, A) that each attribute is on."""
        with self.evaluating(self.discriminator):
            return torch.sigmoid(self.discriminator(x)[1].float())

    def _index(self, name: str) -> int:
        if name not in self.attribute_names:
            raise ValueError(f"unknown attribute {name!r}; this editor knows {self.attribute_names}")
        return self.attribute_names.index(name)

    def targets(self, source: torch.Tensor, changes: Mapping[str, float]) -> torch.Tensor:
        """Source attributes (B, A) in [0, 1] with ``changes`` ({name: value}) applied: a value
        above 0.5 switched on also switches off the rest of its exclusive group (pink hair
        is no longer blonde). Returns (B, A)."""
        target = source.clone()
        for name, value in changes.items():
            j = self._index(name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name}={value}: attribute values are in [0, 1] (0 off, 1 on)")
            if value > 0.5:
                for group in self.groups:
                    if name in group:
                        target[:, [self.attribute_names.index(n) for n in group]] = 0.0
            target[:, j] = value
        return target

    def edit(
        self,
        x: torch.Tensor,
        changes: Mapping[str, float],
        source: torch.Tensor | None = None,
        strength: float = 1.0,
    ) -> torch.Tensor:
        """Edit images (B, 3, S, S) in [-1, 1]: ``changes`` such as ``{"blush": 1,
        "pink_hair": 1}``; attributes not named keep their value.

        ``source`` (B, A) gives the images' own attributes; None reads them with the
        discriminator's attribute head (thresholded at 0.5). ``strength`` scales the
        difference vector (1: as trained; more exaggerates the edit).
        """
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"x must be (B, 3, S, S) RGB images; got {tuple(x.shape)}")
        if source is None:
            source = (self.predict_attributes(x) > 0.5).to(x.dtype)
        diff = (self.targets(source, changes) - source) * strength
        with self.evaluating(self.generator):
            return self.generator(x, diff).clamp(-1, 1)

    # -- losses --------------------------------------------------------------------------

    def discriminator_loss(
        self, x: torch.Tensor, fake: torch.Tensor, a: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Real images ``x``, detached edits ``fake`` and the real attributes ``a`` (B, A)."""
        hp = self.hparams
        real_adv, real_att = self.discriminator(x)
        fake_adv, _ = self.discriminator(fake)
        adv = _D_LOSS[hp["adversarial"]](real_adv, fake_adv)
        att = F.binary_cross_entropy_with_logits(real_att.float(), a.float())
        parts = {"d_adv": adv, "d_att": att, "d_att_acc": ((real_att > 0) == (a > 0.5)).float().mean()}
        loss = adv + hp["lambda_attr_d"] * att
        if hp["adversarial"] == "wgan-gp":
            parts["gp"] = gradient_penalty(lambda images: self.discriminator(images)[0], x, fake)
            loss = loss + hp["lambda_gp"] * parts["gp"]
        return loss, parts

    def generator_loss(
        self, x: torch.Tensor, fake: torch.Tensor, b: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Real images ``x``, their edits ``fake`` towards the target attributes ``b``."""
        hp = self.hparams
        fake_adv, fake_att = self.discriminator(fake)
        adv = _G_LOSS[hp["adversarial"]](fake_adv)
        att = F.binary_cross_entropy_with_logits(fake_att.float(), b.float())
        rec = (self.generator(x, torch.zeros_like(b)).float() - x.float()).abs().mean()
        loss = adv + hp["lambda_attr_g"] * att + hp["lambda_rec"] * rec
        return loss, {"g_adv": adv, "g_att": att, "rec": rec}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_g, opt_d = self.optimizer_list()
        x, a = batch["x"], batch["attrs"].to(batch["x"].dtype)
        b = a[torch.randperm(len(a), device=a.device)]  # valid combinations: another image's
        g_step = (int(self.iteration) + 1) % self.hparams["n_critic"] == 0
        with torch.set_grad_enabled(g_step):  # one forward for both steps: the D step leaves G alone
            fake = self.generator(x, b - a)
        with self.toggled_optimizer(opt_d):
            d_loss, parts = self.discriminator_loss(x, fake.detach(), a)
            self.update(opt_d, d_loss, parts)
        if g_step:
            with self.toggled_optimizer(opt_g):
                g_loss, g_parts = self.generator_loss(x, fake, b)
                self.update(opt_g, g_loss, g_parts)
            parts = {**parts, **g_parts}
        self.log_parts(parts, prog_bar=("d_adv", "d_att_acc", "rec"))
        self.finish_iteration()

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        x, a = batch["x"], batch["attrs"]
        rec = self.generator(x, torch.zeros_like(a, dtype=x.dtype)).clamp(-1, 1)
        measures = {
            "psnr": psnr(rec, x),
            "ssim": ssim(rec, x),
            "d_att_acc": ((self.discriminator(x)[1] > 0) == (a > 0.5)).float().mean(1),
        }
        self.log_measures(stage, measures, len(x), prog_bar=("psnr",))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        hp = self.hparams
        optimizers = [
            self.optimizer(net.parameters())
            if self.optimizer
            else torch.optim.Adam(net.parameters(), hp["lr"], hp["betas"])
            for net in (self.generator, self.discriminator)
        ]
        decay = hp["lr_decay_iteration"]
        if decay is None:
            return optimizers
        schedulers = [torch.optim.lr_scheduler.LambdaLR(o, lambda i: 0.1 if i >= decay else 1.0) for o in optimizers]
        return optimizers, schedulers

    # -- pictures ------------------------------------------------------------------------

    def sample_grids(self, x: torch.Tensor, artist: torch.Tensor, artists: torch.Tensor) -> dict[str, torch.Tensor]:
        """``edits``: :meth:`edit_grid` of the first 8 attributes, read by the discriminator."""
        return {"edits": self.edit_grid(x)}

    def edit_grid(
        self, x: torch.Tensor, names: Sequence[str] | None = None, source: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, 2 + len(names), 3, S, S): each image, its reconstruction, and one column per
        attribute in ``names`` (default: the first 8): a binary attribute switched to the
        opposite of its value, a member of an exclusive group (a hair colour) switched on
        (where it is on already, the column is the reconstruction). ``source`` (B, A): the
        images' attributes; None reads them with the discriminator."""
        names = list(names) if names is not None else self.attribute_names[:8]
        grouped = {n for group in self.groups for n in group}
        if source is None:
            source = (self.predict_attributes(x) > 0.5).to(x.dtype)
        columns = [x, self.edit(x, {}, source)]
        for name in names:
            j = self._index(name)
            values = [1.0 if name in grouped else 1.0 - float(s[j] > 0.5) for s in source]
            target = torch.cat([self.targets(s[None], {name: v}) for s, v in zip(source, values, strict=True)])
            with self.evaluating(self.generator):
                columns.append(self.generator(x, target - source).clamp(-1, 1))
        return torch.stack(columns, 1)
