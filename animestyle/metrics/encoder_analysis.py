"""What an encoder's codes know: the GADN paper's encoder analysis (Xiang & Li, "Disentangling
Style and Content in Anime Illustrations", arXiv:1905.10742, Sec. 6.1.4, Tables 4-7).

For the first ``d`` dimensions of a code ordered by nested dropout (the paper reads d = 2 and
d = 8), and for each labelling of the same images (the paper: writer and digit; here: the
true artist and every categorical content factor of the synthetic portraits):

- Table 4, :func:`class_centre_distance`: the mean Euclidean distance of a code to the centre
  of its class; next to the same with one class for the whole dataset. A label the encoder
  purged clusters no tighter than the whole dataset.
- Tables 5-7, :func:`naive_bayes_probe`: a naive Bayes classifier (one axis-aligned Gaussian
  per class) fitted on training codes and scored on held-out codes: the average probability
  it gives the correct class, the average rank of the correct class (1 = best) and top-1
  accuracy.
- Beside the paper, :func:`linear_probe`: a multinomial logistic regression on the
  standardised codes, fitted on training codes and scored on held-out codes (top-1
  accuracy). It reads what a linear readout of the whole code can find, including labels
  that only a direction across several dimensions carries, which the axis-aligned naive
  Bayes classifier can miss.

Everything here is a pure function of code tensors, except :func:`encode_dataset`, which
runs an encoder over synthetic portraits to get them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from animestyle.checks import check_count
from animestyle.data.synthetic import SyntheticPortraits, categorical_factors
from animestyle.metrics.devices import module_device
from animestyle.nn.modes import eval_mode

__all__ = [
    "class_centre_distance",
    "encode_dataset",
    "encoder_report",
    "format_tables",
    "label_classes",
    "linear_probe",
    "naive_bayes_probe",
]

# The categorical content factors, with their column in ``item["content"]``.
_CATEGORICAL = categorical_factors()


def _check_codes(codes: torch.Tensor, labels: torch.Tensor, name: str = "codes") -> None:
    if codes.ndim != 2:
        raise ValueError(f"{name} must be (N, D); got {tuple(codes.shape)}")
    if labels.shape != (codes.shape[0],):
        raise ValueError(f"labels must be ({codes.shape[0]},) to match {name}; got {tuple(labels.shape)}")
    if codes.shape[0] == 0:
        raise ValueError(f"{name} is empty: the measures need at least one sample")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.dtype.is_complex:
        raise ValueError(f"labels must be integer class indices; got dtype {labels.dtype}")
    if labels.min() < 0:
        raise ValueError(f"labels must be class indices >= 0; got {labels.min().item()}")


def _check_split(
    train_codes: torch.Tensor,
    train_labels: torch.Tensor,
    test_codes: torch.Tensor,
    test_labels: torch.Tensor,
    num_classes: int,
) -> int:
    """Checks the inputs of a probe fitted on ``train_*`` and scored on ``test_*``; returns ``num_classes``."""
    num_classes = check_count("num_classes", num_classes, 1)
    _check_codes(train_codes, train_labels, "train_codes")
    _check_codes(test_codes, test_labels, "test_codes")
    if train_codes.shape[1] != test_codes.shape[1]:
        raise ValueError(f"train_codes have {train_codes.shape[1]} dimensions but test_codes {test_codes.shape[1]}")
    for name, labels in (("train_labels", train_labels), ("test_labels", test_labels)):
        if labels.max() >= num_classes:
            raise ValueError(f"{name} hold class {labels.max().item()}, but num_classes={num_classes}")
    return num_classes


def _class_means(codes: torch.Tensor, labels: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-class sample counts (K,) and means (K, D) (zero for an empty class)."""
    counts = torch.bincount(labels, minlength=num_classes).to(codes.dtype)
    sums = torch.zeros(num_classes, codes.shape[1], dtype=codes.dtype, device=codes.device)
    sums.index_add_(0, labels, codes)
    return counts, sums / counts.clamp_min(1)[:, None]


