"""Segmentors: depth estimator, multi-task encoder-decoder, CMIM wrapper."""
