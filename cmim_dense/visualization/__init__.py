"""Visualisation of multi-task (segmentation + depth) predictions."""
from .multi_task_local_visualizer import MultiTaskLocalVisualizer
from .multi_task_visualization_hook import MultiTaskVisualizationHook

__all__ = ['MultiTaskLocalVisualizer', 'MultiTaskVisualizationHook']
