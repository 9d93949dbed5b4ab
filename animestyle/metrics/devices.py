"""Where a module runs, for metrics that move their inputs to it."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["module_device"]


def module_device(module: Any) -> torch.device:
    """The device of ``module``'s first parameter; the CPU for a module without parameters
    or an object that is not an ``nn.Module`` (a stub scorer)."""
    parameter = next(iter(module.parameters()), None) if isinstance(module, nn.Module) else None
    return parameter.device if parameter is not None else torch.device("cpu")
