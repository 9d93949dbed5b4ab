"""How well an attribute editor edits: the ANIMEGAN report's Sec. 5 on synthetic and real faces.

- Table 2: PSNR and SSIM of reconstructions (the editor with a zero difference vector).
- Figure 4: re-classification accuracy. An independent classifier
  (:class:`~animestyle.methods.AttributeClassifier`, never trained on edits) reads each
  edited attribute; an edit counts as correct when its probability > 0.5 agrees with the
  value the edit set.

On synthetic portraits every edit also has a ground truth (``SyntheticPortraits.edit``: the
same face, drawn by the same hand, with only that attribute changed), so
:func:`evaluate_edits` scores edits against it by PSNR and SSIM beside the input itself
(changing nothing: the baseline an edit must beat), and the classifier's accuracy on the
ground truth (its own ceiling) beside its accuracy on the edits and on the unedited inputs.
On real faces :func:`evaluate_reconstruction` has no ground truth: reconstruction and
re-classification only.

:func:`edit_report` (``animestyle edit-report``) runs them on an
:class:`~animestyle.methods.AttributeEditor` checkpoint and prints Markdown tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from animestyle.callbacks.samples import save_grid
from animestyle.checks import check_count
from animestyle.data.datamodule import AnimeFacesDataModule, SyntheticSource
from animestyle.data.synthetic import ATTRIBUTE_NAMES, Content, SyntheticPortraits, with_attribute
from animestyle.data.synthetic import attributes as attribute_vector  # `attributes` is an argument below
from animestyle.data.synthetic.factors import EYE_COLOURS, HAIR_COLOURS
from animestyle.methods.attribute_classifier import AttributeClassifier
from animestyle.methods.attribute_editor import AttributeEditor, colour_tags
from animestyle.methods.base import CheckpointError, read_checkpoint
from animestyle.metrics.devices import module_device
from animestyle.metrics.image_quality import changed_region, psnr, region_psnr, ssim
from animestyle.metrics.style_space import _image_batches, markdown_table

__all__ = ["AttributeReader", "Editor", "edit_report", "editable", "evaluate_edits", "evaluate_reconstruction"]

# Colours of which a synthetic face has exactly one: switching one on is an edit, switching
# one off does not say which colour to use instead (``with_attribute`` refuses it).
_SYNTHETIC_COLOURS = frozenset([f"{c}_hair" for c in HAIR_COLOURS] + [f"{c}_eyes" for c in EYE_COLOURS])
_EDIT_KEYS = (
    "edit_psnr", "input_psnr", "edit_ssim", "input_ssim", "edit_region_psnr", "input_region_psnr",
    "acc_edit", "acc_input", "acc_truth",
)  # fmt: skip
_IMAGE_KEYS = _EDIT_KEYS[:6]  # measured without a classifier
GRID_IMAGES = 8  # rows of edits.png


class Editor(Protocol):
    """What the metrics use of an :class:`~animestyle.methods.AttributeEditor`."""

    attribute_names: list[str]
    generator: Any  # images (B, 3, S, S) and differences (B, A) -> images (B, 3, S, S)

    def targets(self, source: torch.Tensor, changes: Mapping[str, float]) -> torch.Tensor: ...


class AttributeReader(Protocol):
    """What the metrics use of an :class:`~animestyle.methods.AttributeClassifier`."""

    attribute_names: list[str]

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, S, S) in [-1, 1] -> probabilities (B, A)."""
        ...


# --- which edits -------------------------------------------------------------------------------


def _edit_value(content: Content, attribute: str) -> bool | None:
    on = bool(attribute_vector(content)[ATTRIBUTE_NAMES.index(attribute)] > 0.5)
    if attribute in _SYNTHETIC_COLOURS:
        return None if on else True
    return not on


def editable(dataset: SyntheticPortraits, i: int, attribute: str) -> bool | None:
    """The value an edit of ``attribute`` on item ``i`` sets, or None where no edit is defined.

    Binary attributes flip (blush on becomes off, off becomes on). A colour (``pink_hair``,
    ``blue_eyes``, ...) can only be switched on, where it is off; one that is on gives None.

    Raises:
        ValueError: for a name that is not a synthetic attribute.
    """
    if attribute not in ATTRIBUTE_NAMES:
        raise ValueError(f"unknown attribute {attribute!r}; the synthetic ones are {list(ATTRIBUTE_NAMES)}")
    return _edit_value(dataset.content(i), attribute)


def _plan(contents: Sequence[Content], attribute: str) -> list[tuple[int, bool]]:
    """(item, value) of every defined edit of ``attribute`` among ``contents``."""
    return [(i, v) for i, c in enumerate(contents) if (v := _edit_value(c, attribute)) is not None]


