"""Test-wide settings: no network, no writes outside temporary folders."""

import os

import pytest
import torch

# Tiny trained checkpoints that tests in several folders use (metrics, methods, tools): defined
# in tests/fixtures.py, registered here once so that each trains once per session.
from tests.fixtures import gan_run, stages, tiny_classifier, tiny_metric, tiny_vae  # noqa: F401

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test session caches (oracles, ...) in its own folder, never in ~/.cache."""
    monkeypatch.setenv("ANIMESTYLE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(autouse=True, scope="session")
def _one_thread_per_worker() -> None:
    """Under pytest-xdist every worker is a process of its own: one torch thread each (and
    in every ``animestyle`` command a test starts), so that the workers do not oversubscribe
    the cores (tiny convolutions are then ~100x slower)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
        os.environ.setdefault("OMP_NUM_THREADS", "1")  # and in the commands the tests run
