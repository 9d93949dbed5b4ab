from pathlib import Path

import pytest

from animestyle.cache import cache_dir


def test_cache_location_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ANIMESTYLE_CACHE", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("ANIMESTYLE_CACHE", "")  # empty counts as unset
    assert cache_dir() == tmp_path / "xdg" / "animestyle"
    monkeypatch.delenv("ANIMESTYLE_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "animestyle"
