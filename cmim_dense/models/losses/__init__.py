"""Losses (depth losses, CMIM)."""
from .cmim_nce_loss import CMIMNCELoss, info_nce_loss, memory_nce_loss  # noqa: F401,E501
from .contrast_memory import ContrastMemory  # noqa: F401
