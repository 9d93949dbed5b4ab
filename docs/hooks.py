"""MkDocs hook: tables generated from the code, so the docs cannot drift from it.

A page may hold the markers ``<!-- content-factors -->``, ``<!-- style-factors -->`` and
``<!-- attributes -->``; each is replaced by a Markdown table built from
``animestyle.data.synthetic``.
"""

from __future__ import annotations

from typing import Any

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


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    attributes = ", ".join(f"`{name}`" for name in ATTRIBUTE_NAMES)
    return (
        markdown.replace("<!-- content-factors -->", _table(CONTENT_FACTORS))
        .replace("<!-- style-factors -->", _table(STYLE_FACTORS))
        .replace("<!-- attributes -->", attributes)
    )
