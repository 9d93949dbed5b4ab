"""Danbooru-style tag names as attributes: which are colours, which exclude each other.

Shared by the attribute editor (a colour switched on switches the rest of its group off),
its metrics and tools; real data's tags and the synthetic attributes use the same spelling
(``pink_hair``, ``blue_eyes``, ``long_hair``).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["check_attribute_names", "colour_tags", "exclusive_groups"]

_HAIR_LENGTHS = ("short_hair", "medium_hair", "long_hair", "very_long_hair", "absurdly_long_hair")
# Danbooru's colour words for hair and eyes (``closed_eyes`` and ``messy_hair`` are not colours).
COLOURS = frozenset(
    [
        "black",
        "brown",
        "blonde",
        "red",
        "blue",
        "pink",
        "purple",
        "green",
        "silver",
        "white",
        "grey",
        "orange",
        "aqua",
        "yellow",
        "gold",
        "light_brown",
        "light_blue",
        "light_purple",
        "light_green",
        "dark_blue",
        "dark_green",
    ]
)


def colour_tags(names: Sequence[str]) -> list[str]:
    """The hair and eye colour tags among ``names`` (``pink_hair``, ``blue_eyes``; not
    ``long_hair`` or ``closed_eyes``): an edit switches one on, which says what replaces it;
    switching one off does not."""
    return [n for n in names for part in ("_hair", "_eyes") if n.endswith(part) and n.removesuffix(part) in COLOURS]


def check_attribute_names(names: Sequence[str]) -> list[str]:
    """``names`` as a list; ValueError when it is empty or repeats a name."""
    if not names:
        raise ValueError("attribute_names is empty: list the attributes (data.attributes)")
    if len(set(names)) != len(names):
        raise ValueError(f"attribute_names repeats a name: {list(names)}")
    return list(names)


def exclusive_groups(names: Sequence[str]) -> list[list[str]]:
    """Attributes of which a face has at most one, read from Danbooru-style tag names: the
    hair colours (``<colour>_hair``), the eye colours (``<colour>_eyes``) and the hair
    lengths. Other tags (``closed_eyes``, ``messy_hair``) are in no group; groups of one name
    are left out.

    Switching one of a group on switches the others off (:meth:`AttributeEditor.targets`).
    """
    colours = colour_tags(names)
    hair = [n for n in colours if n.endswith("_hair")]
    eyes = [n for n in colours if n.endswith("_eyes")]
    lengths = [n for n in names if n in _HAIR_LENGTHS]
    return [group for group in (hair, eyes, lengths) if len(group) > 1]
