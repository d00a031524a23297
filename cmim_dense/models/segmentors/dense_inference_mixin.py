"""Whole / sliding-window / flipped inference shared by the dense models."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmseg.models.utils import resize
from torch import Tensor

DenseOutput = Union[Tensor, Dict[str, Tensor]]

TEST_MODES = ('whole', 'slide')
FLIP_DIRECTIONS = {'horizontal': 3, 'vertical': 2}


def _pair(value, name: str) -> Tuple[int, int]:
    """``(h, w)`` from an int or a pair of positive ints."""
    if isinstance(value, int):
        value = (value, value)
    if not (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, int) and v > 0 for v in value)):
        raise ValueError(f'test_cfg.{name} must be a positive int or a pair '
                         f'(h, w) of positive ints, got {value!r}')
    return int(value[0]), int(value[1])


def _as_dict(out: DenseOutput) -> Dict[Optional[str], Tensor]:
    return dict(out) if isinstance(out, dict) else {None: out}


def _like(out: Dict[Optional[str], Tensor], template: DenseOutput):
    return out if isinstance(template, dict) else out[None]


class DenseInferenceMixin:
    """Test-time inference of dense predictors, driven by ``test_cfg``.

    The model provides ``encode_decode(inputs, batch_img_metas)`` returning
    one tensor (N, C, H, W) at the input size, or a dict of such tensors
    (one per task); this mixin adds:

    - ``mode='whole'``: one pass on the whole (padded) batch.
    - ``mode='slide'``: windows of ``crop_size`` (h, w) every ``stride``
      (h, w) pixels, the last window of a row/column aligned with the image
      border (a window larger than the image is clipped to it), each window
      decoded at its own size (its metas get ``img_shape = pad_shape =``
      window size), the outputs summed into place and divided by the number
      of windows covering each pixel. Logits (segmentation) and depths
      (regression) are averaged alike. A window covering the whole image
      gives exactly the ``whole`` result; so does a fully convolutional,
      per-pixel model for any window. ``stride`` larger than ``crop_size``
      would leave pixels uncovered and is refused.
    - ``flip=True`` (optional, with ``flip_direction`` ``'horizontal'``
      (default) or ``'vertical'``): the same inference on the flipped batch,
      flipped back and averaged with the plain one (logits, resp. depths, are
      averaged).

    Example: ``test_cfg=dict(mode='slide', crop_size=(480, 480),
    stride=(320, 320), flip=True)``. ``test_cfg=None`` means whole, no flip.

    :meth:`restore_geometry` undoes the test pipeline's padding, flip and
    resize for one sample, mapping a prediction back to ``ori_shape``.
    """

    def _test_option(self, key: str, default=None):
        cfg = getattr(self, 'test_cfg', None) or {}
        return cfg.get(key, default)

    def inference(self, inputs: Tensor,
                  batch_img_metas: List[dict]) -> DenseOutput:
        """Whole or sliding-window inference, with optional flip.

        Args:
            inputs (Tensor): Batch (N, C, H, W).
            batch_img_metas (list[dict]): Meta information of each image.

        Returns:
            Tensor | dict[str, Tensor]: The output(s) of ``encode_decode``
            at the input size.

        Raises:
            ValueError: On an unknown mode or flip direction, or a bad
                ``crop_size``/``stride``.
        """
        mode = self._test_option('mode', 'whole')
        if mode not in TEST_MODES:
            raise ValueError(f'{type(self).__name__}: test_cfg.mode must be '
                             f'one of {TEST_MODES}, got {mode!r}')
        out = self._infer(inputs, batch_img_metas, mode)
        if not self._test_option('flip', False):
            return out
        direction = self._test_option('flip_direction', 'horizontal')
        if direction not in FLIP_DIRECTIONS:
            raise ValueError(f'{type(self).__name__}: test_cfg.'
                             'flip_direction must be one of '
                             f'{tuple(FLIP_DIRECTIONS)}, got {direction!r}')
        dim = FLIP_DIRECTIONS[direction]
        flipped = _as_dict(
            self._infer(inputs.flip(dims=(dim, )), batch_img_metas, mode))
        merged = {
            k: (v + flipped[k].flip(dims=(dim, ))) / 2
            for k, v in _as_dict(out).items()
        }
        return _like(merged, out)

    def _infer(self, inputs: Tensor, batch_img_metas: List[dict],
               mode: str) -> DenseOutput:
        if mode == 'slide':
            return self.slide_inference(inputs, batch_img_metas)
        return self.whole_inference(inputs, batch_img_metas)

    def whole_inference(self, inputs: Tensor,
                        batch_img_metas: List[dict]) -> DenseOutput:
        """One ``encode_decode`` pass on the whole batch.

        Args:
            inputs (Tensor): Batch (N, C, H, W).
            batch_img_metas (list[dict]): Meta information of each image.

        Returns:
            Tensor | dict[str, Tensor]: Output(s) at the input size.
        """
        return self.encode_decode(inputs, batch_img_metas)

    def slide_inference(self, inputs: Tensor,
                        batch_img_metas: List[dict]) -> DenseOutput:
        """Sliding-window inference (see the class docstring).

        Args:
            inputs (Tensor): Batch (N, C, H, W).
            batch_img_metas (list[dict]): Meta information of each image;
                not modified.

        Returns:
            Tensor | dict[str, Tensor]: Averaged output(s) at the input
            size.
        """
        h_crop, w_crop = _pair(self._test_option('crop_size'), 'crop_size')
        h_stride, w_stride = _pair(self._test_option('stride'), 'stride')
        if h_stride > h_crop or w_stride > w_crop:
            raise ValueError(
                f'{type(self).__name__}: slide stride ({h_stride}, '
                f'{w_stride}) larger than crop_size ({h_crop}, {w_crop}) '
                'would leave pixels without prediction')
        batch, _, h_img, w_img = inputs.shape
        h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
        sums: Dict[Optional[str], Tensor] = {}
        count = inputs.new_zeros((1, 1, h_img, w_img))
        template = None
        for h_idx in range(h_grids):
            for w_idx in range(w_grids):
                y2 = min(h_idx * h_stride + h_crop, h_img)
                x2 = min(w_idx * w_stride + w_crop, w_img)
                y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
                crop = inputs[:, :, y1:y2, x1:x2]
                size = (y2 - y1, x2 - x1)
                metas = [
                    dict(meta, img_shape=size, pad_shape=size)
                    for meta in batch_img_metas
                ]
                out = self.encode_decode(crop, metas)
                template = out
                for key, value in _as_dict(out).items():
                    if key not in sums:
                        sums[key] = value.new_zeros(
                            (batch, value.shape[1], h_img, w_img))
                    sums[key][:, :, y1:y2, x1:x2] += value
                count[:, :, y1:y2, x1:x2] += 1
        averaged = {k: v / count for k, v in sums.items()}
        return _like(averaged, template)

    @staticmethod
    def restore_geometry(pred: Tensor,
                         img_meta: dict,
                         align_corners: bool = False,
                         mode: str = 'bilinear') -> Tensor:
        """Map one sample's prediction back to its original geometry.

        Removes the padding (``img_padding_size`` or ``padding_size``:
        left, right, top, bottom), undoes a pipeline flip (``flip``,
        ``flip_direction``) and resizes to ``ori_shape`` (when present).

        Args:
            pred (Tensor): Prediction (C, H, W) at the padded input size.
            img_meta (dict): The sample's meta information.
            align_corners (bool): For the resize. Defaults to False.
            mode (str): Interpolation mode. Defaults to ``'bilinear'``.

        Returns:
            Tensor: Prediction (C, H0, W0) at ``ori_shape``.
        """
        pred = pred[None]
        padding = img_meta.get('img_padding_size',
                               img_meta.get('padding_size', None))
        if padding is not None:
            left, right, top, bottom = (int(p) for p in padding)
            h, w = pred.shape[-2:]
            pred = pred[..., top:h - bottom, left:w - right]
        if img_meta.get('flip', False):
            direction = img_meta.get('flip_direction', 'horizontal')
            if direction not in FLIP_DIRECTIONS:
                raise ValueError('cannot undo flip_direction '
                                 f'{direction!r}; expected one of '
                                 f'{tuple(FLIP_DIRECTIONS)}')
            pred = pred.flip(dims=(FLIP_DIRECTIONS[direction], ))
        ori_shape: Optional[Sequence[int]] = img_meta.get('ori_shape', None)
        if ori_shape is not None and \
                tuple(pred.shape[-2:]) != tuple(ori_shape[:2]):
            pred = resize(
                pred,
                size=tuple(int(s) for s in ori_shape[:2]),
                mode=mode,
                align_corners=align_corners if mode != 'nearest' else None,
                warning=False)
        return pred[0]


def default_img_metas(inputs: Tensor,
                      data_samples: Optional[Sequence] = None) -> List[dict]:
    """Meta information of a batch, completed with the input size.

    Args:
        inputs (Tensor): Batch (N, C, H, W).
        data_samples (Sequence[SegDataSample], optional): Samples whose
            metainfo is used. Defaults to None.

    Returns:
        list[dict]: One dict per image, with ``ori_shape``, ``img_shape``
        and ``pad_shape`` defaulting to the input size and ``padding_size``
        to zeros (as mmseg does without samples).
    """
    size = tuple(inputs.shape[2:])
    defaults = dict(
        ori_shape=size,
        img_shape=size,
        pad_shape=size,
        padding_size=[0, 0, 0, 0])
    if data_samples is None:
        return [dict(defaults) for _ in range(inputs.shape[0])]
    if len(data_samples) != inputs.shape[0]:
        raise ValueError(f'{len(data_samples)} data samples for a batch of '
                         f'{inputs.shape[0]} inputs')
    metas = []
    for sample in data_samples:
        meta = dict(sample.metainfo)
        for key, value in defaults.items():
            meta.setdefault(key, value)
        metas.append(meta)
    return metas


__all__ = ['DenseInferenceMixin', 'default_img_metas']
