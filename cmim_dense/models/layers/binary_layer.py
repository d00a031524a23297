"""What :class:`BinaryConv2d` and :class:`BinaryLinear` share.

A binary layer owns three optional submodules, each built from the
``QUANTIZERS`` registry:

- ``input_quantizer``: latent FP activation -> binary activation;
- ``weight_quantizer``: latent FP weight -> (scaled) binary weight;
- ``output_scale``: factor applied to the output (before the bias).

Their configs come from a named ``binarizer`` (see
:func:`~cmim_dense.models.quantizers.available_binarizers`); a config given
explicitly for a role replaces the binarizer's, and ``False`` removes the
role (e.g. ``weight_quantizer=False`` keeps FP weights). With no binarizer and
no role the layer is exactly its FP parent (``nn.Conv2d`` / ``nn.Linear``).

The layer knows no method: state a method keeps besides its parameters lives
in its roles, behind the protocols of
:mod:`cmim_dense.models.quantizers.base` (``ProgressDependent``,
``WeightStateDependent``, ``ConstrainedWeight``), which
:class:`~cmim_dense.engine.hooks.BinarizerScheduleHook` drives. The layer
itself only runs :class:`~cmim_dense.models.quantizers.base.InitFromWeight`
roles' pending initialisation, on its first forward pass.
"""
import inspect
from typing import Any, Callable, Dict, Optional, Tuple, Union

import torch
from torch import Tensor, nn

from cmim_dense.registry import QUANTIZERS, SURROGATE_GRADS, UnknownTypeError
from ..quantizers import ROLES, build_binarizer
from ..quantizers.base import InitFromWeight, channel_view
from ..quantizers.output_scales import BaseOutputScale
from ..quantizers.surrogate_grads import BaseSurrogateGrad

RoleCfg = Union[None, bool, dict]


def _same(given: Any, expected: Any) -> bool:
    if isinstance(given, (list, tuple)) and isinstance(expected,
                                                       (list, tuple)):
        return tuple(given) == tuple(expected)
    return given == expected


