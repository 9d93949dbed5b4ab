"""Conditional adversarial style transfer (Deelaka): both approaches train, transfer and load."""

from pathlib import Path
from typing import Any

import pytest
import torch

from animestyle.data import AnimeFacesDataModule, SyntheticSource
from animestyle.inference import load_checkpoint
from animestyle.methods import DualDiscriminatorNST, EncoderDiscriminatorNST, ReferenceTransferModule
from animestyle.methods.base import CheckpointError
from tests.helpers import cpu_trainer

SIZE = 32


def _dual(**settings: Any) -> DualDiscriminatorNST:
    return DualDiscriminatorNST(3, SIZE, widths=(8, 16, 16), patch_width=8, style_width=8, style_dim=4, **settings)


def _encoder(**settings: Any) -> EncoderDiscriminatorNST:
    return EncoderDiscriminatorNST(3, SIZE, widths=(8, 16, 16, 32), style_dim=4, **settings)


def _dual_reading_embeddings(**settings: Any) -> DualDiscriminatorNST:
    return _dual(style_input="embedding", **settings)


MAKERS = {"dual": _dual, "dual-embedding": _dual_reading_embeddings, "encoder": _encoder}


def _data(style_pairs: bool = True, colour_space: str = "rgb") -> AnimeFacesDataModule:
    return AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=3, train_size=16, val_size=8), image_size=SIZE, batch_size=4,
        attributes=[], style_pairs=style_pairs, colour_space=colour_space,
    )  # fmt: skip


def _snapshot(model: ReferenceTransferModule) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items() if v.dtype.is_floating_point}


@pytest.mark.parametrize("name", MAKERS)
def test_an_iteration_updates_all_three_networks_and_logs_every_term(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = MAKERS[name]()
    before = _snapshot(model)
    trainer = cpu_trainer(tmp_path, max_steps=6, val_check_interval=2)  # 2 iterations of 3 optimizer steps
    trainer.fit(model, _data())
    assert int(model.iteration) == 2
    after = model.state_dict()
    networks = ("generator", "content_discriminator", "style_discriminator", "content_encoder", "style_encoder")
    for network in (*networks, "decoder"):
        keys = [k for k in before if k.startswith(f"{network}.") and "running" not in k and "num_batches" not in k]
        if keys:
            assert any(not torch.equal(before[k], after[k]) for k in keys), f"{network} did not change"
    logged = set(trainer.callback_metrics)
    assert {"train/g_style", "train/g_content", "train/g_l1", "train/dc", "train/ds"} <= logged
    assert {"val/content_l1", "val/style_distance", "val/style_distance_content"} <= logged


@pytest.mark.parametrize("settings", [{}, {"lambda_reconstruction": 1.0, "output": "colour"}])
@pytest.mark.parametrize("name", MAKERS)
def test_each_update_gives_gradients_to_its_own_network_only(
    name: str, settings: dict[str, Any], tmp_path: Path
) -> None:
    """Every optimizer step leaves the gradients of every other network as they were: the
    generator's loss reaches no discriminator, a discriminator's loss no generator (for
    approach 2: the decoder's loss does not reach the encoders it reads)."""
    torch.manual_seed(0)
    model = MAKERS[name](**settings)
    original = model.update
    steps = []

    def update(optimizer: Any, loss: torch.Tensor, parts: dict[str, torch.Tensor]) -> None:
        own = {id(p) for group in optimizer.optimizer.param_groups for p in group["params"]}
        others = [p for p in model.parameters() if id(p) not in own]
        before = [None if p.grad is None else p.grad.clone() for p in others]
        original(optimizer, loss, parts)
        for p, grad in zip(others, before, strict=True):
            assert (p.grad is None) == (grad is None)
            assert grad is None or torch.equal(p.grad, grad)
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters() if id(p) in own)
        steps.append(sorted(parts))

    model.update = update  # type: ignore[method-assign]
    cpu_trainer(tmp_path, max_steps=6, limit_val_batches=0).fit(model, _data())
    assert len(steps) == 6  # 2 iterations of 3 updates, each checked
    assert ("g_rec" in steps[2]) == ("lambda_reconstruction" in settings)


@pytest.mark.parametrize("name", MAKERS)
def test_the_reconstruction_term_redraws_the_second_image_in_its_own_artists_style(name: str) -> None:
    torch.manual_seed(0)
    model = MAKERS[name](lambda_reconstruction=2.0, output="residual")
    data = _data()
    batch = data.on_after_batch_transfer(next(iter(data.train_dataloader())), 0)
    fake = model.generate(batch["x"], batch["style_x"])
    loss, parts = model.generator_loss(batch, fake)
    assert float(parts["g_rec"]) == 0  # a residual generator starts from the content: s' comes back exactly
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05)
    fake = model.generate(batch["x"], batch["style_x"])
    loss, parts = model.generator_loss(batch, fake)
    hp = model.hparams
    rest = hp["lambda_style"] * parts["g_style"] + hp["lambda_content"] * parts["g_content"] + parts["g_l1"]
    assert float(parts["g_rec"]) > 0
    torch.testing.assert_close(loss, rest + 2.0 * parts["g_rec"])


