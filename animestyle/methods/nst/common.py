"""What both of Deelaka's approaches share: reference-guided ``transfer``, its pictures, the
data checks, the validation and test scores and the parameter counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import OptimizerCallable
from torch import nn

from animestyle.checks import check_count
from animestyle.methods.base import AdversarialModule, refuse_lab_data
from animestyle.nn import EMA

__all__ = ["OUTPUTS", "ReferenceTransferModule"]

# what a generator may draw (``output``) -> its channels; see ReferenceTransferModule.finish_transfer
OUTPUTS = {"image": 3, "residual": 3, "colour": 12, "warp": 14}
_MAX_DISPLACEMENT = 0.15  # of the "warp" output, in grid_sample's units (2 = the image's side)


def _displace(images: torch.Tensor, displacement: torch.Tensor) -> torch.Tensor:
    """``images`` (B, C, H, W) resampled at each pixel's position plus ``displacement``
    (B, 2, H, W: x, y in units where the image spans [-1, 1]); bilinear, edges repeated.
    A zero displacement gives the images back exactly."""
    _, _, h, w = images.shape
    ys, xs = torch.meshgrid(
        torch.linspace(-1, 1, h, device=images.device), torch.linspace(-1, 1, w, device=images.device), indexing="ij"
    )
    grid = torch.stack([xs, ys], dim=-1)[None] + displacement.permute(0, 2, 3, 1).to(images.dtype)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=True)


class ReferenceTransferModule(AdversarialModule):
    """Base of the style transfer methods that take a style *image* (not an artist label).

    Subclasses build their networks, call :meth:`keep_averages`, implement
    :meth:`generate_with` and :meth:`style_distance`, and name the networks a transfer runs
    in ``inference_networks``; ``self.image_size`` and ``self.num_artists`` are set here.
    With averages kept (``ema_decay``), :meth:`transfer` and the sample grids use the
    exponential moving averages of those networks (as StarGAN v2 and GADN do): a GAN's
    weights oscillate, their average draws cleaner pictures.
    """

    inference_networks: tuple[str, ...] = ()  # attribute names of what transfer() runs
    optimized_networks: tuple[str, ...] = ()  # one optimizer each, in this order
    optimizer: OptimizerCallable | None  # set by the subclass from its argument
    averages: nn.ModuleDict | None  # name -> EMA, set by keep_averages

    def __init__(self, num_artists: int | None, image_size: int, channels: str):
        super().__init__()
        if channels != "rgb":
            raise ValueError(f"channels={channels!r}: style transfer reads colour only; set data.channels: rgb")
        self.num_artists = num_artists or 1
        self.image_size = image_size

    def check_settings(self) -> None:
        """ValueError for the shared settings out of range (call after saving the hyperparameters)."""
        check_count("pretrain_iterations", self.hparams["pretrain_iterations"], 0)
        if self.hparams["output"] not in OUTPUTS:
            raise ValueError(f"output={self.hparams['output']!r} is not allowed; choose one of {list(OUTPUTS)}")
        if not self.hparams["lambda_reconstruction"] >= 0:
            raise ValueError(f"lambda_reconstruction={self.hparams['lambda_reconstruction']!r} must be >= 0")

    def keep_averages(self, decay: float | None) -> None:
        """Keep an :class:`~animestyle.nn.EMA` copy of each inference network (None: none)."""
        self.averages = (
            nn.ModuleDict({name: EMA(getattr(self, name), decay) for name in self.inference_networks})
            if decay is not None
            else None
        )

    def finish_iteration(self) -> None:
        self.update_averages()
        super().finish_iteration()

    def update_averages(self) -> None:
        """Update the averages with a warm-up: decay ``min(ema_decay, (1 + n) / (10 + n))`` at
        iteration ``n`` (as TensorFlow's moving averages), so that a short run's average is
        not mostly the random initial weights (0.999 ** 1000 = 0.37 of them after 1,000)."""
        if self.averages is not None:
            n = int(self.iteration)
            for name, average in self.averages.items():
                ema = cast(EMA, average)
                ema.update(getattr(self, name), min(ema.decay, (1 + n) / (10 + n)))

    def output_channels(self) -> int:
        """Channels the generator draws for the ``output`` hyperparameter (see :meth:`finish_transfer`)."""
        return OUTPUTS[self.hparams["output"]]

    def start_from_content(self, output_layer: nn.Module) -> None:
        """Unless ``output`` is ``"image"``, zero ``output_layer`` (the generator's last
        convolution) so that an untrained generator gives the content image back."""
        if self.hparams["output"] != "image":
            for parameter in output_layer.parameters():
                nn.init.zeros_(parameter)

    def finish_transfer(self, content: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """The transfer (B, 3, S, S) from the generator's ``output`` (B, K, S, S) in [-1, 1]
        and the content images, by the ``output`` hyperparameter:

        - ``"image"`` (the paper's): the output is the transfer (K = 3);
        - ``"residual"``: the output is the change, ``content + output`` (K = 3);
        - ``"colour"``: a colour transform per pixel (K = 12: a 3x3 matrix ``A`` added to the
          identity and an offset ``b``), averaged over blocks of 4x4 pixels and smoothly
          upsampled: ``A @ content + b``. Lines and edges stay where the content has them
          and flat areas stay flat, so the generator can regrade colours, shading and line
          darkness but cannot draw noise;
        - ``"warp"``: the same colour transform of the content image first resampled along
          a smooth displacement field (K = 14: the colour transform's 12 and 2 for the
          displacement, at most 15% of the image per axis, as smooth as the transform), so
          that the generator can also move and resize what the content shows (eyes, jaw).

        All but ``"image"`` are clamped to [-1, 1]."""
        mode = self.hparams["output"]
        if mode == "image":
            return output
        if mode == "residual":
            return (content + output).clamp(-1, 1)
        size = content.shape[-2:]
        smooth = F.interpolate(F.avg_pool2d(output, 4), size=size, mode="bilinear", align_corners=False)
        if mode == "warp":
            content = _displace(content, _MAX_DISPLACEMENT * smooth[:, 12:14])
        matrix = smooth[:, :9].unflatten(1, (3, 3)) + torch.eye(3, device=content.device)[..., None, None]
        graded = torch.einsum("bijhw,bjhw->bihw", matrix.to(content.dtype), content) + smooth[:, 9:12]
        return graded.clamp(-1, 1)

    def record(self) -> dict[str, Any]:
        return {"image_size": self.image_size, "num_artists": self.num_artists, "widths": list(self.hparams["widths"])}

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        """One optimizer per network in ``optimized_networks``, over its trainable parameters:
        ``optimizer`` when given, else Adam with ``lr`` and ``betas``."""
        hp = self.hparams
        make = self.optimizer or (lambda params: torch.optim.Adam(params, hp["lr"], hp["betas"]))
        return [
            make([p for p in getattr(self, name).parameters() if p.requires_grad]) for name in self.optimized_networks
        ]

    def combine_generator_terms(
        self, style: torch.Tensor, content_term: torch.Tensor, fake: torch.Tensor, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The generator's loss ``lambda_style * style + lambda_content * content_term`` (left
        out while pretraining) ``+ lambda_l1 * |fake - content|_1 + lambda_reconstruction *
        |G(s', s) - s'|_1``, and its logged terms. ``G(s', s)`` redraws the second image
        ``s'`` in the style of the reference ``s`` by the same artist: the one transfer whose
        true result is known (``s'`` itself), so the term penalises every change that does
        not come from a difference in style."""
        hp = self.hparams
        l1 = (fake.float() - batch["x"].float()).abs().mean()
        judged = float(int(self.iteration) >= hp["pretrain_iterations"])  # 0 while pretraining
        loss = judged * (hp["lambda_style"] * style + hp["lambda_content"] * content_term) + hp["lambda_l1"] * l1
        parts = {"g_style": style, "g_content": content_term, "g_l1": l1}
        if hp["lambda_reconstruction"] > 0:
            positive = batch["style_pos_x"]
            redrawn = self.generator_pass(positive, batch["style_x"])
            parts["g_rec"] = (redrawn.float() - positive.float()).abs().mean()
            loss = loss + hp["lambda_reconstruction"] * parts["g_rec"]
        return loss, parts

    def generator_pass(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Transfers (B, 3, S, S) as the generator's update sees them: with gradients to the
        generator's own networks only (default: :meth:`generate`)."""
        return self.generate(content, style)

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is None:
            return
        if not getattr(datamodule, "style_pairs", False):
            raise ValueError(f"{type(self).__name__} trains on style references; set data.style_pairs: true")
        portraits = getattr(datamodule, "portraits", None)
        if portraits is not None and portraits.label_by != "artist":
            raise ValueError(
                f"style references are paired by artist, but the synthetic data is labelled by "
                f"{portraits.label_by!r}; set data.synthetic.label_by: artist"
            )
        refuse_lab_data(self)

    # -- transfer ------------------------------------------------------------------------

    def generate_with(
        self, networks: Mapping[str, nn.Module], content: torch.Tensor, style: torch.Tensor
    ) -> torch.Tensor:
        """Content and style images (B, 3, S, S) -> transfers (B, 3, S, S), about [-1, 1], by
        ``networks`` (name in ``inference_networks`` -> network), with gradients, in their mode."""
        raise NotImplementedError

    def networks(self, averaged: bool = False) -> dict[str, nn.Module]:
        """The inference networks by name; ``averaged``: their EMA copies, when kept."""
        if averaged and self.averages is not None:
            return {name: cast(EMA, average).network for name, average in self.averages.items()}
        return {name: getattr(self, name) for name in self.inference_networks}

    def generate(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """:meth:`generate_with` the networks being trained."""
        return self.generate_with(self.networks(), content, style)

    def transfer(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """``content`` drawn in the style of ``style``: images (B, 3, S, S) in [-1, 1] each (a
        single style image (1, 3, S, S) is used for every content image) -> (B, 3, S, S) in
        [-1, 1], in eval mode without gradients."""
        expected = (3, self.image_size, self.image_size)
        for name, x in (("content", content), ("style", style)):
            if x.ndim != 4 or tuple(x.shape[1:]) != expected:
                raise ValueError(
                    f"{name} must be (B, {', '.join(map(str, expected))}) RGB images; got {tuple(x.shape)}"
                )
        if len(style) == 1:
            style = style.expand(len(content), -1, -1, -1)
        elif len(style) != len(content):
            raise ValueError(f"give one style image or one per content image; got {len(style)} for {len(content)}")
        networks = self.networks(averaged=True)
        with self.evaluating(*networks.values()):
            return self.generate_with(networks, content, style).float().clamp(-1, 1)

    def transfer_like(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """:meth:`transfer` under the name every reference-guided method shares."""
        return self.transfer(x, reference)

    def transfer_grid(self, contents: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        """(1 + B, 1 + K, 3, S, S): the top row shows the K style images (after a blank
        corner), the first column the B content images, and cell (i, k) content i in style k."""
        columns = [self.transfer(contents, style[None]) for style in styles]
        grid = torch.stack([contents, *columns], dim=1)
        header = torch.cat([torch.zeros_like(styles[:1]), styles])[None]
        return torch.cat([header, grid])

    def sample_grids(self, x: torch.Tensor, artist: torch.Tensor, artists: torch.Tensor) -> dict[str, torch.Tensor]:
        """``transfers``: :meth:`transfer_grid` of the images, in the style of the first 6 of them."""
        return {"transfers": self.transfer_grid(x, x[:6])}

    # -- scores --------------------------------------------------------------------------

    def style_distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Distance (B,) between the styles of images ``a`` and ``b`` (B, 3, S, S), as this
        method's style discriminator measures it."""
        raise NotImplementedError

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        """``<stage>/content_l1``: mean |transfer - content|; ``<stage>/style_distance``: the style
        discriminator's distance from each transfer to the second image by the reference's
        artist, beside ``<stage>/style_distance_content``, the same for the content image. The
        transfers are :meth:`transfer`'s (the moving averages, when kept)."""
        content, style, positive = batch["x"], batch["style_x"], batch["style_pos_x"]
        fake = self.transfer(content, style)
        measures = {
            "content_l1": (fake.float() - content.float()).abs().flatten(1).mean(1),
            "style_distance": self.style_distance(fake, positive),
            "style_distance_content": self.style_distance(content, positive),
        }
        self.log_measures(stage, measures, len(content), prog_bar=("content_l1", "style_distance"))

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per network, ``transfer`` (what :meth:`transfer` runs) and ``total``
        (the EMA copies not counted: they are copies of the transfer networks)."""
        counts = {
            name: sum(p.numel() for p in m.parameters()) for name, m in self.named_children() if name != "averages"
        }
        total = sum(counts.values())
        counts["transfer"] = sum(counts[name] for name in self.inference_networks)
        counts["total"] = total
        return counts
