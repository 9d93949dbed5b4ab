"""The style-space paper (Xiang & Li, "Anime Style Space Exploration Using Metric Learning and
Generative Adversarial Networks", arXiv:1805.07997), three LightningModules run in order:

1. :class:`MetricStyleEncoder`: a style encoder by metric learning, with learned
   representative styles per artist and nested dropout (Sec. 3).
2. :class:`StyleConditionedVAE`: a content VAE whose decoder also gets the style (Sec. 4).
3. :class:`StyleContentGAN`: a GAN on ``[style | content | free]`` codes whose images give
   their style and content codes back (Sec. 4), explored with :mod:`.explore`.
"""

from animestyle.methods.style_space.gan import StyleContentGAN
from animestyle.methods.style_space.metric import MetricStyleEncoder
from animestyle.methods.style_space.vae import StyleConditionedVAE

__all__ = ["MetricStyleEncoder", "StyleConditionedVAE", "StyleContentGAN"]
