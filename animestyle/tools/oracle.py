"""``animestyle oracle``: train (first use) or load the synthetic oracle and print its scores."""

from __future__ import annotations

from animestyle.metrics import oracle as oracle_module

__all__ = ["oracle"]


def oracle(
    num_artists: int = 8, image_size: int = 32, seed: int = 0, steps: int = oracle_module.STEPS
) -> dict[str, float]:
    """Train (first use) or load the synthetic oracle and print its held-out scores.

    Args:
        num_artists: artists of the synthetic data.
        image_size: image size in pixels (32 to 256).
        seed: seed of the synthetic data.
        steps: training steps, each on a batch of fresh renders.
    """
    model = oracle_module.load_oracle(num_artists, image_size, seed, steps=steps)
    print(f"oracle: {oracle_module.oracle_path(num_artists, image_size, seed, steps)}")
    print(f"{'head':<16}{'accuracy':>10}{'chance':>10}")
    for key, value in model.metrics.items():
        if key.startswith("acc_"):
            name = key[4:]
            print(f"{name:<16}{value:>10.3f}{model.metrics[f'chance_{name}']:>10.3f}")
    for key, value in model.metrics.items():
        if key.startswith("mae_"):
            print(f"{key[4:]:<16}{'MAE':>10}{value:>10.4f}")
    return model.metrics
