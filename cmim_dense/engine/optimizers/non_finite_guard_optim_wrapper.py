"""Optimizer wrappers that never apply a non-finite update."""
import math
import weakref
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Tuple

import torch
import torch.distributed as dist
from mmengine.dist import all_gather_object
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS
from torch import nn

POLICIES = ('skip', 'stop')
SKIP_COUNT_KEY = 'non_finite_skipped_steps'


class NonFiniteError(RuntimeError):
    """A loss or a gradient is NaN or infinite and the policy is 'stop'."""


def _is_finite(value) -> bool:
    """Whether a loss-dict value (tensor, list of tensors, number) is
    finite."""
    if isinstance(value, torch.Tensor):
        return bool(torch.isfinite(value).all())
    if isinstance(value, (list, tuple)):
        return all(_is_finite(v) for v in value)
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    return True


class _LossCapture:
    """Forward hook keeping the model's last loss dict on the wrapper.

    It holds the wrapper through a weak reference, so deep copies of the
    model (EMA) neither copy nor keep alive the optimizer.
    """

    def __init__(self, wrapper: 'NonFiniteGuardMixin') -> None:
        self.wrapper = weakref.ref(wrapper)

    def __call__(self, module: nn.Module, args, output) -> None:
        wrapper = self.wrapper()
        if wrapper is not None and wrapper._capturing and isinstance(
                output, dict):
            wrapper._last_losses = output


