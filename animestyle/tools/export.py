"""``animestyle export``: a checkpoint as a folder that rebuilds the model without pickle or
Lightning (``model.safetensors`` + ``config.json``), and optionally a ``torch.export``
program of its transfer function (``transfer.pt2``). :func:`animestyle.load` reads the folder."""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from animestyle import __version__
from animestyle.inference import load_checkpoint
from animestyle.tools.files import write_all

__all__ = ["export"]

FORMAT = "animestyle-export"
CONFIG, WEIGHTS, PROGRAM = "config.json", "model.safetensors", "transfer.pt2"

# Constructor arguments that name input files whose weights the checkpoint already holds:
# exported as None, the model rebuilds without them (GADNStage2 then takes its widths from
# its own arguments, the style-space VAE and GAN their earlier stages' records from
# style_record / content_record, EncoderDiscriminatorNST its backbone from the weights).
INPUT_FILES = ("stage1_checkpoint", "classifier_checkpoint", "style_checkpoint", "content_checkpoint", "style_weights")


def export(checkpoint: str, out_dir: str, *, torch_export: bool = False, overwrite: bool = False) -> list[Path]:
    """Write a checkpoint as a folder that ``animestyle.load(OUT_DIR)`` rebuilds without pickle.

    ``model.safetensors`` holds the weights, ``config.json`` the method, its constructor
    arguments, the record (artists, attributes, image size, channels) and the package
    version.

    Nothing is written on error: the files go to a temporary folder beside ``out_dir`` that
    is renamed at the end.

    Args:
        checkpoint: a ``.ckpt`` written by ``animestyle fit`` (any method).
        out_dir: the folder to write; it must not exist, be empty or hold an earlier export
            (replaced), unless ``overwrite``.
        torch_export: also write ``transfer.pt2``, a ``torch.export`` program of the transfer
            function: inputs ``(x, artist)`` for GADN, ``(x, reference)`` for
            reference-guided methods, ``(x, diff)`` (the editor's generator) for the
            attribute editor; load it with ``torch.export.load``. Skipped, with a message,
            for methods that neither transfer nor edit.
        overwrite: replace ``out_dir`` even when it holds other files.

    Returns:
        the files written.
    """
    out = Path(out_dir)
    _check_out_dir(out, overwrite)
    module, record = load_checkpoint(checkpoint)
    program = _program(module, record) if torch_export else None  # before anything is written
    config = {
        "format": FORMAT,
        "animestyle_version": __version__,
        "method": record["method"],
        "arguments": _arguments(module),
        "animestyle": _json_safe(record, "the checkpoint's record"),
    }
    target = out.resolve()  # "." or "exported/" have a name and a parent to rename in
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _write(module, config, program, staging)
        _replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return write_all(sorted(out / path.name for path in out.iterdir()))


def _check_out_dir(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"out_dir={str(out)!r} is a file; give a folder that does not exist")
    if overwrite or not out.exists() or not any(out.iterdir()) or _is_export(out):
        return
    raise ValueError(
        f"out_dir={str(out)!r} holds other files than an animestyle export; give a new or empty folder, "
        "or --overwrite true to replace it"
    )


