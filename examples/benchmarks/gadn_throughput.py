"""GADN training throughput: images/s and peak memory of stage 1 and stage 2.

    python examples/benchmarks/gadn_throughput.py                       # 64 and 256 px, batch 8
    python examples/benchmarks/gadn_throughput.py --sizes 64 --stages 1 --channels-last

Each configuration runs in its own process (so that peak memory is its own) through a real
Lightning ``Trainer`` on the synthetic portraits, with the official code's network preset for
the size (``gadn_preset``) and 100 artists. The first ``--warmup`` iterations are not timed.
On a CPU it runs in fp32; with a CUDA device, in fp32 and in bf16-mixed. Peak memory is the
process's peak resident set size on a CPU, and the peak of allocated GPU memory on CUDA.

Reference (issue 4): the official code runs stage 1 at 64 px, batch 8, at about 1.46 s per
iteration on this project's 2-core CPU machine (5.5 images/s, 1.96 GB peak memory).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ARTISTS = 100


def _trainer(max_steps: int, precision: str, callbacks: list[Any] | None = None) -> Any:
    import lightning as L

    return L.Trainer(
        max_steps=max_steps,
        precision=precision,  # type: ignore[arg-type]
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=callbacks or [],
        devices=1,
    )


def measure(stage: int, size: int, batch: int, iterations: int, warmup: int, precision: str, options: dict) -> dict:
    """Train ``warmup + iterations`` iterations of one stage; return images/s and peak memory."""
    import lightning as L
    import torch

    from animestyle.data import AnimeFacesDataModule, SyntheticSource
    from animestyle.methods import GADNClassifierPretrain, GADNStage1, GADNStage2

    warnings.filterwarnings("ignore")
    L.seed_everything(0, verbose=False)
    total = warmup + iterations
    data = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=ARTISTS, train_size=batch * (total + 2), val_size=batch),
        image_size=size,
        batch_size=batch,
        num_workers=1,
    )
    model: L.LightningModule
    if stage == 1:
        model = GADNStage1(ARTISTS, size, **options)
    else:  # stage 2 starts from checkpoints: make untrained ones, as fast as possible
        folder = Path(tempfile.mkdtemp())
        for name, module in (("stage1", GADNStage1(ARTISTS, size)), ("c2", GADNClassifierPretrain(ARTISTS, size))):
            trainer = _trainer(0, "32-true")
            trainer.strategy.connect(module)
            trainer.save_checkpoint(folder / f"{name}.ckpt")
        model = GADNStage2(
            ARTISTS,
            size,
            stage1_checkpoint=str(folder / "stage1.ckpt"),
            classifier_checkpoint=str(folder / "c2.ckpt"),
            **options,
        )

    class Clock(L.Callback):
        start = 0.0

        def on_train_batch_start(self, trainer: L.Trainer, *args: Any) -> None:
            if int(model.iteration) == warmup:
                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                self.start = time.perf_counter()

        def on_train_end(self, trainer: L.Trainer, *args: Any) -> None:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.seconds = time.perf_counter() - self.start

    clock = Clock()
    _trainer(2 * total, precision, [clock]).fit(model, data)  # 2 optimizer steps per iteration
    if torch.cuda.is_available():
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux
    return {
        "stage": stage,
        "size": size,
        "batch": batch,
        "precision": precision,
        "seconds_per_iteration": clock.seconds / iterations,
        "images_per_second": iterations * batch / clock.seconds,
        "peak_gib": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--stages", type=int, nargs="+", default=[1, 2], choices=[1, 2])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=10, help="timed iterations")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations first")
    parser.add_argument("--precision", nargs="+", default=None, help="default: 32-true, and bf16-mixed on CUDA")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true", help="torch.compile the networks")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one configuration, print JSON
    args = parser.parse_args()
    options = {"channels_last": args.channels_last, "compile": args.compile}
    if args.one:
        stage, size, precision = args.one.split(",")
        result = measure(int(stage), int(size), args.batch, args.iterations, args.warmup, precision, options)
        print(json.dumps(result))
        return

    import torch

    precisions = args.precision or (["32-true", "bf16-mixed"] if torch.cuda.is_available() else ["32-true"])
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"cpu ({os.cpu_count()} cores)"
    print(f"device: {device}")
    header = f"{'stage':>5} {'size':>5} {'batch':>5} {'precision':>11} {'s/iter':>8} {'images/s':>9} {'peak GiB':>9}"
    print(header)
    for size in args.sizes:
        for stage in args.stages:
            for precision in precisions:
                command = [sys.executable, __file__, "--one", f"{stage},{size},{precision}"]
                command += ["--batch", str(args.batch), "--iterations", str(args.iterations)]
                command += ["--warmup", str(args.warmup)] + [
                    f"--{k.replace('_', '-')}" for k, v in options.items() if v
                ]
                done = subprocess.run(
                    command, capture_output=True, text=True, env={**os.environ, "WANDB_MODE": "disabled"}
                )
                if done.returncode != 0:
                    raise SystemExit(f"stage {stage} at {size} px ({precision}) failed:\n{done.stderr[-3000:]}")
                r = json.loads(done.stdout.strip().splitlines()[-1])
                print(
                    f"{stage:>5} {size:>5} {args.batch:>5} {precision:>11} {r['seconds_per_iteration']:>8.3f} "
                    f"{r['images_per_second']:>9.1f} {r['peak_gib']:>9.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
