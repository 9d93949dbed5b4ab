"""Conditional adversarial neural style transfer (Deelaka, "Neural Artistic Style Transfer
with Conditional Adversarial Networks"): the style of any style image onto any content
image, without retraining per style.

1. :class:`DualDiscriminatorNST`: a U-Net generator with a PatchGAN content discriminator
   and a siamese wavelet-CNN style discriminator.
2. :class:`EncoderDiscriminatorNST`: content encoder, style encoder and decoder, the
   encoders doubling as the discriminators.

Both train on the data module's ``style_pairs`` and offer ``transfer(content, style)``.
"""

from animestyle.methods.nst.common import ReferenceTransferModule
from animestyle.methods.nst.dual import DualDiscriminatorNST
from animestyle.methods.nst.encoder import EncoderDiscriminatorNST

__all__ = ["DualDiscriminatorNST", "EncoderDiscriminatorNST", "ReferenceTransferModule"]
