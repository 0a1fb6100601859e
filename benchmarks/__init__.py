"""Benchmarks of triage (``make bench``, ``python -m benchmarks [name]``) and their timing helpers."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["median_seconds", "timed"]

T = TypeVar("T")


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    """Return the median wall-clock time of ``repeat`` calls of ``fn``, in seconds."""
    if repeat < 1:
        raise ValueError(f"`repeat` must be at least 1. Got {repeat} instead.")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Call ``fn`` once; return (wall-clock seconds, its value)."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value
