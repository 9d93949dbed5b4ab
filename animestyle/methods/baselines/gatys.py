"""Neural style transfer by optimisation: the baseline of GADN's Sec. 5.3 (Gatys, Ecker and
Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016;
arXiv:1508.06576).

Each transfer is an optimisation of the image itself, from the content image::

    x* = argmin_x  alpha * || F_c(x) - F_c(content) ||^2
                 + beta * sum_l w_l / (4 N_l^2 M_l^2) || Gram(F_l(x)) - Gram(F_l(style)) ||^2

with ``F`` a frozen feature network: VGG-19 from a local weights file (the paper reads conv4_2
for content and conv1_1 to conv5_1 for style; here relu1_1 to relu4_1, the last also for
content, as :func:`~animestyle.networks.adain.vgg19_taps` reads it), or on the synthetic
portraits the oracle's trained trunk, as for :class:`~animestyle.methods.AdaIN`. Nothing
trains: ``animestyle fit`` of its config only copies in the oracle and writes a checkpoint
that ``animestyle.load`` reads like any method's.
"""

from __future__ import annotations

import torch

from animestyle.methods.baselines.features import ORACLE, FeatureBaseline
from animestyle.metrics.oracle import STEPS as ORACLE_STEPS

__all__ = ["GatysNST"]


def gram(h: torch.Tensor) -> torch.Tensor:
    """(B, C, C) Gram matrices of features (B, C, H, W), divided by C * H * W."""
    b, c, height, width = h.shape
    flat = h.reshape(b, c, height * width)
    return flat @ flat.transpose(1, 2) / (c * height * width)


class GatysNST(FeatureBaseline):
    """Gatys et al.'s neural style transfer, behind the same ``transfer_like`` as the methods.

    Args:
        num_artists: linked from the data; unused.
        image_size: image side (linked from the data).
        channels: ``"rgb"`` only (linked from the data).
        features: ``"oracle"`` (synthetic data) or a local file of torchvision's ``vgg19`` weights.
        steps: L-BFGS iterations per batch of transfers (the paper runs to convergence).
        content_weight: ``alpha`` (the paper's alpha / beta is 1e-3 to 1e-4; Fig. 3).
        style_weight: ``beta``, spread evenly over the layers read (the paper's w_l = 1/5).
        oracle_steps: training steps of the oracle, with ``features: oracle``.
    """

    def __init__(
        self,
        num_artists: int | None = None,
        image_size: int = 64,
        channels: str = "rgb",
        features: str = ORACLE,
        steps: int = 100,
        content_weight: float = 1.0,
        style_weight: float = 1e3,
        oracle_steps: int = ORACLE_STEPS,
    ):
        super().__init__("Gatys NST", num_artists, image_size, channels, features)
        self.save_hyperparameters()
        self.automatic_optimization = False

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        """Nothing to learn: a fit only copies in the feature network (``max_steps: 1``)."""

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        """``<stage>/loss``: the optimised objective of transfers of ``x`` in the style of ``style_x``."""
        x, style = self.pairs(batch, "is scored")
        fake = self.transfer_like(x, style)
        with torch.no_grad():
            loss = self.objective(fake, self.features(x)[-1], self._style_grams(style))
        self.log_measures(stage, {"loss": loss}, len(fake), prog_bar=("loss",))

    def configure_optimizers(self) -> None:
        return None

    def _style_grams(self, style: torch.Tensor) -> list[torch.Tensor]:
        with torch.no_grad():
            return [gram(h) for h in self.features(style)]

    def objective(self, x: torch.Tensor, content: torch.Tensor, grams: list[torch.Tensor]) -> torch.Tensor:
        """(B,) the paper's Eq. 7 for images ``x`` against content features and style Gram matrices."""
        hp = self.hparams
        taps = self.features(x)
        loss = hp["content_weight"] * (taps[-1] - content).square().flatten(1).mean(1)
        for h, target in zip(taps, grams, strict=True):
            loss = loss + hp["style_weight"] / len(taps) * (gram(h) - target).square().flatten(1).mean(1)
        return loss

    def transfer_like(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """Images ``x`` (B, 3, S, S) in [-1, 1] optimised toward the style of ``reference``
        (B or 1, 3, S', S'): (B, 3, S, S) in [-1, 1]."""
        reference = self.one_per_image(x, reference)
        with torch.enable_grad():
            content, grams = self.features(x)[-1].detach(), self._style_grams(reference)
            image = x.detach().clone().float().requires_grad_(True)
            # Each image's objective relative to its start: L-BFGS's stopping tolerances are
            # absolute, and a feature network's losses can be 1e-6 as well as 1e3.
            scale = 1 / self.objective(image, content, grams).detach().clamp_min(1e-12)
            optimizer = torch.optim.LBFGS(
                [image],
                max_iter=self.hparams["steps"],
                tolerance_grad=0,
                tolerance_change=0,
                line_search_fn="strong_wolfe",
            )

            def closure() -> torch.Tensor:
                optimizer.zero_grad()
                loss = (self.objective(image.clamp(-1, 1), content, grams) * scale).sum()
                loss.backward()
                return loss

            optimizer.step(closure)
        return image.detach().clamp(-1, 1).to(x.dtype)