def _is_export(folder: Path) -> bool:
    """Whether ``folder`` holds an earlier export and nothing else."""
    if not {path.name for path in folder.iterdir()} <= {CONFIG, WEIGHTS, PROGRAM} or not (folder / CONFIG).is_file():
        return False
    try:
        return json.loads((folder / CONFIG).read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _arguments(module: Any) -> dict[str, Any]:
    """The constructor arguments the checkpoint saved (its ``hyper_parameters``, as the
    loaded module holds them), JSON-safe, with the input files dropped."""
    arguments = dict(module.hparams)
    arguments.update({name: None for name in INPUT_FILES if name in arguments})
    return {name: _json_safe(value, f"hyper_parameters[{name!r}]") for name, value in arguments.items()}


def _json_safe(value: Any, where: str) -> Any:
    """``value`` as JSON types (tuples as lists, paths as strings); ValueError naming
    ``where`` for anything else."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_safe(item, where) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_safe(item, f"{where}[{key!r}]") for key, item in value.items()}
    raise ValueError(f"{where} is a {type(value).__name__}, which config.json cannot hold; it cannot be exported")


def _write(module: Any, config: dict[str, Any], program: Any, folder: Path) -> None:
    from safetensors.torch import save_file

    state = {name: tensor.detach().cpu().contiguous() for name, tensor in module.state_dict().items()}
    save_file(state, str(folder / WEIGHTS), metadata={"format": FORMAT, "method": config["method"]})
    (folder / CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    if program is not None:
        torch.export.save(program, str(folder / PROGRAM))


def _replace(staging: Path, out: Path) -> None:
    """Put ``staging`` where ``out`` is; the old ``out`` goes only once the new one is there."""
    if not out.exists():
        staging.rename(out)
        return
    old = out.with_name(f"{staging.name}.old")
    out.rename(old)
    staging.rename(out)
    shutil.rmtree(old)


class _Transfer(nn.Module):
    """The transfer function of a method as a module of two tensors, for ``torch.export``."""

    def __init__(self, module: Any, name: str) -> None:
        super().__init__()
        self.module = module
        self.name = name

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        if self.name == "generator":  # the attribute editor: images and attribute differences
            return self.module.generator(x, condition).clamp(-1, 1)
        if self.name == "transfer_like" and callable(getattr(self.module, "generate_with", None)):
            # conditional adversarial NST: its transfer() less the argument checks, whose len()
            # would fix the batch size of the program
            networks = self.module.networks(averaged=True)
            return self.module.generate_with(networks, x, condition).float().clamp(-1, 1)
        return getattr(self.module, self.name)(x, condition).float().clamp(-1, 1)


def example_inputs(module: Any, record: dict[str, Any]) -> tuple[str, tuple[torch.Tensor, torch.Tensor]] | None:
    """The function :func:`export` exports for ``module`` and example inputs (a batch of 2):
    ``transfer_to_artists`` (x, artist), ``transfer_like`` (x, reference) or the editor's
    ``generator`` (x, diff); None for a method with none."""
    size = int(record["image_size"])
    x = torch.zeros(2, len(str(record.get("channels", "rgb"))), size, size)
    if callable(getattr(module, "transfer_to_artists", None)):
        return "transfer_to_artists", (x, torch.zeros(2, dtype=torch.long))
    if callable(getattr(module, "transfer_like", None)):
        return "transfer_like", (x[:, :3], x[:, :3].clone())
    if callable(getattr(module, "edit", None)) and isinstance(getattr(module, "generator", None), nn.Module):
        return "generator", (x[:, :3], torch.zeros(2, len(record.get("attribute_names") or [])))
    return None


def _program(module: Any, record: dict[str, Any]) -> Any:
    found = example_inputs(module, record)
    if found is None:
        print(f"skipped {PROGRAM}: {record['method']} neither transfers nor edits, so it has no transfer function")
        return None
    name, inputs = found
    wrapper = _Transfer(module, name).eval()
    batch = torch.export.Dim("batch", min=1)
    dynamic = ({0: batch}, {0: batch})
    with torch.no_grad(), warnings.catch_warnings():
        # eval() inside the methods' evaluating(): the model is in eval mode already
        warnings.filterwarnings("ignore", "While compiling, we found certain side effects")
        # any batch size: traced without Python (fast), else by TorchDynamo, which keeps a
        # len(x) in the method's code symbolic
        for strict in (False, True):
            try:
                return torch.export.export(wrapper, inputs, dynamic_shapes=dynamic, strict=strict)
            except Exception:  # the next way, then a fixed batch size
                continue
        print(f"{PROGRAM} of {record['method']} takes batches of exactly 2 images (its code fixes the batch size)")
        return torch.export.export(wrapper, inputs)
