import math

import pytest
import torch
from torch import nn

from animestyle.data.synthetic import CONTENT_FACTORS, Categorical, SyntheticPortraits
from animestyle.metrics import (
    class_centre_distance,
    encode_dataset,
    encoder_report,
    format_tables,
    label_classes,
    linear_probe,
    naive_bayes_probe,
)

# --- class_centre_distance (Table 4) ------------------------------------------------------


def test_codes_on_their_class_centres_are_at_distance_zero() -> None:
    centres = torch.tensor([[0.0, 1.0], [5.0, -2.0], [3.0, 3.0]])
    labels = torch.tensor([0, 1, 2, 2, 1, 0, 0])
    assert class_centre_distance(centres[labels], labels) == 0.0


def test_distance_known_value() -> None:
    # class 0: (0, 0) and (2, 0), centre (1, 0), both at 1; class 1: (0, 3) and (0, -3) at 3
    codes = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0], [0.0, -3.0]])
    assert class_centre_distance(codes, torch.tensor([0, 0, 1, 1])) == pytest.approx(2.0)
    # whole dataset: centre (0.5, 0); distances 0.5, 1.5, sqrt(9.25) twice
    whole = (0.5 + 1.5 + 2 * math.sqrt(9.25)) / 4
    assert class_centre_distance(codes, torch.zeros(4, dtype=torch.long)) == pytest.approx(whole)


def test_distance_is_a_mean_over_samples_and_ignores_label_names() -> None:
    codes = torch.randn(50, 4)
    labels = torch.randint(0, 3, (50,))
    assert class_centre_distance(codes, labels) == pytest.approx(class_centre_distance(codes, labels + 7))


