"""AdaIN: the arbitrary-style-transfer baseline (Huang & Belongie, "Arbitrary Style Transfer
in Real-time with Adaptive Instance Normalization", ICCV 2017, arXiv:1703.06868), which the
GADN and style-space papers discuss as the style-image approach to compare with.

    t = AdaIN(f(c), f(s)),   g = D(t)
    L = || f(g) - t ||_2 + lambda * sum_i || mu(phi_i(g)) - mu(phi_i(s)) ||_2
                                      + || sigma(phi_i(g)) - sigma(phi_i(s)) ||_2

``f`` is a frozen feature network read at layers ``phi_i``; only the decoder ``D`` trains.
The paper's ``f`` is VGG-19 (relu1_1 to relu4_1) trained on ImageNet: give its weights as a
local file (``features: path/to/vgg19.pth``; nothing is downloaded). Without one, on the
synthetic portraits, ``f`` is the synthetic oracle's trained trunk (read at its first layer
and at 1/2 and 1/4 of the image side), which :func:`animestyle.metrics.load_oracle` trains
once and caches; a checkpoint holds the weights either way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import OptimizerCallable

from animestyle.methods.baselines.features import ORACLE, FeatureBaseline
from animestyle.metrics.oracle import STEPS as ORACLE_STEPS
from animestyle.networks.adain import AdaINDecoder
from animestyle.nn.adain import adaptive_instance_norm, channel_statistics

__all__ = ["AdaIN"]


class AdaIN(FeatureBaseline):
    """The AdaIN baseline: a decoder trained to invert AdaIN of a frozen feature network.

    Trains on pairs of images (``data.style_pairs: true``): ``x`` is the content, ``style_x``
    the style. ``transfer_like(x, reference)`` is the paper's transfer at alpha = 1.

    Args:
        num_artists: linked from the data; unused (AdaIN reads style images, not labels).
        image_size: image side (linked from the data); divisible by 8 (VGG-19) or 4 (oracle).
        channels: ``"rgb"`` only (linked from the data).
        features: ``"oracle"`` (the synthetic oracle's trunk; synthetic data only) or the path
            of a local file of torchvision's ``vgg19`` weights (the paper's network).
        lambda_style: weight of the style loss (paper Sec. 6: 10).
        lr: Adam's learning rate (paper Sec. 6: 1e-4).
        oracle_steps: training steps of the oracle, with ``features: oracle``.
        optimizer: optimizer class and settings, called with the decoder's parameters; None
            is Adam with ``lr``.
    """

    def __init__(
        self,
        num_artists: int | None = None,
        image_size: int = 64,
        channels: str = "rgb",
        features: str = ORACLE,
        lambda_style: float = 10.0,
        lr: float = 1e-4,
        oracle_steps: int = ORACLE_STEPS,
        optimizer: OptimizerCallable | None = None,
    ):
        super().__init__("AdaIN", num_artists, image_size, channels, features)
        self.save_hyperparameters(ignore=["optimizer"])
        self.decoder = AdaINDecoder(list(reversed(self.features.widths)))
        self.optimizer = optimizer

    # -- the paper's transfer and loss --

    def stylise(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list]:
        """``(g, t, style_features)``: the decoded transfer (B, 3, S, S), the AdaIN target
        ``t`` and the style image's features at every tap."""
        style_features = self.features(style)
        t = adaptive_instance_norm(self.features(content)[-1], style_features[-1])
        return self.decoder(t), t, style_features

    def loss(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The paper's Eq. 11-13 for a batch of content and style images (B, 3, S, S)."""
        g, t, style_features = self.stylise(content, style)
        g_features = self.features(g)
        content_loss = F.mse_loss(g_features[-1], t)
        style_loss = g.new_zeros(())
        for a, b in zip(g_features, style_features, strict=True):
            (a_mean, a_std), (b_mean, b_std) = channel_statistics(a), channel_statistics(b)
            style_loss = style_loss + F.mse_loss(a_mean, b_mean) + F.mse_loss(a_std, b_std)
        total = content_loss + self.hparams["lambda_style"] * style_loss
        return total, {"content": content_loss, "style": style_loss}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, parts = self.loss(*self.pairs(batch, "trains"))
        self.log_dict({f"train/{k}": v.detach() for k, v in {"loss": loss, **parts}.items()}, prog_bar=True)
        return loss

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        """``<stage>/content`` and ``<stage>/style``: the two terms of the loss."""
        x, style = self.pairs(batch, "is scored")
        _, parts = self.loss(x, style)
        self.log_measures(stage, parts, len(x), prog_bar=("content", "style"))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        params = self.decoder.parameters()
        return self.optimizer(params) if self.optimizer else torch.optim.Adam(params, lr=self.hparams["lr"])

    # -- use --

    @torch.no_grad()
    def transfer_like(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """Images ``x`` (B, 3, S, S) in [-1, 1] in the style of ``reference`` (B or 1, 3, S', S'):
        (B, 3, S, S) in [-1, 1]."""
        return self.stylise(x, self.one_per_image(x, reference))[0].clamp(-1, 1)

    def sample_grids(self, x: torch.Tensor, artist: torch.Tensor, artists: torch.Tensor) -> dict[str, torch.Tensor]:
        """``transfers``: (B, B + 1, 3, S, S), each image (row) first, then in the style of each
        image (column)."""
        n = len(x)
        transfers = self.transfer_like(x.repeat_interleave(n, 0), x.repeat(n, 1, 1, 1)).view(n, n, *x.shape[1:])
        return {"transfers": torch.cat([x[:, None], transfers], 1)}