class BinaryLayerMixin:
    """Builds the quantizer roles and runs the binary forward pass.

    The host class (an ``nn.Conv2d`` or ``nn.Linear`` subclass) calls
    :meth:`init_quantizers` at the end of ``__init__`` and
    :meth:`binary_forward` from ``forward``.
    """

    input_quantizer: Optional[nn.Module]
    weight_quantizer: Optional[nn.Module]
    output_scale: Optional[nn.Module]
    channel_dim: int = 1

    def init_quantizers(self, binarizer: Union[None, str, dict],
                        roles: Dict[str, RoleCfg],
                        layer_args: Dict[str, Any]) -> None:
        """Build the three roles.

        Args:
            binarizer (str | dict | None): Named method, or None.
            roles (dict): Explicit config per role: None to take the
                binarizer's, ``False`` to drop the role, or a config dict.
            layer_args (dict): Layer facts a quantizer may take as
                ``__init__`` arguments (``in_channels``, ``weight_shape``,
                ...); a config that states one differently is refused.
        """
        spec = build_binarizer(binarizer) if binarizer is not None else \
            dict.fromkeys(ROLES)
        if isinstance(binarizer, dict):
            binarizer = binarizer.get('type')
        self.binarizer = binarizer
        weight = getattr(self, 'weight')
        for role in ROLES:
            cfg = roles.get(role)
            if cfg is None:
                cfg = spec[role]
            elif cfg is False:
                cfg = None
            elif not isinstance(cfg, dict):
                raise TypeError(f'{self._describe()}: {role} must be a config '
                                f'dict, None or False, got {cfg!r}')
            module = None if cfg is None else self._build_role(
                role, cfg, layer_args)
            if module is not None:  # follow the layer's device= and dtype=
                module = module.to(weight.device, weight.dtype)
            self.add_module(role, module)

    def _describe(self) -> str:
        # the FP parent's description: the roles may not exist yet
        fp_repr = super(BinaryLayerMixin, self).extra_repr()  # type: ignore
        return f'{type(self).__name__}({fp_repr})'

    def _build_role(self, role: str, cfg: dict,
                    layer_args: Dict[str, Any]) -> nn.Module:
        cfg = dict(cfg)
        obj_type = cfg.get('type')
        cls = QUANTIZERS.get(obj_type) if isinstance(obj_type,
                                                     str) else obj_type
        if cls is None and obj_type in SURROGATE_GRADS.module_dict:
            cls = SURROGATE_GRADS.get(obj_type)
        if cls is None:
            raise UnknownTypeError(
                f'{self._describe()}: unknown {role} type {obj_type!r}; '
                f'available: {", ".join(QUANTIZERS.module_dict)}')
        if issubclass(cls, BaseSurrogateGrad):
            raise TypeError(f'{self._describe()}: {cls.__name__} cannot be '
                            f'used as {role}: it is a surrogate gradient, '
                            'given to a quantizer as grad=dict(type=...)')
        if issubclass(cls, BaseOutputScale) != (role == 'output_scale'):
            raise TypeError(f'{self._describe()}: {cls.__name__} cannot be '
                            f'used as {role}')
        accepted = inspect.signature(cls.__init__).parameters
        for name, value in layer_args.items():
            if name not in accepted:
                continue
            if name in cfg and not _same(cfg[name], value):
                raise ValueError(
                    f'{self._describe()}: {role} {cls.__name__} was given '
                    f'{name}={cfg[name]!r} but the layer has {value!r}')
            cfg[name] = value
        cfg['type'] = cls
        try:
            return QUANTIZERS.build(cfg)
        except (TypeError, ValueError) as err:
            raise type(err)(f'{self._describe()}: {role}: {err}') from err

    @property
    def is_binary(self) -> bool:
        """Whether both activations and weights are binarized."""
        return self.input_quantizer is not None and \
            self.weight_quantizer is not None

    @property
    def input_levels(self) -> Optional[Tuple[float, float]]:
        """The two values of the binary input (``(-1, 1)`` for ``sign``,
        ``(0, 1)`` for DoReFa), or None without an input quantizer."""
        if self.input_quantizer is None:
            return None
        return tuple(getattr(self.input_quantizer, 'levels', (-1.0, 1.0)))

    @property
    def is_quantized(self) -> bool:
        """Whether any role is present (False: exactly the FP layer)."""
        return any(getattr(self, role) is not None for role in ROLES)

    def quantized_weight(self) -> Tensor:
        """The weight used in the forward pass (binary if quantized)."""
        weight = getattr(self, 'weight')
        if self.weight_quantizer is None:
            return weight
        return self.weight_quantizer(weight)

    def binary_forward(
            self, x: Tensor, op: Callable[[Tensor, Tensor, Optional[Tensor]],
                                          Tensor]) -> Tensor:
        """Quantize input and weight, apply ``op``, scale, add the bias.

        Args:
            x (Tensor): Latent input.
            op (callable): ``op(input, weight, bias)``, the FP operation.
        """
        x_q = x if self.input_quantizer is None else self.input_quantizer(x)
        self._init_roles_from_weight()
        weight = self.quantized_weight()
        bias = getattr(self, 'bias')
        if self.output_scale is None:
            return op(x_q, weight, bias)
        out = self.output_scale(op(x_q, weight, None), x)
        if bias is not None:
            out = out + channel_view(bias, out.dim(), self.channel_dim)
        return out

    def _init_roles_from_weight(self) -> None:
        """Run the pending initialisation of
        :class:`~cmim_dense.models.quantizers.base.InitFromWeight` roles
        (RBNN's ``init='weight'`` scale), once.

        Called on the first forward pass and before the first state dict is
        written, so a saved role is never the unset placeholder.
        """
        for role in ROLES:
            module = getattr(self, role)
            if isinstance(module, InitFromWeight) and \
                    module.needs_weight_init:
                module.init_from_weight(getattr(self, 'weight'))

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        self._init_roles_from_weight()
        super()._save_to_state_dict(destination, prefix,
                                    keep_vars)  # type: ignore

    @property
    def is_weight_frozen(self) -> bool:
        """Whether the weight holds its binary values (deploy form)."""
        return getattr(self, '_weight_frozen', False)

    @torch.no_grad()
    def freeze_weight(self) -> None:
        """Replace the latent weight by its quantized value, for deployment.

        The weight quantizer is removed and ``weight`` holds
        ``weight_quantizer(weight)`` (evaluated in eval mode), so the forward
        pass gives exactly the same outputs without recomputing the
        quantization. Idempotent; the layer can no longer be trained.
        """
        if self.weight_quantizer is None:
            return
        quantizer = self.weight_quantizer
        mode = quantizer.training
        quantizer.eval()
        weight = getattr(self, 'weight')
        frozen = quantizer(weight).detach()
        quantizer.train(mode)
        weight.data = frozen
        weight.requires_grad_(False)
        self.weight_quantizer = None
        self._weight_frozen = True

    def binary_repr(self) -> str:
        if not self.is_quantized:
            return ''
        return f', binarizer={self.binarizer or "custom"}'