# --- helpers ------------------------------------------------------------------------------------


@contextmanager
def _evaluating(*modules: Any) -> Iterator[None]:
    """The modules (those that are ``nn.Module``) in eval mode, modes restored afterwards."""
    modules = tuple(m for m in modules if isinstance(m, nn.Module))
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, modes, strict=True):
            m.train(mode)


def _columns(names: Sequence[str], known: Sequence[str], owner: str) -> list[int]:
    missing = [n for n in names if n not in known]
    if missing:
        raise ValueError(f"attributes {missing} are unknown to {owner}, which knows {list(known)}")
    return [list(known).index(n) for n in names]


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


# --- synthetic: against the ground truth -------------------------------------------------------


@torch.no_grad()
def evaluate_edits(
    editor: Editor,
    dataset: SyntheticPortraits,
    classifier: AttributeReader | None = None,
    images: int = 256,
    batch_size: int = 32,
    attributes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Edit each attribute of the first ``images`` synthetic portraits and score the edits.

    For every attribute and item where :func:`editable` defines an edit to ``value``: the
    source is the item's attribute vector, the target the exact vector of the edited content
    (``attributes(with_attribute(content, attribute, value))``: switching pink hair on also
    switches blonde off), and the edit ``editor.generator(x, target - source)`` clamped to
    [-1, 1]. The generator (and the classifier) run in eval mode without gradients, on the
    device of the generator's parameters; modes are restored afterwards.

    Args:
        editor: an :class:`~animestyle.methods.AttributeEditor` (its ``generator`` and
            ``attribute_names``, all synthetic attributes), trained at ``dataset.size``.
        dataset: synthetic portraits (e.g. the val split).
        classifier: reads attributes (``predict`` -> probabilities (B, A) and
            ``attribute_names``, which must hold every edited attribute); None: no accuracy.
        images: how many items (the first ones; at most the dataset's length).
        batch_size: images per forward pass.
        attributes: the attributes to edit; None: all of the editor's.

    Returns:
        ``images``, ``attributes`` (the edited ones), ``reconstruction``: ``{"psnr",
        "ssim"}`` of ``generator(x, 0)`` against ``x`` (Table 2); ``per_attribute``: for
        each attribute ``{"n"`` (edits defined), ``"edit_psnr"``, ``"edit_ssim"`` (edit
        against the ground-truth render), ``"input_psnr"``, ``"input_ssim"`` (unedited input
        against it), ``"edit_region_psnr"``, ``"input_region_psnr"`` (the same PSNRs over
        the pixels the true edit changes, :func:`~animestyle.metrics.image_quality.changed_region`,
        averaged over the edits that change any), ``"acc_edit"``, ``"acc_input"``, ``"acc_truth"`` (the classifier's
        probability > 0.5 agrees with the value set, on the edit, the input and the ground
        truth; None without a classifier)``}``; ``mean``: each of these averaged over the
        attributes with at least one edit (every attribute weighs the same, as in Figure
        4's average). Values are None where nothing was measured.
    """
    images = min(check_count("images", images, 1), len(dataset))
    batch_size = check_count("batch_size", batch_size, 1)
    names = list(editor.attribute_names)
    columns = _columns(names, ATTRIBUTE_NAMES, "the synthetic portraits")
    chosen = names if attributes is None else list(attributes)
    _columns(chosen, names, "the editor")
    judge = _columns(chosen, classifier.attribute_names, "the classifier") if classifier is not None else None
    device = module_device(editor.generator)
    contents = [dataset.content(i) for i in range(images)]
    plans = {name: _plan(contents, name) for name in chosen}

    def vector(content: Content) -> torch.Tensor:
        return torch.from_numpy(attribute_vector(content)[columns])

    per_attribute: dict[str, dict[str, Any]] = {}
    with (
        _evaluating(editor.generator, classifier),
        tqdm(total=images + sum(len(p) for p in plans.values()), desc="editing", unit="image", leave=False) as bar,
    ):
        xs = [dataset[i]["x"] for i in range(images)]
        reconstruction = _reconstruction(editor, xs, batch_size, device, bar)
        for k, name in enumerate(chosen):
            sums = dict.fromkeys(_EDIT_KEYS, 0.0)
            regions = 0  # edits whose ground truth differs visibly from the input
            plan = plans[name]
            for start in range(0, len(plan), batch_size):
                chunk = plan[start : start + batch_size]
                x = torch.stack([xs[i] for i, _ in chunk]).to(device)
                source = torch.stack([vector(contents[i]) for i, _ in chunk]).to(device)
                target = torch.stack([vector(with_attribute(contents[i], name, v)) for i, v in chunk]).to(device)
                truth = torch.stack([dataset.edit(i, name, v) for i, v in chunk]).to(device)
                edited = editor.generator(x, target - source).float().clamp(-1, 1)
                sums["edit_psnr"] += psnr(edited, truth).sum().item()
                sums["input_psnr"] += psnr(x, truth).sum().item()
                sums["edit_ssim"] += ssim(edited, truth).sum().item()
                sums["input_ssim"] += ssim(x, truth).sum().item()
                # where the edit must change the face: the input is wrong there by definition
                region = changed_region(x, truth)
                for key, shown in (("edit_region_psnr", edited), ("input_region_psnr", x)):
                    sums[key] += region_psnr(shown, truth, region).nansum().item()
                regions += int(region.flatten(1).any(1).sum())
                if classifier is not None and judge is not None:
                    wanted = torch.tensor([v for _, v in chunk], device=device)
                    for key, shown in (("acc_edit", edited), ("acc_input", x), ("acc_truth", truth)):
                        read = classifier.predict(shown.to(module_device(classifier)))[:, judge[k]] > 0.5
                        sums[key] += (read.to(device) == wanted).sum().item()
                bar.update(len(chunk))
            measured = _EDIT_KEYS if classifier is not None else _IMAGE_KEYS  # no accuracy without a judge
            n = len(plan)
            counts = {k: regions if "region" in k else n for k in _EDIT_KEYS}
            per_attribute[name] = {
                "n": n,
                **{k: sums[k] / counts[k] if counts[k] and k in measured else None for k in _EDIT_KEYS},
            }
    mean = {key: _mean([row[key] for row in per_attribute.values()]) for key in _EDIT_KEYS}
    return {
        "images": images,
        "attributes": chosen,
        "reconstruction": reconstruction,
        "per_attribute": per_attribute,
        "mean": mean,
    }


def _reconstruction(
    editor: Editor, xs: Sequence[torch.Tensor], batch_size: int, device: torch.device, bar: tqdm
) -> dict[str, float]:
    """Mean PSNR and SSIM of ``generator(x, 0)`` against ``x`` over images ``xs`` (3, S, S)."""
    totals = {"psnr": 0.0, "ssim": 0.0}
    for start in range(0, len(xs), batch_size):
        x = torch.stack(list(xs[start : start + batch_size])).to(device)
        rec = editor.generator(x, x.new_zeros(len(x), len(editor.attribute_names))).float().clamp(-1, 1)
        totals["psnr"] += psnr(rec, x).sum().item()
        totals["ssim"] += ssim(rec, x).sum().item()
        bar.update(len(x))
    return {key: value / len(xs) for key, value in totals.items()}


# --- real faces: no ground truth ---------------------------------------------------------------


def _real_batches(data: AnimeFacesDataModule | DataLoader, images: int, device: torch.device) -> Iterator[torch.Tensor]:
    """Images (B, 3, S, S) in [-1, 1]: the first ``images`` of the data module's val split, or
    of a loader of batches whose ``x`` is already that."""
    if isinstance(data, AnimeFacesDataModule):
        for batch in _image_batches(data, "val", images, device, "editing"):
            yield data.to_display(batch["x"])
        return
    seen = 0
    for batch in data:
        if seen >= images:
            break
        x = batch["x"][: images - seen].to(device)
        seen += len(x)
        yield x


@torch.no_grad()
def evaluate_reconstruction(
    editor: Editor,
    data: AnimeFacesDataModule | DataLoader,
    images: int = 256,
    classifier: AttributeReader | None = None,
) -> dict[str, Any]:
    """Reconstruction and, with a classifier, re-classification of edits on real faces.

    There is no ground truth: the source attributes of an image are the classifier's reading
    (probability > 0.5), every attribute is switched to the opposite (colours only on, as in
    :func:`editable`), the target built by ``editor.targets`` (a colour switched on switches
    the rest of its group off), and an edit counts as correct when the classifier reads the
    value set.

    Args:
        editor: an :class:`~animestyle.methods.AttributeEditor`.
        data: a data module (its val split) or a loader of ``{"x": (B, 3, S, S) in [-1, 1]}``.
        images: at most this many images.
        classifier: reads attributes; must know every attribute of the editor. None: only
            reconstruction.

    Returns:
        ``images``, ``reconstruction`` (``{"psnr", "ssim"}``), and with a classifier
        ``per_attribute`` (``{name: {"n", "acc_edit"}}``) and ``mean`` (``{"acc_edit"}``,
        over the attributes with edits); without one these two are empty.
    """
    images = check_count("images", images, 1)
    names = list(editor.attribute_names)
    judge = _columns(names, classifier.attribute_names, "the classifier") if classifier is not None else None
    device = module_device(editor.generator)
    totals = {"psnr": 0.0, "ssim": 0.0}
    counts, correct = dict.fromkeys(names, 0), dict.fromkeys(names, 0)
    seen = 0
    colours = set(colour_tags(names))  # switched on only: switching a colour off names no new one
    with _evaluating(editor.generator, classifier):
        for x in _real_batches(data, images, device):
            rec = editor.generator(x, x.new_zeros(len(x), len(names))).float().clamp(-1, 1)
            totals["psnr"] += psnr(rec, x).sum().item()
            totals["ssim"] += ssim(rec, x).sum().item()
            seen += len(x)
            if classifier is None or judge is None:
                continue
            source = (classifier.predict(x)[:, judge] > 0.5).to(x.dtype)
            for j, name in enumerate(names):
                for value in (0.0, 1.0) if name not in colours else (1.0,):
                    rows = source[:, j] != value
                    if not rows.any():
                        continue
                    target = editor.targets(source[rows], {name: value})
                    edited = editor.generator(x[rows], target - source[rows]).float().clamp(-1, 1)
                    read = classifier.predict(edited)[:, judge[j]] > 0.5
                    correct[name] += int((read == bool(value)).sum())
                    counts[name] += int(rows.sum())
    if seen == 0:
        raise ValueError("the data holds no images to evaluate")
    per_attribute = (
        {n: {"n": counts[n], "acc_edit": correct[n] / counts[n] if counts[n] else None} for n in names}
        if classifier is not None
        else {}
    )
    mean = {"acc_edit": _mean([row["acc_edit"] for row in per_attribute.values()])} if per_attribute else {}
    return {
        "images": seen,
        "reconstruction": {key: value / seen for key, value in totals.items()},
        "per_attribute": per_attribute,
        "mean": mean,
    }


# --- the tool -----------------------------------------------------------------------------------

_FIX = "train one with animestyle fit --config <yaml> (model.class_path: animestyle.methods.AttributeEditor)"
_FIX_CLASSIFIER = (
    "train one on the editor's data with animestyle fit --config <yaml> "
    "(model.class_path: animestyle.methods.AttributeClassifier)"
)


def _load_classifier(path: str, record: Mapping[str, Any]) -> AttributeClassifier:
    """The classifier checkpoint ``path``, checked against the editor's ``record``."""
    own = read_checkpoint(path, "classifier", ("AttributeClassifier",), _FIX_CLASSIFIER)["animestyle"]
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
    return AttributeClassifier.load_from_checkpoint(path, map_location="cpu", weights_only=True).eval()


def _cells(row: Mapping[str, Any], keys: Sequence[str]) -> list[object]:
    return ["-" if row[key] is None else row[key] for key in keys]


def _print_tables(result: Mapping[str, Any], synthetic: bool) -> None:
    rec = result["reconstruction"]
    print(f"**Reconstruction (zero difference vector), {result['images']} val images (Table 2)**\n")
    print(markdown_table(["PSNR (dB)", "SSIM"], [[rec["psnr"], rec["ssim"]]]))
    if not result["per_attribute"]:
        return
    if synthetic:
        keys = ["n", *_EDIT_KEYS]
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
    record = read_checkpoint(checkpoint, "checkpoint", ("AttributeEditor",), _FIX)["animestyle"]
    num_artists = check_count("num_artists", num_artists if num_artists is not None else record["num_artists"], 1)
    judge = _load_classifier(classifier, record) if classifier is not None else None
    editor = AttributeEditor.load_from_checkpoint(checkpoint, map_location="cpu", weights_only=True).eval()
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
        x = next(_real_batches(data, GRID_IMAGES, device))
        source = None  # the editor's discriminator reads them
        if judge is not None:
            source = (judge.predict(x)[:, _columns(names, judge.attribute_names, "the classifier")] > 0.5).to(x.dtype)
    else:
        synthetic = SyntheticSource(num_artists=num_artists, seed=synthetic_seed, train_size=1, val_size=images)
        portraits = SyntheticPortraits(
            length=synthetic.val_size, num_artists=synthetic.num_artists, size=record["image_size"],
            seed=synthetic.seed, split="val", label_by=synthetic.label_by, jitter=synthetic.jitter,
        )  # fmt: skip
        result = evaluate_edits(editor, portraits, judge, images)
        items = [portraits[i] for i in range(min(GRID_IMAGES, len(portraits)))]
        x = torch.stack([item["x"] for item in items]).to(device)
        source = torch.stack([item["attrs"] for item in items])[:, _columns(names, ATTRIBUTE_NAMES, "")].to(device)
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
