"""Argument checks shared by constructors and commands: errors that name the argument as given."""

from __future__ import annotations

__all__ = ["check_count"]


def check_count(name: str, value: object, minimum: int) -> int:
    """``value`` if it is an int (not a bool) of at least ``minimum``; otherwise ValueError
    ``"<name>=<value> must be an integer >= <minimum>"``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    return value
