"""CMIM as a wrapper around any segmentor (the mmrazor ``SelfDistill`` shape).

The wrapped model (``architecture``) is trained as usual; during its loss
forward pass an :class:`~cmim_dense.models.utils.ActivationRecorder` records
the latent FP activation ``a_F`` and the binary activation ``a_B`` of the
selected binary layers (no second forward pass, no copy of the network).
Per layer, trainable heads embed both (:class:`CMIMEmbedding`) and
:class:`~cmim_dense.models.losses.CMIMNCELoss` contrasts them. The total

    loss_cmim = lambda(t) * sum_l w_l * L_NCE,l

is added to the architecture's losses; ``lambda(t)`` ramps up linearly over
``warmup_iters``. Logged apart (not summed into the loss): ``cmim_nce.<layer>``
and ``cmim_mi_lb.<layer>`` (the mutual-information lower bound estimate).

Prediction, ``val_step`` and ``test_step`` are the architecture's. A CMIM
checkpoint tests directly with its CMIM config; for the plain config (or
packed export) strip the wrapper with
``tools/model_converters/cmim_to_plain.py``, which keeps exactly the
``architecture.`` weights under the plain model's names.
"""
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from ..utils.activation_recorder import ActivationRecorder
from .cmim_embedding import CMIMEmbedding, pool

ARCHITECTURE_PREFIX = 'architecture.'


def _layer_key(name: str) -> str:
    return name.replace('.', '__')


def _in_channels(layer: nn.Module) -> int:
    return getattr(layer, 'in_channels', None) or layer.in_features


