"""``animestyle style-report``: a MetricStyleEncoder or StyleConditionedVAE checkpoint scored
by kept code dimensions (the style-space paper's Figure 1 and pruning), with the metrics of
:mod:`animestyle.metrics.style_space`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from animestyle.checks import check_count
from animestyle.data.datamodule import AnimeFacesDataModule, SyntheticSource
from animestyle.data.synthetic import Style
from animestyle.inference import load_checkpoint
from animestyle.metrics import (
    accuracy_by_dims,
    default_dims,
    encode_images,
    markdown_table,
    plot_curves,
    reconstruction_by_dims,
    spearman_by_dimension,
    spearman_chance,
    suggest_dims,
    variance_ratio_by_dims,
)
from animestyle.metrics.style_space import check_dims

__all__ = ["style_report"]

_METHODS = ("MetricStyleEncoder", "StyleConditionedVAE")
_FIX = "train one with animestyle fit --config examples/style_space/<size>/metric.yaml (or vae.yaml)"


def style_report(
    checkpoint: str,
    output: str | None = None,
    manifest: str | None = None,
    folder: str | None = None,
    synthetic_seed: int = 0,
    images: int = 1024,
    dims: list[int] | None = None,
) -> dict[str, Any]:
    """Score a style encoder or content VAE checkpoint by kept code dimensions; suggest how many to keep.

    The scores are printed as Markdown tables and returned.

    For a :class:`~animestyle.methods.MetricStyleEncoder` (either objective): classification
    accuracy and the ratio of within-artist variance to between-artist squared distance
    (the paper's Figure 1), the suggested number of style dimensions (the smallest reaching
    99% of the all-dimensions accuracy) and, on synthetic data, the true style factor each
    dimension follows. For a :class:`~animestyle.methods.StyleConditionedVAE`: the
    reconstruction error and the suggested number of content dimensions (the smallest within
    1% of the best error).

    Images are held-out (val) ones of the data the module was trained on: ``manifest`` or
    ``folder``, else the synthetic portraits (``synthetic_seed``, which must be the training
    seed) with the checkpoint's number of artists.

    Args:
        checkpoint: a MetricStyleEncoder or StyleConditionedVAE ``.ckpt``.
        output: folder for PNG plots of the curves (created); None: no plots.
        manifest: a ``manifest.csv`` written by ``animestyle prepare``.
        folder: a folder of ``<artist>/<crop>.png``.
        synthetic_seed: seed of the synthetic portraits, when neither is given.
        images: held-out images to score (at most).
        dims: numbers of kept dimensions; default 1, 2, 4, ... and the code width.

    Returns:
        the numbers: ``method``, ``images``, ``dims``, ``suggested_dims`` and, for an
        encoder, ``objective``, ``num_artists``, ``chance_accuracy``, ``accuracy``,
        ``v_intra``, ``v_inter``, ``ratio``, ``spearman`` (a list of ``{"dim", "factor",
        "rho", "chance"}`` with ``chance`` from :func:`spearman_chance`, or None on real
        data); for a VAE ``reconstruction_error``; and ``plots`` (the PNGs written).
    """
    images = check_count("images", images, 1)
    check_count("synthetic_seed", synthetic_seed, 0)
    model, record = load_checkpoint(checkpoint, _METHODS, fix=_FIX)
    method = record["method"]
    width = record["style_dim"] if method == "MetricStyleEncoder" else record["content_dim"]
    dims = check_dims(dims, width) if dims is not None else default_dims(width)
    source = None
    if not (manifest or folder):
        source = SyntheticSource(num_artists=record["num_artists"], seed=synthetic_seed, train_size=1, val_size=images)
    data = AnimeFacesDataModule(
        manifest=manifest, folder=folder, synthetic=source, image_size=record["image_size"], batch_size=64
    )
    if data.num_artists != record["num_artists"]:
        given = "manifest" if manifest else "folder"
        raise ValueError(
            f"{given} holds {data.num_artists} artists but the checkpoint was trained on {record['num_artists']}; "
            "score a module on the data it was trained on"
        )
    out = Path(output) if output is not None else None
    result: dict[str, Any] = {"checkpoint": str(checkpoint), "method": method, "dims": dims, "plots": []}

    if method == "StyleConditionedVAE":
        errors = reconstruction_by_dims(model, data, dims, "val", images)
        suggested = suggest_dims(errors, dims, higher_is_better=False)
        count = min(images, len(data.val_set))  # type: ignore[arg-type]
        result.update(images=count, reconstruction_error=errors, suggested_dims=suggested)
        print(
            f"**StyleConditionedVAE: reconstruction error by kept content dimensions, {result['images']} val images**"
        )
        print()
        print(markdown_table(["k", "reconstruction error (MSE)"], list(zip(dims, errors, strict=True))))
        print(f"\nSuggested content dims: {suggested} (the smallest k within 1% of the best error)")
        if out is not None:
            result["plots"].append(
                str(plot_curves({"VAE": (dims, errors)}, "reconstruction error (MSE)", out / "reconstruction.png"))
            )
        return result

    codes, labels, factors = encode_images(model, data, "val", images)
    accuracy = accuracy_by_dims(model, codes, labels, dims)
    variances = variance_ratio_by_dims(codes, labels, dims)
    suggested = suggest_dims(accuracy, dims)
    chance = 1 / record["num_artists"]
    spearman = None
    if factors is not None:
        chance_rho = spearman_chance(codes, labels, factors, Style.names())
        spearman = [
            {"dim": d, "factor": name, "rho": rho, "chance": c}
            for (d, name, rho), c in zip(spearman_by_dimension(codes, factors, Style.names()), chance_rho, strict=True)
        ]
    result.update(
        objective=record["objective"], num_artists=record["num_artists"], images=len(codes), chance_accuracy=chance,
        accuracy=accuracy, v_intra=[v[0] for v in variances], v_inter=[v[1] for v in variances],
        ratio=[v[2] for v in variances], suggested_dims=suggested, spearman=spearman,
    )  # fmt: skip
    print(
        f"**MetricStyleEncoder (objective={record['objective']}) by kept style dimensions, {len(codes)} val "
        f"images, {record['num_artists']} artists (chance accuracy {chance:.4f})**"
    )
    print()
    rows = [(k, a, *v) for k, a, v in zip(dims, accuracy, variances, strict=True)]
    print(markdown_table(["k", "accuracy", "V_intra", "V_inter", "V_intra / V_inter"], rows))
    print(f"\nSuggested style dims: {suggested} (the smallest k reaching 99% of the accuracy with {max(dims)} dims)")
    if spearman is not None:
        print("\n**True style factor each dimension follows most (Spearman rank correlation)**\n")
        header = ["dim", "factor", "rho", "chance level of abs(rho) (95%, artists shuffled)"]
        print(markdown_table(header, [(s["dim"], s["factor"], s["rho"], s["chance"]) for s in spearman]))
    if out is not None:
        name = "metric learning" if record["objective"] == "metric" else "classification"
        result["plots"] += [
            str(plot_curves({name: (dims, accuracy)}, "accuracy", out / "accuracy.png", baselines={"chance": chance})),
            str(plot_curves({name: (dims, result["ratio"])}, "V_intra / V_inter", out / "ratio.png")),
        ]
    return result