# --- Table 4 --------------------------------------------------------------------------------


def class_centre_distance(codes: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean Euclidean distance of each code to the centre (mean) of its class (Table 4).

    ``(1 / N) sum_i ||z_i - mu_{y_i}||_2``: a mean over samples, so large classes weigh
    more. With every label equal it is the paper's "whole dataset" column.

    Args:
        codes: (N, D) codes.
        labels: (N,) int64 class indices >= 0.

    Returns:
        the mean distance, >= 0 (0 when every code sits on its class centre).
    """
    _check_codes(codes, labels)
    codes = codes.detach().double()
    labels = labels.to(codes.device)
    _, means = _class_means(codes, labels, int(labels.max()) + 1)
    return (codes - means[labels]).norm(dim=1).mean().item()


# --- Tables 5-7 -----------------------------------------------------------------------------


def naive_bayes_probe(
    train_codes: torch.Tensor,
    train_labels: torch.Tensor,
    test_codes: torch.Tensor,
    test_labels: torch.Tensor,
    num_classes: int,
    min_variance: float = 1e-3,
) -> dict[str, float]:
    """A naive Bayes classifier on codes, fitted on ``train_*``, scored on ``test_*`` (Tables 5-7).

    Each class ``c`` is an axis-aligned Gaussian ``N(mu_c, diag(var_c))`` with the maximum
    likelihood mean and variance of its training codes; each variance is floored at
    ``min_variance`` times the variance of all training codes in that dimension (plus 1e-12),
    so a class with one sample, or a dimension a class never moves in, stays usable. The
    prior is the classes' *empirical* frequency in the training codes (the paper does not
    say; with balanced classes it is the uniform prior), and a class with no training code
    gets probability 0.

    Args:
        train_codes: (N, D) codes the Gaussians are fitted on.
        train_labels: (N,) int64 classes in [0, num_classes).
        test_codes: (M, D) codes to classify.
        test_labels: (M,) int64 classes in [0, num_classes).
        num_classes: ``K``.
        min_variance: variance floor, relative to each dimension's overall variance.

    Returns:
        ``avg_probability``: mean posterior probability of the correct class (uniform chance:
        1 / K); ``avg_rank``: mean rank of the correct class among the K posteriors, 1 = most
        probable, ties counted half (chance: (K + 1) / 2); ``top1``: fraction of test codes
        whose most probable class is correct, a tie for first place of ``t`` classes
        counting ``1 / t`` (chance: 1 / K); ties are thus scored as a random tie-break
        would score them on average. With D = 0 dimensions the classifier answers with the
        prior alone: the baseline of a code that knows nothing.
    """
    num_classes = _check_split(train_codes, train_labels, test_codes, test_labels, num_classes)
    train = train_codes.detach().double()
    test = test_codes.detach().double().to(train.device)
    train_labels, test_labels = train_labels.to(train.device), test_labels.to(train.device)

    counts, means = _class_means(train, train_labels, num_classes)
    sums = torch.zeros_like(means).index_add_(0, train_labels, (train - means[train_labels]).square())
    floor = min_variance * (train - train.mean(0)).square().mean(0) + 1e-12  # (D,)
    var = torch.maximum(sums / counts.clamp_min(1)[:, None], floor)  # (K, D)

    # log N(z; mu_c, var_c) for every test code and class: (M, K)
    # (expanded, so that memory grows as M * K, not M * K * D; float64 keeps it exact enough)
    precision = 1 / var
    mahalanobis = test.square() @ precision.T - 2 * test @ (means * precision).T + (means.square() * precision).sum(1)
    log_likelihood = -0.5 * (mahalanobis.clamp_min(0) + (var.log() + math.log(2 * math.pi)).sum(1))
    present = counts > 0
    log_prior = torch.where(present, (counts / counts.sum()).clamp_min(1e-300).log(), -math.inf)
    log_posterior = torch.log_softmax(log_likelihood + log_prior, dim=1)

    correct = log_posterior.gather(1, test_labels[:, None])  # (M, 1)
    higher = (log_posterior > correct).sum(1).double()
    tied = (log_posterior == correct).sum(1).double() - 1  # other classes exactly as probable
    return {
        "avg_probability": correct.exp().mean().item(),
        "avg_rank": (1 + higher + 0.5 * tied).mean().item(),
        "top1": ((higher == 0).double() / (1 + tied)).mean().item(),
    }


# --- linear probe (beside the paper) -------------------------------------------------------


def _standardise(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Train (N, D) and test (M, D) codes centred and scaled by the training codes' mean and
    standard deviation, without the dimensions constant in the training codes: (N, D'), (M, D')."""
    if train.shape[1] == 0:
        return train, test
    mean, std = train.mean(0), train.std(0, correction=0)
    varies = std > 1e-12 * train.abs().amax(0)  # a constant column's std is 0 up to rounding
    mean, std = mean[varies], std[varies]
    return (train[:, varies] - mean) / std, (test[:, varies] - mean) / std


