"""Visualization hook that also works without image files."""
import os.path as osp
from typing import Optional, Sequence, Tuple

import mmcv
import mmengine.fileio as fileio
import numpy as np
import torch
from mmengine.runner import Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.structures import SegDataSample

from cmim_dense.registry import HOOKS


@HOOKS.register_module()
class MultiTaskVisualizationHook(SegVisualizationHook):
    """Draw every ``interval``-th val/test batch with the visualizer.

    Like mmseg's ``SegVisualizationHook`` (same arguments; ``tools/test.py
    --show-dir DIR`` sets ``draw=True`` and the visualizer's ``save_dir``),
    with :class:`MultiTaskLocalVisualizer` in mind:

    - the input image is read from ``img_path`` when that file can be read,
      otherwise taken from the batch (``data_batch['inputs'][i]``, before
      the data preprocessor: uint8 (C, H, W) in ``input_channel_order``), so
      datasets without image files (e.g. frames read from a .mat file)
      work;
    - the panel is named ``<mode>_<image stem>`` (``<mode>_<sample_idx>``
      when the image came from the batch) and saved by the backends as
      ``vis_data/vis_image/<name>_<step>.png`` under the visualizer's
      ``save_dir``.

    Args:
        draw (bool): Draw at all. Defaults to False.
        interval (int): Draw one batch every ``interval``. Defaults to 50.
        show (bool): Display the panels. Defaults to False.
        wait_time (float): Display time (s). Defaults to 0.
        backend_args (dict, optional): File backend arguments.
        input_channel_order (str): ``'bgr'`` (mmseg's ``LoadImageFromFile``
            default) or ``'rgb'``, for images taken from the batch.
    """

    def __init__(self,
                 draw: bool = False,
                 interval: int = 50,
                 show: bool = False,
                 wait_time: float = 0.,
                 backend_args: Optional[dict] = None,
                 input_channel_order: str = 'bgr') -> None:
        super().__init__(draw, interval, show, wait_time, backend_args)
        if input_channel_order not in ('bgr', 'rgb'):
            raise ValueError("input_channel_order must be 'bgr' or 'rgb', "
                             f'got {input_channel_order!r}')
        self.input_channel_order = input_channel_order

    def _read_image(self, sample: SegDataSample, data_batch: Optional[dict],
                    index: int) -> Tuple[np.ndarray, bool]:
        """RGB input of the ``index``-th sample, and whether from a file."""
        path = sample.metainfo.get('img_path', None)
        if path:
            try:
                img_bytes = fileio.get(path, backend_args=self.backend_args)
                img = mmcv.imfrombytes(img_bytes, channel_order='rgb')
                if img is not None:
                    return img, True
            except (OSError, ValueError):
                pass  # no readable file: use the batch
        inputs = (data_batch or {}).get('inputs', None)
        if inputs is None or index >= len(inputs):
            raise RuntimeError(
                'MultiTaskVisualizationHook: no readable img_path and no '
                'input image in the batch for sample '
                f'{sample.metainfo.get("sample_idx", index)}')
        img = inputs[index]
        if isinstance(img, torch.Tensor):
            img = img.detach().cpu().numpy()
        img = np.asarray(img)
        if img.ndim == 3 and img.shape[0] in (1, 3, 4):
            img = img.transpose(1, 2, 0)
        if img.ndim == 2:
            img = img[..., None]
        if img.shape[2] == 1:
            img = np.repeat(img, 3, axis=2)
        img = img[..., :3]
        if self.input_channel_order == 'bgr':
            img = img[..., ::-1]
        if img.dtype != np.uint8:
            img = np.clip(img, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(img), False

    @staticmethod
    def _stem(sample: SegDataSample, index: int, from_file: bool) -> str:
        """Image file stem, else ``sample_idx`` (paths into one container
        file, e.g. ``x.mat#12``, would all give the same stem)."""
        path = sample.metainfo.get('img_path', None)
        if path and from_file:
            return osp.splitext(osp.basename(str(path)))[0]
        idx = sample.metainfo.get('sample_idx', None)
        return str(idx) if idx is not None else f'sample{index}'

    def _after_iter(self,
                    runner: Runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        """Draw the batch's panels every ``interval`` iterations.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch in the loop.
            data_batch (dict): The batch from the dataloader.
            outputs (Sequence[SegDataSample]): The model's predictions.
            mode (str): ``'val'`` or ``'test'`` (``'train'`` is skipped).
        """
        if self.draw is False or mode == 'train':
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        for index, output in enumerate(outputs):
            img, from_file = self._read_image(output, data_batch, index)
            self._visualizer.add_datasample(
                f'{mode}_{self._stem(output, index, from_file)}',
                img,
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                # runner.iter would build the train loop (and its dataset)
                # in a test-only run
                step=runner.iter if mode == 'val' else 0)
