"""Decisions take effect whole: a run, an override or a follow-up event killed at any point
leaves either the whole decision or none of it; concurrent decisions are serialised.

Each test runs on SQLite and, when TRIAGE_TEST_PG_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import at_once, override_case

from triage.audit import read_records, run_selection, verify_chain

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


@pytest.fixture
def url(registry_url: str) -> str:
    """SQLite, then PostgreSQL when TRIAGE_TEST_PG_URL is set (tests/conftest.py)."""
    return registry_url


@pytest.fixture
def loaded(url: str, history_with_queue: Path, policy_file: Path, fakes) -> Any:
    from triage.registry import Registry

    reg = Registry(url).init()
    reg.load_history(history_with_queue)
    run = run_selection(registry=reg, policy_path=policy_file, user="ana", role="staff", **fakes)
    yield reg, run
    reg.dispose()


_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {here!r})
    from audit_fixtures import FakeScorer, fake_allocate, fake_explain, fake_policy
    import triage.audit._ledger as ledger
    import triage.audit._run as run_mod
    import triage.audit._overrides as ovr_mod
    import triage.followup._events as evt_mod
    from triage.audit import Actor
    from triage.registry import Registry

    kind, point = sys.argv[1], sys.argv[2]

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def after(module, name):
        original = getattr(module, name)
        def wrapped(*args, **kwargs):
            result = original(*args, **kwargs)
            die()
            return result
        setattr(module, name, wrapped)

    if point == "after_record":
        for module in (run_mod, ovr_mod, evt_mod):
            after(module, "append_numbered")
    elif point == "after_status":
        after(Registry, "advance_many" if kind == "run" else "advance")
    elif point == "after_commit":
        ledger.write_checkpoint = lambda *a, **k: die()

    reg = Registry({url!r})
    if kind == "run":
        run_mod.run_selection(registry=reg, policy_path={policy!r}, user="ana", role="staff",
            scorer=FakeScorer(), allocator=fake_allocate, explainer=fake_explain,
            policy_parser=fake_policy, lapse_overrides=True)
    elif kind == "override":
        ovr_mod.record_override(reg, run_id="run-000001", case_id={case!r}, action="drop",
            reason="the state already replied", user="ana", role="staff")
    else:
        evt_mod.record_reply(reg, "C01", reply_class="rejection", date="2016-12-01",
            actor=Actor("ana", "staff"))
    print("finished")
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["run", "override", "event"])
def test_a_killed_decision_takes_effect_whole_or_not_at_all(
    loaded, url: str, policy_file: Path, kind: str
) -> None:
    reg, run = loaded
    if kind == "event":
        # Give communication C01 a submission whose letter was sent, so the reply moves it on.
        from sqlalchemy import select, update

        from triage.registry import Case, Submission

        with reg.engine.begin() as conn:
            case = conn.execute(select(Case.case_id).where(Case.communication_id == "C01")).scalar()
            conn.execute(
                update(Submission)
                .where(Submission.submission_id == run.selected[-1])
                .values(case_id=case, status="communication_sent", status_at=dt.date(2016, 1, 1))
            )
    reg.dispose()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = len(read_records(reg))
    n_events = before
    for point in ("after_record", "after_status", "after_commit"):
        script = _CHILD.format(
            here=str(HERE), url=url, policy=str(policy_file), case=run.selected[0]
        )
        done = subprocess.run(
            [sys.executable, "-c", script, kind, point],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == -9, done.stderr[-2000:]
        records = read_records(reg)
        committed = point == "after_commit"
        assert len(records) == n_events + (1 if committed else 0), point
        n_events = len(records)
        result = verify_chain(reg)
        assert result.ok, f"{kind} killed {point}: {result.problem}"
        if kind == "override" and committed:
            break  # a second override of the same case would be refused


def test_concurrent_overrides_of_one_case_record_one(loaded) -> None:
    reg, run = loaded
    case = run.selected[0]
    outcomes = at_once(
        4,
        lambda i: override_case(
            reg,
            run,
            case,
            action="drop",
            reason=f"reviewer {i} found a duplicate",
            user=f"u{i}",
        ),
    )
    assert outcomes.count("ok") == 1, outcomes
    assert all("already overridden" in o for o in outcomes if o != "ok")
    assert len(read_records(reg, kind="override")) == 1
    assert verify_chain(reg).ok


def test_concurrent_runs_take_effect_in_chain_order(loaded, policy_file: Path, fakes) -> None:
    reg, _ = loaded
    outcomes = at_once(
        3,
        lambda i: run_selection(
            registry=reg,
            policy_path=policy_file,
            user=f"u{i}",
            role="staff",
            seed=i,
            **fakes,
        ),
    )
    assert outcomes == ["ok"] * 3, outcomes  # no run was refused
    chain = [r.record_id for r in read_records(reg, kind="run")]
    assert len(chain) == 4
    steps = reg.status_history() if hasattr(reg, "status_history") else None
    if steps is not None:
        applied = list(dict.fromkeys(steps["run_id"].dropna()))
        assert applied == chain
    assert verify_chain(reg).ok
