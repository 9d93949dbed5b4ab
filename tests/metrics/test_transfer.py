import pytest
import torch
from torch import nn

from animestyle.data.synthetic import SyntheticPortraits
from animestyle.losses import pixel_distance
from animestyle.methods import GADNStage1
from animestyle.metrics import SyntheticOracle, evaluate_transfers, target_artists

ITEMS, ARTISTS = 12, 4


@pytest.fixture(scope="module")
def portraits() -> SyntheticPortraits:
    return SyntheticPortraits(length=ITEMS, num_artists=ARTISTS, size=32, seed=3)


class _Recorder(nn.Module):
    """Remembers the mode and grad mode it last ran in."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))
        self.seen: list[tuple[bool, bool]] = []

    def note(self) -> None:
        self.seen.append((self.training, torch.is_grad_enabled()))


class _LookupEncoder(_Recorder):
    """Stand-in E: the code of an image is its item index (found by exact match)."""

    def __init__(self, portraits: SyntheticPortraits) -> None:
        super().__init__()
        self.table = torch.stack([portraits[i]["x"] for i in range(len(portraits))]).flatten(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.note()
        index = torch.cdist(x.flatten(1), self.table).argmin(1).float()[:, None]
        return index, torch.ones_like(index)


class _ArtistStyles(_Recorder):
    """Stand-in S: the style code of artist a is a itself."""

    def forward(self, artist: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.note()
        return artist.float()[:, None], torch.ones(len(artist), 1)


class _PerfectGenerator(_Recorder):
    """Stand-in G that returns the true transfer."""

    def __init__(self, portraits: SyntheticPortraits) -> None:
        super().__init__()
        self.portraits = portraits

    def forward(self, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        self.note()
        truth = [self.portraits.transfer(int(i), int(a)) for i, a in zip(c[:, 0], s[:, 0], strict=True)]
        return torch.stack(truth)


class _IdentityGenerator(_Recorder):
    """Stand-in G that returns the input image unchanged."""

    def __init__(self, portraits: SyntheticPortraits) -> None:
        super().__init__()
        self.portraits = portraits

    def forward(self, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.portraits[int(i)]["x"] for i in c[:, 0]])


class _NearestRenderOracle:
    """Stand-in oracle: the artist whose true rendering of some item is nearest the image."""

    def __init__(self, portraits: SyntheticPortraits) -> None:
        renders = [(portraits.transfer(i, a), a) for i in range(len(portraits)) for a in range(portraits.num_artists)]
        self.table = torch.stack([r for r, _ in renders]).flatten(1)
        self.artists = torch.tensor([a for _, a in renders])

    def predict_artist(self, x: torch.Tensor) -> torch.Tensor:
        return self.artists[torch.cdist(x.flatten(1), self.table).argmin(1)]


def test_a_perfect_generator_matches_the_truth(portraits: SyntheticPortraits) -> None:
    encoder, styles = _LookupEncoder(portraits).train(), _ArtistStyles().train()
    generator = _PerfectGenerator(portraits).train()
    result = evaluate_transfers(
        encoder, generator, styles, portraits, _NearestRenderOracle(portraits), num_items=ITEMS, batch_size=5
    )
    assert result["true_render_distance"] < 1e-3
    assert result["oracle_target_accuracy"] == 1.0
    assert result["oracle_truth_accuracy"] == 1.0
    assert result["oracle_source_accuracy"] == 0.0  # the target is never the source
    assert result["identity_distance"] > 0.1
    assert result["num_items"] == ITEMS
    for module in (encoder, styles, generator):
        assert module.training  # restored
        assert module.seen
        assert all(seen == (False, False) for seen in module.seen)


def test_returning_the_input_scores_the_identity_baseline(portraits: SyntheticPortraits) -> None:
    result = evaluate_transfers(
        _LookupEncoder(portraits),
        _IdentityGenerator(portraits),
        _ArtistStyles(),
        portraits,
        _NearestRenderOracle(portraits),
        num_items=8,
    )
    assert result["true_render_distance"] == pytest.approx(result["identity_distance"])
    assert result["oracle_target_accuracy"] == 0.0
    assert result["oracle_source_accuracy"] > 0.7


class _White(nn.Module):
    """Stand-in G whose images overshoot white: clamped, they are white."""

    def forward(self, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return torch.full((len(c), 3, 32, 32), 5.0)


def test_generated_images_are_clamped_to_the_image_range(portraits: SyntheticPortraits) -> None:
    result = evaluate_transfers(
        _LookupEncoder(portraits), _White(), _ArtistStyles(), portraits, _NearestRenderOracle(portraits), num_items=4
    )
    target = target_artists(torch.arange(4) % ARTISTS, ARTISTS, seed=0)
    truth = torch.stack([portraits.transfer(i, int(a)) for i, a in enumerate(target)])
    assert result["true_render_distance"] == pytest.approx(pixel_distance(torch.ones_like(truth), truth).item())


def test_target_artists_are_seeded_and_never_the_source() -> None:
    source = torch.arange(4000) % 5
    target = target_artists(source, 5, seed=1)
    assert (target != source).all()
    assert torch.equal(target, target_artists(source, 5, seed=1))
    assert not torch.equal(target, target_artists(source, 5, seed=2))
    counts = torch.bincount((target - source) % 5, minlength=5)
    assert counts[0] == 0
    assert (counts[1:] - 1000).abs().max() < 120
    with pytest.raises(ValueError, match="num_artists"):
        target_artists(source, 1)


def test_real_networks_and_oracle_run_and_keep_their_modes(portraits: SyntheticPortraits) -> None:
    torch.manual_seed(0)
    model = GADNStage1(ARTISTS, image_size=32, widths=[8, 8, 8], fc_width=16, content_dim=4, style_dim=4).train()
    oracle = SyntheticOracle(ARTISTS, image_size=32, width=4).train()
    result = evaluate_transfers(
        model.encoder, model.generator, model.style_bank, portraits, oracle, num_items=6, batch_size=4
    )
    assert model.encoder.training
    assert model.generator.training
    assert model.style_bank.training
    assert oracle.training
    for key in ("oracle_target_accuracy", "oracle_source_accuracy", "oracle_truth_accuracy"):
        assert 0.0 <= result[key] <= 1.0
    assert 0.0 < result["true_render_distance"] < 2 * 3**0.5  # the largest colour distance in [-1, 1]^3
    again = evaluate_transfers(
        model.encoder, model.generator, model.style_bank, portraits, oracle, num_items=6, batch_size=3
    )
    assert again == pytest.approx(result)  # deterministic, whatever the batch size


def test_refuses_content_labelled_data_and_too_many_items(portraits: SyntheticPortraits) -> None:
    stand_ins = (_LookupEncoder(portraits), _IdentityGenerator(portraits), _ArtistStyles())
    by_hair = SyntheticPortraits(length=ITEMS, num_artists=ARTISTS, size=32, seed=3, label_by="hair_colour")
    with pytest.raises(ValueError, match="label_by='artist'"):
        evaluate_transfers(*stand_ins, by_hair, _NearestRenderOracle(portraits))
    with pytest.raises(ValueError, match="num_items=13 exceeds the 12 portraits"):
        evaluate_transfers(*stand_ins, portraits, _NearestRenderOracle(portraits), num_items=13)
