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

STAGES = ("editor", "classifier")
ARTISTS = 8


def _trainer(precision: str, root: str, callbacks: list[Any]) -> Any:
    import lightning as L

    return L.Trainer(
        max_steps=-1,
        max_epochs=-1,  # the Clock callback stops the run
        precision=precision,  # type: ignore[arg-type]
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=callbacks,
        devices=1,
        default_root_dir=root,
    )


def _data(size: int, batch: int) -> Any:
    from animestyle.data import AnimeFacesDataModule, SyntheticSource

    return AnimeFacesDataModule(  # images are drawn as they are loaded: a long epoch costs nothing
        synthetic=SyntheticSource(num_artists=ARTISTS, train_size=100_000, val_size=batch),
        image_size=size,
        batch_size=batch,
        channels="rgb",
        num_workers=1,
    )


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
    import torch

    warnings.filterwarnings("ignore")
    L.seed_everything(0, verbose=False)
    data = _data(size, batch)
    model = _model(stage, size, list(data.attribute_names), widths)
    cycle = int(model.hparams["n_critic"]) if stage == "editor" else 1
    least = -(-max(iterations, 1) // cycle) * cycle  # whole cycles

    class Clock(L.Callback):
        done = 0  # iterations (batches) trained
        start = 0.0
        seconds = 0.0
        timed = 0

        def on_train_batch_start(self, trainer: L.Trainer, *args: Any) -> None:
            if self.done == warmup:
                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                self.start = time.perf_counter()

        def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
            self.done += 1
            self.timed = self.done - warmup
            if self.timed < least or self.timed % cycle:
                return
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - self.start
            if elapsed >= seconds:
                self.seconds = elapsed
                trainer.should_stop = True

    clock = Clock()
    with tempfile.TemporaryDirectory(prefix="attribute_editing_benchmark_") as root:
        _trainer(precision, root, [clock]).fit(model, data)
    if torch.cuda.is_available():
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux
    return {
        "stage": stage,
        "size": size,
        "batch": batch,
        "precision": precision,
        "widths": list(model.widths),
        "attributes": len(model.attribute_names),
        "n_critic": cycle if stage == "editor" else None,
        "iterations": clock.timed,
        "seconds": clock.seconds,
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
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=10, help="timed iterations, at least (editor: whole cycles)")
    parser.add_argument("--seconds", type=float, default=0.0, help="timed seconds, at least")
    parser.add_argument("--warmup", type=int, default=5, help="untimed iterations first")
    parser.add_argument("--precision", nargs="+", default=None, help="default: 32-true, and bf16-mixed on CUDA")
    parser.add_argument("--widths", type=int, nargs="+", default=None, help="editor widths; default: stgan_preset")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one configuration, print JSON
    args = parser.parse_args()
    if args.one:
        stage, size, precision = args.one.split(",")
        result = measure(
            stage, int(size), args.batch, args.iterations, args.warmup, args.seconds, precision, args.widths
        )
        print(json.dumps(result))
        return

    import torch

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the child too
    precisions = args.precision or (["32-true", "bf16-mixed"] if torch.cuda.is_available() else ["32-true"])
    if torch.cuda.is_available():
        print(f"device: {torch.cuda.get_device_name()} (peak: allocated GPU memory)")
    else:
        print(f"device: cpu ({os.cpu_count()} cores; peak: resident set size)")
    print(f"{ARTISTS} artists, warm-up {args.warmup} iterations; editor s/iter: mean over whole n_critic cycles\n")
    print("| stage | size | batch | precision | widths | iters | s/iter | images/s | peak GiB |")
    print("|---|--:|--:|---|---|--:|--:|--:|--:|", flush=True)
    stages = [s for s in STAGES if s in args.stages]
    common = ["--batch", str(args.batch), "--iterations", str(args.iterations), "--warmup", str(args.warmup)]
    common += ["--seconds", str(args.seconds)] + (["--widths", *map(str, args.widths)] if args.widths else [])
    results = []
    for size in args.sizes:
        for stage in stages:
            for precision in precisions:
                command = [sys.executable, __file__, "--one", f"{stage},{size},{precision}", *common]
                out = _run(command, f"{stage} at {size} px ({precision})")
                r = json.loads(out.strip().splitlines()[-1])
                results.append(r)
                widths = "-".join(map(str, r["widths"]))
                print(
                    f"| {stage} | {size} | {args.batch} | {precision} | {widths} | {r['iterations']} "
                    f"| {r['seconds_per_iteration']:.3f} | {r['images_per_second']:.1f} | {r['peak_gib']:.2f} |",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
