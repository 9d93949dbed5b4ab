"""``AttributeEditor`` (STGAN with a gated encoder, the ANIMEGAN report): exclusive attribute
groups and edit targets, which network each step trains and how often (``n_critic``), the
three adversarial losses, the gradient penalty under bf16 autocast, editing, the
reconstruction term, checkpoints and bad settings.

Real runs are tiny (32 px, widths 8 / 16 / 32, heads of 16, batches of 8, a few iterations).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from animestyle.data import AnimeFacesDataModule, SyntheticSource
from animestyle.methods import AttributeEditor
from animestyle.methods.attribute_editor import exclusive_groups
from tests.helpers import cpu_trainer

SIZE = 32
NAMES = ["blush", "glasses", "pink_hair", "blonde_hair", "black_hair", "blue_eyes", "red_eyes", "short_hair"]
HAIR = ["pink_hair", "blonde_hair", "black_hair"]


# --- helpers -------------------------------------------------------------------------------


def editor(**kwargs: Any) -> AttributeEditor:
    settings: dict[str, Any] = {"attribute_names": NAMES, "image_size": SIZE, "widths": [8, 16, 32], "fc_width": 16}
    return AttributeEditor(**{**settings, **kwargs})


def data() -> AnimeFacesDataModule:
    """64 training images in 8 batches of 8, with the columns of ``NAMES``."""
    source = SyntheticSource(num_artists=2, train_size=64, val_size=16)
    return AnimeFacesDataModule(synthetic=source, image_size=SIZE, batch_size=8, channels="rgb", attributes=NAMES)


def trainer(root: Path, max_steps: int, **kwargs: Any) -> L.Trainer:
    return cpu_trainer(root, max_steps, **{"limit_val_batches": 0, **kwargs})


def fit(module: L.LightningModule, root: Path, max_steps: int, **kwargs: Any) -> L.Trainer:
    L.seed_everything(0, verbose=False)
    run = trainer(root, max_steps, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny-data warnings (few batches, no workers)
        run.fit(module, datamodule=data())
    return run


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The trainable weights (batch-norm statistics move with every training-mode forward)."""
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def changed(before: Mapping[str, torch.Tensor], after: Mapping[str, torch.Tensor]) -> bool:
    assert before.keys() == after.keys()
    assert before
    return any(not torch.equal(before[k], after[k]) for k in before)


def batch(n: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (n, 3, S, S) in [-1, 1] and binary attributes (n, A)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, SIZE, SIZE, generator=generator) * 2 - 1
    a = (torch.rand(n, len(NAMES), generator=generator) > 0.5).float()
    return x, a


# --- exclusive groups and targets ----------------------------------------------------------


def test_synthetic_names_give_hair_colour_eye_colour_and_hair_length_groups() -> None:
    from animestyle.data.synthetic import ATTRIBUTE_NAMES

    groups = exclusive_groups(list(ATTRIBUTE_NAMES))
    assert len(groups) == 3
    hair, eyes, lengths = groups
    assert hair == [n for n in ATTRIBUTE_NAMES if n.endswith("_hair") and n not in ("short_hair", "long_hair")]
    assert "pink_hair" in hair
    assert "silver_hair" in hair
    assert eyes == [n for n in ATTRIBUTE_NAMES if n.endswith("_eyes")]
    assert lengths == ["short_hair", "long_hair"]
    assert not {"blush", "glasses", "open_mouth", "smile"} & {n for g in groups for n in g}


def test_danbooru_tags_that_are_not_colours_are_in_no_group() -> None:
    names = [
        "closed_eyes",
        "hair_between_eyes",
        "messy_hair",
        "multicolored_hair",
        "blue_eyes",
        "green_eyes",
        "light_brown_hair",
        "aqua_hair",
        "very_long_hair",
        "long_hair",
    ]
    assert exclusive_groups(names) == [
        ["light_brown_hair", "aqua_hair"],
        ["blue_eyes", "green_eyes"],
        ["very_long_hair", "long_hair"],
    ]


