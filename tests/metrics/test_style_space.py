import math
import sys
from pathlib import Path

import pytest
import torch
from scipy import stats

from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.data.synthetic import STYLE_FACTORS
from animestyle.methods import MetricStyleEncoder
from animestyle.metrics import (
    accuracy_by_dims,
    default_dims,
    encode_images,
    markdown_table,
    plot_curves,
    spearman_by_dimension,
    spearman_chance,
    spearman_matrix,
    suggest_dims,
    variance_ratio_by_dims,
)
from tests.metrics.conftest import TINY_ARTISTS, TINY_STYLE_DIM

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# --- variance_ratio_by_dims (Figure 1 right) ---------------------------------------------------


def _brute_force(codes: torch.Tensor, labels: torch.Tensor, k: int) -> tuple[float, float]:
    """V_intra and V_inter straight from their definitions, with double loops."""
    x = codes[:, :k].double()
    classes = labels.unique().tolist()
    intra = 0.0
    for c in classes:
        members = x[labels == c]
        mean = members.mean(0)
        intra += sum(float((m - mean).square().sum()) for m in members) / len(members)
    total, pairs = 0.0, 0
    for i in range(len(x)):
        for j in range(len(x)):
            if labels[i] != labels[j]:
                total += float((x[i] - x[j]).square().sum())
                pairs += 1
    return intra / len(classes), total / pairs


def test_variance_ratio_matches_the_definition_by_brute_force() -> None:
    generator = torch.Generator().manual_seed(0)
    codes = torch.randn(23, 5, generator=generator) * torch.tensor([3.0, 1.0, 0.5, 2.0, 0.1]) + 4
    labels = torch.tensor([7] * 3 + [2] * 11 + [5] * 8 + [9])  # unequal classes, one singleton, gaps
    dims = [1, 2, 3, 5]
    rows = variance_ratio_by_dims(codes, labels, dims)
    assert len(rows) == len(dims)
    for k, (intra, inter, ratio) in zip(dims, rows, strict=True):
        want_intra, want_inter = _brute_force(codes, labels, k)
        assert intra == pytest.approx(want_intra, rel=1e-10)
        assert inter == pytest.approx(want_inter, rel=1e-10)
        assert ratio == pytest.approx(want_intra / want_inter, rel=1e-10)


def test_variance_ratio_is_zero_for_perfectly_separated_artists() -> None:
    centres = torch.tensor([[0.0, 1.0, 2.0], [3.0, -1.0, 0.0], [1.0, 1.0, 5.0]])
    labels = torch.tensor([0, 1, 2, 2, 1, 0, 0, 1])
    rows = variance_ratio_by_dims(centres[labels], labels, [1, 3])
    for intra, inter, ratio in rows:
        assert intra == 0.0
        assert inter > 0
        assert ratio == 0.0
    # 2 classes, one point each at distance 2 in dim 0: every cross pair has squared distance 4
    (row,) = variance_ratio_by_dims(torch.tensor([[0.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1]), [2])
    assert row == (0.0, 4.0, 0.0)


def test_variance_ratio_of_identical_codes_is_nan_and_of_one_class_refused() -> None:
    ((intra, inter, ratio),) = variance_ratio_by_dims(torch.ones(6, 2), torch.tensor([0, 1, 2, 0, 1, 2]), [2])
    assert (intra, inter) == (0.0, 0.0)
    assert math.isnan(ratio)
    with pytest.raises(ValueError, match="at least two different classes"):
        variance_ratio_by_dims(torch.randn(5, 2), torch.zeros(5, dtype=torch.long), [1])
    with pytest.raises(ValueError, match="dims must be integers from 1 to the code width 2"):
        variance_ratio_by_dims(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]), [3])
    with pytest.raises(ValueError, match="integer class indices"):
        variance_ratio_by_dims(torch.randn(4, 2), torch.tensor([0.0, 1.0, 0.0, 1.0]), [1])


def test_variance_ratio_is_stable_far_from_the_origin() -> None:
    generator = torch.Generator().manual_seed(1)
    codes = torch.randn(40, 3, generator=generator, dtype=torch.float64)
    labels = torch.arange(40) % 4
    near = variance_ratio_by_dims(codes, labels, [3])[0]
    far = variance_ratio_by_dims(codes + 1e6, labels, [3])[0]
    assert far == pytest.approx(near, rel=1e-6)


# --- accuracy_by_dims (Figure 1 left) ---------------------------------------------------------


def _encoder(objective: str) -> MetricStyleEncoder:
    return MetricStyleEncoder(3, 32, objective=objective, widths=[8, 16, 32], style_dim=4)  # type: ignore[arg-type]


def test_metric_accuracy_is_one_for_codes_on_their_representatives() -> None:
    encoder = _encoder("metric")
    points = torch.tensor([[0.0, 0.0, 1.0, 0.0], [1.0, 5.0, 0.0, 0.0], [2.0, 0.0, 0.0, 3.0]])
    with torch.no_grad():
        encoder.representatives.copy_(points)
    labels = torch.tensor([0, 1, 2, 2, 1, 0])
    codes = points[labels] + 0.01 * torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    assert accuracy_by_dims(encoder, codes, labels, [1, 2, 4]) == [1.0, 1.0, 1.0]
    # the representatives' order is the class order: shifted labels are all wrong
    assert accuracy_by_dims(encoder, codes, (labels + 1) % 3, [4]) == [0.0]


