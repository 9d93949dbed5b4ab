import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from animestyle.data.synthetic import (
    ATTRIBUTE_NAMES,
    CONTENT_FACTORS,
    STYLE_FACTORS,
    Categorical,
    Part,
    SyntheticPortraits,
    attributes,
    render_parts,
)


def test_item_layout() -> None:
    data = SyntheticPortraits(length=10, num_artists=4, size=32)
    item = data[3]
    assert item["x"].shape == (3, 32, 32)
    assert item["x"].dtype == torch.float32
    assert item["x"].min() >= -1.0
    assert item["x"].max() <= 1.0
    assert item["artist"].item() == item["true_artist"].item() == 3
    assert item["attrs"].shape == (len(ATTRIBUTE_NAMES),)
    assert item["content"].shape == (len(CONTENT_FACTORS),)
    assert item["style"].shape == (len(STYLE_FACTORS),)
    assert item["index"].item() == 3
    assert len(data) == 10
    assert data.num_classes == 4
    assert data.artist_names[1] == "artist_0001"


def test_same_seed_same_bytes_and_other_seed_other_images() -> None:
    first = SyntheticPortraits(length=8, num_artists=4, size=64, seed=7)
    again = SyntheticPortraits(length=8, num_artists=4, size=64, seed=7)
    other = SyntheticPortraits(length=8, num_artists=4, size=64, seed=8)
    for i in range(8):
        assert first.image(i).tobytes() == again.image(i).tobytes()
        assert torch.equal(first[i]["x"], again[i]["x"])
        assert first.image(i).tobytes() != other.image(i).tobytes()


def test_items_do_not_depend_on_workers_or_dataset_length() -> None:
    short = SyntheticPortraits(length=6, num_artists=3, size=32)
    long = SyntheticPortraits(length=600, num_artists=3, size=32)
    batch = next(iter(DataLoader(short, batch_size=6, num_workers=2)))
    for i in range(6):
        assert torch.equal(batch["x"][i], long[i]["x"])


def test_content_does_not_depend_on_the_artists() -> None:
    few = SyntheticPortraits(length=50, num_artists=4)
    many = SyntheticPortraits(length=50, num_artists=37)
    assert all(few.content(i) == many.content(i) for i in range(50))
    assert few.artist_styles[:4] == many.artist_styles[:4]
    assert few.artist(5) != many.artist(5)


def test_content_distribution_is_the_same_for_every_artist() -> None:
    """Chi-square test of independence between artist and each categorical content factor."""
    from scipy.stats import chi2_contingency

    data = SyntheticPortraits(length=2400, num_artists=4)
    contents = [data.content(i) for i in range(len(data))]
    artists = np.array([data.artist(i) for i in range(len(data))])
    for j, factor in enumerate(CONTENT_FACTORS):
        if not isinstance(factor, Categorical):
            continue
        values = np.array([c.to_vector()[j] for c in contents]).astype(int)
        table = np.zeros((4, len(factor.choices)))
        np.add.at(table, (artists, values), 1)
        assert chi2_contingency(table).pvalue > 1e-3, factor.name


def test_continuous_content_is_distributed_the_same_for_every_artist() -> None:
    """Two-sample Kolmogorov-Smirnov test, artist 0 against each other artist."""
    from scipy.stats import ks_2samp

    data = SyntheticPortraits(length=2400, num_artists=4)
    vectors = np.array([data.content(i).to_vector() for i in range(len(data))])
    artists = np.array([data.artist(i) for i in range(len(data))])
    for j, factor in enumerate(CONTENT_FACTORS):
        if isinstance(factor, Categorical):
            continue
        for a in range(1, 4):
            assert ks_2samp(vectors[artists == 0, j], vectors[artists == a, j]).pvalue > 1e-3, factor.name


def test_splits_share_artists_not_images() -> None:
    train = SyntheticPortraits(length=20, num_artists=4, split="train")
    val = SyntheticPortraits(length=20, num_artists=4, split="val")
    assert train.artist_styles == val.artist_styles
    assert all(train.content(i) != val.content(i) for i in range(20))


def test_attributes_agree_with_content_and_pixels() -> None:
    data = SyntheticPortraits(length=120, num_artists=6, size=64)
    for i in range(len(data)):
        item, content, style = data[i], data.content(i), data.style(i)
        assert torch.equal(item["attrs"], torch.from_numpy(attributes(content)))
        parts = render_parts(content, style, 64)
        on = dict(zip(ATTRIBUTE_NAMES, item["attrs"].tolist(), strict=True))
        assert on["glasses"] == float((parts == Part.GLASSES).any())
        assert on["blush"] == float((parts == Part.BLUSH).any())
        assert on[f"{content.hair_colour}_hair"] == 1.0
        assert sum(v for k, v in on.items() if k.endswith("_hair") and "long" not in k and "short" not in k) == 1.0


