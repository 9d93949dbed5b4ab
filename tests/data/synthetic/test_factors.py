import dataclasses

import numpy as np
import pytest

from animestyle.data.synthetic import (
    ATTRIBUTE_NAMES,
    CONTENT_FACTORS,
    STYLE_FACTORS,
    Categorical,
    Content,
    Continuous,
    Style,
    attributes,
    factor_by_name,
    jitter_style,
    sample_content,
    sample_style,
    with_attribute,
)


def test_factor_tables_match_the_dataclasses() -> None:
    assert [f.name for f in dataclasses.fields(Content)] == [f.name for f in CONTENT_FACTORS]
    assert [f.name for f in dataclasses.fields(Style)] == [f.name for f in STYLE_FACTORS]


def test_enough_factors_of_each_kind() -> None:
    assert len(CONTENT_FACTORS) >= 8
    assert len(STYLE_FACTORS) >= 10
    for tag in ("blush", "glasses", "open_mouth", "smile", "long_hair", "pink_hair", "blue_eyes"):
        assert tag in ATTRIBUTE_NAMES


def test_samples_lie_in_their_ranges() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        for value, factor in [(sample_content(rng), CONTENT_FACTORS), (sample_style(rng), STYLE_FACTORS)]:
            for f in factor:
                factor_value = getattr(value, f.name)
                if isinstance(f, Categorical):
                    assert factor_value in f.choices
                else:
                    assert f.low <= factor_value <= f.high


def test_categorical_probabilities_are_respected() -> None:
    rng = np.random.default_rng(1)
    glasses = np.mean([sample_content(rng).glasses == "yes" for _ in range(4000)])
    assert glasses == pytest.approx(0.25, abs=0.03)


def test_vectors_round_trip() -> None:
    rng = np.random.default_rng(2)
    content, style = sample_content(rng), sample_style(rng)
    back = Content.from_vector(content.to_vector())
    assert back.hair_colour == content.hair_colour
    assert back.tilt == pytest.approx(content.tilt, abs=1e-5)
    assert Style.from_vector(style.to_vector()).shading == style.shading
    with pytest.raises(ValueError, match="needs 12 entries"):
        Content.from_vector(np.zeros(3))


def test_jitter_moves_continuous_factors_only_and_stays_in_range() -> None:
    rng = np.random.default_rng(3)
    style = sample_style(rng)
    jittered = jitter_style(style, rng, 0.2)
    assert jittered.shading == style.shading
    assert jittered.highlights == style.highlights
    assert jittered.eye_size != style.eye_size
    for f in STYLE_FACTORS:
        if isinstance(f, Continuous):
            assert f.low <= getattr(jittered, f.name) <= f.high
    assert jitter_style(style, rng, 0.0) is style


def test_attributes_follow_content() -> None:
    content = sample_content(np.random.default_rng(4)).replace(
        blush="yes", glasses="no", mouth="smile", hair_length="long", hair_colour="pink", eye_colour="gold"
    )
    on = {name for name, value in zip(ATTRIBUTE_NAMES, attributes(content), strict=True) if value}
    assert on == {"blush", "smile", "long_hair", "pink_hair", "gold_eyes"}


@pytest.mark.parametrize(
    ("attribute", "value", "factor", "expected"),
    [
        ("blush", True, "blush", "yes"),
        ("glasses", False, "glasses", "no"),
        ("open_mouth", True, "mouth", "open"),
        ("open_mouth", False, "mouth", "closed"),
        ("smile", True, "mouth", "smile"),
        ("long_hair", False, "hair_length", "medium"),
        ("short_hair", True, "hair_length", "short"),
        ("green_hair", True, "hair_colour", "green"),
        ("red_eyes", True, "eye_colour", "red"),
    ],
)
def test_with_attribute_sets_exactly_that_attribute(attribute: str, value: bool, factor: str, expected: str) -> None:
    content = sample_content(np.random.default_rng(5))
    edited = with_attribute(content, attribute, value)
    assert getattr(edited, factor) == expected
    assert attributes(edited)[ATTRIBUTE_NAMES.index(attribute)] == float(value)
    others = [f.name for f in CONTENT_FACTORS if f.name != factor]
    assert all(getattr(edited, name) == getattr(content, name) for name in others)


