"""Mechanics shared by every method; no paper-specific maths.

``AnimeStyleModule`` records what a checkpoint holds (the method, its data shape), saves
and restores the random state so that a resumed run continues exactly, and checks that
checkpoints given as inputs come from the right method with the right number of artists.
Its ``validation_step`` and ``test_step`` both log the method's ``evaluation_step``, so that
``animestyle validate`` and ``animestyle test`` report the same measures.

``AdversarialModule`` adds manual optimisation the way Lightning needs it for GANs: one
``update`` per optimizer inside ``toggled_optimizer``; the method's own ``iteration``
counter (Lightning's ``global_step`` counts every optimizer step, so ``trainer.max_steps``
is iterations x optimizers); stepped LR schedules; and a check that stops at the first
non-finite loss term, naming it, before its update.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.trainer.states import TrainerFn
from torchmetrics import MeanMetric

from animestyle.nn.modes import eval_mode
from animestyle.rng import ResumesRandomState

__all__ = ["AdversarialModule", "AnimeStyleModule", "CheckpointError", "NonFiniteLossError", "read_checkpoint"]


class CheckpointError(ValueError):
    """A checkpoint given as input is missing, unreadable, or from the wrong method or data."""


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite; training stopped before the weights changed."""


def read_checkpoint(path: str | Path, argument: str, methods: tuple[str, ...], fix: str) -> dict[str, Any]:
    """Load the checkpoint ``path`` given as ``argument`` and check that an animestyle
    method in ``methods`` wrote it. ``fix`` says how to make the right one.

    Raises:
        CheckpointError: naming the argument, the path, what is wrong and ``fix``.
    """
    import animestyle.data.datamodule  # noqa: F401  (allows its SyntheticSource, kept in checkpoints, in weights_only loads)

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{argument}={str(path)!r} does not exist; {fix}")
    try:
        # weights_only: a config may name any file, and unpickling code from it would run it;
        # mmap: stage 2 reads a stage-1 checkpoint of ~2 GB at 256 px for a few tensors.
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # a truncated or foreign file: say which one
        raise CheckpointError(f"{argument}={str(path)!r} is not a readable checkpoint ({error}); {fix}") from None
    method = checkpoint.get("animestyle", {}).get("method") if isinstance(checkpoint, dict) else None
    if method not in methods:
        found = f"a {method} checkpoint" if method else "not an animestyle checkpoint"
        raise CheckpointError(f"{argument}={str(path)!r} is {found}; it must come from {' or '.join(methods)}. {fix}")
    return checkpoint


def check_same(argument: str, checkpoint: Mapping[str, Any], expected: Mapping[str, Any], fix: str) -> None:
    """CheckpointError unless the checkpoint's ``animestyle`` record agrees with ``expected``
    on every key (num_artists, image_size, widths, ...)."""
    record = checkpoint["animestyle"]
    for key, value in expected.items():
        if record.get(key) != value:
            raise CheckpointError(
                f"{argument} was trained with {key}={record.get(key)!r} but this run has {key}={value!r}; {fix}"
            )


def refuse_lab_data(module: L.LightningModule) -> None:
    """ValueError when the module trains on Lab batches (for methods whose networks and tools
    work in sRGB: editing, its classifier, reference-guided transfer)."""
    datamodule = getattr(module.trainer, "datamodule", None)
    if getattr(datamodule, "colour_space", "rgb") != "rgb":
        raise ValueError(f"{type(module).__name__} reads sRGB images; set data.colour_space: rgb")