def test_open_mouth_and_long_hair_are_visible() -> None:
    """An open mouth is a filled shape, a closed one a line; long hair falls to the chest."""
    data = SyntheticPortraits(length=20, num_artists=4, size=128)
    for i in range(20):
        content, style = data.content(i), data.style(i)
        opened = render_parts(content.replace(mouth="open"), style, 128)
        closed = render_parts(content.replace(mouth="closed"), style, 128)
        assert (opened == Part.MOUTH).sum() > 2 * (closed == Part.MOUTH).sum()
        long = render_parts(content.replace(hair_length="long"), style, 128)
        short = render_parts(content.replace(hair_length="short"), style, 128)
        assert (long[-16:] == Part.HAIR).sum() > 50 > (short[-16:] == Part.HAIR).sum()


def test_true_transfer_is_the_content_drawn_by_the_target_artist() -> None:
    data = SyntheticPortraits(length=10, num_artists=5, size=64, jitter=0.0)
    assert torch.equal(data.transfer(2, data.artist(2)), data[2]["x"])
    assert not torch.equal(data.transfer(2, 4), data[2]["x"])
    with pytest.raises(ValueError, match=r"artist=5 must be in \[0, 5\)"):
        data.transfer(2, 5)


def test_true_edit_changes_only_the_attribute() -> None:
    data = SyntheticPortraits(length=10, num_artists=5, size=64)
    content = data.content(1)
    unchanged = data.edit(1, "blush", content.blush == "yes")
    assert torch.equal(unchanged, data[1]["x"])
    flipped = data.edit(1, "blush", content.blush != "yes")
    diff = (flipped - data[1]["x"]).abs().amax(0)
    assert 0 < (diff > 0.1).float().mean() < 0.05


def test_content_factor_as_the_label() -> None:
    data = SyntheticPortraits(length=30, num_artists=7, size=32, label_by="hair_colour")
    assert data.num_classes == 9
    assert data.class_names[0] == "black"
    for i in range(30):
        item = data[i]
        assert data.class_names[item["artist"].item()] == data.content(i).hair_colour
        assert item["true_artist"].item() == i % 7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 16}, "size=16 is not supported; use an integer from 32 to 256"),
        ({"size": 512}, "size=512 is not supported"),
        ({"length": -1}, "length=-1 must be an integer from 0 to"),
        ({"num_artists": 0}, "num_artists=0 must be an integer from 1 to"),
        ({"seed": -3}, "seed=-3 must be an integer from 0 to 4294967295"),
        ({"seed": 2**32}, "seed=4294967296 must be an integer from 0 to 4294967295"),
        ({"length": 2.5}, "length=2.5 must be an integer"),
        ({"split": "dev"}, r"split='dev' is not allowed; choose one of \['train', 'val', 'test'\]"),
        ({"label_by": "tilt"}, r"label_by='tilt' is not allowed; choose one of \['artist', 'hair_colour'"),
        ({"jitter": -0.1}, "jitter=-0.1 must be a number from 0 to 1"),
        ({"jitter": float("inf")}, "jitter=inf must be a number from 0 to 1"),
    ],
)
def test_bad_arguments_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SyntheticPortraits(**kwargs)


def test_indexing() -> None:
    data = SyntheticPortraits(length=3, num_artists=2, size=32)
    with pytest.raises(IndexError, match="index 3 is out of range for a dataset of length 3"):
        data[3]
    with pytest.raises(IndexError, match="index -4 is out of range"):
        data[-4]
    assert torch.equal(data[-1]["x"], data[2]["x"])
    assert torch.equal(data[np.int64(1)]["x"], data[1]["x"])
    with pytest.raises(TypeError):
        data[1.0]  # type: ignore[index]
    empty = SyntheticPortraits(length=0, num_artists=2, size=32)
    assert len(empty) == 0
    with pytest.raises(IndexError, match="length 0"):
        empty[0]


def test_numpy_integers_are_accepted() -> None:
    data = SyntheticPortraits(length=np.int64(4), num_artists=np.int32(2), size=np.int64(32), seed=np.uint8(1))
    assert len(data) == 4
    assert data[0]["x"].shape == (3, 32, 32)
