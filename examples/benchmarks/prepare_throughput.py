"""Illustrations per second that ``animestyle prepare`` handles, per core, on 1024 px inputs.

    python examples/benchmarks/prepare_throughput.py                 # 48 illustrations, 1 and 2 workers
    python examples/benchmarks/prepare_throughput.py --count 96 --workers 1 2

It first makes ``count`` JPEG illustrations of 1024 x 1024: a synthetic portrait (256 to 512
px, turned by up to 20 degrees) on a noisy background, like a Danbooru original with one
face. Then it times ``prepare`` (read, detect, crop, write, manifest) from a fresh output
folder for each worker count. Target: 4 illustrations per second per core.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from animestyle.data.prepare import prepare
from animestyle.data.synthetic import SyntheticPortraits, render


def make_illustrations(folder: Path, count: int, side: int = 1024, seed: int = 1) -> Path:
    """``count`` illustrations with one face each, and their Danbooru-style metadata."""
    rng = np.random.default_rng(seed)
    data = SyntheticPortraits(length=count, num_artists=4, size=256, seed=seed, split="test")
    posts = []
    for i in tqdm(range(count), desc="making illustrations", unit="img"):
        face = render(data.content(i).replace(tilt=0.0), data.style(i), 256).convert("RGBA")
        face = face.resize((int(rng.integers(256, 513)),) * 2, Image.Resampling.LANCZOS)
        face = face.rotate(float(rng.uniform(-20, 20)), resample=Image.Resampling.BICUBIC, expand=True)
        noise = rng.integers(0, 255, (side // 16, side // 16, 3), dtype=np.uint8)
        canvas = Image.fromarray(noise).resize((side, side), Image.Resampling.BICUBIC)
        x, y = (int(rng.integers(0, side - s)) for s in face.size)
        canvas.paste(face, (x, y), face)
        path = folder / "images" / f"{i}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        canvas.save(path, quality=92)
        posts.append({"id": i, "path": f"{i}.jpg", "tag_string_artist": f"artist_{data.artist(i)}"})
    metadata = folder / "posts.jsonl"
    metadata.write_text("".join(json.dumps(p) + "\n" for p in posts))
    return metadata


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        metadata = make_illustrations(Path(scratch), args.count)
        rows = []
        for workers in args.workers:
            start = time.perf_counter()
            report = prepare(
                Path(scratch) / "images", Path(scratch) / f"out{workers}", metadata,
                workers=workers, min_images=1, min_val=0, progress=False,
            )  # fmt: skip
            rate = args.count / (time.perf_counter() - start)
            rows.append((workers, rate, report.faces))
    print(f"\n{args.count} illustrations of 1024 x 1024 px (JPEG), one face each")
    print(f"{'workers':>8}{'illustrations/s':>17}{'per core':>10}{'faces':>7}")
    for workers, rate, faces in rows:
        print(f"{workers:>8}{rate:>17.2f}{rate / workers:>10.2f}{faces:>7}")


if __name__ == "__main__":
    main()
