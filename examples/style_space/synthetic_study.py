"""The style-space paper's Sec. 6.1 (Figure 1) on the synthetic portraits, from finished runs.

The paper judges its metric-learning style encoder against the same network trained as a
plain artist classifier, by the number ``k`` of kept (nested-dropout ordered) dimensions:
(left) classification accuracy, the metric encoder reading the nearest learned artist
representative; (right) the ratio of the average within-artist variance to the average
squared distance between images of different artists (smaller is better). On synthetic data
every image's true style factors are known, so this also names the factor each of the first
kept style dimensions follows, and it prunes the content VAE's code by reconstruction error.

Train the three stages first (about 10 minutes each on a CPU), then read them:

    animestyle fit --config examples/style_space/synthetic32/metric.yaml
    animestyle fit --config examples/style_space/synthetic32/classifier.yaml
    animestyle fit --config examples/style_space/synthetic32/vae.yaml
    python examples/style_space/synthetic_study.py --json outputs/style_space/synthetic32/study.json

Images are held-out (val) portraits of the training artists (``--seed`` must be the
training seed). Prints Markdown tables, writes the two Figure 1 plots (``--accuracy-plot``,
``--ratio-plot``, both methods on each) and, with ``--json``, every number. Pass ``--classifier
''`` or ``--vae ''`` to leave that model out.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.data.synthetic import Style
from animestyle.methods import MetricStyleEncoder, StyleConditionedVAE
from animestyle.methods.base import CheckpointError, read_checkpoint
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

RUN = Path("outputs/style_space/synthetic32")
FIX = "train it with animestyle fit --config examples/style_space/synthetic32/{}.yaml"
NAMES = {"metric": "metric learning", "classifier": "classification"}
METHODS = {"metric": "MetricStyleEncoder", "classifier": "MetricStyleEncoder", "vae": "StyleConditionedVAE"}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    runs = parser.add_argument_group("checkpoints")
    runs.add_argument("--metric", type=Path, default=RUN / "metric/checkpoints/last.ckpt", help="objective=metric")
    runs.add_argument(
        "--classifier", default=str(RUN / "classifier/checkpoints/last.ckpt"), help="objective=classification; '': none"
    )
    runs.add_argument("--vae", default=str(RUN / "vae/checkpoints/last.ckpt"), help="StyleConditionedVAE; '': none")
    data = parser.add_argument_group("data")
    data.add_argument("--images", type=int, default=1024, help="held-out (val) images to score")
    data.add_argument("--seed", type=int, default=0, help="seed of the synthetic portraits: the training seed")
    data.add_argument("--batch-size", type=int, default=128)
    data.add_argument("--num-workers", type=int, default=0)
    study = parser.add_argument_group("study")
    study.add_argument("--dims", type=int, nargs="+", default=None, help="kept style dims; default 1, 2, 4, ... D")
    study.add_argument("--kept", type=int, default=8, help="style dims the Spearman table describes")
    study.add_argument("--fraction", type=float, default=0.99, help="of the best score, for the suggested dims")
    study.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    out = parser.add_argument_group("output")
    out.add_argument("--accuracy-plot", type=Path, default=Path("docs/images/style_space_accuracy.png"))
    out.add_argument("--ratio-plot", type=Path, default=Path("docs/images/style_space_ratio.png"))
    out.add_argument("--json", type=Path, default=None, help="write every number here")
    args = parser.parse_args(argv)
    for name in ("images", "kept", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.num_workers < 0:
        parser.error("--num-workers must be >= 0")
    return args


def _record(path: Path, argument: str, method: str, fix: str) -> dict[str, Any]:
    return read_checkpoint(path, argument, (method,), fix)["animestyle"]


def _encoder_scores(
    encoder: MetricStyleEncoder, data: AnimeFacesDataModule, images: int, dims: list[int], fraction: float
) -> tuple[dict[str, Any], torch.Tensor, torch.Tensor, torch.Tensor | None]:
    codes, labels, factors = encode_images(encoder, data, "val", images)
    accuracy = accuracy_by_dims(encoder, codes, labels, dims)
    variances = variance_ratio_by_dims(codes, labels, dims)
    scores = {
        "accuracy": accuracy,
        "v_intra": [v[0] for v in variances],
        "v_inter": [v[1] for v in variances],
        "ratio": [v[2] for v in variances],
        "suggested_dims": suggest_dims(accuracy, dims, fraction),
    }
    return scores, codes, labels, factors


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    start = time.perf_counter()
    paths: dict[str, Path] = {"metric": args.metric}
    paths.update({name: Path(getattr(args, name)) for name in ("classifier", "vae") if getattr(args, name)})
    records = {name: _record(path, f"--{name}", METHODS[name], FIX.format(name)) for name, path in paths.items()}
    for name, objective in (("metric", "metric"), ("classifier", "classification")):
        if name in records and records[name]["objective"] != objective:
            raise SystemExit(f"--{name} is a MetricStyleEncoder with objective={records[name]['objective']!r}; "
                             f"it must have objective={objective!r}")  # fmt: skip
    first = records["metric"]
    for name, record in records.items():
        for key in ("num_artists", "image_size"):
            if record[key] != first[key]:
                raise SystemExit(f"--{name} was trained with {key}={record[key]} but --metric with {first[key]}")
    num_artists, image_size = first["num_artists"], first["image_size"]
    source = SyntheticSource(num_artists=num_artists, seed=args.seed, train_size=1, val_size=args.images)
    data = AnimeFacesDataModule(
        synthetic=source, image_size=image_size, batch_size=args.batch_size, num_workers=args.num_workers
    )
    device = torch.device(args.device)

    def load(cls: Any, name: str) -> Any:
        return cls.load_from_checkpoint(paths[name], map_location="cpu", weights_only=True).to(device).eval()

    encoders = {name: load(MetricStyleEncoder, name) for name in ("metric", "classifier") if name in paths}
    width = min(encoder.style_dim for encoder in encoders.values())
    dims = sorted(set(args.dims)) if args.dims else default_dims(width)
    if not all(1 <= d <= width for d in dims):
        raise SystemExit(f"--dims must be from 1 to the style width {width}; got {dims}")
    chance = 1 / num_artists
    results: dict[str, Any] = {
        "checkpoints": {name: str(path) for name, path in paths.items()},
        "num_artists": num_artists,
        "image_size": image_size,
        "seed": args.seed,
        "chance_accuracy": chance,
        "dims": dims,
        "fraction": args.fraction,
    }
    codes: dict[str, torch.Tensor] = {}
    factors = None
    for name, encoder in encoders.items():
        results[name], codes[name], labels, factors = _encoder_scores(encoder, data, args.images, dims, args.fraction)
    results["images"] = len(codes["metric"])

    print(
        f"## Style encoders by kept dimensions k: {results['images']} held-out synthetic portraits, "
        f"{num_artists} artists, {image_size} px\n"
    )
    names = list(encoders)
    print("**Classification accuracy (Figure 1 left)**\n")
    rows = [(k, *(results[n]["accuracy"][i] for n in names)) for i, k in enumerate(dims)]
    print(markdown_table(["k", *(NAMES[n] for n in names)], rows))
    print(f"\nChance accuracy: {chance:.4f} (1 / {num_artists} artists)")
    for n in names:
        print(
            f"Suggested style dims ({NAMES[n]}): {results[n]['suggested_dims']} "
            f"(the smallest k reaching {args.fraction * 100:g}% of the accuracy with {dims[-1]} dims)"
        )
    print("\n**V_intra / V_inter: within-artist variance over between-artist squared distance (Figure 1 right; "
          "smaller is better)**\n")  # fmt: skip
    header = ["k", *(f"{NAMES[n]} ratio" for n in names)]
    header += [f"{NAMES[n]} {v}" for n in names for v in ("V_intra", "V_inter")]
    rows = [
        (
            k,
            *(results[n]["ratio"][i] for n in names),
            *(results[n][v][i] for n in names for v in ("v_intra", "v_inter")),
        )
        for i, k in enumerate(dims)
    ]
    print(markdown_table(header, rows))

    plots = [
        plot_curves(
            {NAMES[n]: (dims, results[n]["accuracy"]) for n in names}, "artist classification accuracy",
            args.accuracy_plot, title="Accuracy by kept style dimensions", baselines={"chance": chance},
        ),
        plot_curves(
            {NAMES[n]: (dims, results[n]["ratio"]) for n in names}, "V_intra / V_inter", args.ratio_plot,
            title="Within / between artist spread (lower is better)",
        ),
    ]  # fmt: skip
    results["plots"] = [str(p) for p in plots]

    if factors is not None:
        kept = min(args.kept, encoders["metric"].style_dim)
        spearman = spearman_by_dimension(codes["metric"][:, :kept], factors, Style.names())
        chance_rho = spearman_chance(codes["metric"][:, :kept], labels, factors, Style.names())
        rows = [(*row, c) for row, c in zip(spearman, chance_rho, strict=True)]
        results["spearman"] = [{"dim": d, "factor": f, "rho": rho, "chance": c} for d, f, rho, c in rows]
        print(f"\n**True style factor each of the first {kept} metric style dimensions follows most "
              "(Spearman rank correlation; continuous factors only; dims 0-based)**\n")  # fmt: skip
        print(markdown_table(["dim", "factor", "rho", "chance level of abs(rho) (95%, artists shuffled)"], rows))

    if "vae" in paths:
        vae = load(StyleConditionedVAE, "vae")
        content_dims = default_dims(vae.content_dim)
        errors = reconstruction_by_dims(vae, data, content_dims, "val", args.images)
        suggested = suggest_dims(errors, content_dims, args.fraction, higher_is_better=False)
        results["vae"] = {"dims": content_dims, "reconstruction_error": errors, "suggested_dims": suggested}
        print(f"\n**Content VAE: reconstruction error (MSE per pixel, network colour space) by kept content "
              f"dims (style dims given: {vae.style_dims})**\n")  # fmt: skip
        print(markdown_table(["k", "reconstruction error"], list(zip(content_dims, errors, strict=True))))
        within = (1 - args.fraction) * 100
        print(f"\nSuggested content dims: {suggested} (the smallest k within {within:g}% of the best error)")

    print(f"\nplots: {', '.join(results['plots'])}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
        print(f"numbers: {args.json}")
    print(f"time: {time.perf_counter() - start:.1f} s")
    return results


if __name__ == "__main__":
    try:
        main()
    except CheckpointError as error:  # a missing or wrong checkpoint: say which, no traceback
        raise SystemExit(f"synthetic_study.py: error: {error}") from None
