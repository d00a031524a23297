"""CMIM as a wrapper around any segmentor (the mmrazor ``SelfDistill`` shape).

The wrapped model (``architecture``) is trained as usual; during its loss
forward pass recorders keep the pairs CMIM contrasts, per recorded layer:

- latent form (default, the paper): the latent FP activation ``a_F`` and the
  binary activation ``a_B`` of the selected binary layers of the same
  forward pass (:class:`~cmim_dense.models.utils.ActivationRecorder`; no
  second pass, no copy of the network);
- FP-teacher form (``teacher=dict(config, checkpoint)``, the released code):
  the outputs of chosen modules of the BNN (``a_B``) and of a frozen FP
  teacher run on the same batch (``a_F``), stage outputs by default
  (:class:`~cmim_dense.models.utils.OutputRecorder`, :class:`FPTeacher`).

Per layer, trainable heads embed both sides (:class:`CMIMEmbedding`) and
:class:`~cmim_dense.models.losses.CMIMNCELoss` contrasts them, with in-batch
or memory-bank negatives. ``granularity='image'`` pools each map to one
vector per image; ``granularity='pixel'`` samples ``num_locations`` locations
per image and embeds each (1x1 heads): positives are the same image and
location, negatives the other locations of every image. The total

    loss_cmim = lambda(t) * sum_l w_l * L_NCE,l

is added to the architecture's losses; ``lambda(t)`` ramps up linearly over
``warmup_iters``. With a teacher, ``distill`` piles distillation losses on
the recorded head outputs (ReActNet's per-pixel KL for segmentation, a
depth regression term). Logged apart (not summed into the loss):
``cmim_nce.<layer>`` and ``cmim_mi_lb.<layer>`` (the mutual-information
lower bound estimate).

Prediction, ``val_step`` and ``test_step`` are the architecture's. A CMIM
checkpoint tests directly with its CMIM config; for the plain config (or
packed export) strip the wrapper with
``tools/model_converters/cmim_to_plain.py``, which keeps exactly the
``architecture.`` weights under the plain model's names. The teacher's
weights are never saved with the student.
"""
import contextlib
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from ..utils.activation_recorder import (ActivationRecorder, HookRecorder,
                                         OutputRecorder)
from .cmim_embedding import CMIMEmbedding, pool
from .fp_teacher import FPTeacher, check_same_normalisation
from .location_sampler import gather_locations, sample_locations

ARCHITECTURE_PREFIX = 'architecture.'
GRANULARITIES = ('image', 'pixel')
#: Side of the random batch that probes the channels of recorded outputs.
PROBE_SIZE = 64


def _layer_key(name: str) -> str:
    return name.replace('.', '__')


def _in_channels(layer: nn.Module) -> int:
    return getattr(layer, 'in_channels', None) or layer.in_features


@torch.no_grad()
def probe_channels(model: nn.Module,
                   names: Sequence[str],
                   in_channels: int = 3) -> List[int]:
    """Channels of the outputs of modules, from one tiny forward pass.

    The model runs once in eval mode (no BN statistics change) without
    gradient on a ``PROBE_SIZE`` square random batch; its mode is restored.

    Args:
        model (nn.Module): A segmentor (``mode='tensor'`` forward).
        names (Sequence[str]): Modules whose output channels are wanted.
        in_channels (int): Image channels. Defaults to 3.

    Returns:
        list[int]: Dim 1 of each module's output.
    """
    recorder = OutputRecorder(model, list(names))
    was_training = model.training
    param = next(model.parameters(), None)
    device = param.device if param is not None else None
    model.eval()
    try:
        with recorder.recording():
            model(
                torch.randn(
                    1, in_channels, PROBE_SIZE, PROBE_SIZE, device=device),
                mode='tensor')
        return [int(recorder.get(n).shape[1]) for n in recorder.names]
    finally:
        recorder.clear()
        model.train(was_training)


