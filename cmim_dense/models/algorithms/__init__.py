"""Training algorithms that wrap a segmentor (CMIM)."""
from .cmim import CMIM, extract_architecture_state
from .cmim_embedding import CMIMEmbedding

__all__ = ['CMIM', 'CMIMEmbedding', 'extract_architecture_state']
