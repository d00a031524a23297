"""Layer builders shared by the binary backbones.

- :func:`build_binary_conv`: a binary conv (:class:`BinaryConv2d`) or, with
  ``binarizer=None``, a plain ``nn.Conv2d`` of the same shape, so that the FP
  and binary networks have the same architecture and parameter names.
- :func:`build_activation`: an activation from a config, with the channel
  count filled in for the per-channel ones (``RPReLU``, ``PReLU``) and
  ``None`` meaning identity.
"""
from typing import Optional, Union

from torch import nn

from cmim_dense.registry import MODELS, build_in_registry
from ..layers import BinaryConv2d
from ..quantizers import ROLES

# ``Hardtanh`` (IR-Net's block activation) is not one of mmcv 2.1's
# activations: registered in our scope (mmseg's MODELS), not mmengine's root.
if MODELS.get('Hardtanh') is None:
    MODELS.register_module(module=nn.Hardtanh)

# Activations whose constructor takes the channel count, and its name.
CHANNEL_ARG = {'RPReLU': 'channels', 'PReLU': 'num_parameters'}


def build_binary_conv(binarizer: Union[None, str, dict],
                      in_channels: int,
                      out_channels: int,
                      kernel_size: int,
                      stride: int = 1,
                      dilation: int = 1,
                      pad_value: float = 1.0,
                      binary_roles: Optional[dict] = None,
                      groups: int = 1) -> nn.Conv2d:
    """Build a bias-free ``kernel_size`` conv with "same" padding.

    The padding is ``dilation * (kernel_size - 1) // 2``, so a stride-1 conv
    keeps the spatial size for any dilation. ``groups`` and ``dilation``
    are passed to the conv as they are (``groups=in_channels`` gives a
    depthwise conv).

    Args:
        binarizer (str | dict | None): Named binarization method (see
            :func:`~cmim_dense.available_binarizers`); None builds an FP
            ``nn.Conv2d``.
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Square kernel size (odd).
        stride (int): Stride. Defaults to 1.
        dilation (int): Dilation. Defaults to 1.
        pad_value (float): Value padding the binary input (see
            :class:`BinaryConv2d`); ignored by FP convs, which pad with zeros.
            Defaults to 1.0.
        binary_roles (dict, optional): Role overrides of the binary conv
            (keys ``input_quantizer``, ``weight_quantizer``,
            ``output_scale``; a config dict, or ``False`` to drop the role),
            e.g. ``dict(weight_quantizer=False)`` for binary activations with
            FP weights (ReActNet's first step); ignored by FP convs.
            Defaults to None (the binarizer's roles).
        groups (int): Groups of the conv; ``in_channels`` and
            ``out_channels`` must be divisible by it. Defaults to 1.

    Returns:
        nn.Conv2d: A :class:`BinaryConv2d` or, for ``binarizer=None``, an
        ``nn.Conv2d``.

    Raises:
        ValueError: ``binary_roles`` has a key that is not a role, or
            ``groups`` is not a positive int dividing both channel counts.
    """
    roles = check_binary_roles(binary_roles)
    if isinstance(groups, bool) or not isinstance(groups, int) or \
            groups < 1 or in_channels % groups or out_channels % groups:
        raise ValueError(f'build_binary_conv: groups must be a positive int '
                         f'dividing in_channels ({in_channels}) and '
                         f'out_channels ({out_channels}), got {groups!r}')
    padding = dilation * (kernel_size - 1) // 2
    if binarizer is None:
        return nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=False)
    return BinaryConv2d(
        in_channels,
        out_channels,
        kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=False,
        binarizer=binarizer,
        pad_value=pad_value,
        **roles)


def check_binary_roles(binary_roles: Optional[dict]) -> dict:
    """Validate role overrides for :func:`build_binary_conv`.

    Args:
        binary_roles (dict, optional): Overrides keyed by role.

    Returns:
        dict: A copy (empty for None).

    Raises:
        ValueError: Not a dict, or a key that is not one of the roles.
    """
    if binary_roles is None:
        return {}
    if not isinstance(binary_roles, dict):
        raise ValueError(f'binary_roles must be a dict keyed by role '
                         f'({", ".join(ROLES)}), got {binary_roles!r}')
    unknown = sorted(set(binary_roles) - set(ROLES))
    if unknown:
        raise ValueError(f'binary_roles: unknown role(s) {unknown}; the '
                         f'roles are {", ".join(ROLES)}')
    return dict(binary_roles)


def build_activation(act_cfg: Optional[dict], channels: int) -> nn.Module:
    """Build an activation, filling in the channel count where needed.

    Args:
        act_cfg (dict, optional): Activation config, e.g.
            ``dict(type='Hardtanh')`` or ``dict(type='RPReLU')``; None gives
            ``nn.Identity``.
        channels (int): Channels of the activated tensor, passed to
            ``RPReLU`` (``channels``) and ``PReLU`` (``num_parameters``).

    Returns:
        nn.Module: The activation.
    """
    if act_cfg is None:
        return nn.Identity()
    if not isinstance(act_cfg, dict) or 'type' not in act_cfg:
        raise TypeError(f'act_cfg must be None or a dict with a "type" key, '
                        f'got {act_cfg!r}')
    cfg = dict(act_cfg)
    arg = CHANNEL_ARG.get(cfg['type']) if isinstance(cfg['type'], str) \
        else None
    if arg is not None:
        cfg.setdefault(arg, channels)
    return build_in_registry(cfg, MODELS)
