"""Segmentors: depth estimator and multi-task encoder-decoder."""
from .dense_depth_estimator import DenseDepthEstimator
from .dense_inference_mixin import DenseInferenceMixin
from .multi_task_encoder_decoder import MultiTaskEncoderDecoder
from .task_spec import DEFAULT_TASK_SPECS, TaskSpec

__all__ = [
    'DenseDepthEstimator', 'DenseInferenceMixin', 'MultiTaskEncoderDecoder',
    'TaskSpec', 'DEFAULT_TASK_SPECS'
]
