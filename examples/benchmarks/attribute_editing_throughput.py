"""Attribute-editing training throughput: images/s and peak memory of the STGAN attribute
editor (``AttributeEditor``) and of the attribute classifier that scores its edits.

    python examples/benchmarks/attribute_editing_throughput.py                   # 64 and 128 px, batch 32
    python examples/benchmarks/attribute_editing_throughput.py --sizes 64 --stages editor --seconds 60
    python examples/benchmarks/attribute_editing_throughput.py --sizes 32 --batch 2 --widths 8 16 32 \\
        --iterations 1 --warmup 0 --json results.json

Each configuration runs in its own process (so that peak memory is its own) through a real
Lightning ``Trainer`` on the synthetic portraits (8 artists, all 21 synthetic attributes,
RGB), with the modules' defaults: for the editor STGAN's (WGAN-GP, ``n_critic=5``) and the
widths of the size (``stgan_preset``, or ``--widths``); for the classifier its default widths.
The first ``--warmup`` iterations are not timed (by default one whole ``n_critic`` cycle, so
that the first generator step is among them); then at least ``--iterations`` iterations and at
least ``--seconds`` seconds are. One iteration is one batch: for the editor, a discriminator
step, plus a generator step every ``n_critic``-th iteration, so it times whole cycles (a
multiple of ``n_critic`` iterations) and ``s/iter`` is the mean over them; for the classifier,
one optimizer step. On a CPU it runs in fp32; with a CUDA device, in fp32 and in bf16-mixed.
Peak memory is the process's peak resident set size on a CPU, and the peak of allocated GPU
memory on CUDA. The table is Markdown; ``--json`` also writes the results to a file.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

from _common import IterationClock, bare_trainer, benchmark_parser, run_configurations, start, synthetic_data

STAGES = ("editor", "classifier")
ARTISTS = 8


def _model(stage: str, size: int, names: list[str], widths: list[int] | None) -> Any:
    from animestyle.methods import AttributeClassifier, AttributeEditor

    if stage == "editor":
        return AttributeEditor(names, ARTISTS, size, widths=widths)
    return AttributeClassifier(names, ARTISTS, size)


def measure(
    stage: str, size: int, batch: int, iterations: int, warmup: int, seconds: float, precision: str,
    widths: list[int] | None,
) -> dict:  # fmt: skip
    """Train ``warmup`` untimed iterations of one stage, then at least ``iterations`` and
    ``seconds`` timed ones (whole ``n_critic`` cycles for the editor); return s/iteration,
    images/s and peak memory."""
    import lightning as L

    warnings.filterwarnings("ignore")
    L.seed_everything(0, verbose=False)
    data = synthetic_data(size, batch, ARTISTS, channels="rgb")
    model = _model(stage, size, list(data.attribute_names), widths)
    cycle = int(model.hparams["n_critic"]) if stage == "editor" else 1
    clock = IterationClock(warmup, iterations, seconds, cycle=cycle)
    with tempfile.TemporaryDirectory(prefix="attribute_editing_benchmark_") as root:
        bare_trainer(precision, root, [clock]).fit(model, data)
    return {
        "stage": stage, "size": size, "batch": batch, "precision": precision, "widths": list(model.widths),
        "attributes": len(model.attribute_names), "n_critic": cycle if stage == "editor" else None,
        **clock.figures(batch),
    }  # fmt: skip


def main() -> None:
    iterations_help = "timed iterations, at least (editor: whole cycles)"
    parser = benchmark_parser(__doc__, sizes=[64, 128], batch=32, warmup=5, iterations_help=iterations_help)
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    parser.add_argument("--widths", type=int, nargs="+", default=None, help="editor widths; default: stgan_preset")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    args = parser.parse_args()
    timing = (args.batch, args.iterations, args.warmup, args.seconds)
    if start(
        args,
        lambda stage, size, precision: measure(stage, size, *timing, precision, args.widths),
        f"{ARTISTS} artists, warm-up {args.warmup} iterations; editor s/iter: mean over whole n_critic cycles\n",
        "| stage | size | batch | precision | widths | iters | s/iter | images/s | peak GiB |",
        "|---|--:|--:|---|---|--:|--:|--:|--:|",
    ):
        return
    stages = [s for s in STAGES if s in args.stages]
    options = ["--batch", str(args.batch)] + (["--widths", *map(str, args.widths)] if args.widths else [])

    def row(size: int, stage: str, precision: str, r: dict) -> str:
        widths = "-".join(map(str, r["widths"]))
        return (
            f"| {stage} | {size} | {args.batch} | {precision} | {widths} | {r['iterations']} "
            f"| {r['seconds_per_iteration']:.3f} | {r['images_per_second']:.1f} | {r['peak_gib']:.2f} |"
        )

    run_configurations(__file__, args, stages, row, options, json_path=args.json)


if __name__ == "__main__":
    main()
