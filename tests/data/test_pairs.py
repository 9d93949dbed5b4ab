"""Style pairs: a reference and a second image by one artist, for reference-guided transfer."""

from collections import Counter

import pytest
import torch

from animestyle.data import AnimeFacesDataModule, SyntheticSource
from animestyle.data.pairs import StylePairs


class _Labelled(torch.utils.data.Dataset):
    """Item i: x = i, by artist labels[i]."""

    def __init__(self, labels: list[int]):
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": torch.tensor(i), "artist": torch.tensor(self.labels[i])}


def test_references_are_two_different_images_by_the_drawn_artist_uniform_over_artists() -> None:
    labels = [0] * 30 + [1] * 3 + [2] * 2  # artist 0 is prolific
    pairs = StylePairs(_Labelled(labels), labels)
    torch.manual_seed(0)
    drawn = Counter()
    for i in range(900):
        item = pairs[i % len(labels)]
        artist, style, positive = int(item["style_artist"]), int(item["style_x"]), int(item["style_pos_x"])
        assert labels[style] == labels[positive] == artist
        assert style != positive
        assert item["x"] == i % len(labels)  # the content item is untouched
        drawn[artist] += 1
    assert all(250 < drawn[a] < 350 for a in range(3)), drawn  # uniform over artists, not images


def test_fixed_pairs_repeat_and_an_artist_with_one_image_pairs_it_with_itself() -> None:
    labels = [0, 1, 1, 2]
    fixed = StylePairs(_Labelled(labels), labels, seed=3)
    assert [fixed.pair(i) for i in range(4)] == [fixed.pair(i) for i in range(4)]
    lonely = StylePairs(_Labelled([0]), [0], seed=0)
    assert lonely.pair(0) == (0, 0, 0)


def test_datamodule_adds_style_references_as_floats_on_the_device() -> None:
    data = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=3, train_size=12, val_size=6), image_size=32, batch_size=4,
        style_pairs=True, attributes=[],
    )  # fmt: skip
    batch = data.on_after_batch_transfer(next(iter(data.train_dataloader())), 0)
    for key in ("x", "style_x", "style_pos_x"):
        assert batch[key].shape == (4, 3, 32, 32)
        assert batch[key].dtype == torch.float32
        assert -1 <= batch[key].min() <= batch[key].max() <= 1
    assert batch["style_artist"].shape == (4,)
    # validation pairs are fixed and by style_artist (a synthetic image's artist is its index mod 3)
    for i in range(6):
        artist, style, positive = data.val_set.pair(i)
        assert style % 3 == positive % 3 == artist
        item = data.val_set[i]
        assert int(item["style_artist"]) == artist
        assert torch.equal(item["style_x"], data.val_set.dataset[style]["x"])


def test_ddp_ranks_draw_their_own_references(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every DDP rank is seeded alike; the rank is mixed into the workers' and the pairs' seeds."""
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    from animestyle.data.augment import reseed_worker

    labels = [i % 4 for i in range(64)]

    def drawn(rank: int, workers: int) -> list[int]:
        monkeypatch.setattr(rank_zero_only, "rank", rank, raising=False)
        torch.manual_seed(0)
        loader = torch.utils.data.DataLoader(
            StylePairs(_Labelled(labels), labels), batch_size=64, num_workers=workers, worker_init_fn=reseed_worker
        )
        return next(iter(loader))["style_x"].tolist()

    for workers in (0, 1):
        assert drawn(0, workers) == drawn(0, workers)  # reproducible
        assert drawn(0, workers) != drawn(1, workers)
