"""Images per second that AnimeFacesDataModule loads from a prepared manifest.

    python examples/benchmarks/dataloader_throughput.py                       # 2 workers, 256 px
    python examples/benchmarks/dataloader_throughput.py --manifest out/manifest.csv --workers 4

Without ``--manifest`` it first writes ``--count`` (2,000) RGBA crops of synthetic portraits (256 px PNG, as
``animestyle prepare`` writes them) and a manifest to a temporary folder. It then times full
passes of the training DataLoader (decode PNG, resize if needed, to tensor, collate) after a
warm-up batch. The DataModule turns those uint8 batches into floats on the training device
(``on_after_batch_transfer``); that step is not part of the loader and is shown separately.
Target: 1,000 images per second at 256 px with 2 workers.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from animestyle.data import AnimeFacesDataModule
from animestyle.data.manifest import write_manifest
from animestyle.data.synthetic import SyntheticPortraits


def synthetic_manifest(folder: Path, count: int, artists: int = 20) -> Path:
    """``count`` synthetic 256 px portraits saved as RGBA PNG crops, with a manifest."""
    data = SyntheticPortraits(length=count, num_artists=artists, size=256)
    rows = []
    for i in tqdm(range(count), desc="writing crops", unit="img"):
        path = folder / "crops" / f"a{data.artist(i)}" / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        data.image(i).convert("RGBA").save(path)
        rows.append({"path": path.relative_to(folder).as_posix(), "artist": f"a{data.artist(i)}", "split": "train"})
    rows[-1]["split"] = "val"
    return write_manifest(folder / "manifest.csv", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, help="a manifest.csv from animestyle prepare")
    parser.add_argument("--size", type=int, default=256, help="image_size of the DataModule")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--count", type=int, default=2000, help="crops to make when no manifest is given")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        manifest = args.manifest or synthetic_manifest(Path(scratch), args.count)
        data = AnimeFacesDataModule(
            manifest=str(manifest),
            image_size=args.size,
            batch_size=args.batch_size,
            num_workers=args.workers,
        )
        loader = data.train_dataloader()
        batch = next(iter(loader))  # start the workers
        images, start = 0, time.perf_counter()
        for _ in range(args.epochs):
            for batch in loader:
                images += len(batch["x"])
        elapsed = time.perf_counter() - start
        # What the device then does to each batch (on a GPU it takes microseconds).
        convert_start = time.perf_counter()
        data.on_after_batch_transfer(batch, 0)
        convert = time.perf_counter() - convert_start
    print(f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} cores available")
    print(f"{images:,} images at {args.size} px, {args.workers} workers, batch {args.batch_size}: uint8 RGBA batches")
    print(f"uint8 -> float on this CPU, for reference: {convert * 1000:.0f} ms per batch of {len(batch['x'])}")
    print(f"{images / elapsed:,.0f} images/s")


if __name__ == "__main__":
    main()
