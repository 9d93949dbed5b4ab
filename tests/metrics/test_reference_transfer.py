"""Reference-guided transfers scored against the synthetic ground truth."""

import pytest
import torch

from animestyle.data.synthetic import SyntheticPortraits
from animestyle.metrics import evaluate_reference_transfers, ssim, style_references, target_artists


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
