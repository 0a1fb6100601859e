"""What the app reads from and writes to the audit trail: the ledger index, saved policy
versions, and runs recorded with a model and history the session already holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import FakeScorer, ana_selects, drop_case

from triage.audit._decisions import decision_index
from triage.audit._policy_store import save_policy_version
from triage.audit._session_run import run_selection_loaded
from triage.errors import TriageError

T0 = dt.datetime(2017, 1, 2, 9, 0, tzinfo=dt.UTC)


def test_the_ledger_index_follows_runs_overrides_and_lapses(
    registry: Any, policy_file: Path, fakes: dict[str, Any]
) -> None:
    assert decision_index(registry).latest_run == {}
    first = ana_selects(registry, policy_file, **fakes, now=T0)
    index = decision_index(registry)
    assert set(index.latest_run) == set(first.candidates["case_id"])
    assert set(index.latest_run.values()) == {first.run_id}

    dropped = first.selected[0]
    why = "The source withdrew the submission."
    override = drop_case(registry, first, reason=why)
    index = decision_index(registry)
    assert index.effective()[dropped]["id"] == override.record_id
    assert index.effective()[dropped]["action"] == "drop"
    table = index.override_table(dropped)
    assert list(table["Action"]) == ["Do not take up"]  # words, never "drop"
    assert list(table["Run"]) == [first.run_id]
    assert index.override_table("no-such-case").empty

    # A later run carries the override; one that lets it lapse ends it.
    second = ana_selects(registry, policy_file, **fakes)
    assert decision_index(registry).effective()[dropped]["id"] == override.record_id
    assert decision_index(registry).latest_run[dropped] == second.run_id
    ana_selects(registry, policy_file, **fakes, lapse_overrides=True)
    assert dropped not in decision_index(registry).effective()
    assert len(decision_index(registry).overrides[dropped]) == 1  # the history stays


def test_a_saved_policy_version_names_its_parent_and_never_overwrites(tmp_path: Path) -> None:
    from triage.allocate import Policy

    parent = Policy.from_toml('name = "default"\ncapacity = 40\n')
    policy = parent.with_changes(capacity=30)
    folder = tmp_path / "policies"
    first = save_policy_version(
        policy,
        name="Fewer cases!",
        parent=parent,
        user="ana",
        role="mandate_holder",
        folder=folder,
        now=T0,
    )
    assert first.name == "Fewer-cases.toml"
    text = first.read_text(encoding="utf-8")
    assert f"sha256 {parent.sha256}" in text and "2017-01-02T09:00:00Z" in text
    saved = Policy.from_toml(text)
    assert saved.capacity == 30 and saved.name == "Fewer-cases"
    second = save_policy_version(
        policy, name="Fewer cases!", parent=parent, user="ana", role="staff", folder=folder
    )
    assert second.name == "Fewer-cases-v2.toml" and first.read_text(encoding="utf-8") == text
    with pytest.raises(TriageError):
        save_policy_version(
            policy, name="x", parent=parent, user="au", role="auditor", folder=folder
        )
    with pytest.raises(TriageError, match="letters, digits"):
        save_policy_version(
            policy, name=" !! ", parent=parent, user="ana", role="staff", folder=folder
        )
    with pytest.raises(ValueError, match="`now` must be timezone-aware"):
        save_policy_version(
            policy,
            name="ok",
            parent=parent,
            user="ana",
            role="staff",
            folder=folder,
            now=dt.datetime(2017, 1, 2),
        )
    assert sorted(p.name for p in folder.iterdir()) == ["Fewer-cases-v2.toml", "Fewer-cases.toml"]


class _SeesHistory(FakeScorer):
    """A fake model that remembers which history object it scored against."""

    def __init__(self) -> None:
        super().__init__()
        self.histories: list[Any] = []

    def predict(self, cases: Any, history: Any) -> Any:
        self.histories.append(history)
        return super().predict(cases, history)


def test_a_run_with_the_sessions_model_and_history_records_what_run_selection_records(
    registry: Any, policy_file: Path, fakes: dict[str, Any], tmp_path: Path
) -> None:
    from triage.monitor import history_counts

    counts = history_counts(registry)
    held = registry.history()
    model = _SeesHistory()
    options = {k: v for k, v in fakes.items() if k != "scorer"}
    base = {"registry": registry, "model": model, "history": held, "model_dir": tmp_path}
    who = {"policy_path": policy_file, "user": "ana", "role": "staff"}
    loaded = run_selection_loaded(**base, history_counts=counts, now=T0, **who, **options)
    assert model.histories[-1] is held  # the session's history, not a second read
    direct = ana_selects(registry, policy_file, **fakes, now=T0)
    assert loaded.selected == direct.selected
    assert loaded.record.content["candidates"] == direct.record.content["candidates"]
    assert loaded.record.content["model"]["version"] == "fake-1"

    # When the history tables changed since it was read, the registry is read again.
    stale = {**counts, "outcomes": counts.get("outcomes", 0) + 1}
    run_selection_loaded(**base, history_counts=stale, **who, **options)
    assert model.histories[-1] is not held
    with pytest.raises(ValueError, match="`options` must not hold scorer"):
        run_selection_loaded(**base, history_counts=counts, scorer=model, **who)


def test_a_known_selection_is_reused_only_when_the_run_makes_exactly_it(
    registry: Any, policy_file: Path, fakes: dict[str, Any], tmp_path: Path
) -> None:
    from triage.audit._session_run import KnownSelection
    from triage.monitor import history_counts

    first = ana_selects(registry, policy_file, **fakes, now=T0)
    marked = first.reasons.assign(reason="REUSED " + first.reasons["reason"].astype(str))
    objective = float(first.allocation.objective or 0.0)
    options = {k: v for k, v in fakes.items() if k != "scorer"}
    base = {
        "registry": registry,
        "model": FakeScorer(),
        "history": registry.history(),
        "history_counts": history_counts(registry),
        "model_dir": tmp_path,
        "policy_path": policy_file,
        "user": "ana",
        "role": "staff",
    }

    def run_with(known: KnownSelection) -> list[str]:
        record = run_selection_loaded(**base, known=known, **options)
        return [str(r["reason"]) for r in record.record.content["reasons"]]

    policy_sha = fakes["policy_parser"](policy_file.read_text()).get("sha256", None)
    same = KnownSelection(
        candidates=first.candidates,
        policy_sha256=policy_sha,
        selected=frozenset(first.selected),
        objective=objective,
        reasons=marked,
    )
    assert all(r.startswith("REUSED ") for r in run_with(same))
    # Anything different (one selected case, the objective, a score): explained afresh.
    other = first.candidates.assign(score=first.candidates["score"] * 0.5)
    for changed in (
        replace(same, selected=same.selected - {first.selected[0]}),
        replace(same, objective=objective + 1.0),
        replace(same, candidates=other),
        replace(same, policy_sha256="another"),
    ):
        assert not any(r.startswith("REUSED ") for r in run_with(changed))
