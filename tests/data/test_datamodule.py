from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from animestyle.data import AnimeFacesDataModule, SyntheticSource


def test_names_and_counts_exist_right_after_init() -> None:
    dm = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=5, train_size=40, val_size=8), image_size=32, batch_size=4
    )
    assert dm.num_artists == 5
    assert dm.artist_names == tuple(f"artist_{a:04d}" for a in range(5))
    assert "blush" in dm.attribute_names


def test_batches() -> None:
    dm = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=5, train_size=40, val_size=10), image_size=32, batch_size=8
    )
    raw = next(iter(dm.train_dataloader()))
    assert raw["x"].shape == (8, 4, 32, 32)
    assert raw["x"].dtype == torch.uint8
    batch = dm.on_after_batch_transfer(raw, 0)
    assert batch["x"].shape == (8, 3, 32, 32)
    assert batch["artist"].shape == (8,)
    assert batch["attrs"].shape == (8, len(dm.attribute_names))
    assert len(dm.train_dataloader()) == 5
    val = list(dm.val_dataloader())
    assert [len(b["x"]) for b in val] == [8, 2]
    assert not torch.equal(val[0]["x"], raw["x"])
    assert torch.equal(batch["x"][0], dm.train_set.dataset[batch["index"][0].item()]["x"])  # type: ignore[attr-defined]


def test_a_content_factor_can_be_the_label() -> None:
    dm = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=5, label_by="mouth", train_size=8, val_size=8), image_size=32
    )
    assert dm.num_artists == 3
    assert dm.artist_names == ("closed", "smile", "open")


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"batch_size": 0}, "batch_size=0"), ({"num_workers": -1}, "num_workers=-1")]
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AnimeFacesDataModule(**kwargs)


# --- crops on disk ------------------------------------------------------------------------


def _crops(root: Path, counts: dict[str, int], size: int = 48) -> Path:
    """Random RGBA crops for each artist (a transparent left strip in each) and a manifest:
    the last two crops of every artist are val."""
    rng = np.random.default_rng(0)
    rows = ["path,artist,tags,split"]
    for artist, count in counts.items():
        for k in range(count):
            pixels = rng.integers(0, 256, (size, size, 4), dtype=np.uint8)
            pixels[..., 3] = 255
            pixels[:, :8, 3] = 0
            path = root / "crops" / artist / f"{k}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(path)  # (H, W, 4) uint8 is RGBA
            tags = "smile blush" if k % 2 else "smile"
            rows.append(f"crops/{artist}/{k}.png,{artist},{tags},{'val' if k >= count - 2 else 'train'}")
    manifest = root / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def test_manifest_batches(tmp_path: Path) -> None:
    manifest = _crops(tmp_path, {"bob": 6, "alice": 5})
    dm = AnimeFacesDataModule(
        manifest=str(manifest), image_size=32, batch_size=4, attributes=["blush", "smile", "wings"]
    )
    assert dm.num_artists == 2
    assert dm.artist_names == ("alice", "bob")  # sorted: ids do not depend on row order
    assert dm.attribute_names == ("blush", "smile", "wings")
    batch = dm.on_after_batch_transfer(next(iter(dm.train_dataloader())), 0)
    assert batch["x"].shape == (4, 3, 32, 32)
    assert batch["x"].dtype == torch.float32
    assert batch["x"].min() >= -1
    assert batch["x"].max() <= 1
    assert batch["artist"].dtype == torch.int64
    assert batch["attrs"].shape == (4, 3)
    assert (batch["attrs"][:, 1] == 1).all()  # every crop smiles
    assert (batch["attrs"][:, 2] == 0).all()  # none has wings
    assert (batch["x"][:, :, :, :4] == 0).all()  # transparent strip: colour zeroed
    assert sum(len(b["x"]) for b in dm.val_dataloader()) == 4


def test_artist_ids_match_names(tmp_path: Path) -> None:
    manifest = _crops(tmp_path, {"zed": 4, "amy": 4, "kim": 4})
    dm = AnimeFacesDataModule(manifest=str(manifest), image_size=32, batch_size=2)
    train = dm.train_set
    for i in range(len(train)):
        artist = dm.artist_names[train[i]["artist"].item()]
        assert f"crops/{artist}/" in train.paths[i].as_posix()  # type: ignore[attr-defined]


def test_rgba_keeps_alpha_as_a_fourth_channel(tmp_path: Path) -> None:
    manifest = _crops(tmp_path, {"a": 4})
    dm = AnimeFacesDataModule(manifest=str(manifest), image_size=48, channels="rgba", batch_size=2)
    x = dm.on_after_batch_transfer(next(iter(dm.train_dataloader())), 0)["x"]
    assert x.shape == (2, 4, 48, 48)
    assert (x[:, 3, :, :8] == 0).all()
    assert (x[:, 3, :, 8:] == 1).all()
    synthetic = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=2, train_size=4, val_size=2), channels="rgba"
    )
    batch = synthetic.on_after_batch_transfer(next(iter(synthetic.train_dataloader())), 0)
    assert (batch["x"][:, 3] == 1).all()


