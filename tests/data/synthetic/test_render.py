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


def _changed_pixels(first: tuple[Content, Style], second: tuple[Content, Style], size: int) -> int:
    a, b = (_pixels(render(c, s, size)) for c, s in (first, second))
    return int((np.abs(a - b).max(axis=2) > 24).sum())


def _varied(content: Content, style: Style, factor: Factor, value: object) -> tuple[Content, Style]:
    if factor in CONTENT_FACTORS:
        return content.replace(**{factor.name: value}), style
    return content, style.replace(**{factor.name: value})


_MIN_CHANGED = {32: 1, 64: 4, 256: 16}


@pytest.mark.parametrize("size", [32, 64, 256])
@pytest.mark.parametrize("factor", CONTENT_FACTORS + STYLE_FACTORS, ids=lambda f: f.name)
def test_each_factor_changes_the_picture_when_varied_alone(
    content: Content, style: Style, factor: Factor, size: int
) -> None:
    """Its two extremes (first and last choice, or low and high end) differ at every size."""
    low, high = (
        (factor.choices[0], factor.choices[-1]) if isinstance(factor, Categorical) else (factor.low, factor.high)
    )
    changed = _changed_pixels(_varied(content, style, factor, low), _varied(content, style, factor, high), size)
    assert changed >= _MIN_CHANGED[size], f"{factor.name}: {low!r} and {high!r} differ on {changed} pixels"


@pytest.mark.parametrize(
    "factor", [f for f in CONTENT_FACTORS + STYLE_FACTORS if isinstance(f, Categorical)], ids=lambda f: f.name
)
def test_every_choice_of_a_categorical_factor_looks_different_at_64_px(
    content: Content, style: Style, factor: Categorical
) -> None:
    for before, after in zip(factor.choices, factor.choices[1:], strict=False):
        changed = _changed_pixels(_varied(content, style, factor, before), _varied(content, style, factor, after), 64)
        assert changed >= 4, f"{factor.name}: {before!r} and {after!r} differ on {changed} pixels"


def test_glints_stay_inside_the_eyes() -> None:
    """The extra glints of "three" highlights land on the eyes, never on the skin around them."""
    rng = np.random.default_rng(16)
    for _ in range(20):
        content, style = sample_content(rng), sample_style(rng)
        one, three = (style.replace(highlights=h) for h in ("one", "three"))
        changed = (np.abs(_pixels(render(content, three, 256)) - _pixels(render(content, one, 256))).max(axis=2)) > 0
        eyes = render_parts(content, three, 256) == Part.EYE
        near_eyes = eyes | np.roll(eyes, 1, 0) | np.roll(eyes, -1, 0) | np.roll(eyes, 1, 1) | np.roll(eyes, -1, 1)
        assert changed.any()
        assert not (changed & ~near_eyes).any()


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
