"""GADN: Generative Adversarial Disentanglement Network (Xiang & Li, "Disentangling Style and
Content in Anime Illustrations", arXiv:1905.10742).

Three LightningModules, run in this order:

1. :class:`GADNStage1`: encoder ``E``, generator ``G``, style bank ``S`` and the adversarial
   classifier ``C1``. ``E`` learns a content code that holds no style (Sec. 4.2.1).
2. :class:`GADNClassifierPretrain`: ``C2`` learns the artists of real images (Sec. 4.2.2).
3. :class:`GADNStage2`: ``G`` and ``S`` continue from stage 1 against a discriminator ``D``
   and the adversarial classifier ``C2``, with ``E`` frozen (Sec. 4.2.2).

Defaults are the paper's (Table 2 for weights, learning rates, optimizers and batch sizes).
Where the official code does something else, that variant is an option and its docstring
says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import OptimizerCallable
from torch import nn

from animestyle.checks import check_channels
from animestyle.data.augment import PairedAugment
from animestyle.losses import (
    capped_log_likelihood,
    class_mean_gap,
    content_distance,
    gaussian_kl,
    lsgan_discriminator,
    lsgan_generator,
    nlu,
    pixel_distance,
)
from animestyle.methods.base import (
    AdversarialModule,
    AnimeStyleModule,
    CheckpointError,
    NonFiniteLossError,
    adam,
    check_same,
    fixed_other_artists,
    read_checkpoint,
    warmup_schedule,
)
from animestyle.networks.gadn import Classifier, Depth, Encoder, Generator, check_depth, default_warp, gadn_preset
from animestyle.nn import EMA, NestedDropout, StandardisedPReLU, StyleBank, fuse_elementwise

__all__ = ["GADNClassifierPretrain", "GADNStage1", "GADNStage2"]

Channels = Literal["rgb", "rgba"]
OtherArtist = Literal["random", "next"]


# --- helpers shared by the three stages ---------------------------------------------------


def other_artists(artist: torch.Tensor, num_artists: int, mode: OtherArtist) -> torch.Tensor:
    """A target artist per row. ``"random"`` (paper): uniform over the artists other than
    the row's own; ``"next"`` (official code): the next row's artist, which may be the same.

    Args: artist: (B,) int64. Returns: (B,) int64.
    """
    if mode == "next":
        return artist.roll(1)
    shift = torch.randint(1, num_artists, artist.shape, device=artist.device)
    return (artist + shift) % num_artists


def split_alpha(x: torch.Tensor, rgba: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Batch images (B, 3 or 4, H, W) -> colour (B, 3, H, W) and alpha (B, 1, H, W) or None."""
    return (x[:, :3], x[:, 3:]) if rgba else (x, None)


def with_alpha(colour: torch.Tensor, alpha: torch.Tensor | None) -> torch.Tensor:
    """Generated colour (B, 3, H, W) -> network input: transparent where the source crop is
    (colour zeroed there, alpha appended), as the real images are."""
    return colour if alpha is None else torch.cat([colour * alpha, alpha], dim=1)


# What checkpoints written before the reference depth existed were built with.
_LEGACY = {"depth": "shallow", "warp": False}


