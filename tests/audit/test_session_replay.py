"""Replay confirms every run of a session, with the real allocator, and a run does not depend
on the order of the queue's rows."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import FOLLOWUP_FIXTURE, FakeScorer, ana_selects, make_queue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.audit import list_runs, replay, verify_chain

POLICIES = [
    'name = "a"\ncapacity = 15\n[share.gender]\nwoman = { min = 0.3 }\n',
    'name = "b"\ncapacity = 25\n[share.un_region]\nweog = { max = 0.1 }\nafrican = { min = 0.2 }\n',
    'name = "c"\ncapacity = 10\n[share.violations]\nthreats = { min = 0.2 }\n[limit]\nmax_per_country = 4\n',
]


def registry_with(tmp: Path, queue: Any) -> Any:
    from triage.registry import Registry

    folder = tmp / "history"
    folder.mkdir(parents=True)
    for name in ("communications.csv", "cases.csv", "outcomes.csv"):
        shutil.copy(FOLLOWUP_FIXTURE / name, folder / name)
    queue.to_csv(folder / "queue.csv", index=False)
    reg = Registry(f"sqlite:///{tmp / 'r.db'}").init()
    reg.load_history(folder)
    return reg


def test_every_run_of_a_session_replays_identically(tmp_path: Path) -> None:
    registry = registry_with(tmp_path, make_queue(40, seed=3))
    run_ids = []
    for i, text in enumerate(POLICIES):
        if i:  # new submissions arrive between runs
            new = make_queue(30, seed=10 + i).assign(
                case_id=lambda f, i=i: f["case_id"].str.replace("Q", f"N{i}-")
            )
            rows = (
                new.rename(columns={"case_id": "submission_id"})
                .assign(eligible=True)
                .to_dict("records")
            )
            for r in rows:
                r["received_date"] = dt.date.fromisoformat(r["received_date"])
                r["last_incident_date"] = dt.date.fromisoformat(r["last_incident_date"])
                r["protester"] = r["protester"] == "true"
                r["n_mandates"] = int(r["n_mandates"])
            registry.add_submissions(rows, origin="intake")
        policy = tmp_path / f"p{i}.toml"
        policy.write_text(text)
        run = ana_selects(registry, policy, scorer=FakeScorer(), seed=i)
        assert run.allocation.status == "optimal"
        run_ids.append(run.run_id)
    assert list_runs(registry)["run_id"].tolist() == run_ids
    for run_id in run_ids:
        result = replay(registry, run_id)
        assert result.identical, result.summary()
    assert verify_chain(registry).ok
    registry.dispose()


@pytest.mark.slow
@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(20, 80), data=st.data())
def test_run_is_independent_of_queue_row_order(tmp_path_factory, seed: int, n: int, data) -> None:
    queue = make_queue(n, seed=seed)
    order = data.draw(st.permutations(list(range(n))))
    results = []
    for frame in (queue, queue.iloc[order]):
        tmp = tmp_path_factory.mktemp("order")
        registry = registry_with(tmp, frame)
        policy = tmp / "p.toml"
        policy.write_text(POLICIES[0])
        run = ana_selects(registry, policy, scorer=FakeScorer())
        results.append(
            (
                run.record.content["candidates"]["sha256"],
                run.selected,
                [r["reason"] for r in run.record.content["reasons"]],
            )
        )
        registry.dispose()
    assert results[0] == results[1]


def test_a_later_run_redecides_the_open_cases(tmp_path: Path) -> None:
    """A second run (say, after targets change) sees every case not yet sent, not an empty queue."""
    registry = registry_with(tmp_path, make_queue(40, seed=5))
    runs = []
    for i, capacity in enumerate((10, 20)):
        policy = tmp_path / f"p{i}.toml"
        policy.write_text(f'name = "p{i}"\ncapacity = {capacity}\n')
        runs.append(ana_selects(registry, policy, scorer=FakeScorer()))
    first, second = runs
    assert len(first.candidates) == len(second.candidates) == 40
    assert len(first.selected) == 10 and len(second.selected) == 20
    # Scores did not change, so the larger run keeps every case of the smaller one.
    assert set(first.selected) <= set(second.selected)
    statuses = registry.queue(statuses=("selected",), with_status=True)
    assert set(statuses["case_id"]) == set(second.selected)
    assert set(statuses["status"]) == {"selected"}
    registry.dispose()


def test_runs_never_take_historical_submissions(tmp_path: Path, small_history_dir: Path) -> None:
    """Historical submissions (decided before the registry) are never candidates of a new run."""
    import pandas as pd

    from triage.registry import Registry

    registry = Registry(f"sqlite:///{tmp_path / 'r.db'}").init()
    registry.load_history(small_history_dir)
    queue_ids = set(pd.read_csv(small_history_dir / "queue.csv", dtype=str)["case_id"])
    policy = tmp_path / "p.toml"
    policy.write_text('name = "p"\ncapacity = 20\n')
    for _ in range(2):  # the second run re-decides; it must not pick up history either
        run = ana_selects(registry, policy, scorer=FakeScorer())
        assert set(run.candidates["case_id"]) == queue_ids
        assert set(run.selected) <= queue_ids
    registry.dispose()
