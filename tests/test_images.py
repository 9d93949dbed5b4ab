"""``animestyle.images``: image files in as the models read them, grids out as PNGs."""

from pathlib import Path

import torch
from PIL import Image

from animestyle.images import load_image, save_grid


def test_load_image_resizes_and_greys_out_transparency(tmp_path: Path) -> None:
    image = Image.new("RGBA", (64, 64), (255, 0, 0, 255))
    image.paste((0, 0, 255, 0), (0, 0, 32, 64))  # left half transparent blue
    image.save(tmp_path / "half.png")
    x = load_image(tmp_path / "half.png", 32)
    assert x.shape == (3, 32, 32)
    assert torch.equal(x[:, :, :16], torch.zeros(3, 32, 16))  # transparent: mid grey
    assert torch.equal(x[:, :, 16:], torch.tensor([1.0, -1.0, -1.0])[:, None, None].expand(3, 32, 16))


def test_save_grid_writes_one_png_with_gaps(tmp_path: Path) -> None:
    grid = torch.zeros(2, 3, 3, 8, 8)
    grid[1, 2] = 1.0  # the last cell white
    path = save_grid(grid, tmp_path / "grid.png")
    with Image.open(path) as picture:
        assert picture.size == (3 * 8 + 4, 2 * 8 + 3)  # 1-pixel gaps between and around cells
        assert picture.getpixel((3 * 8 + 2, 2 * 8 + 1))[:3] == (255, 255, 255)
        assert picture.getpixel((2, 2))[:3] == (128, 128, 128)  # 0 is mid grey
