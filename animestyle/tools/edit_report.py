"""``animestyle edit-report``: an AttributeEditor checkpoint scored as in the ANIMEGAN
report's Sec. 5 (reconstruction PSNR/SSIM, re-classification accuracy and, on synthetic
portraits, edits against the ground truth), with :mod:`animestyle.metrics.attribute_editing`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from animestyle.checks import check_count
from animestyle.data.datamodule import AnimeFacesDataModule, SyntheticSource
from animestyle.data.synthetic import ATTRIBUTE_NAMES, SyntheticPortraits
from animestyle.images import save_grid
from animestyle.inference import load_checkpoint
from animestyle.methods import CheckpointError
from animestyle.metrics import (
    attribute_columns,
    evaluate_edits,
    evaluate_reconstruction,
    markdown_table,
    real_batches,
)
from animestyle.metrics.attribute_editing import EDIT_KEYS

__all__ = ["edit_report"]

GRID_IMAGES = 8  # rows of edits.png

_FIX = "train one with animestyle fit --config <yaml> (model.class_path: animestyle.methods.AttributeEditor)"
_FIX_CLASSIFIER = (
    "train one on the editor's data with animestyle fit --config <yaml> "
    "(model.class_path: animestyle.methods.AttributeClassifier)"
)


def _load_classifier(path: str, record: Mapping[str, Any]) -> Any:
    """The AttributeClassifier checkpoint ``path``, checked against the editor's ``record``."""
    classifier, own = load_checkpoint(path, ("AttributeClassifier",), argument="classifier", fix=_FIX_CLASSIFIER)
    missing = [n for n in record["attribute_names"] if n not in own["attribute_names"]]
    if missing:
        raise CheckpointError(
            f"classifier={path!r} does not read the editor's attributes {missing} (it reads "
            f"{own['attribute_names']}); {_FIX_CLASSIFIER} and the editor's data.attributes"
        )
    if own["image_size"] != record["image_size"]:
        raise CheckpointError(
            f"classifier={path!r} reads {own['image_size']} px images but the editor makes "
            f"{record['image_size']} px ones; {_FIX_CLASSIFIER} at the editor's image_size"
        )
    return classifier


def _cells(row: Mapping[str, Any], keys: Sequence[str]) -> list[object]:
    return ["-" if row[key] is None else row[key] for key in keys]


def _print_tables(result: Mapping[str, Any], synthetic: bool) -> None:
    rec = result["reconstruction"]
    print(f"**Reconstruction (zero difference vector), {result['images']} val images (Table 2)**\n")
    print(markdown_table(["PSNR (dB)", "SSIM"], [[rec["psnr"], rec["ssim"]]]))
    if not result["per_attribute"]:
        return
    if synthetic:
        keys = ["n", *EDIT_KEYS]
        header = ["attribute", "n", "edit PSNR", "input PSNR", "edit SSIM", "input SSIM"]
        header += ["edit PSNR, changed region", "input PSNR, changed region"]
        header += ["acc edit", "acc input", "acc ground truth"]
        print(
            "\n**Edits against the ground-truth render; re-classification accuracy at 0.5 (Figure 4). "
            "input: the unedited image (changing nothing); changed region: the pixels where the ground truth "
            "differs from the input by more than 5% of the range; ground truth: the classifier's ceiling**\n"
        )
    else:
        keys, header = ["n", "acc_edit"], ["attribute", "n", "acc edit"]
        print(
            "\n**Re-classification accuracy of flipped attributes at 0.5 (Figure 4), sources read by the classifier**\n"
        )
    rows = [[name, *_cells(row, keys)] for name, row in result["per_attribute"].items()]
    mean = {"n": sum(row["n"] for row in result["per_attribute"].values()), **result["mean"]}
    rows.append(["**mean**", *_cells(mean, keys)])
    print(markdown_table(header, rows))


