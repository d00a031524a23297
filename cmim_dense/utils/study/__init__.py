"""The study tool's library: run FP / BNN / BNN + CMIM candidates over
seeds with ``tools/train.py`` and report them with uncertainty
(``tools/analysis_tools/run_study.py``)."""
from .run_launcher import LaunchSettings
from .run_plan import StudyRun, plan_runs
from .statistics import PairedDifference, Summary, paired_difference
from .statistics import summarize
from .study_config import (Candidate, MetricSpec, StudyConfig,
                           StudyConfigError, load_study_config)
from .study_runner import StudyRunner

__all__ = [
    'Candidate', 'LaunchSettings', 'MetricSpec', 'PairedDifference',
    'StudyConfig', 'StudyConfigError', 'StudyRun', 'StudyRunner', 'Summary',
    'load_study_config', 'paired_difference', 'plan_runs', 'summarize'
]
