"""Losses: pure functions of tensors; they never take networks or configs."""

from animestyle.losses.adversarial import (
    gan_discriminator,
    gan_generator,
    gradient_penalty,
    lsgan_discriminator,
    lsgan_generator,
    wgan_discriminator,
    wgan_generator,
)
from animestyle.losses.classification import capped_log_likelihood, nlu
from animestyle.losses.distance import content_distance, pixel_distance
from animestyle.losses.erasure import class_mean_gap
from animestyle.losses.kl import gaussian_kl
from animestyle.losses.metric import contrastive_loss, prefix_distances
from animestyle.losses.pairwise import n_pair_loss, pairwise_margin_loss

__all__ = [
    "capped_log_likelihood",
    "class_mean_gap",
    "content_distance",
    "contrastive_loss",
    "gan_discriminator",
    "gan_generator",
    "gaussian_kl",
    "gradient_penalty",
    "lsgan_discriminator",
    "lsgan_generator",
    "n_pair_loss",
    "nlu",
    "pairwise_margin_loss",
    "pixel_distance",
    "prefix_distances",
    "wgan_discriminator",
    "wgan_generator",
]
