"""Training algorithms that wrap a segmentor (CMIM) and their parts."""
from .cmim import CMIM, extract_architecture_state, probe_channels
from .cmim_embedding import CMIMEmbedding
from .fp_teacher import FPTeacher
from .location_sampler import gather_locations, sample_locations

__all__ = [
    'CMIM', 'CMIMEmbedding', 'FPTeacher', 'extract_architecture_state',
    'gather_locations', 'probe_channels', 'sample_locations'
]
