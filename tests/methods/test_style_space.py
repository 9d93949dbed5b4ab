"""The style-space paper's three LightningModules and the exploration of a trained GAN: the
metric loss on hand-placed codes, the Lab colour path, checkpoints between the stages, which
network each GAN step trains, and the grids of ``animestyle.methods.style_space.explore``.

Real runs are tiny (32 px, 4 artists, widths 8 / 16 / 32, one or two iterations) and shared by the
session (the fixtures ``stages`` and ``gan_run`` of ``tests/fixtures.py``; ``tests/tools`` tests
``animestyle explore`` on them): one metric encoder, one classification encoder and one VAE, then
one GAN on copies of their checkpoints.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from animestyle.data import AnimeFacesDataModule
from animestyle.data.colour import rgb_to_lab
from animestyle.methods import CheckpointError, MetricStyleEncoder, StyleConditionedVAE, StyleContentGAN
from animestyle.methods.style_space.explore import (
    dimension_sweep,
    random_styles,
    rank_by_dimension,
    style_interpolation,
    transfer_grid,
)
from animestyle.networks.style_space import WNDecoder, WNEncoder
from tests.fixtures import (
    ARTISTS,
    CONTENT_DIM,
    GAN_SETTINGS,
    SIZE,
    STYLE_DIM,
    STYLE_DIMS,
    WIDTHS,
    GanRun,
    data,
    encoder,
    snapshot,
)
from tests.helpers import cpu_trainer

# --- helpers -------------------------------------------------------------------------------


def trainer(root: Path, max_steps: int, **kwargs: Any) -> L.Trainer:
    return cpu_trainer(root, max_steps, **kwargs)


def sub_state(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) + 1 :]: v for k, v in state.items() if k.startswith(prefix + ".")}


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], what: str) -> None:
    assert a.keys() == b.keys(), what
    assert a, f"{what}: nothing to compare"
    for k in a:
        assert torch.equal(a[k], b[k]), f"{what}: {k} differs"


def state_of(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=False)["state_dict"]


@pytest.fixture
def gan(gan_run: GanRun) -> StyleContentGAN:
    return gan_run.model.eval()


def record_generate(gan: StyleContentGAN, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, torch.Tensor | None]]:
    """Make ``gan.generate`` record its arguments (and still draw)."""
    calls: list[dict[str, torch.Tensor | None]] = []
    real = gan.generate

    def recording(style: torch.Tensor, content: torch.Tensor, free: torch.Tensor | None = None) -> torch.Tensor:
        calls.append(
            {"style": style.clone(), "content": content.clone(), "free": None if free is None else free.clone()}
        )
        return real(style, content, free)

    monkeypatch.setattr(gan, "generate", recording)
    return calls


def batch_of(datamodule: AnimeFacesDataModule) -> dict[str, torch.Tensor]:
    return datamodule.on_after_batch_transfer(next(iter(datamodule.val_dataloader())), 0)


# --- MetricStyleEncoder: the loss on hand-placed codes -------------------------------------


def two_d_encoder(**kwargs: Any) -> MetricStyleEncoder:
    """A 2-artist encoder of 2-dimensional codes whose losses are worked out by hand."""
    return MetricStyleEncoder(2, SIZE, widths=WIDTHS, style_dim=2, **{"keep": 0.5, **kwargs})


CODES = torch.tensor([[0.0, 0.0], [0.3, 0.4], [0.6, 0.8]])
LABELS = torch.tensor([0, 0, 1])
REPRESENTATIVES = torch.tensor([[0.0, 0.0], [0.0, 1.0]])


def test_metric_loss_terms_on_hand_placed_codes() -> None:
    module = two_d_encoder(keep=1.0, pair_weight=2.0, representative_weight=0.5)  # keep 1: every dimension
    with torch.no_grad():
        module.representatives.copy_(REPRESENTATIVES)
    loss, parts = module.loss(CODES, LABELS)
    assert set(parts) == {"pair_pull", "pair_push", "rep_pull", "rep_push", "accuracy"}
    # same artist: images 0 and 1, 0.5 apart (twice: (0, 1) and (1, 0)); the diagonal is left out
    torch.testing.assert_close(parts["pair_pull"], torch.tensor(0.25))
    # different artists: (0, 2), (2, 0) 1.0 apart: nothing; (1, 2), (2, 1) 0.5 apart: (1 - 0.5)^2
    torch.testing.assert_close(parts["pair_push"], torch.tensor((0 + 0 + 0.25 + 0.25) / 4))
    # own representatives: 0, 0.5 and sqrt(0.36 + 0.04); the others: 1, sqrt(0.09 + 0.36), 1
    torch.testing.assert_close(parts["rep_pull"], torch.tensor((0 + 0.25 + 0.4) / 3))
    torch.testing.assert_close(parts["rep_push"], torch.tensor((1 - math.sqrt(0.45)) ** 2 / 3))
    expected = 2.0 * (0.25 + 0.125) + 0.5 * ((0.65 + (1 - math.sqrt(0.45)) ** 2) / 3)
    torch.testing.assert_close(loss, torch.tensor(expected))
    assert parts["accuracy"].item() == 1.0  # each code is nearest its own representative


def test_metric_loss_scales_every_distance_by_the_cut_offs_scale() -> None:
    module = two_d_encoder(keep=1.0)
    assert module.dropout.scale is not None
    with torch.no_grad():
        module.representatives.copy_(REPRESENTATIVES)
        module.dropout.scale.copy_(torch.tensor([1.0, 2.0]))  # s_2: every row keeps 2 dimensions
    _, parts = module.loss(CODES, LABELS)
    torch.testing.assert_close(parts["pair_pull"], torch.tensor(4 * 0.25))
    torch.testing.assert_close(parts["pair_push"], torch.tensor(0.0))  # every distance now >= 1
    torch.testing.assert_close(parts["rep_pull"], torch.tensor(4 * 0.65 / 3))
    torch.testing.assert_close(parts["rep_push"], torch.tensor(0.0))


def reference_loss(
    codes: torch.Tensor, labels: torch.Tensor, reps: torch.Tensor, kept: list[int], scale: list[float], margin: float
) -> dict[str, float]:
    """The four terms by explicit loops over pairs: row ``i`` measured in its first
    ``kept[i]`` dimensions, times ``scale[kept[i] - 1]``, to other codes and representatives."""

    def distance(i: int, other: torch.Tensor) -> float:
        k = kept[i]
        return scale[k - 1] * math.sqrt(sum((codes[i, d].item() - other[d].item()) ** 2 for d in range(k)))

    pull, push, rep_pull, rep_push = [], [], [], []
    for i in range(len(codes)):
        for j in range(len(codes)):
            if i != j:
                d = distance(i, codes[j])
                if labels[i] == labels[j]:
                    pull.append(d**2)
                else:
                    push.append(max(0, margin - d) ** 2)
        for a in range(len(reps)):
            d = distance(i, reps[a])
            if labels[i] == a:
                rep_pull.append(d**2)
            else:
                rep_push.append(max(0, margin - d) ** 2)

    def mean(values: list[float]) -> float:
        return sum(values) / max(1, len(values))

    return {"pair_pull": mean(pull), "pair_push": mean(push), "rep_pull": mean(rep_pull), "rep_push": mean(rep_push)}


def test_metric_loss_cuts_codes_and_representatives_at_each_rows_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    module = MetricStyleEncoder(3, SIZE, widths=WIDTHS, style_dim=3, margin=1.5)
    assert module.dropout.scale is not None
    codes = torch.tensor([[0.0, 0.2, 0.9], [0.1, 1.0, -0.5], [0.8, 0.1, 0.3], [0.5, -0.4, 0.0]])
    labels = torch.tensor([0, 0, 1, 2])
    reps = torch.tensor([[0.2, 0.5, 0.1], [1.0, 0.0, 0.0], [0.0, -1.0, 1.0]])
    scale = [2.0, 0.5, 1.5]
    kept = [1, 3, 2, 1]
    with torch.no_grad():
        module.representatives.copy_(reps)
        module.dropout.scale.copy_(torch.tensor(scale))
    monkeypatch.setattr(module.dropout, "draw", lambda batch, device=None: torch.tensor(kept))
    codes = codes.requires_grad_()
    loss, parts = module.loss(codes, labels)
    expected = reference_loss(codes.detach(), labels, reps, kept, scale, margin=1.5)
    for name, value in expected.items():
        assert parts[name].item() == pytest.approx(value, rel=1e-5, abs=1e-7), name
    assert expected["pair_push"] > 0
    assert expected["rep_push"] > 0
    loss.backward()
    # the loss trains the codes (the encoder), the representatives and the scales of the drawn cut-offs
    assert codes.grad is not None
    assert module.representatives.grad is not None
    assert module.dropout.scale.grad is not None
    assert torch.isfinite(codes.grad).all()
    assert module.representatives.grad.abs().sum() > 0
    assert (module.dropout.scale.grad != 0).all()  # cut-offs 1, 2 and 3 were all drawn


def test_classify_reads_the_nearest_representative_in_the_first_dims() -> None:
    module = two_d_encoder()
    with torch.no_grad():
        module.representatives.copy_(torch.tensor([[0.0, 0.0], [1.0, 5.0]]))
    codes = torch.tensor([[0.9, 0.0], [0.2, 4.0]])
    # first dimension only: 0.9 is nearer 1 than 0, 0.2 nearer 0; both dimensions: the reverse
    assert module.classify(codes, 1).tolist() == [1, 0]
    assert module.classify(codes, 2).tolist() == [0, 1]


def test_classification_objective_classifies_the_cut_code() -> None:
    module = two_d_encoder(objective="classification")
    assert not hasattr(module, "representatives")
    with torch.no_grad():
        module.head.weight.copy_(torch.eye(2))
        module.head.bias.zero_()
    codes = torch.tensor([[0.5, 1.0], [1.0, 0.5]])
    assert module.classify(codes, 1).tolist() == [0, 0]  # only the first dimension: logits (x, 0)
    assert module.classify(codes, 2).tolist() == [1, 0]


def test_classification_objective_gives_the_cross_entropy() -> None:
    module = MetricStyleEncoder(3, SIZE, widths=WIDTHS, style_dim=2, keep=1.0, objective="classification")
    assert module.dropout.scale is not None
    with torch.no_grad():
        module.head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        module.head.bias.copy_(torch.tensor([0.0, 0.5, -1.0]))
        module.dropout.scale.copy_(torch.tensor([1.0, 1.5]))
    loss, parts = module.loss(torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.tensor([0, 2]))
    assert set(parts) == {"ce", "accuracy"}
    # scaled codes (1.5, 0) and (0, 3): logits (1.5, 0.5, 0.5) and (0, 3.5, 2)
    ce0 = -1.5 + math.log(math.exp(1.5) + 2 * math.exp(0.5))
    ce1 = -2.0 + math.log(1 + math.exp(3.5) + math.exp(2))
    assert loss.item() == pytest.approx((ce0 + ce1) / 2, rel=1e-6)
    assert parts["ce"] is loss
    assert parts["accuracy"].item() == 0.5  # the second image is read as artist 1


def test_the_encoder_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="objective='triplet'"):
        encoder(objective="triplet")
    with pytest.raises(ValueError, match="margin=0"):
        encoder(margin=0)
    with pytest.raises(ValueError, match="channels='rgba'"):
        encoder(channels="rgba")
    with pytest.raises(ValueError, match="network_colour='hsv'"):
        encoder(network_colour="hsv")
    with pytest.raises(ValueError, match="num_artists=1"):
        MetricStyleEncoder(1, SIZE, widths=WIDTHS)


@pytest.mark.filterwarnings("ignore:You defined a `validation_step` but have no `val_dataloader`")
def test_the_metric_encoder_overfits_one_batch(tmp_path: Path) -> None:
    L.seed_everything(0, verbose=False)
    datamodule = data()
    full = datamodule.on_after_batch_transfer(next(iter(datamodule.train_dataloader())), 0)
    batch = {"x": full["x"], "artist": full["artist"]}
    module = encoder(lr=1e-3)

    def loss() -> float:
        torch.manual_seed(0)  # the same nested-dropout draws each time
        with torch.no_grad():
            return module.loss(module.encode(batch["x"]), batch["artist"])[0].item()

    before = loss()
    run = trainer(tmp_path, max_steps=30, limit_val_batches=0)
    run.fit(module, train_dataloaders=DataLoader(cast("Dataset[Any]", [batch] * 30), batch_size=None))
    assert int(module.iteration) == 30
    after = loss()
    assert after < 0.3 * before, f"the loss went from {before:.3f} to {after:.3f} in 30 iterations"


# --- the colour path -----------------------------------------------------------------------


def test_lab_round_trip_gives_the_srgb_images_back() -> None:
    module = encoder()
    assert module.colour_space == "lab"
    x = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 1.9 - 0.95
    lab = module.to_network(x)
    assert not torch.allclose(lab, x, atol=0.1)  # it is another colour space
    torch.testing.assert_close(lab, rgb_to_lab(x))
    torch.testing.assert_close(module.to_rgb(lab), x, atol=1e-3, rtol=0)


def test_gradients_flow_through_the_lab_conversions() -> None:
    module = encoder()
    x = (torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 1.9 - 0.95).requires_grad_()
    module.to_network(x).sin().sum().backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()
    assert (x.grad != 0).float().mean() > 0.9

    torch.manual_seed(0)
    generator = WNDecoder(6, SIZE, tuple(WIDTHS))
    module.to_rgb(generator(torch.randn(2, 6))).sin().sum().backward()
    for name, p in generator.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, f"{name} got an all-zero gradient"


def test_rgb_network_colour_is_the_identity() -> None:
    module = encoder(network_colour="rgb")
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert torch.equal(module.to_network(x), x)
    assert torch.equal(module.to_rgb(x), x)
    assert torch.equal(
        module.to_rgb(torch.tensor([-3.0, 0.5, 2.0]).view(1, 3, 1, 1)).flatten(), torch.tensor([-1.0, 0.5, 1.0])
    )


# --- checkpoints between the stages --------------------------------------------------------


def test_the_stages_record_what_later_stages_need(stages: dict[str, Path]) -> None:
    metric = torch.load(stages["metric"], map_location="cpu", weights_only=False)
    names = {key: metric["animestyle"].pop(key) for key in ("artist_names", "attribute_names")}
    assert names["artist_names"] == [f"artist_{k:04d}" for k in range(ARTISTS)]  # the data's names travel too
    assert metric["animestyle"] == {
        "method": "MetricStyleEncoder",
        "num_artists": ARTISTS,
        "image_size": SIZE,
        "colour_space": "lab",
        "widths": WIDTHS,
        "blocks_per_level": 1,
        "style_dim": STYLE_DIM,
        "objective": "metric",
    }
    vae = torch.load(stages["vae"], map_location="cpu", weights_only=False)
    assert vae["animestyle"]["method"] == "StyleConditionedVAE"
    assert (vae["animestyle"]["content_dim"], vae["animestyle"]["style_dims"]) == (CONTENT_DIM, STYLE_DIMS)
    # the VAE's frozen style encoder is the metric encoder's
    assert_same(
        sub_state(vae["state_dict"], "style.encoder"), sub_state(metric["state_dict"], "encoder"), "E_s in the VAE"
    )


@pytest.mark.parametrize("stage", ["vae", "gan"])
def test_a_missing_style_checkpoint_is_named(stage: str, stages: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "metric" / "last.ckpt"
    build: dict[str, Callable[[], Any]] = {
        "vae": lambda: StyleConditionedVAE(ARTISTS, SIZE, style_checkpoint=str(missing)),
        "gan": lambda: StyleContentGAN(
            ARTISTS, SIZE, style_checkpoint=str(missing), content_checkpoint=str(stages["vae"])
        ),
    }
    with pytest.raises(CheckpointError, match="style_checkpoint=") as error:
        build[stage]()
    assert str(missing) in str(error.value)
    assert "does not exist" in str(error.value)
    with pytest.raises(CheckpointError, match="style_checkpoint is not set"):
        StyleConditionedVAE(ARTISTS, SIZE)


def test_a_missing_content_checkpoint_is_named(stages: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "vae.ckpt"
    with pytest.raises(CheckpointError, match="content_checkpoint=") as error:
        StyleContentGAN(ARTISTS, SIZE, style_checkpoint=str(stages["metric"]), content_checkpoint=str(missing))
    assert "does not exist" in str(error.value)
    with pytest.raises(CheckpointError, match="content_checkpoint is not set"):
        StyleContentGAN(ARTISTS, SIZE, style_checkpoint=str(stages["metric"]))


def test_checkpoints_of_the_wrong_method_are_refused(stages: dict[str, Path]) -> None:
    with pytest.raises(CheckpointError, match=r"style_checkpoint=.* is a StyleConditionedVAE checkpoint"):
        StyleConditionedVAE(ARTISTS, SIZE, style_checkpoint=str(stages["vae"]))
    with pytest.raises(CheckpointError, match=r"content_checkpoint=.* is a MetricStyleEncoder checkpoint"):
        StyleContentGAN(ARTISTS, SIZE, style_checkpoint=str(stages["metric"]), content_checkpoint=str(stages["metric"]))
    with pytest.raises(CheckpointError, match=r"style_checkpoint=.* is a StyleConditionedVAE checkpoint"):
        StyleContentGAN(ARTISTS, SIZE, style_checkpoint=str(stages["vae"]), content_checkpoint=str(stages["vae"]))


def test_a_classification_encoder_is_refused_as_the_style_checkpoint(stages: dict[str, Path]) -> None:
    fix = "objective='classification' but this run has objective='metric'"
    with pytest.raises(CheckpointError, match=fix) as error:
        StyleConditionedVAE(ARTISTS, SIZE, style_checkpoint=str(stages["classifier"]))
    assert "style_checkpoint" in str(error.value)
    with pytest.raises(CheckpointError, match=fix):
        StyleContentGAN(
            ARTISTS, SIZE, style_checkpoint=str(stages["classifier"]), content_checkpoint=str(stages["vae"])
        )


def test_checkpoints_of_other_data_are_refused(stages: dict[str, Path]) -> None:
    with pytest.raises(CheckpointError, match="num_artists=4 but this run has num_artists=5"):
        StyleConditionedVAE(5, SIZE, style_checkpoint=str(stages["metric"]))
    with pytest.raises(CheckpointError, match="image_size=32 but this run has image_size=64"):
        StyleContentGAN(5 - 1, 64, style_checkpoint=str(stages["metric"]), content_checkpoint=str(stages["vae"]))


def test_a_network_colour_other_than_the_style_encoders_is_refused(stages: dict[str, Path]) -> None:
    """The frozen encoders read the colour space they were trained in (Lab here)."""
    with pytest.raises(ValueError, match="network_colour='rgb' but the style encoder was trained in 'lab'"):
        StyleConditionedVAE(ARTISTS, SIZE, style_checkpoint=str(stages["metric"]), network_colour="rgb")
    with pytest.raises(ValueError, match="network_colour='rgb'"):
        StyleContentGAN(
            ARTISTS, SIZE, style_checkpoint=str(stages["metric"]), content_checkpoint=str(stages["vae"]),
            network_colour="rgb",
        )  # fmt: skip
    vae = StyleConditionedVAE(ARTISTS, SIZE, style_checkpoint=str(stages["metric"]), network_colour="lab")
    assert vae.colour_space == "lab"


# --- the GAN -------------------------------------------------------------------------------


def test_the_gan_leaves_the_frozen_encoders_as_the_checkpoints_hold_them(
    gan_run: GanRun, stages: dict[str, Path]
) -> None:
    metric, vae = state_of(stages["metric"]), state_of(stages["vae"])
    for state, when in ((gan_run.start, "at the start"), (gan_run.end, "after training")):
        assert_same(sub_state(state, "style.encoder"), sub_state(metric, "encoder"), f"E_s {when}")
        assert_same(sub_state(state, "content"), sub_state(vae, "encoder"), f"E_c {when}")
    assert not any(p.requires_grad for p in gan_run.model.style.parameters())
    assert not any(p.requires_grad for p in gan_run.model.content.parameters())
    # while G and D did train
    for name in ("generator", "discriminator"):
        start, end = sub_state(gan_run.start, name), sub_state(gan_run.end, name)
        assert any(not torch.equal(start[k], end[k]) for k in start), f"{name} did not train"


def test_the_gan_sets_the_style_statistics_from_the_training_data(gan_run: GanRun, stages: dict[str, Path]) -> None:
    mean, std = gan_run.start["style.mean"], gan_run.start["style.std"]
    assert mean.shape == std.shape == (STYLE_DIMS,)
    assert not torch.equal(mean, torch.zeros(STYLE_DIMS))
    assert not torch.equal(std, torch.ones(STYLE_DIMS))
    # the kept style dimensions of every training image (statistics_batches covers them all)
    net = WNEncoder(SIZE, tuple(WIDTHS), STYLE_DIM)
    net.load_state_dict(sub_state(state_of(stages["metric"]), "encoder"))
    datamodule = data()
    with torch.no_grad():
        codes = torch.cat(
            [
                net(rgb_to_lab(datamodule.on_after_batch_transfer(b, 0)["x"]))[:, :STYLE_DIMS]
                for b in datamodule.train_dataloader()
            ]
        )
    assert len(codes) == 64
    torch.testing.assert_close(mean, codes.mean(0), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(std, codes.std(0, correction=0), atol=1e-5, rtol=1e-4)
    # the statistics are a buffer: they stay as set and go into the checkpoint
    torch.testing.assert_close(gan_run.end["style.mean"], mean)
    torch.testing.assert_close(state_of(gan_run.checkpoint)["style.std"], std)


def test_gan_steps_train_only_their_own_networks(stages: dict[str, Path], tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = StyleContentGAN(
        ARTISTS, SIZE, style_checkpoint=str(stages["metric"]), content_checkpoint=str(stages["vae"]),
        statistics_batches=1, **GAN_SETTINGS,
    )  # fmt: skip
    steps: list[dict[str, torch.Tensor]] = []
    update = model.update

    def recording_update(optimizer: Any, loss: torch.Tensor, parts: Any) -> None:
        model.zero_grad(set_to_none=True)  # what this step's backward gives, and nothing older
        update(optimizer, loss, parts)
        steps.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})

    model.update = recording_update  # type: ignore[method-assign]
    run = trainer(tmp_path, max_steps=2, limit_val_batches=0)
    run.fit(model, datamodule=data())
    assert int(model.iteration) == 1
    assert len(steps) == 2
    d_step, g_step = steps
    d_names = {n for n, _ in model.named_parameters() if n.startswith("discriminator.")}
    g_names = {n for n, _ in model.named_parameters() if n.startswith("generator.")}
    assert set(d_step) == d_names, "the D step trains the discriminator, all of it and nothing else"
    assert set(g_step) == g_names, "the G step trains the generator, all of it and nothing else"
    for name, grad in {**d_step, **g_step}.items():
        assert torch.isfinite(grad).all(), name
        assert grad.abs().sum() > 0, f"{name} got an all-zero gradient"
    # toggled_optimizer put every requires_grad back; the encoders stay frozen
    assert all(p.requires_grad for n, p in model.named_parameters() if n in d_names | g_names)
    assert not any(p.requires_grad for n, p in model.named_parameters() if n not in d_names | g_names)


def test_the_gan_checkpoint_rebuilds_without_the_earlier_checkpoints(gan_run: GanRun) -> None:
    for path in gan_run.inputs:
        path.unlink()
    rebuilt = StyleContentGAN.load_from_checkpoint(gan_run.checkpoint, map_location="cpu", weights_only=True)
    assert_same(snapshot(rebuilt), gan_run.end, "the rebuilt GAN")
    assert (rebuilt.style_dims, rebuilt.content_dims, rebuilt.free_dims) == (STYLE_DIMS, 6, 3)
    assert rebuilt.hparams["content_record"]["content_dim"] == CONTENT_DIM
    with pytest.raises(CheckpointError, match="style_checkpoint="):  # a new GAN does need them
        StyleContentGAN(
            ARTISTS, SIZE, style_checkpoint=str(gan_run.inputs[0]), content_checkpoint=str(gan_run.inputs[1])
        )


# --- exploring the GAN ---------------------------------------------------------------------


def codes_of(gan: StyleContentGAN, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    return torch.randn(count, gan.style_dims, generator=g), torch.randn(count, gan.content_dims, generator=g)


@torch.no_grad()
def test_random_styles_draw_each_content_in_the_same_seeded_styles(
    gan: StyleContentGAN, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, content = codes_of(gan, 2)
    calls = record_generate(gan, monkeypatch)
    grid = random_styles(gan, content, 3, seed=7)
    assert grid.shape == (2, 3, 3, SIZE, SIZE)
    (call,) = calls
    style = cast(torch.Tensor, call["style"]).view(2, 3, -1)
    expected = torch.randn(3, gan.style_dims, generator=torch.Generator().manual_seed(7))
    assert torch.equal(style[0], expected)
    assert torch.equal(style[1], expected)  # the same styles in every row
    assert torch.equal(cast(torch.Tensor, call["content"]).view(2, 3, -1), content[:, None].expand(2, 3, -1))
    assert torch.equal(random_styles(gan, content, 3, seed=7), grid)
    assert not torch.equal(random_styles(gan, content, 3, seed=8), grid)
    with pytest.raises(ValueError, match=rf"code must be \(B, {gan.code_dim}\)"):
        random_styles(gan, content[:, :-1], 3)


@torch.no_grad()
def test_style_interpolation_has_the_corner_styles_at_the_corners(
    gan: StyleContentGAN, monkeypatch: pytest.MonkeyPatch
) -> None:
    corners, content = codes_of(gan, 4)
    expected = {(0, 0): 0, (0, 3): 1, (3, 0): 2, (3, 3): 3}
    alone = {k: gan.generate(corners[i : i + 1], content[:1]) for k, i in expected.items()}
    calls = record_generate(gan, monkeypatch)
    grid = style_interpolation(gan, corners, content[0], steps=4)
    assert grid.shape == (4, 4, 3, SIZE, SIZE)
    (call,) = calls
    styles = cast(torch.Tensor, call["style"]).view(4, 4, -1)
    for (row, col), i in expected.items():
        assert torch.equal(styles[row, col], corners[i]), f"corner {(row, col)}"
        torch.testing.assert_close(grid[row, col], alone[(row, col)][0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(styles[0, 1], (2 * corners[0] + corners[1]) / 3)  # bilinear in between
    torch.testing.assert_close(styles[2, 3], (corners[1] + 2 * corners[3]) / 3)
    assert torch.equal(cast(torch.Tensor, call["content"]), content[:1].expand(16, -1))


def test_style_interpolation_rejects_bad_arguments(gan: StyleContentGAN) -> None:
    corners, content = codes_of(gan, 4)
    with pytest.raises(ValueError, match="corners must be"):
        style_interpolation(gan, corners[:3], content[0])
    with pytest.raises(ValueError, match="corners must be"):
        style_interpolation(gan, corners[:, :-1], content[0])
    with pytest.raises(ValueError, match="steps >= 2"):
        style_interpolation(gan, corners, content[0], steps=1)


@torch.no_grad()
def test_dimension_sweep_changes_only_the_chosen_dimension(
    gan: StyleContentGAN, monkeypatch: pytest.MonkeyPatch
) -> None:
    z = torch.randn(3, gan.code_dim, generator=torch.Generator().manual_seed(0))
    original = z.clone()
    sigmas = (-2.0, 0.0, 1.5, 3.0)
    calls = record_generate(gan, monkeypatch)
    grid = dimension_sweep(gan, 2, z, sigmas)
    assert grid.shape == (3, 4, 3, SIZE, SIZE)
    assert torch.equal(z, original)  # the codes given are left as they were
    (call,) = calls
    style = cast(torch.Tensor, call["style"]).view(3, 4, -1)
    content = cast(torch.Tensor, call["content"]).view(3, 4, -1)
    free = cast(torch.Tensor, call["free"]).view(3, 4, -1)
    z_style, z_content, z_free = gan.split(z)
    others = [d for d in range(gan.style_dims) if d != 2]
    for row in range(3):
        for col, sigma in enumerate(sigmas):
            assert style[row, col, 2].item() == sigma
            assert torch.equal(style[row, col, others], z_style[row, others])
            assert torch.equal(content[row, col], z_content[row])
            assert torch.equal(free[row, col], z_free[row])
    assert not torch.equal(grid[0, 0], grid[0, 3])


def test_dimension_sweep_rejects_a_dimension_that_is_not_kept(gan: StyleContentGAN) -> None:
    z = torch.zeros(1, gan.code_dim)
    for dim in (-1, gan.style_dims):
        with pytest.raises(ValueError, match=f"dim={dim} is not a kept style dimension"):
            dimension_sweep(gan, dim, z)


def test_rank_by_dimension_gives_the_extremes_most_extreme_first() -> None:
    styles = torch.tensor([[0.0, 5.0], [3.0, -1.0], [1.0, 2.0], [-2.0, 0.0], [0.5, 4.0]])
    lowest, highest = rank_by_dimension(styles, 0, 2)
    assert (lowest.tolist(), highest.tolist()) == ([3, 0], [1, 2])
    lowest, highest = rank_by_dimension(styles, 1, 3)
    assert (lowest.tolist(), highest.tolist()) == ([1, 3, 2], [0, 4, 2])


@torch.no_grad()
def test_transfer_grid_draws_each_content_in_each_style(gan: StyleContentGAN, monkeypatch: pytest.MonkeyPatch) -> None:
    x = batch_of(data())["x"]
    contents, styles = x[:3], x[3:5]
    _, content = gan.codes(contents)
    style, _ = gan.codes(styles)
    calls = record_generate(gan, monkeypatch)
    grid = transfer_grid(gan, contents, styles)
    assert grid.shape == (3, 2, 3, SIZE, SIZE)
    (call,) = calls
    torch.testing.assert_close(cast(torch.Tensor, call["style"]).view(3, 2, -1), style[None].expand(3, -1, -1))
    torch.testing.assert_close(cast(torch.Tensor, call["content"]).view(3, 2, -1), content[:, None].expand(-1, 2, -1))
    torch.testing.assert_close(grid[2, 1], gan.generate(style[1:], content[2:])[0], atol=1e-5, rtol=1e-4)
