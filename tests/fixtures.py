"""Tiny trained checkpoints used by tests in more than one folder (``tests/metrics``,
``tests/methods``, ``tests/tools``). ``tests/conftest.py`` imports the fixtures, so that every
folder sees them and each trains once per test session (per xdist worker): import the
constants and helpers from here, never the fixtures themselves (a module that imports a fixture
gets a second copy of it, which trains again).
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.methods import MetricStyleEncoder, StyleConditionedVAE, StyleContentGAN
from tests.helpers import cpu_trainer

# --- style space: tiny checkpoints (2 training steps, 32 px, 4 artists) for the tests of
# ``animestyle.metrics.style_space``, ``animestyle style-report`` and
# ``examples/style_space/synthetic_study.py`` -----------------------------------------------------

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


# --- style space: the three stages and a GAN on them, for the tests of the style-space methods
# and of ``animestyle explore``. Real runs are tiny (32 px, 4 artists, widths 8 / 16 / 32, one or
# two iterations): one metric encoder, one classification encoder and one VAE, then one GAN on
# copies of their checkpoints ---------------------------------------------------------------------

ARTISTS, SIZE, WIDTHS = 4, 32, [8, 16, 32]
STYLE_DIM, STYLE_DIMS, CONTENT_DIM = 8, 4, 8
GAN_SETTINGS: dict[str, Any] = {
    "widths": WIDTHS,
    "discriminator_widths": [8, 16],
    "patches": 2,
    "content_dims": 6,
    "free_dims": 3,
}


def data() -> AnimeFacesDataModule:
    """64 training images in 4 batches of 16 (no augmentation: every pass sees the same)."""
    source = SyntheticSource(num_artists=ARTISTS, train_size=64, val_size=16)
    return AnimeFacesDataModule(synthetic=source, image_size=SIZE, batch_size=16)


def fit(module: L.LightningModule, root: Path, max_steps: int, callbacks: list[L.Callback] | None = None) -> Path:
    """Train ``module`` on :func:`data`; its ``last.ckpt`` (written by ModelCheckpoint)."""
    L.seed_everything(0, verbose=False)
    saving = ModelCheckpoint(dirpath=root, save_last=True)
    run = cpu_trainer(root, max_steps, enable_checkpointing=True, callbacks=[saving, *(callbacks or [])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny-data warnings (few batches, no workers)
        run.fit(module, datamodule=data())
    path = root / "last.ckpt"
    assert path.is_file()
    return path


def encoder(**kwargs: Any) -> MetricStyleEncoder:
    return MetricStyleEncoder(ARTISTS, SIZE, widths=WIDTHS, style_dim=STYLE_DIM, **kwargs)


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class _AtStart(L.Callback):
    """The module's state as training starts (after ``on_fit_start`` loaded the encoders)."""

    state: dict[str, torch.Tensor]

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.state = snapshot(pl_module)


@pytest.fixture(scope="session")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Checkpoints of a metric encoder, a classification encoder and a VAE on the first."""
    root = tmp_path_factory.mktemp("style_space")
    metric = fit(encoder(), root / "metric", max_steps=2)
    classifier = fit(encoder(objective="classification"), root / "classifier", max_steps=1)
    vae = StyleConditionedVAE(
        ARTISTS, SIZE, style_checkpoint=str(metric), style_dims=STYLE_DIMS, content_dim=CONTENT_DIM, fc_width=16
    )
    return {"metric": metric, "classifier": classifier, "vae": fit(vae, root / "vae", max_steps=2)}


@dataclass
class GanRun:
    checkpoint: Path
    model: StyleContentGAN
    start: dict[str, torch.Tensor]
    end: dict[str, torch.Tensor]
    inputs: tuple[Path, Path]  # the copies of the metric and VAE checkpoints it was built on


@pytest.fixture(scope="session")
def gan_run(stages: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> GanRun:
    """Two GAN iterations on copies of the earlier stages' checkpoints (used by nothing else),
    with the style statistics over every training batch."""
    root = tmp_path_factory.mktemp("gan")
    metric, vae = root / "metric.ckpt", root / "vae.ckpt"
    shutil.copy(stages["metric"], metric)
    shutil.copy(stages["vae"], vae)
    model = StyleContentGAN(
        ARTISTS, SIZE, style_checkpoint=str(metric), content_checkpoint=str(vae), statistics_batches=50, **GAN_SETTINGS
    )
    at_start = _AtStart()
    checkpoint = fit(model, root, max_steps=4, callbacks=[at_start])  # 2 optimizer steps per iteration
    assert int(model.iteration) == 2
    return GanRun(checkpoint, model, at_start.state, snapshot(model), (metric, vae))
