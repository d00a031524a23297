"""Segmentors: depth estimator and multi-task encoder-decoder."""
from .dense_depth_estimator import DenseDepthEstimator
from .multi_task_encoder_decoder import MultiTaskEncoderDecoder

__all__ = ['DenseDepthEstimator', 'MultiTaskEncoderDecoder']
