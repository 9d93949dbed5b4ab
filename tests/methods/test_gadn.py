"""GADN's three LightningModules: which network each step trains, a real CPU run of the three
stages on synthetic data, a tiny overfit, and the errors for bad inputs.

The gradient tests call the loss methods directly, inside the same ``toggled_optimizer``
that ``training_step`` uses (a Trainer is attached only so that Lightning knows the
optimizers); the runs go through a real ``Trainer``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from animestyle.data import AnimeFacesDataModule, SyntheticSource
from animestyle.data.synthetic import ATTRIBUTE_NAMES
from animestyle.losses import class_mean_gap, pixel_distance
from animestyle.methods import (
    CheckpointError,
    GADNClassifierPretrain,
    GADNStage1,
    GADNStage2,
    NonFiniteLossError,
)
from animestyle.methods.gadn import other_artists, split_alpha, with_alpha
from tests.helpers import cpu_trainer
from tests.test_cli import run as run_cli

TINY: dict[str, Any] = {
    "num_artists": 4,
    "image_size": 32,
    "widths": [8, 16, 32],
    "fc_width": 32,
    "content_dim": 8,
    "style_dim": 4,
}
BATCH = 8


# --- helpers -------------------------------------------------------------------------------


def data(train_size: int = 64, channels: str = "rgb") -> AnimeFacesDataModule:
    source = SyntheticSource(num_artists=4, train_size=train_size, val_size=16)
    return AnimeFacesDataModule(synthetic=source, image_size=32, channels=channels, batch_size=BATCH)  # type: ignore[arg-type]


def trainer(root: Path, max_steps: int, **kwargs: Any) -> L.Trainer:
    return cpu_trainer(root, max_steps, **{"num_sanity_val_steps": 1, **kwargs})


def images(channels: str = "rgb", seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch as the DataModule delivers it: x (8, 3 or 4, 32, 32), every artist twice."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(BATCH, 3, 32, 32, generator=g) * 2 - 1
    if channels == "rgba":
        alpha = (torch.rand(BATCH, 1, 32, 32, generator=g) > 0.3).float()
        x = torch.cat([x * alpha, alpha], dim=1)
    return x, torch.arange(BATCH) % 4


def attach(model: L.LightningModule) -> list[torch.optim.Optimizer]:
    """Give ``model`` a Trainer holding its optimizers, so that ``toggled_optimizer`` works
    exactly as in ``training_step``."""
    configured: Any = model.configure_optimizers()
    optimizers: list[torch.optim.Optimizer] = configured[0] if isinstance(configured, tuple) else configured
    run = L.Trainer(
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    model.trainer = run
    run.optimizers = optimizers
    return optimizers


def assert_gradients(named: Mapping[str, nn.Module]) -> None:
    """Every parameter of these networks has a finite, not all-zero gradient."""
    for prefix, net in named.items():
        for name, p in net.named_parameters():
            assert p.grad is not None, f"{prefix}.{name} got no gradient"
            assert torch.isfinite(p.grad).all(), f"{prefix}.{name} got a non-finite gradient"
            assert p.grad.abs().sum() > 0, f"{prefix}.{name} got an all-zero gradient"


def assert_no_gradients(named: Mapping[str, nn.Module]) -> None:
    for prefix, net in named.items():
        for name, p in net.named_parameters():
            assert p.grad is None, f"{prefix}.{name} got a gradient in a step that must not train it"


def parameter_ids(optimizer: torch.optim.Optimizer) -> set[int]:
    return {id(p) for group in optimizer.param_groups for p in group["params"]}


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def sub_state(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) + 1 :]: v for k, v in state.items() if k.startswith(prefix + ".")}


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], what: str) -> None:
    assert a.keys() == b.keys(), what
    for k in a:
        assert torch.equal(a[k], b[k]), f"{what}: {k} differs"


# --- which step trains what ----------------------------------------------------------------


STAGE1_VARIANTS = [
    {"channels": "rgb"},
    {"channels": "rgba"},
    {"channels": "rgb", "c1_input": "code"},
    {
        "channels": "rgba",
        "nested_dropout": True,
        "cap_c1_at_prior": True,
        "standardise_style": True,
        "other_artist": "next",
    },
]


@pytest.mark.parametrize("options", STAGE1_VARIANTS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_stage1_steps_train_only_their_own_networks(options: dict[str, Any]) -> None:
    torch.manual_seed(0)
    model = GADNStage1(**TINY, **options)
    opt_g, opt_c = attach(model)
    x, artist = images(options["channels"])
    out = model.forward_batch(x, artist)
    assert out["x_rec"].shape == out["x_shift"].shape == (BATCH, 3, 32, 32)
    assert not torch.equal(out["x_rec"], out["x_shift"])
    egs = {"E": model.encoder, "G": model.generator, "S": model.style_bank}

    with model.toggled_optimizer(opt_c):
        loss_c, parts_c = model.classifier_loss(model.c1(out["c1_input"].detach()), artist)
        loss_c.backward()
    assert set(parts_c) == {"c1", "c1_acc"}
    assert_gradients({"C1": model.c1})
    assert_no_gradients(egs)

    model.zero_grad(set_to_none=True)
    with model.toggled_optimizer(opt_g):
        logits = model.c1(out["c1_input"])
        loss_g, parts_g = model.generator_loss(
            x, out["x_rec"], logits, artist, out["mean"], out["std"], out["warp_penalty"]
        )
        loss_g.backward()
    assert set(parts_g) == {"rec", "adv_c1", "kl_e", "kl_s", "warp", "erase"}
    assert all(torch.isfinite(v) for v in parts_g.values())
    assert_gradients(egs)
    assert_no_gradients({"C1": model.c1})
    # toggled_optimizer put every requires_grad back
    assert all(p.requires_grad for p in model.parameters())


def test_stage1_optimizers_split_the_parameters() -> None:
    model = GADNStage1(**TINY)
    opt_g, opt_c = attach(model)
    g, c = parameter_ids(opt_g), parameter_ids(opt_c)
    assert g == {id(p) for m in (model.encoder, model.generator, model.style_bank) for p in m.parameters()}
    assert c == {id(p) for p in model.c1.parameters()}
    assert [group["initial_lr"] for group in opt_g.param_groups] == [5e-5, 5e-3]  # Table 2: E, G; S


def test_stage1_adversarial_term_is_the_log_likelihood_of_the_source_artist() -> None:
    """... and the erasure term the class-mean gap of the content means, each with its weight."""
    torch.manual_seed(0)
    model = GADNStage1(**TINY, lambda_e_kl=0.0, lambda_s_kl=0.0, lambda_c1=0.5, lambda_erase=2.0)
    x, artist = images()
    out = model.forward_batch(x, artist)
    loss, parts = model.generator_loss(x, out["x_rec"], model.c1(out["c1_input"]), artist, out["mean"], out["std"])
    log_p = torch.log_softmax(model.c1(out["c1_input"]), 1).gather(1, artist[:, None]).mean()
    torch.testing.assert_close(parts["adv_c1"], log_p)
    torch.testing.assert_close(parts["rec"], pixel_distance(out["x_rec"], x))
    erase = class_mean_gap(out["mean"], artist)
    torch.testing.assert_close(parts["erase"], erase)
    assert float(erase) != 0
    torch.testing.assert_close(loss, parts["rec"] + 0.5 * log_p + 2.0 * erase)


def test_other_artists_differ_from_the_source_in_random_mode() -> None:
    torch.manual_seed(0)
    artist = torch.randint(0, 3, (1000,))
    target = other_artists(artist, 3, "random")
    assert (target != artist).all()
    assert set(target.tolist()) == {0, 1, 2}
    assert torch.equal(other_artists(artist, 3, "next"), artist.roll(1))


def test_with_alpha_makes_generated_images_transparent_where_the_source_is() -> None:
    x, _ = images("rgba")
    colour, alpha = split_alpha(x, rgba=True)
    assert colour.shape == (BATCH, 3, 32, 32)
    assert alpha is not None
    assert alpha.shape == (BATCH, 1, 32, 32)
    fake = with_alpha(torch.ones(BATCH, 3, 32, 32), alpha)
    assert fake.shape == x.shape
    assert torch.equal(fake[:, :3], alpha.expand(-1, 3, -1, -1))
    assert split_alpha(colour, rgba=False) == (colour, None)


STAGE2_VARIANTS = [
    {"channels": "rgb"},
    {"channels": "rgba", "content_loss": "code", "c2_adversarial": False, "standardise_style": True},
]


@pytest.mark.parametrize("options", STAGE2_VARIANTS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_stage2_steps_train_only_their_own_networks(options: dict[str, Any]) -> None:
    torch.manual_seed(0)
    model = GADNStage2(**TINY, **options)
    opt_g, opt_d = attach(model)
    x, artist = images(options["channels"])
    _, alpha = split_alpha(x, model.rgba)
    with torch.no_grad():
        mean, std = model.encoder(x)
    artist_trg = other_artists(artist, 4, "random")
    fake = with_alpha(model.generator(mean + std * torch.randn_like(std), model.style_bank.sample(artist_trg)), alpha)
    gs = {"G": model.generator, "S": model.style_bank}
    dc = {"D": model.discriminator, "C2": model.c2}

    with model.toggled_optimizer(opt_d):
        loss_d, parts_d = model.discriminator_loss(x, fake.detach(), artist, artist_trg)
        loss_d.backward()
    assert {"d", "d_real", "d_fake", "c2_real", "c2_acc"} <= set(parts_d)
    assert ("c2_fake" in parts_d) == options.get("c2_adversarial", True)
    assert_gradients(dc)
    assert_no_gradients({**gs, "E": model.encoder})

    model.zero_grad(set_to_none=True)
    with model.toggled_optimizer(opt_g):
        loss_g, parts_g = model.generator_loss(fake, artist_trg, mean)
        loss_g.backward()
    assert set(parts_g) == {"adv_d", "adv_c2", "cont", "kl_s", "warp"}
    assert_gradients(gs)
    assert_no_gradients({**dc, "E": model.encoder})
    assert not any(p.requires_grad for p in model.encoder.parameters())  # E stays frozen after toggling


def test_stage2_optimizers_leave_the_encoder_out() -> None:
    model = GADNStage2(**TINY)
    opt_g, opt_d = attach(model)
    g, d = parameter_ids(opt_g), parameter_ids(opt_d)
    assert g == {id(p) for m in (model.generator, model.style_bank) for p in m.parameters()}
    assert d == {id(p) for m in (model.discriminator, model.c2) for p in m.parameters()}
    assert not {id(p) for p in model.encoder.parameters()} & (g | d)
    assert isinstance(opt_g, torch.optim.RMSprop)  # Table 2


def test_stage2_losses_have_the_paper_targets() -> None:
    model = GADNStage2(**TINY, lambda_cont=0.0, lambda_s_kl=0.0)
    x, artist = images()
    with torch.no_grad():
        _, parts = model.discriminator_loss(x, x, artist, (artist + 1) % 4)
        score = model.discriminator(x)
    # the same images as real and fake: (D - 1)^2 and (D + 1)^2 of the same scores
    torch.testing.assert_close(parts["d_real"], (score - 1).square().mean())
    torch.testing.assert_close(parts["d_fake"], (score + 1).square().mean())
    torch.testing.assert_close(parts["d"], parts["d_real"] + parts["d_fake"])
    with torch.no_grad():
        mean, _ = model.encoder(x)
        loss, parts_g = model.generator_loss(x, artist, mean)
    torch.testing.assert_close(parts_g["adv_d"], score.square().mean())
    torch.testing.assert_close(parts_g["cont"], torch.tensor(0.0))  # E(x) vs E(x): no content change
    torch.testing.assert_close(loss, parts_g["adv_d"] + parts_g["adv_c2"])


class _GradientsAtSteps(L.Callback):
    """The gradients as each optimizer is about to step, starting each iteration from none."""

    def __init__(self) -> None:
        self.steps: list[dict[str, torch.Tensor]] = []

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, i: int) -> None:
        pl_module.zero_grad(set_to_none=True)

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        self.steps.append({n: p.grad.clone() for n, p in pl_module.named_parameters() if p.grad is not None})


def check_steps(steps: list[dict[str, torch.Tensor]], first: tuple[str, ...], second: tuple[str, ...]) -> None:
    """In ``training_step`` the first optimizer's step gives gradients to the networks
    ``first`` only, all nonzero; the second's to ``second``, leaving ``first``'s as they were."""
    assert len(steps) == 2
    one, two = steps
    assert {n.split(".")[0] for n in one} == set(first)
    assert all(g.abs().sum() > 0 for g in one.values())
    assert {n.split(".")[0] for n in two} == set(first) | set(second)
    for name, grad in one.items():
        assert torch.equal(two[name], grad), f"{name} got a gradient in the second step"
    assert all(g.abs().sum() > 0 for n, g in two.items() if n not in one)


def test_stage1_training_step_trains_c1_then_e_g_s(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = GADNStage1(**TINY)
    grads = _GradientsAtSteps()
    run = trainer(tmp_path, max_steps=2, limit_val_batches=0, num_sanity_val_steps=0, callbacks=[grads])
    run.fit(model, train_dataloaders=float_batches(1))
    check_steps(grads.steps, ("c1",), ("encoder", "generator", "style_bank"))
    n_e_g_s = sum(1 for n, _ in model.named_parameters() if not n.startswith("c1."))
    assert len(grads.steps[1]) - len(grads.steps[0]) == n_e_g_s  # every parameter of E, G and S


def test_stage1_together_update_takes_both_gradients_from_one_c1_pass(tmp_path: Path) -> None:
    """``c1_update="together"``: before either optimizer steps, C1 has the gradient of its own
    loss only and E, G, S the gradient of theirs only: with learning rates of 0 (C1's step
    then changes nothing), both equal the default order's, whose C1 step comes first."""
    steps = {}
    for mode in ("first", "together"):
        torch.manual_seed(0)
        model = GADNStage1(**TINY, c1_update=mode, lr=0.0, lr_style=0.0)
        grads = _GradientsAtSteps()
        run = trainer(tmp_path / mode, max_steps=2, limit_val_batches=0, num_sanity_val_steps=0, callbacks=[grads])
        run.fit(model, train_dataloaders=float_batches(1))
        steps[mode] = grads.steps
    first, together = steps["first"][1], steps["together"][0]  # every gradient, before C1 steps
    assert together.keys() == first.keys()
    assert len(together) == sum(1 for _ in model.parameters())
    for name, grad in together.items():
        torch.testing.assert_close(grad, first[name], msg=name)
    assert all(g.abs().sum() > 0 for g in together.values())


