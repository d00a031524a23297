"""Metrics (segmentation and depth)."""
