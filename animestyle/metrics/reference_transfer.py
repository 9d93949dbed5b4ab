"""Reference-guided style transfer scored against the synthetic ground truth (Deelaka's
approaches; ``animestyle nst-report``, :mod:`animestyle.tools.nst_report`, runs it on a checkpoint).

Content image ``i`` (by artist ``a``) is transferred with a style image by another artist
``a'``; on the synthetic portraits the true result is known exactly
(``SyntheticPortraits.transfer(i, a')``: content ``i`` drawn in ``a'``'s style). Each
transfer is scored against it with L1 and SSIM, and the synthetic oracle says whose style
it shows. The same is done for baselines that need no training: the content image unchanged
and the style image itself, and for an untrained copy of the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from animestyle.checks import check_count
from animestyle.data.synthetic import SyntheticPortraits
from animestyle.metrics.devices import module_device
from animestyle.metrics.image_quality import ssim
from animestyle.metrics.transfer import ArtistPredictor, target_artists

__all__ = ["TransferFunction", "evaluate_reference_transfers", "style_references"]

TransferFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(content (B, 3, S, S), style (B, 3, S, S)) in [-1, 1] -> transfers (B, 3, S, S)."""


def style_references(portraits: SyntheticPortraits, targets: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """For each target artist (N,), the index of an image by that artist in ``portraits``,
    drawn uniformly from a seeded generator. Returns (N,) int64."""
    generator = torch.Generator().manual_seed(seed)
    by_artist = [[j for j in range(len(portraits)) if portraits.artist(j) == a] for a in range(portraits.num_artists)]
    empty = [a for a in targets.unique().tolist() if not by_artist[a]]
    if empty:
        raise ValueError(f"no image by artist(s) {empty} among the {len(portraits)} portraits; use more images")
    draws = torch.randint(2**31 - 1, targets.shape, generator=generator)
    return torch.tensor(
        [by_artist[a][d % len(by_artist[a])] for a, d in zip(targets.tolist(), draws.tolist(), strict=True)]
    )


@torch.no_grad()
def evaluate_reference_transfers(
    transfers: Mapping[str, TransferFunction],
    portraits: SyntheticPortraits,
    oracle: ArtistPredictor | None = None,
    num_items: int = 256,
    seed: int = 0,
    batch_size: int = 32,
    device: torch.device | str = "cpu",
) -> dict[str, dict[str, float]]:
    """Score each of ``transfers`` on the first ``num_items`` portraits, and the truth.

    Item ``i`` (artist ``a``) is transferred with the style image ``portraits[j]``, ``j``
    by :func:`style_references` (seed ``seed + 1``) for the target artist ``a'`` of
    :func:`target_artists` (uniform over the other artists, seed ``seed``), and compared with the true
    transfer ``portraits.transfer(i, a')``. Outputs are clamped to [-1, 1].

    Args:
        transfers: name -> function of (content, style) batches on ``device``, e.g.
            ``{"model": model.transfer, "content unchanged": lambda c, s: c}``.
        portraits: artist-labelled synthetic portraits (``label_by="artist"``, >= 2 artists).
        oracle: names the artist of images (``predict_artist``; run on the device of its
            parameters, if it has any); None: no accuracies.
        num_items: how many portraits (the first ones) to transfer.
        seed: seed of the target artists and the style images.
        batch_size: images per call.
        device: where the transfers run.

    Returns:
        one row per name, and ``"ground truth"``: ``l1`` (mean absolute difference to the
        true transfer, on the [-1, 1] scale), ``ssim`` (against it, on [0, 1]) and with an
        oracle ``oracle_target_accuracy`` (fraction it assigns to ``a'``; chance 1 / A) and
        ``oracle_source_accuracy`` (to the content's artist ``a``).

    Raises:
        ValueError: for portraits labelled by a content factor, fewer than 2 artists, or
            ``num_items`` beyond the portraits.
    """
    if portraits.label_by != "artist" or portraits.num_artists < 2:
        raise ValueError(
            f"reference transfers need artist-labelled portraits with >= 2 artists; got label_by="
            f"{portraits.label_by!r}, num_artists={portraits.num_artists}"
        )
    num_items = check_count("num_items", num_items, 1)
    if num_items > len(portraits):
        raise ValueError(f"num_items={num_items} exceeds the {len(portraits)} portraits")
    batch_size = check_count("batch_size", batch_size, 1)
    source = torch.tensor([portraits.artist(i) for i in range(num_items)])
    target = target_artists(source, portraits.num_artists, seed)
    references = style_references(portraits, target, seed + 1)  # a stream of its own, not the targets'
    oracle_device = module_device(oracle)
    names = [*transfers, "ground truth"]
    totals = {name: dict.fromkeys(("l1", "ssim", "target", "source"), 0.0) for name in names}
    for start in range(0, num_items, batch_size):
        index = range(start, min(start + batch_size, num_items))
        content = torch.stack([portraits[i]["x"] for i in index])
        style = torch.stack([portraits[int(references[i])]["x"] for i in index])
        truth = torch.stack([portraits.transfer(i, int(target[i])) for i in index])
        outputs = {
            name: function(content.to(device), style.to(device)).float().clamp(-1, 1).cpu()
            for name, function in transfers.items()
        }
        outputs["ground truth"] = truth
        for name, images in outputs.items():
            row = totals[name]
            row["l1"] += (images - truth).abs().mean((1, 2, 3)).sum().item()
            row["ssim"] += ssim(images, truth).sum().item()
            if oracle is not None:
                predicted = oracle.predict_artist(images.to(oracle_device)).cpu()
                row["target"] += (predicted == target[list(index)]).sum().item()
                row["source"] += (predicted == source[list(index)]).sum().item()
    result = {}
    for name, row in totals.items():
        scores = {"l1": row["l1"] / num_items, "ssim": row["ssim"] / num_items}
        if oracle is not None:
            scores["oracle_target_accuracy"] = row["target"] / num_items
            scores["oracle_source_accuracy"] = row["source"] / num_items
        result[name] = scores
    return result
