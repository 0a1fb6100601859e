"""Audit and follow-up benchmarks (``make bench``): recording, verifying, replaying and
exporting a selection run on a full-year queue, and the follow-up and state tables on the
default-seed simulated history. Medians of a few runs on this machine, in seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from typing import Any

import numpy as np
import pandas as pd

from benchmarks import default_history, median_seconds


class _HashScorer:
    """Scores from a hash of the case id (no model needed; the bench measures the audit)."""

    version = "bench"
    sha256 = "0" * 64

    def predict(self, cases: pd.DataFrame, history: Any) -> pd.DataFrame:
        ids = cases["case_id"].astype(str)
        score = [int(hashlib.sha256(c.encode()).hexdigest()[:8], 16) / 16**8 for c in ids]
        return pd.DataFrame(
            {"case_id": ids.to_numpy(), "score": score, "lower": score, "upper": score}
        )


def _queue(n: int) -> pd.DataFrame:
    from triage.schema import UN_REGIONS, VIOLATIONS

    rng = np.random.default_rng(2018)
    regions = np.array(list(UN_REGIONS))
    codes = np.array(list(VIOLATIONS))
    country = {
        "african": "KEN",
        "asia_pacific": "IND",
        "eastern_european": "RUS",
        "latin_american_caribbean": "MEX",
        "weog": "TUR",
    }
    region = regions[rng.integers(len(regions), size=n)]
    return pd.DataFrame(
        {
            "case_id": [f"B{i:06d}" for i in range(n)],
            "received_date": "2016-12-01",
            "individual_id": [f"BI{i:06d}" for i in range(n)],
            "defender_name": [f"Bench Person {i}" for i in range(n)],
            "source_contact": "",
            "country": [country[r] for r in region],
            "un_region": region,
            "gender": rng.choice(["woman", "man", "unknown"], size=n, p=[0.25, 0.7, 0.05]),
            "violations": [";".join(sorted(set(rng.choice(codes, size=2)))) for _ in range(n)],
            "issue_areas": "",
            "protester": "false",
            "type": "UA",
            "n_mandates": "1",
            "last_incident_date": "2016-11-01",
        }
    )


def run() -> list[tuple[str, float, str]]:
    """Return (what, seconds, note) rows."""
    from triage.audit import Actor, append_record, export_run, replay, run_selection, verify_chain
    from triage.audit._run import candidates_from_csv, candidates_to_csv
    from triage.config import policies_dir
    from triage.followup import due_lists, state_engagement
    from triage.registry import Registry
    from triage.schema import read_history

    rows: list[tuple[str, float, str]] = []
    with default_history() as (tmp, history):
        n = 12_086
        folder = tmp / "h"
        folder.mkdir()
        for name in ("communications.csv", "cases.csv", "outcomes.csv"):
            (folder / name).write_bytes((history / name).read_bytes())
        _queue(n).to_csv(folder / "queue.csv", index=False)
        registry = Registry(f"sqlite:///{tmp / 'bench.db'}").init()
        registry.load_history(folder)
        policy = policies_dir() / "default.toml"

        t = time.perf_counter()
        record = run_selection(
            registry=registry,
            policy_path=policy,
            user="bench",
            role="staff",
            scorer=_HashScorer(),
            now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
        rows.append(
            (
                "run_selection: score stub, allocate, record, lifecycle",
                time.perf_counter() - t,
                f"{n} candidates, K=550, default policy",
            )
        )
        rows.append(
            (
                "replay a run from stored inputs",
                median_seconds(lambda: replay(registry, record.run_id), 3),
                f"{n} candidates",
            )
        )
        data = candidates_to_csv(record.candidates)
        rows.append(
            (
                "candidate table to canonical CSV + SHA-256",
                median_seconds(
                    lambda: hashlib.sha256(candidates_to_csv(record.candidates)).hexdigest(), 3
                ),
                f"{n} rows, {len(data) / 1e6:.1f} MB",
            )
        )
        rows.append(
            (
                "candidate table back from CSV",
                median_seconds(lambda: candidates_from_csv(data), 3),
                f"{n} rows",
            )
        )
        for i in range(999):
            append_record(
                registry,
                kind="note",
                content={"i": i},
                actor=Actor("bench", "staff"),
                record_id=f"note-{i}",
            )
        rows.append(
            (
                "verify_chain",
                median_seconds(lambda: verify_chain(registry), 3),
                "1,000 records incl. one run of 12k reasons",
            )
        )
        rows.append(
            (
                "append one record",
                median_seconds(
                    lambda: append_record(
                        registry,
                        kind="note",
                        content={},
                        actor=Actor("b", "staff"),
                        record_id=lambda s: f"n-{s}",
                    ),
                    5,
                ),
                "SQLite, one transaction",
            )
        )
        rows.append(
            (
                "export_run bundle",
                median_seconds(lambda: export_run(registry, record.run_id, tmp / "bundle"), 3),
                f"{n} candidates",
            )
        )
        registry.dispose()

        hist = read_history(history)
        rows.append(
            (
                "due_lists (reminders, follow-up, publication)",
                median_seconds(lambda: due_lists(hist, on="2016-11-30"), 3),
                "default history, 4,511 communications",
            )
        )
        rows.append(
            (
                "state_engagement",
                median_seconds(lambda: state_engagement(hist), 3),
                "default history, 12,086 cases",
            )
        )
    return rows
