"""Conditional adversarial style transfer: training throughput, peak memory and parameters of
both approaches (``DualDiscriminatorNST``, ``EncoderDiscriminatorNST``).

    python examples/benchmarks/nst_throughput.py                       # 64 and 128 px, batch 16
    python examples/benchmarks/nst_throughput.py --sizes 128 --seconds 60
    python examples/benchmarks/nst_throughput.py --sizes 64 --batch 2 --iterations 1 --warmup 0 --json r.json

Each configuration runs in its own process (so that peak memory is its own) through a real
Lightning ``Trainer`` on the synthetic portraits (8 artists, style pairs), with the
modules' defaults (the author's settings). One iteration is one batch: a content
discriminator, a style discriminator and a generator step. The first ``--warmup``
iterations are not timed; then at least ``--iterations`` iterations and ``--seconds``
seconds are. On a CPU it runs in fp32; with a CUDA device, in fp32 and in bf16-mixed.
``params`` counts every network; ``transfer params`` what ``transfer()`` runs (approach 1:
the generator; approach 2: all three networks, the encoders being the discriminators).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from _common import IterationClock, bare_trainer, benchmark_parser, run_configurations, start, synthetic_data

APPROACHES = ("dual", "encoder")
ARTISTS = 8


def measure(approach: str, size: int, batch: int, iterations: int, warmup: int, seconds: float, precision: str) -> dict:
    """Train one approach for ``warmup`` untimed and at least ``iterations`` / ``seconds`` timed
    iterations; return s/iteration, images/s, peak memory and parameter counts."""
    import lightning as L

    from animestyle.methods import DualDiscriminatorNST, EncoderDiscriminatorNST

    warnings.filterwarnings("ignore")
    L.seed_everything(0, verbose=False)
    data = synthetic_data(size, batch, ARTISTS, attributes=[], style_pairs=True)
    model = (DualDiscriminatorNST if approach == "dual" else EncoderDiscriminatorNST)(ARTISTS, size)
    clock = IterationClock(warmup, iterations, seconds)
    with tempfile.TemporaryDirectory(prefix="nst_benchmark_") as root:
        bare_trainer(precision, root, [clock]).fit(model, data)
    counts = model.parameter_counts()
    return {
        "approach": approach, "size": size, "batch": batch, "precision": precision, **clock.figures(batch),
        "parameters": counts["total"], "transfer_parameters": counts["transfer"],
    }  # fmt: skip


def main() -> None:
    parser = benchmark_parser(__doc__, sizes=[64, 128], batch=16, warmup=3)
    parser.add_argument("--approaches", nargs="+", default=list(APPROACHES), choices=APPROACHES)
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    args = parser.parse_args()
    timing = (args.batch, args.iterations, args.warmup, args.seconds)
    if start(
        args,
        lambda approach, size, precision: measure(approach, size, *timing, precision),
        f"{ARTISTS} artists, style pairs, warm-up {args.warmup} iterations; defaults of each approach\n",
        "| approach | size | batch | precision | iters | s/iter | images/s | peak GiB | params | transfer params |",
        "|---|--:|--:|---|--:|--:|--:|--:|--:|--:|",
    ):
        return
    approaches = [a for a in APPROACHES if a in args.approaches]

    def row(size: int, approach: str, precision: str, r: dict) -> str:
        return (
            f"| {approach} | {size} | {args.batch} | {precision} | {r['iterations']} "
            f"| {r['seconds_per_iteration']:.3f} | {r['images_per_second']:.1f} | {r['peak_gib']:.2f} "
            f"| {r['parameters']:,} | {r['transfer_parameters']:,} |"
        )

    run_configurations(__file__, args, approaches, row, ["--batch", str(args.batch)], json_path=args.json)


if __name__ == "__main__":
    main()
