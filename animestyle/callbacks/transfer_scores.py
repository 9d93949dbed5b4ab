"""Transfer scores against the synthetic ground truth, logged at every validation (and test).

On the synthetic portraits the true result of drawing image ``i`` by another artist ``a'``
is known (``SyntheticPortraits.transfer(i, a')``), and the synthetic oracle reads whose
style a picture shows and what content it keeps. This callback transfers the first
``num_items`` held-out portraits, each to a seeded other artist, with the method being
trained, and logs what :mod:`animestyle.tools.evaluate` puts in its table:
``<split>/transfer_l1``, ``transfer_psnr``, ``transfer_ssim`` (against the true render),
``<split>/target_accuracy`` and ``content_accuracy`` (the oracle's reading).

The measures are torchmetrics (:class:`~animestyle.metrics.TransferScores`,
:class:`~animestyle.metrics.OracleScores`): under DDP each process transfers its share of
the items and the logged values are the whole set's.

A method takes part through one of two methods (no import of it is needed here):
``transfer_to_artists(x, artist)`` (GADN, StarGAN) or ``transfer_like(x, reference)``
(the reference-guided ones, which get one held-out portrait by the target artist each).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import default_collate

from animestyle.callbacks.random_state import random_state_kept
from animestyle.checks import check_count
from animestyle.data.synthetic import SyntheticPortraits
from animestyle.metrics import OracleScores, TransferScores, load_oracle, style_references, target_artists
from animestyle.metrics.oracle import STEPS as ORACLE_STEPS

__all__ = ["SyntheticTransferScores"]

PROTOCOLS = ("transfer_to_artists", "transfer_like")


class SyntheticTransferScores(L.Callback):
    """Log transfer scores of ``num_items`` held-out synthetic portraits after each validation
    and test (not the sanity check).

    Args:
        num_items: the first ``num_items`` portraits of the split are transferred.
        seed: seed of the target artists (and of the reference portraits).
        batch_size: portraits per transfer call.
        oracle_steps: training steps of the oracle (trained once and cached, see
            :func:`~animestyle.metrics.load_oracle`).
    """

    def __init__(self, num_items: int = 256, seed: int = 0, batch_size: int = 64, oracle_steps: int = ORACLE_STEPS):
        super().__init__()
        self.num_items = check_count("num_items", num_items, 1)
        self.batch_size = check_count("batch_size", batch_size, 1)
        self.seed, self.oracle_steps = seed, oracle_steps
        self.oracle: torch.nn.Module | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        datamodule = trainer.datamodule  # type: ignore[attr-defined]
        portraits = getattr(datamodule, "synthetic_split", lambda split: None)("val")
        if portraits is None:
            raise ValueError(
                "SyntheticTransferScores scores transfers against the synthetic portraits' ground truth; "
                "the data is not synthetic: remove the callback from the config, or train on `data.synthetic`"
            )
        if portraits.label_by != "artist":
            raise ValueError(
                f"SyntheticTransferScores needs artist labels; data.synthetic.label_by is {portraits.label_by!r}"
            )
        if getattr(datamodule, "colour_space", "rgb") != "rgb":
            raise ValueError(
                f"SyntheticTransferScores scores RGB transfers; data.colour_space is {datamodule.colour_space!r}: "
                "remove the callback or train in rgb"
            )
        if not any(hasattr(pl_module, name) for name in PROTOCOLS):
            raise TypeError(
                f"SyntheticTransferScores transfers with {' or '.join(PROTOCOLS)}; "
                f"{type(pl_module).__name__} has neither: remove the callback for this method"
            )

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking and not self._fast_dev_run(trainer):
            self.score(trainer, pl_module, "val")

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._fast_dev_run(trainer):
            self.score(trainer, pl_module, "test")

    @staticmethod
    def _fast_dev_run(trainer: L.Trainer) -> bool:
        """A ``fast_dev_run`` checks that a config runs: it is not kept waiting minutes for the
        oracle's first training (the checks of :meth:`setup` still run)."""
        fast = bool(getattr(trainer, "fast_dev_run", False))  # set by Trainer.__init__; not in its stubs
        if fast:
            rank_zero_info("SyntheticTransferScores: not scoring under fast_dev_run")
        return fast

    def _load_oracle(self, trainer: L.Trainer, portraits: SyntheticPortraits) -> torch.nn.Module:
        """The oracle, loaded at the first scoring (so that runs that never validate never
        train it): rank 0 trains and caches it (minutes, once); the others then read the cache."""
        if self.oracle is None:
            arguments = (portraits.num_artists, portraits.size, portraits.seed)
            if trainer.is_global_zero:
                with torch.inference_mode(False), torch.enable_grad():  # inside Lightning's evaluation loop
                    load_oracle(*arguments, steps=self.oracle_steps)
            trainer.strategy.barrier("SyntheticTransferScores oracle")
            self.oracle = load_oracle(*arguments, steps=self.oracle_steps, progress=False)
        return self.oracle

    def score(self, trainer: L.Trainer, pl_module: L.LightningModule, split: str) -> dict[str, torch.Tensor]:
        """Transfer this process's share of the items, log the whole set's scores and return them."""
        datamodule: Any = trainer.datamodule  # type: ignore[attr-defined]
        portraits: SyntheticPortraits = datamodule.synthetic_split(split)
        items = getattr(datamodule, f"{split}_set")
        num_items = min(self.num_items, len(portraits))
        source = torch.tensor([portraits.artist(i) for i in range(num_items)])
        target = target_artists(source, portraits.num_artists, self.seed)
        reference = style_references(portraits, target, self.seed) if not hasattr(pl_module, PROTOCOLS[0]) else None
        oracle = self._load_oracle(trainer, portraits)
        device = pl_module.device
        transfer_scores, oracle_scores = TransferScores().to(device), OracleScores(oracle.to(device)).to(device)
        mine = list(range(trainer.global_rank, num_items, trainer.world_size))
        with random_state_kept(device), torch.no_grad():
            for start in range(0, len(mine), self.batch_size):
                index = mine[start : start + self.batch_size]
                batch = self._batch(datamodule, items, index, device)
                trg = target[index].to(device)
                if reference is None:
                    fake = pl_module.transfer_to_artists(batch["x"], trg)  # type: ignore[operator]
                else:
                    style = self._batch(datamodule, items, reference[index].tolist(), device)["x"]
                    fake = pl_module.transfer_like(batch["x"], style)  # type: ignore[operator]
                fake = fake.float()
                true = torch.stack([portraits.transfer(i, int(target[i])) for i in index]).to(device)
                transfer_scores.update(fake, true)
                oracle_scores.update(fake, trg, batch["true_artist"].to(device), batch["content"].to(device))
        scores = {f"transfer_{k}": v for k, v in transfer_scores.compute().items()}
        read = oracle_scores.compute()  # both computed on every process: each syncs the sums
        scores.update({k: read[k] for k in ("target_accuracy", "content_accuracy")})
        for name, value in scores.items():  # equal on every process: sync_dist only spares Lightning's warning
            pl_module.log(f"{split}/{name}", value.float(), sync_dist=True)
        return scores

    @staticmethod
    def _batch(datamodule: Any, items: Any, index: list[int], device: torch.device) -> dict[str, torch.Tensor]:
        """Items of the split as the module's batches are: on ``device``, in its colour space."""
        batch = default_collate([items[i] for i in index])
        return datamodule.on_after_batch_transfer({k: v.to(device) for k, v in batch.items()}, 0)
