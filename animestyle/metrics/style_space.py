"""How good a style space is, and how many of its dimensions to keep: the style-space paper's
Sec. 6.1 ("Figure 1"), and the pruning of the content code by reconstruction error (Sec. 4).

For the first ``k`` dimensions of a code ordered by nested dropout:

- :func:`accuracy_by_dims` (Figure 1 left): artist classification accuracy, read the way the
  encoder reads it (:meth:`MetricStyleEncoder.classify`: the nearest learned representative
  for metric learning, the linear head for the plain classifier the paper compares with).
- :func:`variance_ratio_by_dims` (Figure 1 right): the average within-artist variance over
  the average squared distance between images of different artists; smaller is better.
- :func:`spearman_by_dimension`: on synthetic data, the true style factor each code
  dimension follows most closely (Spearman rank correlation); :func:`spearman_chance`: how
  close it would get by merely separating the artists.
- :func:`suggest_dims`: the smallest ``k`` that is almost as good as all dimensions.

``animestyle style-report`` (:mod:`animestyle.tools.style_report`) runs them on a trained
:class:`~animestyle.methods.MetricStyleEncoder` or
:class:`~animestyle.methods.StyleConditionedVAE` checkpoint, and :func:`plot_curves` draws
the curves.

Everything here is a pure function of tensors, except :func:`encode_images` and
:func:`reconstruction_by_dims`, which run a model over images; a model is anything with the
few methods of :class:`StyleCoder` or :class:`ContentReconstructor`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import torch

from animestyle.checks import check_count
from animestyle.data.datamodule import AnimeFacesDataModule
from animestyle.data.synthetic import CONTENT_FACTORS, STYLE_FACTORS, Categorical
from animestyle.metrics.batches import image_batches
from animestyle.metrics.devices import module_device
from animestyle.nn.modes import eval_mode

__all__ = [
    "ContentReconstructor",
    "StyleCoder",
    "accuracy_by_dims",
    "check_dims",
    "default_dims",
    "encode_images",
    "plot_curves",
    "reconstruction_by_dims",
    "spearman_by_dimension",
    "spearman_chance",
    "spearman_matrix",
    "suggest_dims",
    "variance_ratio_by_dims",
]


class StyleCoder(Protocol):
    """What the metrics use of a :class:`~animestyle.methods.MetricStyleEncoder`."""

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """sRGB images (B, 3, S, S) in [-1, 1] -> style codes (B, D)."""
        ...

    def classify(self, codes: torch.Tensor, dims: int) -> torch.Tensor:
        """Codes (N, D) -> (N,) int64 artists, from the first ``dims`` dimensions."""
        ...


class ContentReconstructor(Protocol):
    """What the metrics use of a :class:`~animestyle.methods.StyleConditionedVAE`."""

    content_dim: int

    def reconstruction_error(self, x: torch.Tensor, dims: list[int]) -> list[float]:
        """Mean squared error of reconstructions of ``x`` from the first ``k`` content
        dimensions, for each ``k`` in ``dims``."""
        ...


_CATEGORICAL_NAMES = frozenset(f.name for f in CONTENT_FACTORS + STYLE_FACTORS if isinstance(f, Categorical))


# --- checks ---------------------------------------------------------------------------------


def _check_codes(codes: torch.Tensor, labels: torch.Tensor) -> None:
    if codes.ndim != 2:
        raise ValueError(f"codes must be (N, D); got {tuple(codes.shape)}")
    if codes.shape[0] == 0 or codes.shape[1] == 0:
        raise ValueError(f"codes must have at least one sample and one dimension; got {tuple(codes.shape)}")
    if labels.shape != (codes.shape[0],):
        raise ValueError(f"labels must be ({codes.shape[0]},) to match codes; got {tuple(labels.shape)}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.dtype.is_complex:
        raise ValueError(f"labels must be integer class indices; got dtype {labels.dtype}")


def check_dims(dims: Sequence[int], width: int, name: str = "dims") -> list[int]:
    """``dims`` as a list of numbers of kept dimensions, each in [1, ``width``]; ValueError naming ``name``."""
    dims = list(dims)
    if not dims:
        raise ValueError(f"{name} is empty: give at least one number of kept dimensions")
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= width:
            raise ValueError(f"{name} must be integers from 1 to the code width {width}; got {d!r}")
    return dims


def default_dims(width: int) -> list[int]:
    """1, 2, 4, 8, ... below ``width``, then ``width`` itself: the x axis of Figure 1.

    Args:
        width: code width ``D`` (>= 1).

    Returns:
        the numbers of kept dimensions, increasing, ending with ``width``.
    """
    width = check_count("width", width, 1)
    dims = [2**i for i in range(width.bit_length()) if 2**i < width]
    return [*dims, width]


# --- Figure 1 -------------------------------------------------------------------------------


@torch.no_grad()
def accuracy_by_dims(
    encoder: StyleCoder, codes: torch.Tensor, labels: torch.Tensor, dims: Sequence[int], chunk: int = 4096
) -> list[float]:
    """Classification accuracy from the first ``k`` code dimensions, for each ``k`` in ``dims``
    (Figure 1 left).

    The encoder classifies as it was trained to (``encoder.classify(codes, k)``): the
    nearest learned representative for ``objective="metric"``, the classifier head for
    ``objective="classification"``.

    Args:
        encoder: a :class:`~animestyle.methods.MetricStyleEncoder` of either objective.
        codes: (N, D) full style codes (``encoder.encode``), on any device; they are moved
            to the encoder's device chunk by chunk.
        labels: (N,) int64 true classes (the artists the encoder was trained on).
        dims: numbers of kept dimensions, each in [1, D].
        chunk: codes classified at once (the metric classifier holds a (chunk, artists, D)
            tensor).

    Returns:
        one accuracy in [0, 1] per entry of ``dims``.
    """
    _check_codes(codes, labels)
    dims = check_dims(dims, codes.shape[1])
    chunk = check_count("chunk", chunk, 1)
    device = module_device(encoder)
    correct = [0] * len(dims)
    for start in range(0, codes.shape[0], chunk):
        part = codes[start : start + chunk].to(device)
        truth = labels[start : start + chunk].to(device)
        for j, k in enumerate(dims):
            correct[j] += int((encoder.classify(part, k) == truth).sum())
    return [c / codes.shape[0] for c in correct]


def _per_dimension_variances(codes: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each dimension's share (D,) of V_intra and of V_inter (they add up over dimensions)."""
    x = codes.detach().double()
    _, inverse, counts = torch.unique(labels.to(x.device), return_inverse=True, return_counts=True)
    num_classes, n = len(counts), x.shape[0]
    if num_classes < 2:
        raise ValueError("labels hold a single class: V_inter needs images of at least two different classes")
    counts = counts.double()
    sums = torch.zeros(num_classes, x.shape[1], dtype=x.dtype, device=x.device).index_add_(0, inverse, x)
    means = sums / counts[:, None]
    # within-class sums of squares per dimension, centred first: no cancellation
    within = torch.zeros_like(sums).index_add_(0, inverse, (x - means[inverse]).square())  # (C, D)
    total = (x - x.mean(0)).square().sum(0)  # (D,)
    intra = (within / counts[:, None]).mean(0)
    # sum over ordered pairs (i, j) of (x_i - x_j)^2 = 2 n sum_i (x_i - mean)^2, over all pairs
    # or over the pairs inside one class; pairs of different classes are the difference.
    different_pairs = 2 * n * total - 2 * (counts[:, None] * within).sum(0)
    inter = different_pairs / (n * n - counts.square().sum())
    return intra, inter


