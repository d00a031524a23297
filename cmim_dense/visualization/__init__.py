"""Visualisation of multi-task (segmentation + depth) predictions."""
from .multi_task_local_visualizer import DEPTH_CMAPS, MultiTaskLocalVisualizer
from .multi_task_visualization_hook import MultiTaskVisualizationHook

__all__ = [
    'DEPTH_CMAPS', 'MultiTaskLocalVisualizer', 'MultiTaskVisualizationHook'
]
