"""The AdaIN, Gatys and StarGAN baselines. AdaIN: the operation, a training step (only the decoder
learns; the oracle's trained trunk is copied in and stays frozen), loading through
``animestyle.load``, VGG-19 from a local file only, and one line for each bad setting. Gatys:
the optimisation lowers its objective, and a fit gives a checkpoint that ``load`` reads.
StarGAN: the networks' shapes, which network each update moves, the learning-rate decay,
loading, and bad settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import torch

import animestyle
from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import SyntheticSource
from animestyle.methods import AdaIN, GatysNST, StarGAN
from animestyle.methods.baselines.gatys import gram
from animestyle.metrics import load_oracle
from animestyle.networks.adain import vgg19_taps
from animestyle.networks.stargan import StarGANDiscriminator, StarGANGenerator
from animestyle.nn import adaptive_instance_norm, channel_statistics
from tests.helpers import cpu_trainer


def test_adain_gives_the_content_the_style_statistics_per_channel() -> None:
    torch.manual_seed(0)
    content, style = torch.randn(2, 5, 8, 8) * 3 + 1, torch.randn(2, 5, 4, 4) * 0.5 - 2
    out = adaptive_instance_norm(content, style)
    for got, want in zip(channel_statistics(out), channel_statistics(style), strict=True):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="agree in batch and channels"):
        adaptive_instance_norm(content, style[:, :4])


def data(style_pairs: bool = True) -> AnimeFacesDataModule:
    return AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=3, train_size=16, val_size=8), image_size=32, batch_size=4,
        attributes=[], style_pairs=style_pairs,
    )  # fmt: skip


def test_a_step_trains_the_decoder_on_the_frozen_trained_oracle(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = AdaIN(num_artists=3, image_size=32, oracle_steps=2)
    decoder_before = {k: v.clone() for k, v in model.decoder.state_dict().items()}
    trainer = cpu_trainer(tmp_path, max_steps=2, limit_val_batches=1)
    trainer.fit(model, data())
    oracle = load_oracle(3, 32, 0, steps=2)
    for key, value in model.features.trunk.state_dict().items():  # the trained oracle, unchanged by the steps
        torch.testing.assert_close(value, oracle.trunk.state_dict()[key], msg=key)
    assert not model.features.training
    assert all(not p.requires_grad for p in model.features.parameters())
    changed = [k for k, v in model.decoder.state_dict().items() if not torch.equal(v, decoder_before[k])]
    assert changed, "the decoder did not learn"
    (scores,) = trainer.validate(model, data(), verbose=False)
    assert {"val/content", "val/style"} <= scores.keys()

    path = tmp_path / "adain.ckpt"
    trainer.save_checkpoint(path)
    loaded = animestyle.load(path)
    assert loaded.method == "AdaIN"
    assert "transfer(images, reference=...)" in loaded.operations()
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    out = loaded.transfer(x, reference=x[:1])
    assert out.shape == x.shape
    assert out.min() >= -1 and out.max() <= 1  # noqa: PT018  (one range)
    torch.testing.assert_close(out, model.cpu().eval().transfer_like(x, x[:1]))


@pytest.mark.parametrize("baseline", [AdaIN, GatysNST])
def test_the_feature_baselines_read_colour_only(baseline: type) -> None:
    with pytest.raises(ValueError, match=r"channels='rgba': .* reads colour only; set data.channels: rgb"):
        baseline(num_artists=3, image_size=32, channels="rgba")


def test_adain_needs_style_pairs(tmp_path: Path) -> None:
    model = AdaIN(num_artists=3, image_size=32, oracle_steps=2)
    with pytest.raises(ValueError, match=r"set data\.style_pairs: true"):
        cpu_trainer(tmp_path, max_steps=1, limit_val_batches=0).fit(model, data(style_pairs=False))


def test_vgg19_is_read_at_the_papers_four_layers_and_only_from_a_local_file(tmp_path: Path) -> None:
    taps = vgg19_taps(None)
    shapes = [tuple(h.shape) for h in taps(torch.zeros(1, 3, 32, 32))]
    assert shapes == [(1, 64, 32, 32), (1, 128, 16, 16), (1, 256, 8, 8), (1, 512, 4, 4)]
    with pytest.raises(ValueError, match=r"does not exist; give a local file of torchvision's vgg19 weights"):
        AdaIN(image_size=32, features=str(tmp_path / "vgg19.pth"))
    (tmp_path / "other.pth").write_bytes(b"not weights")
    with pytest.raises(ValueError, match="is not a torchvision vgg19 state dict"):
        AdaIN(image_size=32, features=str(tmp_path / "other.pth"))


def test_gram_matrices_are_normalised_channel_products() -> None:
    h = torch.arange(8.0).view(1, 2, 2, 2)
    expected = h.flatten(2) @ h.flatten(2).transpose(1, 2) / 8
    torch.testing.assert_close(gram(h), expected)


def test_gatys_lowers_its_objective_and_loads_like_a_method(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = GatysNST(num_artists=3, image_size=32, oracle_steps=2, steps=10)
    trainer = cpu_trainer(tmp_path, max_epochs=1, max_steps=-1, limit_train_batches=1, limit_val_batches=1)
    trainer.fit(model, data())
    oracle = load_oracle(3, 32, 0, steps=2)
    torch.testing.assert_close(model.features.trunk[0].weight, oracle.trunk[0].weight)
    path = tmp_path / "gatys.ckpt"
    trainer.save_checkpoint(path)

    loaded = animestyle.load(path)
    assert loaded.method == "GatysNST"
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    style = torch.rand(1, 3, 32, 32) * 2 - 1
    out = loaded.transfer(x, reference=style)  # Model.transfer runs without gradients: the optimisation needs them
    assert out.shape == x.shape
    module = loaded.module
    content, grams = module.features(x)[-1], module._style_grams(style.expand(2, -1, -1, -1))
    with torch.no_grad():
        before, after = module.objective(x, content, grams), module.objective(out, content, grams)
    assert (after < before).all(), (before, after)


# --- StarGAN --------------------------------------------------------------------------------


def test_stargan_networks_have_the_papers_shapes_and_every_parameter_learns() -> None:
    paper = StarGANDiscriminator(128, num_domains=5)
    widths = [m.out_channels for m in paper.trunk if isinstance(m, torch.nn.Conv2d)]
    assert widths == [64, 128, 256, 512, 1024, 2048]  # appendix Table 5: 6 levels to 2x2 at 128 px
    generator, discriminator = StarGANGenerator(3, width=8, residual_blocks=2), StarGANDiscriminator(32, 3, width=8)
    x, domain = torch.rand(2, 3, 32, 32) * 2 - 1, torch.tensor([0, 2])
    fake = generator(x, domain)
    assert fake.shape == x.shape
    assert fake.abs().max() <= 1
    src, cls = discriminator(fake)
    assert src.shape == (2, 1, 2, 2)
    assert cls.shape == (2, 3)
    (src.sum() + cls.sum()).backward()
    for name, p in [*generator.named_parameters(), *discriminator.named_parameters()]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name  # noqa: PT018
    with pytest.raises(ValueError, match=r"domain must be \(B,\)"):
        generator(x, domain[:1])
    with pytest.raises(ValueError, match="must be a power of two"):
        StarGANDiscriminator(48, 3)


def _weights(network: torch.nn.Module) -> list[float]:
    return [float(p.detach().double().sum()) for p in network.parameters()]


def test_stargan_trains_g_every_n_critic_iterations_and_loads_like_a_method(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = StarGAN(num_artists=3, image_size=32, width=8, residual_blocks=1, n_critic=2)
    updates, update = [], model.update

    def recording_update(optimizer: Any, loss: torch.Tensor, parts: Mapping[str, torch.Tensor]) -> None:
        """(generator changed, discriminator changed) across each update."""
        g, d = _weights(model.generator), _weights(model.discriminator)
        update(optimizer, loss, parts)
        updates.append((g != _weights(model.generator), d != _weights(model.discriminator)))

    model.update = recording_update  # type: ignore[method-assign]
    trainer = cpu_trainer(tmp_path, max_steps=6, limit_val_batches=1)  # 4 iterations: D, D+G, D, D+G
    trainer.fit(model, data(style_pairs=False))
    d_step, g_step = (False, True), (True, False)
    assert updates == [d_step, d_step, g_step, d_step, d_step, g_step]
    logged = {k: v for k, v in trainer.callback_metrics.items() if k.startswith("train/")}
    assert set(logged) == {f"train/{t}" for t in ("d_adv", "gp", "d_cls", "d_cls_acc", "g_adv", "g_cls", "rec")}
    assert all(torch.isfinite(v) for v in logged.values())
    (scores,) = trainer.validate(model, data(style_pairs=False), verbose=False)
    assert {"val/cls_acc", "val/transfer_cls_acc", "val/rec"} <= scores.keys()

    path = tmp_path / "stargan.ckpt"
    trainer.save_checkpoint(path)
    loaded = animestyle.load(path)
    assert loaded.method == "StarGAN"
    assert "transfer(images, artist=...)" in loaded.operations()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    out = loaded.transfer(x, artist=2)
    torch.testing.assert_close(out, model.cpu().transfer_to_artists(x, torch.tensor([2, 2])))
    assert out.shape == x.shape


def test_stargan_learning_rates_fall_linearly_to_zero_over_lr_decay() -> None:
    model = StarGAN(num_artists=3, image_size=32, width=4, residual_blocks=0, lr_decay=(2, 6))
    optimizers, schedulers = model.configure_optimizers()
    factors = []
    for _ in range(8):
        factors.append(schedulers[0].get_last_lr()[0] / 1e-4)
        optimizers[0].step()
        schedulers[0].step()
    assert factors == pytest.approx([1, 1, 1, 0.75, 0.5, 0.25, 0, 0])


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"channels": "rgba"}, "StarGAN reads colour only; set data.channels: rgb"),
        ({"num_artists": 1}, "num_artists"),
        ({"lr_decay": (5, 5)}, r"lr_decay=\[5, 5\] must be \[start, end\]"),
        ({"image_size": 40}, "must be a power of two"),
    ],
)
def test_stargan_bad_settings_raise(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        StarGAN(**{"num_artists": 3, "image_size": 32, **kwargs})
