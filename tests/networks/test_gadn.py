"""GADN networks: size presets, shapes, input checks, gradients."""

from __future__ import annotations

import re

import pytest
import torch

from animestyle.networks import Classifier, Encoder, Generator, Trunk, gadn_preset
from animestyle.networks.gadn import DEPTHS, Depth, residual_shares
from animestyle.nn import BusBlock, ResidualDown, ResidualSame, ResidualUp, Warp

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


def networks(
    size: int, in_channels: int, depth: Depth = "reference", warp: bool | None = None
) -> tuple[Encoder, Generator, Classifier, Classifier]:
    widths = SMALL[size]
    return (
        Encoder(in_channels, widths, FC, size, CONTENT, depth),
        Generator(CONTENT, STYLE, widths, FC, size, 3, depth, warp),
        Classifier(in_channels, widths, FC, size, ARTISTS, depth),
        Classifier(in_channels, widths, FC, size, 1, depth),
    )


def kinds(blocks: torch.nn.Sequential) -> list[str]:
    names = {ResidualDown: "down", ResidualSame: "same", BusBlock: "bus", ResidualUp: "up"}
    return [names[type(block)] for block in blocks]  # type: ignore[index]


def test_reference_depth_stacks_the_official_blocks_per_level() -> None:
    encoder, generator, _, _ = networks(64, 4)
    # from the input side: the first level has no bus block (reference-code.md)
    assert kinds(encoder.trunk.blocks) == ["down", "same"] + ["down", "bus", "same"] * 3
    # G mirrors it from the 4x4 map up; its last up-block writes colour + 2 offsets
    assert kinds(generator.blocks) == ["same", "bus", "up"] * 3 + ["same", "up"]
    assert generator.blocks[-1].conv.out_channels == 3 + 2
    assert generator.warp is not None
    assert generator.to_image is None


def test_shallow_depth_keeps_one_block_per_level_and_no_warp() -> None:
    encoder, generator, _, _ = networks(64, 4, "shallow")
    assert kinds(encoder.trunk.blocks) == ["down"] * 4
    assert kinds(generator.blocks) == ["up"] * 3
    assert generator.warp is None
    assert generator.to_image is not None
    # the parameter names from before the reference depth, so that those checkpoints still load
    assert {k.split(".")[0] for k in generator.state_dict()} == {"fc", "blocks", "to_image"}


def test_residual_shares_shrink_block_by_block() -> None:
    assert residual_shares([1, 1, 1]) == pytest.approx([1 / 2, 1 / 3, 1 / 4])
    # official code: weight 1/n per block of a level of n; share = weight / weights so far
    thirds = [(1 / 3) / (2 + k / 3) for k in (1, 2, 3)]
    assert residual_shares([2, 3]) == pytest.approx([1 / 3, 1 / 4, *thirds])


def test_an_unknown_depth_names_the_choices() -> None:
    with pytest.raises(ValueError, match="depth='deep' is not allowed; choose one of 'reference', 'shallow'"):
        Trunk(3, (8, 16, 32), FC, 32, "deep")  # type: ignore[arg-type]


def test_warp_with_zero_offsets_is_the_identity() -> None:
    x = torch.randn(2, 3, 16, 12)
    warped, penalty = Warp()(torch.cat([x, torch.zeros(2, 2, 16, 12)], 1))
    torch.testing.assert_close(warped, x, rtol=0, atol=1e-5)
    assert penalty.item() == 0


def test_warp_moves_pixels_by_their_offsets_and_penalises_folds() -> None:
    x = torch.arange(8.0).view(1, 1, 1, 8).expand(1, 1, 4, 8)
    shift = torch.zeros(1, 2, 4, 8)
    shift[:, 0] = 1.0  # every pixel samples its right-hand neighbour
    warped, penalty = Warp()(torch.cat([x, shift], 1))
    assert warped[0, 0, 0, :7].tolist() == pytest.approx(list(range(1, 8)))
    assert warped[0, 0, 0, 7].item() == pytest.approx(7.0)  # clamped at the border
    assert penalty.item() == 0  # a translation keeps the order
    fold = torch.zeros(1, 2, 4, 8)
    fold[:, 0, :, 3] = 3.0  # pixel 3 samples beyond pixels 4 and 5: a fold
    assert Warp()(torch.cat([x, fold], 1))[1].item() > 0


@pytest.mark.parametrize("depth", DEPTHS)
def test_generator_warp_starts_as_the_identity(depth: Depth) -> None:
    torch.manual_seed(0)
    _, generator, _, _ = networks(32, 3, depth, warp=True)
    assert generator.warp is not None
    content, style = torch.randn(4, CONTENT), torch.randn(4, STYLE)
    with torch.no_grad():
        h = generator.blocks(generator.fc(torch.cat([content, style], 1)).view(4, 32, 4, 4))
        unwarped = h if generator.to_image is None else generator.to_image(h)
        images, penalty = generator.render(content, style)
    assert unwarped.shape == (4, 5, 32, 32)
    assert unwarped[:, 3:].abs().max().item() == 0  # no offset yet
    torch.testing.assert_close(images, unwarped[:, :3], rtol=0, atol=1e-5)
    assert penalty.item() == 0


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("in_channels", [3, 4], ids=["rgb", "rgba"])
def test_shapes_and_no_nan(size: int, in_channels: int, depth: Depth) -> None:
    torch.manual_seed(0)
    encoder, generator, classifier, discriminator = networks(size, in_channels, depth)
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


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("size", [32, 64])
def test_preset_networks_have_the_right_shapes(size: int, depth: Depth) -> None:
    preset = gadn_preset(size, 8)
    encoder = Encoder(4, preset.channels, preset.fc_width, size, preset.content_dim, depth)
    generator = Generator(preset.content_dim, preset.style_dim, preset.channels, preset.fc_width, size, 3, depth)
    with torch.no_grad():
        mean, _ = encoder(torch.zeros(2, 4, size, size))
        x_fake = generator(mean, torch.zeros(2, preset.style_dim))
    assert mean.shape == (2, preset.content_dim)
    assert x_fake.shape == (2, 3, size, size)
    assert torch.isfinite(x_fake).all()


@pytest.mark.parametrize("depth", DEPTHS)
def test_generator_output_starts_in_a_sensible_range(depth: Depth) -> None:
    torch.manual_seed(0)
    generator = Generator(CONTENT, STYLE, SMALL[32], FC, 32, 3, depth)
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


@pytest.mark.parametrize(("depth", "warp"), [("reference", None), ("shallow", None), ("shallow", True)])
@pytest.mark.parametrize("in_channels", [3, 4], ids=["rgb", "rgba"])
def test_every_parameter_gets_a_gradient(in_channels: int, depth: Depth, warp: bool | None) -> None:
    torch.manual_seed(0)
    encoder, generator, classifier, discriminator = networks(32, in_channels, depth, warp)
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