@MODELS.register_module()
class CMIM(BaseModel):
    """Pile CMIM's contrastive loss on any segmentor with binary layers.

    Args:
        architecture (dict | nn.Module): The segmentor (``EncoderDecoder``,
            the depth estimator, the multi-task model, ...).
        layers (str | Sequence[str]): Binary layers to record: dotted paths
            in the architecture, glob patterns (``'backbone.layer*.*.conv2'``)
            or ``'last_per_stage'``. Defaults to ``'last_per_stage'``.
        embed_dim (int): Embedding width. Defaults to 128.
        hidden_dim (int, optional): Hidden width of MLP heads; None for a
            linear head. Defaults to None.
        temperature (float): ``tau``. Defaults to 0.1.
        loss_weight (float): ``lambda``. Defaults to 1.0.
        layer_weights (Sequence[float] | dict, optional): ``w_l`` per
            recorded layer (in resolved order, or by name). Defaults to 1.
        warmup_iters (int): Iterations of the linear ramp of ``lambda``.
            Defaults to 0 (no ramp).
        memory_bank (dict, optional): ``dict(size=M, num_negatives=N,
            momentum=0.5)`` for the memory-bank NCE form (needs
            ``sample_idx`` in the data samples). None for in-batch InfoNCE
            with negatives from the global batch. Defaults to None.
        data_preprocessor (dict, optional): Used for the architecture when
            its config has none (the runner passes a config's top-level
            ``data_preprocessor`` here). The wrapper always shares the
            architecture's. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 architecture: Union[dict, nn.Module],
                 layers: Union[str, Sequence[str]] = 'last_per_stage',
                 embed_dim: int = 128,
                 hidden_dim: Optional[int] = None,
                 temperature: float = 0.1,
                 loss_weight: float = 1.0,
                 layer_weights: Union[None, Sequence[float],
                                      Dict[str, float]] = None,
                 warmup_iters: int = 0,
                 memory_bank: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if isinstance(architecture, dict):
            architecture = dict(architecture)
            if data_preprocessor is not None:
                architecture.setdefault('data_preprocessor', data_preprocessor)
            architecture = MODELS.build(architecture)
        super().__init__(
            data_preprocessor=architecture.data_preprocessor,
            init_cfg=init_cfg)
        self.architecture = architecture
        # pool inside the hooks: only (N, C) tensors stay alive until the loss
        self.recorder = ActivationRecorder(architecture, layers, pool)
        if warmup_iters < 0:
            raise ValueError(f'warmup_iters must be >= 0, got {warmup_iters}')
        self.loss_weight = loss_weight
        self.warmup_iters = warmup_iters
        self.layer_weights = self._resolve_weights(layer_weights)
        self.embeddings = nn.ModuleDict()
        self.critics = nn.ModuleDict()
        for name in self.recorder.names:
            layer = architecture.get_submodule(name)
            self.embeddings[_layer_key(name)] = CMIMEmbedding(
                _in_channels(layer), embed_dim, hidden_dim)
            self.critics[_layer_key(name)] = MODELS.build(
                dict(
                    type='CMIMNCELoss',
                    temperature=temperature,
                    embed_dim=embed_dim,
                    memory_bank=copy.deepcopy(memory_bank)))
        self.register_buffer('steps', torch.zeros((), dtype=torch.long))

    @property
    def layers(self) -> List[str]:
        """The recorded layers (dotted paths in the architecture)."""
        return list(self.recorder.names)

    def _resolve_weights(self, weights) -> List[float]:
        names = self.recorder.names
        if weights is None:
            return [1.0] * len(names)
        if isinstance(weights, dict):
            unknown = set(weights) - set(names)
            if unknown:
                raise ValueError(f'layer_weights name layers that are not '
                                 f'recorded: {sorted(unknown)}; recorded: '
                                 f'{names}')
            return [float(weights.get(n, 1.0)) for n in names]
        if len(weights) != len(names):
            raise ValueError(f'layer_weights has {len(weights)} entries for '
                             f'{len(names)} recorded layers {names}')
        return [float(w) for w in weights]

    def current_weight(self) -> float:
        """``lambda(t)``: ``loss_weight`` after the linear warm-up."""
        if self.warmup_iters == 0:
            return self.loss_weight
        iteration = MessageHub.get_current_instance().get_info('iter')
        if iteration is None:  # outside a runner: count our own steps
            iteration = int(self.steps)
        return self.loss_weight * min(1.0, (iteration + 1) / self.warmup_iters)

    @staticmethod
    def sample_indices(data_samples) -> Optional[Tensor]:
        """``sample_idx`` of every data sample, or None if any lacks it."""
        if not data_samples:
            return None
        indices = [s.metainfo.get('sample_idx') for s in data_samples]
        if any(i is None for i in indices):
            return None
        return torch.as_tensor(indices, dtype=torch.long)

    def cmim_losses(self, data_samples=None) -> Dict[str, Tensor]:
        """CMIM terms from the activations of the last recorded pass."""
        indices = self.sample_indices(data_samples)
        weight = self.current_weight()
        total, logs = 0.0, {}
        for name, layer_weight in zip(self.recorder.names, self.layer_weights):
            latent, binary = self.recorder.get(name)
            key = _layer_key(name)
            z_binary, z_latent = self.embeddings[key](binary, latent)
            if indices is not None:
                indices = indices.to(z_binary.device)
            loss, bound = self.critics[key](z_binary, z_latent, indices)
            total = total + layer_weight * loss
            logs[f'cmim_nce.{name}'] = loss.detach()
            logs[f'cmim_mi_lb.{name}'] = torch.as_tensor(bound).detach()
        logs['loss_cmim'] = weight * total
        return logs

    def loss(self, inputs: Tensor, data_samples) -> Dict[str, Tensor]:
        """The architecture's losses plus ``loss_cmim`` (one forward pass)."""
        try:
            with self.recorder.recording():
                losses = self.architecture.loss(inputs, data_samples)
            losses.update(self.cmim_losses(data_samples))
        finally:
            self.recorder.clear()
        self.steps += 1
        return losses

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'tensor'):
        """``mode='loss'`` adds CMIM; other modes are the architecture's."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.architecture(inputs, data_samples, mode)


def extract_architecture_state(
        state_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """The wrapped model's weights under its own names.

    Args:
        state_dict (dict): A :class:`CMIM` state dict.

    Returns:
        dict: Entries under ``architecture.`` with the prefix removed; the
        CMIM heads, critics and the shared data preprocessor are dropped.

    Raises:
        ValueError: If the state dict has no ``architecture.`` entry.
    """
    plain = {
        k[len(ARCHITECTURE_PREFIX):]: v
        for k, v in state_dict.items() if k.startswith(ARCHITECTURE_PREFIX)
    }
    if not plain:
        raise ValueError('not a CMIM checkpoint: no "architecture." weights')
    return plain
