"""One backbone, several dense task heads (segmentation, depth, ...)."""
from typing import Dict, List, Optional, Sequence, Union

from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from mmseg.utils import OptSampleList, SampleList, add_prefix
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from .dense_inference_mixin import DenseInferenceMixin, default_img_metas
from .task_spec import DEFAULT_TASK_SPECS, TaskSpec

HeadCfg = Union[ConfigType, Sequence[ConfigType]]


@MODELS.register_module()
class MultiTaskEncoderDecoder(DenseInferenceMixin, BaseSegmentor):
    """Multi-task encoder-decoder: one backbone (+ neck), one head per task.

    Config::

        model = dict(
            type='MultiTaskEncoderDecoder',
            backbone=dict(type='IRNetResNet', ...),
            heads=dict(
                seg=dict(type='ASPPHead', num_classes=40, ...),
                depth=dict(type='ASPPDepthHead', max_depth=10.0, ...)),
            loss_weights=dict(seg=1.0, depth=1.0),
            test_cfg=dict(mode='whole', flip=False))

    Tasks. A task name selects a :class:`TaskSpec`: ``'seg'`` reads
    ``gt_sem_seg`` and writes ``pred_sem_seg`` and ``seg_logits``;
    ``'depth'`` reads ``gt_depth_map`` and writes ``pred_depth_map``. More
    tasks are declared with ``tasks``, e.g. ``tasks=dict(normals=dict(
    kind='regression', gt_key='gt_normal_map', pred_key='pred_normal_map'))``
    (the head must read that field in its ``loss``; note that the test-time
    flip does not change the sign of vector components).

    Training. ``loss`` runs the backbone once and every head's (and
    auxiliary head's) ``loss``; every sample must hold each task's
    ``gt_key``, otherwise a ``ValueError`` names the task and the sample
    (no silent skip). Items are prefixed with the task's prefix
    (``seg.loss_ce``, ``seg.acc_seg``, ``depth.loss_silog``; auxiliary:
    ``seg.aux.loss_ce`` or ``seg.aux_0.loss_ce`` for a list) and items whose
    name starts with ``loss`` are multiplied by the task's loss weight.

    Inference. ``predict`` writes every task's prediction into the SAME
    data samples, at ``ori_shape`` (padding and pipeline flip undone), with
    whole or sliding-window inference and optional test-time flip from
    ``test_cfg`` (see :class:`DenseInferenceMixin`); ``_forward`` returns
    ``{task: head.forward(features)}``.

    Args:
        backbone (dict): Backbone config.
        heads (dict[str, dict]): Task name -> decode head config.
        neck (dict, optional): Neck config. Defaults to None.
        auxiliary_heads (dict[str, dict | list[dict]], optional): Task name
            -> auxiliary head config(s), used in training only.
        tasks (dict[str, dict], optional): Extra or overriding
            :class:`TaskSpec` fields per task name.
        loss_weights (dict[str, float], optional): Per-task loss weight,
            default 1.
        loss_prefixes (dict[str, str], optional): Per-task prefix of the
            loss items, default the task name.
        train_cfg, test_cfg (dict, optional): Passed to the heads / the
            inference.
        data_preprocessor (dict, optional): Data preprocessor config.
        pretrained (str, optional): Backbone checkpoint (sets
            ``backbone.pretrained``).
        init_cfg (dict, optional): Initialization config.

    Raises:
        ValueError: On an empty ``heads``, an unknown task, or weights,
            prefixes or auxiliary heads for tasks without a head.
    """

    def __init__(self,
                 backbone: ConfigType,
                 heads: Dict[str, ConfigType],
                 neck: OptConfigType = None,
                 auxiliary_heads: Optional[Dict[str, HeadCfg]] = None,
                 tasks: Optional[Dict[str, dict]] = None,
                 loss_weights: Optional[Dict[str, float]] = None,
                 loss_prefixes: Optional[Dict[str, str]] = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not isinstance(heads, dict) or not heads:
            raise ValueError('MultiTaskEncoderDecoder: heads must be a '
                             'non-empty dict task name -> head config, got '
                             f'{heads!r}')
        self.task_specs = self._build_task_specs(tasks or {})
        unknown = [t for t in heads if t not in self.task_specs]
        if unknown:
            raise ValueError(
                f'MultiTaskEncoderDecoder: unknown task(s) {unknown}; known: '
                f'{sorted(self.task_specs)}. Declare new tasks with '
                "tasks=dict(name=dict(kind=..., gt_key=..., pred_key=...))")
        for arg, value in (('loss_weights', loss_weights), ('loss_prefixes',
                                                            loss_prefixes),
                           ('auxiliary_heads', auxiliary_heads)):
            extra = sorted(set(value or {}) - set(heads))
            if extra:
                raise ValueError(f'MultiTaskEncoderDecoder: {arg} given for '
                                 f'task(s) {extra} without a head')
        if pretrained is not None:
            if backbone.get('pretrained') is not None:
                raise ValueError('both backbone and segmentor set pretrained '
                                 'weights')
            backbone.pretrained = pretrained
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        self.heads = nn.ModuleDict({
            task: MODELS.build(cfg)
            for task, cfg in heads.items()
        })
        self.auxiliary_heads = nn.ModuleDict()
        for task, cfgs in (auxiliary_heads or {}).items():
            if isinstance(cfgs, (list, tuple)):
                aux = nn.ModuleList(MODELS.build(c) for c in cfgs)
            else:
                aux = MODELS.build(cfgs)
            self.auxiliary_heads[task] = aux
        self.loss_weights = {
            task: float((loss_weights or {}).get(task, 1.0))
            for task in heads
        }
        self.loss_prefixes = {
            task: (loss_prefixes or {}).get(task, task)
            for task in heads
        }
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    @staticmethod
    def _build_task_specs(tasks: Dict[str, dict]) -> Dict[str, TaskSpec]:
        specs = dict(DEFAULT_TASK_SPECS)
        for name, cfg in tasks.items():
            if isinstance(cfg, TaskSpec):
                specs[name] = cfg
                continue
            base = specs.get(name)
            fields = dict(base.__dict__) if base is not None else {}
            fields.update(cfg)
            try:
                specs[name] = TaskSpec(**fields)
            except TypeError as err:
                raise ValueError(f'bad task spec for {name!r}: {err}') \
                    from err
        return specs

    @property
    def task_names(self) -> List[str]:
        """list[str]: The tasks, in head order."""
        return list(self.heads)

    @property
    def with_auxiliary_head(self) -> bool:
        """bool: Whether some task has an auxiliary head."""
        return len(self.auxiliary_heads) > 0

    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        """Backbone (and neck) features.

        Args:
            inputs (Tensor): Batch (N, C, H, W).

        Returns:
            list[Tensor] | tuple[Tensor]: Multi-level features.
        """
        x = self.backbone(inputs)
        if self.with_neck:
            x = self.neck(x)
        return x

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Every head's output resized to the input (or window) size.

        Args:
            inputs (Tensor): Batch (N, C, H, W).
            batch_img_metas (list[dict]): Meta information of each image.

        Returns:
            dict[str, Tensor]: Task -> logits / regression map.
        """
        x = self.extract_feat(inputs)
        return {
            task: head.predict(x, batch_img_metas, self.test_cfg)
            for task, head in self.heads.items()
        }

    def _check_gt(self, data_samples: SampleList) -> None:
        if data_samples is None:
            raise ValueError('MultiTaskEncoderDecoder.loss needs data '
                             'samples with the ground truth of every task')
        for task in self.heads:
            key = self.task_specs[task].gt_key
            for i, sample in enumerate(data_samples):
                if key not in sample:
                    raise ValueError(
                        f'MultiTaskEncoderDecoder: task {task!r} needs '
                        f'{key} in every training sample, but sample {i} of '
                        'the batch '
                        f'({sample.metainfo.get("img_path", "no img_path")})'
                        ' has none')

    def _weighted(self, losses: dict, task: str, prefix: str) -> dict:
        weight = self.loss_weights[task]
        out = {}
        for name, value in losses.items():
            if name.startswith('loss') and weight != 1.0:
                if isinstance(value, (list, tuple)):
                    value = [v * weight for v in value]
                else:
                    value = value * weight
            out[name] = value
        return add_prefix(out, prefix)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses of every task.

        Args:
            inputs (Tensor): Batch (N, C, H, W).
            data_samples (list[SegDataSample]): Samples with every task's
                ground truth.

        Returns:
            dict[str, Tensor]: Prefixed, weighted loss items.

        Raises:
            ValueError: If a sample lacks a task's ground truth.
        """
        self._check_gt(data_samples)
        x = self.extract_feat(inputs)
        losses = dict()
        for task, head in self.heads.items():
            prefix = self.loss_prefixes[task]
            losses.update(
                self._weighted(
                    head.loss(x, data_samples, self.train_cfg), task, prefix))
            aux = self.auxiliary_heads[task] \
                if task in self.auxiliary_heads else None
            if isinstance(aux, nn.ModuleList):
                for idx, aux_head in enumerate(aux):
                    losses.update(
                        self._weighted(
                            aux_head.loss(x, data_samples, self.train_cfg),
                            task, f'{prefix}.aux_{idx}'))
            elif aux is not None:
                losses.update(
                    self._weighted(
                        aux.loss(x, data_samples, self.train_cfg), task,
                        f'{prefix}.aux'))
        return losses

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predict every task into the same data samples.

        Args:
            inputs (Tensor): Batch (N, C, H, W).
            data_samples (list[SegDataSample], optional): Samples to write
                into. Defaults to None (new samples, raw size).

        Returns:
            list[SegDataSample]: Samples with every task's prediction
            (``pred_sem_seg`` + ``seg_logits``, ``pred_depth_map``, ...).
        """
        batch_img_metas = default_img_metas(inputs, data_samples)
        outputs = self.inference(inputs, batch_img_metas)
        return self.postprocess_result(outputs, data_samples)

    def postprocess_result(self,
                           outputs: Dict[str, Tensor],
                           data_samples: OptSampleList = None) -> SampleList:
        """Write each task's prediction into the data samples.

        Args:
            outputs (dict[str, Tensor]): Task -> (N, C, H, W) at the padded
                input size.
            data_samples (list[SegDataSample], optional): Samples; without
                them, new samples get the raw-size predictions.

        Returns:
            list[SegDataSample]: The samples.
        """
        batch = next(iter(outputs.values())).shape[0]
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(batch)]
            metas: List[Optional[dict]] = [None] * batch
        else:
            metas = [sample.metainfo for sample in data_samples]
        for task, output in outputs.items():
            spec = self.task_specs[task]
            head = self.heads[task]
            align_corners = getattr(head, 'align_corners', False)
            for sample, meta, pred in zip(data_samples, metas, output):
                if meta is not None:
                    pred = self.restore_geometry(pred, meta, align_corners)
                if spec.kind == 'regression':
                    sample.set_data({spec.pred_key: PixelData(data=pred)})
                    continue
                if pred.shape[0] > 1:
                    label = pred.argmax(dim=0, keepdim=True)
                else:
                    pred = pred.sigmoid()
                    label = (pred > head.threshold).to(pred)
                fields = {spec.pred_key: PixelData(data=label)}
                if spec.logits_key:
                    fields[spec.logits_key] = PixelData(data=pred)
                sample.set_data(fields)
        return data_samples

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, Tensor]:
        """Raw head outputs, without post-processing.

        Args:
            inputs (Tensor): Batch (N, C, H, W).
            data_samples (list[SegDataSample], optional): Unused.

        Returns:
            dict[str, Tensor]: Task -> ``head.forward(features)``.
        """
        x = self.extract_feat(inputs)
        return {task: head.forward(x) for task, head in self.heads.items()}