def test_a_folder_per_artist(tmp_path: Path) -> None:
    _crops(tmp_path, {"a": 8, "b": 10})
    dm = AnimeFacesDataModule(folder=str(tmp_path / "crops"), image_size=32, min_val=2, val_fraction=0.25)
    assert dm.artist_names == ("a", "b")
    assert (len(dm.train_set), len(dm.val_set)) == (6 + 7, 2 + 3)  # type: ignore[arg-type]


def test_lab_batches_round_trip_to_rgb(tmp_path: Path) -> None:
    manifest = _crops(tmp_path, {"a": 6})
    rgb = AnimeFacesDataModule(manifest=str(manifest), image_size=32, batch_size=4)
    lab = AnimeFacesDataModule(manifest=str(manifest), image_size=32, batch_size=4, colour_space="lab")
    raw = next(iter(rgb.val_dataloader()))
    as_rgb = rgb.on_after_batch_transfer(raw, 0)["x"]
    as_lab = lab.on_after_batch_transfer(raw, 0)["x"]
    assert not torch.allclose(as_lab, as_rgb)
    opaque = raw["x"][:, 3:] == 255
    assert ((lab.to_display(as_lab) - as_rgb).abs() * opaque).max() < 1e-3
    assert (as_lab * ~opaque == 0).all()  # transparent pixels are zero in Lab too


def test_balanced_sampling_draws_every_artist_about_equally(tmp_path: Path) -> None:
    manifest = _crops(tmp_path, {"few": 6, "many": 42}, size=8)
    balanced = AnimeFacesDataModule(manifest=str(manifest), image_size=32, batch_size=1, balanced=True)
    torch.manual_seed(0)
    counts = Counter(b["artist"].item() for _ in range(20) for b in balanced.train_dataloader())
    share = counts[0] / sum(counts.values())
    assert share == pytest.approx(0.5, abs=0.05)  # without balancing: 4 / 44 = 0.09
    plain = AnimeFacesDataModule(manifest=str(manifest), image_size=32, batch_size=1)
    assert Counter(b["artist"].item() for b in plain.train_dataloader())[0] == 4


def test_bad_manifest_rows_are_named(tmp_path: Path) -> None:
    manifest = _crops(tmp_path, {"a": 3})
    good = manifest.read_text()
    manifest.write_text(good + "crops/a/missing.png,a,,train\n")
    with pytest.raises(ValueError, match=r"manifest.csv, row 5: the crop '.*missing.png' does not exist"):
        AnimeFacesDataModule(manifest=str(manifest))
    manifest.write_text(good + "crops/a/0.png,a,,holdout\n")
    with pytest.raises(ValueError, match=r"row 5: split='holdout' is not one of \['train', 'val', 'test'\]"):
        AnimeFacesDataModule(manifest=str(manifest))
    with pytest.raises(ValueError, match="does not exist; make one with `animestyle prepare`"):
        AnimeFacesDataModule(manifest=str(tmp_path / "nope.csv"))


def test_the_test_split_is_held_out_and_a_manifest_without_one_says_how_to_add_it(tmp_path: Path) -> None:
    from animestyle.data.datamodule import MissingSplitError

    source = SyntheticSource(num_artists=2, train_size=4, val_size=4)
    dm = AnimeFacesDataModule(synthetic=source, image_size=32, batch_size=4)
    val, test = next(iter(dm.val_dataloader()))["x"], next(iter(dm.test_dataloader()))["x"]
    assert test.shape == val.shape  # test_size: as many as val_size
    assert not any(torch.equal(a, b) for a in test for b in val)  # a stream of its own
    sized = AnimeFacesDataModule(synthetic=SyntheticSource(num_artists=2, test_size=3), image_size=32)
    assert len(sized.test_dataloader().dataset) == 3  # type: ignore[arg-type]

    manifest = _crops(tmp_path, {"a": 4})
    with pytest.raises(MissingSplitError, match=r"has no rows with split 'test' \(prepare writes train and val"):
        AnimeFacesDataModule(manifest=str(manifest)).test_dataloader()
    manifest.write_text(manifest.read_text() + "crops/a/0.png,a,,test\n")
    assert len(AnimeFacesDataModule(manifest=str(manifest)).test_dataloader().dataset) == 1  # type: ignore[arg-type]


def test_one_source_at_a_time(tmp_path: Path) -> None:
    manifest = _crops(tmp_path, {"a": 3})
    with pytest.raises(ValueError, match="give one data source, not manifest and synthetic"):
        AnimeFacesDataModule(manifest=str(manifest), synthetic=SyntheticSource())
    with pytest.raises(ValueError, match=r"attributes \['wings'\] are not synthetic attributes"):
        AnimeFacesDataModule(synthetic=SyntheticSource(train_size=4, val_size=4), attributes=["blush", "wings"])
    dm = AnimeFacesDataModule(synthetic=SyntheticSource(train_size=4, val_size=4), attributes=["glasses", "blush"])
    assert dm.train_set[0]["attrs"].shape == (2,)