def _architecture_record(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """A GADN checkpoint's record, with the shallow depth filled in for checkpoints written
    before ``depth`` existed."""
    checkpoint["animestyle"] = {**_LEGACY, **checkpoint["animestyle"]}
    return checkpoint


class _Architecture(AnimeStyleModule):
    """Resolves the network widths from the image size (``gadn_preset``) unless given."""

    legacy_arguments: dict[str, Any] = _LEGACY  # see animestyle.inference._legacy_arguments

    def _resolve(
        self,
        num_artists: int,
        image_size: int,
        channels: Channels,
        widths: list[int] | None,
        fc_width: int | None,
        content_dim: int | None,
        style_dim: int | None,
        depth: Depth,
        warp: bool | None = None,
    ) -> None:
        if num_artists < 2:
            raise ValueError(f"num_artists={num_artists}: GADN separates the styles of at least 2 artists")
        check_channels(channels)
        check_depth(depth)
        preset = gadn_preset(image_size, num_artists)
        self.widths = tuple(widths) if widths else preset.channels
        self.fc_width = fc_width or preset.fc_width
        self.content_dim = content_dim or preset.content_dim
        self.style_dim = style_dim or preset.style_dim
        self.num_artists, self.image_size, self.rgba = num_artists, image_size, channels == "rgba"
        self.in_channels = 4 if self.rgba else 3
        self.depth: Depth = depth
        self.warp = default_warp(depth, warp)
        # Saved resolved, so that a checkpoint rebuilds exactly these networks.
        self.hparams.update(
            widths=list(self.widths), fc_width=self.fc_width, content_dim=self.content_dim, style_dim=self.style_dim
        )
        if "warp" in self.hparams:
            self.hparams["warp"] = self.warp

    def record(self) -> dict[str, Any]:
        return {
            "num_artists": self.num_artists,
            "image_size": self.image_size,
            "channels": "rgba" if self.rgba else "rgb",
            "widths": list(self.widths),
            "fc_width": self.fc_width,
            "content_dim": self.content_dim,
            "style_dim": self.style_dim,
            "depth": self.depth,
            "warp": self.warp,
            "standardise_style": bool(self.hparams.get("standardise_style", False)),
        }

    def _classifier(self, num_outputs: int) -> Classifier:
        return Classifier(self.in_channels, self.widths, self.fc_width, self.image_size, num_outputs, self.depth)

    def _encoder(self) -> Encoder:
        return Encoder(self.in_channels, self.widths, self.fc_width, self.image_size, self.content_dim, self.depth)

    def _generator(self) -> Generator:
        return Generator(
            self.content_dim, self.style_dim, self.widths, self.fc_width, self.image_size, 3, self.depth, self.warp
        )

    def _speedups(self, channels_last: bool, compile: bool, fuse: bool) -> None:
        if fuse and compile:  # a compiled network already fuses its elementwise work
            raise ValueError("fuse=True and compile=True: compile already fuses what fuse does; set only one")
        if fuse:
            fuse_elementwise(self)
        if channels_last:
            self.to(memory_format=torch.channels_last)
        if compile:  # in place: parameter names, hence checkpoints, stay as they are
            for name in ("encoder", "generator", "c1", "c2", "classifier", "discriminator"):
                network = getattr(self, name, None)
                if isinstance(network, nn.Module):
                    network.compile()

    def on_fit_start(self) -> None:
        """Refuse data whose number of artists differs from the networks'; on a fresh run,
        weigh the style bank's artists by how often training shows them."""
        datamodule = getattr(self.trainer, "datamodule", None)
        artists = getattr(datamodule, "num_artists", None)
        if artists is not None and artists != self.num_artists:
            raise CheckpointError(
                f"{type(self).__name__} has num_artists={self.num_artists} but the data has {artists} artists; "
                "train every stage on the same data (num_artists is linked from it)"
            )
        style_bank = getattr(self, "style_bank", None)
        counts = self.class_counts()
        if isinstance(style_bank, StyleBank) and counts is not None and int(getattr(self, "iteration", 0)) == 0:
            style_bank.set_frequency(counts.to(self.device))

    def class_counts(self) -> torch.Tensor | None:
        """Images per artist (A,) as training draws them, when the DataModule can tell:
        uniform under class-balanced sampling, else the training counts."""
        datamodule = getattr(self.trainer, "datamodule", None)
        if getattr(datamodule, "balanced", False):
            return torch.ones(self.num_artists)
        labels = getattr(datamodule, "train_labels", None)
        if labels is None:
            return None
        return torch.bincount(torch.as_tensor(list(labels)), minlength=self.num_artists)


class _CodeClassifier(nn.Module):
    """The ablation's C1 (paper Appendix C.1): an MLP on the content code, (B, D) -> (B, A)."""

    def __init__(self, content_dim: int, width: int, num_artists: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(content_dim, width), StandardisedPReLU(width), nn.Linear(width, num_artists))

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        return self.net(c)


# --- stage 1 ------------------------------------------------------------------------------


class GADNStage1(_Architecture, AdversarialModule):
    """Stage 1: a style-independent content encoder (paper Sec. 4.2.1).

    Per iteration, with ``a`` the source artist and ``a' != a``::

        c = E(x) ~ N(mu, std)                     (reparameterised)
        x_rec = G(c, S(a)),  x_shift = G(c, S(a'))   (one G call for both)
        C1:   min NLL(C1(x_shift), a)
        E,G,S: min L_rec(x_rec, x) - lambda_C1 NLL(C1(x_shift), a)
                   + lambda_E_KL KL(E(x)) + lambda_S_KL KL(S) + lambda_warp fold(G)
                   + lambda_erase gap(mean E(x), a)

    ``L_rec`` is the per-pixel L2 distance (not squared), alpha-weighted for RGBA data. C1
    steps first; E, G and S then read the updated C1 (``c1_update="first"``). The official
    code steps all together from one C1 pass (``"together"``: 7% fewer FLOPs at 64 px); with
    the paper's uncapped adversarial term that diverged at the shallow depth (docs/gadn.md,
    "Speed").
    ``gap`` (:func:`~animestyle.losses.class_mean_gap`, not in the paper) pulls each artist's
    mean content code to the overall mean; at zero no linear probe of the code reads the artist
    (docs/gadn.md, "Style in the content code at the reference depth").
    Logged terms: ``rec``, ``adv_c1``, ``kl_e``, ``kl_s``, ``warp``, ``erase``, ``c1`` and
    ``c1_acc``.

    Args:
        num_artists: artists (linked from the data by the CLI).
        image_size: image side in pixels (linked from the data).
        channels: ``"rgba"`` for crops with alpha (E and C1 read 4 channels; L_rec is
            alpha-weighted); match the DataModule's ``channels``.
        widths: channels of the residual blocks; None takes
            :func:`~animestyle.networks.gadn.gadn_preset` of the image size (as the next three).
        fc_width: width of the fully connected layers.
        content_dim: content code width.
        style_dim: style code width.
        depth: ``"reference"`` (the paper's blocks as the official code stacks them; Sec. 4.3)
            or ``"shallow"`` (one block per level, 1.7 times fewer FLOPs); see
            :mod:`animestyle.networks.gadn`.
        warp: G ends in a learned warp; None: on at the reference depth (official code).
        lambda_c1: weight of the adversarial C1 term (Table 2: 0.2).
        lambda_e_kl: weight of E's KL (Table 2: 1e-4; official code 1e-5).
        lambda_s_kl: weight of S's KL (Table 2: 2e-5; official code 1e-5).
        lambda_warp: weight of the warp's fold-over penalty (official code: 100).
        lambda_erase: weight of the linear-erasure term ``gap`` (ours, not the paper's: 0 is
            the paper's objective). On 8 synthetic artists 1.25 is the smallest weight tried
            that takes a linear probe of the whole content code to at most halfway between
            chance and a VAE's level while hair colour and background stay readable above
            0.9; on 12 it erases more and the hair colour falls to 0.86 (docs/gadn.md,
            "Style in the content code at the reference depth").
        c1_input: ``"generated"`` (paper: C1 reads ``G(E(x), S(a'))``) or ``"code"`` (the
            ablation of Appendix C.1: an MLP C1 reads ``E(x)``).
        c1_update: ``"first"`` (C1 steps, then E/G/S read it again) or ``"together"`` (the
            official code: one C1 forward feeds both updates, which step together; not with
            precision ``16-mixed``, whose loss scale may change between the two steps).
        cap_c1_at_prior: official code: push C1's belief in the source artist down only to
            the class prior, not further.
        other_artist: ``"random"`` (paper) or ``"next"`` (official code), see
            :func:`other_artists`.
        standardise_style: official code: standardise S's codes by their mixture
            (see :class:`~animestyle.nn.StyleBank`).
        detach_target_style: official code: S gets no gradient through ``G(E(x), S(a'))``
            (the paper's objective minimises over S every term, the C1 term included).
        nested_dropout: order the content dimensions by importance (the paper's encoder
            analysis reads the first 2 and 8; Sec. 5.2.5).
        lr: learning rate of E, G and C1 (Table 2: 5e-5).
        lr_style: learning rate of S (Table 2: 5e-3).
        warmup: iterations of linear learning-rate warm-up (official code: 100; the paper
            does not say).
        optimizer: optimizer class and settings for E, G, S and for C1, called with the
            parameter groups (their learning rates come from ``lr``/``lr_style``); None is
            Adam with eps 1e-4 (Table 2; eps from the official code).
        channels_last: keep convolution weights and activations channels-last (faster on
            recent GPUs).
        compile: ``torch.compile`` the networks (in place; checkpoints are unchanged).
        fuse: run each residual block's activation and mix as one compiled kernel
            (:mod:`animestyle.nn.fused`; the convolutions stay eager, checkpoints are unchanged).
            Not with ``compile``, which fuses them already.
    """

    def __init__(
        self,
        num_artists: int,
        image_size: int = 64,
        channels: Channels = "rgb",
        widths: list[int] | None = None,
        fc_width: int | None = None,
        content_dim: int | None = None,
        style_dim: int | None = None,
        depth: Depth = "reference",
        warp: bool | None = None,
        lambda_c1: float = 0.2,
        lambda_e_kl: float = 1e-4,
        lambda_s_kl: float = 2e-5,
        lambda_warp: float = 100.0,
        lambda_erase: float = 1.25,
        c1_input: Literal["generated", "code"] = "generated",
        c1_update: Literal["first", "together"] = "first",
        cap_c1_at_prior: bool = False,
        other_artist: OtherArtist = "random",
        standardise_style: bool = False,
        detach_target_style: bool = False,
        nested_dropout: bool = False,
        lr: float = 5e-5,
        lr_style: float = 5e-3,
        warmup: int = 100,
        optimizer: OptimizerCallable | None = None,
        channels_last: bool = False,
        compile: bool = False,
        fuse: bool = False,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer"])
        self._resolve(num_artists, image_size, channels, widths, fc_width, content_dim, style_dim, depth, warp)
        if c1_input not in ("generated", "code"):
            raise ValueError(f"c1_input={c1_input!r} is not allowed; choose 'generated' or 'code'")
        if c1_update not in ("first", "together"):
            raise ValueError(f"c1_update={c1_update!r} is not allowed; choose 'first' or 'together'")
        self.encoder = self._encoder()
        self.generator = self._generator()
        self.style_bank = StyleBank(num_artists, self.style_dim, standardise_style)
        self.c1: nn.Module = (
            self._classifier(num_artists)
            if c1_input == "generated"
            else _CodeClassifier(self.content_dim, self.fc_width, num_artists)
        )
        self.nested_dropout = NestedDropout(self.content_dim) if nested_dropout else None
        self.optimizer = optimizer
        self._speedups(channels_last, compile, fuse)

    def _kl_weight(self) -> torch.Tensor | None:
        return None if self.nested_dropout is None else self.nested_dropout.get_buffer("keep_probability")

    # -- losses --

    def classifier_loss(
        self, logits: torch.Tensor, artist: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """C1's loss: NLL of the source artist, from C1's logits (B, A) on the shifted images
        (or codes)."""
        loss = F.cross_entropy(logits.float(), artist)
        return loss, {"c1": loss, "c1_acc": (logits.argmax(1) == artist).float().mean()}

    def generator_loss(
        self,
        x: torch.Tensor,
        x_rec: torch.Tensor,
        logits: torch.Tensor,
        artist: torch.Tensor,
        mean: torch.Tensor,
        std: torch.Tensor,
        warp_penalty: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """E, G and S's loss (paper's stage-1 objective); ``logits`` (B, A) are C1's on the
        shifted images, ``warp_penalty`` G's fold-over penalty (None: 0)."""
        colour, alpha = split_alpha(x, self.rgba)
        hp = self.hparams
        rec = pixel_distance(x_rec.float(), colour.float(), alpha)
        logits = logits.float()
        if hp["cap_c1_at_prior"]:
            frequency = self.style_bank.frequency.clamp_min(1e-12)
            adv = capped_log_likelihood(logits, artist, frequency.log())
        else:
            adv = -F.cross_entropy(logits, artist)
        kl_e = gaussian_kl(mean.float(), std.float(), self._kl_weight())
        kl_s = self.style_bank.kl()
        warp = rec.new_zeros(()) if warp_penalty is None else warp_penalty.float()
        erase = class_mean_gap(mean, artist)
        total = rec + hp["lambda_c1"] * adv + hp["lambda_e_kl"] * kl_e + hp["lambda_s_kl"] * kl_s
        total = total + hp["lambda_warp"] * warp + hp["lambda_erase"] * erase
        return total, {"rec": rec, "adv_c1": adv, "kl_e": kl_e, "kl_s": kl_s, "warp": warp, "erase": erase}

    # -- training --

    def forward_batch(self, x: torch.Tensor, artist: torch.Tensor) -> dict[str, torch.Tensor]:
        """One pass of E, S and G for a batch: ``mean``, ``std``, ``c``, ``x_rec``,
        ``x_shift`` (B, 3, S, S), ``artist_trg`` (B,), ``c1_input`` (what C1 reads) and
        ``warp_penalty`` (G's fold-over penalty)."""
        mean, std = self.encoder(x)
        c = mean + std * torch.randn_like(std)
        if self.nested_dropout is not None:
            c = self.nested_dropout(c)
        artist_trg = other_artists(artist, self.num_artists, self.hparams["other_artist"])
        s = self.style_bank.sample(artist)
        s_trg = self.style_bank.sample(artist_trg)
        if self.hparams["detach_target_style"]:
            s_trg = s_trg.detach()
        both, warp_penalty = self.generator.render(torch.cat([c, c]), torch.cat([s, s_trg]))
        x_rec, x_shift = both.chunk(2)
        _, alpha = split_alpha(x, self.rgba)
        c1_input = with_alpha(x_shift, alpha) if self.hparams["c1_input"] == "generated" else c
        return {
            "mean": mean,
            "std": std,
            "c": c,
            "x_rec": x_rec,
            "x_shift": x_shift,
            "artist_trg": artist_trg,
            "c1_input": c1_input,
            "warp_penalty": warp_penalty,
        }

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_g, opt_c = self.optimizer_list()
        x, artist = batch["x"], batch["artist"]
        out = self.forward_batch(x, artist)
        if self.hparams["c1_update"] == "together":  # the official code's rule: one C1 pass
            logits = self.c1(out["c1_input"])
            loss_c, parts_c = self.classifier_loss(logits, artist)
            loss_g, parts_g = self.generator_loss(
                x, out["x_rec"], logits, artist, out["mean"], out["std"], out["warp_penalty"]
            )
            self.update_together([(opt_c, loss_c), (opt_g, loss_g)], {**parts_c, **parts_g})
        else:
            with self.toggled_optimizer(opt_c):
                loss_c, parts_c = self.classifier_loss(self.c1(out["c1_input"].detach()), artist)
                self.update(opt_c, loss_c, parts_c)
            with self.toggled_optimizer(opt_g):  # C1 read again: its weights just changed
                logits = self.c1(out["c1_input"])
                loss_g, parts_g = self.generator_loss(
                    x, out["x_rec"], logits, artist, out["mean"], out["std"], out["warp_penalty"]
                )
                self.update(opt_g, loss_g, parts_g)
        self.finish_iteration()
        self.log_parts({**parts_g, **parts_c}, prog_bar=("rec",))

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        """``<stage>/rec``: reconstruction distance from the mean content code and mean style."""
        x, artist = batch["x"], batch["artist"]
        colour, alpha = split_alpha(x, self.rgba)
        mean, _ = self.encoder(x)
        x_rec = self.generator(mean, self.style_bank(artist)[0])
        rec = pixel_distance(x_rec.float(), colour.float(), alpha)
        self.log_measures(stage, {"rec": rec}, len(x), prog_bar=("rec",))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        hp = self.hparams
        make = self.optimizer or (lambda groups: adam(groups, eps=1e-4))
        opt_g = make(
            [
                {"params": [*self.encoder.parameters(), *self.generator.parameters()], "lr": hp["lr"]},
                {"params": list(self.style_bank.parameters()), "lr": hp["lr_style"]},
            ]
        )
        opt_c = make([{"params": list(self.c1.parameters()), "lr": hp["lr"]}])
        return [opt_g, opt_c], [warmup_schedule(opt_g, hp["warmup"]), warmup_schedule(opt_c, hp["warmup"])]

    # -- pictures --

    def sample_grids(self, x: torch.Tensor, artist: torch.Tensor, artists: torch.Tensor) -> dict[str, torch.Tensor]:
        """Pictures of the current model, each (rows, cols, 3, S, S) in the data's colour space:

        - ``transfer``: row i = content of ``x[i]``; column 0 the input, then ``G(E(x_i), S(a))``
          for each artist in ``artists`` (fixed content x artists);
        - ``generate``: row = artist, columns = random content codes (fixed artist x contents);
        - ``reconstruction``: input, ``G(E(x), S(a))``, and ``G(E(x), 0)`` the style-neutral
          reconstruction (the paper's Fig. 10).
        """
        with self.evaluating(self.encoder, self.generator, self.style_bank):
            return gadn_grids(self.encoder, self.generator, self.style_bank, x, artist, artists, self.rgba)

    def transfer_to_artists(self, x: torch.Tensor, artist: torch.Tensor) -> torch.Tensor:
        """Images (B, C, S, S) in [-1, 1] and target artists (B,) -> each image's content in
        its target artist's style, (B, 3, S, S) in [-1, 1]: ``G(mean E(x), mean S(a))``."""
        with self.evaluating(self.encoder, self.generator, self.style_bank):
            return gadn_transfer(self.encoder, self.generator, self.style_bank, x, artist)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, C, S, S) -> content codes (B, content_dim): the means of ``E(x)``."""
        with self.evaluating(self.encoder):
            return self.encoder(x)[0]


def gadn_transfer(
    encoder: Encoder, generator: nn.Module, style_bank: StyleBank, x: torch.Tensor, artist: torch.Tensor
) -> torch.Tensor:
    """``G(mean E(x), mean S(artist))``: images ``x`` (B, C, S, S) redrawn by ``artist`` (B,),
    as (B, 3, S, S) in [-1, 1]."""
    mean, _ = encoder(x)
    return generator(mean, style_bank(artist)[0]).clamp(-1, 1)


def gadn_grids(
    encoder: Encoder,
    generator: nn.Module,
    style_bank: StyleBank,
    x: torch.Tensor,
    artist: torch.Tensor,
    artists: torch.Tensor,
    rgba: bool,
) -> dict[str, torch.Tensor]:
    """The three sample grids of a GADN model (see :meth:`GADNStage1.sample_grids`)."""
    colour, _ = split_alpha(x, rgba)
    n, k = x.shape[0], artists.shape[0]
    mean, _ = encoder(x)
    styles = style_bank(artists)[0]  # (k, D)
    transfer = generator(mean.repeat_interleave(k, 0), styles.repeat(n, 1)).view(n, k, *colour.shape[1:])
    z = torch.randn(n, mean.shape[1], generator=torch.Generator().manual_seed(0)).to(mean)
    generated = generator(z.repeat(k, 1), styles.repeat_interleave(n, 0)).view(k, n, *colour.shape[1:])
    rec = generator(mean, style_bank(artist)[0])
    neutral = generator(mean, torch.zeros_like(style_bank(artist)[0]))
    return {
        "transfer": torch.cat([colour[:, None], transfer], 1),
        "generate": generated,
        "reconstruction": torch.stack([colour, rec, neutral], 1),
    }


# --- C2 pretraining -----------------------------------------------------------------------


class GADNClassifierPretrain(_Architecture):
    """C2 pretraining: an artist classifier on real images, NLL (paper Sec. 4.2.2, Table 2:
    Adam, lr 1e-4, batch 16, 200k iterations). Its trunk also initialises stage 2's ``D``.

    Args:
        num_artists: as :class:`GADNStage1`.
        image_size: as :class:`GADNStage1`.
        channels: as :class:`GADNStage1`.
        widths: as :class:`GADNStage1`; stage 2 checks that C2's widths are its own.
        fc_width: as :class:`GADNStage1`.
        content_dim: not used by C2 (accepted so one config section fits every stage).
        style_dim: not used by C2.
        depth: as :class:`GADNStage1`; stage 2 checks that C2's depth is its own.
        lr: learning rate (Table 2: 1e-4).
        optimizer: optimizer class and settings; None is Adam.
        channels_last: as :class:`GADNStage1`.
        compile: as :class:`GADNStage1`.
        fuse: as :class:`GADNStage1`.
    """

    def __init__(
        self,
        num_artists: int,
        image_size: int = 64,
        channels: Channels = "rgb",
        widths: list[int] | None = None,
        fc_width: int | None = None,
        content_dim: int | None = None,
        style_dim: int | None = None,
        depth: Depth = "reference",
        lr: float = 1e-4,
        optimizer: OptimizerCallable | None = None,
        channels_last: bool = False,
        compile: bool = False,
        fuse: bool = False,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer"])
        self._resolve(num_artists, image_size, channels, widths, fc_width, content_dim, style_dim, depth)
        self.classifier = self._classifier(num_artists)
        self.optimizer = optimizer
        self._speedups(channels_last, compile, fuse)

    def _loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-image NLL of the artist and whether C2 names it, (B,) each."""
        logits = self.classifier(batch["x"])
        nll = F.cross_entropy(logits.float(), batch["artist"], reduction="none")
        return nll, (logits.argmax(1) == batch["artist"]).float()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        nll, correct = self._loss(batch)
        loss = nll.mean()
        self.log_dict({"train/c2": loss, "train/c2_acc": correct.mean()}, prog_bar=True)
        if not torch.isfinite(loss):
            raise NonFiniteLossError(  # one optimizer: global_step counts iterations
                f"{type(self).__name__}: loss term 'c2' is {loss.item()} at iteration {self.global_step}; "
                "training stopped before this step changed any weight"
            )
        return loss

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        """``<stage>/c2`` (NLL) and ``<stage>/c2_acc`` (artist accuracy) on real images."""
        nll, correct = self._loss(batch)
        self.log_measures(stage, {"c2": nll, "c2_acc": correct}, len(nll), prog_bar=("c2", "c2_acc"))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        params = [{"params": list(self.classifier.parameters()), "lr": self.hparams["lr"]}]
        return self.optimizer(params) if self.optimizer else adam(params)


# --- stage 2 ------------------------------------------------------------------------------

_STAGE1_FIX = "train stage 1 first (animestyle fit --config examples/gadn/<size>/stage1.yaml) and give its .ckpt"
_C2_FIX = "pretrain C2 first (animestyle fit --config examples/gadn/<size>/classifier.yaml) and give its .ckpt"


class GADNStage2(_Architecture, AdversarialModule):
    """Stage 2: a dual-conditional GAN (paper Sec. 4.2.2). ``E`` is frozen; ``G`` and ``S``
    continue from stage 1; ``C2`` continues from its pretraining; ``D``'s trunk starts as C2's.

    Per iteration, with ``c = E(x)`` and ``x_fake = G(c, S(a'))``, ``a' != a``::

        D, C2: min (D(x) - 1)^2 + (D(x_fake) + 1)^2  +  NLL(C2(x), a) + NLU(C2(x_fake), a')
        G, S:  min lambda_D D(x_fake)^2 + lambda_C2 NLL(C2(x_fake), a')
                   + lambda_cont ||E(x_fake) - E(x)||^2 + lambda_S_KL KL(S)

    D and C2 share one optimizer step (they are separate networks, so this equals two
    steps). Logged terms: ``d_real``, ``d_fake``, ``d``, ``c2_real``, ``c2_fake``,
    ``c2_acc``, ``adv_d``, ``adv_c2``, ``cont``, ``kl_s``, ``warp``.

    Args:
        num_artists: as :class:`GADNStage1`; must match both checkpoints.
        image_size: as :class:`GADNStage1`; must match both checkpoints.
        channels: as :class:`GADNStage1`; must match both checkpoints.
        stage1_checkpoint: a ``GADNStage1`` checkpoint: E, G and S start from it, and the
            network widths are read from it.
        classifier_checkpoint: a ``GADNClassifierPretrain`` checkpoint: C2 and D's trunk
            start from it. None: both start untrained (not the paper's recipe).
        widths: None: read from ``stage1_checkpoint`` (as the next three).
        fc_width: as ``widths``.
        content_dim: as ``widths``.
        style_dim: as ``widths``.
        depth: as ``widths``.
        warp: as ``widths``.
        lambda_d: weight of G's LSGAN term (Table 2: 1).
        lambda_c2: weight of G's C2 term (Table 2: 1).
        lambda_cont: weight of the content loss (Table 2: 0.05; official code 0.1; 0 is the
            paper's ablation of Figs. 13-14).
        lambda_s_kl: weight of S's KL (Table 2: 2e-5).
        lambda_warp: as :class:`GADNStage1`.
        c2_adversarial: C2 learns that fakes are *not* by their target artist (NLU; paper).
            False: C2 learns real images only (the ablation of Fig. 12 and Table 8).
        content_loss: ``"paper"``: squared distance of the mean codes; ``"code"`` (official
            code): standardised codes weighted per dimension by Var(mu) / (Var(mu) + E[std^2]),
            from running statistics of E on the training data.
        other_artist: as :class:`GADNStage1`.
        standardise_style: as :class:`GADNStage1`; None: as the stage-1 checkpoint was trained.
        augment_adversaries: official code: the same random rotation (±15°) and zoom (≤1.25) of real
            and fake images before D and C2.
        ema_decay: decay of the EMA copy of G used for pictures; None: no copy.
        lr: learning rate of G, D and C2 (Table 2: 2e-5).
        lr_style: learning rate of S (Table 2: 0.01; official code 2e-3).
        optimizer: optimizer class and settings for both optimizers, called with the
            parameter groups; None is RMSprop with eps 1e-4 (Table 2; eps from the code).
        channels_last: as :class:`GADNStage1`.
        compile: as :class:`GADNStage1`.
        fuse: as :class:`GADNStage1`.
    """

    content_var: torch.Tensor
    content_noise: torch.Tensor

    def __init__(
        self,
        num_artists: int,
        image_size: int = 64,
        channels: Channels = "rgb",
        stage1_checkpoint: str | None = None,
        classifier_checkpoint: str | None = None,
        widths: list[int] | None = None,
        fc_width: int | None = None,
        content_dim: int | None = None,
        style_dim: int | None = None,
        depth: Depth | None = None,
        warp: bool | None = None,
        lambda_d: float = 1.0,
        lambda_c2: float = 1.0,
        lambda_cont: float = 0.05,
        lambda_s_kl: float = 2e-5,
        lambda_warp: float = 100.0,
        c2_adversarial: bool = True,
        content_loss: Literal["paper", "code"] = "paper",
        other_artist: OtherArtist = "random",
        standardise_style: bool | None = None,
        augment_adversaries: bool = False,
        ema_decay: float | None = 0.999,
        lr: float = 2e-5,
        lr_style: float = 0.01,
        optimizer: OptimizerCallable | None = None,
        channels_last: bool = False,
        compile: bool = False,
        fuse: bool = False,
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer"])
        expected = {"num_artists": num_artists, "image_size": image_size, "channels": channels}
        given: dict[str, Any] = {"widths": widths, "fc_width": fc_width, "content_dim": content_dim}
        given.update(style_dim=style_dim, depth=depth, warp=warp, standardise_style=standardise_style)
        stage1 = self._stage1_record(stage1_checkpoint, expected, widths)
        if stage1 is not None:
            check_same(
                "stage1_checkpoint",
                {"animestyle": stage1},
                {k: v for k, v in given.items() if v is not None},
                "leave the widths, depth, warp and standardise_style unset in stage 2: they are read from the "
                "stage-1 checkpoint",
            )
            widths, fc_width = stage1["widths"], stage1["fc_width"]
            content_dim, style_dim = stage1["content_dim"], stage1["style_dim"]
            depth, warp = stage1["depth"], stage1["warp"]
            if standardise_style is None:
                standardise_style = stage1.get("standardise_style", False)
        standardise_style = bool(standardise_style)
        self.hparams["standardise_style"] = standardise_style
        depth = depth or "reference"
        self.hparams["depth"] = depth
        self._resolve(num_artists, image_size, channels, widths, fc_width, content_dim, style_dim, depth, warp)
        if content_loss not in ("paper", "code"):
            raise ValueError(f"content_loss={content_loss!r} is not allowed; choose 'paper' or 'code'")
        self.encoder = self._encoder().requires_grad_(False)
        self.generator = self._generator()
        self.style_bank = StyleBank(num_artists, self.style_dim, standardise_style)
        self.c2 = self._classifier(num_artists)
        self.discriminator = self._classifier(1)
        self.generator_ema = EMA(self.generator, ema_decay) if ema_decay is not None else None
        self.augment = PairedAugment() if augment_adversaries else None
        # Running statistics of E's codes on real images, for content_loss="code".
        self.register_buffer("content_var", torch.ones(self.content_dim))
        self.register_buffer("content_noise", torch.zeros(self.content_dim))
        self.optimizer = optimizer
        self._speedups(channels_last, compile, fuse)

    def _stage1_record(
        self, path: str | None, expected: dict[str, Any], widths: list[int] | None
    ) -> dict[str, Any] | None:
        """The stage-1 checkpoint's record, checked against this run; None when no path is
        given, or when rebuilding from a stage-2 checkpoint whose stage-1 file is gone."""
        if path is None:
            return None
        if widths is not None and not Path(path).is_file():
            return None  # widths already resolved: loading a stage-2 checkpoint; on_fit_start() checks
        checkpoint = _architecture_record(read_checkpoint(path, "stage1_checkpoint", ("GADNStage1",), _STAGE1_FIX))
        check_same("stage1_checkpoint", checkpoint, expected, "use the same data and image size in both stages")
        return checkpoint["animestyle"]

    def on_fit_start(self) -> None:
        """On a fresh run, load E, G, S and C2 (and D's trunk) from the input checkpoints; a
        resumed stage-2 run has them in its own checkpoint, restored before this hook."""
        if int(self.iteration) == 0:
            self.load_inputs()
        super().on_fit_start()

    def load_inputs(self) -> None:
        """E, G, S and C2 (and D's trunk) from ``stage1_checkpoint`` and ``classifier_checkpoint``."""
        hp = self.hparams
        if hp["stage1_checkpoint"] is None:
            raise CheckpointError(f"stage1_checkpoint is not set; {_STAGE1_FIX}")
        expected = {**self.record()}
        stage1 = _architecture_record(
            read_checkpoint(hp["stage1_checkpoint"], "stage1_checkpoint", ("GADNStage1",), _STAGE1_FIX)
        )
        check_same("stage1_checkpoint", stage1, expected, "use the same data and image size in both stages")
        state = stage1["state_dict"]
        for name in ("encoder", "generator", "style_bank"):
            getattr(self, name).load_state_dict(_sub_state(state, name))
        if self.generator_ema is not None:
            self.generator_ema.reset(self.generator)
        if hp["classifier_checkpoint"] is not None:
            c2_methods = ("GADNClassifierPretrain",)
            c2 = _architecture_record(
                read_checkpoint(hp["classifier_checkpoint"], "classifier_checkpoint", c2_methods, _C2_FIX)
            )
            unshared = ("content_dim", "style_dim", "warp", "standardise_style")  # C2 has no generator
            arch = {k: v for k, v in expected.items() if k not in unshared}
            check_same("classifier_checkpoint", c2, arch, "pretrain C2 on the same data, image size and widths")
            self.c2.load_state_dict(_sub_state(c2["state_dict"], "classifier"))
            self.discriminator.trunk.load_state_dict(self.c2.trunk.state_dict())

    # -- losses --

    def discriminator_loss(
        self, x: torch.Tensor, fake: torch.Tensor, artist: torch.Tensor, artist_trg: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """D's LSGAN loss plus C2's NLL on real and NLU on fake images; ``fake`` is the
        (detached) network input of the generated images."""
        if self.augment is not None:
            x, fake = self.augment(x, fake)
        both = torch.cat([x, fake])
        score_real, score_fake = self.discriminator(both).float().chunk(2)
        logits_real, logits_fake = self.c2(both).float().chunk(2)
        d_real, d_fake = (score_real - 1).square().mean(), (score_fake + 1).square().mean()
        c2_real = F.cross_entropy(logits_real, artist)
        parts = {
            "d_real": d_real,
            "d_fake": d_fake,
            "d": lsgan_discriminator(score_real, score_fake),
            "c2_real": c2_real,
        }
        total = parts["d"] + c2_real
        if self.hparams["c2_adversarial"]:
            parts["c2_fake"] = nlu(logits_fake, artist_trg)
            total = total + parts["c2_fake"]
        parts["c2_acc"] = (logits_real.argmax(1) == artist).float().mean()
        return total, parts

    def generator_loss(
        self,
        fake: torch.Tensor,
        artist_trg: torch.Tensor,
        c_target: torch.Tensor,
        warp_penalty: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """G and S's loss; ``fake`` is the network input of the generated images (with
        gradients), ``c_target`` (B, content_dim) the mean content code of the sources,
        ``warp_penalty`` G's fold-over penalty (None: 0)."""
        hp = self.hparams
        fake_seen = fake if self.augment is None else self.augment.affine(fake)
        adv_d = lsgan_generator(self.discriminator(fake_seen).float())
        adv_c2 = F.cross_entropy(self.c2(fake_seen).float(), artist_trg)
        c_fake, _ = self.encoder(fake)
        cont = self.content_loss(c_fake.float(), c_target.float())
        kl_s = self.style_bank.kl()
        warp = cont.new_zeros(()) if warp_penalty is None else warp_penalty.float()
        total = hp["lambda_d"] * adv_d + hp["lambda_c2"] * adv_c2 + hp["lambda_cont"] * cont + hp["lambda_s_kl"] * kl_s
        total = total + hp["lambda_warp"] * warp
        return total, {"adv_d": adv_d, "adv_c2": adv_c2, "cont": cont, "kl_s": kl_s, "warp": warp}

    def content_loss(self, c_fake: torch.Tensor, c_target: torch.Tensor) -> torch.Tensor:
        if self.hparams["content_loss"] == "paper":
            return content_distance(c_fake, c_target)
        spread = self.content_var.sqrt().clamp_min(1e-6)
        weight = self.content_var / (self.content_var + self.content_noise).clamp_min(1e-12)
        return content_distance(c_fake / spread, c_target / spread, weight)

    @torch.no_grad()
    def _track_content(self, mean: torch.Tensor, std: torch.Tensor, momentum: float = 0.01) -> None:
        if int(self.iteration) == 0:
            momentum = 1.0
        self.content_var.lerp_(mean.float().var(0, unbiased=False), momentum)
        self.content_noise.lerp_(std.float().square().mean(0), momentum)

    # -- training --

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_g, opt_d = self.optimizer_list()
        x, artist = batch["x"], batch["artist"]
        _, alpha = split_alpha(x, self.rgba)
        with torch.no_grad():
            mean, std = self.encoder(x)
        if self.hparams["content_loss"] == "code":
            self._track_content(mean, std)
        artist_trg = other_artists(artist, self.num_artists, self.hparams["other_artist"])
        x_fake, warp_penalty = self.generator.render(
            mean + std * torch.randn_like(std), self.style_bank.sample(artist_trg)
        )
        fake = with_alpha(x_fake, alpha)
        with self.toggled_optimizer(opt_d):
            loss_d, parts_d = self.discriminator_loss(x, fake.detach(), artist, artist_trg)
            self.update(opt_d, loss_d, parts_d)
        with self.toggled_optimizer(opt_g):  # D and C2 read again: their weights just changed
            loss_g, parts_g = self.generator_loss(fake, artist_trg, mean, warp_penalty)
            self.update(opt_g, loss_g, parts_g)
        if self.generator_ema is not None:
            self.generator_ema.update(self.generator)
        self.finish_iteration()
        self.log_parts({**parts_d, **parts_g}, prog_bar=("d", "adv_c2"))

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        """``<stage>/c2_acc`` on real images and ``<stage>/transfer_c2_acc``: how often C2 names
        the target artist of a transfer (an adversarial C2 should rarely; paper Table 8)."""
        x, artist = batch["x"], batch["artist"]
        _, alpha = split_alpha(x, self.rgba)
        mean, _ = self.encoder(x)
        artist_trg = fixed_other_artists(artist, self.num_artists)
        fake = with_alpha(self.generator(mean, self.style_bank(artist_trg)[0]), alpha)
        measures = {
            "c2_acc": (self.c2(x).argmax(1) == artist).float(),
            "transfer_c2_acc": (self.c2(fake).argmax(1) == artist_trg).float(),
        }
        self.log_measures(stage, measures, len(x))

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        hp = self.hparams
        make = self.optimizer or (lambda groups: torch.optim.RMSprop(groups, eps=1e-4))
        opt_g = make(
            [
                {"params": list(self.generator.parameters()), "lr": hp["lr"]},
                {"params": list(self.style_bank.parameters()), "lr": hp["lr_style"]},
            ]
        )
        opt_d = make([{"params": [*self.discriminator.parameters(), *self.c2.parameters()], "lr": hp["lr"]}])
        return [opt_g, opt_d]

    def sample_grids(self, x: torch.Tensor, artist: torch.Tensor, artists: torch.Tensor) -> dict[str, torch.Tensor]:
        """As :meth:`GADNStage1.sample_grids`, drawn by the EMA generator when there is one."""
        generator = self.generator_ema.network if self.generator_ema is not None else self.generator
        with self.evaluating(self.encoder, generator, self.style_bank):
            return gadn_grids(self.encoder, generator, self.style_bank, x, artist, artists, self.rgba)

    def transfer_to_artists(self, x: torch.Tensor, artist: torch.Tensor) -> torch.Tensor:
        """As :meth:`GADNStage1.transfer_to_artists`, drawn by the EMA generator when there is one."""
        generator = self.generator_ema.network if self.generator_ema is not None else self.generator
        with self.evaluating(self.encoder, generator, self.style_bank):
            return gadn_transfer(self.encoder, generator, self.style_bank, x, artist)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, C, S, S) -> content codes (B, content_dim) of the frozen stage-1 encoder."""
        with self.evaluating(self.encoder):
            return self.encoder(x)[0]


def _sub_state(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries of a LightningModule state dict under ``prefix.``, without the prefix."""
    head = prefix + "."
    return {k[len(head) :]: v for k, v in state.items() if k.startswith(head)}