@pytest.mark.parametrize("name", MAKERS)
def test_training_without_style_pairs_is_refused_with_the_fix(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"set data\.style_pairs: true"):
        cpu_trainer(tmp_path, max_steps=1).fit(MAKERS[name](), _data(style_pairs=False))


def test_training_on_lab_data_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"DualDiscriminatorNST reads sRGB images; set data\.colour_space: rgb"):
        cpu_trainer(tmp_path, max_steps=1).fit(_dual(), _data(colour_space="lab"))


@pytest.mark.parametrize("name", MAKERS)
def test_transfer_takes_one_style_for_all_or_one_per_content(name: str) -> None:
    model = MAKERS[name]()
    content, style = torch.rand(3, 3, SIZE, SIZE) * 2 - 1, torch.rand(3, 3, SIZE, SIZE) * 2 - 1
    y = model.transfer(content, style)
    assert y.shape == (3, 3, SIZE, SIZE)
    assert model.training  # modes restored
    one = model.transfer(content, style[:1])
    torch.testing.assert_close(one[0], y[0])
    with pytest.raises(ValueError, match="one style image or one per content image"):
        model.transfer(content, style[:2])
    with pytest.raises(ValueError, match=r"content must be \(B, 3, 32, 32\)"):
        model.transfer(content[:, :, :16], style)
    grid = model.sample_grids(content, torch.zeros(3), torch.zeros(3))["transfers"]
    assert grid.shape == (4, 4, 3, SIZE, SIZE)  # a header row of styles and a column of contents
    torch.testing.assert_close(grid[1:, 0], content)
    torch.testing.assert_close(grid[0, 1:], content)  # the images are their own style references


