"""The ``animestyle`` command.

``animestyle fit|validate|test --config <yaml>`` is LightningCLI (:class:`AnimeStyleCLI`):
``model`` selects any LightningModule by ``class_path`` (the methods, or the synthetic
oracle), ``data`` is :class:`~animestyle.data.AnimeFacesDataModule`, and the data's
``num_artists``, ``image_size``, ``channels`` and ``attribute_names`` are linked into the
model. ``predict`` is not offered. Tools that train nothing are subcommands of their own,
parsed from their function signatures (:mod:`animestyle.tools`, one file each): ``prepare``,
``contact-sheet``, ``oracle``, ``explore``, ``style-report``, ``transfer`` (image files or
whole illustrations redrawn by an artist or in the style of a style image, with any method
that can), ``edit`` (attribute edits), ``export`` (a checkpoint as safetensors and JSON),
``edit-report`` and ``nst-report``.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jsonargparse
import lightning as L
import torch
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities.model_helpers import is_overridden

from animestyle.data import AnimeFacesDataModule
from animestyle.data.datamodule import MissingSplitError
from animestyle.data.prepare import PrepareReport, prepare
from animestyle.data.synthetic.sheet import save_contact_sheet
from animestyle.methods.base import CheckpointError, NonFiniteLossError
from animestyle.tools import (
    demo,
    edit,
    edit_report,
    evaluate,
    explore,
    export,
    nst_report,
    oracle,
    style_report,
    transfer,
)

__all__ = ["TOOLS", "AnimeStyleCLI", "main"]


@functools.wraps(prepare)
def _prepare(*args: Any, **kwargs: Any) -> PrepareReport:
    try:
        report = prepare(*args, **kwargs)
    except KeyboardInterrupt:  # Ctrl-C after the crops, before the manifest: the journal holds every crop
        print("interrupted before the manifest was written: run the same command again to continue")
        raise SystemExit(130) from None
    if report.interrupted:
        raise SystemExit(130)  # the shell's code for Ctrl-C: the run is not complete
    return report


# Subcommands that are plain functions; each one's signature is its flags, its docstring its help.
TOOLS: dict[str, Callable[..., Any]] = {
    "prepare": _prepare,
    "contact-sheet": save_contact_sheet,
    "oracle": oracle,
    "explore": explore,
    "style-report": style_report,
    "edit": edit,
    "edit-report": edit_report,
    "transfer": transfer,
    "nst-report": nst_report,
    "export": export,
    "evaluate": evaluate,
    "demo": demo,
}

_DESCRIPTION = (
    "animestyle: style and content of anime illustrations. Train with "
    "`animestyle fit --config <yaml>` (fit, validate and test are LightningCLI). "
    f"Tools: {', '.join(f'`animestyle {name} --help`' for name in TOOLS)}."
)


# The DataModule's facts linked into the model's arguments, and when each is known: the
# number of artists and the attribute names once the DataModule is built, the rest at parsing.
_LINKS = {"num_artists": "instantiate", "image_size": "parse", "channels": "parse", "attribute_names": "instantiate"}

_NO_PREDICT = (
    "animestyle predict is not offered: `animestyle transfer` writes style transfers of image files and "
    "`animestyle edit` attribute edits (see their --help)"
)
_NO_OPTIMIZER = (
    "{flag} is not offered: each method builds its own optimizers and learning-rate schedules from its "
    "arguments: model.init_args.lr (and lr_style, betas, warmup or lr_decay_iteration where it has them) "
    "and, in most methods, model.init_args.optimizer (e.g. --model.init_args.optimizer torch.optim.AdamW); "
    "`animestyle fit --model.help <class>` lists a method's arguments"
)


class AnimeStyleCLI(LightningCLI):
    """LightningCLI for the methods: ``fit``, ``validate`` and ``test``.

    - The DataModule's ``num_artists``, ``image_size``, ``channels`` and ``attribute_names``
      are linked into the model (a model without such an argument is not given it); on
      ``--ckpt_path`` they come from the data again, never from the checkpoint.
    - ``predict`` is not offered (no method predicts from a batch), nor are ``--optimizer``
      and ``--lr_scheduler``: each method builds the optimizers of its networks from its own
      arguments; :func:`main` refuses them in one line.
    - ``WANDB_MODE=disabled`` removes any ``WandbLogger`` a config asks for.
    """

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        """LightningCLI's subcommands but ``predict``: no method has a ``predict_step``."""
        return {name: skip for name, skip in LightningCLI.subcommands().items() if name != "predict"}

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        for name, apply_on in _LINKS.items():
            parser.link_arguments(f"data.{name}", f"model.init_args.{name}", apply_on=apply_on)

    def _parse_ckpt_path(self) -> None:
        """As LightningCLI's (with ``--ckpt_path`` the checkpoint's hyperparameters become the
        model's arguments), less the values linked from the data. Lightning saves a link target
        even for a model that does not take it (``attribute_names`` in GADN), and giving it
        back breaks resuming (Lightning issue 20801); the link sets them again anyway.
        Overrides a private method of LightningCLI 2.6; tests/test_cli_subcommands.py resumes
        every method through the command."""
        subcommand = self.config.get("subcommand")
        path = subcommand and self.config[subcommand].get("ckpt_path")
        if not path or not Path(path).is_file():
            return  # Lightning says what is wrong with the path when it reads it
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except Exception as error:  # a truncated or foreign file: say which one
            raise CheckpointError(f"ckpt_path={path!r} is not a readable checkpoint ({error})") from None
        hparams = {
            key: value
            for key, value in (checkpoint.get("hyper_parameters", {}) if isinstance(checkpoint, dict) else {}).items()
            if key not in _LINKS and key != "_instantiator"
        }
        if "_class_path" in hparams:
            hparams = {"class_path": hparams.pop("_class_path"), "dict_kwargs": hparams}
        if hparams:
            self.config = self.parser.parse_object({subcommand: {"model": hparams}}, self.config)

    def before_instantiate_classes(self) -> None:
        """``WANDB_MODE=disabled`` turns W&B off whatever the config says (a ``WandbLogger``
        with ``offline: true`` would otherwise set W&B's mode itself)."""
        if os.environ.get("WANDB_MODE") == "disabled" and self.subcommand is not None:
            trainer = self.config[self.subcommand].trainer
            trainer.logger = _without_wandb(trainer.logger)

    def instantiate_classes(self) -> None:
        """Build data, model and trainer; a ValueError from a constructor (bad config value)
        becomes a one-line usage error instead of a traceback."""
        try:
            super().instantiate_classes()
        except ValueError as error:
            self.parser.error(str(_root_cause(error)))

    def before_validate(self) -> None:
        self._check_evaluates("validate", "validation_step")

    def before_test(self) -> None:
        self._check_evaluates("test", "test_step")

    def _check_evaluates(self, subcommand: str, step: str) -> None:
        """One line, not Lightning's traceback, when the model cannot run ``subcommand``."""
        if not is_overridden(step, self.model):
            name = type(self.model).__name__
            raise SystemExit(f"animestyle {subcommand}: error: {name} has no {step}, so it cannot run {subcommand}")