@MODELS.register_module()
class CMIM(BaseModel):
    """Pile CMIM's contrastive loss on any segmentor with binary layers.

    Args:
        architecture (dict | nn.Module): The segmentor (``EncoderDecoder``,
            the depth estimator, the multi-task model, ...).
        layers (str | Sequence[str], optional): What to record in the
            architecture. Latent form: binary layers as dotted paths, glob
            patterns (``'backbone.layer*.*.conv2'``) or
            ``'last_per_stage'`` (the default). FP-teacher form: modules
            whose outputs are recorded, dotted paths, patterns or
            ``'stages'`` (the default: the backbone's stage outputs).
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
            with negatives from the global batch. With
            ``granularity='pixel'`` the bank holds ``M * num_locations``
            location entries (see :meth:`cmim_losses`). Defaults to None.
        granularity (str): ``'image'`` (pooled maps) or ``'pixel'``
            (sampled locations). Defaults to ``'image'``.
        num_locations (int): ``P``, locations sampled per image and layer
            in the pixel form. Defaults to 256.
        teacher (dict, optional): ``dict(config=CFG_FILE_OR_MODEL_DICT,
            checkpoint=PATH, layers=None)`` for the FP-teacher form; the
            teacher's ``layers`` default to the architecture's (same
            names). Defaults to None (latent form).
        distill (dict | Sequence[dict], optional): Distillation terms
            between recorded outputs of the architecture and of the teacher
            (needs ``teacher``), each ``dict(student=PATH, teacher=PATH
            (defaults to student), loss=dict(type=...))``, e.g.
            ``dict(student='decode_head.conv_seg',
            loss=dict(type='PixelKLDistillLoss'))``. Defaults to None.
        data_preprocessor (dict, optional): Used for the architecture when
            its config has none (the runner passes a config's top-level
            ``data_preprocessor`` here). The wrapper always shares the
            architecture's. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 architecture: Union[dict, nn.Module],
                 layers: Union[None, str, Sequence[str]] = None,
                 embed_dim: int = 128,
                 hidden_dim: Optional[int] = None,
                 temperature: float = 0.1,
                 loss_weight: float = 1.0,
                 layer_weights: Union[None, Sequence[float],
                                      Dict[str, float]] = None,
                 warmup_iters: int = 0,
                 memory_bank: Optional[dict] = None,
                 granularity: str = 'image',
                 num_locations: int = 256,
                 teacher: Optional[dict] = None,
                 distill: Union[None, dict, Sequence[dict]] = None,
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
        if granularity not in GRANULARITIES:
            raise ValueError(f'CMIM granularity must be one of '
                             f'{GRANULARITIES}, got {granularity!r}')
        if num_locations < 1:
            raise ValueError(f'num_locations must be >= 1, got '
                             f'{num_locations}')
        if warmup_iters < 0:
            raise ValueError(f'warmup_iters must be >= 0, got {warmup_iters}')
        self.granularity, self.num_locations = granularity, num_locations
        # pool inside the hooks: only (N, C) tensors stay alive until the loss
        transform = pool if granularity == 'image' else None
        self.teacher = self._build_teacher(teacher)
        if self.teacher is None:
            if distill:
                raise ValueError('CMIM distill needs a teacher: set '
                                 'teacher=dict(config=..., checkpoint=...)')
            self.recorder: HookRecorder = ActivationRecorder(
                architecture, layers or 'last_per_stage', transform)
            channels = [
                _in_channels(architecture.get_submodule(n))
                for n in self.recorder.names
            ]
            teacher_channels = channels
            self.teacher_recorder: Optional[HookRecorder] = None
        else:
            self.recorder = OutputRecorder(architecture, layers or 'stages',
                                           transform)
            self.teacher_recorder = OutputRecorder(
                self.teacher.model,
                teacher.get('layers') or self.recorder.names, transform)
            if len(self.teacher_recorder.names) != len(self.recorder.names):
                raise ValueError(
                    f'CMIM teacher form pairs layers one to one: '
                    f'{len(self.recorder.names)} student layers '
                    f'{self.recorder.names} vs '
                    f'{len(self.teacher_recorder.names)} teacher layers '
                    f'{self.teacher_recorder.names}')
            channels = probe_channels(architecture, self.recorder.names)
            teacher_channels = probe_channels(self.teacher.model,
                                              self.teacher_recorder.names)
        self.loss_weight = loss_weight
        self.warmup_iters = warmup_iters
        self.layer_weights = self._resolve_weights(layer_weights)
        bank = copy.deepcopy(memory_bank)
        if bank is not None and granularity == 'pixel':
            # one row per (image, location slot): size * num_locations rows
            bank['rows_per_sample'] = num_locations
            if bank.get('size') is not None:
                bank['size'] = int(bank['size']) * num_locations
        self.embeddings = nn.ModuleDict()
        self.critics = nn.ModuleDict()
        for name, c_binary, c_latent in zip(self.recorder.names, channels,
                                            teacher_channels):
            self.embeddings[_layer_key(name)] = CMIMEmbedding(
                c_binary, embed_dim, hidden_dim, latent_channels=c_latent)
            self.critics[_layer_key(name)] = MODELS.build(
                dict(
                    type='CMIMNCELoss',
                    temperature=temperature,
                    embed_dim=embed_dim,
                    memory_bank=copy.deepcopy(bank)))
        self._build_distill(distill)
        self.register_buffer('steps', torch.zeros((), dtype=torch.long))

    def _build_teacher(self, teacher: Optional[dict]) -> Optional[FPTeacher]:
        if teacher is None:
            return None
        unknown = set(teacher) - {'config', 'checkpoint', 'layers'}
        if unknown or 'config' not in teacher:
            raise ValueError(
                f'CMIM teacher must be dict(config=..., checkpoint=..., '
                f'layers=None); got keys {sorted(teacher)}')
        fp_teacher = FPTeacher(teacher['config'], teacher.get('checkpoint'))
        check_same_normalisation(self.architecture, fp_teacher.model,
                                 fp_teacher.checkpoint)
        FPTeacher.exclude_from(self, 'teacher')
        return fp_teacher

    def _build_distill(self, distill) -> None:
        specs = [distill] if isinstance(distill, dict) else list(distill or [])
        self.distill_losses = nn.ModuleList()
        student, teacher = [], []
        for spec in specs:
            spec = dict(spec)
            if 'student' not in spec or 'loss' not in spec:
                raise ValueError('each CMIM distill entry needs student= '
                                 f'(a module path) and loss=; got {spec}')
            loss_cfg = dict(spec['loss'])
            head = self._parent(spec['student'])
            # depth terms map conv outputs to depth with the head's bounds
            if loss_cfg.get('type') == 'DepthDistillLoss':
                for bound in ('min_depth', 'max_depth'):
                    if hasattr(head, bound):
                        loss_cfg.setdefault(bound, getattr(head, bound))
            self.distill_losses.append(MODELS.build(loss_cfg))
            student.append(spec['student'])
            teacher.append(spec.get('teacher') or spec['student'])
        self.distill_student = OutputRecorder(self.architecture,
                                              student) if student else None
        self.distill_teacher = OutputRecorder(self.teacher.model,
                                              teacher) if teacher else None
        if student and (len(self.distill_student.names) != len(student)
                        or len(self.distill_teacher.names) != len(teacher)):
            raise ValueError('each CMIM distill entry must name exactly one '
                             f'module: student {student}, teacher {teacher}')

    def _parent(self, path: str) -> Optional[nn.Module]:
        parent = path.rsplit('.', 1)[0] if '.' in path else ''
        try:
            return self.architecture.get_submodule(parent)
        except AttributeError:
            return None

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

    def recorded_pair(self, index: int) -> Tuple[Tensor, Tensor]:
        """``(a_F, a_B)`` of the ``index``-th recorded layer.

        Latent form: the binary layer's quantizer input and output. Teacher
        form: the teacher's and the architecture's recorded outputs.
        """
        name = self.recorder.names[index]
        if self.teacher_recorder is None:
            return self.recorder.get(name)
        return (self.teacher_recorder.get(self.teacher_recorder.names[index]),
                self.recorder.get(name))

    def _locations(self, latent: Tensor, binary: Tensor,
                   indices: Optional[Tensor]):
        """Sampled location vectors of both maps and their bank keys."""
        n, (h, w) = binary.shape[0], binary.shape[-2:]  # 4-D: see gather
        loc = sample_locations(n, h, w, self.num_locations, binary.device)
        binary = gather_locations(binary, loc, (h, w))
        latent = gather_locations(latent, loc, (h, w))
        if indices is not None:
            p = loc.shape[1]
            slots = torch.arange(p, device=indices.device)
            indices = (indices[:, None] * self.num_locations + slots).flatten()
        return latent, binary, indices

    def cmim_losses(self, data_samples=None) -> Dict[str, Tensor]:
        """CMIM terms from the activations of the last recorded pass.

        In the pixel form a memory bank is keyed by ``(image, slot)``:
        ``sample_idx * P + s`` for the ``s``-th sampled location. Locations
        are redrawn every step, so an entry holds a location of that image
        from its last visit: a pool of past locations for negatives.
        """
        indices = self.sample_indices(data_samples)
        weight = self.current_weight()
        total, logs = 0.0, {}
        for i, (name, layer_weight) in enumerate(
                zip(self.recorder.names, self.layer_weights)):
            latent, binary = self.recorded_pair(i)
            key = _layer_key(name)
            if indices is not None:
                indices = indices.to(binary.device)
            keys = indices
            if self.granularity == 'pixel':
                latent, binary, keys = self._locations(latent, binary, indices)
            z_binary, z_latent = self.embeddings[key](binary, latent)
            loss, bound = self.critics[key](z_binary, z_latent, keys)
            total = total + layer_weight * loss
            logs[f'cmim_nce.{name}'] = loss.detach()
            logs[f'cmim_mi_lb.{name}'] = torch.as_tensor(bound).detach()
        logs['loss_cmim'] = weight * total
        return logs

    def distill_terms(self) -> Dict[str, Tensor]:
        """Distillation losses from the last recorded pass (by loss name)."""
        terms: Dict[str, Tensor] = {}
        if self.distill_student is None:
            return terms
        for loss, s_name, t_name in zip(self.distill_losses,
                                        self.distill_student.names,
                                        self.distill_teacher.names):
            value = loss(
                self.distill_student.get(s_name),
                self.distill_teacher.get(t_name))
            terms[loss.loss_name] = terms.get(loss.loss_name, 0) + value
        return terms

    def _recorders(self, teacher: bool) -> List[HookRecorder]:
        pairs = ((self.teacher_recorder, self.distill_teacher) if teacher else
                 (self.recorder, self.distill_student))
        return [r for r in pairs if r is not None]

    @contextlib.contextmanager
    def _recording(self, teacher: bool):
        with contextlib.ExitStack() as stack:
            for recorder in self._recorders(teacher):
                stack.enter_context(recorder.recording())
            yield

    def run_teacher(self, inputs: Tensor) -> None:
        """The teacher's forward on the batch, recording its outputs."""
        backbone_only = self.distill_teacher is None and all(
            n.startswith(('backbone.', 'neck.'))
            for n in self.teacher_recorder.names)
        with self._recording(teacher=True):
            self.teacher(inputs, backbone_only=backbone_only)

    def loss(self, inputs: Tensor, data_samples) -> Dict[str, Tensor]:
        """The architecture's losses plus ``loss_cmim`` (one forward pass of
        the architecture; with a teacher, one no-grad pass of the teacher)."""
        try:
            with self._recording(teacher=False):
                losses = self.architecture.loss(inputs, data_samples)
            if self.teacher is not None:
                self.run_teacher(inputs)
            losses.update(self.cmim_losses(data_samples))
            losses.update(self.distill_terms())
        finally:
            for recorder in self._recorders(False) + self._recorders(True):
                recorder.clear()
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
