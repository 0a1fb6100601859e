"""Audit test helpers: a small registry with a queue of named (fake) defenders, a deterministic
scorer and allocator, so runs, replays and tampering are tested without a trained model."""

from __future__ import annotations

import hashlib
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from triage.config import project_root
from triage.schema import UN_REGIONS, VIOLATIONS

FOLLOWUP_FIXTURE = project_root() / "data" / "fixtures" / "followup"
#: Every fixture name contains this marker, so the privacy test can grep for it.
NAME_MARKER = "Zyxwq"


def make_queue(n: int, *, seed: int = 1) -> pd.DataFrame:
    """A queue.csv frame of ``n`` cases with fake, greppable names."""
    rng = np.random.default_rng(seed)
    regions = list(UN_REGIONS)
    codes = list(VIOLATIONS)
    countries = {
        "african": "KEN",
        "asia_pacific": "IND",
        "eastern_european": "RUS",
        "latin_american_caribbean": "MEX",
        "weog": "TUR",
    }
    rows = []
    for i in range(n):
        region = regions[int(rng.integers(len(regions)))]
        k = int(rng.integers(1, 3))
        viol = ";".join(sorted(rng.choice(codes, size=k, replace=False).tolist()))
        rows.append(
            {
                "case_id": f"Q{i:04d}",
                "received_date": f"2016-12-{1 + i % 28:02d}",
                "individual_id": f"QI{i:04d}",
                "defender_name": f"{NAME_MARKER} Defender{i:04d}",
                "source_contact": f'=HYPERLINK("x") {NAME_MARKER}Source{i:04d}@example.org',
                "country": countries[region],
                "un_region": region,
                "gender": ["woman", "man", "unknown"][int(rng.integers(3))],
                "violations": viol,
                "issue_areas": "",
                "protester": "true" if rng.random() < 0.3 else "false",
                "type": "UA",
                "n_mandates": str(int(rng.integers(1, 4))),
                "last_incident_date": "2016-11-01",
            }
        )
    return pd.DataFrame(rows)


@dataclass
class FakeScorer:
    """Scores from a hash of the case id: deterministic, independent of row order."""

    version: str = "fake-1"
    sha256: str = "f" * 64
    calls: list[int] = field(default_factory=list)

    def predict(self, cases: pd.DataFrame, history: Any) -> pd.DataFrame:
        self.calls.append(len(cases))
        scores = [
            int(hashlib.sha256(str(c).encode()).hexdigest()[:8], 16) / 16**8
            for c in cases["case_id"]
        ]
        out = pd.DataFrame({"case_id": cases["case_id"].to_numpy(), "score": scores})
        out["lower"] = out["score"] * 0.9
        out["upper"] = np.minimum(out["score"] * 1.1, 1.0)
        return out


@dataclass
class FakeAllocation:
    status: str
    gap: float
    objective: float
    selected: list[str]
    solver: str = "fake-greedy"


def fake_policy(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def fake_allocate(
    candidates: pd.DataFrame, policy: dict[str, Any], *, seed: int = 0
) -> FakeAllocation:
    """Top-k by score with ties broken by case id; ``min_women`` women first."""
    k = int(policy["capacity"])
    ordered = candidates.sort_values(["score", "case_id"], ascending=[False, True])
    women = ordered.loc[ordered["gender"] == "woman"].head(int(policy.get("min_women", 0)))
    rest = ordered.loc[~ordered["case_id"].isin(women["case_id"])]
    chosen = pd.concat([women, rest]).head(k)
    return FakeAllocation("optimal", 0.0, float(chosen["score"].sum()), sorted(chosen["case_id"]))


def fake_explain(candidates: pd.DataFrame, policy: Any, allocation: FakeAllocation) -> pd.DataFrame:
    chosen = set(allocation.selected)
    return pd.DataFrame(
        {
            "case_id": candidates["case_id"],
            "selected": candidates["case_id"].isin(chosen),
            "reason": [
                "high score" if c in chosen else "below the cut-off" for c in candidates["case_id"]
            ],
        }
    )


def override_case(
    registry: Any, run: Any, case_id: str, *, action: str, reason: str, **extra: Any
) -> Any:
    """Record an override of ``case_id`` in ``run``; return the record.

    ``extra`` goes to :func:`triage.audit.record_override`; ``user`` defaults to "ana" and
    ``role`` to "staff".
    """
    from triage.audit import record_override

    extra = {"user": "ana", "role": "staff", **extra}
    return record_override(
        registry, run_id=run.run_id, case_id=case_id, action=action, reason=reason, **extra
    )


def drop_case(
    registry: Any, run: Any, index: int = 0, *, reason: str, user: str = "ana", **extra: Any
) -> Any:
    """Record a staff member's override dropping ``run.selected[index]``; return the record."""
    return override_case(
        registry, run, run.selected[index], action="drop", reason=reason, user=user, **extra
    )


def at_once(n: int, action: Callable[[int], object]) -> list[str]:
    """Call ``action(0)`` … ``action(n - 1)`` in ``n`` threads released together.

    Returns one entry per call, in the order they finished: "ok", or the message of the
    :class:`~triage.errors.TriageError` it raised.
    """
    from triage.errors import TriageError

    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            action(i)
            outcomes.append("ok")
        except TriageError as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def drop_argv(run: Any, case: str, reason: str, *extra: str) -> list[str]:
    """``triage audit override RUN CASE --action drop --reason REASON [EXTRA...]``, as argv."""
    return ["audit", "override", run.run_id, case, "--action", "drop", "--reason", reason, *extra]


def ana_selects(registry: Any, policy_path: Path, **options: Any) -> Any:
    """Record a selection run under ``policy_path`` as staff user ana (``run_selection``)."""
    from triage.audit import run_selection

    return run_selection(
        registry=registry, policy_path=policy_path, user="ana", role="staff", **options
    )
