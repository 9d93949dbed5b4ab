"""Tiny style-space checkpoints (2 training steps, 32 px, 4 artists) for the tests of
``animestyle.metrics.style_space`` and ``examples/style_space/synthetic_study.py``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import lightning as L
import pytest
from lightning.pytorch.callbacks import ModelCheckpoint

from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.methods import MetricStyleEncoder, StyleConditionedVAE

TINY_ARTISTS = 4
TINY_STYLE_DIM = 8
TINY_CONTENT_DIM = 8


def _fit(module: L.LightningModule, root: Path) -> Path:
    """Train ``module`` for 2 steps on tiny synthetic data; its ``last.ckpt`` under ``root``."""
    L.seed_everything(0, verbose=False)
    data = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=TINY_ARTISTS, train_size=64, val_size=16), image_size=32, batch_size=16
    )
    trainer = L.Trainer(
        max_steps=2, logger=False, enable_progress_bar=False, enable_model_summary=False, limit_val_batches=1,
        num_sanity_val_steps=0, default_root_dir=root, accelerator="cpu",
        callbacks=[ModelCheckpoint(dirpath=root / "checkpoints", save_last=True)],
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny-data warnings (few batches, no workers)
        trainer.fit(module, datamodule=data)
    path = root / "checkpoints" / "last.ckpt"
    assert path.is_file()
    return path


def _tiny_encoder(**kwargs: Any) -> MetricStyleEncoder:
    return MetricStyleEncoder(TINY_ARTISTS, 32, widths=[8, 16, 32], style_dim=TINY_STYLE_DIM, **kwargs)


@pytest.fixture(scope="session")
def tiny_metric(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MetricStyleEncoder checkpoint (objective="metric", style_dim 8)."""
    return _fit(_tiny_encoder(), tmp_path_factory.mktemp("metric"))


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MetricStyleEncoder checkpoint (objective="classification", style_dim 8)."""
    return _fit(_tiny_encoder(objective="classification"), tmp_path_factory.mktemp("classifier"))


@pytest.fixture(scope="session")
def tiny_vae(tiny_metric: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A StyleConditionedVAE checkpoint (content_dim 8, fc_width 16) on ``tiny_metric``."""
    vae = StyleConditionedVAE(
        TINY_ARTISTS, 32, style_checkpoint=str(tiny_metric), style_dims=4, content_dim=TINY_CONTENT_DIM, fc_width=16
    )
    return _fit(vae, tmp_path_factory.mktemp("vae"))