def _fit_logistic_regression(
    codes: torch.Tensor, labels: torch.Tensor, num_classes: int, steps: int, weight_decay: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights (D, K) and biases (K,) minimising the mean cross-entropy of ``codes @ W + b``
    plus ``weight_decay / 2 * ||W||^2`` (biases free), by full-batch L-BFGS, on float64 (N, D)
    codes and (N,) labels in [0, K)."""
    generator = torch.Generator().manual_seed(seed)
    weight = (0.01 * torch.randn(codes.shape[1], num_classes, generator=generator, dtype=codes.dtype)).requires_grad_()
    bias = torch.zeros(num_classes, dtype=codes.dtype, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [weight, bias],
        lr=1.0,
        max_iter=steps,
        tolerance_grad=1e-7,
        tolerance_change=1e-10,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(codes @ weight + bias, labels) + 0.5 * weight_decay * weight.square().sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return weight.detach(), bias.detach()


def linear_probe(
    train_codes: torch.Tensor,
    train_labels: torch.Tensor,
    test_codes: torch.Tensor,
    test_labels: torch.Tensor,
    num_classes: int,
    *,
    steps: int = 100,
    weight_decay: float = 1e-3,
    seed: int = 0,
) -> dict[str, float]:
    """A multinomial logistic regression on standardised codes, fitted on ``train_*``, scored
    on ``test_*``: the top-1 accuracy of a linear readout of the code.

    Each dimension is centred and scaled by the mean and standard deviation of the *training*
    codes, so the result does not depend on how each dimension is scaled; a dimension
    constant in the training codes carries nothing and is left out. The weights minimise the
    mean cross-entropy plus ``weight_decay / 2`` times their squared norm (the biases are not
    penalised), by full-batch L-BFGS in float64 on the CPU, from small random weights drawn
    with ``seed``: the same inputs give the same result. The problem is convex, so the seed
    moves the result only within the stopping tolerance. Only the classes present in the
    training codes are fitted; the others are never predicted. With D = 0 dimensions (or only
    constant ones, or one training class) the probe answers the most frequent training class.

    Args:
        train_codes: (N, D) codes the regression is fitted on.
        train_labels: (N,) int64 classes in [0, num_classes).
        test_codes: (M, D) codes to classify.
        test_labels: (M,) int64 classes in [0, num_classes).
        num_classes: ``K``.
        steps: most L-BFGS iterations (it stops earlier once converged).
        weight_decay: L2 penalty on the weights, >= 0, relative to the mean cross-entropy.
        seed: of the initial weights.

    Returns:
        ``accuracy``: fraction of test codes whose most probable class is correct;
        ``train_accuracy``: the same on the training codes (well above ``accuracy`` when the
        probe overfits); ``chance``: the test accuracy of always answering the most frequent
        training class (the smallest such class on a tie), what a probe that ignores the
        code scores; with balanced classes close to 1 / K.
    """
    num_classes = _check_split(train_codes, train_labels, test_codes, test_labels, num_classes)
    steps = check_count("steps", steps, 1)
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, int | float) or not 0 <= weight_decay < math.inf:
        raise ValueError(f"weight_decay={weight_decay!r} must be a finite number >= 0")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed={seed!r} must be an integer")
    train_labels, test_labels = train_labels.detach().cpu().long(), test_labels.detach().cpu().long()
    counts = torch.bincount(train_labels, minlength=num_classes)
    majority = int(counts.argmax())  # the first of the most frequent classes
    chance = (test_labels == majority).double().mean().item()

    with torch.inference_mode(False), torch.enable_grad():
        train, test = _standardise(train_codes.detach().cpu().double(), test_codes.detach().cpu().double())
        present = (counts > 0).nonzero().squeeze(1)  # (K',) the classes seen in training
        if train.shape[1] == 0 or present.numel() == 1:
            return {
                "accuracy": chance,
                "train_accuracy": (train_labels == majority).double().mean().item(),
                "chance": chance,
            }
        index = torch.full((num_classes,), -1, dtype=torch.long)
        index[present] = torch.arange(present.numel())
        weight, bias = _fit_logistic_regression(
            train, index[train_labels], present.numel(), steps, float(weight_decay), seed
        )
    train_predicted = present[(train @ weight + bias).argmax(1)]
    test_predicted = present[(test @ weight + bias).argmax(1)]
    return {
        "accuracy": (test_predicted == test_labels).double().mean().item(),
        "train_accuracy": (train_predicted == train_labels).double().mean().item(),
        "chance": chance,
    }


# --- the report ---------------------------------------------------------------------------

Report = dict[int, dict[str, dict[str, float]]]


def encoder_report(
    codes_train: torch.Tensor,
    labels_by_name_train: Mapping[str, torch.Tensor],
    codes_test: torch.Tensor,
    labels_by_name_test: Mapping[str, torch.Tensor],
    dims: Sequence[int] = (2, 8),
    num_classes: Mapping[str, int] | None = None,
    min_variance: float = 1e-3,
) -> Report:
    """The rows of Tables 4-7 and of the linear probe for one encoder: every labelling x
    every prefix length.

    Distances (Table 4) are measured on the test codes; the naive Bayes classifier
    (Tables 5-7) and the linear probe (:func:`linear_probe`, with its defaults) are fitted on
    the train codes and scored on the test codes.

    Args:
        codes_train: (N, D) codes of the probe's training images.
        labels_by_name_train: name -> (N,) int64 classes, e.g. ``{"artist": ..., "hair_colour": ...}``.
        codes_test: (M, D) codes of held-out images.
        labels_by_name_test: the same names -> (M,) int64 classes.
        dims: prefix lengths: the first ``d`` dimensions of each code are read (nested
            dropout puts the most important first), each ``d`` in [1, D].
        num_classes: name -> ``K``; None, or a missing name: one more than the largest
            label seen.
        min_variance: see :func:`naive_bayes_probe`.

    Returns:
        ``report[d][name]`` -> ``distance`` (to the class centre), ``whole_distance`` (to the
        centre of all test codes), ``avg_probability``, ``avg_rank``, ``top1``,
        ``chance_probability`` and ``chance_top1`` (1 / K), ``chance_rank`` ((K + 1) / 2),
        ``prior_probability``, ``prior_rank``, ``prior_top1`` (the classifier given no code:
        the empirical prior alone, which beats 1 / K on unbalanced factors),
        ``linear_accuracy`` and ``linear_chance`` (the linear probe's test accuracy and that of
        always answering the most frequent training class) and ``num_classes``.
    """
    if codes_train.ndim != 2 or codes_test.ndim != 2 or codes_train.shape[1] != codes_test.shape[1]:
        raise ValueError(
            f"codes_train and codes_test must be (N, D) and (M, D); got {tuple(codes_train.shape)} "
            f"and {tuple(codes_test.shape)}"
        )
    if set(labels_by_name_train) != set(labels_by_name_test):
        raise ValueError(
            f"train and test labels must name the same factors; got {sorted(labels_by_name_train)} "
            f"and {sorted(labels_by_name_test)}"
        )
    width = codes_train.shape[1]
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= width:
            raise ValueError(f"dims must be integers from 1 to the code width {width}; got {d!r}")
    report: Report = {}
    for d in dims:
        rows: dict[str, dict[str, float]] = {}
        train, test = codes_train[:, :d], codes_test[:, :d]
        whole = class_centre_distance(test, torch.zeros(test.shape[0], dtype=torch.long))
        for name, train_labels in labels_by_name_train.items():
            test_labels = labels_by_name_test[name]
            given = (num_classes or {}).get(name)
            k = given if given is not None else int(max(train_labels.max(), test_labels.max())) + 1
            probe = naive_bayes_probe(train, train_labels, test, test_labels, k, min_variance)
            prior = naive_bayes_probe(train[:, :0], train_labels, test[:, :0], test_labels, k, min_variance)
            linear = linear_probe(train, train_labels, test, test_labels, k)
            rows[name] = {
                "distance": class_centre_distance(test, test_labels),
                "whole_distance": whole,
                **probe,
                "chance_probability": 1 / k,
                "chance_rank": (k + 1) / 2,
                "chance_top1": 1 / k,
                "prior_probability": prior["avg_probability"],
                "prior_rank": prior["avg_rank"],
                "prior_top1": prior["top1"],
                "linear_accuracy": linear["accuracy"],
                "linear_chance": linear["chance"],
                "num_classes": float(k),
            }
        report[d] = rows
    return report


def _number(value: float) -> str:
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
    return f"{value:.3e}"


def format_tables(reports: Mapping[str, Report], labels: Sequence[str] | None = None) -> str:
    """Markdown tables in the layout of the paper's Tables 4-7, then the linear probe's, one
    per measure and prefix length: a row per encoder, a column per labelling ("by artist",
    "by hair_colour", ...).

    Tables 5-7 end with two reference rows read from the first encoder's report (they
    depend only on the labels): ``uniform chance`` (1 / K, (K + 1) / 2) and ``prior only``
    (the naive Bayes classifier given no code); the linear probe's table with ``uniform
    chance`` and ``most frequent class`` (always answering the most frequent training class).
    Reports without the linear probe's rows (made before it existed) get no such table.

    Args:
        reports: encoder name (e.g. ``"E_artist"``) -> its :func:`encoder_report`; every
            report must have the same prefix lengths and labellings.
        labels: the labellings to show, in order; None: all, in the first report's order.

    Returns:
        the tables, separated by blank lines.
    """
    if not reports:
        raise ValueError("reports is empty: give at least one encoder's report")
    first = next(iter(reports.values()))
    dims = list(first)
    names = list(labels) if labels is not None else list(next(iter(first.values())))
    for encoder, report in reports.items():
        if list(report) != dims:
            raise ValueError(f"report of {encoder!r} has prefix lengths {list(report)}, expected {dims}")
        for d in dims:
            missing = [n for n in names if n not in report[d]]
            if missing:
                raise ValueError(f"report of {encoder!r} lacks the labellings {missing} for d={d}")

    measures: list[tuple[str, str, tuple[tuple[str, str], ...]]] = [
        ("Table 4: mean Euclidean distance to class centre", "distance", ()),
        ("Table 5: average probability given to the correct class", "avg_probability",
         (("uniform chance", "chance_probability"), ("prior only", "prior_probability"))),
        ("Table 6: average rank of the correct class (1 = best)", "avg_rank",
         (("uniform chance", "chance_rank"), ("prior only", "prior_rank"))),
        ("Table 7: top-1 accuracy", "top1", (("uniform chance", "chance_top1"), ("prior only", "prior_top1"))),
    ]  # fmt: skip
    if all("linear_accuracy" in report[d][n] for report in reports.values() for d in dims for n in names):
        measures.append(
            ("Linear probe: top-1 accuracy of a logistic regression on the standardised codes", "linear_accuracy",
             (("uniform chance", "chance_top1"), ("most frequent class", "linear_chance")))
        )  # fmt: skip
    blocks = []
    for title, key, references in measures:
        for d in dims:
            header = ["Encoder", *(f"By {n}" for n in names)]
            if key == "distance":
                header.append("Whole dataset")
            lines = [f"**{title}, first {d} dimensions**", "", "| " + " | ".join(header) + " |"]
            lines.append("|" + "---|" * len(header))
            for encoder, report in reports.items():
                cells = [encoder, *(_number(report[d][n][key]) for n in names)]
                if key == "distance":
                    cells.append(_number(report[d][names[0]]["whole_distance"]) if names else "")
                lines.append("| " + " | ".join(cells) + " |")
            for row_name, ref in references:
                cells = [f"*{row_name}*", *(_number(first[d][n][ref]) for n in names)]
                lines.append("| " + " | ".join(cells) + " |")
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# --- codes of a synthetic dataset -----------------------------------------------------------


def label_classes(dataset: SyntheticPortraits) -> dict[str, int]:
    """Number of classes of every labelling :func:`encode_dataset` returns: ``artist`` (the
    true artist) and each categorical content factor."""
    return {"artist": dataset.num_artists, **{f.name: len(f.choices) for _, f in _CATEGORICAL}}


@torch.no_grad()
def encode_dataset(
    encoder: nn.Module,
    dataset: SyntheticPortraits,
    batch_size: int = 256,
    device: torch.device | str | None = None,
    num_workers: int = 0,
    sample: bool = False,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mean content codes of every image of a synthetic dataset, with its true labels.

    The encoder runs in eval mode without gradients; its mode is restored afterwards.

    Args:
        encoder: images (B, 3, H, W) in [-1, 1] -> (mean, std), (B, D) each (e.g.
            ``GADNStage1.encoder``); a module returning one tensor is read as the mean.
        dataset: synthetic portraits (any ``label_by``; labels are read from the ground truth).
        batch_size: images per forward pass.
        device: where the encoder runs; None: where its parameters are (CPU if it has none).
            The encoder is not moved: give the device it is on.
        num_workers: DataLoader workers rendering the images.
        sample: codes drawn from ``N(mean, std)`` (seeded: the same draw every call), as the
            generator reads them in training, instead of the means. A probe of the means also
            reads what varies far less than the code's own noise.

    Returns:
        codes (N, D) float32 on the CPU, and name -> (N,) int64 labels on the CPU: ``artist``
        (the true artist, whatever ``label_by``) and every categorical content factor
        (``hair_colour``, ``eye_colour``, ...), each as the index of its choice.
    """
    batch_size = check_count("batch_size", batch_size, 1)
    if device is None:
        device = module_device(encoder)
    codes: list[torch.Tensor] = []
    labels: dict[str, list[torch.Tensor]] = {name: [] for name in ("artist", *(f.name for _, f in _CATEGORICAL))}
    noise = torch.Generator().manual_seed(0)
    with eval_mode(encoder):
        for batch in DataLoader(dataset, batch_size=batch_size, num_workers=num_workers):
            out: Any = encoder(batch["x"].to(device))
            code = (out[0] if isinstance(out, tuple | list) else out).detach().float().cpu()
            if sample:
                if not isinstance(out, tuple | list):
                    raise ValueError("sample=True needs an encoder that returns (mean, std)")
                code = code + out[1].detach().float().cpu() * torch.randn(code.shape, generator=noise)
            codes.append(code)
            labels["artist"].append(batch["true_artist"])
            for j, factor in _CATEGORICAL:
                labels[factor.name].append(batch["content"][:, j].long())
    if not codes:
        raise ValueError("dataset is empty: nothing to encode")
    return torch.cat(codes), {name: torch.cat(parts) for name, parts in labels.items()}
