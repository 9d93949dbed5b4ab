"""StarGAN with artists as domains: the image-to-image baseline of GADN's Sec. 5.3 (Choi et
al., "StarGAN: Unified Generative Adversarial Networks for Multi-Domain Image-to-Image
Translation", CVPR 2018, arXiv:1711.09020).

One generator translates an image to any target domain ``c'``; one discriminator scores
real/fake patches (``D_src``) and classifies the domain (``D_cls``). Per iteration, with
``c`` the image's artist and ``c'`` a random artist (paper Eq. 1-7)::

    D:  -D_src(x) + D_src(G(x, c')) + lambda_gp GP + lambda_cls CE(D_cls(x), c)
    G (every n_critic-th iteration):
        -D_src(G(x, c')) + lambda_cls CE(D_cls(G(x, c')), c')
        + lambda_rec |x - G(G(x, c'), c)|_1

Defaults are the paper's (Sec. 4 and appendix: WGAN-GP with lambda_gp 10, lambda_cls 1,
lambda_rec 10, n_critic 5, Adam lr 1e-4 with betas (0.5, 0.999), batch 16; the learning
rates decay linearly to 0 over the second half of training, here ``lr_decay``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import OptimizerCallable

from animestyle.checks import check_count
from animestyle.losses import gradient_penalty, wgan_discriminator, wgan_generator
from animestyle.methods.base import AdversarialModule, adam, fixed_other_artists, refuse_lab_data
from animestyle.networks.stargan import StarGANDiscriminator, StarGANGenerator

__all__ = ["StarGAN"]


class StarGAN(AdversarialModule):
    """StarGAN: one conditional generator for every artist, a discriminator with a domain head.

    Logged terms: ``d_adv``, ``gp``, ``d_cls`` (CE of ``D_cls`` on real images), ``d_cls_acc``;
    ``g_adv``, ``g_cls``, ``rec`` (the cycle's L1) on generator iterations; held out
    (``val/``, ``test/``): ``cls_acc`` (``D_cls`` on real images), ``transfer_cls_acc`` (how often
    ``D_cls`` names the target artist of a transfer; GADN's Table 8 asks how much to trust it)
    and ``rec``.

    Args:
        num_artists: the domains (linked from the data).
        image_size: image side, a power of two >= 16 (linked from the data).
        channels: ``"rgb"`` only (linked from the data).
        width: the generator's and discriminator's first width (the paper's 64).
        residual_blocks: the generator's bottleneck blocks (the paper's 6).
        lambda_cls: weight of the domain classification terms.
        lambda_rec: weight of the cycle reconstruction.
        lambda_gp: weight of the gradient penalty.
        n_critic: discriminator steps per generator step.
        lr: learning rate of both networks.
        betas: Adam's betas.
        lr_decay: ``(start, end)`` iterations over which both learning rates fall linearly to
            0 (the paper: the last 100k of 200k); None: constant.
        optimizer: optimizer class and settings for both networks; None: Adam with ``lr`` and
            ``betas``.
    """

    def __init__(
        self,
        num_artists: int = 8,
        image_size: int = 64,
        channels: str = "rgb",
        width: int = 64,
        residual_blocks: int = 6,
        lambda_cls: float = 1.0,
        lambda_rec: float = 10.0,
        lambda_gp: float = 10.0,
        n_critic: int = 5,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        lr_decay: tuple[int, int] | None = None,
        optimizer: OptimizerCallable | None = None,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer"])
        if channels != "rgb":
            raise ValueError(f"channels={channels!r}: StarGAN reads colour only; set data.channels: rgb")
        check_count("num_artists", num_artists, 2)
        check_count("n_critic", n_critic, 1)
        if lr_decay is not None and not 0 <= lr_decay[0] < lr_decay[1]:
            raise ValueError(f"lr_decay={list(lr_decay)} must be [start, end] iterations with 0 <= start < end")
        self.num_artists, self.image_size = num_artists, image_size
        self.generator = StarGANGenerator(num_artists, width, residual_blocks)
        self.discriminator = StarGANDiscriminator(image_size, num_artists, width)
        self.optimizer = optimizer

    def record(self) -> dict[str, Any]:
        return {"num_artists": self.num_artists, "image_size": self.image_size, "channels": "rgb"}

    def on_fit_start(self) -> None:
        refuse_lab_data(self)

    # -- the paper's losses --

    def _scores(self, images: torch.Tensor) -> torch.Tensor:
        """``D_src`` summed over its patches (B,): the critic the gradient penalty differentiates."""
        return self.discriminator(images)[0].flatten(1).sum(1)

    def discriminator_loss(
        self, x: torch.Tensor, fake: torch.Tensor, artist: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Real images ``x`` of ``artist`` (B,) and detached translations ``fake``."""
        hp = self.hparams
        real_src, real_cls = self.discriminator(x)
        fake_src, _ = self.discriminator(fake)
        adv = wgan_discriminator(real_src, fake_src)
        cls = F.cross_entropy(real_cls.float(), artist)
        gp = gradient_penalty(self._scores, x, fake)
        parts = {"d_adv": adv, "gp": gp, "d_cls": cls, "d_cls_acc": (real_cls.argmax(1) == artist).float().mean()}
        return adv + hp["lambda_gp"] * gp + hp["lambda_cls"] * cls, parts

    def generator_loss(
        self, x: torch.Tensor, fake: torch.Tensor, artist: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Real images ``x`` of ``artist``, their translations ``fake`` to ``target`` (B,)."""
        hp = self.hparams
        fake_src, fake_cls = self.discriminator(fake)
        adv = wgan_generator(fake_src)
        cls = F.cross_entropy(fake_cls.float(), target)
        rec = (self.generator(fake, artist).float() - x.float()).abs().mean()
        loss = adv + hp["lambda_cls"] * cls + hp["lambda_rec"] * rec
        return loss, {"g_adv": adv, "g_cls": cls, "rec": rec}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_g, opt_d = self.optimizer_list()
        x, artist = batch["x"], batch["artist"]
        target = torch.randint(0, self.num_artists, artist.shape, device=artist.device)
        g_step = (int(self.iteration) + 1) % self.hparams["n_critic"] == 0
        with torch.set_grad_enabled(g_step):  # one translation for both steps: the D step leaves G alone
            fake = self.generator(x, target)
        with self.toggled_optimizer(opt_d):
            d_loss, parts = self.discriminator_loss(x, fake.detach(), artist)
            self.update(opt_d, d_loss, parts)
        if g_step:
            with self.toggled_optimizer(opt_g):
                g_loss, g_parts = self.generator_loss(x, fake, artist, target)
                self.update(opt_g, g_loss, g_parts)
            parts = {**parts, **g_parts}
        self.log_parts(parts, prog_bar=("d_adv", "d_cls_acc", "rec"))
        self.finish_iteration()

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        x, artist = batch["x"], batch["artist"]
        target = fixed_other_artists(artist, self.num_artists)
        fake = self.generator(x, target)
        measures = {
            "cls_acc": (self.discriminator(x)[1].argmax(1) == artist).float(),
            "transfer_cls_acc": (self.discriminator(fake)[1].argmax(1) == target).float(),
            "rec": (self.generator(fake, artist).float() - x.float()).abs().flatten(1).mean(1),
        }
        self.log_measures(stage, measures, len(x), prog_bar=("transfer_cls_acc",))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        hp = self.hparams
        make = self.optimizer or (lambda params: adam(params, lr=hp["lr"], betas=hp["betas"]))
        optimizers = [make(net.parameters()) for net in (self.generator, self.discriminator)]
        if hp["lr_decay"] is None:
            return optimizers
        start, end = hp["lr_decay"]

        def factor(i: int) -> float:  # 1 until start, then linearly to 0 at end
            return min(1.0, max(0.0, (end - i) / (end - start)))

        return optimizers, [torch.optim.lr_scheduler.LambdaLR(o, factor) for o in optimizers]

    # -- use --

    @torch.no_grad()
    def transfer_to_artists(self, x: torch.Tensor, artist: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, S, S) in [-1, 1] redrawn by ``artist`` (B,): (B, 3, S, S) in [-1, 1]."""
        with self.evaluating(self.generator):
            return self.generator(x, artist).clamp(-1, 1)

    def sample_grids(self, x: torch.Tensor, artist: torch.Tensor, artists: torch.Tensor) -> dict[str, torch.Tensor]:
        """``transfer``: (B, 1 + K, 3, S, S), each image, then redrawn by each of ``artists`` (K,)."""
        n, k = len(x), len(artists)
        redrawn = self.transfer_to_artists(x.repeat_interleave(k, 0), artists.repeat(n))
        return {"transfer": torch.cat([x[:, None], redrawn.view(n, k, *x.shape[1:])], 1)}
