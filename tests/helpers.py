"""Helpers shared by test modules."""

from pathlib import Path
from typing import Any

import lightning as L


def cpu_trainer(root: Path, max_steps: int, **kwargs: Any) -> L.Trainer:
    """A quiet single-CPU Trainer (no logger, checkpoints, progress bar or summary; one
    validation batch, no sanity check); ``kwargs`` override any setting."""
    settings: dict[str, Any] = {
        "default_root_dir": root,
        "accelerator": "cpu",
        "devices": 1,
        "max_steps": max_steps,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "limit_val_batches": 1,
        "num_sanity_val_steps": 0,
    }
    return L.Trainer(**{**settings, **kwargs})
