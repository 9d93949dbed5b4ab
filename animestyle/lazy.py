"""Package exports that load on first use: ``import animestyle`` (and
``animestyle.data.prepare``'s worker processes) must start without importing torch and
Lightning, yet ``animestyle.load`` and friends must be one attribute away."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``package`` that imports ``homes[name]`` (a module
    path) when ``name`` is first asked for and returns its attribute of that name."""

    def __getattr__(name: str) -> Any:
        if name in homes:
            return getattr(importlib.import_module(homes[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
