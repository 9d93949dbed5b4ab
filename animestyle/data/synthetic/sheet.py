"""Contact sheet: a grid of synthetic portraits, one artist per row, one content per column."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from animestyle.atomic import atomic_path
from animestyle.data.synthetic.dataset import SyntheticPortraits
from animestyle.data.synthetic.portrait import render

__all__ = ["contact_sheet", "save_contact_sheet"]

_LABEL_WIDTH = 84


def contact_sheet(
    num_artists: int = 8, num_contents: int = 8, size: int = 128, seed: int = 0, labels: bool = True
) -> Image.Image:
    """Row ``a`` shows artist ``a``'s own style, column ``j`` the content of test item ``j``:
    style varies down a column only, content along a row only.

    Args:
        num_artists: rows.
        num_contents: columns.
        size: portrait size in pixels (32 to 256).
        seed: the synthetic data's seed (artists and contents).
        labels: write the artist name at the start of each row.

    Returns:
        An RGB image of ``num_contents * size`` (plus a label column) by ``num_artists * size``.
    """
    if num_contents < 1:
        raise ValueError(f"num_contents={num_contents!r} must be an integer >= 1")
    data = SyntheticPortraits(length=num_contents, num_artists=num_artists, size=size, seed=seed, split="test")
    left = _LABEL_WIDTH if labels else 0
    sheet = Image.new("RGB", (left + num_contents * size, num_artists * size), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    contents = [data.content(j) for j in range(num_contents)]
    for a, style in enumerate(data.artist_styles):
        for j, content in enumerate(contents):
            sheet.paste(render(content, style, size), (left + j * size, a * size))
        if labels:
            draw.text((6, a * size + size // 2 - 6), data.artist_names[a], fill=(0, 0, 0))
    return sheet


def save_contact_sheet(
    out: Path = Path("contact_sheet.png"),
    num_artists: int = 8,
    num_contents: int = 8,
    size: int = 128,
    seed: int = 0,
) -> Path:
    """Write a contact sheet of the synthetic portraits: rows = artists, columns = contents.

    Args:
        out: PNG file to write.
        num_artists: rows (artists).
        num_contents: columns (contents).
        size: portrait size in pixels (32 to 256).
        seed: seed of the synthetic data.
    """
    out = Path(out)
    sheet = contact_sheet(num_artists, num_contents, size, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as partial:
        sheet.save(partial, format="PNG", optimize=True)
    print(f"wrote {out} ({num_artists} artists x {num_contents} contents at {size} px)")
    return out
