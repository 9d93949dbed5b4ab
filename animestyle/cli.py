"""The ``animestyle`` command.

``animestyle fit|validate|test|predict --config <yaml>`` is LightningCLI: ``model`` selects
any LightningModule by ``class_path`` (the methods, or the synthetic oracle), ``data`` is
:class:`~animestyle.data.AnimeFacesDataModule`, and the data's ``num_artists`` and
``image_size`` are linked into the model. Tools that train nothing are subcommands of their
own, parsed from their function signatures: ``animestyle prepare``, ``animestyle contact-sheet``,
``animestyle oracle``, ``animestyle explore``, ``animestyle style-report``, ``animestyle edit``
(attribute edits of image files with an AttributeEditor checkpoint), ``animestyle
edit-report`` (its reconstruction and edit scores, the ANIMEGAN report's Sec. 5),
``animestyle transfer`` (the style of a style image onto content images, with either
approach of conditional adversarial style transfer) and ``animestyle nst-report`` (its
transfers scored against the synthetic ground truth).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any

import jsonargparse
import lightning as L
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from animestyle.data import AnimeFacesDataModule
from animestyle.data.prepare import PrepareReport, prepare
from animestyle.data.synthetic.sheet import save_contact_sheet
from animestyle.methods.base import CheckpointError, NonFiniteLossError
from animestyle.methods.edit_tool import edit
from animestyle.methods.nst.tool import transfer
from animestyle.methods.style_space.tool import explore
from animestyle.metrics import oracle as oracle_module
from animestyle.metrics.attribute_editing import edit_report
from animestyle.metrics.reference_transfer import nst_report
from animestyle.metrics.style_space import style_report

__all__ = ["TOOLS", "AnimeStyleCLI", "main"]


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
}

_DESCRIPTION = (
    "animestyle: style and content of anime illustrations. Train with "
    "`animestyle fit --config <yaml>` (fit, validate, test and predict are LightningCLI). "
    f"Tools: {', '.join(f'`animestyle {name} --help`' for name in TOOLS)}."
)


class AnimeStyleCLI(LightningCLI):
    """LightningCLI with the DataModule's ``num_artists``, ``image_size``, ``channels`` and
    ``attribute_names`` linked into the model (a model without such an argument ignores it)."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.num_artists", "model.init_args.num_artists", apply_on="instantiate")
        parser.link_arguments("data.image_size", "model.init_args.image_size")
        parser.link_arguments("data.channels", "model.init_args.channels")
        parser.link_arguments("data.attribute_names", "model.init_args.attribute_names", apply_on="instantiate")

    def instantiate_classes(self) -> None:
        """Build data, model and trainer; a ValueError from a constructor (bad config value)
        becomes a one-line usage error instead of a traceback."""
        try:
            super().instantiate_classes()
        except ValueError as error:
            self.parser.error(str(_root_cause(error)))


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
    try:
        _train(args, argv is None)
    except (CheckpointError, NonFiniteLossError) as error:  # bad input checkpoint, NaN loss: say which, no traceback
        raise SystemExit(f"animestyle: error: {error}") from None


def _train(args: list[str], from_sys_argv: bool) -> None:
    # LightningCLI reads sys.argv itself; giving it the same list again makes it warn.
    AnimeStyleCLI(
        L.LightningModule,
        AnimeFacesDataModule,
        subclass_mode_model=True,
        save_config_kwargs={"overwrite": True},
        parser_kwargs={
            "prog": "animestyle",
            "description": _DESCRIPTION,
            "default_env": True,
            "env_prefix": "ANIMESTYLE",
            # one dict each: LightningCLI writes each subcommand's description into its dict
            **{name: {"default_env": True} for name in LightningCLI.subcommands()},
        },
        args=None if from_sys_argv else args,
    )


if __name__ == "__main__":
    main()
