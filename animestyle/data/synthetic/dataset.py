"""``SyntheticPortraits``: a seeded, endless supply of portraits with known style and content."""

from __future__ import annotations

import numbers
import operator
from functools import cached_property

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from animestyle.data.synthetic.factors import (
    ATTRIBUTE_NAMES,
    CONTENT_FACTORS,
    Categorical,
    Content,
    Style,
    attributes,
    factor_by_name,
    jitter_style,
    sample_content,
    sample_style,
    with_attribute,
)
from animestyle.data.synthetic.portrait import check_size, render

__all__ = ["SPLITS", "SyntheticPortraits", "image_to_tensor", "labelable_factors"]

SPLITS = ("train", "val", "test")
# Independent random streams, so that e.g. changing the number of artists never changes
# an image's content, and the style of artist 7 is the same in every split.
_ARTIST_STREAM, _CONTENT_STREAM, _JITTER_STREAM = 0, 1, 2


def categorical_factors() -> tuple[tuple[int, Categorical], ...]:
    """Every categorical content factor with its column in ``item["content"]``."""
    return tuple((j, f) for j, f in enumerate(CONTENT_FACTORS) if isinstance(f, Categorical))


def labelable_factors() -> tuple[str, ...]:
    """Values ``label_by`` accepts: the artist, or any categorical content factor."""
    return ("artist", *(f.name for _, f in categorical_factors()))


