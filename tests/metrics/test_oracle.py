import pytest
import torch

from animestyle.data.synthetic import SyntheticPortraits
from animestyle.metrics import SyntheticOracle, evaluate_oracle, load_oracle, oracle_path, train_oracle


def test_heads_and_shapes() -> None:
    oracle = SyntheticOracle(num_artists=6, image_size=64)
    out = oracle(torch.zeros(2, 3, 64, 64))
    assert out["artist"].shape == (2, 6)
    assert out["hair_colour"].shape == (2, 9)
    assert out["continuous"].shape == (2, 3)
    with pytest.raises(ValueError, match=r"x must be \(B, 3, 64, 64\); got \(2, 64, 64\)"):
        oracle(torch.zeros(2, 64, 64))
    with pytest.raises(ValueError, match=r"x must be \(B, 3, 64, 64\); got \(2, 3, 32, 32\)"):
        oracle(torch.zeros(2, 3, 32, 32))


def test_predictions_are_made_in_eval_mode() -> None:
    oracle = SyntheticOracle(num_artists=4, image_size=32).train()
    x = torch.randn(6, 3, 32, 32)
    predicted = oracle.predict_artist(x)
    assert oracle.training
    with torch.no_grad():
        assert torch.equal(predicted, oracle.eval()(x)["artist"].argmax(1))


def test_a_short_training_beats_chance_by_a_wide_margin(capsys: pytest.CaptureFixture[str]) -> None:
    """8 artists at 32 px, 160 steps of 64 fresh renders, scored on 600 held-out renders."""
    oracle = train_oracle(8, 32, seed=0, steps=160, batch_size=64, num_workers=1, progress=False)
    metrics = evaluate_oracle(oracle, SyntheticPortraits(length=600, num_artists=8, size=32, split="test"))
    with capsys.disabled():
        print("\noracle, 160 steps:", {k: round(v, 3) for k, v in metrics.items()})
    assert metrics["chance_artist"] == pytest.approx(1 / 8)
    assert metrics["acc_artist"] > 0.5
    for name in [k[4:] for k in metrics if k.startswith("acc_")]:
        assert metrics[f"acc_{name}"] > metrics[f"chance_{name}"] + 0.15, name
    assert metrics["mae_tilt"] < 6.0  # tilt is uniform on [-12, 12]: guessing 0 gives 6


def test_training_is_reproducible_and_leaves_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = train_oracle(3, 32, seed=1, steps=3, batch_size=8, num_workers=0, progress=False)
    after = torch.rand(1)
    b = train_oracle(3, 32, seed=1, steps=3, batch_size=8, num_workers=2, progress=False)
    assert torch.equal(before, after)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


def test_cached_on_first_use_then_loaded() -> None:
    path = oracle_path(3, 32, seed=2, steps=2)
    assert not path.exists()
    first = load_oracle(3, 32, seed=2, steps=2, progress=False)
    assert path.exists()
    assert not list(path.parent.glob("*.partial*"))
    second = load_oracle(3, 32, seed=2, steps=2, progress=False)
    assert second.metrics == first.metrics
    assert "acc_artist" in second.metrics
    for p, q in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(p, q)


def test_refuses_batches_without_ground_truth() -> None:
    with pytest.raises(ValueError, match=r"lacks \['content', 'true_artist'\]"):
        SyntheticOracle.targets({"x": torch.zeros(1, 3, 32, 32), "artist": torch.zeros(1)})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image_size": 8}, "image_size=8 is not supported"),
        ({"num_artists": 0}, "num_artists=0 must be an integer >= 1"),
        ({"steps": 0}, "steps=0 must be an integer >= 1"),
    ],
)
def test_bad_arguments_are_named_as_given(kwargs: dict, message: str) -> None:
    arguments = {"num_artists": 3, "image_size": 32, **kwargs}
    with pytest.raises(ValueError, match=message):
        load_oracle(**arguments, progress=False)


def test_refuses_data_whose_label_is_not_the_artist() -> None:
    import lightning as L

    from animestyle.data import AnimeFacesDataModule, SyntheticSource

    data = AnimeFacesDataModule(
        synthetic=SyntheticSource(num_artists=5, label_by="mouth", train_size=8, val_size=8), image_size=32
    )
    oracle = SyntheticOracle(num_artists=data.num_artists, image_size=32)
    trainer = L.Trainer(fast_dev_run=True, logger=False, enable_progress_bar=False, enable_model_summary=False)
    with pytest.raises(ValueError, match=r"the data has 5 artists.*label_by: artist"):
        trainer.fit(oracle, datamodule=data)
