"""Sample grids: pictures of what a method generates, drawn as it trains.

Any LightningModule with ``sample_grids(x, artist, artists) -> {name: (rows, cols, 3, H, W)}``
can be drawn. The callback fixes a batch of validation images and a set of artists at the
start of training, so that every picture of a run shows the same contents and styles, and
writes each grid as ``<log dir>/samples/<name>_<iteration>.png`` and to Weights & Biases
when a ``WandbLogger`` is attached.

Drawing leaves the random streams as it found them, so a run draws the same batches and
noise with or without pictures, and a resumed run (which fetches its fixed batch again)
continues exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.loggers import WandbLogger

from animestyle.callbacks.random_state import random_state_kept
from animestyle.images import save_grid

__all__ = ["SampleGrids"]


class SampleGrids(L.Callback):
    """Draw the module's sample grids every ``every_n_iterations`` and at the end of training.

    Args:
        every_n_iterations: training iterations (batches) between pictures; 0: only at the end.
        num_images: validation images (grid rows) to show.
        num_artists: artists (grid columns) to show, spread over all artists.
    """

    def __init__(self, every_n_iterations: int = 500, num_images: int = 8, num_artists: int = 8):
        super().__init__()
        if every_n_iterations < 0 or num_images < 1 or num_artists < 1:
            raise ValueError(
                f"every_n_iterations={every_n_iterations} must be >= 0 and num_images={num_images}, "
                f"num_artists={num_artists} >= 1"
            )
        self.every, self.num_images, self.num_artists = every_n_iterations, num_images, num_artists
        self.batch: dict[str, torch.Tensor] | None = None
        self.saved: list[Path] = []  # every PNG written, in order
        self.folder: Path | None = None  # <log dir>/samples, known from the start of fit
        self.drawn: int | None = None  # the iteration drawn last

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not hasattr(pl_module, "sample_grids"):
            raise TypeError(
                f"SampleGrids draws modules with a sample_grids method; {type(pl_module).__name__} has none"
            )
        datamodule = trainer.datamodule  # type: ignore[attr-defined]
        with random_state_kept(pl_module.device):  # iter() draws a seed from torch's stream
            batch = next(iter(datamodule.val_dataloader()))
        batch = datamodule.on_after_batch_transfer(batch, 0)
        self.batch = {k: v[: self.num_images] for k, v in batch.items() if k in ("x", "artist")}
        total: int = pl_module.num_artists  # type: ignore[assignment]
        count = min(self.num_artists, total)
        self.artists = torch.linspace(0, total - 1, count).round().long()
        # Here, on every rank: trainer.log_dir is a collective call (a broadcast), so asking
        # for it on rank zero alone, in draw(), would hang a multi-device run.
        self.folder = Path(trainer.log_dir or trainer.default_root_dir) / "samples"

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        iteration = _iteration(trainer, pl_module)
        if self.every and iteration % self.every == 0:
            self.draw(trainer, pl_module, iteration)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        iteration = _iteration(trainer, pl_module)
        if iteration != self.drawn:  # not drawn already by the last batch
            self.draw(trainer, pl_module, iteration)

    def draw(self, trainer: L.Trainer, pl_module: L.LightningModule, iteration: int) -> None:
        """Write every grid of ``pl_module`` now: rank zero does, other ranks return at once
        (no collective calls, so rank zero may also call it alone)."""
        self.drawn = iteration
        if self.batch is None or self.folder is None or not trainer.is_global_zero:
            return
        device = pl_module.device
        x, artist = self.batch["x"].to(device), self.batch["artist"].to(device)
        with random_state_kept(device):
            grids = pl_module.sample_grids(x, artist, self.artists.to(device))  # type: ignore[operator]
        to_display = getattr(trainer.datamodule, "to_display", None)  # type: ignore[attr-defined]
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, grid in grids.items():
            path = save_grid(grid, self.folder / f"{name}_{iteration:07d}.png", to_display)
            self.saved.append(path)
            for logger in trainer.loggers:
                if isinstance(logger, WandbLogger):
                    logger.log_image(key=f"samples/{name}", images=[str(path)], step=_log_step(trainer))


def _iteration(trainer: L.Trainer, pl_module: L.LightningModule) -> int:
    """The method's own iteration counter, or Lightning's step for automatic optimisation."""
    iteration = getattr(pl_module, "iteration", None)
    return int(iteration) if iteration is not None else trainer.global_step


def _log_step(trainer: L.Trainer) -> int:
    """The step Lightning logs this batch's metrics at, so that pictures and loss curves share
    one x-axis: batches, not ``global_step`` (optimizer steps, 2 per batch for a GAN)."""
    return int(getattr(trainer.fit_loop.epoch_loop, "_batches_that_stepped", trainer.global_step))