def test_classifier_accuracy_known_values_by_dims() -> None:
    encoder = _encoder("classification")
    with torch.no_grad():
        encoder.head.weight.copy_(torch.eye(3, 4))
        encoder.head.bias.zero_()
    labels = torch.tensor([0, 1, 2] * 4)
    codes = 5 * torch.eye(3, 4)[labels]  # class c: 5 in dimension c only
    # k = 1: only class 0 is seen (the others give all-zero logits, argmax 0); k = 2: classes 0, 1
    got = accuracy_by_dims(encoder, codes, labels, [1, 2, 3, 4], chunk=5)
    assert got == pytest.approx([1 / 3, 2 / 3, 1.0, 1.0])


# --- Spearman --------------------------------------------------------------------------------


def test_spearman_matrix_matches_scipy_with_ties() -> None:
    generator = torch.Generator().manual_seed(0)
    codes = torch.randn(50, 3, generator=generator)
    codes[:, 1] = codes[:, 1].round()  # many ties
    factors = torch.stack([codes[:, 0] + 0.5 * torch.randn(50, generator=generator), torch.rand(50).round()], 1)
    rho = spearman_matrix(codes, factors)
    assert rho.shape == (3, 2)
    for d in range(3):
        for f in range(2):
            want = stats.spearmanr(codes[:, d].numpy(), factors[:, f].numpy()).statistic
            assert float(rho[d, f]) == pytest.approx(float(want), abs=1e-12)


def test_spearman_by_dimension_finds_the_factor_and_skips_categorical_ones() -> None:
    generator = torch.Generator().manual_seed(0)
    factors = torch.rand(64, 3, generator=generator)
    names = ["eye_size", "shading", "line_width"]  # shading is categorical
    codes = torch.stack([factors[:, 2].exp(), -(factors[:, 0] ** 3), factors[:, 1]], 1)
    rows = spearman_by_dimension(codes, factors, names)
    assert [(d, name) for d, name, _ in rows[:2]] == [(0, "line_width"), (1, "eye_size")]
    assert rows[0][2] == pytest.approx(1.0)
    assert rows[1][2] == pytest.approx(-1.0)  # signed
    assert rows[2][1] != "shading"
    assert abs(rows[2][2]) < 0.5
    with_categorical = spearman_by_dimension(codes, factors, names, skip_categorical=False)
    assert with_categorical[2][1:] == ("shading", pytest.approx(1.0))


