"""Registry and intake timings on the full default-seed simulated history.

Loads the history into a fresh SQLite file (and PostgreSQL when ``TRIAGE_TEST_PG_URL`` is
set), reloads it (idempotent: adds nothing), reads it back, and ingests the generator's files.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmarks import timed


def run() -> list[tuple[str, float, str]]:
    from triage.config import DEFAULT_SEED
    from triage.intake import ingest_file
    from triage.registry import Base, Registry
    from triage.synth import generate

    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        history = root / "history"
        generate(history, seed=DEFAULT_SEED)
        sizes = {p.stem: sum(1 for _ in p.open()) - 1 for p in history.glob("*.csv")}
        note = (
            f"{sizes['cases']} cases, {sizes['communications']} comms, "
            f"{sizes['submissions']} submissions, {sizes['queue']} queued"
        )
        targets = [("sqlite", f"sqlite:///{root / 'bench.db'}")]
        pg = os.environ.get("TRIAGE_TEST_PG_URL")
        if pg:
            targets.append(("postgresql", pg))
        for label, url in targets:
            registry = Registry(url).init()
            if label == "postgresql":
                Base.metadata.drop_all(registry.engine)
                registry.init()
            seconds, summary = timed(lambda r=registry: r.load_history(history))
            events = summary.added["status_history"]
            rows.append(
                (
                    f"load_history, full default seed ({label})",
                    seconds,
                    f"{note}; {events} status steps; target: seconds",
                )
            )
            seconds, again = timed(lambda r=registry: r.load_history(history))
            rows.append(
                (
                    f"load_history again ({label})",
                    seconds,
                    f"added {again.total_added} (idempotent)",
                )
            )
            seconds, _ = timed(registry.history)
            rows.append(
                (f"Registry.history() ({label})", seconds, "identical frames to read_history")
            )
            seconds, queue = timed(registry.queue)
            rows.append(
                (f"Registry.queue() ({label})", seconds, f"{len(queue)} awaiting a decision")
            )
            if label == "postgresql":
                Base.metadata.drop_all(registry.engine)
            registry.dispose()
        for name in ("submissions", "cases", "queue"):
            seconds, result = timed(lambda n=name: ingest_file(history / f"{n}.csv"))
            rows.append((f"ingest {name}.csv (check only)", seconds, result.summary()))
        fresh = Registry(f"sqlite:///{root / 'ingest.db'}").init()
        seconds, result = timed(lambda: ingest_file(history / "submissions.csv", registry=fresh))
        rows.append(("ingest submissions.csv into SQLite", seconds, f"{result.added} added"))
        seconds, result = timed(lambda: ingest_file(history / "submissions.csv", registry=fresh))
        rows.append(("re-ingest submissions.csv", seconds, f"{result.added} added (idempotent)"))
        fresh.dispose()
    return rows