def test_stage1_names_an_unknown_c1_update() -> None:
    with pytest.raises(ValueError, match=r"c1_update='after'.*'first' or 'together'"):
        GADNStage1(**TINY, c1_update="after")  # type: ignore[arg-type]


def test_stage1_refuses_the_together_update_under_16_mixed() -> None:
    """GradScaler's scale may change at C1's step, before E/G/S's gradients are unscaled."""
    model = GADNStage1(**TINY, c1_update="together")
    model.trainer = cast(L.Trainer, SimpleNamespace(precision="16-mixed"))
    with pytest.raises(ValueError, match=r"16-mixed.*bf16-mixed or 32-true, or c1_update: first"):
        model.update_together([], {})


def test_fuse_and_compile_are_not_both_asked_for() -> None:
    with pytest.raises(ValueError, match=r"fuse=True and compile=True.*set only one"):
        GADNStage1(**TINY, fuse=True, compile=True)


def test_stage2_training_step_trains_d_and_c2_then_g_and_s(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = GADNStage2(num_artists=4, image_size=32, stage1_checkpoint=str(checkpoints["stage1"]))
    grads = _GradientsAtSteps()
    run = trainer(tmp_path, max_steps=2, limit_val_batches=0, num_sanity_val_steps=0, callbacks=[grads])
    run.fit(model, train_dataloaders=float_batches(1))
    check_steps(grads.steps, ("discriminator", "c2"), ("generator", "style_bank"))
    trained = ("discriminator.", "c2.", "generator.", "style_bank.")
    assert len(grads.steps[1]) == sum(1 for n, _ in model.named_parameters() if n.startswith(trained))


# --- real runs -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A stage-1 (2 iterations) and a C2-pretraining (2 steps) checkpoint, made by real runs."""
    root = tmp_path_factory.mktemp("gadn")
    L.seed_everything(0, verbose=False)
    stage1 = GADNStage1(**TINY, lr=1e-3, warmup=0)
    before = snapshot(stage1)
    run = trainer(root / "stage1", max_steps=4)  # 2 optimizers: 2 iterations
    run.fit(stage1, datamodule=data())
    assert int(stage1.iteration) == 2
    after = snapshot(stage1)
    assert not torch.equal(before["encoder.head.mean.weight"], after["encoder.head.mean.weight"])
    assert not torch.equal(before["c1.head.weight"], after["c1.head.weight"])
    assert torch.isfinite(run.callback_metrics["train/rec"])
    run.save_checkpoint(root / "stage1.ckpt")

    c2 = GADNClassifierPretrain(**TINY, lr=1e-3)
    before = snapshot(c2)
    run = trainer(root / "c2", max_steps=2)
    run.fit(c2, datamodule=data())
    assert run.global_step == 2
    assert not torch.equal(before["classifier.head.weight"], c2.classifier.head.weight)
    run.save_checkpoint(root / "c2.ckpt")
    return {"stage1": root / "stage1.ckpt", "c2": root / "c2.ckpt"}


def test_stage1_and_c2_runs_write_checkpoints_stage2_can_read(checkpoints: dict[str, Path]) -> None:
    stage1 = torch.load(checkpoints["stage1"], map_location="cpu", weights_only=False)
    assert stage1["animestyle"] == {
        "method": "GADNStage1",
        "num_artists": 4,
        "image_size": 32,
        "channels": "rgb",
        "widths": [8, 16, 32],
        "fc_width": 32,
        "content_dim": 8,
        "style_dim": 4,
        "depth": "reference",
        "warp": True,
        "standardise_style": False,
        "artist_names": ["artist_0000", "artist_0001", "artist_0002", "artist_0003"],
        "attribute_names": list(ATTRIBUTE_NAMES),
    }
    assert int(stage1["state_dict"]["iteration"]) == 2
    c2 = torch.load(checkpoints["c2"], map_location="cpu", weights_only=False)
    assert c2["animestyle"]["method"] == "GADNClassifierPretrain"
    # the checkpoints rebuild their modules
    assert GADNStage1.load_from_checkpoint(checkpoints["stage1"]).content_dim == 8
    assert GADNClassifierPretrain.load_from_checkpoint(checkpoints["c2"]).widths == (8, 16, 32)


def test_stage1_runs_on_rgba_data(tmp_path: Path) -> None:
    L.seed_everything(0, verbose=False)
    model = GADNStage1(**{**TINY, "channels": "rgba"})
    assert model.encoder.trunk.in_channels == 4
    assert model.c1(torch.zeros(1, 4, 32, 32)).shape == (1, 4)  # C1 reads RGBA too
    run = trainer(tmp_path, max_steps=2)
    run.fit(model, datamodule=data(channels="rgba"))
    assert int(model.iteration) == 1
    assert torch.isfinite(run.callback_metrics["train/rec"])


class _AtStart(L.Callback):
    """The module's state as training starts (after ``setup`` loaded the checkpoints)."""

    state: dict[str, torch.Tensor]

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.state = snapshot(pl_module)


def test_stage2_continues_from_both_checkpoints_with_a_frozen_encoder(
    checkpoints: dict[str, Path], tmp_path: Path
) -> None:
    L.seed_everything(0, verbose=False)
    stage1_copy = tmp_path / "stage1.ckpt"
    shutil.copy(checkpoints["stage1"], stage1_copy)
    model = GADNStage2(
        num_artists=4,
        image_size=32,
        stage1_checkpoint=str(stage1_copy),
        classifier_checkpoint=str(checkpoints["c2"]),
        lr=1e-3,
    )
    # widths come from the stage-1 checkpoint
    assert (model.widths, model.fc_width, model.content_dim, model.style_dim) == ((8, 16, 32), 32, 8, 4)
    at_start = _AtStart()
    run = trainer(tmp_path, max_steps=4, callbacks=[at_start])
    run.fit(model, datamodule=data())
    assert int(model.iteration) == 2
    stage1 = torch.load(checkpoints["stage1"], map_location="cpu", weights_only=False)["state_dict"]
    c2 = torch.load(checkpoints["c2"], map_location="cpu", weights_only=False)["state_dict"]
    start = at_start.state

    # E, G, S start from stage 1; C2 from its pretraining; D's trunk from C2's; the EMA from G
    for name in ("encoder", "generator", "style_bank"):
        assert_same(sub_state(start, name), sub_state(stage1, name), f"{name} at the start of stage 2")
    assert_same(sub_state(start, "c2"), sub_state(c2, "classifier"), "C2 at the start of stage 2")
    assert_same(sub_state(start, "discriminator.trunk"), sub_state(c2, "classifier.trunk"), "D's trunk")
    assert_same(sub_state(start, "generator_ema.network"), sub_state(start, "generator"), "the EMA generator")

    # After training: E bit-identical to stage 1; G, D and C2 moved.
    assert_same(sub_state(snapshot(model), "encoder"), sub_state(stage1, "encoder"), "E after stage 2")
    end = snapshot(model)
    for name in ("generator.blocks.0.conv.weight", "discriminator.head.weight", "c2.head.weight", "style_bank.mean"):
        assert not torch.equal(end[name], start[name]), f"{name} did not train"
    for name in ("d", "adv_d", "adv_c2", "cont", "kl_s"):
        assert torch.isfinite(run.callback_metrics[f"train/{name}"]), name

    # The stage-2 checkpoint rebuilds the module on its own, even once stage 1's file is gone.
    run.save_checkpoint(tmp_path / "stage2.ckpt")
    stage1_copy.unlink()
    rebuilt = GADNStage2.load_from_checkpoint(tmp_path / "stage2.ckpt")
    assert_same(snapshot(rebuilt), end, "the rebuilt stage 2")


@pytest.mark.parametrize("evaluate", ["validate", "test"])
def test_stage2_evaluated_without_training_scores_the_stage1_starting_point(
    checkpoints: dict[str, Path], evaluate: str, tmp_path: Path
) -> None:
    """``animestyle validate``/``test`` of a fresh stage 2 (no checkpoint of its own) scores
    the networks it starts from, as ``fit`` would: E, G and S of stage 1, not random ones."""
    model = GADNStage2(num_artists=4, image_size=32, stage1_checkpoint=str(checkpoints["stage1"]))
    getattr(trainer(tmp_path, max_steps=0), evaluate)(model, datamodule=data())
    stage1 = torch.load(checkpoints["stage1"], map_location="cpu", weights_only=True)["state_dict"]
    for name in ("encoder", "generator", "style_bank"):
        assert_same(sub_state(snapshot(model), name), sub_state(stage1, name), f"{name} when {evaluate} ran")


def test_stage1_overfits_one_batch(tmp_path: Path) -> None:
    """Reconstruction of 8 fixed images drops clearly in 100 iterations."""
    L.seed_everything(0, verbose=False)
    datamodule = data()
    full = datamodule.on_after_batch_transfer(next(iter(datamodule.train_dataloader())), 0)
    batch = {"x": full["x"], "artist": full["artist"]}
    model = GADNStage1(**TINY, lr=1e-3, warmup=0)

    def rec() -> float:
        with model.evaluating(model.encoder, model.generator, model.style_bank):
            mean, _ = model.encoder(batch["x"])
            return pixel_distance(model.generator(mean, model.style_bank(batch["artist"])[0]), batch["x"]).item()

    before = rec()
    run = trainer(tmp_path, max_steps=200, limit_val_batches=0, num_sanity_val_steps=0)
    run.fit(model, train_dataloaders=DataLoader(cast("Dataset[Any]", [batch] * 100), batch_size=None))
    assert int(model.iteration) == 100
    after = rec()
    assert after < 0.7 * before, f"rec went from {before:.3f} to {after:.3f} in 100 iterations"


# --- bad inputs ----------------------------------------------------------------------------


def test_stage2_names_a_missing_stage1_checkpoint(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "stage1.ckpt"
    with pytest.raises(CheckpointError, match="stage1_checkpoint") as error:
        GADNStage2(num_artists=4, image_size=32, stage1_checkpoint=str(missing))
    assert str(missing) in str(error.value)
    assert "does not exist" in str(error.value)


def test_stage2_with_widths_names_a_missing_stage1_checkpoint_when_fitting(tmp_path: Path) -> None:
    # With the widths given (as when a stage-2 checkpoint is rebuilt) the check moves to setup.
    missing = tmp_path / "stage1.ckpt"
    model = GADNStage2(**TINY, stage1_checkpoint=str(missing))
    with pytest.raises(CheckpointError, match="stage1_checkpoint") as error:
        trainer(tmp_path, max_steps=2).fit(model, datamodule=data())
    assert str(missing) in str(error.value)


def test_stage2_without_a_stage1_checkpoint_does_not_fit(tmp_path: Path) -> None:
    model = GADNStage2(**TINY)
    with pytest.raises(CheckpointError, match="stage1_checkpoint is not set"):
        trainer(tmp_path, max_steps=2).fit(model, datamodule=data())


def test_stage2_rejects_a_c2_checkpoint_given_as_stage1(checkpoints: dict[str, Path]) -> None:
    with pytest.raises(CheckpointError, match="is a GADNClassifierPretrain checkpoint") as error:
        GADNStage2(num_artists=4, image_size=32, stage1_checkpoint=str(checkpoints["c2"]))
    assert "stage1_checkpoint" in str(error.value)
    assert "GADNStage1" in str(error.value)


def test_stage2_rejects_a_stage1_checkpoint_given_as_classifier(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    model = GADNStage2(
        num_artists=4,
        image_size=32,
        stage1_checkpoint=str(checkpoints["stage1"]),
        classifier_checkpoint=str(checkpoints["stage1"]),
    )
    with pytest.raises(CheckpointError, match=r"classifier_checkpoint=.* is a GADNStage1 checkpoint"):
        trainer(tmp_path, max_steps=2).fit(model, datamodule=data())


def test_stage2_rejects_a_file_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="is not a readable checkpoint"):
        GADNStage2(num_artists=4, image_size=32, stage1_checkpoint=str(junk))


@pytest.mark.parametrize(("key", "value"), [("num_artists", 5), ("image_size", 64), ("channels", "rgba")])
def test_stage2_rejects_a_stage1_checkpoint_of_other_data(checkpoints: dict[str, Path], key: str, value: Any) -> None:
    settings = {"num_artists": 4, "image_size": 32, "channels": "rgb", key: value}
    with pytest.raises(CheckpointError, match=f"{key}=") as error:
        GADNStage2(**settings, stage1_checkpoint=str(checkpoints["stage1"]))
    message = str(error.value)
    assert "stage1_checkpoint" in message
    assert repr(value) in message


def test_a_model_refuses_data_with_another_number_of_artists(tmp_path: Path) -> None:
    model = GADNStage1(**{**TINY, "num_artists": 5})
    with pytest.raises(CheckpointError, match="num_artists=5 but the data has 4 artists"):
        trainer(tmp_path, max_steps=2).fit(model, datamodule=data())


class _StateAtBatchStart(L.Callback):
    def __init__(self) -> None:
        self.states: list[dict[str, torch.Tensor]] = []

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, i: int) -> None:
        self.states.append(snapshot(pl_module))


def float_batches(count: int, nan_at: int | None = None) -> DataLoader:
    """``count`` batches of images in [-1, 1]; batch ``nan_at`` holds a NaN pixel."""
    batches = []
    for i in range(count):
        x, artist = images(seed=i)
        if i == nan_at:
            x[3, 1, 5, 7] = float("nan")
        batches.append({"x": x, "artist": artist})
    return DataLoader(cast("Dataset[Any]", batches), batch_size=None)


def fit_until_error(
    model: L.LightningModule, loader: DataLoader, tmp_path: Path, max_steps: int
) -> tuple[_StateAtBatchStart, pytest.ExceptionInfo[NonFiniteLossError]]:
    states = _StateAtBatchStart()
    run = trainer(tmp_path, max_steps=max_steps, limit_val_batches=0, num_sanity_val_steps=0, callbacks=[states])
    with pytest.raises(NonFiniteLossError) as error:
        run.fit(model, train_dataloaders=loader)
    return states, error


def test_stage1_stops_at_a_nan_image_before_any_weight_changes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = GADNStage1(**TINY)
    states, error = fit_until_error(model, float_batches(4, nan_at=2), tmp_path, max_steps=8)
    message = str(error.value)
    assert "'c1'" in message
    assert "iteration 2" in message
    assert len(states.states) == 3
    assert_same(snapshot(model), states.states[2], "weights after the NaN batch")
    assert any(not torch.equal(states.states[2][k], states.states[0][k]) for k in states.states[0])  # it did train


def test_stage1_names_a_nan_reconstruction_term(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    model = GADNStage1(**TINY)

    def nan_at_iteration_1(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        distance = pixel_distance(x, y, weight)
        return distance * float("nan") if int(model.iteration) == 1 else distance

    monkeypatch.setattr("animestyle.methods.gadn.pixel_distance", nan_at_iteration_1)
    states, error = fit_until_error(model, float_batches(3), tmp_path, max_steps=6)
    assert "'rec'" in str(error.value)
    assert "iteration 1" in str(error.value)
    end, start = snapshot(model), states.states[1]
    # E, G and S: untouched by the failed step (C1 stepped before it, on a finite loss)
    for name in ("encoder", "generator", "style_bank"):
        assert_same(sub_state(end, name), sub_state(start, name), name)
    assert int(model.iteration) == 1


def test_stage2_names_a_nan_adversarial_term(
    checkpoints: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.manual_seed(0)
    model = GADNStage2(num_artists=4, image_size=32, stage1_checkpoint=str(checkpoints["stage1"]))
    monkeypatch.setattr("animestyle.methods.gadn.lsgan_generator", lambda fake: fake.square().mean() * float("nan"))
    states, error = fit_until_error(model, float_batches(2), tmp_path, max_steps=4)
    assert "'adv_d'" in str(error.value)
    assert "iteration 0" in str(error.value)
    end, start = snapshot(model), states.states[0]
    for name in ("generator", "style_bank", "encoder"):
        assert_same(sub_state(end, name), sub_state(start, name), name)


def test_c2_pretraining_stops_at_a_nan_loss(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = GADNClassifierPretrain(**TINY)
    states, error = fit_until_error(model, float_batches(3, nan_at=1), tmp_path, max_steps=3)
    assert "'c2'" in str(error.value)
    assert "iteration 1" in str(error.value)
    assert_same(snapshot(model), states.states[1], "C2 after the NaN batch")


# --- the command line ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_missing_stage1(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    """``animestyle fit`` of stage 2 with a stage-1 checkpoint that does not exist."""
    cwd = tmp_path_factory.mktemp("cli")
    missing = "runs/stage1/last.ckpt"
    result = run_cli(
        "fit",
        "--model",
        "animestyle.methods.GADNStage2",
        "--model.init_args.stage1_checkpoint",
        missing,
        "--data.synthetic.num_artists",
        "4",
        "--data.synthetic.train_size",
        "16",
        "--data.synthetic.val_size",
        "8",
        "--data.image_size",
        "32",
        "--data.batch_size",
        "8",
        "--trainer.max_steps",
        "2",
        "--trainer.logger",
        "false",
        cwd=cwd,
        ok=False,
    )
    return result, missing


@pytest.mark.slow
def test_cli_names_a_missing_stage1_checkpoint_without_a_traceback(cli_missing_stage1: tuple[Any, str]) -> None:
    result, missing = cli_missing_stage1
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert f"stage1_checkpoint={missing!r} does not exist" in result.stderr


@pytest.mark.slow
def test_cli_reports_a_missing_stage1_checkpoint_in_one_line(cli_missing_stage1: tuple[Any, str]) -> None:
    result, missing = cli_missing_stage1
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, result.stderr
    assert f"stage1_checkpoint={missing!r}" in errors[0]
    assert "Given value" not in result.stderr


def test_stage2_rejects_widths_that_contradict_the_stage1_checkpoint(checkpoints: dict[str, Path]) -> None:
    with pytest.raises(CheckpointError, match=r"content_dim=.* but this run has content_dim=3; leave the widths"):
        GADNStage2(num_artists=4, image_size=32, stage1_checkpoint=str(checkpoints["stage1"]), content_dim=3)


def test_stage2_reads_its_style_bank_as_stage1_trained_it(tmp_path: Path) -> None:
    model = GADNStage1(**{**TINY, "standardise_style": True})
    run = trainer(tmp_path, max_steps=2)
    run.fit(model, datamodule=data())
    run.save_checkpoint(tmp_path / "stage1.ckpt")
    stage2 = GADNStage2(num_artists=4, image_size=32, stage1_checkpoint=str(tmp_path / "stage1.ckpt"))
    assert stage2.style_bank.standardise
    with pytest.raises(CheckpointError, match="standardise_style=True but this run has standardise_style=False"):
        GADNStage2(
            num_artists=4, image_size=32, stage1_checkpoint=str(tmp_path / "stage1.ckpt"), standardise_style=False
        )


def test_draw_grids_example_draws_a_checkpoint(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "examples" / "gadn" / "draw_grids.py"
    command = [sys.executable, str(script), str(checkpoints["stage1"]), "--out", str(tmp_path), "--images", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["generate.png", "reconstruction.png", "transfer.png"]
    wrong = subprocess.run([*command[:2], str(checkpoints["c2"])], capture_output=True, text=True, timeout=300)
    assert "is a GADNClassifierPretrain checkpoint" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_checkpoints_from_before_the_reference_depth_still_load(tmp_path: Path) -> None:
    """Checkpoints from before the reference depth save neither ``depth`` nor ``warp``: they
    load as shallow, through ``animestyle.load`` and as stage 2's input."""
    from animestyle.inference import load_checkpoint

    run = L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, default_root_dir=tmp_path)
    old = GADNStage1(**TINY, depth="shallow", warp=False)
    run.strategy.connect(old)
    run.save_checkpoint(tmp_path / "old.ckpt")
    saved = torch.load(tmp_path / "old.ckpt", map_location="cpu", weights_only=False)
    for key in ("depth", "warp"):
        del saved["hyper_parameters"][key], saved["animestyle"][key]
    torch.save(saved, tmp_path / "old.ckpt")

    model, _ = load_checkpoint(tmp_path / "old.ckpt")
    assert (model.depth, model.warp) == ("shallow", False)
    assert_same(snapshot(model), snapshot(old), "the old weights")
    stage2 = GADNStage2(num_artists=4, image_size=32, stage1_checkpoint=str(tmp_path / "old.ckpt"))
    assert (stage2.depth, stage2.warp) == ("shallow", False)
    stage2.load_inputs()
    assert_same(sub_state(snapshot(stage2), "generator"), sub_state(snapshot(old), "generator"), "G")
