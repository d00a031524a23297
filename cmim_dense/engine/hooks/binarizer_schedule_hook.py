"""Drives every binarizer's progress-dependent state from the runner."""
from typing import Iterator, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop
from torch import nn

from cmim_dense.registry import HOOKS
from ...models.layers.binary_layer import BinaryLayerMixin
from ...models.quantizers.base import ProgressDependent


@HOOKS.register_module()
class BinarizerScheduleHook(Hook):
    """Update binarizer schedules from training progress.

    Every :class:`~cmim_dense.models.quantizers.ProgressDependent` module of
    the model (IR-Net/RBNN ``t, k``, ReCU ``tau``, FDA ``n``) receives
    ``set_progress(p)`` with ``p = epoch / max_epochs`` (epoch-based loops,
    updated before each epoch, as the papers do) or ``p = iter / max_iters``
    (iteration-based loops, before each iteration). RBNN rotations are
    updated every ``rotation_interval`` epochs/iterations, and latent
    weights are prepared (BNN/XNOR-Net clamp, XNOR-Net mean-centring, see
    :meth:`~cmim_dense.models.layers.BinaryLayerMixin.clip_latent_weight`)
    before training and after every iteration, i.e. before every forward
    pass as XNOR-Net's released training does. All state lives in the model's
    buffers, so it is saved in checkpoints, restored on resume (and then
    recomputed from the resumed progress, which gives the same values) and
    identical on every DDP rank. The hook only changes state; it never
    touches the loss.

    Args:
        by_epoch (bool, optional): Progress unit. Defaults to None: epochs
            for ``EpochBasedTrainLoop``, iterations otherwise.
        rotation_interval (int, optional): RBNN rotation update period, in
            the progress unit. Defaults to None: every epoch (every
            ``len(train_dataloader)`` iterations in iteration-based loops).
        rotation_steps (int): Alternating SVD steps per update. Defaults to 3.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 by_epoch: Optional[bool] = None,
                 rotation_interval: Optional[int] = None,
                 rotation_steps: int = 3) -> None:
        if rotation_interval is not None and rotation_interval <= 0:
            raise ValueError(f'rotation_interval must be positive, got '
                             f'{rotation_interval}')
        self.by_epoch = by_epoch
        self.rotation_interval = rotation_interval
        self.rotation_steps = rotation_steps
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

    def before_train(self, runner) -> None:
        if self.by_epoch is None:
            self.by_epoch = isinstance(runner.train_loop, EpochBasedTrainLoop)
        if self.rotation_interval is None:
            self.rotation_interval = 1 if self.by_epoch else max(
                len(runner.train_dataloader), 1)
        model = self._model(runner)
        n_scheduled = sum(1 for _ in self.scheduled_modules(model))
        n_binary = sum(1 for _ in self.binary_layers(model))
        runner.logger.info(f'BinarizerScheduleHook: {n_binary} binary layers, '
                           f'{n_scheduled} scheduled quantizers, progress by '
                           f'{"epoch" if self.by_epoch else "iteration"}')
        self.prepare_latent_weights(model)

    def prepare_latent_weights(self, model: nn.Module) -> None:
        """Clamp / mean-centre every binary layer's latent weight in place
        where its weight quantizer asks for it."""
        for layer in self.binary_layers(model):
            layer.clip_latent_weight()

    def set_progress(self, model: nn.Module, progress: float) -> None:
        """Send ``progress`` (clipped to [0, 1]) to every scheduled module."""
        self.progress = min(max(float(progress), 0.0), 1.0)
        for module in self.scheduled_modules(model):
            module.set_progress(self.progress)

    def _step(self, runner, done: int, total: int) -> None:
        model = self._model(runner)
        self.set_progress(model, done / max(total, 1))
        if done % self.rotation_interval == 0:
            for layer in self.binary_layers(model):
                layer.update_rotation(self.rotation_steps)

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
        self.prepare_latent_weights(self._model(runner))
