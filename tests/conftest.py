"""Test-wide settings: no network, no writes outside temporary folders."""

import os

import pytest

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test session caches (oracles, ...) in its own folder, never in ~/.cache."""
    monkeypatch.setenv("ANIMESTYLE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
