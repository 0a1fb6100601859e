"""Benchmarks of triage (``make bench``, ``python -m benchmarks [name]``) and their timing helpers."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

__all__ = ["default_history", "environ", "median_seconds", "timed"]

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


@contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set the environment variables ``values`` for the ``with`` block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def default_history() -> Iterator[tuple[Path, Path]]:
    """Yield (a temporary folder, its ``history/`` with the default-seed simulated history).

    The folder and everything a benchmark writes into it are deleted after the block.
    """
    from triage.config import DEFAULT_SEED
    from triage.synth import generate

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        yield folder, generate(folder / "history", seed=DEFAULT_SEED)
