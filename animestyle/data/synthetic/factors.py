"""Factors of variation of the synthetic portraits: what a picture shows and how it is drawn.

*Content* is drawn per image and never depends on the artist (hair colour, mouth, tilt, ...).
*Style* is drawn once per artist from a seeded prior (eye shape, line width, shading, ...)
and receives a small per-image jitter. Every factor is either categorical (named choices)
or continuous (a closed range); :class:`Content` and :class:`Style` hold one value per
factor, and their ``to_vector`` gives one float per factor (a categorical factor as the
index of its choice), in the order of ``CONTENT_FACTORS`` / ``STYLE_FACTORS``.

Binary attributes named like Danbooru tags (``blush``, ``open_mouth``, ``pink_hair``, ...)
are derived from content, so attribute editing has an exact ground truth.
"""

from __future__ import annotations

import bisect
import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "ATTRIBUTE_NAMES",
    "CONTENT_FACTORS",
    "STYLE_FACTORS",
    "Categorical",
    "Content",
    "Continuous",
    "Factor",
    "Style",
    "attributes",
    "factor_by_name",
    "jitter_style",
    "sample_content",
    "sample_style",
    "with_attribute",
]


@dataclass(frozen=True)
class Categorical:
    """A factor with named choices, sampled with probabilities ``probs`` (uniform if None)."""

    name: str
    choices: tuple[str, ...]
    doc: str
    probs: tuple[float, ...] | None = None

    def from_uniform(self, u: float) -> str:
        """The choice at quantile ``u`` in [0, 1) of the factor's distribution."""
        if self.probs is None:
            return self.choices[int(u * len(self.choices))]
        return self.choices[min(bisect.bisect_right(np.cumsum(self.probs).tolist(), u), len(self.choices) - 1)]

    def encode(self, value: Any) -> float:
        return float(self.choices.index(value))

    def decode(self, value: float) -> str:
        index = round(value)
        if index != value or not 0 <= index < len(self.choices):
            raise ValueError(f"{self.name}: {value!r} is not a choice index; use 0 to {len(self.choices) - 1}")
        return self.choices[index]

    def validate(self, value: Any) -> str:
        if value not in self.choices:
            raise ValueError(f"{self.name}={value!r} is not allowed; choose one of {list(self.choices)}")
        return str(value)


