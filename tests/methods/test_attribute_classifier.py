"""The independent attribute classifier that scores edits (ANIMEGAN report, Figure 2 right)."""

from __future__ import annotations

import warnings
from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from animestyle.data.synthetic import ATTRIBUTE_NAMES, SyntheticPortraits
from animestyle.methods import AttributeClassifier
from animestyle.methods.attribute_classifier import default_widths
from animestyle.methods.base import read_checkpoint

NAMES = ["blush", "glasses", "open_mouth", "pink_hair", "blue_eyes"]
COLUMNS = [ATTRIBUTE_NAMES.index(n) for n in NAMES]


def _tiny(**kwargs: object) -> AttributeClassifier:
    return AttributeClassifier(NAMES, image_size=32, widths=[8, 16, 32], **kwargs)  # type: ignore[arg-type]


def _trainer(steps: int, root: Path) -> L.Trainer:
    return L.Trainer(
        max_steps=steps, max_epochs=-1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, num_sanity_val_steps=0, check_val_every_n_epoch=steps, accelerator="cpu",
        default_root_dir=root,
    )  # fmt: skip


def _one_batch(n: int = 16) -> list[dict[str, torch.Tensor]]:
    portraits = SyntheticPortraits(length=n, num_artists=2, size=32)
    items = [portraits[i] for i in range(n)]
    return [{"x": item["x"], "attrs": item["attrs"][COLUMNS]} for item in items]


def test_default_widths_double_from_32_up_to_256() -> None:
    assert default_widths(32) == [32, 64, 128]
    assert default_widths(128) == [32, 64, 128, 256, 256]


def test_logits_and_probabilities_have_one_column_per_attribute() -> None:
    model = _tiny()
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    assert model(x).shape == (3, len(NAMES))
    assert torch.equal(model(torch.cat([x, torch.ones(3, 1, 32, 32)], 1)), model(x))  # alpha is dropped
    probabilities = model.predict(x)
    assert probabilities.shape == (3, len(NAMES))
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    assert model.training  # predict restores the mode
    assert AttributeClassifier(NAMES, image_size=128).widths == [32, 64, 128, 256, 256]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"attribute_names": []}, "attribute_names is empty"),
        ({"attribute_names": ["blush", "blush"]}, "repeats"),
        ({"attribute_names": NAMES, "widths": [8, 16]}, "widths=[8, 16]"),
        ({"attribute_names": NAMES, "channels": "lab"}, "channels='lab'"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        AttributeClassifier(image_size=32, **kwargs)  # type: ignore[arg-type]


def test_a_wrong_image_size_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\(B, 3, 32, 32\)"):
        _tiny()(torch.zeros(1, 3, 64, 64))


def test_overfits_one_batch_of_synthetic_portraits_and_logs_accuracy(tmp_path: Path) -> None:
    torch.manual_seed(0)
    batch = _one_batch()
    loader = DataLoader(batch, batch_size=len(batch))  # type: ignore[arg-type]
    model = _tiny(lr=1e-2)
    x = torch.stack([item["x"] for item in batch])
    attrs = torch.stack([item["attrs"] for item in batch])
    before = torch.nn.functional.binary_cross_entropy(model.predict(x), attrs).item()
    trainer = _trainer(30, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny data: few batches, no workers
        trainer.fit(model, loader, loader)
    assert (model.predict(x) > 0.5).float().eq(attrs).float().mean().item() == 1.0
    metrics = trainer.callback_metrics
    assert metrics["val/loss"].item() < before / 3
    assert metrics["val/accuracy"].item() == 1.0
    assert {f"val/acc_{n}" for n in NAMES} <= metrics.keys()
    assert "train/loss" in metrics

    path = tmp_path / "classifier.ckpt"
    trainer.save_checkpoint(path)
    record = read_checkpoint(path, "classifier", ("AttributeClassifier",), "train one")["animestyle"]
    assert record == {"method": "AttributeClassifier", "attribute_names": NAMES, "image_size": 32}
    loaded = AttributeClassifier.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    assert torch.allclose(loaded.predict(x), model.predict(x))
