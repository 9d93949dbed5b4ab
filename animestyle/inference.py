"""Trained models from files: the one place that turns a checkpoint into a ready model, and
image files into the batches it reads. Every tool (``animestyle transfer``, ``edit``,
``explore``, the reports) loads through here.

Layers: this module sits above :mod:`animestyle.methods` and below :mod:`animestyle.tools`.
"""

from __future__ import annotations

import difflib
import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from animestyle.data.prepare.detect import detect_faces
from animestyle.data.prepare.geometry import crop_box, paste_back, upright_crop
from animestyle.images import load_image
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
from animestyle.methods.base import AnimeStyleModule, CheckpointError, read_checkpoint

__all__ = ["METHODS", "Images", "Model", "load", "load_checkpoint", "load_export", "load_images"]

METHODS: dict[str, type[AnimeStyleModule]] = {
    method.__name__: method
    for method in (
        GADNStage1,
        GADNClassifierPretrain,
        GADNStage2,
        MetricStyleEncoder,
        StyleConditionedVAE,
        StyleContentGAN,
        AttributeEditor,
        AttributeClassifier,
        DualDiscriminatorNST,
        EncoderDiscriminatorNST,
        AdaIN,
        GatysNST,
        StarGAN,
    )
}
"""Every method whose checkpoints load, by the name a checkpoint records."""

_FIX = "give a .ckpt written by animestyle fit (outputs/<method>/.../checkpoints/last.ckpt)"


def load_checkpoint(
    path: str | Path,
    methods: Sequence[str] = tuple(METHODS),
    *,
    argument: str = "checkpoint",
    fix: str = _FIX,
) -> tuple[Any, dict[str, Any]]:
    """The model of a checkpoint written by one of ``methods``, in eval mode on the CPU, and
    its record (``method``, ``image_size``, ``num_artists``, ...).

    Read with ``weights_only=True``: a checkpoint cannot run code. Files the model was built
    from (a pretrained backbone's weights, an earlier stage's checkpoint) need not exist any
    more: the checkpoint holds their weights.

    Args:
        path: the ``.ckpt`` file.
        methods: the method class names accepted (default: all).
        argument: the name of the argument that gave ``path``, for the error.
        fix: what the user should do instead, for the error.

    Raises:
        CheckpointError: naming ``argument`` and the file, when it is missing, unreadable,
            not an animestyle checkpoint or of another method.
    """
    saved = read_checkpoint(path, argument, tuple(methods), fix)
    record = saved["animestyle"]
    cls, saved_arguments = METHODS[record["method"]], saved.get("hyper_parameters", {})
    overrides = {"style_weights": None} if "style_weights" in saved_arguments else {}
    overrides.update(_legacy_arguments(cls, saved_arguments))
    overrides.update(_without_compiling(saved_arguments))
    model = cls.load_from_checkpoint(path, map_location="cpu", weights_only=True, **overrides)
    return model.eval(), record


_EXPORT_FIX = "give a folder written by `animestyle export CHECKPOINT OUT_DIR`, or a .ckpt written by animestyle fit"


