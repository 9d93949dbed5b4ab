"""SyntheticTransferScores: what it logs after validation, for both ways a method transfers,
against scores computed here from the same portraits; its refusals. (The same under DDP:
tests/methods/test_ddp.py.)"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from PIL import Image
from torch import nn

from animestyle.callbacks import SyntheticTransferScores
from animestyle.data import AnimeFacesDataModule, SyntheticSource
from animestyle.methods import GADNStage1
from animestyle.metrics import TransferScores, load_oracle, style_references, target_artists

TINY = {"num_artists": 4, "image_size": 32, "widths": [8, 16, 32], "fc_width": 32, "content_dim": 8, "style_dim": 4}
ITEMS, STEPS = 10, 2  # portraits scored; oracle training steps


def data(colour_space: str = "rgb", **source: object) -> AnimeFacesDataModule:
    return AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=4, train_size=8, val_size=12, **source),  # type: ignore[arg-type]
        image_size=32,
        colour_space=colour_space,  # type: ignore[arg-type]
        batch_size=4,
        num_workers=0,
    )


def validate(module: L.LightningModule, datamodule: AnimeFacesDataModule) -> dict[str, float]:
    trainer = L.Trainer(
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[SyntheticTransferScores(num_items=ITEMS, batch_size=3, oracle_steps=STEPS)],
    )
    (logged,) = trainer.validate(module, datamodule=datamodule, verbose=False)
    return {k: float(v) for k, v in logged.items()}


class _Transfers(L.LightningModule):
    """Transfers by a rule the test knows: the input itself, or the reference image itself."""

    def __init__(self, by_reference: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))
        if by_reference:
            self.transfer_like = lambda x, reference: reference
        else:
            self.transfer_to_artists = lambda x, artist: x

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        pass


def expected(datamodule: AnimeFacesDataModule, by_reference: bool) -> dict[str, float]:
    datamodule.setup("validate")
    portraits = datamodule.synthetic_split("val")
    assert portraits is not None
    source = torch.tensor([portraits.artist(i) for i in range(ITEMS)])
    target = target_artists(source, 4, seed=0)
    shown = style_references(portraits, target, seed=0) if by_reference else torch.arange(ITEMS)
    fake = torch.stack([portraits[int(i)]["x"] for i in shown])
    true = torch.stack([portraits.transfer(i, int(target[i])) for i in range(ITEMS)])
    scores = {f"val/transfer_{k}": float(v) for k, v in TransferScores()(fake, true).items()}
    oracle = load_oracle(4, 32, 0, steps=STEPS)
    scores["val/target_accuracy"] = float((oracle.predict_artist(fake) == target).float().mean())
    return scores


@pytest.mark.parametrize("by_reference", [False, True], ids=["by artist", "by reference"])
def test_logged_scores_are_those_of_the_transfers_against_the_true_renders(by_reference: bool) -> None:
    logged = validate(_Transfers(by_reference), data())
    want = expected(data(), by_reference)
    assert {"val/transfer_l1", "val/transfer_psnr", "val/transfer_ssim", "val/content_accuracy"} <= logged.keys()
    for name, value in want.items():
        assert logged[name] == pytest.approx(value, abs=1e-5), name
    assert logged["val/transfer_l1"] > 0.05  # neither the input nor the reference is the true render


def test_a_gadn_model_is_scored_on_its_own_transfers_as_it_trains() -> None:
    """Validation in the middle of fit (the oracle trained there, once) and training on after it;
    the last validation follows the last batch, so it scores the final weights."""
    torch.manual_seed(0)
    model = GADNStage1(**TINY)
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=8,  # 4 iterations of 2 optimizer steps; validation after batches 2 and 4
        val_check_interval=2,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[SyntheticTransferScores(num_items=ITEMS, batch_size=3, oracle_steps=STEPS)],
    )
    trainer.fit(model, datamodule=data())
    assert model.iteration == 4
    logged = {k: float(v) for k, v in trainer.callback_metrics.items()}
    portraits = data().synthetic_split("val")
    assert portraits is not None
    source = torch.tensor([portraits.artist(i) for i in range(ITEMS)])
    target = target_artists(source, 4, seed=0)
    x = torch.stack([portraits[i]["x"] for i in range(ITEMS)])
    fake = model.transfer_to_artists(x, target)
    true = torch.stack([portraits.transfer(i, int(target[i])) for i in range(ITEMS)])
    for name, value in TransferScores()(fake, true).items():
        assert logged[f"val/transfer_{name}"] == pytest.approx(float(value), abs=1e-5), name


def test_it_refuses_data_without_ground_truth_and_methods_that_cannot_transfer(tmp_path: Path) -> None:
    for artist in ("a", "b"):
        (tmp_path / artist).mkdir()
        for k in range(3):
            Image.new("RGB", (32, 32), (40 * k, 0, 0)).save(tmp_path / artist / f"{k}.png")
    crops = AnimeFacesDataModule(folder=str(tmp_path), image_size=32, batch_size=2, num_workers=0)
    with pytest.raises(ValueError, match="not synthetic"):
        validate(_Transfers(by_reference=False), crops)

    class Plain(L.LightningModule):
        def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
            pass

    with pytest.raises(TypeError, match="transfer_to_artists or transfer_like"):
        validate(Plain(), data())
    with pytest.raises(ValueError, match="colour_space is 'lab'"):
        validate(_Transfers(by_reference=False), data(colour_space="lab"))
    with pytest.raises(ValueError, match="label_by"):
        validate(_Transfers(by_reference=False), data(label_by="hair_colour"))
