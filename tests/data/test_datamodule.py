import pytest
import torch

from animestyle.data import AnimeFacesDataModule, SyntheticSource


def test_names_and_counts_exist_right_after_init() -> None:
    dm = AnimeFacesDataModule(SyntheticSource(num_artists=5, train_size=40, val_size=8), image_size=32, batch_size=4)
    assert dm.num_artists == 5
    assert dm.artist_names == tuple(f"artist_{a:04d}" for a in range(5))
    assert "blush" in dm.attribute_names


def test_batches() -> None:
    dm = AnimeFacesDataModule(SyntheticSource(num_artists=5, train_size=40, val_size=10), image_size=32, batch_size=8)
    batch = next(iter(dm.train_dataloader()))
    assert batch["x"].shape == (8, 3, 32, 32)
    assert batch["artist"].shape == (8,)
    assert batch["attrs"].shape == (8, len(dm.attribute_names))
    assert len(dm.train_dataloader()) == 5
    val = list(dm.val_dataloader())
    assert [len(b["x"]) for b in val] == [8, 2]
    assert not torch.equal(val[0]["x"], batch["x"])


def test_a_content_factor_can_be_the_label() -> None:
    dm = AnimeFacesDataModule(SyntheticSource(num_artists=5, label_by="mouth", train_size=8, val_size=8), image_size=32)
    assert dm.num_artists == 3
    assert dm.artist_names == ("closed", "smile", "open")


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"batch_size": 0}, "batch_size=0"), ({"num_workers": -1}, "num_workers=-1")]
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AnimeFacesDataModule(**kwargs)
