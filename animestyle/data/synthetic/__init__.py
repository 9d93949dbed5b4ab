"""Built-in synthetic anime portraits with ground-truth style and content.

``render(content, style, size)`` draws one portrait; ``SyntheticPortraits`` is a seeded torch
Dataset of them with the true transfer (``transfer``) and edit (``edit``) of every item.
"""

from animestyle.data.synthetic.dataset import (
    SPLITS,
    SyntheticPortraits,
    categorical_factors,
    image_to_tensor,
    labelable_factors,
)
from animestyle.data.synthetic.factors import (
    ATTRIBUTE_NAMES,
    CONTENT_FACTORS,
    STYLE_FACTORS,
    Categorical,
    Content,
    Continuous,
    Factor,
    Style,
    attributes,
    factor_by_name,
    jitter_style,
    sample_content,
    sample_style,
    with_attribute,
)
from animestyle.data.synthetic.portrait import MAX_SIZE, MIN_SIZE, RENDERER_VERSION, Part, render, render_parts

__all__ = [
    "ATTRIBUTE_NAMES",
    "CONTENT_FACTORS",
    "MAX_SIZE",
    "MIN_SIZE",
    "RENDERER_VERSION",
    "SPLITS",
    "STYLE_FACTORS",
    "Categorical",
    "Content",
    "Continuous",
    "Factor",
    "Part",
    "Style",
    "SyntheticPortraits",
    "attributes",
    "categorical_factors",
    "factor_by_name",
    "image_to_tensor",
    "jitter_style",
    "labelable_factors",
    "render",
    "render_parts",
    "sample_content",
    "sample_style",
    "with_attribute",
]
