"""``animestyle nst-report``: a DualDiscriminatorNST or EncoderDiscriminatorNST checkpoint
scored against the synthetic ground truth, beside the content unchanged, the style image and
an untrained copy, with :mod:`animestyle.metrics.reference_transfer`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from animestyle.checks import check_count
from animestyle.data.synthetic import SyntheticPortraits
from animestyle.images import save_grid
from animestyle.inference import load_checkpoint
from animestyle.metrics import evaluate_reference_transfers, load_oracle, markdown_table, style_references
from animestyle.metrics.devices import module_device
from animestyle.metrics.reference_transfer import TransferFunction

__all__ = ["nst_report"]

GRID_IMAGES = 6  # contents and styles in the report's picture
_FIX = "train one with animestyle fit --config examples/nst/synthetic64/dual.yaml (or encoder.yaml)"


def _untrained_copy(model: Any, seed: int) -> Any:
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
    model, record = load_checkpoint(checkpoint, ("DualDiscriminatorNST", "EncoderDiscriminatorNST"), fix=_FIX)
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
