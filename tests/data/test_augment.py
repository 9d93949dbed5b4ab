import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from animestyle.data.augment import Albumentations, PairedAugment, build_albumentations, reseed_worker


class _Same(Dataset):
    """Eight copies of one image: any difference between items is the augmentation's."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        x = torch.cat([torch.arange(3 * 16 * 16).reshape(3, 16, 16) % 256, torch.full((1, 16, 16), 255)])
        return {"x": x.to(torch.uint8), "index": torch.tensor(i)}


def _epochs(worker_init_fn) -> list[list[torch.Tensor]]:  # type: ignore[no-untyped-def]
    pipeline = build_albumentations([{"name": "RandomBrightnessContrast", "p": 1.0}])
    dataset = Albumentations(_Same(), pipeline)
    loader = DataLoader(dataset, batch_size=1, num_workers=2, worker_init_fn=worker_init_fn)
    return [[batch["x"][0] for batch in loader] for _ in range(2)]  # fresh workers each epoch


def test_without_reseeding_workers_and_epochs_repeat_the_same_augmentations() -> None:
    """The albumentations pitfall this library fixes: forked workers copy one RNG."""
    first, second = _epochs(None)
    assert torch.equal(first[0], first[1])  # item 0 (worker 0) and item 1 (worker 1)
    assert torch.equal(first[2], second[2])  # epoch 1 and epoch 2


def test_reseeding_gives_each_worker_and_epoch_its_own_augmentations() -> None:
    first, second = _epochs(reseed_worker)
    assert not torch.equal(first[0], first[1])
    assert all(not torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert len({x.numpy().tobytes() for x in first}) == 8


def test_alpha_moves_with_geometric_transforms_and_not_with_colour_ones() -> None:
    x = torch.zeros(4, 8, 8, dtype=torch.uint8)
    x[:3, :, 4:] = 200
    x[3, :, 4:] = 255  # right half opaque
    flipped = Albumentations([{"x": x}], build_albumentations([{"name": "HorizontalFlip", "p": 1.0}]))[0]["x"]
    assert flipped.dtype == torch.uint8
    assert (flipped[3, :, :4] == 255).all()
    assert (flipped[3, :, 4:] == 0).all()
    assert (flipped[:3, :, :4] == 200).all()
    inverted = Albumentations([{"x": x}], build_albumentations([{"name": "InvertImg", "p": 1.0}]))[0]["x"]
    assert torch.equal(inverted[3], x[3])
    assert (inverted[:3, :, 4:] == 55).all()


def test_unknown_transform_is_named() -> None:
    with pytest.raises(ValueError, match=r"augment\[1\]: 'Sparkle' is not an albumentations transform"):
        build_albumentations([{"name": "HorizontalFlip"}, {"name": "Sparkle"}])


def test_paired_augment_applies_one_transform_to_both_batches() -> None:
    torch.manual_seed(0)
    augment = PairedAugment(rotation=15, zoom=1.25)
    real = torch.rand(4, 3, 32, 32)
    fake = (2 * real).requires_grad_()
    out_real, out_fake = augment(real, fake)
    assert out_real.shape == out_fake.shape == (4, 3, 32, 32)
    assert torch.allclose(out_fake, 2 * out_real, atol=1e-5)  # same warp of a linear function
    assert not torch.allclose(out_real, real)
    out_fake.sum().backward()
    assert fake.grad is not None
    assert fake.grad.abs().sum() > 0
    again, _ = augment(real, real)
    assert not torch.allclose(again, out_real)  # new parameters every call


def test_paired_augment_parameter_ranges() -> None:
    augment = PairedAugment(rotation=15, zoom=1.25)
    params = augment.affine.forward_parameters(torch.Size((256, 3, 8, 8)))
    assert params["angle"].abs().max() <= 15
    assert params["scale"].min() >= 1
    assert params["scale"].max() <= 1.25
    with pytest.raises(ValueError, match="must have the same shape"):
        augment(torch.zeros(1, 3, 8, 8), torch.zeros(2, 3, 8, 8))


def test_alpha_is_resampled_smoothly_like_colour() -> None:
    x = torch.zeros(4, 32, 32, dtype=torch.uint8)
    x[:, 8:24, 8:24] = 255
    rotated = Albumentations([{"x": x}], build_albumentations([{"name": "Rotate", "limit": (30, 30), "p": 1.0}]))[0]
    alpha = rotated["x"][3]
    assert ((alpha > 0) & (alpha < 255)).any()  # soft edges, not nearest-neighbour steps
