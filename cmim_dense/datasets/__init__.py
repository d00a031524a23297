"""Datasets (NYUD-v2: official .mat, folder layouts, synthetic twin)."""