def load_export(folder: str | Path) -> tuple[Any, dict[str, Any]]:
    """The model of a folder written by ``animestyle export``, in eval mode on the CPU, and
    its record: the class named in ``config.json`` built from its constructor arguments,
    with the weights of ``model.safetensors`` (strict). No pickle and no Lightning
    checkpoint are read.

    Raises:
        CheckpointError: naming the file, when ``config.json`` or ``model.safetensors`` is
            missing or unreadable, names an unknown method or does not fit the weights.
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    config_path, weights_path = folder / "config.json", folder / "model.safetensors"
    if not config_path.is_file():
        raise CheckpointError(f"{str(config_path)!r} does not exist; {_EXPORT_FIX}")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        method, arguments, record = config["method"], dict(config["arguments"]), dict(config["animestyle"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"{str(config_path)!r} is not an animestyle export ({error!r}); {_EXPORT_FIX}") from None
    if method not in METHODS:
        raise CheckpointError(f"{str(config_path)!r} names an unknown method {method!r}; it knows {sorted(METHODS)}")
    if not weights_path.is_file():
        raise CheckpointError(f"{str(weights_path)!r} does not exist; {_EXPORT_FIX}")
    cls = METHODS[method]
    arguments.update({**_legacy_arguments(cls, arguments), **_without_compiling(arguments)})
    module = cls(**_constructor_arguments(cls, arguments))
    try:
        module.load_state_dict(load_file(weights_path), strict=True)
    except Exception as error:  # a truncated file, or weights of another model
        raise CheckpointError(
            f"{str(weights_path)!r} does not fit {str(config_path)!r} ({error}); {_EXPORT_FIX}"
        ) from None
    return module.eval(), record


def _without_compiling(arguments: dict[str, Any]) -> dict[str, Any]:
    """Training speed-ups that compile on first use (``compile``, ``fuse``: a C++ compiler on
    a CPU), switched off where ``arguments`` turn them on: a loaded model runs wherever it is
    loaded, not where it trained, and computes the same without them."""
    return {name: False for name in ("compile", "fuse") if arguments.get(name)}


def _legacy_arguments(cls: type[AnimeStyleModule], arguments: dict[str, Any]) -> dict[str, Any]:
    """The constructor arguments that ``arguments``, saved by an earlier animestyle, lack
    and whose default has changed since: the values those models were built with
    (``cls.legacy_arguments``)."""
    legacy: dict[str, Any] = getattr(cls, "legacy_arguments", {})
    return {name: value for name, value in legacy.items() if name not in arguments}


def _constructor_arguments(cls: type[AnimeStyleModule], arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` as JSON gave them back, with a list made a tuple again where the
    constructor's default or annotation is a tuple (JSON has no tuples)."""
    parameters = inspect.signature(cls).parameters
    kwargs = {}
    for name, value in arguments.items():
        if name not in parameters:
            continue  # as Lightning: saved hyperparameters that the constructor does not take
        parameter = parameters[name]
        tuple_typed = isinstance(parameter.default, tuple) or "tuple" in str(parameter.annotation)
        kwargs[name] = tuple(value) if isinstance(value, list) and tuple_typed else value
    return kwargs


