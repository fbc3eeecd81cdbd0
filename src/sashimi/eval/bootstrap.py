"""Percentile bootstrap confidence intervals over rows (programs), vectorised with numpy.

One resampling of row indices is shared by every metric of a table, so the intervals of two metrics
of one system come from the same resamples. Undefined per-row values (NaN, e.g. enum accuracy of a
program without enum parameters) are left out of each resample's mean, as they are of the point value.
"""

from __future__ import annotations

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0


def resample_indices(n: int, *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> np.ndarray:
    """(resamples, n) row indices drawn with replacement, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, n, size=(resamples, n), dtype=np.int64) if n else np.zeros((resamples, 0), np.int64)
    )


def mean_and_ci(
    values: np.ndarray, indices: np.ndarray, level: float = 0.95
) -> tuple[float | None, float | None, float | None]:
    """Point mean of `values` (NaN = undefined, skipped) and its percentile bootstrap interval."""
    values = np.asarray(values, dtype=np.float64)
    defined = ~np.isnan(values)
    if not defined.any():
        return None, None, None
    point = float(values[defined].mean())
    filled = np.where(defined, values, 0.0)
    sums = filled[indices].sum(axis=1)
    counts = defined[indices].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    means = means[counts > 0]
    if means.size == 0:
        return point, None, None
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return point, float(low), float(high)


def table_cis(
    columns: dict[str, np.ndarray], *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> dict[str, dict[str, float | None]]:
    """`{metric: {"value", "ci_low", "ci_high", "n"}}` for per-row metric columns of equal length."""
    n = len(next(iter(columns.values()))) if columns else 0
    indices = resample_indices(n, resamples=resamples, seed=seed)
    out: dict[str, dict[str, float | None]] = {}
    for name, values in columns.items():
        values = np.asarray(values, dtype=np.float64)
        point, low, high = mean_and_ci(values, indices)
        out[name] = {
            "value": point,
            "ci_low": low,
            "ci_high": high,
            "n": int((~np.isnan(values)).sum()),
        }
    return out
