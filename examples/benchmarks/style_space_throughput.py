"""Style-space training throughput: images/s and peak memory of the metric style encoder,
the style-conditioned VAE and the style/content GAN.

    python examples/benchmarks/style_space_throughput.py                    # 64 and 256 px, batch 8
    python examples/benchmarks/style_space_throughput.py --sizes 64 --stages vae gan --iterations 20
    python examples/benchmarks/style_space_throughput.py --sizes 32 --artists 2 --iterations 1 --warmup 0

Each configuration runs in its own process (so that peak memory is its own) through a real
Lightning ``Trainer`` on the synthetic portraits, with the default widths of the size
(``style_space_preset``), the modules' defaults (but ``statistics_batches=2`` for the GAN, whose
style statistics are estimated before training) and 100 artists. The VAE and the GAN read the
checkpoints of the earlier stages: untrained ones (one optimizer step each) are made first, in
a process of their own, once per size. The first ``--warmup`` iterations are not timed; then
at least ``--iterations`` iterations and at least ``--seconds`` seconds are. One iteration is
one batch (the GAN's holds a discriminator and a generator step). On a CPU it runs in fp32;
with a CUDA device, in fp32 and in bf16-mixed. Peak memory is the process's peak resident set
size on a CPU, and the peak of allocated GPU memory on CUDA.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from _common import IterationClock, bare_trainer, benchmark_parser, run_child, run_configurations, start, synthetic_data

STAGES = ("metric", "vae", "gan")
NEEDS = {"metric": (), "vae": ("metric",), "gan": ("metric", "vae")}  # input checkpoints of each stage


def _model(stage: str, size: int, artists: int, folder: Path) -> Any:
    from animestyle.methods import MetricStyleEncoder, StyleConditionedVAE, StyleContentGAN

    style, content = str(folder / "metric.ckpt"), str(folder / "vae.ckpt")
    if stage == "metric":
        return MetricStyleEncoder(artists, size)
    if stage == "vae":
        return StyleConditionedVAE(artists, size, style_checkpoint=style)
    return StyleContentGAN(artists, size, style_checkpoint=style, content_checkpoint=content, statistics_batches=2)


def prepare(stages: list[str], size: int, batch: int, artists: int, folder: Path) -> None:
    """Write the untrained input checkpoints ``stages`` need into ``folder``: each earlier
    stage trained for one optimizer step, then saved."""
    import lightning as L

    warnings.filterwarnings("ignore")
    L.seed_everything(0, verbose=False)
    needed = {earlier for stage in stages for earlier in NEEDS[stage]}
    for stage in (s for s in STAGES if s in needed):  # in order: the VAE reads the metric checkpoint
        model = _model(stage, size, artists, folder)
        trainer = bare_trainer("32-true", str(folder), max_steps=1)
        trainer.fit(model, synthetic_data(size, batch, artists))
        trainer.save_checkpoint(folder / f"{stage}.ckpt")


def measure(
    stage: str, size: int, batch: int, artists: int, iterations: int, warmup: int, seconds: float, precision: str,
    folder: Path,
) -> dict:  # fmt: skip
    """Train ``warmup`` untimed iterations of one stage, then at least ``iterations`` and
    ``seconds`` timed ones; return s/iteration, images/s and peak memory."""
    import lightning as L

    warnings.filterwarnings("ignore")
    L.seed_everything(0, verbose=False)
    model = _model(stage, size, artists, folder)
    clock = IterationClock(warmup, iterations, seconds, counter=lambda: int(model.iteration))
    bare_trainer(precision, str(folder), [clock]).fit(model, synthetic_data(size, batch, artists))
    return {"stage": stage, "size": size, "batch": batch, "precision": precision, **clock.figures(batch)}


def main() -> None:
    parser = benchmark_parser(__doc__, sizes=[64, 256], batch=8, warmup=3)
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    parser.add_argument("--artists", type=int, default=100)
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)  # internal: input checkpoints of a size
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)  # internal: where the checkpoints are
    args = parser.parse_args()
    if args.prepare:
        prepare(args.stages, args.prepare, args.batch, args.artists, args.folder)
        return
    timing = (args.batch, args.artists, args.iterations, args.warmup, args.seconds)
    header = f"{'stage':>6} {'size':>5} {'batch':>5} {'precision':>11} {'iters':>5} {'s/iter':>8} {'images/s':>9} "
    if start(
        args,
        lambda stage, size, precision: measure(stage, size, *timing, precision, args.folder),
        f"{args.artists} artists, warm-up {args.warmup} iterations",
        header + f"{'peak GiB':>9}",
    ):
        return
    stages = [s for s in STAGES if s in args.stages]
    common = ["--batch", str(args.batch), "--artists", str(args.artists)]

    def row(size: int, stage: str, precision: str, r: dict) -> str:
        return (
            f"{stage:>6} {size:>5} {args.batch:>5} {precision:>11} {r['iterations']:>5} "
            f"{r['seconds_per_iteration']:>8.3f} {r['images_per_second']:>9.1f} {r['peak_gib']:>9.2f}"
        )

    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="style_space_benchmark_") as folder:
            if any(NEEDS[s] for s in stages):
                command = [sys.executable, __file__, "--prepare", str(size), "--folder", folder]
                run_child([*command, "--stages", *stages, *common], f"making the input checkpoints at {size} px")
            run_configurations(__file__, args, stages, row, ["--folder", folder, *common], sizes=[size])


if __name__ == "__main__":
    main()
