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

``animestyle edit-report`` (:mod:`animestyle.tools.edit_report`) runs them on an
:class:`~animestyle.methods.AttributeEditor` checkpoint and prints Markdown tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from animestyle.checks import check_count
from animestyle.data.datamodule import AnimeFacesDataModule
from animestyle.data.synthetic import ATTRIBUTE_NAMES, Content, SyntheticPortraits, with_attribute
from animestyle.data.synthetic import attributes as attribute_vector  # `attributes` is an argument below
from animestyle.data.synthetic.factors import EYE_COLOURS, HAIR_COLOURS
from animestyle.data.tags import colour_tags
from animestyle.metrics.batches import image_batches
from animestyle.metrics.devices import module_device
from animestyle.metrics.image_quality import changed_region, psnr, region_psnr, ssim
from animestyle.nn.modes import eval_mode

__all__ = [
    "AttributeReader",
    "Editor",
    "attribute_columns",
    "editable",
    "evaluate_edits",
    "evaluate_reconstruction",
    "real_batches",
]

# Colours of which a synthetic face has exactly one: switching one on is an edit, switching
# one off does not say which colour to use instead (``with_attribute`` refuses it).
_SYNTHETIC_COLOURS = frozenset([f"{c}_hair" for c in HAIR_COLOURS] + [f"{c}_eyes" for c in EYE_COLOURS])
EDIT_KEYS = (
    "edit_psnr", "input_psnr", "edit_ssim", "input_ssim", "edit_region_psnr", "input_region_psnr",
    "acc_edit", "acc_input", "acc_truth",
)  # fmt: skip
_IMAGE_KEYS = EDIT_KEYS[:6]  # measured without a classifier


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


def attribute_columns(names: Sequence[str], known: Sequence[str], owner: str) -> list[int]:
    """The index in ``known`` of each of ``names``; ValueError naming ``owner`` and what it knows."""
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
    columns = attribute_columns(names, ATTRIBUTE_NAMES, "the synthetic portraits")
    chosen = names if attributes is None else list(attributes)
    attribute_columns(chosen, names, "the editor")
    judge = attribute_columns(chosen, classifier.attribute_names, "the classifier") if classifier is not None else None
    device = module_device(editor.generator)
    contents = [dataset.content(i) for i in range(images)]
    plans = {name: _plan(contents, name) for name in chosen}

    def vector(content: Content) -> torch.Tensor:
        return torch.from_numpy(attribute_vector(content)[columns])

    per_attribute: dict[str, dict[str, Any]] = {}
    with (
        eval_mode(editor.generator, classifier),
        tqdm(total=images + sum(len(p) for p in plans.values()), desc="editing", unit="image", leave=False) as bar,
    ):
        xs = [dataset[i]["x"] for i in range(images)]
        reconstruction = _reconstruction(editor, xs, batch_size, device, bar)
        for k, name in enumerate(chosen):
            sums = dict.fromkeys(EDIT_KEYS, 0.0)
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
            measured = EDIT_KEYS if classifier is not None else _IMAGE_KEYS  # no accuracy without a judge
            n = len(plan)
            counts = {k: regions if "region" in k else n for k in EDIT_KEYS}
            per_attribute[name] = {
                "n": n,
                **{k: sums[k] / counts[k] if counts[k] and k in measured else None for k in EDIT_KEYS},
            }
    mean = {key: _mean([row[key] for row in per_attribute.values()]) for key in EDIT_KEYS}
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


def real_batches(data: AnimeFacesDataModule | DataLoader, images: int, device: torch.device) -> Iterator[torch.Tensor]:
    """Images (B, 3, S, S) in [-1, 1]: the first ``images`` of the data module's val split, or
    of a loader of batches whose ``x`` is already that."""
    if isinstance(data, AnimeFacesDataModule):
        for batch in image_batches(data, "val", images, device, "editing"):
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
    judge = attribute_columns(names, classifier.attribute_names, "the classifier") if classifier is not None else None
    device = module_device(editor.generator)
    totals = {"psnr": 0.0, "ssim": 0.0}
    counts, correct = dict.fromkeys(names, 0), dict.fromkeys(names, 0)
    seen = 0
    colours = set(colour_tags(names))  # switched on only: switching a colour off names no new one
    with eval_mode(editor.generator, classifier):
        for x in real_batches(data, images, device):
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
