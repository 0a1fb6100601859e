"""Pausing Python's cycle collector while a bulk step builds many acyclic objects.

Reading a 100,000-case queue or writing a run record makes millions of tuples, strings and
small dicts, none of them in reference cycles; each few hundred allocations the collector
walks the young objects, and now and then every object of the process (the model, the
frames), which made up a quarter of the queue's read time. Reference counting still frees
everything as usual; cycles made meanwhile are collected once the collector runs again.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["gc_paused"]

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cycle collector for the ``with`` block, across threads.

    The collector is process-wide: the first block to enter notes whether it was on and the
    last one to leave puts it back, so overlapping blocks on two threads never leave it off.
    """
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
