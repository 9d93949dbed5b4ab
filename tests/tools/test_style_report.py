"""``animestyle style-report``: a style encoder's or a VAE's numbers by code dimensions, on
synthetic portraits or a folder of crops (the style-space paper's Figure 1)."""

from pathlib import Path

import pytest
import torch
from PIL import Image

from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.data.synthetic import Style
from animestyle.methods import MetricStyleEncoder, StyleConditionedVAE
from animestyle.methods.base import CheckpointError
from animestyle.metrics import (
    accuracy_by_dims,
    encode_images,
    reconstruction_by_dims,
    suggest_dims,
    variance_ratio_by_dims,
)
from animestyle.tools import style_report
from tests.fixtures import TINY_ARTISTS, TINY_STYLE_DIM

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_style_report_of_a_metric_encoder(tiny_metric: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    result = style_report(str(tiny_metric), output=str(tmp_path / "plots"), images=48)
    printed = capsys.readouterr().out
    dims = [1, 2, 4, 8]
    assert result["method"] == "MetricStyleEncoder"
    assert result["objective"] == "metric"
    assert result["dims"] == dims
    assert result["images"] == 48
    assert result["chance_accuracy"] == 1 / TINY_ARTISTS
    assert all(0 <= a <= 1 for a in result["accuracy"])
    for intra, inter, ratio in zip(result["v_intra"], result["v_inter"], result["ratio"], strict=True):
        assert ratio == pytest.approx(intra / inter)
    assert result["v_intra"] == sorted(result["v_intra"])  # sums over more and more dimensions
    assert result["suggested_dims"] == suggest_dims(result["accuracy"], dims)
    assert [row["dim"] for row in result["spearman"]] == list(range(TINY_STYLE_DIM))
    assert all(row["factor"] in Style.names() and abs(row["rho"]) <= 1 for row in result["spearman"])
    assert all(0 <= row["chance"] <= 1 for row in result["spearman"])
    assert {Path(p).name for p in result["plots"]} == {"accuracy.png", "ratio.png"}
    assert all(Path(p).read_bytes()[:8] == PNG_MAGIC for p in result["plots"])
    assert "| k | accuracy | V_intra | V_inter | V_intra / V_inter |" in printed
    assert f"Suggested style dims: {result['suggested_dims']}" in printed
    assert "| dim | factor | rho |" in printed

    # the same numbers from the parts, on the same images
    encoder = MetricStyleEncoder.load_from_checkpoint(tiny_metric, map_location="cpu", weights_only=True)
    source = SyntheticSource(num_artists=TINY_ARTISTS, train_size=1, val_size=48)
    codes, labels, _ = encode_images(encoder, AnimeFacesDataModule(synthetic=source, image_size=32), "val", 48)
    assert accuracy_by_dims(encoder, codes, labels, dims) == result["accuracy"]
    assert [r[2] for r in variance_ratio_by_dims(codes, labels, dims)] == pytest.approx(result["ratio"])

    # chosen dims, no plots
    again = style_report(str(tiny_metric), images=16, dims=[8, 2])
    assert again["dims"] == [8, 2]
    assert again["plots"] == []


def test_style_report_of_a_vae(tiny_vae: Path, capsys: pytest.CaptureFixture) -> None:
    result = style_report(str(tiny_vae), images=16, dims=[1, 4, 8])
    printed = capsys.readouterr().out
    assert result["method"] == "StyleConditionedVAE"
    assert result["images"] == 16
    assert len(result["reconstruction_error"]) == 3
    assert all(e > 0 for e in result["reconstruction_error"])
    assert result["suggested_dims"] == suggest_dims(result["reconstruction_error"], [1, 4, 8], higher_is_better=False)
    assert f"Suggested content dims: {result['suggested_dims']}" in printed
    vae = StyleConditionedVAE.load_from_checkpoint(tiny_vae, map_location="cpu", weights_only=True)
    source = SyntheticSource(num_artists=TINY_ARTISTS, train_size=1, val_size=16)
    data = AnimeFacesDataModule(synthetic=source, image_size=32, batch_size=5)  # batches of unequal size
    errors = reconstruction_by_dims(vae, data, [1, 4, 8])
    assert errors == pytest.approx(result["reconstruction_error"], rel=1e-5)


def test_style_report_refuses_bad_input(tiny_metric: Path, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"checkpoint=.*does not exist"):
        style_report(str(tmp_path / "missing.ckpt"))
    with pytest.raises(ValueError, match="images=0 must be an integer >= 1"):
        style_report(str(tiny_metric), images=0)
    with pytest.raises(ValueError, match="dims must be integers from 1 to the code width 8; got 9"):
        style_report(str(tiny_metric), dims=[1, 9])
    with pytest.raises(ValueError, match="dims is empty"):
        style_report(str(tiny_metric), dims=[])
    with pytest.raises(ValueError, match="give one data source"):
        style_report(str(tiny_metric), manifest="a.csv", folder="b")


def _folder(root: Path, artists: int) -> Path:
    generator = torch.Generator().manual_seed(0)
    for a in range(artists):
        (root / f"artist{a}").mkdir(parents=True)
        for i in range(6):
            pixels = (torch.rand(40, 40, 3, generator=generator) * 255).to(torch.uint8).numpy()
            Image.fromarray(pixels).save(root / f"artist{a}" / f"{i}.png")
    return root


def test_style_report_on_a_folder_of_crops(tiny_metric: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    result = style_report(str(tiny_metric), folder=str(_folder(tmp_path / "crops", TINY_ARTISTS)), dims=[2, 8])
    assert result["images"] == 5 * TINY_ARTISTS  # each artist's held-out crops
    assert result["spearman"] is None  # no true style factors on real data
    assert len(result["accuracy"]) == 2
    assert "Spearman" not in capsys.readouterr().out
    with pytest.raises(ValueError, match="folder holds 3 artists but the checkpoint was trained on 4"):
        style_report(str(tiny_metric), folder=str(_folder(tmp_path / "three", 3)))
