"""A recorded run uses two threads; its record and its moves must not depend on their timing.

``run_selection`` loads the model on a second thread while it reads the queue, reads the
standing overrides there while it scores, and computes the chance of selection and the
policy's names check there while it allocates and explains; the model scores its members on
two threads, and the reasons' programs run on two engines. Two runs of the same registry, one with that thread delayed at
every step and the interpreter switching threads as often as it can, must store the same
record, the same reasons and the same lifecycle steps; a name in the policy is still refused
with nothing recorded; and ``advance_many``'s set-based moves match one ``advance`` per case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from registry_helpers import loaded_registry

import triage.audit._run as run_mod
from triage.errors import TriageError

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
POLICY = "name = 'parallel'\ncapacity = 15\n[share.gender]\nwoman = { min = 0.4 }\n"


def _hash01(text: str, salt: str = "") -> float:
    return int(hashlib.sha256(f"{salt}{text}".encode()).hexdigest()[:8], 16) / 16**8


class MemberScorer:
    """Scores and five bootstrap members from a hash of the case id (so runs can be compared)."""

    version = "members-1"
    sha256 = "e" * 64

    def __init__(self) -> None:
        self._ids: list[str] = []

    def predict(self, cases: pd.DataFrame, history: Any) -> pd.DataFrame:
        self._ids = cases["case_id"].astype(str).tolist()
        score = np.array([_hash01(c) for c in self._ids])
        return pd.DataFrame(
            {"case_id": self._ids, "score": score, "lower": score * 0.9, "upper": score}
        )

    def member_scores(self, features: pd.DataFrame) -> np.ndarray:
        return np.array([[_hash01(c, f"m{k}") for k in range(5)] for c in self._ids])


@pytest.fixture
def registry_db(tmp_path: Path, small_history_dir: Path) -> Path:
    db = tmp_path / "base.db"
    with loaded_registry(db, small_history_dir):
        pass
    return db


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def _copy(db: Path, name: str) -> Iterator[Any]:
    from triage.registry import Registry

    target = db.with_name(name)
    shutil.copy(db, target)
    registry = Registry(f"sqlite:///{target}")
    try:
        yield registry
    finally:
        registry.dispose()


def _run(registry: Any, policy_file: Path) -> Any:
    return run_mod.run_selection(
        registry=registry,
        policy_path=policy_file,
        user="ana",
        role="staff",
        scorer=MemberScorer(),
        seed=3,
        now=T0,
    )


def _steps(registry: Any) -> list[tuple[Any, ...]]:
    db = registry.engine.url.database
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select submission_id, status, at, run_id from status_history "
            "where run_id is not null order by id"
        ).fetchall()


def _slowed(func: Callable[..., Any]) -> Callable[..., Any]:
    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.2)
        return func(*args, **kwargs)

    return slow


def test_record_does_not_depend_on_the_threads_timing(
    registry_db: Path, policy_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _copy(registry_db, "first.db")
    reg_a = next(first)
    plain = _run(reg_a, policy_file)
    steps_a = _steps(reg_a)

    # The second thread's tasks start late and the interpreter switches threads constantly.
    for name in ("_check_policy_names", "active_overrides", "_chances"):
        monkeypatch.setattr(run_mod, name, _slowed(getattr(run_mod, name)))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        second = _copy(registry_db, "second.db")
        reg_b = next(second)
        slowed = _run(reg_b, policy_file)
    finally:
        sys.setswitchinterval(interval)
    assert plain.record.content["chance_of_selection"]["replicates"] == 5
    assert "p_selected" in plain.reasons.columns
    assert plain.record.content == slowed.record.content
    assert plain.record.hash == slowed.record.hash
    pd.testing.assert_frame_equal(plain.reasons, slowed.reasons, check_exact=True)
    assert steps_a == _steps(reg_b)
    assert len(steps_a) == len(plain.candidates)
    for gen in (first, second):
        gen.close()


def test_a_name_in_the_policy_is_refused_with_nothing_recorded(
    registry_db: Path, tmp_path: Path
) -> None:
    gen = _copy(registry_db, "named.db")
    registry = next(gen)
    db = registry.engine.url.database
    with sqlite3.connect(db) as conn:
        name = conn.execute(
            "select defender_name from submissions where defender_name is not null limit 1"
        ).fetchone()[0]
    named = tmp_path / "named.toml"
    named.write_text(POLICY.replace("'parallel'", repr(f"for {name}")), encoding="utf-8")
    with pytest.raises(TriageError) as caught:
        _run(registry, named)
    assert name not in str(caught.value)
    assert _steps(registry) == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from audit_records").fetchone()[0] == 0
    gen.close()


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_advance_many_matches_one_advance_per_case(registry_db: Path, data: st.DataObject) -> None:
    gen = _copy(registry_db, "moves.db")
    registry = next(gen)
    from triage.registry import OPEN_DECISIONS

    queue = registry.queue(statuses=OPEN_DECISIONS)["case_id"].astype(str).tolist()
    chosen = data.draw(st.lists(st.sampled_from(queue), min_size=1, max_size=25, unique=True))
    unknown = data.draw(st.lists(st.just("NOT-A-CASE"), max_size=1))
    decisions: dict[str, Any] = {
        c: data.draw(st.sampled_from(["selected", "not_selected"])) for c in chosen + unknown
    }
    with registry.engine.begin() as conn:
        moved = registry.advance_many(decisions, run_id="run-000001", at=T0, conn=conn)
    many = _steps(registry)
    gen.close()

    gen = _copy(registry_db, "moves_one.db")
    registry = next(gen)
    for case_id in chosen:
        registry.advance(case_id, decisions[case_id], at=T0.date(), run_id="run-000001")
    one = _steps(registry)
    gen.close()

    assert moved == len(chosen)
    assert many == one