def variance_ratio_by_dims(
    codes: torch.Tensor, labels: torch.Tensor, dims: Sequence[int]
) -> list[tuple[float, float, float]]:
    """Within-artist variance, between-artist squared distance and their ratio from the first
    ``k`` code dimensions, for each ``k`` in ``dims`` (Figure 1 right; smaller is better).

    With ``P_k`` keeping the first ``k`` dimensions, ``A`` the artists present in
    ``labels``, ``X_a`` the codes of artist ``a`` and ``mu_a`` their mean (the true average
    style, not the learned representative):

    - ``V_intra(k) = (1 / |A|) sum_a (1 / |X_a|) sum_{x in X_a} ||P_k(x - mu_a)||^2``: a mean
      over artists, each weighing the same whatever its number of images;
    - ``V_inter(k)``: the mean of ``||P_k(x - y)||^2`` over all pairs of codes ``x``, ``y``
      of different artists.

    V_inter is computed exactly in O(N D) time from per-class sums (the pairs inside each
    class subtracted from all pairs), in float64, never as an N x N matrix.

    Args:
        codes: (N, D) style codes.
        labels: (N,) int64 artist of each code (any integers; at least two distinct).
        dims: numbers of kept dimensions, each in [1, D].

    Returns:
        ``(V_intra, V_inter, V_intra / V_inter)`` per entry of ``dims``; the ratio is NaN
        where V_inter is 0 (every code equal in those dimensions).
    """
    _check_codes(codes, labels)
    dims = check_dims(dims, codes.shape[1])
    intra, inter = _per_dimension_variances(codes, labels)
    intra_k, inter_k = intra.cumsum(0), inter.cumsum(0).clamp_min(0)  # clamp: rounding of a 0
    rows = []
    for k in dims:
        a, b = float(intra_k[k - 1]), float(inter_k[k - 1])
        rows.append((a, b, a / b if b > 0 else math.nan))
    return rows


