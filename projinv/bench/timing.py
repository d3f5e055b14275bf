"""Wall-clock timing and the statistics reported for every stage."""

import math
import statistics
import time
from contextlib import contextmanager


@contextmanager
def stopwatch():
    """`with stopwatch() as t: ...` then `t()` is the elapsed seconds (frozen at exit)."""
    start = time.perf_counter()
    end = None

    def elapsed() -> float:
        return (end if end is not None else time.perf_counter()) - start

    try:
        yield elapsed
    finally:
        end = time.perf_counter()


def summary(samples: list[float]) -> dict:
    """Median, min and max of the runs (None when there were none)."""
    if not samples:
        return {"median_s": None, "min_s": None, "max_s": None}
    return {"median_s": statistics.median(samples), "min_s": min(samples), "max_s": max(samples)}


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile: with 20 samples, p95 is the 19th fastest."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
