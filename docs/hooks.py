"""MkDocs hook: tables generated from the code, so the docs cannot drift from it.

A page may hold the markers ``<!-- content-factors -->``, ``<!-- style-factors -->`` and
``<!-- attributes -->``; each is replaced by a Markdown table built from
``animestyle.data.synthetic``. ``<!-- public-api -->`` becomes one mkdocstrings entry per name
of ``animestyle.__all__``, so the reference of ``import animestyle`` is what it exports.
"""

from __future__ import annotations

from typing import Any

import animestyle
from animestyle.data.synthetic import ATTRIBUTE_NAMES, CONTENT_FACTORS, STYLE_FACTORS, Categorical, Factor


def _values(factor: Factor) -> str:
    if isinstance(factor, Categorical):
        probs = factor.probs or (1 / len(factor.choices),) * len(factor.choices)
        uniform = len(set(probs)) == 1
        return ", ".join(
            f"`{c}`" if uniform else f"`{c}` ({p:.0%})" for c, p in zip(factor.choices, probs, strict=True)
        )
    return f"{factor.low:g} to {factor.high:g} (uniform)"


def _table(factors: tuple[Factor, ...]) -> str:
    rows = [f"| `{f.name}` | {_values(f)} | {f.doc} |" for f in factors]
    return "\n".join(["| factor | values | meaning |", "|---|---|---|", *rows])


def _public_api() -> str:
    """``::: <defining module>.<name>`` for each export (where it is defined, so that the
    reference resolves without following the package's lazy imports)."""
    names = [name for name in animestyle.__all__ if name != "__version__"]
    return "\n\n".join(f"::: {getattr(animestyle, name).__module__}.{name}" for name in names)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    attributes = ", ".join(f"`{name}`" for name in ATTRIBUTE_NAMES)
    if "<!-- public-api -->" in markdown:
        markdown = markdown.replace("<!-- public-api -->", _public_api())
    return (
        markdown.replace("<!-- content-factors -->", _table(CONTENT_FACTORS))
        .replace("<!-- style-factors -->", _table(STYLE_FACTORS))
        .replace("<!-- attributes -->", attributes)
    )
