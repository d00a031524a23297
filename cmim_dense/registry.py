"""Registries of cmim_dense.

Models, hooks and datasets are registered into mmseg's registries, so a plain
``type='X'`` works under ``default_scope='mmseg'``. Layers (``BinaryConv2d``,
``BinaryLinear``, ``RPReLU``) are registered into mmengine's root ``MODELS``
like mmcv's own bricks, so ``build_conv_layer`` finds them from any scope.

Three registries are the project's own, because their members are parts of a
binary layer rather than models:

- ``QUANTIZERS``: what fills a binary layer's roles (activation quantizers,
  weight quantizers, output scales) and their sub-modules (FDA's noise
  adaptation): ``type='EDESign'``, ``type='LibraPBWeight'``, ...
- ``SURROGATE_GRADS``: the backward passes of ``sign`` that a quantizer takes
  as ``grad=dict(type='EDEGrad', ...)``; never a role of their own.
- ``BINARIZERS``: the named methods (``'irnet'``, ``'bireal'``, ...), each a
  function returning the configs of the three quantizer roles.
"""
from typing import Any, Optional

from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry
from mmseg.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS


class UnknownTypeError(KeyError):
    """A config names a type its registry does not hold (message unquoted)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


def build_in_registry(cfg: dict,
                      registry: Registry,
                      default_args: Optional[dict] = None) -> Any:
    """Build ``cfg`` from ``registry`` itself, ignoring the default scope.

    Quantizers and binarizers are built by the binary layers, possibly while
    another scope (``mmseg``) is the default; mmengine's ``build_from_cfg``
    would then look for them in the wrong registry tree. Errors name the
    registry and list the valid types.
    """
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'a {registry.name} config must be a dict with a '
                        f'"type" key, got {cfg!r}')
    args = dict(cfg)
    obj_type = args.pop('type')
    if isinstance(obj_type, str):
        obj_cls = registry.get(obj_type)
        if obj_cls is None:
            raise UnknownTypeError(
                f'unknown {registry.name} {obj_type!r}; '
                f'available: {", ".join(registry.module_dict)}')
    else:
        obj_cls = obj_type
    for key, value in (default_args or {}).items():
        args.setdefault(key, value)
    try:
        return obj_cls(**args)
    except TypeError as err:
        raise TypeError(f'{getattr(obj_cls, "__name__", obj_cls)}: {err}') \
            from err


QUANTIZERS = Registry(
    'quantizer',
    build_func=build_in_registry,
    locations=['cmim_dense.models.quantizers'])
SURROGATE_GRADS = Registry(
    'surrogate gradient',
    build_func=build_in_registry,
    locations=['cmim_dense.models.quantizers'])
BINARIZERS = Registry(
    'binarizer',
    build_func=build_in_registry,
    locations=['cmim_dense.models.quantizers'])

__all__ = [
    'MMENGINE_MODELS', 'MODELS', 'HOOKS', 'DATASETS', 'TRANSFORMS', 'METRICS',
    'QUANTIZERS', 'SURROGATE_GRADS', 'BINARIZERS', 'UnknownTypeError',
    'build_in_registry'
]
