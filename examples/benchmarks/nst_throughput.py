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

import argparse
import json
import signal
import sys
import tempfile
import warnings
from pathlib import Path

from _common import IterationClock, bare_trainer, device_line, peak_memory_gib, run_child

APPROACHES = ("dual", "encoder")
ARTISTS = 8


def measure(approach: str, size: int, batch: int, iterations: int, warmup: int, seconds: float, precision: str) -> dict:
    """Train one approach for ``warmup`` untimed and at least ``iterations`` / ``seconds`` timed
    iterations; return s/iteration, images/s, peak memory and parameter counts."""
    import lightning as L

    from animestyle.data import AnimeFacesDataModule, SyntheticSource
    from animestyle.methods import DualDiscriminatorNST, EncoderDiscriminatorNST

    warnings.filterwarnings("ignore")
    L.seed_everything(0, verbose=False)
    data = AnimeFacesDataModule(  # images are drawn as they are loaded: a long epoch costs nothing
        synthetic=SyntheticSource(num_artists=ARTISTS, train_size=100_000, val_size=batch),
        image_size=size, batch_size=batch, attributes=[], style_pairs=True, num_workers=1,
    )  # fmt: skip
    model = (DualDiscriminatorNST if approach == "dual" else EncoderDiscriminatorNST)(ARTISTS, size)
    clock = IterationClock(warmup, iterations, seconds)
    with tempfile.TemporaryDirectory(prefix="nst_benchmark_") as root:
        bare_trainer(precision, root, [clock]).fit(model, data)
    counts = model.parameter_counts()
    return {
        "approach": approach, "size": size, "batch": batch, "precision": precision, "iterations": clock.timed,
        "seconds": clock.seconds, "seconds_per_iteration": clock.seconds / clock.timed,
        "images_per_second": clock.timed * batch / clock.seconds, "peak_gib": peak_memory_gib(),
        "parameters": counts["total"], "transfer_parameters": counts["transfer"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--approaches", nargs="+", default=list(APPROACHES), choices=APPROACHES)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--iterations", type=int, default=10, help="timed iterations, at least")
    parser.add_argument("--seconds", type=float, default=0.0, help="timed seconds, at least")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations first")
    parser.add_argument("--precision", nargs="+", default=None, help="default: 32-true, and bf16-mixed on CUDA")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one configuration, print JSON
    args = parser.parse_args()
    if args.one:
        approach, size, precision = args.one.split(",")
        result = measure(approach, int(size), args.batch, args.iterations, args.warmup, args.seconds, precision)
        print(json.dumps(result))
        return

    import torch

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the child too
    precisions = args.precision or (["32-true", "bf16-mixed"] if torch.cuda.is_available() else ["32-true"])
    print(device_line())
    print(f"{ARTISTS} artists, style pairs, warm-up {args.warmup} iterations; defaults of each approach\n")
    print("| approach | size | batch | precision | iters | s/iter | images/s | peak GiB | params | transfer params |")
    print("|---|--:|--:|---|--:|--:|--:|--:|--:|--:|", flush=True)
    common = ["--batch", str(args.batch), "--iterations", str(args.iterations), "--warmup", str(args.warmup)]
    common += ["--seconds", str(args.seconds)]
    results = []
    for size in args.sizes:
        for approach in (a for a in APPROACHES if a in args.approaches):
            for precision in precisions:
                command = [sys.executable, __file__, "--one", f"{approach},{size},{precision}", *common]
                r = json.loads(run_child(command, f"{approach} at {size} px ({precision})").strip().splitlines()[-1])
                results.append(r)
                print(
                    f"| {approach} | {size} | {args.batch} | {precision} | {r['iterations']} "
                    f"| {r['seconds_per_iteration']:.3f} | {r['images_per_second']:.1f} | {r['peak_gib']:.2f} "
                    f"| {r['parameters']:,} | {r['transfer_parameters']:,} |",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