class AnimeStyleModule(ResumesRandomState):
    """Base of every animestyle method.

    Subclasses fill :meth:`record` with what later stages must match (architecture, data).
    """

    def record(self) -> dict[str, Any]:
        """Facts written into every checkpoint under ``"animestyle"``; ``method`` is added."""
        return {}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Write :meth:`record` under ``"animestyle"``, with the method's name and the names
        of the data's artists and attributes (so a loaded model can say whom it draws)."""
        super().on_save_checkpoint(checkpoint)
        checkpoint["animestyle"] = {"method": type(self).__name__, **self.data_names(), **self.record()}

    def data_names(self) -> dict[str, list[str]]:
        """``artist_names`` and ``attribute_names`` of the data module being trained on, when
        there is one (a checkpoint saved without a Trainer's data module has none)."""
        datamodule = getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        names = {}
        for key in ("artist_names", "attribute_names"):
            value = getattr(datamodule, key, None)
            if value is not None:
                names[key] = [str(name) for name in value]
        return names

    def load_inputs(self) -> None:
        """Copy in the weights of the earlier stages' checkpoints this method starts from
        (GADN stage 2, the style-space VAE and GAN do); nothing by default. Called when a
        fresh run starts: ``fit``, and ``validate`` or ``test`` without a checkpoint of this
        method, which then score the starting point."""

    def on_validation_start(self) -> None:
        self._evaluate_from_inputs()

    def on_test_start(self) -> None:
        self._evaluate_from_inputs()

    def _evaluate_from_inputs(self) -> None:
        """``validate``/``test`` of a fresh model (no ``--ckpt_path``): start from the earlier
        stages' weights, as ``fit`` does in ``on_fit_start``."""
        fresh = int(getattr(self, "iteration", 0)) == 0
        if fresh and self.trainer.state.fn in (TrainerFn.VALIDATING, TrainerFn.TESTING):
            self.load_inputs()

    def evaluation_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        """Score one held-out batch and log each score as ``<stage>/<name>``; ``stage`` is
        ``"val"`` (validation, ``animestyle validate``) or ``"test"`` (``animestyle test``), so
        that both report the same measures. Every method implements it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement evaluation_step")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        """:meth:`evaluation_step` on a validation batch: ``val/<name>``."""
        self.evaluation_step(batch, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        """:meth:`evaluation_step` on a batch of the test split: ``test/<name>``."""
        self.evaluation_step(batch, "test")

    def log_measures(
        self, stage: str, values: Mapping[str, torch.Tensor], batch_size: int, prog_bar: tuple[str, ...] = ()
    ) -> None:
        """Log held-out measures as ``<stage>/<name>``: the mean over every image of the split.

        Each name keeps a torchmetrics ``MeanMetric`` (sums and counts), which DDP adds up
        across processes before the epoch's value is computed: a multi-GPU validation reports
        the score of the whole split, as one process does. ``values``: per-image scores (B,),
        or batch means (0-d) weighted by ``batch_size``."""
        for name, value in values.items():
            key = f"{stage}/{name}"
            metric = self._measure(key)
            value = value.detach().float()
            metric.update(value, float(batch_size) if value.ndim == 0 else 1.0)
            self.log(key, metric, prog_bar=name in prog_bar, metric_attribute=f"measures.{self._measure_key(key)}")

    @staticmethod
    def _measure_key(name: str) -> str:
        return name.replace("/", "__")

    def _measure(self, name: str) -> MeanMetric:
        """The ``MeanMetric`` of measure ``name``, made on first use (on the module's device).
        Its sums are not saved in checkpoints."""
        if "measures" not in self._modules:
            self.measures = torch.nn.ModuleDict()
        key = self._measure_key(name)
        if key not in self.measures:
            self.measures[key] = MeanMetric().to(self.device)
        return self.measures[key]  # type: ignore[return-value]


class AdversarialModule(AnimeStyleModule):
    """Manual optimisation for adversarial training.

    A ``training_step`` reads like the paper's algorithm::

        opt_g, opt_d = self.optimizers()
        with self.toggled_optimizer(opt_d):
            loss, parts = self.discriminator_loss(...)
            self.update(opt_d, loss, parts)
        ...
        self.finish_iteration()

    ``iteration`` counts training iterations (one per batch), is saved with the checkpoint,
    and drives schedules; ``trainer.max_steps`` counts optimizer steps.
    """

    iteration: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.register_buffer("iteration", torch.zeros((), dtype=torch.long))

    def optimizer_list(self) -> list[LightningOptimizer]:
        optimizers = self.optimizers()
        return list(optimizers) if isinstance(optimizers, list) else [optimizers]

    def check_finite(self, parts: Mapping[str, torch.Tensor]) -> None:
        """NonFiniteLossError naming the first NaN or infinite term and the iteration, before
        the update it would feed; the last checkpoint is left as it was.

        Under DDP every rank stops together (a rank stopping alone would leave the others
        waiting in their next all-reduce)."""
        finite = bool(torch.stack([torch.isfinite(v.detach()).all() for v in parts.values()]).all())
        if self._trainer is not None:
            finite = self.trainer.strategy.reduce_boolean_decision(finite, all=True)
        if finite:
            return
        bad = [(n, v) for n, v in parts.items() if not torch.isfinite(v.detach()).all()]
        term = (
            f"loss term {bad[0][0]!r} is {bad[0][1].detach().float().mean().item()}" if bad else "another rank's loss"
        )
        callback = getattr(self._trainer, "checkpoint_callback", None) if self._trainer else None
        last = getattr(callback, "last_model_path", "") or getattr(callback, "best_model_path", "")
        kept = f"the last checkpoint is kept: {last}" if last else "no checkpoint was saved before it"
        raise NonFiniteLossError(
            f"{type(self).__name__}: {term} at iteration {int(self.iteration)}; training stopped without "
            f"applying the update it feeds, and {kept}. "
            "Lower the learning rates or use precision 32 / bf16-mixed instead of 16-mixed."
        )

    def update(self, optimizer: LightningOptimizer, loss: torch.Tensor, parts: Mapping[str, torch.Tensor]) -> None:
        """Check ``parts``, then zero, backpropagate ``loss`` and step ``optimizer``; call it
        inside ``toggled_optimizer(optimizer)`` so that no other network gets gradients."""
        self.check_finite(parts)
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()

    def update_together(
        self, steps: Sequence[tuple[LightningOptimizer, torch.Tensor]], parts: Mapping[str, torch.Tensor]
    ) -> None:
        """A simultaneous update from one forward pass: check ``parts``, backpropagate each
        loss into its own optimizer's parameters only, then step every optimizer (GADN stage
        1's ``c1_update="together"``: one C1 forward feeds C1's loss and E/G's adversarial term).
        Refused under precision ``16-mixed``: Lightning updates the loss scale after each step."""
        if self.trainer.precision == "16-mixed":  # its loss scale may change at each step
            raise ValueError(
                "a simultaneous update (GADN's c1_update: together) cannot run with precision 16-mixed: "
                "the loss scale may change at the first optimizer's step, and the later optimizers' "
                "gradients would be unscaled by the new one; use bf16-mixed or 32-true, or c1_update: first"
            )
        self.check_finite(parts)
        for optimizer, _ in steps:
            optimizer.zero_grad(set_to_none=True)
        for i, (optimizer, loss) in enumerate(steps):
            params = [p for group in optimizer.param_groups for p in group["params"] if p.requires_grad]
            self.manual_backward(loss, inputs=params, retain_graph=i + 1 < len(steps))
        for optimizer, _ in steps:
            optimizer.step()

    def finish_iteration(self) -> None:
        """Step every LR scheduler once and count the iteration."""
        schedulers = self.lr_schedulers()
        if schedulers is not None:
            for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
                scheduler.step()  # type: ignore[call-arg]
        self.iteration += 1

    def log_parts(
        self, parts: Mapping[str, torch.Tensor], prefix: str = "train", prog_bar: tuple[str, ...] = ()
    ) -> None:
        """Log every loss term on its own as ``<prefix>/<name>``."""
        values = {f"{prefix}/{k}": v.detach().float() for k, v in parts.items()}
        shown = {f"{prefix}/{name}" for name in prog_bar}
        self.log_dict({k: v for k, v in values.items() if k in shown}, prog_bar=True)
        self.log_dict({k: v for k, v in values.items() if k not in shown})

    @contextmanager
    def evaluating(self, *modules: torch.nn.Module) -> Iterator[None]:
        """``modules`` in eval mode and no gradients, restored afterwards (for pictures)."""
        with eval_mode(*modules), torch.no_grad():
            yield


def fixed_other_artists(artist: torch.Tensor, num_artists: int) -> torch.Tensor:
    """Another artist than its own for each row (B,), without a random draw (evaluation must not
    move the training streams): row ``i`` shifted by ``1 + i % (num_artists - 1)``."""
    shift = 1 + torch.arange(len(artist), device=artist.device) % (num_artists - 1)
    return (artist + shift) % num_artists


def adam(params: Any, **settings: Any) -> torch.optim.Adam:
    """``torch.optim.Adam`` with its fused kernel where the parameters' device has one (CPU and
    CUDA do), else the default implementation; the same algorithm either way.

    Fused, each update reads every parameter once instead of once per elementwise operation:
    on a CPU, GADN's default Adam took longer per iteration than the backward convolutions
    (profiled in docs/gadn.md, "Speed")."""
    params = list(params)
    try:
        return torch.optim.Adam(params, fused=True, **settings)
    except (RuntimeError, ValueError):  # a device or dtype without the fused kernel
        return torch.optim.Adam(params, **settings)


def warmup_schedule(optimizer: torch.optim.Optimizer, iterations: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear learning-rate warm-up over ``iterations`` (0: none), then constant."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: min(1.0, (i + 1) / iterations) if iterations else 1.0)