@dataclass(frozen=True)
class Continuous:
    """A factor uniform on ``[low, high]``."""

    name: str
    low: float
    high: float
    doc: str

    def from_uniform(self, u: float) -> float:
        """The value at quantile ``u`` in [0, 1) of the factor's distribution."""
        return self.low + u * (self.high - self.low)

    def encode(self, value: Any) -> float:
        return float(value)

    def decode(self, value: float) -> float:
        return self.validate(value)

    def validate(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{self.name}={value!r} must be a number in [{self.low}, {self.high}]")
        # float32 vectors (to_vector) may round the range's ends by a hair: allow that.
        if not self.low - 1e-6 <= float(value) <= self.high + 1e-6:
            raise ValueError(f"{self.name}={value!r} is outside the allowed range [{self.low}, {self.high}]")
        return min(max(float(value), self.low), self.high)


Factor = Categorical | Continuous

HAIR_COLOURS = ("black", "brown", "blonde", "red", "blue", "pink", "purple", "green", "silver")
EYE_COLOURS = ("blue", "red", "brown", "green", "purple", "gold")

CONTENT_FACTORS: tuple[Factor, ...] = (
    Categorical("hair_colour", HAIR_COLOURS, "colour of the hair"),
    Categorical("eye_colour", EYE_COLOURS, "colour of the irises"),
    Categorical("hair_length", ("short", "medium", "long"), "short: above the jaw; long: past the shoulders"),
    Categorical("bangs", ("blunt", "swept_left", "swept_right", "parted"), "cut of the fringe"),
    Categorical("mouth", ("closed", "smile", "open"), "expression of the mouth"),
    Categorical("blush", ("no", "yes"), "blushing cheeks", probs=(0.65, 0.35)),
    Categorical("glasses", ("no", "yes"), "wears glasses", probs=(0.75, 0.25)),
    Categorical(
        "background",
        ("white", "sky", "pink", "mint", "lavender", "peach", "grey", "navy"),
        "flat background colour",
    ),
    Categorical("outfit", ("navy", "white", "black", "red", "green", "grey"), "colour of the clothes"),
    Continuous("tilt", -12.0, 12.0, "head roll in degrees, positive = clockwise on screen"),
    Continuous("offset_x", -0.05, 0.05, "horizontal head offset, fraction of the image width"),
    Continuous("offset_y", -0.04, 0.04, "vertical head offset, fraction of the image height"),
)

STYLE_FACTORS: tuple[Factor, ...] = (
    Continuous("eye_size", 0.8, 1.3, "scale of the eyes"),
    Continuous("eye_aspect", 0.75, 1.3, "eye height relative to width (tall anime eyes > 1)"),
    Continuous("eye_tilt", -0.4, 0.6, "lift of the outer eye corner (droopy < 0 < sharp)"),
    Continuous("eye_spacing", 0.88, 1.1, "distance between the eyes"),
    Continuous("eye_height", 0.0, 0.8, "where the eyes sit on the face (0 = high, 0.8 = low, younger)"),
    Continuous("iris_size", 0.75, 1.1, "iris width relative to the eye"),
    Continuous("pupil_size", 0.15, 0.6, "pupil width relative to the iris"),
    Categorical("highlights", ("one", "two", "three"), "number of light spots in each iris"),
    Continuous("highlight_size", 0.16, 0.4, "size of the main iris highlight"),
    Continuous("eyelash", 0.7, 1.7, "thickness of the upper eyelid line"),
    Continuous("line_width", 0.5, 2.0, "width of the line art"),
    Continuous("line_darkness", 0.4, 1.0, "darkness of the line art (1 = black)"),
    Continuous("jaw_sharpness", 0.0, 1.0, "0 = round jaw, 1 = pointed V chin"),
    Continuous("face_aspect", 0.92, 1.2, "face height relative to width"),
    Continuous("skin_tone", 0.0, 1.0, "0 = pale porcelain, 1 = warm peach"),
    Categorical("shading", ("flat", "cel", "gradient"), "how skin and hair are shaded"),
    Continuous("hair_locks", 4.0, 10.0, "number of locks in the fringe (rounded)"),
    Continuous("hair_highlight", 0.0, 1.0, "strength of the shiny band across the hair (< 0.2: none)"),
    Continuous("saturation", 0.55, 1.3, "colour saturation, scaled around the grey of each colour"),
    Continuous("contrast", 0.75, 1.2, "colour contrast around mid grey"),
    Continuous("mouth_size", 0.6, 1.5, "width of the mouth"),
)

_BY_NAME: dict[str, Factor] = {f.name: f for f in CONTENT_FACTORS + STYLE_FACTORS}


def factor_by_name(name: str) -> Factor:
    """The content or style factor called ``name``; ValueError naming the allowed names."""
    if name not in _BY_NAME:
        raise ValueError(f"unknown factor {name!r}; allowed: {sorted(_BY_NAME)}")
    return _BY_NAME[name]


_T = TypeVar("_T", bound="_Factors")


class _Factors:
    """Shared behaviour of :class:`Content` and :class:`Style` (dataclasses of factor values)."""

    FACTORS: tuple[Factor, ...] = ()

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in cls.FACTORS)

    def to_vector(self) -> np.ndarray:
        """One float per factor, in declaration order; categorical factors as choice index."""
        return np.array([f.encode(getattr(self, f.name)) for f in self.FACTORS], dtype=np.float32)

    @classmethod
    def from_vector(cls: type[_T], vector: np.ndarray) -> _T:
        """Inverse of :meth:`to_vector`; ValueError for an index or value out of range."""
        if len(vector) != len(cls.FACTORS):
            raise ValueError(f"{cls.__name__} vector needs {len(cls.FACTORS)} entries, got {len(vector)}")
        return cls(**{f.name: f.decode(float(v)) for f, v in zip(cls.FACTORS, vector, strict=True)})

    def replace(self: _T, **changes: Any) -> _T:
        """A copy with some factors changed; ValueError for unknown names or bad values."""
        allowed = {f.name: f for f in self.FACTORS}
        for name, value in changes.items():
            if name not in allowed:
                raise ValueError(f"{type(self).__name__} has no factor {name!r}; allowed: {sorted(allowed)}")
            changes[name] = allowed[name].validate(value)
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class Content(_Factors):
    """What one portrait shows; see ``CONTENT_FACTORS`` for ranges and meaning."""

    hair_colour: str
    eye_colour: str
    hair_length: str
    bangs: str
    mouth: str
    blush: str
    glasses: str
    background: str
    outfit: str
    tilt: float
    offset_x: float
    offset_y: float

    FACTORS = CONTENT_FACTORS


