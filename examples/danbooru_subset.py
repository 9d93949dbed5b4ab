"""Pick a training subset from Danbooru metadata: posts with exactly one artist tag, by the
artists with the most such posts.

    python examples/danbooru_subset.py posts.jsonl subset.jsonl --artists 100 --min-posts 50 --ratings g s

Reads Danbooru JSON lines in either form (Danbooru2021+ API fields or the older ``tags``
list), keeps posts whose rating is in ``--ratings`` (all if not given) and which have one
artist tag, ranks artists by their number of such posts, keeps the ``--artists`` most
prolific ones with at least ``--min-posts`` posts, and writes their posts, unchanged, to the
output file. Lines that are not JSON are skipped and counted.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from animestyle.data.prepare.sources import danbooru_tags


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("metadata", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--artists", type=int, default=100, help="keep this many artists at most")
    parser.add_argument("--min-posts", type=int, default=50, help="fewest single-artist posts an artist needs")
    parser.add_argument("--ratings", nargs="*", default=None, help="ratings to keep, e.g. g s (default: all)")
    args = parser.parse_args(argv)

    def single_artist_posts() -> Iterator[tuple[str, str]]:
        """(artist, line) of every kept post; two passes over the file keep memory flat."""
        with args.metadata.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    post = json.loads(line)
                    if args.ratings and post.get("rating") not in args.ratings:
                        continue
                    artists, _ = danbooru_tags(post)
                except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
                    broken[0] += 1
                    continue
                if len(artists) == 1:
                    yield artists[0], line if line.endswith("\n") else line + "\n"

    broken = [0]
    counts = Counter(artist for artist, _ in single_artist_posts())
    chosen = {a for a, n in counts.most_common(args.artists) if n >= args.min_posts}
    broken[0], kept = 0, 0
    with args.out.open("w", encoding="utf-8") as out:
        for artist, line in single_artist_posts():
            if artist in chosen:
                out.write(line)
                kept += 1
    print(f"{kept:,} posts by {len(chosen):,} artists -> {args.out} ({broken[0]:,} unreadable lines skipped)")


if __name__ == "__main__":
    main()