class NonFiniteGuardMixin:
    """Check the loss and the gradients of every step before applying it.

    Mixed into an mmengine optimizer wrapper, it replaces
    :meth:`update_params` (what ``BaseModel.train_step`` calls with the
    summed loss):

    1. The summed loss is checked before ``backward``. If it is NaN or
       infinite, the error names the iteration (1-based, as in the training
       log) and the loss terms that are not finite (``decode.loss_ce``,
       ``seg.loss_ce``, ...), taken from the model's loss dict, which a
       forward hook registered in :meth:`optim_context` captures.
    2. After ``backward``, when the step is due (gradient accumulation),
       every gradient is checked (if ``check_grads``); the error names the
       parameters with non-finite gradients.

    Policies: ``'skip'`` zeroes the gradients, applies no update (weights and
    optimizer state stay unchanged), counts the skip (attribute
    ``skipped_steps``, and the message hub's runtime info
    ``'non_finite_skipped_steps'``, which checkpoints keep) and logs a
    warning; ``'stop'`` zeroes the gradients and raises
    :class:`NonFiniteError`. With gradient accumulation, a skip drops the
    gradients accumulated so far in the window.

    Args:
        policy (str): ``'skip'`` or ``'stop'``. Defaults to ``'skip'``.
        check_grads (bool): Also check the gradients. Defaults to True.
    """

    def __init__(self,
                 *args,
                 policy: str = 'skip',
                 check_grads: bool = True,
                 **kwargs) -> None:
        if policy not in POLICIES:
            raise ValueError(f'policy must be one of {POLICIES}, '
                             f'got {policy!r}')
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.check_grads = check_grads
        self.skipped_steps = 0
        self._capturing = False
        self._last_losses: Optional[dict] = None
        self._watched: Optional[weakref.ref] = None
        self._hook_handle = None

    # ------------------------------------------------------------------
    # Capture of the loss dict
    # ------------------------------------------------------------------
    def _watch(self, model: nn.Module) -> None:
        """Register the loss-capturing forward hook on ``model`` once."""
        if is_model_wrapper(model):
            model = model.module
        if self._watched is not None and self._watched() is model:
            return
        if self._hook_handle is not None:
            self._hook_handle.remove()
        self._hook_handle = model.register_forward_hook(_LossCapture(self))
        self._watched = weakref.ref(model)

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """The wrapped context, capturing the loss dict of the forward."""
        self._watch(model)
        self._capturing = True
        try:
            with super().optim_context(model):
                yield
        finally:
            self._capturing = False

    # ------------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------------
    @staticmethod
    def _iteration() -> Optional[int]:
        """The current 1-based iteration, from the message hub."""
        it = MessageHub.get_current_instance().get_info('iter')
        return None if it is None else int(it) + 1

    def non_finite_terms(self) -> List[str]:
        """Names of the non-finite terms of the last captured loss dict."""
        losses = self._last_losses or {}
        bad = [name for name, value in losses.items() if not _is_finite(value)]
        # the summed terms first (``parse_losses`` sums the '*loss*' keys)
        return [name for name in bad if 'loss' in name] or bad

    def non_finite_grads(self) -> List[str]:
        """Names of the parameters whose gradient is not finite."""
        params = [
            p for group in self.optimizer.param_groups for p in group['params']
            if p.grad is not None
        ]
        if not params:
            return []
        finite = torch.stack([torch.isfinite(p.grad).all() for p in params])
        if bool(finite.all()):
            return []
        names: Dict[int, str] = {}
        model = self._watched() if self._watched is not None else None
        if model is not None:
            names = {id(p): n for n, p in model.named_parameters()}
        return [
            names.get(id(p), f'<unnamed parameter {i}>')
            for i, (p, ok) in enumerate(zip(params, finite.tolist())) if not ok
        ]

    def _handle(self, what: str) -> None:
        """Apply the policy to a non-finite loss or gradient."""
        self.zero_grad()
        it = self._iteration()
        where = f'iteration {it}' if it is not None else 'this step'
        message = f'Non-finite {what} at {where}'
        if self.policy == 'stop':
            raise NonFiniteError(
                f'{message}; stopping (optim_wrapper.policy="stop"). The '
                'weights were not updated with it; lower the learning rate, '
                'enable gradient clipping or set policy="skip".')
        self.skipped_steps += 1
        hub = MessageHub.get_current_instance()
        total = int(hub.get_info(SKIP_COUNT_KEY, 0) or 0) + 1
        hub.update_info(SKIP_COUNT_KEY, total)
        MMLogger.get_current_instance().warning(
            f'{message}; optimizer step skipped, weights unchanged '
            f'({total} skipped so far).')

    # ------------------------------------------------------------------
    # The step
    # ------------------------------------------------------------------
    def _non_finite_ranks(self, loss: torch.Tensor) -> List[Tuple]:
        """The ranks whose loss is not finite, with their bad terms.

        Under DDP all ranks must take the same branch: a rank that skips
        ``backward`` while the others run it would hang their gradient
        all-reduce. So the ranks vote (one all-reduce of a flag, every
        step); only when some loss is not finite do they gather which rank
        and which terms, for the message. Gradients need no vote: DDP has
        already averaged them, so every rank sees the same values.

        Returns:
            list[tuple]: ``(rank, terms, value)`` per rank with a non-finite
            loss (rank None when not distributed); empty if all are finite.
        """
        finite = torch.isfinite(loss.detach()).all()

        def report() -> Tuple[List[str], float]:
            return self.non_finite_terms(), float(loss.detach().sum())

        if dist.is_available() and dist.is_initialized() and \
                dist.get_world_size() > 1:
            flag = finite.to(torch.float32).reshape(1)
            dist.all_reduce(flag, op=dist.ReduceOp.MIN)
            if bool(flag.item() > 0):
                return []
            mine = None if bool(finite) else report()
            return [(rank, *theirs)
                    for rank, theirs in enumerate(all_gather_object(mine))
                    if theirs is not None]
        return [] if bool(finite) else [(None, *report())]

    @staticmethod
    def _describe(bad: List[Tuple]) -> str:
        """``loss term(s) A, B (nan) on rank 1`` for :meth:`_handle`."""
        parts = []
        for rank, terms, value in bad:
            what = 'loss' + (f' term(s) {", ".join(terms)}'
                             if terms else ' (summed loss)')
            parts.append(f'{what} ({value})' +
                         (f' on rank {rank}' if rank is not None else ''))
        return '; '.join(parts)

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Backward and step, unless the loss or a gradient is not finite.

        Args:
            loss (torch.Tensor): The summed loss of the iteration.
            step_kwargs (dict, optional): Arguments for ``optimizer.step``.
            zero_kwargs (dict, optional): Arguments for
                ``optimizer.zero_grad``.

        Raises:
            NonFiniteError: If something is not finite and the policy is
                ``'stop'``.
        """
        step_kwargs = step_kwargs or {}
        zero_kwargs = zero_kwargs or {}
        try:
            bad = self._non_finite_ranks(loss)
            if bad:
                self._inner_count += 1  # the call counts, as in backward
                self._handle(self._describe(bad))
                return
            self.backward(self.scale_loss(loss))
            if not self.should_update():
                return
            if self.check_grads:
                bad = self.non_finite_grads()
                if bad:
                    shown = ', '.join(bad[:5]) + (f' and {len(bad) - 5} more'
                                                  if len(bad) > 5 else '')
                    self._handle(f'gradient of {shown}')
                    return
            self.step(**step_kwargs)
            self.zero_grad(**zero_kwargs)
        finally:
            self._last_losses = None  # do not keep the graph alive


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardOptimWrapper(NonFiniteGuardMixin, OptimWrapper):
    """:class:`~mmengine.optim.OptimWrapper` with a non-finite guard.

    See :class:`NonFiniteGuardMixin`. Config::

        optim_wrapper = dict(
            type='NonFiniteGuardOptimWrapper',
            policy='skip',  # or 'stop'
            optimizer=dict(type='SGD', lr=0.01))
    """


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardAmpOptimWrapper(NonFiniteGuardMixin, AmpOptimWrapper):
    """:class:`~mmengine.optim.AmpOptimWrapper` with a non-finite loss guard.

    Only the loss is checked (``check_grads`` defaults to False): with a
    dynamic loss scale, inf gradients are expected, and the ``GradScaler``
    already skips those steps and lowers the scale. A non-finite loss is
    handled by the policy before ``backward``, so it never reaches the
    scaler.
    """

    def __init__(self, *args, check_grads: bool = False, **kwargs) -> None:
        super().__init__(*args, check_grads=check_grads, **kwargs)
