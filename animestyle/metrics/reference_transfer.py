"""Reference-guided style transfer scored against the synthetic ground truth (Deelaka's
approaches; ``animestyle nst-report``).

Content image ``i`` (by artist ``a``) is transferred with a style image by another artist
``a'``; on the synthetic portraits the true result is known exactly
(``SyntheticPortraits.transfer(i, a')``: content ``i`` drawn in ``a'``'s style). Each
transfer is scored against it with L1 and SSIM, and the synthetic oracle says whose style
it shows. The same is done for baselines that need no training: the content image unchanged
and the style image itself, and for an untrained copy of the model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from animestyle.callbacks.samples import save_grid
from animestyle.checks import check_count
from animestyle.data.synthetic import SyntheticPortraits
from animestyle.methods.nst.common import ReferenceTransferModule
from animestyle.methods.nst.tool import load_nst
from animestyle.metrics.devices import module_device
from animestyle.metrics.image_quality import ssim
from animestyle.metrics.oracle import load_oracle
from animestyle.metrics.style_space import markdown_table
from animestyle.metrics.transfer import ArtistPredictor, target_artists

__all__ = ["TransferFunction", "evaluate_reference_transfers", "nst_report", "style_references"]

TransferFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(content (B, 3, S, S), style (B, 3, S, S)) in [-1, 1] -> transfers (B, 3, S, S)."""

GRID_IMAGES = 6  # contents and styles in the report's picture


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


def _untrained_copy(model: ReferenceTransferModule, seed: int) -> ReferenceTransferModule:
    """The same architecture and settings, freshly initialised from ``seed`` (a pretrained
    style backbone too)."""
    settings = {**model.hparams, **({"style_weights": None} if "style_weights" in model.hparams else {})}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return type(model)(**settings).to(module_device(model)).eval()


def nst_report(
    checkpoint: str,
    output: str | None = None,
    images: int = 256,
    synthetic_seed: int = 0,
    num_artists: int | None = None,
    oracle: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Score a DualDiscriminatorNST or EncoderDiscriminatorNST checkpoint on synthetic portraits.

    Each of ``images`` held-out portraits is transferred with a style image by another artist
    and compared with the true transfer (L1, SSIM) beside the baselines: the content
    unchanged, the style image itself, and an untrained copy of the model; the synthetic
    oracle (trained on first use, minutes) reports whose style each shows. Tables are
    printed in Markdown and the numbers returned.

    Args:
        checkpoint: a ``.ckpt`` of either approach.
        output: folder (created) for ``transfers.png`` (top row: style images; first column:
            contents; then the transfers), ``truth.png`` (the true transfers, same layout)
            and ``report.json``; None: nothing written.
        images: held-out portraits to transfer.
        synthetic_seed: seed of the synthetic portraits (the training data's for held-out
            images by the same artists).
        num_artists: artists of the portraits; None: the checkpoint's (its data's).
        oracle: report the oracle's artist accuracies.
        seed: seed of the target artists, the style images and the untrained copy.

    Returns:
        ``scores`` (see :func:`evaluate_reference_transfers`), ``parameters`` (the model's
        :meth:`~animestyle.methods.ReferenceTransferModule.parameter_counts`),
        ``checkpoint`` and ``written``.
    """
    images = check_count("images", images, 1)
    model, record = load_nst(checkpoint)
    num_artists = check_count("num_artists", num_artists if num_artists is not None else record["num_artists"], 2)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    portraits = SyntheticPortraits(
        length=images, num_artists=num_artists, size=record["image_size"], seed=synthetic_seed, split="val"
    )
    judge = load_oracle(num_artists, record["image_size"], synthetic_seed).to(device) if oracle else None
    untrained = _untrained_copy(model, seed)
    transfers: dict[str, TransferFunction] = {
        "model": model.transfer,
        "untrained model": untrained.transfer,
        "content unchanged": lambda content, style: content,
        "style image": lambda content, style: style,
    }
    scores = evaluate_reference_transfers(transfers, portraits, judge, images, seed, device=device)
    result: dict[str, Any] = {
        "checkpoint": str(checkpoint), "method": record["method"], "images": images, "scores": scores,
        "parameters": model.parameter_counts(), "written": [],
    }  # fmt: skip
    _print_report(result)
    if output is not None:
        out = Path(output)
        out.mkdir(parents=True, exist_ok=True)
        k = min(GRID_IMAGES, images)
        contents = torch.stack([portraits[i]["x"] for i in range(k)])
        references = style_references(portraits, torch.arange(k) % num_artists, seed + 1)
        styles = torch.stack([portraits[int(j)]["x"] for j in references])
        grid = model.transfer_grid(contents.to(device), styles.to(device)).cpu()
        truth = grid.clone()
        for i in range(k):
            for a in range(k):
                truth[1 + i, 1 + a] = portraits.transfer(i, a % num_artists)
        for name, picture in (("transfers", grid), ("truth", truth)):
            result["written"].append(str(save_grid(picture, out / f"{name}.png")))
        result["written"].append(str(out / "report.json"))
        (out / "report.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def _print_report(result: Mapping[str, Any]) -> None:
    scores = result["scores"]
    with_oracle = "oracle_target_accuracy" in scores["model"]
    header = ["", "L1 to truth (lower is better)", "SSIM to truth"]
    header += ["oracle: target artist", "oracle: content's artist"] if with_oracle else []
    keys = ["l1", "ssim", *(["oracle_target_accuracy", "oracle_source_accuracy"] if with_oracle else [])]
    print(
        f"**{result['method']}: {result['images']} held-out portraits, each transferred with a style image "
        "by another artist, against the true transfer**\n"
    )
    print(markdown_table(header, [[name, *(row[k] for k in keys)] for name, row in scores.items()]))
    counts = result["parameters"]
    print("\n**Parameters**\n")
    print(markdown_table(["network", "parameters"], [[name, f"{n:,}"] for name, n in counts.items()]))
