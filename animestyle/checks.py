"""Argument checks shared by constructors and commands: errors that name the argument as given."""

from __future__ import annotations

__all__ = ["check_channels", "check_choice", "check_count"]


def check_count(name: str, value: object, minimum: int) -> int:
    """``value`` if it is an int (not a bool) of at least ``minimum``; otherwise ValueError
    ``"<name>=<value> must be an integer >= <minimum>"``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    return value


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``; otherwise ValueError naming the argument and the choices."""
    if value not in choices:
        options = " or ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not allowed; choose {options}")
    return value


def check_channels(value: object) -> str:
    """``"rgb"`` or ``"rgba"`` (the image channels of the data and of the networks reading it)."""
    return check_choice("channels", value, ("rgb", "rgba"))
