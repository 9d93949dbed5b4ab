"""Draw the sample grids of a trained GADN checkpoint on synthetic validation portraits.

    python examples/gadn/draw_grids.py outputs/gadn/synthetic32/stage2/checkpoints/last.ckpt --out grids/

Writes ``transfer.png`` (rows: validation images; first column the input, then the image
redrawn by each artist), ``generate.png`` (rows: artists; columns: random content codes) and
``reconstruction.png`` (input, reconstruction, style-neutral reconstruction). A stage-2
checkpoint draws with its EMA generator.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from animestyle.data.synthetic import SyntheticPortraits
from animestyle.images import save_grid
from animestyle.methods import CheckpointError, GADNStage1, GADNStage2
from animestyle.methods.base import read_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", type=Path, default=Path("grids"))
    parser.add_argument("--images", type=int, default=8, help="validation images (rows of transfer)")
    parser.add_argument("--artists", type=int, default=8, help="artists (columns of transfer)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    args = parser.parse_args()
    methods = {"GADNStage1": GADNStage1, "GADNStage2": GADNStage2}
    try:
        record = read_checkpoint(args.checkpoint, "checkpoint", tuple(methods), "give a GADN stage-1 or stage-2 .ckpt")
    except CheckpointError as error:
        raise SystemExit(f"draw_grids: error: {error}") from None
    record = record["animestyle"]
    cls = methods[record["method"]]
    model = cls.load_from_checkpoint(args.checkpoint, map_location="cpu").eval()
    portraits = SyntheticPortraits(
        length=args.images, num_artists=record["num_artists"], size=record["image_size"], seed=args.seed, split="val"
    )
    items = [portraits[i] for i in range(args.images)]
    x, artist = torch.stack([it["x"] for it in items]), torch.stack([it["artist"] for it in items])
    if record["channels"] == "rgba":
        x = torch.cat([x, torch.ones_like(x[:, :1])], 1)
    count = min(args.artists, record["num_artists"])
    artists = torch.linspace(0, record["num_artists"] - 1, count).round().long()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, grid in model.sample_grids(x, artist, artists).items():
        print(save_grid(grid, args.out / f"{name}.png"))


if __name__ == "__main__":
    main()
