"""Reference-guided transfers scored against the synthetic ground truth."""

import json
from pathlib import Path

import pytest
import torch

from animestyle.data.synthetic import SyntheticPortraits
from animestyle.metrics import evaluate_reference_transfers, nst_report, ssim, style_references, target_artists
from tests.helpers import cpu_trainer


class _AlwaysArtist:
    def __init__(self, artist: int):
        self.artist = artist

    def predict_artist(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((len(x),), self.artist)


@pytest.fixture(scope="module")
def portraits() -> SyntheticPortraits:
    return SyntheticPortraits(length=12, num_artists=3, size=32, seed=0, split="val")


def test_style_references_are_by_the_target_artists(portraits: SyntheticPortraits) -> None:
    targets = torch.tensor([0, 1, 2, 2, 1])
    references = style_references(portraits, targets, seed=1)
    assert [portraits.artist(int(j)) for j in references] == targets.tolist()
    assert torch.equal(references, style_references(portraits, targets, seed=1))
    with pytest.raises(ValueError, match="no image by artist"):
        style_references(SyntheticPortraits(length=2, num_artists=3, size=32), torch.tensor([2]))


def test_scores_of_the_truth_the_unchanged_content_and_an_oracle(portraits: SyntheticPortraits) -> None:
    n = 7
    result = evaluate_reference_transfers(
        {"content unchanged": lambda c, s: c, "style image": lambda c, s: s}, portraits, _AlwaysArtist(1), n,
        batch_size=3,
    )  # fmt: skip
    assert result["ground truth"]["l1"] == 0
    assert result["ground truth"]["ssim"] == pytest.approx(1, abs=1e-5)
    # computed here independently: the content image against the true transfer to its target artist
    source = torch.tensor([portraits.artist(i) for i in range(n)])
    target = target_artists(source, 3, seed=0)
    content = torch.stack([portraits[i]["x"] for i in range(n)])
    truth = torch.stack([portraits.transfer(i, int(target[i])) for i in range(n)])
    assert result["content unchanged"]["l1"] == pytest.approx((content - truth).abs().mean().item(), rel=1e-5)
    assert result["content unchanged"]["ssim"] == pytest.approx(ssim(content, truth).mean().item(), rel=1e-5)
    # an oracle that always says artist 1
    assert result["style image"]["oracle_target_accuracy"] == pytest.approx((target == 1).float().mean().item())
    assert result["content unchanged"]["oracle_source_accuracy"] == pytest.approx((source == 1).float().mean().item())
    without = evaluate_reference_transfers({"same": lambda c, s: c}, portraits, None, 2)
    assert "oracle_target_accuracy" not in without["same"]


def test_bad_requests_are_refused(portraits: SyntheticPortraits) -> None:
    with pytest.raises(ValueError, match="exceeds the 12 portraits"):
        evaluate_reference_transfers({}, portraits, None, 13)
    single = SyntheticPortraits(length=4, num_artists=1, size=32)
    with pytest.raises(ValueError, match=">= 2 artists"):
        evaluate_reference_transfers({}, single, None, 2)


def test_nst_report_writes_tables_pictures_and_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from animestyle.data import AnimeFacesDataModule, SyntheticSource
    from animestyle.methods import EncoderDiscriminatorNST

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