@dataclass(frozen=True)
class Style(_Factors):
    """How an artist draws; see ``STYLE_FACTORS`` for ranges and meaning."""

    eye_size: float
    eye_aspect: float
    eye_tilt: float
    eye_spacing: float
    eye_height: float
    iris_size: float
    pupil_size: float
    highlights: str
    highlight_size: float
    eyelash: float
    line_width: float
    line_darkness: float
    jaw_sharpness: float
    face_aspect: float
    skin_tone: float
    shading: str
    hair_locks: float
    hair_highlight: float
    saturation: float
    contrast: float
    mouth_size: float

    FACTORS = STYLE_FACTORS


def sample_content(rng: np.random.Generator) -> Content:
    """Draw a content from its prior (every factor independent)."""
    u = rng.random(len(CONTENT_FACTORS)).tolist()
    values: dict[str, Any] = {f.name: f.from_uniform(ui) for f, ui in zip(CONTENT_FACTORS, u, strict=True)}
    return Content(**values)


def sample_style(rng: np.random.Generator) -> Style:
    """Draw an artist's style from its prior (every factor independent)."""
    u = rng.random(len(STYLE_FACTORS)).tolist()
    values: dict[str, Any] = {f.name: f.from_uniform(ui) for f, ui in zip(STYLE_FACTORS, u, strict=True)}
    return Style(**values)


def jitter_style(style: Style, rng: np.random.Generator, scale: float) -> Style:
    """Per-image variation of an artist's hand: each continuous factor moves by a Gaussian
    of standard deviation ``scale`` times its range, clipped to the range. Categorical style
    factors (shading type, highlight count) are an artist's habit and never jitter."""
    if scale == 0:
        return style
    noise = rng.standard_normal(len(STYLE_FACTORS)).tolist()
    values = {}
    for f, n in zip(STYLE_FACTORS, noise, strict=True):
        value = getattr(style, f.name)
        if isinstance(f, Continuous):
            value = min(max(value + n * scale * (f.high - f.low), f.low), f.high)
        values[f.name] = value
    return Style(**values)


# Binary attributes named as Danbooru tags.
_BINARY_ATTRIBUTES = ("blush", "glasses", "open_mouth", "smile", "short_hair", "long_hair")
ATTRIBUTE_NAMES: tuple[str, ...] = (
    _BINARY_ATTRIBUTES + tuple(f"{c}_hair" for c in HAIR_COLOURS) + tuple(f"{c}_eyes" for c in EYE_COLOURS)
)


def attributes(content: Content) -> np.ndarray:
    """Binary attribute vector (len(ATTRIBUTE_NAMES),) of 0/1 floats derived from content."""
    on = {
        "blush": content.blush == "yes",
        "glasses": content.glasses == "yes",
        "open_mouth": content.mouth == "open",
        "smile": content.mouth == "smile",
        "short_hair": content.hair_length == "short",
        "long_hair": content.hair_length == "long",
        f"{content.hair_colour}_hair": True,
        f"{content.eye_colour}_eyes": True,
    }
    return np.array([float(on.get(name, False)) for name in ATTRIBUTE_NAMES], dtype=np.float32)


def with_attribute(content: Content, attribute: str, value: bool) -> Content:
    """The content with one attribute set: the exact semantic of an attribute edit.

    Setting an attribute to the value it already has changes nothing. Otherwise binary tags
    flip their factor (``open_mouth`` off closes the mouth; ``long_hair`` off makes it
    medium), and a colour tag switched on sets that colour. Switching a colour off that is
    on does not say which colour to use, so it raises ValueError.
    """
    if attribute not in ATTRIBUTE_NAMES:
        raise ValueError(f"unknown attribute {attribute!r}; allowed: {list(ATTRIBUTE_NAMES)}")
    if attributes(content)[ATTRIBUTE_NAMES.index(attribute)] == float(value):
        return content  # already so: nothing else may change
    yes_no = "yes" if value else "no"
    if attribute in ("blush", "glasses"):
        return content.replace(**{attribute: yes_no})
    if attribute == "open_mouth":
        return content.replace(mouth="open" if value else "closed")
    if attribute == "smile":
        return content.replace(mouth="smile" if value else "closed")
    if attribute in ("short_hair", "long_hair"):
        return content.replace(hair_length=attribute.split("_")[0] if value else "medium")
    colour, kind = attribute.rsplit("_", 1)
    factor = "hair_colour" if kind == "hair" else "eye_colour"
    if not value:
        raise ValueError(f"cannot switch {attribute!r} off: switch another colour on, or set {factor}")
    return content.replace(**{factor: colour})