def test_single_member_groups_are_dropped() -> None:
    assert exclusive_groups(["pink_hair", "blue_eyes", "long_hair", "blush"]) == []
    assert exclusive_groups(["pink_hair", "red_hair", "blue_eyes"]) == [["pink_hair", "red_hair"]]
    assert editor(attribute_names=["blush", "pink_hair"]).groups == []


def test_switching_a_hair_colour_on_clears_the_others_and_nothing_else() -> None:
    model = editor()
    source = torch.ones(2, len(NAMES))  # everything on, the impossible worst case
    source[1] = 0
    source[1, NAMES.index("blonde_hair")] = 1
    source[1, NAMES.index("blue_eyes")] = 1
    target = model.targets(source, {"pink_hair": 1})
    for name in NAMES:
        j = NAMES.index(name)
        if name == "pink_hair":
            assert (target[:, j] == 1).all()
        elif name in HAIR:
            assert (target[:, j] == 0).all(), name
        else:
            assert torch.equal(target[:, j], source[:, j]), name
    assert source[1, NAMES.index("blonde_hair")] == 1  # the source is not changed in place


def test_switching_a_binary_attribute_off_changes_only_it() -> None:
    model = editor()
    source = torch.ones(3, len(NAMES))
    target = model.targets(source, {"blush": 0, "glasses": 0.25})
    expected = source.clone()
    expected[:, NAMES.index("blush")] = 0
    expected[:, NAMES.index("glasses")] = 0.25
    assert torch.equal(target, expected)
    # a hair colour switched off (or to a low value) leaves the rest of its group alone
    target = model.targets(source, {"pink_hair": 0})
    assert (target[:, [NAMES.index(n) for n in HAIR if n != "pink_hair"]] == 1).all()


@pytest.mark.parametrize(
    ("changes", "words"),
    [({"cat_ears": 1}, "cat_ears"), ({"blush": 1.5}, "blush=1.5"), ({"pink_hair": -0.1}, "pink_hair=-0.1")],
)
def test_bad_changes_raise_naming_them(changes: dict[str, float], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        editor().targets(torch.zeros(1, len(NAMES)), changes)


# --- training: which network each step trains, and how often -------------------------------


class _RecordingEditor(AttributeEditor):
    """Records, for every ``update``, whether the generator's and the discriminator's weights
    changed across it."""

    updates: list[tuple[bool, bool]]

    def update(self, optimizer: Any, loss: torch.Tensor, parts: Mapping[str, torch.Tensor]) -> None:
        g, d = snapshot(self.generator), snapshot(self.discriminator)
        super().update(optimizer, loss, parts)
        self.updates.append((changed(g, snapshot(self.generator)), changed(d, snapshot(self.discriminator))))


@dataclass
class _Weights(L.Callback):
    """The generator's and discriminator's weights at the start and after every batch."""

    generator: list[dict[str, torch.Tensor]] = field(default_factory=list)
    discriminator: list[dict[str, torch.Tensor]] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)

    def _record(self, module: AttributeEditor) -> None:
        self.generator.append(snapshot(module.generator))
        self.discriminator.append(snapshot(module.discriminator))
        self.iterations.append(int(module.iteration))

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        assert isinstance(pl_module, AttributeEditor)
        self._record(pl_module)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        assert isinstance(pl_module, AttributeEditor)
        self._record(pl_module)


@dataclass
class CriticRun:
    model: _RecordingEditor
    weights: _Weights
    global_step: int


@pytest.fixture(scope="module")
def critic_run(tmp_path_factory: pytest.TempPathFactory) -> CriticRun:
    """n_critic=3 for 6 iterations: 6 discriminator steps and 2 generator steps = 8 steps."""
    model = _RecordingEditor(attribute_names=NAMES, image_size=SIZE, widths=[8, 16, 32], fc_width=16, n_critic=3)
    model.updates = []
    weights = _Weights()
    run = fit(model, tmp_path_factory.mktemp("critic"), max_steps=8, callbacks=[weights])
    return CriticRun(model, weights, run.global_step)


