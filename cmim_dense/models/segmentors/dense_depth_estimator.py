"""Depth estimator with correct whole and sliding-window inference."""
from typing import List, Optional

from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from cmim_dense.registry import MODELS
from .dense_inference_mixin import DenseInferenceMixin, default_img_metas


@MODELS.register_module()
class DenseDepthEstimator(DenseInferenceMixin, EncoderDecoder):
    """Encoder-decoder monocular depth estimator.

    mmseg's ``EncoderDecoder`` API (``backbone``, optional ``neck``,
    ``decode_head``, optional ``auxiliary_head``, ``loss``, ``predict``,
    ``_forward``, ``extract_feat``) with a depth head (one output channel,
    e.g. :class:`~cmim_dense.models.heads.ASPPDepthHead`), whose loss reads
    ``gt_depth_map``. Unlike mmseg's ``DepthEstimator``, which silently
    replaces ``mode='slide'`` with whole-image inference, ``test_cfg``
    modes ``'whole'`` and ``'slide'`` (``crop_size``, ``stride``) both work,
    with optional ``flip=True`` test-time augmentation (see
    :class:`DenseInferenceMixin`). ``predict`` writes ``pred_depth_map``
    (PixelData (1, H, W), metres) at ``ori_shape``, padding and pipeline
    flip undone, into the given data samples.

    Args:
        backbone, decode_head, neck, auxiliary_head, train_cfg, test_cfg,
        data_preprocessor, pretrained, init_cfg: As mmseg's
            ``EncoderDecoder``.

    Raises:
        ValueError: If the decode head does not output one channel.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 neck: OptConfigType = None,
                 auxiliary_head: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            auxiliary_head=auxiliary_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            pretrained=pretrained,
            init_cfg=init_cfg)
        if getattr(self.decode_head, 'out_channels', None) != 1:
            raise ValueError(
                'DenseDepthEstimator needs a depth head with one output '
                f'channel (e.g. ASPPDepthHead), got '
                f'{type(self.decode_head).__name__} with out_channels='
                f'{getattr(self.decode_head, "out_channels", None)}')

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predict depth maps.

        Args:
            inputs (Tensor): Batch (N, C, H, W).
            data_samples (list[SegDataSample], optional): Samples to write
                the predictions into. Defaults to None (new samples).

        Returns:
            list[SegDataSample]: Samples with ``pred_depth_map``.
        """
        batch_img_metas = default_img_metas(inputs, data_samples)
        depth = self.inference(inputs, batch_img_metas)
        return self.postprocess_result(depth, data_samples)

    def postprocess_result(self,
                           depth: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        """Write ``pred_depth_map`` into the data samples.

        Args:
            depth (Tensor): Depth (N, 1, H, W) at the padded input size.
            data_samples (list[SegDataSample], optional): Samples; without
                them, new samples get the raw prediction.

        Returns:
            list[SegDataSample]: The samples.
        """
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(depth.shape[0])]
            metas: List[Optional[dict]] = [None] * depth.shape[0]
        else:
            metas = [sample.metainfo for sample in data_samples]
        for sample, meta, pred in zip(data_samples, metas, depth):
            if meta is not None:
                pred = self.restore_geometry(pred, meta, self.align_corners)
            sample.set_data({'pred_depth_map': PixelData(data=pred)})
        return data_samples
