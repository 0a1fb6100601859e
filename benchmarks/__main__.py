"""Run every benchmark (``make bench``) and print one table of timings.

Each ``benchmarks/bench_*.py`` module exposes ``run() -> list[tuple[str, float, str]]``:
(what was measured, seconds, a note such as sizes or the target).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    only = sys.argv[1:]
    rows: list[tuple[str, float, str]] = []
    for name in names:
        if only and not any(o in name for o in only):
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}", flush=True)
        for what, seconds, note in module.run():
            print(f"{what:<60} {seconds:9.3f} s  {note}", flush=True)
            rows.append((what, seconds, note))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
