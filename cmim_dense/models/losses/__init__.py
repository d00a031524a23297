"""Losses (depth losses, CMIM)."""
