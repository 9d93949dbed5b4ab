"""GADN networks: size presets, shapes, input checks, gradients."""

from __future__ import annotations

import re

import pytest
import torch

from animestyle.networks import Classifier, Encoder, Generator, Trunk, gadn_preset

# Small widths for fast tests: 3 levels at 32 px, 4 at 64 px (top map 4x4 either way).
SMALL = {32: (8, 16, 32), 64: (8, 16, 32, 32)}
FC, CONTENT, STYLE, ARTISTS = 32, 8, 4, 5


def test_presets_match_the_official_sizes() -> None:
    # reference-code.md, "Network sizes"; the style width follows the number of artists.
    p32 = gadn_preset(32, 1024)
    assert (p32.channels, p32.fc_width, p32.content_dim, p32.style_dim, p32.batch_size) == (
        (64, 128, 256),
        512,
        64,
        256,
        64,
    )
    p64 = gadn_preset(64, 1024)
    assert (p64.channels, p64.fc_width, p64.content_dim, p64.style_dim, p64.batch_size) == (
        (64, 128, 256, 512),
        1024,
        128,
        256,
        32,
    )
    # 256 px: the paper's Table 1, including its 256-dimensional content code (the code's
    # default would be 512).
    p256 = gadn_preset(256, 1024)
    assert (p256.channels, p256.fc_width, p256.content_dim, p256.style_dim, p256.batch_size) == (
        (32, 64, 128, 256, 512, 1024),
        2048,
        256,
        256,
        8,
    )


@pytest.mark.parametrize(
    ("size", "levels"),
    [(16, 2), (20, 2), (24, 3), (40, 3), (48, 4), (80, 4), (96, 5), (160, 5), (192, 6), (320, 6)],
)
def test_preset_levels_follow_the_size_ranges(size: int, levels: int) -> None:
    assert len(gadn_preset(size, 10).channels) == levels


def test_preset_style_width_follows_the_number_of_artists() -> None:
    assert gadn_preset(32, 8).style_dim == 8
    assert gadn_preset(32, 40).style_dim == 16
    assert gadn_preset(32, 400).style_dim == 100


@pytest.mark.parametrize("size", [8, 11, 321, 512])
def test_preset_rejects_unsupported_sizes(size: int) -> None:
    with pytest.raises(ValueError, match=f"image_size={size}"):
        gadn_preset(size, 10)


def test_trunk_rejects_a_size_not_divisible_by_its_levels() -> None:
    with pytest.raises(ValueError, match="divisible by 2\\*\\*3=8"):
        Trunk(3, (8, 16, 32), FC, 36)


def networks(size: int, in_channels: int) -> tuple[Encoder, Generator, Classifier, Classifier]:
    widths = SMALL[size]
    return (
        Encoder(in_channels, widths, FC, size, CONTENT),
        Generator(CONTENT, STYLE, widths, FC, size),
        Classifier(in_channels, widths, FC, size, ARTISTS),
        Classifier(in_channels, widths, FC, size, 1),
    )


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("in_channels", [3, 4], ids=["rgb", "rgba"])
def test_shapes_and_no_nan(size: int, in_channels: int) -> None:
    torch.manual_seed(0)
    encoder, generator, classifier, discriminator = networks(size, in_channels)
    x = torch.rand(3, in_channels, size, size) * 2 - 1
    mean, std = encoder(x)
    assert mean.shape == std.shape == (3, CONTENT)
    assert (std > 0).all()
    x_fake = generator(mean, torch.randn(3, STYLE))
    assert x_fake.shape == (3, 3, size, size)
    logits = classifier(x)
    assert logits.shape == (3, ARTISTS)
    assert discriminator(x).shape == (3,)
    for out in (mean, std, x_fake, logits):
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("size", [32, 64])
def test_preset_networks_have_the_right_shapes(size: int) -> None:
    preset = gadn_preset(size, 8)
    encoder = Encoder(4, preset.channels, preset.fc_width, size, preset.content_dim)
    generator = Generator(preset.content_dim, preset.style_dim, preset.channels, preset.fc_width, size)
    with torch.no_grad():
        mean, _ = encoder(torch.zeros(2, 4, size, size))
        x_fake = generator(mean, torch.zeros(2, preset.style_dim))
    assert mean.shape == (2, preset.content_dim)
    assert x_fake.shape == (2, 3, size, size)
    assert torch.isfinite(x_fake).all()


def test_generator_output_starts_in_a_sensible_range() -> None:
    torch.manual_seed(0)
    generator = Generator(CONTENT, STYLE, SMALL[32], FC, 32)
    with torch.no_grad():
        x_fake = generator(torch.randn(16, CONTENT), torch.randn(16, STYLE))
    assert 0.05 < x_fake.std().item() < 2


@pytest.mark.parametrize(
    ("network", "shape", "expected"),
    [
        ("encoder", (2, 3, 64, 64), "(B, 4, 32, 32)"),
        ("encoder", (2, 4, 32), "(B, 4, 32, 32)"),
        ("encoder", (2, 3, 32, 32), "(B, 4, 32, 32)"),  # RGB given to an RGBA network
        ("classifier", (2, 4, 32, 16), "(B, 4, 32, 32)"),
    ],
)
def test_a_wrong_image_shape_names_the_expected_one(network: str, shape: tuple[int, ...], expected: str) -> None:
    encoder, _, classifier, _ = networks(32, 4)
    net = encoder if network == "encoder" else classifier
    with pytest.raises(ValueError, match=re.escape(f"x must be {expected}")) as error:
        net(torch.zeros(shape))
    assert str(tuple(shape)) in str(error.value)


def test_generator_names_the_expected_code_shapes() -> None:
    generator = Generator(CONTENT, STYLE, SMALL[32], FC, 32)
    with pytest.raises(ValueError, match=r"content must be \(B, 8\); got \(2, 7\)"):
        generator(torch.zeros(2, 7), torch.zeros(2, STYLE))
    with pytest.raises(ValueError, match=r"style must be \(2, 4\); got \(2, 5\)"):
        generator(torch.zeros(2, CONTENT), torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"style must be \(2, 4\); got \(3, 4\)"):
        generator(torch.zeros(2, CONTENT), torch.zeros(3, STYLE))


@pytest.mark.parametrize("in_channels", [3, 4], ids=["rgb", "rgba"])
def test_every_parameter_gets_a_gradient(in_channels: int) -> None:
    torch.manual_seed(0)
    encoder, generator, classifier, discriminator = networks(32, in_channels)
    x = torch.rand(4, in_channels, 32, 32) * 2 - 1
    mean, std = encoder(x)
    x_fake = generator(mean + std * torch.randn_like(std), torch.randn(4, STYLE))
    loss = (
        (x_fake * torch.randn_like(x_fake)).sum()
        + (classifier(x) * torch.randn(4, ARTISTS)).sum()
        + (discriminator(x) * torch.randn(4)).sum()
    )
    loss.backward()
    for prefix, net in (("E", encoder), ("G", generator), ("C", classifier), ("D", discriminator)):
        for name, p in net.named_parameters():
            assert p.grad is not None, f"{prefix}.{name} got no gradient"
            assert p.grad.abs().sum() > 0, f"{prefix}.{name} got a zero gradient"
            assert torch.isfinite(p.grad).all(), f"{prefix}.{name} got a non-finite gradient"
