"""A run resumed from its checkpoint continues exactly: every weight, the EMA copy, the
optimizer and scheduler states and the random streams carry over, so a run checkpointed after
N iterations and resumed to 2N ends where an uninterrupted run of 2N iterations ends.

How the test is set up, and why:

- The uninterrupted run saves a checkpoint after N iterations with ``ModelCheckpoint``, the
  way a user's run does before a crash; the resumed run starts from that file. (Not
  ``trainer.save_checkpoint`` after a ``fit`` that ended at ``max_steps``: Lightning 2.6
  resumes such a file with one extra batch, from a fresh iterator, before the next epoch.)
- Both runs draw sample grids (``SampleGrids``), as the example configs do: drawing must not
  move the random streams, or the resumed run (which fetches its fixed batch again) drifts.
- N is a whole epoch (``train_size = N * batch_size``). Lightning cannot resume a plain
  DataLoader mid-epoch: it starts a fresh iterator (a fresh shuffle), so batches differ.
- Validation is off (``limit_val_batches=0``): its sanity check at the start of each fit
  would draw random numbers in the resumed run only.
- Learning rates are large and the warm-up is longer than N, so a lost optimizer, scheduler
  or random state would move the weights far more than the 1e-6 tolerance.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from animestyle.callbacks import SampleGrids
from animestyle.data import AnimeFacesDataModule, SyntheticSource
from animestyle.methods import GADNClassifierPretrain, GADNStage1, GADNStage2

TINY = {"num_artists": 4, "image_size": 32, "widths": [8, 16, 32], "fc_width": 32, "content_dim": 8, "style_dim": 4}
BATCH = 8
N = 3  # iterations in one epoch; each iteration is 2 optimizer steps (trainer.max_steps counts those)


def data() -> AnimeFacesDataModule:
    source = SyntheticSource(num_artists=4, train_size=N * BATCH, val_size=BATCH)
    return AnimeFacesDataModule(synthetic=source, image_size=32, batch_size=BATCH, num_workers=0)


def trainer(root: Path, max_steps: int, **kwargs: object) -> L.Trainer:
    """A quiet deterministic CPU trainer without validation; ``max_steps`` optimizer steps."""
    options: dict[str, object] = {"logger": False, "enable_checkpointing": False, **kwargs}
    return L.Trainer(
        default_root_dir=root,
        accelerator="cpu",
        devices=1,
        max_steps=max_steps,
        limit_val_batches=0,
        deterministic=True,
        enable_progress_bar=False,
        enable_model_summary=False,
        **options,  # type: ignore[arg-type]
    )


def fit(make_model: Callable[[], L.LightningModule], root: Path, ckpt_path: Path | None = None) -> L.LightningModule:
    """Seed 0, a fresh model, fit to 2N iterations (from ``ckpt_path`` when given), saving a
    checkpoint every N iterations as ``root/step=<2N>.ckpt`` (global steps: 2 per iteration)."""
    L.seed_everything(0, verbose=False)
    model = make_model()
    saver = ModelCheckpoint(dirpath=root, filename="{step}", every_n_train_steps=2 * N, save_top_k=-1)
    run = trainer(
        root,
        max_steps=2 * 2 * N,
        callbacks=[saver, SampleGrids(every_n_iterations=2, num_images=2, num_artists=2)],
        enable_checkpointing=True,
    )
    run.fit(model, datamodule=data(), ckpt_path=ckpt_path)
    assert int(model.iteration) == 2 * N
    return model


def check_resume(make_model: Callable[[], L.LightningModule], tmp_path: Path) -> L.LightningModule:
    """Fit 2N straight (checkpoint at N), resume from N to 2N, compare every state entry."""
    straight = fit(make_model, tmp_path / "straight")
    checkpoint = tmp_path / "straight" / f"step={2 * N}.ckpt"
    assert checkpoint.is_file(), sorted(p.name for p in (tmp_path / "straight").iterdir())
    assert torch.load(checkpoint, weights_only=True)["state_dict"]["iteration"] == N  # loads without trusting pickles
    resumed = fit(make_model, tmp_path / "resumed", ckpt_path=checkpoint)
    a, b = resumed.state_dict(), straight.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        difference = (a[name].double() - b[name].double()).abs().max().item()
        assert difference <= 1e-6, f"{name}: the resumed run differs from the uninterrupted one by {difference:.3g}"
    # Not equal by accident: training moved the weights away from where it started.
    L.seed_everything(0, verbose=False)
    initial = make_model().state_dict()
    assert any(not torch.equal(initial[k], b[k]) for k in b if k.startswith("generator."))
    return straight


def test_stage1_resumes_exactly(tmp_path: Path) -> None:
    check_resume(lambda: GADNStage1(**TINY, nested_dropout=True, lr=1e-3, lr_style=1e-2, warmup=5), tmp_path)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A stage-1 and a C2-pretraining checkpoint, two iterations each."""
    root = tmp_path_factory.mktemp("inputs")
    L.seed_everything(1, verbose=False)
    paths = {}
    for key, model, steps in (
        ("stage1_checkpoint", GADNStage1(**TINY), 4),
        ("classifier_checkpoint", GADNClassifierPretrain(**TINY), 2),
    ):
        run = trainer(root, max_steps=steps)
        run.fit(model, datamodule=data())
        run.save_checkpoint(root / f"{key}.ckpt")
        paths[key] = str(root / f"{key}.ckpt")
    return paths


def test_stage2_resumes_exactly(tmp_path: Path, inputs: dict[str, str]) -> None:
    straight = check_resume(lambda: GADNStage2(**TINY, **inputs, ema_decay=0.5, lr=1e-3), tmp_path)
    assert isinstance(straight, GADNStage2)
    assert straight.generator_ema is not None  # its weights are in the state dict compared above
    assert any(
        not torch.equal(average, current)
        for average, current in zip(
            straight.generator_ema.network.parameters(), straight.generator.parameters(), strict=True
        )
    )


def test_stage2_resumes_after_its_input_checkpoints_are_gone(tmp_path: Path, inputs: dict[str, str]) -> None:
    copies = {key: shutil.copy(path, tmp_path / Path(path).name) for key, path in inputs.items()}

    def make() -> GADNStage2:
        return GADNStage2(**TINY, **{key: str(path) for key, path in copies.items()}, lr=1e-3)

    straight = fit(make, tmp_path / "straight")
    for path in copies.values():
        Path(path).unlink()
    resumed = fit(make, tmp_path / "resumed", ckpt_path=tmp_path / "straight" / f"step={2 * N}.ckpt")
    for name, value in straight.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value, rtol=0, atol=1e-6, msg=name)