def load(path: str | Path, device: str | torch.device | None = None) -> Model:
    """The trained model of any animestyle checkpoint, ready to use: eval mode, on ``device``,
    behind the one interface of :class:`Model` (``transfer``, ``edit``, ``encode``,
    ``artists``, ``attributes``, ...).

    Args:
        path: a ``.ckpt`` written by ``animestyle fit`` for any method of :data:`METHODS`,
            or a folder written by ``animestyle export`` (see :func:`load_export`).
        device: where to run it; None: CUDA when available, else the CPU.

    Raises:
        CheckpointError: when the file is missing, unreadable or not an animestyle
            checkpoint, or the folder not an export.
    """
    module, record = load_export(path) if Path(path).is_dir() else load_checkpoint(path)
    return Model(module.to(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu")), record)


def load_images(paths: Sequence[str | Path], size: int) -> torch.Tensor:
    """Image files as one batch (N, 3, size, size) in [-1, 1], transparent pixels mid grey:
    every file is read before any work starts, so a bad one stops the command before it
    writes anything.

    Raises:
        ValueError: naming the first file that is missing or not a readable image.
    """
    return torch.stack([load_image(p, size) for p in paths])


Images: TypeAlias = "torch.Tensor | Image.Image | str | Path | Sequence[Image.Image | str | Path]"
"""What :class:`Model` takes and gives back: a (B, C, H, W) or (C, H, W) tensor in [-1, 1], a
PIL image, an image file's path, or a list of images and paths."""


class Model:
    """Every trained method behind one interface.

    ``transfer(images, artist=...)`` redraws images by an artist of the training data (GADN
    stages 1 and 2), ``transfer(images, reference=...)`` in the style of a style image (the
    style-space VAE and GAN, both reference-guided style-transfer approaches),
    ``edit(images, smile=True, ...)`` changes attributes (the attribute editor) and
    ``encode(images)`` gives the method's codes. An operation a method cannot do raises a
    ValueError naming the ones it can.

    Images come in as a tensor (B, C, H, W) or (C, H, W) in [-1, 1], a PIL image, a path, or a
    list of PIL images and paths, and the result comes back in the same kind (a PIL image for
    each PIL image or path, at that picture's size). Pictures that are not square are padded
    to a square with transparent pixels for the model (never squashed) and the result is
    cropped back. Tensors must already be at the model's ``image_size``. Long lists run in
    batches of ``batch_size`` with a progress bar.

    Attributes:
        module: the method's LightningModule, in eval mode.
        method: its class name, e.g. ``"GADNStage2"``.
        artists: the artist names of its training data, in label order ([] if unknown).
        attributes: the attribute names it edits or was trained with ([] if none).
        image_size: side of the square images it reads and draws.
        channels: ``"rgb"`` or ``"rgba"`` (alpha as a 4th input channel).
    """

    def __init__(self, module: Any, record: dict[str, Any]) -> None:
        self.module = module.eval()
        self.method: str = record["method"]
        count = int(record.get("num_artists") or 0)
        self.artists: list[str] = list(record.get("artist_names") or [f"artist {k}" for k in range(count)])
        self.attributes: list[str] = list(record.get("attribute_names") or [])
        self.image_size: int = int(record["image_size"])
        self.channels: str = str(record.get("channels", "rgb"))

    @property
    def device(self) -> torch.device:
        return next(iter(self.module.parameters())).device

    def operations(self) -> list[str]:
        """What this model can do, as calls: e.g. ``["transfer(images, artist=...)", "encode(images)"]``."""
        can = {
            "transfer(images, artist=...)": "transfer_to_artists",
            "transfer(images, reference=...)": "transfer_like",
            "edit(images, <attribute>=True/False, ...)": "edit",
            "encode(images)": "encode",
        }
        return [call for call, name in can.items() if callable(getattr(self.module, name, None))]

    def _kernel(self, name: str, call: str) -> Any:
        kernel = getattr(self.module, name, None)
        if not callable(kernel):
            can = ", ".join(self.operations()) or "none of transfer, edit and encode"
            raise ValueError(f"{self.method} cannot {call}; it can: {can}")
        return kernel

    def artist_index(self, artist: int | str) -> int:
        """The label of ``artist``, given by name or index; ValueError naming the closest names."""
        if isinstance(artist, bool) or not isinstance(artist, int | str):
            raise ValueError(f"artist={artist!r} must be a name or an index")
        if isinstance(artist, int) or artist.isdigit():
            index = int(artist)
            if not 0 <= index < len(self.artists):
                raise ValueError(f"artist={artist!r} is not an index of this model's {len(self.artists)} artists")
            return index
        if artist in self.artists:
            return self.artists.index(artist)
        close = difflib.get_close_matches(artist, self.artists, n=5)
        hint = f"closest: {', '.join(close)}" if close else f"it knows {len(self.artists)}, e.g. {self.artists[:5]}"
        raise ValueError(f"artist={artist!r} is not one of this model's artists; {hint}")

    @torch.no_grad()
    def transfer(
        self,
        images: Images,
        artist: int | str | None = None,
        reference: Images | None = None,
        batch_size: int = 32,
    ) -> Any:
        """``images`` redrawn by ``artist`` (a name or index of :attr:`artists`) or in the
        style of ``reference`` (one style image, or one per image); the same kind as ``images``."""
        if (artist is None) == (reference is None):
            raise ValueError("give either artist=<name or index> or reference=<style image>, not both or neither")
        if artist is not None:
            kernel = self._kernel("transfer_to_artists", "transfer(images, artist=...)")
            index = self.artist_index(artist)
            return self._map(
                images,
                batch_size,
                lambda x, k: kernel(x, torch.full((len(x),), index, device=x.device)),
                "transferring",
            )
        kernel = self._kernel("transfer_like", "transfer(images, reference=...)")
        assert reference is not None  # checked above
        style = self._batch(reference, self.channels)[0].to(self.device)
        count = len(_batched(images)) if isinstance(images, torch.Tensor) else len(_as_list(images))
        if len(style) not in (1, count):
            raise ValueError(f"reference holds {len(style)} images for {count} images: give one, or one for each")
        return self._map(
            images,
            batch_size,
            lambda x, k: kernel(x, style if len(style) == 1 else style[k : k + len(x)]),
            "transferring",
        )

    @torch.no_grad()
    def edit(self, images: Images, strength: float = 1.0, batch_size: int = 32, **attributes: bool | float) -> Any:
        """``images`` with the named attributes set (``smile=True, blush=False``); the others
        keep the value the editor reads from each image. The same kind as ``images``."""
        kernel = self._kernel("edit", "edit(images, ...)")
        if not attributes:
            raise ValueError(f"name the attributes to set, e.g. {self.attributes[0]}=True; known: {self.attributes}")
        unknown = [name for name in attributes if name not in self.attributes]
        if unknown:
            raise ValueError(f"attributes {unknown} are not this model's; it knows {self.attributes}")
        changes = {name: float(value) for name, value in attributes.items()}
        return self._map(images, batch_size, lambda x, k: kernel(x, changes, None, strength), "editing")

    @torch.no_grad()
    def encode(self, images: Images, batch_size: int = 32) -> torch.Tensor:
        """The method's codes of ``images``, (N, D) on the CPU (content codes for GADN and the
        VAE, style codes for the style encoder, style then content for the GAN)."""
        kernel = self._kernel("encode", "encode(images)")
        x, _ = self._batch(images, self.channels)
        parts = [kernel(x[k : k + batch_size].to(self.device)).float().cpu() for k in range(0, len(x), batch_size)]
        return torch.cat(parts)

    @torch.no_grad()
    def read_attributes(self, images: Images) -> torch.Tensor:
        """The probability of each of :attr:`attributes` in each image, (N, A) on the CPU, as
        the attribute editor's discriminator reads them."""
        kernel = self._kernel("predict_attributes", "read_attributes(images)")
        x, _ = self._batch(images, self.channels)
        return kernel(x.to(self.device)).float().cpu()

    def tensors(self, images: Images) -> torch.Tensor:
        """Images as the batch the model reads: (N, 3, S, S) in [-1, 1] on the CPU, pictures
        padded to a square with transparent (mid grey) pixels, never squashed."""
        return self._batch(images, "rgb")[0]

    # -- images in and out --

    def _batch(self, images: Images, channels: str) -> tuple[torch.Tensor, list[tuple[int, int]] | None]:
        """Images as one batch at the model's size, and the size of each picture (None for a tensor)."""
        if isinstance(images, torch.Tensor):
            x = _batched(images)
            shape = (len(channels), self.image_size, self.image_size)
            if x.ndim != 4 or tuple(x.shape[1:]) != shape:
                raise ValueError(
                    f"images must be (B, {', '.join(map(str, shape))}) in [-1, 1] for {self.method}; got "
                    f"{tuple(images.shape)} (give paths or PIL images to have them resized)"
                )
            return x, None
        pictures = [open_picture(item) for item in _as_list(images)]
        x = torch.stack([_square_tensor(picture, self.image_size, channels == "rgba") for picture in pictures])
        return x, [picture.size for picture in pictures]

    def _map(self, images: Images, batch_size: int, function: Any, desc: str) -> Any:
        """``function(x, start)`` over batches of ``images`` (``start``: the index of the
        batch's first image), the results in the kind ``images`` came in."""
        x, sizes = self._batch(images, self.channels)
        starts = range(0, len(x), batch_size)
        outputs = [
            function(x[k : k + batch_size].to(self.device), k).float().clamp(-1, 1).cpu()
            for k in tqdm(starts, desc=desc, unit="batch", disable=len(starts) < 2, leave=False)
        ]
        y = torch.cat(outputs)
        if isinstance(images, torch.Tensor):
            return y if images.ndim == 4 else y[0]
        pictures = [_unsquare(image, size) for image, size in zip(y, sizes or [], strict=True)]
        return pictures if isinstance(images, list | tuple) else pictures[0]


def _batched(images: torch.Tensor) -> torch.Tensor:
    return images[None] if images.ndim == 3 else images


def _as_list(images: Any) -> list[Any]:
    return list(images) if isinstance(images, list | tuple) else [images]


def open_picture(item: Image.Image | str | Path) -> Image.Image:
    """A picture as RGBA; ValueError naming a file that is missing or not an image."""
    if isinstance(item, Image.Image):
        return item.convert("RGBA")
    try:
        with Image.open(item) as opened:
            return opened.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read image {str(item)!r}: {error}") from None


def _square_tensor(picture: Image.Image, size: int, alpha: bool) -> torch.Tensor:
    """A picture padded to a square with transparent pixels (centred), resized to ``size`` by
    area averaging of premultiplied colour: (3 or 4, size, size), colour in [-1, 1] with
    transparent pixels mid grey, alpha in [0, 1]."""
    side = max(picture.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(picture, ((side - picture.width) // 2, (side - picture.height) // 2))
    if side != size:
        square = square.convert("RGBa").resize((size, size), Image.Resampling.BOX).convert("RGBA")
    pixels = torch.from_numpy(np.asarray(square, dtype=np.float32).copy()).permute(2, 0, 1)
    colour = (pixels[:3] / 127.5 - 1) * (pixels[3:] / 255)
    return torch.cat([colour, pixels[3:] / 255]) if alpha else colour


def _unsquare(image: torch.Tensor, size: tuple[int, int]) -> Image.Image:
    """The model's square output (3, S, S) in [-1, 1] back at the picture's ``size`` (W, H):
    scaled to the padded square, then the padding cropped off."""
    array = ((image[:3].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    width, height = size
    side = max(size)
    square = Image.fromarray(array).resize((side, side), Image.Resampling.LANCZOS)
    left, top = (side - width) // 2, (side - height) // 2
    return square.crop((left, top, left + width, top + height))


@dataclass(frozen=True)
class RestyledPicture:
    """What :func:`restyle_faces` made of one picture.

    Attributes:
        image: the whole picture, restyled where faces were found (a copy of it if none).
        faces: how many faces were found and restyled.
        crops: the faces as cut out (upright, RGBA), before restyling.
    """

    image: Image.Image
    faces: int
    crops: tuple[Image.Image, ...] = ()


def restyle_faces(
    model: Model,
    picture: Image.Image | str | Path,
    operation: Callable[[list[Image.Image]], list[Image.Image]],
    *,
    threshold: float = 0.5,
    scale: float = 1.9,
    lift: float = 0.0,
    feather: float = 0.12,
) -> RestyledPicture:
    """A whole illustration with only its faces restyled: each face AnimeFace finds is cut out
    as ``animestyle prepare`` cuts training crops (turned upright by the eyes, a square of
    ``scale`` face widths, transparent outside the picture), ``operation`` is applied to the
    crops, and each result is turned back and blended into the picture with a soft edge.

    Args:
        model: the model ``operation`` uses (its :attr:`Model.image_size` sets the crops' least size).
        picture: the illustration, any size (a PIL image or an image file).
        operation: the crops (PIL, RGBA) -> restyled crops, e.g.
            ``lambda faces: model.transfer(faces, artist="...")`` or
            ``lambda faces: model.edit(faces, smile=True)``.
        threshold: smallest detector likelihood of a face.
        scale: the crop's side in face widths, as in ``animestyle prepare`` (use the value the
            model's training data was prepared with).
        lift: the crop's shift up the face, as in ``animestyle prepare``.
        feather: the soft edge, as a fraction of the crop's side.

    Raises:
        RuntimeError: when the face detector cannot run here (see
            :func:`animestyle.data.prepare.detect.require_detector`).
        ValueError: when ``picture`` is not a readable image.
    """
    image = open_picture(picture) if not isinstance(picture, Image.Image) else picture
    faces = detect_faces(image, threshold)
    if not faces:
        return RestyledPicture(image.copy(), 0)
    boxes = [crop_box(face.eye_left, face.eye_right, face.box[2], scale, lift) for face in faces]
    crops = [upright_crop(image, box, max(model.image_size, round(box.side))) for box in boxes]
    restyled = operation(crops)
    result = image
    for box, face in zip(boxes, restyled, strict=True):
        result = paste_back(result, face, box, feather)
    return RestyledPicture(result, len(faces), tuple(crops))
