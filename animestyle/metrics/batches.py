"""Images of a data module's split, in order, for metrics that run a model over them."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from animestyle.checks import check_count
from animestyle.data.datamodule import AnimeFacesDataModule

__all__ = ["image_batches"]


def image_batches(
    datamodule: AnimeFacesDataModule, split: str, limit: int | None, device: torch.device, desc: str
) -> Iterator[dict[str, torch.Tensor]]:
    """Up to ``limit`` images of ``split``, in order, as float batches on ``device``."""
    if split not in ("train", "val"):
        raise ValueError(f"split={split!r} is not allowed; choose 'train' or 'val'")
    if limit is not None:
        check_count("limit", limit, 1)
    dataset = datamodule.train_set if split == "train" else datamodule.val_set
    size = len(dataset)  # type: ignore[arg-type]
    total = size if limit is None else min(limit, size)
    loader = DataLoader(dataset, batch_size=datamodule.batch_size, shuffle=False, num_workers=datamodule.num_workers)
    seen = 0
    with tqdm(total=total, desc=desc, unit="image", leave=False) as bar:
        for batch in loader:
            if seen >= total:
                break
            batch = {k: v[: total - seen] for k, v in batch.items()}
            batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
            batch = datamodule.on_after_batch_transfer(batch, 0)
            seen += len(batch["x"])
            bar.update(len(batch["x"]))
            yield batch
    if seen == 0:
        raise ValueError(f"the {split} split holds no images")
