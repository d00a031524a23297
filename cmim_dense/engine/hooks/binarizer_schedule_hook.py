"""Drives the binarizers' training-time state from the runner."""
import warnings
from typing import Iterator, Optional, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop
from torch import Tensor, nn

from cmim_dense.registry import HOOKS
from ...models.layers.binary_layer import BinaryLayerMixin
from ...models.quantizers.base import (ConstrainedWeight, ProgressDependent,
                                       WeightStateDependent)


@HOOKS.register_module()
class BinarizerScheduleHook(Hook):
    """Run the binarizers' state protocols from training progress.

    The hook knows no method; it drives three protocols of
    :mod:`cmim_dense.models.quantizers.base`:

    - every :class:`~cmim_dense.models.quantizers.ProgressDependent` module
      (IR-Net/RBNN ``t, k``, ReCU ``tau``, FDA ``n``) receives
      ``set_progress(p)`` with ``p = epoch / max_epochs`` (epoch-based loops,
      before each epoch, as the papers do) or ``p = iter / max_iters``
      (iteration-based loops, before each iteration);
    - every binary layer whose weight quantizer is
      :class:`~cmim_dense.models.quantizers.WeightStateDependent` (RBNN's
      rotations) gets ``update_state(weight)`` every ``state_interval``
      epochs / iterations, before that epoch's (iteration's) forward pass;
    - every binary layer whose weight quantizer is
      :class:`~cmim_dense.models.quantizers.ConstrainedWeight` (BNN's clip,
      XNOR-Net's centring and clip) has its latent weight constrained in
      place before training and after every iteration, i.e. after every
      optimizer step and so before every forward pass.

    All state lives in the model's buffers, so it is saved in checkpoints,
    restored on resume (and then recomputed from the resumed progress, which
    gives the same values) and identical on every DDP rank. The hook only
    changes state; it never touches the loss.

    Args:
        by_epoch (bool, optional): Progress unit. Defaults to None: epochs
            for ``EpochBasedTrainLoop``, iterations otherwise.
        state_interval (int, optional): Period of ``update_state``, in the
            progress unit. Defaults to None: every epoch (every
            ``len(train_dataloader)`` iterations in iteration-based loops).
        rotation_interval (int, optional): Deprecated name of
            ``state_interval``.
        rotation_steps (int, optional): No longer the hook's: refused with
            a pointer to the ``rbnn`` binarizer's ``rotation_steps``.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 by_epoch: Optional[bool] = None,
                 state_interval: Optional[int] = None,
                 rotation_interval: Optional[int] = None,
                 rotation_steps: Optional[int] = None) -> None:
        if rotation_steps is not None:
            raise TypeError(
                'BinarizerScheduleHook: rotation_steps is an argument of '
                "the method now: binarizer=dict(type='rbnn', "
                'rotation_steps=N)')
        name = 'state_interval'
        if rotation_interval is not None:
            if state_interval is not None:
                raise ValueError('BinarizerScheduleHook: give state_interval '
                                 'only (rotation_interval is its old name)')
            warnings.warn(
                'BinarizerScheduleHook: rotation_interval is deprecated, '
                'use state_interval', DeprecationWarning)
            name, state_interval = 'rotation_interval', rotation_interval
        if state_interval is not None and state_interval <= 0:
            raise ValueError(f'{name} must be positive, got {state_interval}')
        self.by_epoch = by_epoch
        self.state_interval = state_interval
        self.progress: Optional[float] = None

    @staticmethod
    def _model(runner) -> nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    @staticmethod
    def scheduled_modules(model: nn.Module) -> Iterator[ProgressDependent]:
        """The progress-dependent modules of ``model``."""
        return (m for m in model.modules() if isinstance(m, ProgressDependent))

    @staticmethod
    def binary_layers(model: nn.Module) -> Iterator[BinaryLayerMixin]:
        """The binary layers of ``model``."""
        return (m for m in model.modules() if isinstance(m, BinaryLayerMixin))

    @classmethod
    def weight_quantizers(
            cls, model: nn.Module) -> Iterator[Tuple[nn.Module, Tensor]]:
        """``(weight quantizer, latent weight)`` of every binary layer that
        has a weight quantizer (a frozen layer has none)."""
        for layer in cls.binary_layers(model):
            if layer.weight_quantizer is not None:
                yield layer.weight_quantizer, layer.weight

    @classmethod
    def constrain_weights(cls, model: nn.Module) -> int:
        """Apply every weight quantizer's ``weight_constraint`` in place.

        Returns:
            int: The number of layers whose weight was constrained.
        """
        return sum(
            quantizer.constrain(weight)
            for quantizer, weight in cls.weight_quantizers(model)
            if isinstance(quantizer, ConstrainedWeight))

    @classmethod
    def update_states(cls, model: nn.Module) -> int:
        """Call ``update_state(weight)`` on every state-dependent weight
        quantizer.

        Returns:
            int: The number of quantizers updated.
        """
        count = 0
        for quantizer, weight in cls.weight_quantizers(model):
            if isinstance(quantizer, WeightStateDependent):
                quantizer.update_state(weight)
                count += 1
        return count

    def before_train(self, runner) -> None:
        if self.by_epoch is None:
            self.by_epoch = isinstance(runner.train_loop, EpochBasedTrainLoop)
        if self.state_interval is None:
            self.state_interval = 1 if self.by_epoch else max(
                len(runner.train_dataloader), 1)
        model = self._model(runner)
        n_scheduled = sum(1 for _ in self.scheduled_modules(model))
        n_binary = sum(1 for _ in self.binary_layers(model))
        runner.logger.info(f'BinarizerScheduleHook: {n_binary} binary layers, '
                           f'{n_scheduled} scheduled quantizers, progress by '
                           f'{"epoch" if self.by_epoch else "iteration"}')
        self.constrain_weights(model)

    def set_progress(self, model: nn.Module, progress: float) -> None:
        """Send ``progress`` (clipped to [0, 1]) to every scheduled module."""
        self.progress = min(max(float(progress), 0.0), 1.0)
        for module in self.scheduled_modules(model):
            module.set_progress(self.progress)

    def _step(self, runner, done: int, total: int) -> None:
        model = self._model(runner)
        self.set_progress(model, done / max(total, 1))
        if done % self.state_interval == 0:
            self.update_states(model)

    def before_train_epoch(self, runner) -> None:
        if self.by_epoch:
            self._step(runner, runner.epoch, runner.max_epochs)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        if not self.by_epoch:
            self._step(runner, runner.iter, runner.max_iters)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        self.constrain_weights(self._model(runner))