def test_generator_steps_every_n_critic_iterations(critic_run: CriticRun) -> None:
    weights = critic_run.weights
    assert weights.iterations == [0, 1, 2, 3, 4, 5, 6]
    assert int(critic_run.model.iteration) == 6
    assert critic_run.global_step == 8
    g_changes = [changed(weights.generator[i], weights.generator[i + 1]) for i in range(6)]
    d_changes = [changed(weights.discriminator[i], weights.discriminator[i + 1]) for i in range(6)]
    # iterations 1..6: the generator moves on the 3rd and the 6th only
    assert g_changes == [False, False, True, False, False, True]
    assert d_changes == [True] * 6


def test_each_update_moves_only_its_own_network(critic_run: CriticRun) -> None:
    # (generator changed, discriminator changed) per update: D, D, D then G, D, D, D then G
    d_step, g_step = (False, True), (True, False)
    assert critic_run.model.updates == [d_step, d_step, d_step, g_step, d_step, d_step, d_step, g_step]


@pytest.mark.parametrize("adversarial", ["wgan-gp", "vanilla", "lsgan"])
def test_each_adversarial_loss_trains_with_finite_terms(adversarial: str, tmp_path: Path) -> None:
    model = editor(adversarial=adversarial, n_critic=1)
    run = fit(model, tmp_path, max_steps=4)  # 2 iterations of a D and a G step
    assert int(model.iteration) == 2
    logged = {k: v for k, v in run.callback_metrics.items() if k.startswith("train/")}
    terms = {"d_adv", "d_att", "d_att_acc", "g_adv", "g_att", "rec"} | ({"gp"} if adversarial == "wgan-gp" else set())
    assert set(logged) == {f"train/{t}" for t in terms}
    for name, value in logged.items():
        assert torch.isfinite(value).all(), name


def test_gradient_penalty_stays_float32_under_bf16_autocast() -> None:
    torch.manual_seed(0)
    model = editor()
    x, a = batch()
    with torch.no_grad():
        fake = model.generator(x, torch.zeros_like(a)).float()
    torch.manual_seed(1)
    _, plain = model.discriminator_loss(x, fake, a)
    torch.manual_seed(1)  # the same interpolation weights
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, parts = model.discriminator_loss(x, fake, a)
    assert torch.isfinite(loss)
    assert parts["gp"].dtype == torch.float32
    assert parts["d_adv"].dtype == torch.float32
    assert parts["d_att"].dtype == torch.float32
    # computed with autocast off: the very number of a float32 run
    torch.testing.assert_close(parts["gp"], plain["gp"])


# --- editing -------------------------------------------------------------------------------


def test_edit_shape_range_and_zero_difference_reconstruction() -> None:
    torch.manual_seed(0)
    model = editor()
    x, a = batch()
    x = x * 3  # a generator's tanh keeps the range; clamp too
    out = model.edit(x, {"pink_hair": 1, "blush": 0}, source=a, strength=2.0)
    assert out.shape == x.shape
    assert out.min() >= -1
    assert out.max() <= 1
    assert model.training  # edit leaves the mode as it was
    reconstruction = model.edit(x, {}, source=a)
    model.eval()
    with torch.no_grad():
        expected = model.generator(x, torch.zeros_like(a)).clamp(-1, 1)
    torch.testing.assert_close(reconstruction, expected, rtol=0, atol=0)
    assert not torch.equal(out, reconstruction)  # the difference vector reaches the generator
    model.edit(x, {"blush": 1})  # source read by the discriminator
    assert not model.training
    assert not model.generator.training
    assert not model.discriminator.training
    model.train()
    model.edit(x, {"blush": 1})
    assert model.generator.training
    assert model.discriminator.training