@pytest.mark.parametrize("name", MAKERS)
def test_transfer_draws_with_the_moving_averages_of_the_inference_networks(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = MAKERS[name]()
    assert model.averages is not None
    assert set(model.averages) == set(model.inference_networks)
    cpu_trainer(tmp_path, max_steps=6, limit_val_batches=0).fit(model, _data())
    content = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    averaged = model.networks(averaged=True)
    with model.evaluating(*averaged.values()):
        want = model.generate_with(averaged, content, content).clamp(-1, 1)
    torch.testing.assert_close(model.transfer(content, content), want)
    with model.evaluating(*model.networks().values()):
        live = model.generate(content, content).clamp(-1, 1)
    assert not torch.allclose(live, want)  # the average lags the live networks
    model.averages = None  # ema_decay=None: the live networks draw
    torch.testing.assert_close(model.transfer(content, content), live)


def test_the_moving_averages_warm_up() -> None:
    """Iteration n updates the averages with decay min(ema_decay, (1 + n) / (10 + n)): the
    first keeps a tenth of the initial weights, not 0.999 of them."""
    torch.manual_seed(0)
    model = _encoder()
    initial = {k: v.clone() for k, v in model.decoder.state_dict().items()}
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.add_(1.0)
    model.update_averages()  # at iteration 0: decay 0.1
    averaged = model.averages["decoder"].network.state_dict()  # type: ignore[index]
    for name, p in model.decoder.named_parameters():
        torch.testing.assert_close(averaged[name], 0.1 * initial[name] + 0.9 * p.detach())


@pytest.mark.parametrize("name", MAKERS)
def test_while_pretraining_the_generator_learns_only_to_give_the_content_back(name: str) -> None:
    torch.manual_seed(0)
    model = MAKERS[name]()
    model.hparams["pretrain_iterations"] = 2
    data = _data()
    batch = data.on_after_batch_transfer(next(iter(data.train_dataloader())), 0)
    fake = model.generate(batch["x"], batch["style_x"])
    loss, parts = model.generator_loss(batch, fake)
    torch.testing.assert_close(loss, parts["g_l1"])  # lambda_l1 = 1; the judged terms are off
    model.iteration.fill_(2)
    loss, parts = model.generator_loss(batch, fake)
    hp = model.hparams
    judged = hp["lambda_style"] * parts["g_style"] + hp["lambda_content"] * parts["g_content"]
    torch.testing.assert_close(loss, judged + parts["g_l1"])


@pytest.mark.parametrize("output", ["residual", "colour", "warp"])
@pytest.mark.parametrize("name", MAKERS)
def test_a_generator_drawing_changes_starts_from_the_content_and_learns(name: str, output: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = MAKERS[name](output=output)
    content = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    style = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    torch.testing.assert_close(model.transfer(content, style), content)  # no change before training
    cpu_trainer(tmp_path, max_steps=6, val_check_interval=2).fit(model, _data())
    change = (model.generate(content, style) - content).abs()
    assert change.mean() > 0  # the change is learned
    assert model.generate(content * 0 + 1, style).max() <= 1  # clamped to the image range


def test_colour_and_warp_outputs_regrade_and_move_the_content() -> None:
    content = torch.rand(2, 3, SIZE, SIZE) - 0.5
    colour = _encoder(output="colour")
    output = torch.zeros(2, 12, SIZE, SIZE)
    output[:, 9:] = 0.1  # offset b
    torch.testing.assert_close(colour.finish_transfer(content, output), content + 0.1)
    output[:, 9:], output[:, 0] = 0, 1  # A = identity + 1 in the red-from-red entry
    expected = content.clone()
    expected[:, 0] *= 2
    torch.testing.assert_close(colour.finish_transfer(content, output), expected)
    warp = _encoder(output="warp")
    output = torch.zeros(2, 14, SIZE, SIZE)
    output[:, 12] = 2 / (SIZE - 1) / 0.15  # one pixel to the right, in the largest displacement's units
    moved = warp.finish_transfer(content, output)
    torch.testing.assert_close(moved[..., :-1], content[..., 1:])
    torch.testing.assert_close(moved[..., -1], content[..., -1])  # the edge repeats


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="channels='rgba'"):
        DualDiscriminatorNST(3, SIZE, channels="rgba")
    with pytest.raises(ValueError, match="multiple of 2\\*\\*6"):
        DualDiscriminatorNST(3, 48)
    with pytest.raises(ValueError, match="pretrain_iterations"):
        EncoderDiscriminatorNST(3, SIZE, pretrain_iterations=-1)
    with pytest.raises(ValueError, match=r"lambda_reconstruction=-1.0 must be >= 0"):
        DualDiscriminatorNST(3, SIZE, lambda_reconstruction=-1.0)
    with pytest.raises(ValueError, match="output='delta' is not allowed"):
        EncoderDiscriminatorNST(3, SIZE, output="delta")
    with pytest.raises(ValueError, match="style_input='code' is not allowed"):
        DualDiscriminatorNST(3, SIZE, style_input="code")


def test_reading_the_style_embedding_the_generator_follows_the_style_discriminator() -> None:
    """With ``style_input: embedding`` a transfer reads the style image only through the
    style discriminator's embedding of it: it is the generator on the content and that
    embedding, and a changed style discriminator changes the transfers."""
    torch.manual_seed(0)
    model = _dual_reading_embeddings(ema_decay=None).eval()
    assert model.inference_networks == ("generator", "style_discriminator")
    content, style = torch.rand(2, 3, SIZE, SIZE) * 2 - 1, torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    with torch.no_grad():
        code = model.style_discriminator(style)
        torch.testing.assert_close(model.transfer(content, style), model.generator(content, code).clamp(-1, 1))
        before = model.transfer(content, style)
        model.style_discriminator.head.bias.add_(1.0)
        assert not torch.allclose(model.transfer(content, style), before)


def test_approach_2_is_much_smaller_than_approach_1_at_the_authors_settings() -> None:
    dual, encoder = DualDiscriminatorNST(8, 128).parameter_counts(), EncoderDiscriminatorNST(8, 128).parameter_counts()
    assert dual["total"] == sum(dual[k] for k in ("generator", "content_discriminator", "style_discriminator"))
    assert encoder["transfer"] == encoder["total"]  # the encoders are the discriminators
    assert encoder["total"] * 10 < dual["generator"]


@pytest.mark.parametrize("name", MAKERS)
def test_a_checkpoint_loads_for_transfer_from_python(name: str, tmp_path: Path) -> None:
    """(``animestyle transfer`` on such checkpoints: tests/tools/test_transfer.py.)"""
    torch.manual_seed(0)
    model = MAKERS[name]()
    trainer = cpu_trainer(tmp_path, max_steps=3, limit_val_batches=0)
    trainer.fit(model, _data())
    trainer.save_checkpoint(tmp_path / "nst.ckpt")
    loaded, record = load_checkpoint(tmp_path / "nst.ckpt")
    assert type(loaded) is type(model)
    assert record["image_size"] == SIZE
    content = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    torch.testing.assert_close(loaded.transfer(content, content[:1]), model.transfer(content, content[:1]))
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.ckpt")
