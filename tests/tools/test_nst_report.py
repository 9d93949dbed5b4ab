"""``animestyle nst-report``: a reference-guided transfer model scored against the synthetic
ground truth, with tables, pictures and the numbers in JSON."""

import json
from pathlib import Path

import pytest
import torch

from animestyle.data import AnimeFacesDataModule, SyntheticSource
from animestyle.methods import EncoderDiscriminatorNST
from animestyle.tools import nst_report
from tests.helpers import cpu_trainer


def test_nst_report_writes_tables_pictures_and_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(0)
    model = EncoderDiscriminatorNST(3, 32, widths=(8, 16, 16, 32), style_dim=4, ema_decay=None)
    data = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=3, train_size=8, val_size=4), image_size=32, batch_size=4,
        attributes=[], style_pairs=True,
    )  # fmt: skip
    trainer = cpu_trainer(tmp_path, max_steps=3, limit_val_batches=0)
    trainer.fit(model, data)
    trainer.save_checkpoint(tmp_path / "nst.ckpt")
    result = nst_report(str(tmp_path / "nst.ckpt"), output=str(tmp_path / "report"), images=8, oracle=False)
    assert set(result["scores"]) == {"model", "untrained model", "content unchanged", "style image", "ground truth"}
    assert abs(result["scores"]["model"]["l1"] - result["scores"]["untrained model"]["l1"]) > 1e-5  # other weights
    assert sorted(Path(p).name for p in result["written"]) == ["report.json", "transfers.png", "truth.png"]
    assert json.loads((tmp_path / "report" / "report.json").read_text())["parameters"]["total"] > 0
    out = capsys.readouterr().out
    assert "| untrained model |" in out
    assert "| decoder |" in out