def test_bad_names_and_values_raise_with_the_allowed_ones() -> None:
    content = sample_content(np.random.default_rng(6))
    with pytest.raises(ValueError, match=r"unknown attribute 'wings'.*allowed"):
        with_attribute(content, "wings", True)
    with pytest.raises(ValueError, match="cannot switch 'pink_hair' off"):
        with_attribute(content.replace(hair_colour="pink"), "pink_hair", False)
    with pytest.raises(ValueError, match="has no factor 'wings'; allowed"):
        content.replace(wings=1)
    with pytest.raises(ValueError, match=r"hair_colour='teal' is not allowed; choose one of \['black'"):
        content.replace(hair_colour="teal")
    with pytest.raises(ValueError, match=r"tilt=90 is outside the allowed range \[-12.0, 12.0\]"):
        content.replace(tilt=90)
    with pytest.raises(ValueError, match="unknown factor 'wings'; allowed"):
        factor_by_name("wings")
    assert factor_by_name("shading").name == "shading"


def _same_factor(attribute: str) -> set[str]:
    """Attributes derived from the same content factor as ``attribute``."""
    groups = [{"open_mouth", "smile"}, {"short_hair", "long_hair"}, {"blush"}, {"glasses"}]
    groups += [
        {a for a in ATTRIBUTE_NAMES if a.endswith(suffix)} - {"short_hair", "long_hair"}
        for suffix in ("_hair", "_eyes")
    ]
    return next(group for group in groups if attribute in group)


@pytest.mark.parametrize("attribute", ATTRIBUTE_NAMES)
def test_an_edit_changes_only_attributes_of_the_same_factor(attribute: str) -> None:
    """Setting an attribute sets it, may change only attributes of the same factor (one mouth
    is closed, smiling or open), and changes nothing when it already has the value."""
    rng = np.random.default_rng(7)
    index = ATTRIBUTE_NAMES.index(attribute)
    is_colour = len(_same_factor(attribute)) > 2
    for _ in range(40):
        content = sample_content(rng)
        before = attributes(content)
        for value in (True, False):
            if before[index] == value:
                assert with_attribute(content, attribute, value) is content
            elif is_colour and not value:
                with pytest.raises(ValueError, match="cannot switch"):
                    with_attribute(content, attribute, value)
            else:
                after = attributes(with_attribute(content, attribute, value))
                changed = {ATTRIBUTE_NAMES[k] for k in np.flatnonzero(after != before)}
                assert attribute in changed
                assert changed <= _same_factor(attribute), (attribute, value, changed)


def test_from_vector_checks_values() -> None:
    vector = sample_content(np.random.default_rng(8)).to_vector()
    bad_index = vector.copy()
    bad_index[0] = 99
    with pytest.raises(ValueError, match=r"hair_colour: 99\.0 is not a choice index; use 0 to 8"):
        Content.from_vector(bad_index)
    bad_value = vector.copy()
    bad_value[9] = 500
    with pytest.raises(ValueError, match=r"tilt=500.0 is outside the allowed range \[-12.0, 12.0\]"):
        Content.from_vector(bad_value)


def test_numpy_numbers_are_accepted_and_bools_are_not() -> None:
    content = sample_content(np.random.default_rng(9))
    assert content.replace(tilt=np.float32(3.5)).tilt == pytest.approx(3.5)
    assert content.replace(tilt=content.to_vector()[9]).tilt == pytest.approx(content.tilt, abs=1e-5)
    with pytest.raises(ValueError, match="tilt=True must be a number"):
        content.replace(tilt=True)