def test_spearman_chance_is_high_for_a_code_that_only_separates_artists() -> None:
    """8 artists, each with one value of 6 factors plus jitter: a dimension that orders the
    artists by factor 0 reaches |rho| ~ 1, but so does a dimension that orders them at
    random, against some factor. The shuffled baseline says so: the artist-ordering dimension
    does not beat it, while one that follows factor 0 within each artist too does."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(8).repeat_interleave(50)
    per_artist = torch.rand(8, 6, generator=generator)
    factors = per_artist[labels] + 0.02 * torch.randn(400, 6, generator=generator)
    names = ["eye_size", "line_width", "contrast", "skin_tone", "eye_spacing", "hair_highlight"]
    random_order = torch.randperm(8, generator=generator).double()
    codes = torch.stack([random_order[labels], factors[:, 0] * 5 + torch.randn(400, generator=generator) * 0.01], 1)
    rows = spearman_by_dimension(codes, factors, names)
    chance = spearman_chance(codes, labels, factors, names, shuffles=100)
    assert len(chance) == 2
    assert abs(rows[0][2]) <= chance[0] + 0.05  # separating artists alone: at chance
    assert chance[0] > 0.6  # and chance is far from 0 with 8 artists
    assert rows[1][1] == "eye_size"  # follows the factor itself
    assert rows[1][2] > 0.99
    assert spearman_chance(codes, labels, factors, names, shuffles=100) == chance  # seeded
    with pytest.raises(ValueError, match="quantile"):
        spearman_chance(codes, labels, factors, names, quantile=1.0)
    with pytest.raises(ValueError, match="shuffles"):
        spearman_chance(codes, labels, factors, names, shuffles=0)


def test_spearman_of_a_constant_dimension_is_nan_and_bad_input_is_refused() -> None:
    codes = torch.stack([torch.zeros(10), torch.arange(10.0)], 1)
    rows = spearman_by_dimension(codes, torch.arange(10.0)[:, None], ["eye_size"])
    assert rows[0][:2] == (0, "eye_size")
    assert math.isnan(rows[0][2])
    assert rows[1] == (1, "eye_size", pytest.approx(1.0))
    with pytest.raises(ValueError, match="names must name each of the 1"):
        spearman_by_dimension(codes, torch.arange(10.0)[:, None], ["a", "b"])
    with pytest.raises(ValueError, match="no continuous factor"):
        spearman_by_dimension(codes, torch.arange(10.0)[:, None], ["shading"])
    with pytest.raises(ValueError, match="NaN or infinite"):
        spearman_matrix(torch.full((3, 1), math.nan), torch.zeros(3, 1))


# --- suggest_dims, default_dims ------------------------------------------------------------------


def test_suggest_dims_for_scores_and_errors() -> None:
    dims = [1, 2, 4, 8, 16, 32]
    accuracy = [0.3, 0.6, 0.85, 0.895, 0.9, 0.9]
    assert suggest_dims(accuracy, dims) == 8  # 0.895 >= 0.99 * 0.9 = 0.891
    assert suggest_dims(accuracy, dims, fraction=0.9) == 4
    assert suggest_dims(accuracy, dims, fraction=1.0) == 16
    # any order; the reference is the value with the most dims, not the best one
    assert suggest_dims([0.9, 0.3, 0.95], [32, 1, 16]) == 16
    errors = [0.5, 0.2, 0.102, 0.1005, 0.1, 0.101]
    assert suggest_dims(errors, dims, higher_is_better=False) == 8  # <= 1.01 * 0.1
    assert suggest_dims(errors, dims, fraction=0.95, higher_is_better=False) == 4
    assert suggest_dims([0.0, 0.0], [1, 2], higher_is_better=False) == 1


def test_suggest_dims_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="same length"):
        suggest_dims([0.1], [1, 2])
    with pytest.raises(ValueError, match="distinct"):
        suggest_dims([0.1, 0.2], [2, 2])
    with pytest.raises(ValueError, match="finite numbers >= 0"):
        suggest_dims([math.nan, 0.2], [1, 2])
    with pytest.raises(ValueError, match=r"fraction=0 must be in \(0, 1\]"):
        suggest_dims([0.1, 0.2], [1, 2], fraction=0)


def test_default_dims() -> None:
    assert default_dims(32) == [1, 2, 4, 8, 16, 32]
    assert default_dims(24) == [1, 2, 4, 8, 16, 24]
    assert default_dims(1) == [1]


# --- output ----------------------------------------------------------------------------------


def test_markdown_table() -> None:
    table = markdown_table(["k", "value"], [(1, 0.5), (2, 1e-6), (3, math.nan)])
    assert table.splitlines() == ["| k | value |", "|---|---|", "| 1 | 0.5000 |", "| 2 | 1.000e-06 |", "| 3 | nan |"]
    with pytest.raises(ValueError, match="a row has 1 cells but the header 2"):
        markdown_table(["k", "value"], [(1,)])


def test_plot_curves_writes_a_png(tmp_path: Path) -> None:
    import matplotlib.image

    path = plot_curves(
        {"metric": ([1, 2, 4], [0.2, 0.5, 0.9]), "classifier": ([1, 2, 4], [0.1, 0.6, 0.95])},
        "accuracy",
        tmp_path / "plots" / "accuracy.png",
        baselines={"chance": 0.125},
        title="Figure 1 left",
    )
    assert path == tmp_path / "plots" / "accuracy.png"
    assert path.read_bytes()[:8] == PNG_MAGIC
    image = matplotlib.image.imread(path)
    assert image.ndim == 3
    assert image.shape[0] > 100
    assert image.shape[1] > 100
    plot_curves({"vae": ([1, 8], [0.3, 0.1])}, "error", tmp_path / "linear.png", logx=False)
    assert (tmp_path / "linear.png").read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="has 2 dims but 1 values"):
        plot_curves({"bad": ([1, 2], [0.3])}, "error", tmp_path / "bad.png")


def test_plot_curves_without_matplotlib_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_curves({"a": ([1], [1.0])}, "y", tmp_path / "a.png")


# --- running checkpoints -------------------------------------------------------------------------


def _data(size: int = 20) -> AnimeFacesDataModule:
    source = SyntheticSource(num_artists=TINY_ARTISTS, train_size=8, val_size=size)
    return AnimeFacesDataModule(synthetic=source, image_size=32, batch_size=8)


def test_encode_images_reads_codes_labels_and_true_styles(tiny_metric: Path) -> None:
    encoder = MetricStyleEncoder.load_from_checkpoint(tiny_metric, map_location="cpu", weights_only=True)
    encoder.train()
    data = _data()
    codes, labels, factors = encode_images(encoder, data, "val", limit=13)
    assert encoder.training  # mode restored
    assert codes.shape == (13, TINY_STYLE_DIM)
    assert labels.tolist() == [i % TINY_ARTISTS for i in range(13)]
    assert factors is not None
    assert factors.shape == (13, len(STYLE_FACTORS))
    item = data.val_set[5]
    assert torch.equal(factors[5], item["style"])
    with torch.no_grad():
        x = data.on_after_batch_transfer({"x": item["x"][None]}, 0)["x"]
        assert torch.allclose(codes[5], encoder.eval().encode(x)[0], atol=1e-5)
    whole, _, _ = encode_images(encoder, data, "val", limit=None)
    assert whole.shape == (20, TINY_STYLE_DIM)
    with pytest.raises(ValueError, match="split='test' is not allowed"):
        encode_images(encoder, data, "test")
