"""Load an FP (e.g. torchvision) checkpoint into a binary backbone.

Key renaming is mmengine's: ``revise_keys``, ``(pattern, replacement)``
pairs applied with ``re.sub`` in order, as
``mmengine.runner.load_checkpoint(..., revise_keys=...)`` takes them. What
is added here is what mmengine's loader does not do: selecting the keys of
a ``prefix`` *and* renaming them, refusing (rather than skipping) tensors
whose shape is not the model's, and returning the matched / missing /
unexpected keys as a :class:`CheckpointReport`.
"""
import os.path as osp
import re
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from mmengine.runner import CheckpointLoader
from torch import Tensor, nn

#: mmengine's ``revise_keys``: ``(pattern, replacement)`` pairs.
RevisePairs = Sequence[Tuple[str, str]]


class CheckpointReport(NamedTuple):
    """What loading a checkpoint into a backbone did.

    Attributes:
        source (str): The checkpoint's path or URL.
        matched (list[str]): Model keys loaded from the checkpoint.
        missing (list[str]): Model keys the checkpoint lacks (kept as
            initialised), e.g. quantizer parameters. Schedule buffers of the
            quantizers are never listed (the schedule hook sets them).
        unexpected (list[str]): Checkpoint keys (after prefix stripping and
            key mapping) the model has no place for, e.g. ``fc.*``.
    """

    source: str
    matched: List[str]
    missing: List[str]
    unexpected: List[str]

    def summary(self, limit: int = 20) -> str:
        """A human-readable report (lists cut to ``limit`` keys each).

        Args:
            limit (int): Keys shown per list. Defaults to 20.

        Returns:
            str: The report.
        """

        def keys(names: List[str]) -> str:
            shown = ', '.join(names[:limit])
            more = len(names) - limit
            return shown + (f', ... (+{more} more)' if more > 0 else '')

        return (f'loaded {self.source}: {len(self.matched)} keys matched; '
                f'{len(self.missing)} missing in the checkpoint: '
                f'[{keys(self.missing)}]; {len(self.unexpected)} unexpected '
                f'in the checkpoint: [{keys(self.unexpected)}]')


def revise_key(key: str, revise_keys: RevisePairs) -> str:
    """Rename ``key`` as mmengine's ``revise_keys`` do.

    Args:
        key (str): A checkpoint key.
        revise_keys (Sequence[tuple[str, str]]): ``(pattern, replacement)``
            pairs, applied with ``re.sub`` in order.

    Returns:
        str: The renamed key.
    """
    for pattern, replacement in revise_keys:
        key = re.sub(pattern, replacement, key)
    return key


def read_state_dict(
    checkpoint: str,
    prefix: Optional[str] = None,
    map_location: str = 'cpu',
    revise_keys: RevisePairs = ()) -> Dict[str, Tensor]:
    """Read a state dict from a plain or an mmengine checkpoint.

    Local files are read with ``torch.load(..., weights_only=True)``; other
    sources (``torchvision://``, ``open-mmlab://``, URLs) go through
    mmengine's ``CheckpointLoader``. An mmengine checkpoint's
    ``'state_dict'`` (or ``'model'``) entry is used when present, a
    ``module.`` prefix common to every key (DDP) is removed, then the keys
    of ``prefix`` are selected and ``revise_keys`` rename them.

    Args:
        checkpoint (str): Path or URL.
        prefix (str, optional): Keep only the keys starting with it, without
            it (``'backbone.'`` takes the backbone out of a segmentor
            checkpoint). Defaults to None.
        map_location (str): Device to load to. Defaults to ``'cpu'``.
        revise_keys (Sequence[tuple[str, str]]): Key renaming (see
            :func:`revise_key`), after the prefix is stripped. Defaults to
            ``()``.

    Returns:
        dict[str, Tensor]: The state dict.

    Raises:
        ValueError: No key starts with ``prefix``, or the file holds no
            state dict.
    """
    if osp.isfile(checkpoint):
        data = torch.load(
            checkpoint, map_location=map_location, weights_only=True)
    else:
        data = CheckpointLoader.load_checkpoint(
            checkpoint, map_location=map_location)
    if isinstance(data, dict):
        for entry in ('state_dict', 'model'):
            if isinstance(data.get(entry), dict):
                data = data[entry]
                break
    if not isinstance(data, dict) or not all(
            isinstance(v, Tensor) for v in data.values()):
        raise ValueError(f'{checkpoint}: no state dict found (expected a '
                         'dict of tensors, or one under "state_dict")')
    state = dict(data)
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    if prefix:
        kept = {
            k[len(prefix):]: v
            for k, v in state.items() if k.startswith(prefix)
        }
        if not kept:
            raise ValueError(f'{checkpoint}: no key starts with prefix '
                             f'{prefix!r} (first keys: {list(state)[:5]})')
        state = kept
    return {revise_key(k, revise_keys): v for k, v in state.items()}


def load_pretrained(model: nn.Module,
                    checkpoint: str,
                    prefix: Optional[str] = None,
                    revise_keys: RevisePairs = (),
                    map_location: str = 'cpu') -> CheckpointReport:
    """Load a checkpoint into ``model`` non-strictly, refusing bad shapes.

    Args:
        model (nn.Module): The backbone.
        checkpoint (str): Path or URL (see :func:`read_state_dict`).
        prefix (str, optional): Key prefix to select and strip. Defaults to
            None.
        revise_keys (Sequence[tuple[str, str]]): Renames the checkpoint's
            keys to the model's (mmengine's format, see :func:`revise_key`),
            e.g. a backbone's ``checkpoint_revise_keys``. Defaults to ``()``.
        map_location (str): Device to load to. Defaults to ``'cpu'``.

    Returns:
        CheckpointReport: Matched, missing and unexpected keys.

    Raises:
        ValueError: A key is in both with different shapes (the message names
            the key and both shapes).
    """
    state = read_state_dict(checkpoint, prefix, map_location, revise_keys)
    return load_state_dict_report(model, state, checkpoint)


def load_state_dict_report(model: nn.Module, state: Dict[str, Tensor],
                           source: str) -> CheckpointReport:
    """Load ``state`` into ``model`` non-strictly, refusing bad shapes.

    Args:
        model (nn.Module): The model.
        state (dict[str, Tensor]): State dict with the model's key names.
        source (str): Where ``state`` comes from, for the report and the
            messages.

    Returns:
        CheckpointReport: Matched, missing (schedule buffers of the
        quantizers excepted) and unexpected keys.

    Raises:
        ValueError: A key is in both with different shapes (the message names
            the key and both shapes).
    """
    own = model.state_dict()
    mismatched = [
        f'{k!r}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in state.items() if k in own and v.shape != own[k].shape
    ]
    if mismatched:
        shown = '; '.join(mismatched[:5])
        more = len(mismatched) - 5
        raise ValueError(
            f'{source}: shape mismatch for {len(mismatched)} key(s): '
            f'{shown}' + (f'; ... (+{more} more)' if more > 0 else ''))
    result = model.load_state_dict(state, strict=False)
    matched = [k for k in own if k in state]
    return CheckpointReport(source, matched, list(result.missing_keys),
                            list(result.unexpected_keys))
