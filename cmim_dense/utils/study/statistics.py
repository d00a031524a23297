"""Summary statistics of a study: mean +- sample std, paired differences.

The paired difference of a candidate to its baseline uses the seeds both
finished: ``d_s = x_candidate,s - x_baseline,s``, its mean ``d``, its sample
standard deviation ``s_d`` (ddof=1), and the two-sided 95% interval of the
paired t-test, ``d +- t_{0.975, n-1} * s_d / sqrt(n)`` (the quantile from
``scipy.stats.t``), with the test's two-sided p-value for ``d = 0``.
"""
import math
from dataclasses import asdict, dataclass
from typing import Dict, Optional, Sequence

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Summary:
    """Mean and sample standard deviation of a sample.

    Args:
        n (int): Sample size.
        mean (float): Mean (nan if ``n == 0``).
        std (float): Sample std, ddof=1 (nan if ``n < 2``).
    """
    n: int
    mean: float
    std: float

    def to_dict(self) -> Dict[str, float]:
        """dict: The fields."""
        return asdict(self)


@dataclass(frozen=True)
class PairedDifference:
    """The paired t-test of ``candidate - baseline`` over common seeds.

    Args:
        n (int): Number of pairs.
        mean (float): Mean difference.
        std (float): Sample std of the differences (ddof=1).
        t_quantile (float): ``t_{(1 + confidence) / 2, n - 1}``.
        low (float): Lower end of the interval.
        high (float): Upper end of the interval.
        p_value (float): Two-sided p-value of ``mean difference = 0``.
        confidence (float): Interval level. Defaults to 0.95.

    The interval and p-value are nan with fewer than two pairs; with a
    zero spread the interval is the point and the p-value is 0 (1 if the
    difference is 0 too).
    """
    n: int
    mean: float
    std: float
    t_quantile: float
    low: float
    high: float
    p_value: float
    confidence: float = CONFIDENCE

    def to_dict(self) -> Dict[str, float]:
        """dict: The fields."""
        return asdict(self)


def summarize(values: Sequence[float]) -> Summary:
    """Mean and sample std (ddof=1).

    Args:
        values (Sequence[float]): The sample.

    Returns:
        Summary: Its summary.
    """
    n = len(values)
    if n == 0:
        return Summary(0, math.nan, math.nan)
    mean = math.fsum(values) / n
    if n < 2:
        return Summary(n, mean, math.nan)
    var = math.fsum((v - mean)**2 for v in values) / (n - 1)
    return Summary(n, mean, math.sqrt(var))


def t_quantile(n: int, confidence: float = CONFIDENCE) -> float:
    """``t_{(1 + confidence) / 2}`` with ``n - 1`` degrees of freedom.

    Args:
        n (int): Sample size (>= 2).
        confidence (float): Two-sided level. Defaults to 0.95.

    Returns:
        float: The Student t quantile.
    """
    from scipy import stats
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1))


def paired_difference(
        candidate: Dict[int, float],
        baseline: Dict[int, float],
        confidence: float = CONFIDENCE) -> Optional[PairedDifference]:
    """Paired t-test of ``candidate - baseline`` over the common seeds.

    Args:
        candidate (dict[int, float]): Seed -> value of the candidate.
        baseline (dict[int, float]): Seed -> value of its baseline.
        confidence (float): Interval level. Defaults to 0.95.

    Returns:
        PairedDifference | None: None if no seed is common to both.
    """
    seeds = sorted(set(candidate) & set(baseline))
    if not seeds:
        return None
    diffs = [candidate[s] - baseline[s] for s in seeds]
    summary = summarize(diffs)
    n, mean, std = summary.n, summary.mean, summary.std
    if n < 2:
        return PairedDifference(n, mean, math.nan, math.nan, math.nan,
                                math.nan, math.nan, confidence)
    quantile = t_quantile(n, confidence)
    half = quantile * std / math.sqrt(n)
    if std == 0:
        p_value = 1.0 if mean == 0 else 0.0
    else:
        from scipy import stats
        t_stat = mean / (std / math.sqrt(n))
        p_value = float(2 * stats.t.sf(abs(t_stat), n - 1))
    return PairedDifference(n, mean, std, quantile, mean - half, mean + half,
                            p_value, confidence)
