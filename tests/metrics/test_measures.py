"""The torchmetrics measures: their values equal the per-image definitions, whatever the
batching; they refuse wrong shapes; FID and KID run over a domain network without a download.
(Their sums across processes: tests/methods/test_ddp.py.)"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from animestyle.data.synthetic import categorical_factors
from animestyle.metrics.image_quality import psnr, ssim
from animestyle.metrics.measures import (
    DomainFeatures,
    OracleScores,
    TransferScores,
    frechet_distance,
    kernel_distance,
)

FACTORS = categorical_factors()


def images(n: int, seed: int, size: int = 16) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_transfer_scores_are_the_mean_over_images_whatever_the_batches() -> None:
    fake, true = images(7, 0) * 1.2, images(7, 1)  # beyond [-1, 1]: scored as shown, clamped
    metric = TransferScores()
    for part in (slice(0, 3), slice(3, 4), slice(4, 7)):
        metric.update(fake[part], true[part])
    scores = metric.compute()
    shown = fake.clamp(-1, 1)
    assert float(scores["l1"]) == pytest.approx(float((shown - true).abs().mean()), rel=1e-6)
    assert float(scores["psnr"]) == pytest.approx(float(psnr(shown, true).mean()), rel=1e-6)
    assert float(scores["ssim"]) == pytest.approx(float(ssim(shown, true).mean()), rel=1e-5)


def test_transfer_scores_of_identical_images_are_perfect() -> None:
    x = images(4, 2)
    metric = TransferScores()
    metric.update(x, x)
    scores = metric.compute()
    assert float(scores["l1"]) == 0
    assert float(scores["psnr"]) == 100  # the cap of image_quality.psnr
    assert float(scores["ssim"]) == pytest.approx(1.0, abs=1e-6)


def test_transfer_scores_refuse_images_of_another_shape() -> None:
    with pytest.raises(ValueError, match=r"x_fake must be images of shape \(2, 3, 16, 16\)"):
        TransferScores().update(images(2, 0, size=8), images(2, 1))


class ReadsPlantedLabels(nn.Module):
    """An oracle stub: reads the artist and each factor from pixels planted in the image."""

    def __init__(self, num_artists: int):
        super().__init__()
        self.num_artists = num_artists

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {"artist": nn.functional.one_hot(x[:, 0, 0, 0].round().long(), self.num_artists).float()}
        for i, (_, factor) in enumerate(FACTORS):
            out[factor.name] = nn.functional.one_hot(x[:, 0, 0, i + 1].round().long(), len(factor.choices)).float()
        return out


def planted(artist: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Images (values up to 1 after the metric's clamp: labels 0 and 1 only) with the labels planted."""
    x = torch.zeros(len(artist), 3, 16, 16)
    x[:, 0, 0, 0] = artist.float()
    for i, (j, _) in enumerate(FACTORS):
        x[:, 0, 0, i + 1] = content[:, j]
    return x


def test_oracle_scores_count_what_the_oracle_reads() -> None:
    width = max(j for j, _ in FACTORS) + 1
    content = torch.zeros(4, width)
    read = torch.zeros(4, width)
    first = FACTORS[0][0]
    read[1, first] = 1  # image 1: the first factor read changed, the others kept
    artist_src = torch.tensor([0, 0, 1, 1])
    artist_trg = torch.tensor([1, 1, 0, 0])
    shown = torch.tensor([1, 0, 0, 1])  # read as the target twice, as the source twice
    metric = OracleScores(ReadsPlantedLabels(num_artists=2))
    metric.update(planted(shown[:3], read[:3]), artist_trg[:3], artist_src[:3], content[:3])
    metric.update(planted(shown[3:], read[3:]), artist_trg[3:], artist_src[3:], content[3:])
    scores = metric.compute()
    assert float(scores["target_accuracy"]) == 0.5
    assert float(scores["source_accuracy"]) == 0.5
    assert float(scores[f"content_{FACTORS[0][1].name}"]) == 0.75
    assert float(scores["content_accuracy"]) == pytest.approx(1 - 0.25 / len(FACTORS))


def test_oracle_scores_refuse_a_target_per_batch() -> None:
    metric = OracleScores(ReadsPlantedLabels(num_artists=2))
    with pytest.raises(ValueError, match=r"artist_trg must be \(3,\) artists"):
        metric.update(images(3, 0), torch.tensor(1), torch.zeros(3, dtype=torch.long), torch.zeros(3, 8))


def feature_network() -> DomainFeatures:
    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv2d(3, 8, 3, 2), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return DomainFeatures(network, num_features=8)


def test_domain_features_run_the_network_in_eval_mode_and_leave_its_mode() -> None:
    features = feature_network()
    features.train()
    x = images(4, 0)
    a, b = features((x + 1) / 2), features((x[:1] + 1) / 2)
    assert a.shape == (4, 8)
    torch.testing.assert_close(a[:1], b)  # eval-mode BatchNorm: an image's features ignore the batch
    assert features.network.training
    torch.testing.assert_close(a.norm(dim=1), torch.full((4,), 8**0.5))  # scaled to sqrt(num_features)


def test_fid_and_kid_over_a_domain_network_tell_close_sets_from_far_ones() -> None:
    real, same, other = images(64, 0), images(64, 1), images(64, 2) * 0.3 + 0.5
    distances = {}
    for name, fake in (("same", same), ("other", other)):
        fid, kid = frechet_distance(feature_network()), kernel_distance(feature_network(), subset_size=32)
        for metric in (fid, kid):
            metric.update((real + 1) / 2, real=True)
            metric.update((fake + 1) / 2, real=False)
        distances[name] = (float(fid.compute()), float(kid.compute()[0]))
    assert distances["same"][0] < distances["other"][0]
    assert distances["same"][1] < distances["other"][1]
    assert distances["other"][0] > 0
