"""Realism of the synthetic portraits, judged by AnimeFace 2009 (a detector of real anime faces).

    python examples/benchmarks/synthetic_realism.py                 # 32 artists x 25 portraits
    python examples/benchmarks/synthetic_realism.py --artists 8 --per-artist 10 --size 128

Prints the share of portraits in which ``animeface`` finds a face, over all artists and for
the worst artist, and the detector's mean likelihood. Targets: at least 80% over all artists
and 50% for every artist, at 256 px. Needs animeface with Pillow below 12.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tqdm import tqdm

from animestyle.data.synthetic import SyntheticPortraits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artists", type=int, default=32)
    parser.add_argument("--per-artist", type=int, default=25)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import animeface

    data = SyntheticPortraits(
        length=args.artists * args.per_artist, num_artists=args.artists, size=args.size, seed=args.seed, split="test"
    )
    found = np.zeros(len(data), dtype=bool)
    likelihood = []
    start = time.perf_counter()
    for i in tqdm(range(len(data)), desc="detecting", unit="img"):
        faces = animeface.detect(data.image(i))
        found[i] = bool(faces)
        likelihood += [faces[0].likelihood] if faces else []
    per_artist = found.reshape(args.per_artist, args.artists).mean(axis=0)
    print(f"{len(data)} portraits at {args.size} px, {args.artists} artists, seed {args.seed}, test split")
    print(
        f"faces found: {found.mean():.1%} overall; worst artist {per_artist.min():.0%} (artist {per_artist.argmin()})"
    )
    print(f"artists below 100%: {', '.join(f'{a}: {r:.0%}' for a, r in enumerate(per_artist) if r < 1) or 'none'}")
    ms_each = (time.perf_counter() - start) / len(data) * 1000
    print(f"mean likelihood of found faces: {np.mean(likelihood):.3f}; {ms_each:.0f} ms per portrait")


if __name__ == "__main__":
    main()
