"""Dense prediction heads (segmentation, depth)."""
