"""Small vectorised sampling helpers shared by the population and campaign generators."""
from __future__ import annotations

import numpy as np


def lognormal_with_mean(rng: np.random.Generator, mean: float | np.ndarray, sigma: float, size: int) -> np.ndarray:
    """Lognormal draws with the given arithmetic mean (mu = ln(mean) - sigma^2 / 2)."""
    return rng.lognormal(np.log(mean) - sigma * sigma / 2, sigma, size)


def truncated_pareto(rng: np.random.Generator, low: float, high: float, alpha: float, size: int) -> np.ndarray:
    """Pareto(alpha) draws restricted to [low, high] by inverse CDF (no pile-up at the cap)."""
    u = rng.random(size)
    return low / (1 - u * (1 - (low / high) ** alpha)) ** (1 / alpha)


def fill_groups(sizes: np.ndarray, total: int) -> np.ndarray:
    """Take group sizes in order until they cover ``total`` members; the last group is trimmed."""
    cumulative = np.cumsum(sizes)
    count = int(np.searchsorted(cumulative, total)) + 1
    if count > len(sizes):
        raise ValueError("not enough group sizes drawn to cover the population")
    kept = sizes[:count].astype(np.int64).copy()
    kept[-1] -= cumulative[count - 1] - total
    return kept[kept > 0]


def distinct_integers(rng: np.random.Generator, space: int, count: int) -> np.ndarray:
    """``count`` distinct integers in [0, space), in random order, without a space-sized permutation."""
    if count > space // 2:
        return rng.permutation(space)[:count]
    draw = rng.integers(0, space, int(count * 1.1) + 16, dtype=np.int64)
    _, first = np.unique(draw, return_index=True)
    keep = np.sort(first)
    if len(keep) < count:  # astronomically rare at these densities; draw again
        return distinct_integers(rng, space, count)
    return draw[keep[:count]]


def groups_of(sizes: np.ndarray) -> np.ndarray:
    """Group index of each member, members laid out group after group."""
    return np.repeat(np.arange(len(sizes)), sizes)


def first_of_group(sizes: np.ndarray) -> np.ndarray:
    """Member index of each group's first member."""
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
