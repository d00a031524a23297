"""Single-image inference with a deploy model."""
from typing import Dict

import numpy as np
import torch
from mmseg.structures import SegDataSample
from torch import nn


@torch.no_grad()
def predict_image(model: nn.Module,
                  image: np.ndarray) -> Dict[str, np.ndarray]:
    """Predict one image with a segmentor (engine or PyTorch form).

    Args:
        model (nn.Module): An mmseg segmentor (``EncoderDecoder``,
            ``MultiTaskEncoderDecoder``, ``DenseDepthEstimator``) in eval
            mode, with its data preprocessor.
        image (np.ndarray): ``H x W x 3`` uint8 image, BGR (``cv2.imread``
            order; the preprocessor's ``bgr_to_rgb`` applies).

    Returns:
        dict: ``'seg'`` (``H x W`` int64 labels) and/or ``'depth'``
        (``H x W`` float32), whichever the model predicts.

    Raises:
        ValueError: If ``image`` is not ``H x W x 3``.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'predict_image: expected an H x W x 3 image, got '
                         f'shape {image.shape}')
    h, w = image.shape[:2]
    inputs = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    sample = SegDataSample(
        metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
    result = model.test_step(dict(inputs=[inputs], data_samples=[sample]))[0]
    out = {}
    if 'pred_sem_seg' in result:
        out['seg'] = result.pred_sem_seg.data[0].cpu().numpy()
    if 'pred_depth_map' in result:
        out['depth'] = result.pred_depth_map.data[0].float().cpu().numpy()
    return out
