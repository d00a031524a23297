"""A frozen full-precision teacher for CMIM's FP-teacher form and for
distillation (the released CMIM code and ReActNet both use one).

The teacher is a segmentor built from a config (a config file or a model
dict) and loaded strictly from a trained checkpoint (a plain one, or a CMIM
one: its ``architecture.`` weights are used). It is frozen for good: every
parameter has ``requires_grad=False``, it stays in eval mode when the
wrapping model is put in train mode (:meth:`FPTeacher.train`), its forward
runs under ``torch.no_grad()``, and :meth:`FPTeacher.init_weights` keeps the
loaded weights (the runner initialises the model after building it).

Its weights are not part of the wrapping model's state dict: a student
checkpoint does not carry the teacher (see :meth:`FPTeacher.exclude_from`),
and resuming rebuilds the teacher from its config and checkpoint, which must
therefore still exist.
"""
import os.path as osp
from typing import Optional, Union

import torch
from mmengine.config import Config
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from ..backbones.pretrained import read_state_dict


def teacher_model_config(config: Union[str, dict]) -> dict:
    """The teacher's model dict from a config file or a model dict.

    A CMIM model (config) gives its ``architecture``: the teacher is a plain
    segmentor.

    Args:
        config (str | dict): Path of a config file with a ``model`` entry,
            or the model dict itself.

    Returns:
        dict: The model config.

    Raises:
        FileNotFoundError: If the config file does not exist.
        ValueError: If the config has no model.
    """
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(
                f'teacher config {config!r} does not exist (model.teacher.'
                'config: a config file with a "model" entry, or the model '
                'dict)')
        cfg = Config.fromfile(config)
        if 'model' not in cfg:
            raise ValueError(f'teacher config {config!r} has no "model"')
        model = cfg.model
    else:
        model = config
    model = dict(model)
    if model.get('type') == 'CMIM':
        model = dict(model['architecture'])
    return model


class FPTeacher(nn.Module):
    """A frozen, eval-mode segmentor whose forward runs without gradient.

    Args:
        config (str | dict): The teacher's config file or model dict.
        checkpoint (str): Its trained checkpoint (``state_dict`` of the
            segmentor, an mmengine checkpoint, or a CMIM checkpoint).

    Raises:
        FileNotFoundError: If the checkpoint does not exist.
        ValueError: If the checkpoint does not match the model (names the
            file and the first missing / unexpected keys).
    """

    def __init__(self, config: Union[str, dict], checkpoint: str) -> None:
        super().__init__()
        if not checkpoint or not osp.isfile(str(checkpoint)):
            raise FileNotFoundError(
                f'teacher checkpoint {checkpoint!r} does not exist: train '
                'the FP teacher first (tools/train.py on its config) and set '
                'model.teacher.checkpoint=PATH (e.g. with --cfg-options)')
        self.config = config if isinstance(config, str) else None
        self.checkpoint = str(checkpoint)
        self.model = MODELS.build(teacher_model_config(config))
        self._load(self.checkpoint)
        self.model.requires_grad_(False)
        super().train(False)

    def _load(self, checkpoint: str) -> None:
        from .cmim import ARCHITECTURE_PREFIX, extract_architecture_state
        state = read_state_dict(checkpoint)
        if any(k.startswith(ARCHITECTURE_PREFIX) for k in state):
            state = extract_architecture_state(state)  # a CMIM checkpoint
        try:
            result = self.model.load_state_dict(state, strict=False)
        except RuntimeError as err:  # shape mismatches
            raise ValueError(f'teacher checkpoint {checkpoint!r} does not '
                             f'match the teacher model: {err}') from err
        if result.missing_keys or result.unexpected_keys:
            raise ValueError(
                f'teacher checkpoint {checkpoint!r} does not match the '
                f'teacher model: {len(result.missing_keys)} missing keys '
                f'{result.missing_keys[:5]}, {len(result.unexpected_keys)} '
                f'unexpected keys {result.unexpected_keys[:5]}')

    def train(self, mode: bool = True) -> 'FPTeacher':
        """Stay in eval mode whatever ``mode`` is (BN, dropout frozen)."""
        return super().train(False)

    def init_weights(self) -> None:
        """Keep the loaded weights (the runner initialises the model)."""

    @staticmethod
    def exclude_from(owner: nn.Module, attr: str = 'teacher') -> None:
        """Leave ``owner.<attr>`` out of ``owner``'s state dict.

        Saving drops the teacher's entries; loading a state dict without
        them (or with them, from an older checkpoint) reports no missing /
        unexpected teacher key, so strict loading and resuming work. Both
        hooks also run under mmengine's checkpoint functions.

        Args:
            owner (nn.Module): The module holding the teacher.
            attr (str): The teacher's attribute name. Defaults to
                ``'teacher'``.
        """

        def drop_on_save(module, state_dict, prefix, local_metadata):
            for key in [
                    k for k in state_dict if k.startswith(f'{prefix}{attr}.')
            ]:
                del state_dict[key]

        def skip_on_load(module, state_dict, prefix, *args):
            for key in [
                    k for k in state_dict if k.startswith(f'{prefix}{attr}.')
            ]:
                del state_dict[key]

        def forget_missing(module, incompatible_keys):
            keys = incompatible_keys.missing_keys
            keys[:] = [
                k for k in keys
                if not k.startswith(f'{attr}.') and f'.{attr}.' not in k
            ]

        owner.register_state_dict_post_hook(drop_on_save)
        owner.register_load_state_dict_pre_hook(skip_on_load)
        owner.register_load_state_dict_post_hook(forget_missing)

    @torch.no_grad()
    def forward(self, inputs: Tensor, backbone_only: bool = False):
        """Run the teacher on preprocessed inputs, without gradient.

        Args:
            inputs (Tensor): ``(N, 3, H, W)``, normalised like the student's.
            backbone_only (bool): Run ``extract_feat`` only (enough when
                only backbone / neck features are recorded). Defaults to
                False (``mode='tensor'``: the heads too).

        Returns:
            The teacher's features or head outputs.
        """
        if backbone_only:
            return self.model.extract_feat(inputs)
        return self.model(inputs, mode='tensor')

    def extra_repr(self) -> str:
        return f'checkpoint={self.checkpoint!r} (frozen, eval, no_grad)'


def check_same_normalisation(student: nn.Module,
                             teacher: nn.Module,
                             checkpoint: Optional[str] = None) -> None:
    """Refuse a teacher whose data preprocessor normalises differently.

    The teacher is fed the student's preprocessed batch, so their ``mean``
    and ``std`` (and channel order) must agree.

    Args:
        student (nn.Module): The student segmentor.
        teacher (nn.Module): The teacher segmentor.
        checkpoint (str, optional): Named in the message.

    Raises:
        ValueError: If ``mean``, ``std`` or ``bgr_to_rgb`` differ.
    """
    ours = getattr(student, 'data_preprocessor', None)
    theirs = getattr(teacher, 'data_preprocessor', None)
    for attr in ('mean', 'std', '_channel_conversion'):
        a, b = getattr(ours, attr, None), getattr(theirs, attr, None)
        if a is None or b is None:
            continue
        same = torch.equal(a, b) if isinstance(a, Tensor) else a == b
        if not same:
            raise ValueError(
                f'the teacher ({checkpoint or "model.teacher"}) normalises '
                f'its inputs differently from the student: {attr} '
                f'{getattr(b, "tolist", lambda: b)()} vs '
                f'{getattr(a, "tolist", lambda: a)()}; the teacher is fed '
                "the student's preprocessed batch")
