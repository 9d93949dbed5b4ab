"""GADN training throughput: images/s and peak memory of stage 1 and stage 2.

    python examples/benchmarks/gadn_throughput.py                       # 64 and 256 px, batch 8
    python examples/benchmarks/gadn_throughput.py --sizes 64 --stages 1 --channels-last

Each configuration runs in its own process (so that peak memory is its own) through a real
Lightning ``Trainer`` on the synthetic portraits, with the official code's network preset for
the size (``gadn_preset``) and 100 artists. The first ``--warmup`` iterations are not timed;
then ``--iterations`` iterations are (more while fewer than ``--seconds`` seconds are timed).
On a CPU it runs in fp32; with a CUDA device, in fp32 and in bf16-mixed. Peak memory is the
process's peak resident set size on a CPU, and the peak of allocated GPU memory on CUDA.

Reference (issue 4): the official code runs stage 1 at 64 px, batch 8, at about 1.46 s per
iteration on this project's 2-core CPU machine (5.5 images/s, 1.96 GB peak memory).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from _common import IterationClock, bare_trainer, benchmark_parser, run_configurations, start, synthetic_data

ARTISTS = 100


def measure(
    stage: int, size: int, batch: int, iterations: int, warmup: int, seconds: float, precision: str, options: dict
) -> dict:
    """Train ``warmup`` untimed iterations of one stage, then ``iterations`` timed ones (more
    while fewer than ``seconds`` seconds are timed); return s/iteration, images/s and peak memory."""
    import lightning as L

    from animestyle.methods import GADNClassifierPretrain, GADNStage1, GADNStage2

    warnings.filterwarnings("ignore")
    L.seed_everything(0, verbose=False)
    data = synthetic_data(size, batch, ARTISTS)
    with tempfile.TemporaryDirectory(prefix="gadn_benchmark_") as root:
        folder = Path(root)
        model: L.LightningModule
        if stage == 1:
            model = GADNStage1(ARTISTS, size, **options)
        else:  # stage 2 starts from checkpoints: make untrained ones, as fast as possible
            for name, module in (("stage1", GADNStage1(ARTISTS, size)), ("c2", GADNClassifierPretrain(ARTISTS, size))):
                trainer = bare_trainer("32-true", root)
                trainer.strategy.connect(module)
                trainer.save_checkpoint(folder / f"{name}.ckpt")
            model = GADNStage2(
                ARTISTS, size, stage1_checkpoint=str(folder / "stage1.ckpt"),
                classifier_checkpoint=str(folder / "c2.ckpt"), **options,
            )  # fmt: skip
        clock = IterationClock(warmup, iterations, seconds, counter=lambda: int(model.iteration))
        bare_trainer(precision, root, [clock]).fit(model, data)
    return {"stage": stage, "size": size, "batch": batch, "precision": precision, **clock.figures(batch)}


def main() -> None:
    parser = benchmark_parser(__doc__, sizes=[64, 256], batch=8, warmup=3, iterations_help="timed iterations")
    parser.add_argument("--stages", type=int, nargs="+", default=[1, 2], choices=[1, 2])
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true", help="torch.compile the networks")
    args = parser.parse_args()
    options = {"channels_last": args.channels_last, "compile": args.compile}
    timing = (args.batch, args.iterations, args.warmup, args.seconds)
    header = f"{'stage':>5} {'size':>5} {'batch':>5} {'precision':>11} {'s/iter':>8} {'images/s':>9} {'peak GiB':>9}"
    if start(args, lambda stage, size, precision: measure(int(stage), size, *timing, precision, options), header):
        return
    flags = ["--batch", str(args.batch)] + [f"--{k.replace('_', '-')}" for k, v in options.items() if v]

    def row(size: int, stage: int, precision: str, r: dict) -> str:
        return (
            f"{stage:>5} {size:>5} {args.batch:>5} {precision:>11} {r['seconds_per_iteration']:>8.3f} "
            f"{r['images_per_second']:>9.1f} {r['peak_gib']:>9.2f}"
        )

    run_configurations(__file__, args, args.stages, row, flags, kind="stage ")


if __name__ == "__main__":
    main()
