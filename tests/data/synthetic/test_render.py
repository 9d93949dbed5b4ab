import colorsys

import numpy as np
import pytest

from animestyle.data.synthetic import (
    CONTENT_FACTORS,
    STYLE_FACTORS,
    Categorical,
    Content,
    Factor,
    Part,
    Style,
    render,
    render_parts,
    sample_content,
    sample_style,
)
from animestyle.data.synthetic.portrait import HAIR_RGB


@pytest.fixture
def content() -> Content:
    return sample_content(np.random.default_rng(10)).replace(glasses="no", tilt=0.0)


@pytest.fixture
def style() -> Style:
    return sample_style(np.random.default_rng(11)).replace(shading="cel", hair_highlight=0.6)


def _pixels(image) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(image, dtype=np.int16)


@pytest.mark.parametrize("size", [32, 64, 100, 128, 256])
def test_sizes_and_determinism(content: Content, style: Style, size: int) -> None:
    image = render(content, style, size)
    assert image.mode == "RGB"
    assert image.size == (size, size)
    assert render(content, style, size).tobytes() == image.tobytes()


@pytest.mark.parametrize("size", [31, 257, 0, -64, 64.0, "64"])
def test_unsupported_sizes_raise(content: Content, style: Style, size: object) -> None:
    with pytest.raises(ValueError, match=r"size=.* use an integer from 32 to 256"):
        render(content, style, size)  # type: ignore[arg-type]


def test_edges_are_anti_aliased(content: Content, style: Style) -> None:
    """Box-filtered supersampling blends colours along edges: many colours occur only on a
    pixel or two, where flat fills alone would repeat a few dozen colours everywhere."""
    _, counts = np.unique(_pixels(render(content, style, 64)).reshape(-1, 3), axis=0, return_counts=True)
    assert (counts <= 2).sum() >= 40


def _two_values(factor: Factor) -> tuple[object, object]:
    if isinstance(factor, Categorical):
        return factor.choices[0], factor.choices[-1]
    return factor.low, factor.high


@pytest.mark.parametrize("factor", CONTENT_FACTORS + STYLE_FACTORS, ids=lambda f: f.name)
def test_each_factor_changes_the_picture_when_varied_alone(content: Content, style: Style, factor: Factor) -> None:
    low, high = _two_values(factor)
    target = content if factor in CONTENT_FACTORS else style
    a, b = (target.replace(**{factor.name: v}) for v in (low, high))
    pair = [(a, style), (b, style)] if factor in CONTENT_FACTORS else [(content, a), (content, b)]
    first, second = (_pixels(render(c, s, 128)) for c, s in pair)
    changed = (np.abs(first - second).max(axis=2) > 24).sum()
    assert changed >= 16, f"{factor.name}: {low!r} and {high!r} differ on only {changed} pixels"


def _hue(pixels: np.ndarray) -> float:
    """Circular median-ish hue (degrees) of saturated (N, 3) pixels."""
    hsv = np.array([colorsys.rgb_to_hsv(*(p / 255.0)) for p in pixels])
    hsv = hsv[(hsv[:, 1] > 0.15) & (hsv[:, 2] > 0.15)]
    angle = np.angle(np.exp(2j * np.pi * hsv[:, 0]).mean())
    return float(np.degrees(angle) % 360)


def _hue_gap(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


@pytest.mark.parametrize("hair", ["red", "blue", "pink", "green", "blonde"])
def test_two_artists_agree_on_the_hue_of_background_and_hair(hair: str) -> None:
    rng = np.random.default_rng(12)
    content = sample_content(rng).replace(hair_colour=hair, background="sky")
    hues = []
    for _ in range(4):
        style = sample_style(rng)
        image, parts = _pixels(render(content, style, 128)), render_parts(content, style, 128)
        hues.append((_hue(image[parts == Part.BACKGROUND]), _hue(image[parts == Part.HAIR])))
    for background, hair_hue in hues[1:]:
        assert _hue_gap(background, hues[0][0]) < 4
        assert _hue_gap(hair_hue, hues[0][1]) < 8


def test_two_artists_draw_the_same_things(content: Content) -> None:
    """Same content, different artists: the same parts are present in about the same place."""
    rng = np.random.default_rng(13)
    content = content.replace(glasses="yes", blush="yes", mouth="open")
    parts = [render_parts(content, sample_style(rng), 128) for _ in range(3)]
    for p in parts:
        assert set(np.unique(p)) == {int(v) for v in Part}
    face_centres = [np.argwhere(p == Part.SKIN).mean(axis=0) for p in parts]
    assert np.ptp(np.array(face_centres), axis=0).max() < 8


def test_parts_match_the_picture(content: Content, style: Style) -> None:
    image, parts = _pixels(render(content, style, 128)), render_parts(content, style, 128)
    assert parts.shape == (128, 128)
    assert parts.dtype == np.uint8
    background = image[parts == Part.BACKGROUND]
    assert (np.abs(background - np.median(background, axis=0)).max(axis=1) <= 2).mean() > 0.9


def test_hair_is_drawn_in_its_colour() -> None:
    """With neutral colour grading and flat shading the hair's main colour is the palette's."""
    style = sample_style(np.random.default_rng(14)).replace(saturation=1.0, contrast=1.0, shading="flat")
    for hair in HAIR_RGB:
        content = sample_content(np.random.default_rng(15)).replace(hair_colour=hair)
        image, parts = _pixels(render(content, style, 128)), render_parts(content, style, 128)
        colours, counts = np.unique(image[parts == Part.HAIR], axis=0, return_counts=True)
        assert tuple(colours[counts.argmax()]) == HAIR_RGB[hair]