def edit_report(
    checkpoint: str,
    classifier: str | None = None,
    output: str | None = None,
    manifest: str | None = None,
    folder: str | None = None,
    synthetic_seed: int = 0,
    images: int = 256,
    num_artists: int | None = None,
) -> dict[str, Any]:
    """Score an attribute editor checkpoint: reconstruction PSNR/SSIM and edits (ANIMEGAN Sec. 5).

    On synthetic portraits (the default) every attribute of each val image is edited where an
    edit is defined (binary attributes flip; colours are switched on) and scored against the
    true edited render (PSNR, SSIM; beside the unedited input) and, with ``classifier``, by
    re-classification accuracy at 0.5 (beside the input's and the ground truth's). On
    ``manifest`` or ``folder`` faces: reconstruction and, with ``classifier``, re-classification.
    The scores are printed as Markdown tables and returned.

    Args:
        checkpoint: an AttributeEditor ``.ckpt``.
        classifier: an AttributeClassifier ``.ckpt`` trained on the same data and image size
            (reading at least the editor's attributes); None: no accuracy.
        output: folder (created) for ``edits.png`` (rows: 8 val images; columns: input,
            reconstruction, each attribute flipped) and ``report.json``; None: nothing written.
        manifest: a ``manifest.csv`` written by ``animestyle prepare``.
        folder: a folder of ``<artist>/<crop>.png``.
        synthetic_seed: seed of the synthetic portraits, when neither is given.
        images: val images to score (at most).
        num_artists: artists of the synthetic portraits; None: the checkpoint's (its data's).

    Returns:
        the numbers of :func:`evaluate_edits` (synthetic) or :func:`evaluate_reconstruction`
        (real faces), with ``checkpoint``, ``classifier`` and ``written`` (the files).
    """
    images = check_count("images", images, 1)
    check_count("synthetic_seed", synthetic_seed, 0)
    editor, record = load_checkpoint(checkpoint, ("AttributeEditor",), fix=_FIX)
    num_artists = check_count("num_artists", num_artists if num_artists is not None else record["num_artists"], 1)
    judge = _load_classifier(classifier, record) if classifier is not None else None
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    editor.to(device)
    if judge is not None:
        judge.to(device)
    names = list(record["attribute_names"])
    source: torch.Tensor | None
    if manifest or folder:
        data = AnimeFacesDataModule(
            manifest=manifest, folder=folder, image_size=record["image_size"], attributes=names, batch_size=32
        )
        result = evaluate_reconstruction(editor, data, images, judge)
        x = next(real_batches(data, GRID_IMAGES, device))
        source = None  # the editor's discriminator reads them
        if judge is not None:
            read = judge.predict(x)[:, attribute_columns(names, judge.attribute_names, "the classifier")]
            source = (read > 0.5).to(x.dtype)
    else:
        synthetic = SyntheticSource(num_artists=num_artists, seed=synthetic_seed, train_size=1, val_size=images)
        portraits = SyntheticPortraits(
            length=synthetic.val_size, num_artists=synthetic.num_artists, size=record["image_size"],
            seed=synthetic.seed, split="val", label_by=synthetic.label_by, jitter=synthetic.jitter,
        )  # fmt: skip
        result = evaluate_edits(editor, portraits, judge, images)
        items = [portraits[i] for i in range(min(GRID_IMAGES, len(portraits)))]
        x = torch.stack([item["x"] for item in items]).to(device)
        columns = attribute_columns(names, ATTRIBUTE_NAMES, "the synthetic portraits")
        source = torch.stack([item["attrs"] for item in items])[:, columns].to(device)
    result = {"checkpoint": str(checkpoint), "classifier": classifier, **result, "written": []}
    _print_tables(result, synthetic=not (manifest or folder))
    if output is not None:
        out = Path(output)
        out.mkdir(parents=True, exist_ok=True)
        grid = editor.edit_grid(x, result.get("attributes", names), source)
        result["written"].append(str(save_grid(grid.cpu(), out / "edits.png")))
        result["written"].append(str(out / "report.json"))
        (out / "report.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