# --- what each dimension encodes --------------------------------------------------------------


def _average_ranks(values: torch.Tensor) -> torch.Tensor:
    """1-based ranks (N, C) of each column of ``values`` (N, C), ties given their average rank."""
    columns = values.T.contiguous()
    ordered = columns.sort(dim=1).values
    below = torch.searchsorted(ordered, columns, side="left")  # values strictly smaller
    at_most = torch.searchsorted(ordered, columns, side="right")  # values smaller or equal
    return ((below + at_most + 1).double() / 2).T


def spearman_matrix(codes: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation of every code dimension with every factor.

    The Pearson correlation of the ranks, ties given their average rank (as
    ``scipy.stats.spearmanr``).

    Args:
        codes: (N, D) codes, finite.
        factors: (N, F) factor values of the same images, finite.

    Returns:
        (D, F) float64 correlations in [-1, 1]; NaN where a code dimension or a factor is
        constant over the images.
    """
    if codes.ndim != 2 or factors.ndim != 2 or codes.shape[0] != factors.shape[0]:
        raise ValueError(
            f"codes and factors must be (N, D) and (N, F) with the same N; got {tuple(codes.shape)} "
            f"and {tuple(factors.shape)}"
        )
    if codes.shape[0] < 2:
        raise ValueError(f"a rank correlation needs at least 2 images; got {codes.shape[0]}")
    for name, tensor in (("codes", codes), ("factors", factors)):
        if not torch.isfinite(tensor).all():
            raise ValueError(f"{name} hold NaN or infinite values")
    a = _average_ranks(codes.detach().double().cpu())
    b = _average_ranks(factors.detach().double().cpu())
    a, b = a - a.mean(0), b - b.mean(0)
    norms = a.norm(dim=0)[:, None] * b.norm(dim=0)[None, :]
    rho = (a.T @ b) / norms
    return torch.where(norms > 0, rho.clamp(-1, 1), torch.full_like(rho, math.nan))


def spearman_by_dimension(
    codes: torch.Tensor, factors: torch.Tensor, names: Sequence[str], skip_categorical: bool = True
) -> list[tuple[int, str, float]]:
    """For each code dimension, the factor whose value it ranks most alike: the largest
    ``|rho|`` of :func:`spearman_matrix`.

    A categorical factor's encoded value (the index of its choice) has no order, so by
    default the columns whose name is a categorical synthetic factor (``highlights``,
    ``shading``, ...) are left out; other names count as continuous.

    Args:
        codes: (N, D) codes, e.g. the first few dimensions of a style code.
        factors: (N, F) true factor values of the same images, e.g. ``batch["style"]``.
        names: the F factor names, in column order (``Style.names()`` for ``batch["style"]``).
        skip_categorical: leave out the categorical factors.

    Returns:
        ``(dim, factor, rho)`` for each code dimension ``dim`` (0-based), ``rho`` signed;
        ``rho`` is NaN (and ``factor`` the first one compared) where no correlation is
        defined (a constant dimension).
    """
    names = list(names)
    if factors.ndim != 2 or factors.shape[1] != len(names):
        raise ValueError(f"names must name each of the {factors.shape[-1]} factor columns; got {len(names)} names")
    keep = [j for j, n in enumerate(names) if not (skip_categorical and n in _CATEGORICAL_NAMES)]
    if not keep:
        raise ValueError(f"no continuous factor among names={names}; nothing to correlate with")
    rho = spearman_matrix(codes, factors[:, keep])
    strength = torch.nan_to_num(rho.abs(), nan=-1.0)
    best = strength.argmax(1)
    return [(d, names[keep[int(j)]], float(rho[d, j])) for d, j in enumerate(best)]


def spearman_chance(
    codes: torch.Tensor,
    labels: torch.Tensor,
    factors: torch.Tensor,
    names: Sequence[str],
    shuffles: int = 200,
    quantile: float = 0.95,
    seed: int = 0,
) -> list[float]:
    """How large the best ``|rho|`` of :func:`spearman_by_dimension` gets by chance, per dimension.

    A dimension that merely separates the artists correlates with any factor that differs
    between artists, because each synthetic artist draws one value of every style factor.
    To measure that, the artists are shuffled: under a random permutation of the artists,
    each image gets the factors of a random image of the artist it is mapped to, so codes and
    factors still cluster by artist but the clusters are paired at random (a permutation may
    leave an artist in place, as random pairing would). A best ``|rho|`` above the
    returned quantile is more than separating artists.

    Args:
        codes: (N, D) codes.
        labels: (N,) artist indices of the same images.
        factors: (N, F) true factor values.
        names: the F factor names (as in :func:`spearman_by_dimension`).
        shuffles: random artist permutations drawn.
        quantile: which quantile of the shuffled best ``|rho|`` to return.
        seed: seed of the permutations.

    Returns:
        D values: the ``quantile`` of the best ``|rho|`` of each dimension over the shuffles.
    """
    _check_codes(codes, labels)
    check_count("shuffles", shuffles, 1)
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1); got {quantile}")
    generator = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    artists = labels.unique()
    members = [torch.nonzero(labels == a).flatten() for a in artists]
    slot = torch.searchsorted(artists, labels)  # each image's artist as an index into ``artists``
    best = torch.empty(shuffles, codes.shape[1], dtype=torch.float64)
    for s in range(shuffles):
        partner = torch.randperm(len(artists), generator=generator)
        picks = torch.empty_like(labels)
        for i, a in enumerate(partner.tolist()):
            mine = slot == i
            picks[mine] = members[a][torch.randint(len(members[a]), (int(mine.sum()),), generator=generator)]
        rows = spearman_by_dimension(codes, factors.cpu()[picks], names)
        best[s] = torch.tensor([abs(rho) for _, _, rho in rows]).nan_to_num(0.0)
    return best.quantile(quantile, dim=0).tolist()


# --- how many dimensions ----------------------------------------------------------------------


def suggest_dims(
    values: Sequence[float], dims: Sequence[int], fraction: float = 0.99, higher_is_better: bool = True
) -> int:
    """The smallest number of kept dimensions that is almost as good as the rest.

    - ``higher_is_better=True`` (a score, e.g. accuracy): the smallest ``k`` whose value
      reaches ``fraction`` times the value with the most dimensions (all of them, when
      ``dims`` ends with the code width): ``value(k) >= fraction * value(max(dims))``.
    - ``higher_is_better=False`` (an error, e.g. reconstruction error): the smallest ``k``
      whose value is within ``1 + (1 - fraction)`` times the best (smallest) one:
      ``value(k) <= (2 - fraction) * min(values)``.

    Args:
        values: one value >= 0 per entry of ``dims``.
        dims: the distinct numbers of kept dimensions the values were measured at (any order).
        fraction: how close to the reference counts as good enough, in (0, 1].
        higher_is_better: whether the values are scores (True) or errors (False).

    Returns:
        the suggested number of dimensions, one of ``dims``.
    """
    values, dims = [float(v) for v in values], list(dims)
    if len(values) != len(dims) or not dims:
        raise ValueError(f"values and dims must be non-empty and of the same length; got {len(values)} and {len(dims)}")
    if len(set(dims)) != len(dims):
        raise ValueError(f"dims must be distinct; got {dims}")
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise ValueError(f"values must be finite numbers >= 0; got {values}")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction={fraction} must be in (0, 1]")
    pairs = sorted(zip(dims, values, strict=True))
    if higher_is_better:
        target = fraction * pairs[-1][1]
        good = [k for k, v in pairs if v >= target]
    else:
        target = (2 - fraction) * min(values)
        good = [k for k, v in pairs if v <= target]
    return good[0]


# --- running a module over images ---------------------------------------------------------------


@torch.no_grad()
def encode_images(
    module: StyleCoder, datamodule: AnimeFacesDataModule, split: str = "val", limit: int | None = 1024
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Style codes of the first ``limit`` images of a split, with their labels and, on
    synthetic data, their true style factors.

    The module runs in eval mode without gradients, on the device its parameters are on;
    its mode is restored afterwards.

    Args:
        module: a :class:`~animestyle.methods.MetricStyleEncoder` (its ``encode`` takes sRGB
            (B, 3, S, S) in [-1, 1] to (B, D)).
        datamodule: the images; its ``image_size`` must be the module's.
        split: ``"train"`` or ``"val"``, read in order (not shuffled; training images are
            augmented if the data module augments them).
        limit: at most this many images; None: the whole split.

    Returns:
        codes (N, D) float32, labels (N,) int64 (``batch["artist"]``: the classes the encoder
        was trained on) and the true style factors (N, len(STYLE_FACTORS)) float32 in the
        order of ``Style.names()`` (None unless the data is synthetic), all on the CPU.
    """
    codes: list[torch.Tensor] = []
    labels: list[torch.Tensor] = []
    styles: list[torch.Tensor] = []
    with eval_mode(module):
        for batch in image_batches(datamodule, split, limit, module_device(module), "encoding"):
            codes.append(module.encode(batch["x"]).float().cpu())
            labels.append(batch["artist"].cpu())
            if "style" in batch:
                styles.append(batch["style"].float().cpu())
    factors = torch.cat(styles) if styles and len(styles) == len(codes) else None
    return torch.cat(codes), torch.cat(labels), factors


@torch.no_grad()
def reconstruction_by_dims(
    module: ContentReconstructor,
    datamodule: AnimeFacesDataModule,
    dims: Sequence[int],
    split: str = "val",
    limit: int | None = 1024,
) -> list[float]:
    """Mean squared reconstruction error per pixel from the first ``k`` content dimensions,
    for each ``k`` in ``dims``, over the first ``limit`` images of a split: the curve the
    content code is pruned by.

    Args:
        module: a :class:`~animestyle.methods.StyleConditionedVAE`.
        datamodule: the images; its ``image_size`` must be the module's.
        dims: numbers of kept content dimensions, each in [1, content_dim].
        split: ``"train"`` or ``"val"``.
        limit: at most this many images; None: the whole split.

    Returns:
        one mean squared error (network colour space, per pixel and channel) per entry of ``dims``.
    """
    dims = check_dims(dims, module.content_dim)
    totals = [0.0] * len(dims)
    count = 0
    with eval_mode(module):
        for batch in image_batches(datamodule, split, limit, module_device(module), "reconstructing"):
            n = len(batch["x"])
            for j, error in enumerate(module.reconstruction_error(batch["x"], dims)):
                totals[j] += error * n  # every image has the same number of pixels
            count += n
    return [t / count for t in totals]


# --- output -------------------------------------------------------------------------------------


def plot_curves(
    series: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    ylabel: str,
    path: str | Path,
    logx: bool = True,
    title: str | None = None,
    baselines: Mapping[str, float] | None = None,
) -> Path:
    """A PNG of one curve per method against the number of kept dimensions.

    Args:
        series: method name -> (dims, values), e.g. ``{"metric learning": ([1, 2, 4], [...])}``.
        ylabel: the y axis title.
        path: the PNG to write (its folder is created).
        logx: log-scaled x axis (base 2, ticks at the dims), as the paper's Figure 1.
        title: the plot title; None: none.
        baselines: name -> a value drawn as a dashed horizontal line (e.g. chance accuracy).

    Returns:
        the path written.
    """
    if not series:
        raise ValueError("series is empty: give at least one curve")
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plot_curves needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 3.6), dpi=120)
    try:
        ticks: set[int] = set()
        for name, (dims, values) in series.items():
            if len(dims) != len(values):
                raise ValueError(f"series {name!r} has {len(dims)} dims but {len(values)} values")
            axes.plot(list(dims), list(values), marker="o", label=name)
            ticks.update(int(d) for d in dims)
        for name, value in (baselines or {}).items():
            axes.axhline(value, linestyle="--", color="grey", linewidth=1, label=name)
        if logx:
            axes.set_xscale("log", base=2)
        axes.set_xticks(sorted(ticks), [str(t) for t in sorted(ticks)])
        axes.set_xlabel("kept dimensions k")
        axes.set_ylabel(ylabel)
        if title:
            axes.set_title(title)
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path
