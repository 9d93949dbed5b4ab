"""Augmentation: per-image on the CPU (albumentations), and paired on the device (kornia).

``Albumentations`` wraps a dataset whose items hold ``x`` (4, H, W) uint8 RGBA and applies an
albumentations pipeline to each image (alpha moves with it as a mask). Its
``Compose`` carries its own random generator, which forked DataLoader workers copy: every
worker, and with fresh workers every epoch, would repeat the same augmentations.
:func:`reseed_worker` (the DataModule's ``worker_init_fn``) gives each worker its own seed,
derived from torch's per-worker, per-epoch seed.

``PairedAugment`` applies one random rotation and zoom to a real and a fake batch alike on the
device, as GADN's stage 2 does before its discriminator and classifier, so that D never
learns to tell them apart by augmentation.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, get_worker_info

__all__ = ["Albumentations", "PairedAugment", "build_albumentations", "reseed_worker"]


def build_albumentations(steps: list[dict[str, Any]]) -> Any:
    """An ``albumentations.Compose`` from a list like ``[{"name": "HorizontalFlip", "p": 0.5}]``.

    Each dict names an albumentations transform and gives its arguments; ValueError names an
    unknown transform. Alpha travels as a mask, which albumentations resamples with nearest
    neighbours unless told otherwise: transforms that resample take bilinear
    ``mask_interpolation`` here (unless given), so alpha edges match colour edges.
    """
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no network check at import
    import albumentations as A

    transforms = []
    for k, step in enumerate(steps):
        arguments = dict(step)
        name = arguments.pop("name", None)
        transform = getattr(A, str(name), None)
        if not isinstance(transform, type):
            raise ValueError(f"augment[{k}]: {name!r} is not an albumentations transform (e.g. 'HorizontalFlip')")
        if "mask_interpolation" in inspect.signature(transform).parameters:
            arguments.setdefault("mask_interpolation", 1)  # cv2.INTER_LINEAR
        transforms.append(transform(**arguments))
    return A.Compose(transforms)


class Albumentations(Dataset[dict[str, torch.Tensor]]):
    """``dataset`` with an albumentations pipeline applied to each item's ``x``.

    ``x`` is (4, H, W) uint8 RGBA, as the DataModule's datasets give it: the colour goes to the
    pipeline as the image and alpha along as a mask, so geometric transforms move both and
    colour transforms leave alpha alone.
    """

    def __init__(self, dataset: Dataset[dict[str, torch.Tensor]], pipeline: Any):
        self.dataset, self.pipeline = dataset, pipeline

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        item = dict(self.dataset[i])
        pixels = item["x"].permute(1, 2, 0).numpy()
        out = self.pipeline(image=np.ascontiguousarray(pixels[..., :3]), mask=np.ascontiguousarray(pixels[..., 3]))
        rgba = np.concatenate([out["image"], out["mask"][..., None]], axis=2)
        item["x"] = torch.from_numpy(np.ascontiguousarray(rgba)).permute(2, 0, 1)
        return item


def process_rank() -> int:
    """This process's global rank under Lightning's DDP (0 without it)."""
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    return int(getattr(rank_zero_only, "rank", 0))


def reseed_worker(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: seed this worker's torch stream and albumentations
    pipeline from torch's seed for it, which differs between workers and, for fresh
    workers, between epochs, mixed with the DDP rank (every rank starts from the same seed,
    and would otherwise draw the same augmentations and style references)."""
    info = get_worker_info()
    if info is None:
        return
    seed = (info.seed + 1_000_003 * process_rank()) % 2**63
    torch.manual_seed(seed)
    dataset: Any = info.dataset
    while dataset is not None and not isinstance(dataset, Albumentations):  # under wrappers such as StylePairs
        dataset = getattr(dataset, "dataset", None)
    if isinstance(dataset, Albumentations):
        dataset.pipeline.set_random_seed(seed % 2**32)


class PairedAugment(nn.Module):
    """The same random rotation (up to ``rotation`` degrees either way) and zoom (1 to
    ``zoom`` times) for two batches of the same shape, on their device.

    Args:
        rotation: largest rotation in degrees (GADN stage 2: 15).
        zoom: largest zoom factor (GADN stage 2: 1.25).
    """

    def __init__(self, rotation: float = 15.0, zoom: float = 1.25):
        super().__init__()
        if rotation < 0 or zoom < 1:
            raise ValueError(f"rotation={rotation!r} must be >= 0 and zoom={zoom!r} >= 1")
        import kornia.augmentation as K

        self.affine = K.RandomAffine(degrees=rotation, scale=(1.0, zoom), p=1.0, padding_mode="zeros")

    def forward(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: real, fake: (B, C, H, W) of the same shape. Returns both, augmented alike;
        gradients flow through both."""
        if real.shape != fake.shape:
            raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} must have the same shape")
        params = self.affine.forward_parameters(real.shape)
        return self.affine(real, params=params), self.affine(fake, params=params)
