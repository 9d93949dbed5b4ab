"""Tiny checkpoints for the tool tests, each trained once per session (per xdist worker):
attribute editing for ``animestyle edit`` and ``edit-report``; GADN stage 1 and an NST model for
``animestyle transfer`` and ``animestyle evaluate``."""

from __future__ import annotations

import warnings
from pathlib import Path

import lightning as L
import pytest
import torch
from PIL import Image

from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.methods import AttributeClassifier, AttributeEditor, DualDiscriminatorNST, GADNStage1
from tests.helpers import cpu_trainer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# in an order of their own, to check that columns are matched by name
NAMES = ["smile", "blush", "open_mouth", "long_hair", "pink_hair", "blue_eyes"]


def fit_and_save(module: L.LightningModule, root: Path, steps: int) -> Path:
    """``module`` trained ``steps`` optimizer steps on tiny synthetic data, saved under ``root``."""
    L.seed_everything(0, verbose=False)
    data = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=2, train_size=16, val_size=8), image_size=32,
        attributes=list(module.hparams["attribute_names"]),
        batch_size=8,
    )  # fmt: skip
    trainer = L.Trainer(
        max_steps=steps, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=1, num_sanity_val_steps=0, default_root_dir=root,
        accelerator="cpu",
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny-data warnings (few batches, no workers)
        trainer.fit(module, datamodule=data)
    path = root / f"{type(module).__name__}.ckpt"
    trainer.save_checkpoint(path)
    return path


def grid_size(path: Path) -> tuple[int, int]:
    """The size of the PNG picture at ``path``."""
    assert path.read_bytes()[:8] == PNG_MAGIC
    with Image.open(path) as image:
        return image.size


@pytest.fixture(scope="session")
def tiny_editor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An AttributeEditor checkpoint (32 px, widths 8-16-32) after one iteration."""
    editor = AttributeEditor(attribute_names=NAMES, image_size=32, widths=[8, 16, 32], n_critic=1)
    return fit_and_save(editor, tmp_path_factory.mktemp("editor"), steps=2)


@pytest.fixture(scope="session")
def tiny_attribute_classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An AttributeClassifier checkpoint (32 px) after two steps, reading more than the editor."""
    classifier = AttributeClassifier([*NAMES, "glasses"], image_size=32, widths=[8, 16, 32])
    return fit_and_save(classifier, tmp_path_factory.mktemp("classifier"), steps=2)


@pytest.fixture(scope="session")
def stage1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GADN stage-1 checkpoint (32 px, 4 artists) after 4 steps."""
    root = tmp_path_factory.mktemp("stage1")
    torch.manual_seed(0)
    model = GADNStage1(num_artists=4, image_size=32, widths=[8, 16, 32], fc_width=16, content_dim=8, style_dim=4)
    data = AnimeFacesDataModule(synthetic=SyntheticSource(num_artists=4, train_size=32, val_size=8), image_size=32)
    cpu_trainer(root, max_steps=4, limit_val_batches=0).fit(model, data)
    path = root / "stage1.ckpt"
    model.trainer.save_checkpoint(path)
    return path


@pytest.fixture(scope="session")
def nst(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DualDiscriminatorNST checkpoint (reference-guided only) after one step, trained on the
    stage-1 fixture's portraits (4 artists), so that ``animestyle evaluate`` scores both."""
    root = tmp_path_factory.mktemp("nst")
    torch.manual_seed(0)
    model = DualDiscriminatorNST(4, 32, widths=(8, 16, 16), patch_width=8, style_width=8, style_dim=4)
    data = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=4, train_size=16, val_size=8), image_size=32, batch_size=4,
        attributes=[], style_pairs=True,
    )  # fmt: skip
    trainer = cpu_trainer(root, max_steps=1, limit_val_batches=0)
    trainer.fit(model, data)
    trainer.save_checkpoint(root / "nst.ckpt")
    return root / "nst.ckpt"