def image_to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB PIL image -> (3, H, W) float32 in [-1, 1]."""
    array = torch.from_numpy(np.array(image, dtype=np.uint8))
    return array.permute(2, 0, 1).float().div_(127.5).sub_(1.0)


# Seeds and indices enter numpy's SeedSequence as 32-bit words; larger ones could make two
# different streams collide, so they are kept below 2**32.
_LIMIT = 2**32


def _check_count(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not minimum <= value < _LIMIT:
        raise ValueError(f"{name}={value!r} must be an integer from {minimum} to {_LIMIT - 1}")
    return int(value)


class SyntheticPortraits(Dataset[dict[str, torch.Tensor]]):
    """Procedural anime portraits whose style and content are known exactly.

    Item ``i`` shows content ``i`` (drawn from the content prior, independent of the artist)
    drawn by artist ``i % num_artists`` with a small per-image jitter of that artist's style.
    Content ``i`` depends only on ``seed``, ``split`` and ``i``; artist ``a``'s style only
    on ``seed`` and ``a``. So item ``i`` is the same image for the same ``seed``, ``split``
    and ``num_artists``, whatever ``length`` or the number of DataLoader workers.

    Args:
        length: number of items.
        num_artists: number of artists; each one's style is drawn once from the style prior.
        size: image width and height in pixels, 32 to 256.
        seed: selects the artists and the images.
        split: ``"train"``, ``"val"`` or ``"test"``: disjoint image streams, same artists.
        label_by: which factor is the label in ``item["artist"]``: ``"artist"`` (default),
            or a categorical content factor such as ``"hair_colour"``, with the artist then
            left unlabelled (the analogue of the GADN paper's digit-labelled NIST runs).
        jitter: per-image style jitter, as a fraction of each style factor's range (0 to 1).

    Items are dicts of tensors:
        ``x``: (3, size, size) float32 in [-1, 1];
        ``artist``: () int64, the label (artist id, or the class of ``label_by``);
        ``true_artist``: () int64, the artist id whatever the label;
        ``attrs``: (len(attribute_names),) float32 in {0, 1};
        ``content``: (len(CONTENT_FACTORS),) float32, see ``Content.to_vector``;
        ``style``: (len(STYLE_FACTORS),) float32, the jittered style that drew the image;
        ``index``: () int64, ``i``.
    """

    def __init__(
        self,
        length: int = 10_000,
        num_artists: int = 32,
        size: int = 64,
        seed: int = 0,
        split: str = "train",
        label_by: str = "artist",
        jitter: float = 0.04,
    ):
        length = _check_count("length", length, 0)
        num_artists = _check_count("num_artists", num_artists, 1)
        seed = _check_count("seed", seed, 0)
        size = check_size(size)
        if split not in SPLITS:
            raise ValueError(f"split={split!r} is not allowed; choose one of {list(SPLITS)}")
        if label_by not in labelable_factors():
            raise ValueError(f"label_by={label_by!r} is not allowed; choose one of {list(labelable_factors())}")
        if not 0 <= jitter <= 1:  # also refuses nan
            raise ValueError(f"jitter={jitter!r} must be a number from 0 to 1")
        self.length, self.num_artists, self.size, self.seed = length, num_artists, size, seed
        self.split, self.label_by, self.jitter = split, label_by, jitter
        self._split_id = SPLITS.index(split)
        self.artist_styles = [
            sample_style(np.random.default_rng([seed, _ARTIST_STREAM, a])) for a in range(num_artists)
        ]

    # --- names ------------------------------------------------------------------------

    @cached_property
    def class_names(self) -> tuple[str, ...]:
        """Names of the label classes: artists, or the choices of ``label_by``."""
        if self.label_by == "artist":
            return self.artist_names
        factor = factor_by_name(self.label_by)
        assert isinstance(factor, Categorical)  # labelable_factors() are categorical
        return factor.choices

    @property
    def num_classes(self) -> int:
        """Number of label classes in ``item["artist"]``."""
        return len(self.class_names)

    @cached_property
    def artist_names(self) -> tuple[str, ...]:
        return tuple(f"artist_{a:04d}" for a in range(self.num_artists))

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return ATTRIBUTE_NAMES

    # --- ground truth of one item -----------------------------------------------------

    def _check_index(self, i: int) -> int:
        i = operator.index(i)  # TypeError for floats and slices
        if not -self.length <= i < self.length:
            raise IndexError(f"index {i} is out of range for a dataset of length {self.length}")
        return i % self.length

    def content(self, i: int) -> Content:
        """What item ``i`` shows."""
        i = self._check_index(i)
        return sample_content(np.random.default_rng([self.seed, _CONTENT_STREAM, self._split_id, i]))

    def artist(self, i: int) -> int:
        """Artist who drew item ``i``."""
        return self._check_index(i) % self.num_artists

    def style(self, i: int) -> Style:
        """The jittered style that drew item ``i``."""
        i = self._check_index(i)
        rng = np.random.default_rng([self.seed, _JITTER_STREAM, self._split_id, i])
        return jitter_style(self.artist_styles[i % self.num_artists], rng, self.jitter)

    def label(self, i: int) -> int:
        """Class of item ``i`` under ``label_by`` (what ``item["artist"]`` holds)."""
        return self._label(i, self.content(i))

    def _label(self, i: int, content: Content) -> int:
        if self.label_by == "artist":
            return self.artist(i)
        return self.class_names.index(getattr(content, self.label_by))

    def image(self, i: int) -> Image.Image:
        """Item ``i`` as an RGB PIL image."""
        return render(self.content(i), self.style(i), self.size)

    def transfer(self, i: int, artist: int) -> torch.Tensor:
        """True style transfer: content ``i`` drawn in artist ``artist``'s own (unjittered)
        style. (3, size, size) in [-1, 1]."""
        if not 0 <= artist < self.num_artists:
            raise ValueError(f"artist={artist!r} must be in [0, {self.num_artists})")
        return image_to_tensor(render(self.content(i), self.artist_styles[artist], self.size))

    def edit(self, i: int, attribute: str, value: bool) -> torch.Tensor:
        """True attribute edit: item ``i`` with ``attribute`` set to ``value`` and everything
        else, its jittered style included, unchanged. (3, size, size) in [-1, 1]."""
        content = with_attribute(self.content(i), attribute, value)
        return image_to_tensor(render(content, self.style(i), self.size))

    # --- torch Dataset ------------------------------------------------------------------

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        i = self._check_index(i)
        content, style = self.content(i), self.style(i)
        return {
            "x": image_to_tensor(render(content, style, self.size)),
            "artist": torch.tensor(self._label(i, content)),
            "true_artist": torch.tensor(self.artist(i)),
            "attrs": torch.from_numpy(attributes(content)),
            "content": torch.from_numpy(content.to_vector()),
            "style": torch.from_numpy(style.to_vector()),
            "index": torch.tensor(i),
        }
