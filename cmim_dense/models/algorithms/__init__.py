"""Training algorithms that wrap a segmentor (CMIM) and their parts."""
from .cmim import CMIM, extract_architecture_state

__all__ = ['CMIM', 'extract_architecture_state']
