"""Evaluation measures as torchmetrics ``Metric``\\ s, for every method and baseline alike.

A ``Metric`` keeps sums, not means, and adds them up across processes before it computes:
under DDP each rank scores its share of the held-out images and the result is the score of
the whole split, exactly as one process would report it (tested with two gloo processes).

- :class:`TransferScores`: L1, PSNR and SSIM of transfers or edits against the true render
  (the synthetic data's ground truth); PSNR and SSIM as :mod:`~animestyle.metrics.image_quality`
  defines them (100 dB cap, kornia's SSIM), so the figures match the docs' earlier tables.
- :class:`OracleScores`: how the synthetic oracle reads the transfers: target-artist and
  source-artist accuracy, and the accuracy of every content factor (content preservation).
- :class:`DomainFeatures`, :func:`frechet_distance`, :func:`kernel_distance`: torchmetrics'
  FID and KID over a domain feature network (the oracle's penultimate layer on synthetic
  data, an artist classifier on real data), never Inception weights fetched from the web.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torchmetrics import Metric
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from animestyle.data.synthetic import categorical_factors
from animestyle.metrics.image_quality import psnr, ssim
from animestyle.nn.modes import eval_mode

__all__ = ["DomainFeatures", "OracleScores", "TransferScores", "frechet_distance", "kernel_distance"]

_FACTORS = categorical_factors()  # [(column in the content vector, factor)]


def _check_images(name: str, x: torch.Tensor, like: torch.Tensor | None = None) -> None:
    if x.ndim != 4 or (like is not None and x.shape != like.shape):
        expected = "(B, C, H, W)" if like is None else f"{tuple(like.shape)}"
        raise ValueError(f"{name} must be images of shape {expected}; got {tuple(x.shape)}")


class TransferScores(Metric):
    """Mean L1, PSNR (dB) and SSIM of images against their true renders, over every image.

    ``update(x_fake, x_true)``: (B, 3, H, W) each, in [-1, 1] (x_fake is clamped to it, as it
    would be shown). ``compute()``: ``{"l1", "psnr", "ssim"}``, 0-d tensors; L1 is on the
    [-1, 1] scale, PSNR and SSIM on [0, 1] as image libraries report them.
    """

    full_state_update = False
    higher_is_better = None  # L1 lower, PSNR and SSIM higher
    l1_sum: torch.Tensor
    psnr_sum: torch.Tensor
    ssim_sum: torch.Tensor
    count: torch.Tensor

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("l1_sum", "psnr_sum", "ssim_sum"):
            self.add_state(name, torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")

    def update(self, x_fake: torch.Tensor, x_true: torch.Tensor) -> None:
        _check_images("x_true", x_true)
        _check_images("x_fake", x_fake, x_true)
        fake, true = x_fake.detach().float().clamp(-1, 1), x_true.detach().float()
        self.l1_sum += (fake - true).abs().mean((1, 2, 3)).double().sum()
        self.psnr_sum += psnr(fake, true).double().sum()
        self.ssim_sum += ssim(fake, true).double().sum()
        self.count += len(fake)

    def compute(self) -> dict[str, torch.Tensor]:
        n = self.count.clamp_min(1)
        return {"l1": self.l1_sum / n, "psnr": self.psnr_sum / n, "ssim": self.ssim_sum / n}


class OracleScores(Metric):
    """How a classifier of artists and content factors reads generated images.

    ``oracle``: images (B, 3, H, W) in [-1, 1] -> ``{"artist": (B, A) logits, <factor>:
    (B, choices) logits, ...}``, e.g. :class:`~animestyle.metrics.SyntheticOracle`; it runs in
    eval mode without gradients and is not trained.

    ``update(x_fake, artist_trg, artist_src, content)``: images (B, 3, H, W), the target and
    source artists (B,) int64, and the source's content vector (B, F) of the synthetic data
    (categorical factors by index, as its batches' ``content``). ``compute()``:
    ``target_accuracy`` (fraction read as the target artist; chance 1 / A),
    ``source_accuracy`` (still read as the source), ``content_accuracy`` (mean over the
    categorical factors of the fraction whose factor is read unchanged) and
    ``content_<factor>`` for each factor.
    """

    full_state_update = False
    higher_is_better = None
    oracle: nn.Module
    target: torch.Tensor
    source: torch.Tensor
    content: torch.Tensor
    count: torch.Tensor

    def __init__(self, oracle: nn.Module, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.oracle = oracle
        self.add_state("target", torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("source", torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("content", torch.zeros(len(_FACTORS), dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("count", torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")

    def update(
        self, x_fake: torch.Tensor, artist_trg: torch.Tensor, artist_src: torch.Tensor, content: torch.Tensor
    ) -> None:
        _check_images("x_fake", x_fake)
        b = len(x_fake)
        for name, value in (("artist_trg", artist_trg), ("artist_src", artist_src)):
            if value.shape != (b,):
                raise ValueError(f"{name} must be ({b},) artists, one per image; got {tuple(value.shape)}")
        if content.ndim != 2 or len(content) != b:
            raise ValueError(f"content must be ({b}, factors), the source images' content; got {tuple(content.shape)}")
        with eval_mode(self.oracle), torch.no_grad():
            read = self.oracle(x_fake.detach().float().clamp(-1, 1))
        artist = read["artist"].argmax(1)
        self.target += (artist == artist_trg).sum()
        self.source += (artist == artist_src).sum()
        kept = [(read[f.name].argmax(1) == content[:, j].long()).sum() for j, f in _FACTORS]
        self.content += torch.stack(kept)
        self.count += b

    def compute(self) -> dict[str, torch.Tensor]:
        n = self.count.clamp_min(1).double()
        per_factor = self.content.double() / n
        scores = {
            "target_accuracy": self.target.double() / n,
            "source_accuracy": self.source.double() / n,
            "content_accuracy": per_factor.mean(),
        }
        scores.update({f"content_{f.name}": per_factor[i] for i, (_, f) in enumerate(_FACTORS)})
        return scores


class DomainFeatures(nn.Module):
    """A feature network for torchmetrics' FID and KID in place of Inception.

    Args:
        network: images (B, 3, H, W) in [-1, 1] -> features (B, num_features), e.g. the
            oracle's ``trunk`` (256 features).
        num_features: width of the features (FID and KID read it instead of probing).

    ``forward`` takes what FID and KID pass with ``normalize=True``: floats in [0, 1]. Each
    feature vector is scaled to the norm ``sqrt(num_features)``: KID's cubic kernel (with its
    default ``gamma = 1 / num_features``) then sees dot products within [-1, 1], as it was
    designed for, instead of the tens a classifier's raw features give (which make its
    estimate swing by thousands), and the distances of different networks are on one scale.
    The network runs in eval mode without gradients, whatever mode its owner is in.
    """

    def __init__(self, network: nn.Module, num_features: int):
        super().__init__()
        self.network, self.num_features = network, num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with eval_mode(self.network), torch.no_grad():
            h = self.network(x.float() * 2 - 1).float()
        return h / h.norm(dim=1, keepdim=True).clamp_min(1e-12) * self.num_features**0.5


def frechet_distance(features: DomainFeatures, **kwargs: Any) -> FrechetInceptionDistance:
    """torchmetrics' FID over ``features``: ``update(images, real=...)`` with images in [0, 1]
    (``(x + 1) / 2`` of the library's [-1, 1])."""
    return FrechetInceptionDistance(feature=features, normalize=True, **kwargs)


def kernel_distance(features: DomainFeatures, subset_size: int, **kwargs: Any) -> KernelInceptionDistance:
    """torchmetrics' KID over ``features``, as :func:`frechet_distance`; ``subset_size``
    must not exceed the images of either side (KID's default, 1000, exceeds most test sets)."""
    return KernelInceptionDistance(
        feature=features,
        normalize=True,
        subset_size=subset_size,
        **kwargs,
    )


def inception_distances(
    weights: str | Path, subset_size: int
) -> tuple[FrechetInceptionDistance, KernelInceptionDistance]:
    """torchmetrics' FID and KID over Inception-v3 (2048 pool features, images resized to 299 px)
    with the weights in the local file ``weights`` (torch-fidelity's ``pt_inception-2015-12-05``
    file, as torchmetrics would download it; here it never downloads). ``update(images,
    real=...)`` with images in [0, 1], as :func:`frechet_distance`.

    Raises:
        ValueError: ``weights`` is not a file.
        RuntimeError: torch-fidelity, which torchmetrics builds Inception with, is not installed.
    """
    path = Path(weights)
    if not path.is_file():
        raise ValueError(
            f"inception={str(path)!r} is not a file; give the Inception-v3 weights "
            "(pt_inception-2015-12-05-6726825d.pth, as torch-fidelity publishes them)"
        )
    if importlib.util.find_spec("torch_fidelity") is None:
        raise RuntimeError("Inception FID/KID needs torch-fidelity: pip install 'animestyle[inception]'")
    fid = FrechetInceptionDistance(feature=2048, normalize=True, feature_extractor_weights_path=str(path))
    # the same network for KID (one copy of its 24 M weights); as a network of ours, KID hands it
    # the [0, 1] floats unchanged, and Inception reads bytes as FID gives them
    kid = KernelInceptionDistance(feature=_Bytes(fid.inception), normalize=True, subset_size=subset_size)
    return fid, kid


class _Bytes(nn.Module):
    """Images in [0, 1] -> ``network`` of their bytes, (B, 3, H, W) uint8 in [0, 255]."""

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network((x * 255).byte())
