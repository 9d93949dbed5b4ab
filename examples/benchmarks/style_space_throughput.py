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
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

STAGES = ("metric", "vae", "gan")
NEEDS = {"metric": (), "vae": ("metric",), "gan": ("metric", "vae")}  # input checkpoints of each stage


def _trainer(precision: str, root: str, callbacks: list[Any] | None = None, max_steps: int = -1) -> Any:
    import lightning as L

    return L.Trainer(
        max_steps=max_steps,
        max_epochs=-1,  # the Clock callback stops the run
        precision=precision,  # type: ignore[arg-type]
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=callbacks or [],
        devices=1,
        default_root_dir=root,
    )


def _data(size: int, batch: int, artists: int) -> Any:
    from animestyle.data import AnimeFacesDataModule, SyntheticSource

    return AnimeFacesDataModule(  # images are drawn as they are loaded: a long epoch costs nothing
        synthetic=SyntheticSource(num_artists=artists, train_size=100_000, val_size=batch),
        image_size=size,
        batch_size=batch,
        num_workers=1,
    )


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
        trainer = _trainer("32-true", str(folder), max_steps=1)
        trainer.fit(model, _data(size, batch, artists))
        trainer.save_checkpoint(folder / f"{stage}.ckpt")


def measure(
    stage: str, size: int, batch: int, artists: int, iterations: int, warmup: int, seconds: float, precision: str,
    folder: Path,
) -> dict:  # fmt: skip
    """Train ``warmup`` untimed iterations of one stage, then at least ``iterations`` and
    ``seconds`` timed ones; return s/iteration, images/s and peak memory."""
    import lightning as L
    import torch

    warnings.filterwarnings("ignore")
    L.seed_everything(0, verbose=False)
    model = _model(stage, size, artists, folder)

    class Clock(L.Callback):
        start = 0.0
        seconds = 0.0
        timed = 0

        def on_train_batch_start(self, trainer: L.Trainer, *args: Any) -> None:
            if int(model.iteration) == warmup:
                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                self.start = time.perf_counter()

        def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
            self.timed = int(model.iteration) - warmup
            if self.timed < max(iterations, 1):
                return
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - self.start
            if elapsed >= seconds:
                self.seconds = elapsed
                trainer.should_stop = True

    clock = Clock()
    _trainer(precision, str(folder), [clock]).fit(model, _data(size, batch, artists))
    if torch.cuda.is_available():
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux
    return {
        "stage": stage,
        "size": size,
        "batch": batch,
        "precision": precision,
        "iterations": clock.timed,
        "seconds_per_iteration": clock.seconds / clock.timed,
        "images_per_second": clock.timed * batch / clock.seconds,
        "peak_gib": peak,
    }


def _run(command: list[str], what: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "WANDB_MODE": "disabled"})
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--artists", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=10, help="timed iterations, at least")
    parser.add_argument("--seconds", type=float, default=0.0, help="timed seconds, at least")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations first")
    parser.add_argument("--precision", nargs="+", default=None, help="default: 32-true, and bf16-mixed on CUDA")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one configuration, print JSON
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)  # internal: input checkpoints of a size
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)  # internal: where the checkpoints are
    args = parser.parse_args()
    if args.prepare:
        prepare(args.stages, args.prepare, args.batch, args.artists, args.folder)
        return
    if args.one:
        stage, size, precision = args.one.split(",")
        result = measure(
            stage, int(size), args.batch, args.artists, args.iterations, args.warmup, args.seconds, precision,
            args.folder,
        )  # fmt: skip
        print(json.dumps(result))
        return

    import torch

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the child, remove the checkpoints
    precisions = args.precision or (["32-true", "bf16-mixed"] if torch.cuda.is_available() else ["32-true"])
    if torch.cuda.is_available():
        print(f"device: {torch.cuda.get_device_name()} (peak: allocated GPU memory)")
    else:
        print(f"device: cpu ({os.cpu_count()} cores; peak: resident set size)")
    print(f"{args.artists} artists, warm-up {args.warmup} iterations")
    header = f"{'stage':>6} {'size':>5} {'batch':>5} {'precision':>11} {'iters':>5} {'s/iter':>8} "
    print(header + f"{'images/s':>9} {'peak GiB':>9}", flush=True)
    stages = [s for s in STAGES if s in args.stages]
    common = ["--batch", str(args.batch), "--artists", str(args.artists)]
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="style_space_benchmark_") as folder:
            if any(NEEDS[s] for s in stages):
                command = [sys.executable, __file__, "--prepare", str(size), "--folder", folder]
                _run([*command, "--stages", *stages, *common], f"making the input checkpoints at {size} px")
            for stage in stages:
                for precision in precisions:
                    command = [sys.executable, __file__, "--one", f"{stage},{size},{precision}", "--folder", folder]
                    command += [*common, "--iterations", str(args.iterations), "--warmup", str(args.warmup)]
                    command += ["--seconds", str(args.seconds)]
                    out = _run(command, f"{stage} at {size} px ({precision})")
                    r = json.loads(out.strip().splitlines()[-1])
                    print(
                        f"{stage:>6} {size:>5} {args.batch:>5} {precision:>11} {r['iterations']:>5} "
                        f"{r['seconds_per_iteration']:>8.3f} {r['images_per_second']:>9.1f} {r['peak_gib']:>9.2f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