def _without_wandb(logger: Any) -> Any:
    """The ``trainer.logger`` setting (a bool, one logger or a list) without its WandbLoggers;
    False when none is left."""
    loggers = logger if isinstance(logger, list) else [logger]
    kept = [one for one in loggers if not str(getattr(one, "class_path", "")).endswith("WandbLogger")]
    if len(kept) == len(loggers):
        return logger
    return kept if isinstance(logger, list) and kept else (kept[0] if kept else False)


def _root_cause(error: BaseException) -> BaseException:
    """The error our code raised, not jsonargparse's wrapper around it (which lists every
    type the value failed to match)."""
    while isinstance(
        cause := error.__cause__ or (None if error.__suppress_context__ else error.__context__), ValueError
    ):
        error = cause
    return error


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``animestyle`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in TOOLS:
        try:
            jsonargparse.CLI(TOOLS[args[0]], args=args[1:], prog=f"animestyle {args[0]}")
        except (ValueError, RuntimeError) as error:  # bad input or setup: one line naming it, not a traceback
            raise SystemExit(f"animestyle {args[0]}: error: {error}") from None
        return
    if args and args[0] == "predict":
        raise SystemExit(_NO_PREDICT)
    for arg in args:
        flag = arg.split("=")[0].split(".")[0]
        if flag in ("--optimizer", "--lr_scheduler"):
            raise SystemExit(f"animestyle: error: {_NO_OPTIMIZER.format(flag=flag)}")
    try:
        _train(args, argv is None)
    except (CheckpointError, NonFiniteLossError, MissingSplitError) as error:  # bad input: say which, no traceback
        raise SystemExit(f"animestyle: error: {error}") from None


def _train(args: list[str], from_sys_argv: bool) -> None:
    # LightningCLI reads sys.argv itself; giving it the same list again makes it warn.
    AnimeStyleCLI(
        L.LightningModule,
        AnimeFacesDataModule,
        subclass_mode_model=True,
        save_config_kwargs={"overwrite": True},
        auto_configure_optimizers=False,  # each method's configure_optimizers builds several from its arguments
        parser_kwargs={
            "prog": "animestyle",
            "description": _DESCRIPTION,
            "default_env": True,
            "env_prefix": "ANIMESTYLE",
            # one dict each: LightningCLI writes each subcommand's description into its dict
            **{name: {"default_env": True} for name in AnimeStyleCLI.subcommands()},
        },
        args=None if from_sys_argv else args,
    )


if __name__ == "__main__":
    main()