def test_edit_refuses_images_that_are_not_rgb() -> None:
    model = editor()
    x, a = batch()
    with pytest.raises(ValueError, match="RGB"):
        model.edit(torch.cat([x, torch.ones_like(x[:, :1])], 1), {"blush": 1}, source=a)
    with pytest.raises(ValueError, match="RGB"):
        model.edit(x[0], {"blush": 1}, source=a[:1])


def test_edit_grid_has_images_reconstructions_and_one_column_per_name() -> None:
    torch.manual_seed(0)
    model = editor()
    x, a = batch(3)
    a[:, [NAMES.index(n) for n in HAIR]] = 0
    a[0, NAMES.index("pink_hair")] = 1
    grid = model.edit_grid(x, ["blush", "pink_hair", "red_eyes"], source=a)
    assert grid.shape == (3, 5, 3, SIZE, SIZE)
    assert torch.equal(grid[:, 0], x)
    torch.testing.assert_close(grid[:, 1], model.edit(x, {}, source=a), rtol=0, atol=0)
    assert torch.equal(grid[0, 3], grid[0, 1])  # pink hair on already: the reconstruction
    assert not torch.equal(grid[1, 3], grid[1, 1])
    assert model.edit_grid(x).shape == (3, 2 + len(NAMES), 3, SIZE, SIZE)  # default: the first 8
    assert model.training
    with pytest.raises(ValueError, match="cat_ears"):
        model.edit_grid(x, ["blush", "cat_ears"], source=a)


class _IdentityOnX(torch.nn.Module):
    """A generator that returns its image input, recording the differences it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.diffs: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor, diff: torch.Tensor) -> torch.Tensor:
        self.diffs.append(diff)
        return x


def test_reconstruction_is_of_the_real_image_with_a_zero_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    model = editor()
    x, a = batch()
    b = a.flip(0)
    fake = -x  # an edit far from x: a rec term on it (or through G(fake, 0)) would be large
    identity = _IdentityOnX()
    monkeypatch.setattr(model, "generator", identity)
    loss, parts = model.generator_loss(x, fake, b)
    assert torch.isfinite(loss)
    assert parts["rec"].item() == 0.0
    assert len(identity.diffs) == 1
    assert not identity.diffs[0].any()


# --- checkpoints and settings --------------------------------------------------------------


def test_checkpoint_loads_weights_only_and_edits_the_same(tmp_path: Path) -> None:
    model = editor(n_critic=1)
    saving = ModelCheckpoint(dirpath=tmp_path, save_last=True)
    run = fit(
        model,
        tmp_path,
        max_steps=-1,
        max_epochs=1,
        limit_train_batches=2,
        limit_val_batches=1,
        enable_checkpointing=True,
        callbacks=[saving],
    )
    assert {"val/psnr", "val/ssim", "val/d_att_acc"} <= set(run.callback_metrics)
    path = tmp_path / "last.ckpt"
    record = torch.load(path, map_location="cpu", weights_only=True)["animestyle"]
    assert record["method"] == "AttributeEditor"
    assert record["attribute_names"] == NAMES
    loaded = AttributeEditor.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    assert loaded.attribute_names == NAMES
    assert int(loaded.iteration) == 2
    x, a = batch()
    changes = {"pink_hair": 1.0, "blush": 1.0}
    torch.testing.assert_close(loaded.edit(x, changes, source=a), model.cpu().edit(x, changes, source=a))


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"attribute_names": []}, "attribute_names is empty"),
        ({"attribute_names": ["blush", "pink_hair", "blush"]}, "repeats"),
        ({"channels": "rgba"}, "channels='rgba'"),
        ({"adversarial": "hinge"}, "adversarial='hinge'"),
        ({"n_critic": 0}, "n_critic=0"),
    ],
)
def test_bad_settings_raise(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        editor(**kwargs)
