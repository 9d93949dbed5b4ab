"""The synthetic oracle: a CNN that reads an image's artist and content factors back.

Trained on fresh synthetic renders, it scores what a method generates: is a transfer to
artist ``a`` recognised as artist ``a``, did an edit keep the hair colour, ... Because the
synthetic data has ground truth, the oracle's own accuracy on held-out renders is known,
which bounds what a score can mean.

``load_oracle(num_artists, image_size, seed)`` trains it on first use and caches it under
``animestyle.cache.cache_dir() / "oracle"``; later calls load it in a second.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from animestyle.atomic import atomic_path
from animestyle.cache import cache_dir
from animestyle.checks import check_count
from animestyle.data.synthetic import (
    CONTENT_FACTORS,
    RENDERER_VERSION,
    Continuous,
    SyntheticPortraits,
    categorical_factors,
)
from animestyle.data.synthetic.portrait import check_size
from animestyle.nn.modes import eval_mode
from animestyle.rng import ResumesRandomState

__all__ = ["BATCH_SIZE", "STEPS", "SyntheticOracle", "evaluate_oracle", "load_oracle", "oracle_path", "train_oracle"]

# Bump when the network or its training changes: cached oracles of older versions expire.
ORACLE_VERSION = 1
# Default training: STEPS steps of BATCH_SIZE fresh renders (2 min 11 s at 32 px on 2 CPU cores).
STEPS, BATCH_SIZE = 600, 64

_CATEGORICAL = categorical_factors()
_CONTINUOUS = [(j, f) for j, f in enumerate(CONTENT_FACTORS) if isinstance(f, Continuous)]
_CONT_INDEX = torch.tensor([j for j, _ in _CONTINUOUS])
_CONT_LOW = torch.tensor([f.low for _, f in _CONTINUOUS])
_CONT_HIGH = torch.tensor([f.high for _, f in _CONTINUOUS])


def _conv(in_channels: int, out_channels: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class SyntheticOracle(ResumesRandomState):
    """Predicts the artist and every content factor of a synthetic portrait.

    Categorical factors (and the artist) get classification heads; continuous factors
    (tilt, offsets) one regression head in units scaled to [-1, 1].

    Args:
        num_artists: number of artists of the synthetic data it reads.
        image_size: input width and height (32 to 256).
        width: channels of the first convolution; doubled at each halving, up to 256.
        lr: peak learning rate of the one-cycle schedule (AdamW).
        channels: the data's channels (linked by the CLI); the oracle reads colour only, so
            alpha, if any, is dropped.
    """

    def __init__(
        self, num_artists: int, image_size: int = 32, width: int = 32, lr: float = 3e-3, channels: str = "rgb"
    ):
        super().__init__()
        self.save_hyperparameters()
        layers, depth, size = _conv(3, width), width, image_size
        while size > 4:
            out = min(2 * depth, 256)
            layers += _conv(depth, out, stride=2) + _conv(out, out)
            depth, size = out, (size + 1) // 2
        self.trunk = nn.Sequential(*layers, nn.Flatten(), nn.Linear(depth * size * size, 256), nn.ReLU(inplace=True))
        self.heads = nn.ModuleDict({"artist": nn.Linear(256, num_artists)})
        for _, f in _CATEGORICAL:
            self.heads[f.name] = nn.Linear(256, len(f.choices))
        self.heads["continuous"] = nn.Linear(256, len(_CONTINUOUS))
        self.lr = lr
        self.metrics: dict[str, float] = {}  # held-out scores, filled by load_oracle

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Args: x: images, (B, 3, H, W), in [-1, 1].

        Returns: ``{"artist": (B, num_artists) logits, <factor>: (B, choices) logits, ...,
        "continuous": (B, n) predictions of the continuous factors scaled to [-1, 1]}``.
        """
        size = self.hparams["image_size"]
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[2:] != (size, size):
            raise ValueError(f"x must be (B, 3, {size}, {size}); got {tuple(x.shape)}")
        h = self.trunk(x)
        return {name: head(h) for name, head in self.heads.items()}

    @staticmethod
    def targets(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Targets of every head from a synthetic batch (needs ``true_artist`` and ``content``)."""
        missing = {"true_artist", "content"} - batch.keys()
        if missing:
            raise ValueError(f"the oracle trains on synthetic batches; this batch lacks {sorted(missing)}")
        content = batch["content"]
        out = {"artist": batch["true_artist"]}
        out.update({f.name: content[:, j].long() for j, f in _CATEGORICAL})
        low, high = _CONT_LOW.to(content), _CONT_HIGH.to(content)
        out["continuous"] = 2 * (content[:, _CONT_INDEX.to(content.device)] - low) / (high - low) - 1
        return out

    def _step(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        preds, targets = self(batch["x"][:, :3]), self.targets(batch)
        losses = {name: F.cross_entropy(preds[name], targets[name]) for name in preds if name != "continuous"}
        losses["continuous"] = F.mse_loss(preds["continuous"], targets["continuous"])
        loss = torch.stack(list(losses.values())).sum()
        self.log(f"{stage}/loss", loss, prog_bar=True)
        if stage != "train":
            accuracy = {
                f"{stage}/acc_{n}": (preds[n].argmax(1) == targets[n]).float().mean()
                for n in losses
                if n != "continuous"
            }
            self.log_dict(accuracy)
        return loss

    def setup(self, stage: str) -> None:
        """Refuse data whose artists the artist head cannot hold, with the reason."""
        portraits = getattr(getattr(self.trainer, "datamodule", None), "portraits", None)
        artists = getattr(portraits, "num_artists", None)
        if artists is not None and artists != self.hparams["num_artists"]:
            raise ValueError(
                f"the oracle predicts each image's artist, but num_artists={self.hparams['num_artists']} "
                f"while the data has {artists} artists: the DataModule's num_artists counts label classes, "
                f"so train the oracle on artist-labelled data (data.synthetic.label_by: artist)"
            )

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=1e-4)
        total = int(self.trainer.estimated_stepping_batches)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.lr, total_steps=max(total, 1))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    @torch.no_grad()
    def predict_artist(self, x: torch.Tensor) -> torch.Tensor:
        """(B,) int64 predicted artist of images ``x`` (B, 3, H, W) in [-1, 1], in eval mode."""
        with eval_mode(self):
            return self(x)["artist"].argmax(1)


@torch.no_grad()
def evaluate_oracle(oracle: SyntheticOracle, dataset: SyntheticPortraits, batch_size: int = 256) -> dict[str, float]:
    """Accuracy of every classification head and mean absolute error (in the factor's own
    units) of every continuous factor, on ``dataset``; ``chance_*`` is the accuracy of
    always answering the most frequent class."""
    device = next(oracle.parameters()).device
    correct: dict[str, float] = {}
    abs_err = torch.zeros(len(_CONTINUOUS))
    counts: dict[str, torch.Tensor] = {}
    with eval_mode(oracle):
        for batch in DataLoader(dataset, batch_size=batch_size):
            preds, targets = oracle(batch["x"].to(device)), SyntheticOracle.targets(batch)
            for name, logits in preds.items():
                if name == "continuous":
                    scale = (_CONT_HIGH - _CONT_LOW) / 2
                    abs_err += ((logits.cpu() - targets[name]).abs() * scale).sum(0)
                    continue
                correct[name] = correct.get(name, 0.0) + (logits.argmax(1).cpu() == targets[name]).sum().item()
                counts[name] = counts.get(name, torch.zeros(logits.shape[1])) + torch.bincount(
                    targets[name], minlength=logits.shape[1]
                )
    n = len(dataset)
    metrics = {f"acc_{name}": c / n for name, c in correct.items()}
    metrics.update({f"chance_{name}": (c.max() / n).item() for name, c in counts.items()})
    metrics.update({f"mae_{f.name}": (abs_err[k] / n).item() for k, (_, f) in enumerate(_CONTINUOUS)})
    return metrics


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Silence Lightning's start-up chatter (GPU available, ...) while the oracle trains."""
    logger = logging.getLogger("lightning.pytorch")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check_arguments(num_artists: int, image_size: int, steps: int, batch_size: int) -> None:
    check_size(image_size, "image_size")
    for name, value in (("num_artists", num_artists), ("steps", steps), ("batch_size", batch_size)):
        check_count(name, value, 1)


def train_oracle(
    num_artists: int,
    image_size: int,
    seed: int = 0,
    *,
    steps: int = STEPS,
    batch_size: int = BATCH_SIZE,
    num_workers: int | None = None,
    progress: bool = True,
) -> SyntheticOracle:
    """Train an oracle on ``steps * batch_size`` fresh renders of ``SyntheticPortraits(
    num_artists=num_artists, size=image_size, seed=seed)`` (train split).

    On the CPU the weights depend only on the arguments (not on ``num_workers``); on a GPU,
    nondeterministic kernels may change the last digits. torch's global RNG state is left as
    it was.
    """
    _check_arguments(num_artists, image_size, steps, batch_size)
    data = SyntheticPortraits(length=steps * batch_size, num_artists=num_artists, size=image_size, seed=seed)
    workers = max(0, min(8, (os.cpu_count() or 1) - 1)) if num_workers is None else num_workers
    loader = DataLoader(data, batch_size=batch_size, num_workers=workers)
    with torch.random.fork_rng(), _quiet_lightning():
        torch.manual_seed(seed)
        oracle = SyntheticOracle(num_artists=num_artists, image_size=image_size)
        trainer = L.Trainer(
            max_steps=steps,
            max_epochs=1,
            logger=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            enable_progress_bar=progress,
            devices=1,
        )
        with warnings.catch_warnings():  # held-out scoring is evaluate_oracle's job, not a val loop's
            warnings.filterwarnings("ignore", message=".*validation_step.*val_dataloader")
            trainer.fit(oracle, loader)
    return oracle.eval()


def oracle_path(num_artists: int, image_size: int, seed: int = 0, steps: int = STEPS) -> Path:
    """Cache file of the oracle for these arguments (renderer and oracle versions included)."""
    name = (
        f"oracle-r{RENDERER_VERSION}-o{ORACLE_VERSION}-seed{seed}-artists{num_artists}-size{image_size}-steps{steps}.pt"
    )
    return cache_dir() / "oracle" / name


def load_oracle(
    num_artists: int,
    image_size: int,
    seed: int = 0,
    *,
    steps: int = STEPS,
    progress: bool = True,
) -> SyntheticOracle:
    """The oracle for ``SyntheticPortraits(num_artists, size=image_size, seed=seed)``: loaded
    from the cache, or trained (minutes on a CPU) and cached on first use.

    The cache file also holds the oracle's held-out metrics (``oracle.metrics``, see
    :func:`evaluate_oracle`), measured on 2,000 renders of the test split. torch's global RNG
    state is left as it was, trained or loaded (a resumed run that loads it stays exact).
    """
    _check_arguments(num_artists, image_size, steps, BATCH_SIZE)
    path = oracle_path(num_artists, image_size, seed, steps)
    if path.exists():
        saved = torch.load(path, map_location="cpu", weights_only=True)
        with torch.random.fork_rng():  # building it draws initial weights: leave the caller's stream as it was
            oracle = SyntheticOracle(**saved["hparams"])
        oracle.load_state_dict(saved["state_dict"])
        oracle.metrics = saved["metrics"]
        return oracle.eval()
    oracle = train_oracle(num_artists, image_size, seed, steps=steps, progress=progress)
    held_out = SyntheticPortraits(length=2000, num_artists=num_artists, size=image_size, seed=seed, split="test")
    oracle.metrics = evaluate_oracle(oracle, held_out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial:  # a crash never leaves a half-written oracle behind
        state = {"hparams": dict(oracle.hparams), "state_dict": oracle.state_dict(), "metrics": oracle.metrics}
        torch.save(state, partial)
    return oracle
