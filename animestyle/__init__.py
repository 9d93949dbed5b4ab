"""animestyle: style and content of anime illustrations, in PyTorch Lightning.

The public API::

    import animestyle

    model = animestyle.load("outputs/gadn/synthetic32/stage1/.../last.ckpt")  # any method
    data = animestyle.AnimeFacesDataModule(synthetic=animestyle.SyntheticSource(num_artists=8))
    portraits = animestyle.SyntheticPortraits(length=1000, num_artists=8, size=64)

and one LightningModule class per method and stage (``animestyle.GADNStage1``, ...).
Everything else lives in the subpackages, lowest floor first: ``nn`` (blocks) <-
``networks``, ``losses`` <- ``methods`` <- ``inference`` <- ``tools`` <- ``cli``, with
``data`` and ``metrics`` standing alone (docs/development.md).

The names load on first use, so that ``import animestyle.data.prepare`` (and its worker
processes) starts without importing torch and Lightning.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from animestyle.lazy import lazy_exports

if TYPE_CHECKING:
    from animestyle.data.datamodule import AnimeFacesDataModule, SyntheticSource
    from animestyle.data.synthetic import SyntheticPortraits
    from animestyle.inference import load
    from animestyle.methods import (
        AdaIN,
        AttributeClassifier,
        AttributeEditor,
        DualDiscriminatorNST,
        EncoderDiscriminatorNST,
        GADNClassifierPretrain,
        GADNStage1,
        GADNStage2,
        GatysNST,
        MetricStyleEncoder,
        StarGAN,
        StyleConditionedVAE,
        StyleContentGAN,
    )

try:
    __version__ = version("animestyle")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [  # noqa: RUF022  (the order of the docs: entry point, data, then the methods by paper)
    "__version__",
    "load",
    "AnimeFacesDataModule",
    "SyntheticSource",
    "SyntheticPortraits",
    "GADNStage1",
    "GADNClassifierPretrain",
    "GADNStage2",
    "MetricStyleEncoder",
    "StyleConditionedVAE",
    "StyleContentGAN",
    "AttributeEditor",
    "AttributeClassifier",
    "DualDiscriminatorNST",
    "EncoderDiscriminatorNST",
    "AdaIN",
    "GatysNST",
    "StarGAN",
]
_HOMES = {
    "load": "animestyle.inference",
    "AnimeFacesDataModule": "animestyle.data.datamodule",
    "SyntheticSource": "animestyle.data.datamodule",
    "SyntheticPortraits": "animestyle.data.synthetic",
    **{name: "animestyle.methods" for name in __all__[5:]},  # the method classes
}


__getattr__ = lazy_exports(__name__, _HOMES)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
