"""What each part of an artist's style is worth to `animestyle nst-report`'s L1 and SSIM.

On the synthetic portraits the true transfer of content ``i`` into artist ``a'``'s style is
known, and so is what changed: colour grading, shading, line art, and the geometry of eyes,
face and mouth. This script scores *partial* true transfers on the report's items (the same
content images and target artists): content ``i`` redrawn with only some of ``a'``'s style
factors, the rest kept from the content image. It shows how far a model that got one part
perfectly right would get, e.g. that a colour regrading alone barely moves SSIM, which is
dominated by where the lines are. Also the best per-image affine colour map (fitted to the
truth by least squares), the ceiling of any global colour transform.

    python examples/nst/partial_transfer_bounds.py --images 256
"""

from __future__ import annotations

import argparse

import torch

from animestyle.data.synthetic import SyntheticPortraits
from animestyle.data.synthetic.dataset import image_to_tensor
from animestyle.data.synthetic.portrait import render
from animestyle.metrics.image_quality import ssim
from animestyle.metrics.transfer import target_artists

COLOUR = ("saturation", "contrast", "skin_tone", "line_darkness")
SHADING = ("shading", "hair_highlight")
LINES = ("line_width", "eyelash", "highlights", "highlight_size", "hair_locks")
GEOMETRY = (
    "eye_size", "eye_aspect", "eye_tilt", "eye_spacing", "eye_height", "iris_size", "pupil_size",
    "jaw_sharpness", "face_aspect", "mouth_size",
)  # fmt: skip
PARTS = {
    "colour grading": COLOUR,
    "colour + shading": COLOUR + SHADING,
    "all but geometry": COLOUR + SHADING + LINES,
    "geometry only": GEOMETRY,
}


def best_affine_colour_map(content: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Per image, the affine map of RGB colours (3x3 matrix and offset) closest to the truth
    in least squares, applied to the content: (N, 3, S, S) -> (N, 3, S, S) in [-1, 1]."""
    n, _, h, w = content.shape
    colours = torch.cat([content.flatten(2), torch.ones(n, 1, h * w)], 1).transpose(1, 2)  # (N, P, 4)
    fit = torch.linalg.lstsq(colours, truth.flatten(2).transpose(1, 2)).solution  # (N, 4, 3)
    return (colours @ fit).transpose(1, 2).reshape(n, 3, h, w).clamp(-1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=256, help="content images scored (nst-report's --images)")
    parser.add_argument("--num-artists", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0, help="nst-report's --synthetic-seed")
    args = parser.parse_args()
    portraits = SyntheticPortraits(
        length=args.images, num_artists=args.num_artists, size=args.size, seed=args.seed, split="val"
    )
    n = args.images
    target = target_artists(torch.tensor([portraits.artist(i) for i in range(n)]), args.num_artists, 0)
    content = torch.stack([portraits[i]["x"] for i in range(n)])
    truth = torch.stack([portraits.transfer(i, int(target[i])) for i in range(n)])
    rows = {"content unchanged": content}
    for name, factors in PARTS.items():
        images = []
        for i in range(n):
            wanted = portraits.artist_styles[int(target[i])]
            style = portraits.style(i).replace(**{f: getattr(wanted, f) for f in factors})
            images.append(image_to_tensor(render(portraits.content(i), style, args.size)))
        rows[f"true {name}"] = torch.stack(images)
    rows["best affine colour map per image"] = best_affine_colour_map(content, truth)
    print(f"{n} content images, {args.size} px, {args.num_artists} artists (nst-report's items and targets)\n")
    print("| partial transfer | L1 | SSIM |\n|---|---|---|")
    for name, images in rows.items():
        l1 = (images - truth).abs().mean().item()
        print(f"| {name} | {l1:.3f} | {ssim(images, truth).mean().item():.3f} |")


if __name__ == "__main__":
    main()
