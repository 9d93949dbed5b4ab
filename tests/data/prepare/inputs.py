"""Illustrations for the prepare tests: synthetic portraits pasted, turned, into larger noisy
pictures, and every kind of bad file."""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

from animestyle.data.synthetic import SyntheticPortraits, render


@dataclass
class Inputs:
    images: Path
    metadata: Path
    angles: dict[str, float]  # post id -> degrees the portrait was turned (counter-clockwise)
    good: int  # posts that should yield a face


def illustration(data: SyntheticPortraits, i: int, angle: float, rng: np.random.Generator) -> Image.Image:
    """Item ``i`` drawn upright (tilt 0), turned by ``angle`` degrees and pasted into a 480 x 400
    canvas of coloured noise, at a random place."""
    portrait = render(data.content(i).replace(tilt=0.0), data.style(i), 256).convert("RGBA")
    turned = portrait.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    noise = rng.integers(0, 255, (400 // 8, 480 // 8, 3), dtype=np.uint8)
    canvas = Image.fromarray(noise).resize((480, 400), Image.Resampling.BILINEAR)
    x = int(rng.integers(0, canvas.width - turned.width + 1)) if canvas.width > turned.width else 0
    y = int(rng.integers(0, canvas.height - turned.height + 1)) if canvas.height > turned.height else 0
    canvas.paste(turned, (x, y), turned)
    return canvas


def png_bomb() -> bytes:
    """A tiny PNG whose header claims 100,000 x 100,000 pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def make_inputs(root: Path, artists: int = 3, per_artist: int = 5, seed: int = 0) -> Inputs:
    """A Danbooru-like folder (``original/<bucket>/<id>.<ext>``) and its JSON-lines metadata:
    ``artists * per_artist`` good posts, turned by -25..25 degrees, some as JPEG, greyscale,
    CMYK or RGBA; then one post for each bad case."""
    rng = np.random.default_rng(seed)
    data = SyntheticPortraits(length=artists * per_artist, num_artists=artists, size=256, seed=seed, split="test")
    images, posts, angles = root / "images", [], {}

    def save(post_id: int, image: Image.Image | bytes, ext: str) -> None:
        path = images / "original" / f"{post_id % 1000:04d}" / f"{post_id}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(image, bytes):
            path.write_bytes(image)
        elif ext == "jpg":
            image.save(path, quality=92)
        else:
            image.save(path)

    def post(post_id: int, ext: str, artist_tags: str, general: str = "1girl solo") -> None:
        posts.append({"id": post_id, "file_ext": ext, "tag_string_artist": artist_tags, "tag_string_general": general})

    for i in range(len(data)):
        post_id, angle = 1000 + i, float(rng.uniform(-25, 25))
        image = illustration(data, i, angle, rng)
        kind = i % 5  # PNG, JPEG, greyscale PNG, CMYK JPEG, RGBA PNG
        ext = "jpg" if kind in (1, 3) else "png"
        if kind == 2:
            image = image.convert("L")
        elif kind == 3:
            image = image.convert("CMYK")
        elif kind == 4:  # transparent along the left edge
            image = image.convert("RGBA")
            image.paste((0, 0, 0, 0), (0, 0, 24, image.height))
        save(post_id, image, ext)
        post(
            post_id, ext, f"artist_{data.artist(i)}", "1girl solo blush" if data.content(i).blush == "yes" else "1girl"
        )
        angles[str(post_id)] = angle

    buffer = BytesIO()
    illustration(data, 0, 0.0, rng).save(buffer, format="PNG")
    bad = {
        "corrupt": (buffer.getvalue()[: len(buffer.getvalue()) // 2], "png"),
        "one_pixel": (Image.new("RGB", (1, 1), (255, 0, 0)), "png"),
        "bomb": (png_bomb(), "png"),
        "not_an_image": (b"this is not an image\n", "jpg"),
    }
    for k, (content, ext) in enumerate(bad.values()):
        save(9000 + k, content, ext)
        post(9000 + k, ext, "artist_0")
    save(9100, illustration(data, 1, 0.0, rng), "png")
    post(9100, "png", "artist_0 artist_1")  # two artist tags
    post(9200, "png", "artist_0")  # no file at all

    metadata = root / "posts.jsonl"
    metadata.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    return Inputs(images=images, metadata=metadata, angles=angles, good=len(data))