def test_distance_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match=r"codes must be \(N, D\)"):
        class_centre_distance(torch.zeros(4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"labels must be \(3,\)"):
        class_centre_distance(torch.zeros(3, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="integer class indices"):
        class_centre_distance(torch.zeros(3, 2), torch.zeros(3))
    with pytest.raises(ValueError, match=">= 0"):
        class_centre_distance(torch.zeros(3, 2), torch.tensor([0, -1, 0]))


# --- naive_bayes_probe (Tables 5-7) ---------------------------------------------------------


def _gaussian_classes(n: int, centres: torch.Tensor, spread: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % centres.shape[0]
    return centres[labels] + spread * torch.randn(n, centres.shape[1], generator=generator), labels


def test_separable_classes_are_found_with_certainty() -> None:
    centres = 10.0 * torch.eye(4)
    train = _gaussian_classes(400, centres, 0.3, seed=0)
    test = _gaussian_classes(200, centres, 0.3, seed=1)
    result = naive_bayes_probe(*train, *test, num_classes=4)
    assert result["top1"] == 1.0
    assert result["avg_rank"] == 1.0
    assert result["avg_probability"] == pytest.approx(1.0, abs=1e-6)


def test_codes_independent_of_labels_score_near_chance() -> None:
    generator = torch.Generator().manual_seed(0)
    k = 5
    train_codes, test_codes = torch.randn(4000, 3, generator=generator), torch.randn(2000, 3, generator=generator)
    train_labels = torch.randint(0, k, (4000,), generator=generator)
    test_labels = torch.randint(0, k, (2000,), generator=generator)
    result = naive_bayes_probe(train_codes, train_labels, test_codes, test_labels, num_classes=k)
    assert result["top1"] == pytest.approx(1 / k, abs=0.04)
    assert result["avg_probability"] == pytest.approx(1 / k, abs=0.01)
    assert result["avg_rank"] == pytest.approx((k + 1) / 2, abs=0.12)


def test_known_posterior_of_two_one_dimensional_classes() -> None:
    # class 0: codes -1, 1 (mean 0, var 1); class 1: codes 3, 5 (mean 4, var 1); equal priors.
    train = torch.tensor([[-1.0], [1.0], [3.0], [5.0]])
    labels = torch.tensor([0, 0, 1, 1])
    test = torch.tensor([[1.0], [2.0]])
    result = naive_bayes_probe(train, labels, test, torch.tensor([0, 1]), num_classes=2)
    # at z = 1 the log-likelihoods are -0.5 and -4.5: P(0) = 1 / (1 + e^-4); at z = 2 a tie
    p0 = 1 / (1 + math.exp(-4))
    assert result["avg_probability"] == pytest.approx((p0 + 0.5) / 2)
    assert result["avg_rank"] == pytest.approx((1 + 1.5) / 2)  # the tie counts half
    assert result["top1"] == pytest.approx((1 + 0.5) / 2)  # and so does the tie for first place


def test_a_uniform_prior_alone_scores_exactly_chance() -> None:
    labels = torch.tensor([0, 1, 2, 3, 0, 0, 2])
    train_labels = torch.arange(8) % 4
    result = naive_bayes_probe(torch.zeros(8, 0), train_labels, torch.zeros(7, 0), labels, num_classes=4)
    assert result == pytest.approx({"avg_probability": 0.25, "avg_rank": 2.5, "top1": 0.25})


def test_empirical_prior_and_the_prior_only_baseline() -> None:
    # 3 of 4 training codes are class 1: with no dimension, every answer is the prior.
    labels = torch.tensor([1, 1, 1, 0])
    result = naive_bayes_probe(torch.zeros(4, 0), labels, torch.zeros(2, 0), torch.tensor([1, 0]), num_classes=3)
    assert result["avg_probability"] == pytest.approx((0.75 + 0.25) / 2)
    assert result["top1"] == pytest.approx(0.5)
    assert result["avg_rank"] == pytest.approx((1 + 2) / 2)  # class 2 (never seen) gets probability 0


def test_a_class_never_seen_in_training_ranks_last() -> None:
    train = torch.tensor([[0.0], [0.1], [5.0], [5.1]])
    result = naive_bayes_probe(train, torch.tensor([0, 0, 1, 1]), torch.tensor([[9.0]]), torch.tensor([2]), 3)
    assert result["avg_probability"] == 0.0
    assert result["avg_rank"] == 3.0
    assert result["top1"] == 0.0


def test_variance_floor_keeps_single_sample_and_constant_dimensions_finite() -> None:
    train = torch.tensor([[0.0, 1.0], [3.0, 1.0], [3.0, 1.0]])  # class 0 has one sample; dim 1 is constant
    result = naive_bayes_probe(train, torch.tensor([0, 1, 1]), train, torch.tensor([0, 1, 1]), num_classes=2)
    assert all(math.isfinite(v) for v in result.values())
    assert result["top1"] == 1.0


def test_probe_refuses_bad_input() -> None:
    codes, labels = torch.zeros(4, 2), torch.tensor([0, 1, 0, 1])
    with pytest.raises(ValueError, match="num_classes=2"):
        naive_bayes_probe(codes, labels + 1, codes, labels, num_classes=2)
    with pytest.raises(ValueError, match="dimensions"):
        naive_bayes_probe(codes, labels, torch.zeros(4, 3), labels, num_classes=2)
    with pytest.raises(ValueError, match="num_classes"):
        naive_bayes_probe(codes, labels, codes, labels, num_classes=0)


# --- linear_probe ---------------------------------------------------------------------------


def test_linear_probe_reads_separable_classes() -> None:
    centres = 10.0 * torch.eye(4)
    train = _gaussian_classes(400, centres, 0.3, seed=0)
    test = _gaussian_classes(200, centres, 0.3, seed=1)
    result = linear_probe(*train, *test, num_classes=4)
    assert result["accuracy"] == 1.0
    assert result["train_accuracy"] == 1.0
    assert result["chance"] == 0.25  # balanced classes: the first class, a quarter of the test codes


def test_linear_probe_on_codes_independent_of_labels_scores_near_chance() -> None:
    generator = torch.Generator().manual_seed(0)
    k = 5
    train_codes, test_codes = torch.randn(3000, 16, generator=generator), torch.randn(2000, 16, generator=generator)
    train_labels = torch.randint(0, k, (3000,), generator=generator)
    test_labels = torch.randint(0, k, (2000,), generator=generator)
    result = linear_probe(train_codes, train_labels, test_codes, test_labels, num_classes=k)
    assert result["accuracy"] == pytest.approx(1 / k, abs=0.04)
    assert result["chance"] == pytest.approx(1 / k, abs=0.04)
    assert result["train_accuracy"] > result["accuracy"]  # what it fits is noise


def _one_informative_dimension(n: int, seed: int, width: int, spread: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Four ordered classes carried by dimension 5 alone, ``spread`` apart; the other
    dimensions are standard normal noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 4, (n,), generator=generator)
    codes = torch.randn(n, width, generator=generator)
    codes[:, 5] = spread * labels + 0.3 * torch.randn(n, generator=generator)
    return codes, labels


def test_linear_probe_finds_a_label_carried_by_one_dimension_of_many() -> None:
    train_codes, train_labels = _one_informative_dimension(2000, 0, width=128, spread=3.0)
    test_codes, test_labels = _one_informative_dimension(1000, 1, width=128, spread=3.0)
    assert linear_probe(train_codes, train_labels, test_codes, test_labels, num_classes=4)["accuracy"] > 0.95
    keep = [i for i in range(128) if i != 5]  # without it, nothing is left to find
    blind = linear_probe(train_codes[:, keep], train_labels, test_codes[:, keep], test_labels, num_classes=4)
    assert blind["accuracy"] < 0.35


def test_linear_probe_does_not_depend_on_the_scale_of_a_dimension() -> None:
    # The informative dimension shrunk 1000-fold, a noise dimension blown up 1000-fold: on raw
    # codes the weight decay would all but silence the first.
    train_codes, train_labels = _one_informative_dimension(600, 0, width=16, spread=0.4)
    test_codes, test_labels = _one_informative_dimension(400, 1, width=16, spread=0.4)
    scale = torch.ones(16)
    scale[5], scale[9] = 1e-3, 1e3
    plain = linear_probe(train_codes, train_labels, test_codes, test_labels, num_classes=4, weight_decay=0.01)
    scaled = linear_probe(
        train_codes * scale, train_labels, test_codes * scale, test_labels, num_classes=4, weight_decay=0.01
    )
    assert plain["accuracy"] > 0.5
    assert scaled == pytest.approx(plain, abs=3e-3)


def test_linear_probe_without_dimensions_answers_the_most_frequent_class() -> None:
    train_labels = torch.tensor([2, 1, 2, 0, 2, 1])
    test_labels = torch.tensor([2, 0, 1, 2])
    result = linear_probe(torch.zeros(6, 0), train_labels, torch.zeros(4, 0), test_labels, num_classes=4)
    assert result == {"accuracy": 0.5, "train_accuracy": 0.5, "chance": 0.5}
    # the same with a dimension constant in the training codes (it carries nothing, and no NaN)
    constant = linear_probe(torch.full((6, 1), 3.0), train_labels, torch.randn(4, 1), test_labels, num_classes=4)
    assert constant == result
    # a tie for the most frequent class goes to the smaller class
    tied = linear_probe(torch.zeros(4, 0), torch.tensor([3, 1, 3, 1]), torch.zeros(2, 0), torch.tensor([1, 3]), 4)
    assert tied["chance"] == tied["accuracy"] == 0.5


def test_linear_probe_keeps_constant_dimensions_finite_and_never_predicts_unseen_classes() -> None:
    train = torch.tensor([[0.0, 1.0], [0.2, 1.0], [5.0, 1.0], [5.2, 1.0]])  # dimension 1 is constant
    test = torch.tensor([[0.1, 7.0], [5.1, -7.0], [9.0, 1.0]])
    result = linear_probe(train, torch.tensor([0, 0, 2, 2]), test, torch.tensor([0, 2, 1]), num_classes=3)
    assert result == pytest.approx({"accuracy": 2 / 3, "train_accuracy": 1.0, "chance": 1 / 3})


def test_linear_probe_is_deterministic() -> None:
    train = _one_informative_dimension(500, 0, width=32, spread=0.5)
    test = _one_informative_dimension(300, 1, width=32, spread=0.5)
    first = linear_probe(*train, *test, num_classes=4, seed=3)
    assert linear_probe(*train, *test, num_classes=4, seed=3) == first
    with torch.inference_mode():  # fits even where gradients are off
        assert linear_probe(*train, *test, num_classes=4, seed=3) == first


def test_linear_probe_refuses_bad_input() -> None:
    codes, labels = torch.zeros(4, 2), torch.tensor([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"train_codes must be \(N, D\)"):
        linear_probe(torch.zeros(4), labels, codes, labels, num_classes=2)
    with pytest.raises(ValueError, match=r"labels must be \(4,\) to match test_codes"):
        linear_probe(codes, labels, codes, labels[:3], num_classes=2)
    with pytest.raises(ValueError, match="integer class indices"):
        linear_probe(codes, labels.float(), codes, labels, num_classes=2)
    with pytest.raises(ValueError, match="train_labels hold class 2, but num_classes=2"):
        linear_probe(codes, labels + 1, codes, labels, num_classes=2)
    with pytest.raises(ValueError, match="dimensions"):
        linear_probe(codes, labels, torch.zeros(4, 3), labels, num_classes=2)
    with pytest.raises(ValueError, match="num_classes"):
        linear_probe(codes, labels, codes, labels, num_classes=0)
    with pytest.raises(ValueError, match="steps"):
        linear_probe(codes, labels, codes, labels, num_classes=2, steps=0)
    with pytest.raises(ValueError, match="weight_decay"):
        linear_probe(codes, labels, codes, labels, num_classes=2, weight_decay=-1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        linear_probe(codes, labels, codes, labels, num_classes=2, weight_decay=math.nan)
    with pytest.raises(ValueError, match="seed"):
        linear_probe(codes, labels, codes, labels, num_classes=2, seed=1.5)  # type: ignore[arg-type]


# --- encoder_report and format_tables -----------------------------------------------------


def _disentangled_codes(n: int, seed: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Dimensions 0-1 encode the digit-like factor ``content``; the rest is noise; ``style``
    is not encoded at all."""
    generator = torch.Generator().manual_seed(seed)
    content = torch.randint(0, 4, (n,), generator=generator)
    style = torch.randint(0, 6, (n,), generator=generator)
    codes = 0.1 * torch.randn(n, 8, generator=generator)
    codes[:, 0] += 3.0 * (content % 2)
    codes[:, 1] += 3.0 * (content // 2)
    return codes, {"content": content, "style": style}


def test_report_shows_what_the_codes_hold() -> None:
    train, test = _disentangled_codes(600, 0), _disentangled_codes(400, 1)
    report = encoder_report(*train, *test, dims=(2, 8), num_classes={"style": 6})
    assert list(report) == [2, 8]
    for d in (2, 8):
        content, style = report[d]["content"], report[d]["style"]
        assert content["top1"] == 1.0
        assert content["avg_rank"] == 1.0
        assert style["top1"] < 0.3
        assert style["avg_rank"] > 3.0
        assert content["distance"] < 0.2 * content["whole_distance"]
        assert style["distance"] > 0.9 * style["whole_distance"]
        assert style["chance_top1"] == pytest.approx(1 / 6)
        assert style["chance_rank"] == 3.5
        assert content["num_classes"] == 4.0  # inferred from the labels
        assert 0.1 < style["prior_probability"] < 0.25
        assert content["linear_accuracy"] == 1.0
        assert style["linear_accuracy"] < 0.3
        assert style["linear_chance"] == pytest.approx((test[1]["style"] == 0).float().mean().item())
    assert report[2]["content"]["whole_distance"] < report[8]["content"]["whole_distance"]


def test_report_refuses_bad_dims_and_mismatched_labels() -> None:
    codes, labels = _disentangled_codes(50, 0)
    with pytest.raises(ValueError, match="from 1 to the code width 8"):
        encoder_report(codes, labels, codes, labels, dims=(2, 16))
    with pytest.raises(ValueError, match="same factors"):
        encoder_report(codes, labels, codes, {"content": labels["content"]})


def test_tables_have_the_papers_layout() -> None:
    train, test = _disentangled_codes(300, 0), _disentangled_codes(200, 1)
    reports = {"E_style": encoder_report(*train, *test), "E_V": encoder_report(*train, *test)}
    text = format_tables(reports, labels=["style", "content"])
    assert text.count("**Table 4") == 2
    assert text.count("**Table 7") == 2
    assert "| Encoder | By style | By content | Whole dataset |" in text
    assert "first 8 dimensions" in text
    assert text.count("**Linear probe: top-1 accuracy of a logistic regression on the standardised codes") == 2
    assert text.count("| E_V |") == 10
    assert text.count("*uniform chance*") == 8  # Tables 5-7 and the linear probe, two prefix lengths each
    assert text.count("*most frequent class*") == 2
    assert "| *uniform chance* | 0.1667 | 0.2500 |" in text
    with pytest.raises(ValueError, match="lacks"):
        format_tables(reports, labels=["hair"])
    # a report made before the linear probe existed: the other tables, without that one
    for report in reports.values():
        for rows in report.values():
            for row in rows.values():
                del row["linear_accuracy"], row["linear_chance"]
    older = format_tables(reports, labels=["style", "content"])
    assert "Linear probe" not in older
    assert older.count("**Table 7") == 2


# --- encode_dataset -------------------------------------------------------------------------


class _MeanColour(nn.Module):
    """Stand-in encoder: the mean colour of the image as a 3-dimensional code."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.scale * x.mean((2, 3))
        return mean, torch.ones_like(mean)


def test_encode_dataset_samples_codes_from_the_posterior_when_asked() -> None:
    data = SyntheticPortraits(length=6, num_artists=3, size=32)
    means, _ = encode_dataset(_MeanColour(), data, batch_size=4)
    drawn, _ = encode_dataset(_MeanColour(), data, batch_size=4, sample=True)
    again, _ = encode_dataset(_MeanColour(), data, batch_size=4, sample=True)
    assert torch.equal(drawn, again)  # one seeded draw
    noise = drawn - means  # std 1 here
    assert noise.abs().min() > 0
    assert 0.3 < noise.std().item() < 3
    with pytest.raises(ValueError, match="sample=True needs an encoder that returns"):
        encode_dataset(nn.Flatten(), data, sample=True)


def test_encode_dataset_returns_mean_codes_and_true_labels() -> None:
    data = SyntheticPortraits(length=10, num_artists=3, size=32, label_by="hair_colour")
    encoder = _MeanColour().train()
    codes, labels = encode_dataset(encoder, data, batch_size=4)
    assert encoder.training
    assert codes.shape == (10, 3)
    assert codes.dtype == torch.float32
    assert torch.allclose(codes[7], data[7]["x"].mean((1, 2)))
    categorical = [f.name for f in CONTENT_FACTORS if isinstance(f, Categorical)]
    assert list(labels) == ["artist", *categorical]
    assert labels["artist"].tolist() == [i % 3 for i in range(10)]  # the true artist, not the label
    assert labels["hair_colour"].tolist() == [data.label(i) for i in range(10)]
    assert labels["mouth"][4].item() == ["closed", "smile", "open"].index(data.content(4).mouth)
    classes = label_classes(data)
    assert classes["artist"] == 3
    assert classes["hair_colour"] == 9
    assert set(classes) == set(labels)
