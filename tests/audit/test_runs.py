"""Selection runs stored as chained records: content, lifecycle, replay and tamper detection."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from audit_fixtures import NAME_MARKER, ana_selects, fake_allocate, fake_policy
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, text, update

from triage.audit import list_runs, read_records, replay, run_selection, verify_chain
from triage.audit._run import CANDIDATE_COLUMNS, candidates_from_csv, candidates_to_csv
from triage.audit._tables import AuditBlob, AuditHead, AuditRecord
from triage.errors import TriageError

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def test_run_record_holds_everything_needed(registry, policy_file, fakes) -> None:
    result = ana_selects(registry, policy_file, **fakes, seed=7, now=T0)
    assert result.run_id == "run-000001"
    assert len(result.selected) == 20 and result.selected == sorted(result.selected)
    women = result.candidates.set_index("case_id").loc[result.selected, "gender"].eq("woman").sum()
    assert women >= 8
    c = result.record.content
    assert result.record.created_at == "2026-11-01T09:00:00.000000Z"
    assert (result.record.user, result.record.role) == ("ana", "staff")
    assert c["policy"]["text"] == policy_file.read_text()
    import hashlib

    assert c["policy"]["sha256"] == hashlib.sha256(policy_file.read_bytes()).hexdigest()
    assert c["model"] == {"version": "fake-1", "sha256": "f" * 64, "dir": None}
    assert c["candidates"]["n"] == 60 and len(c["candidates"]["sha256"]) == 64
    assert c["solver"]["name"] == "fake-greedy" and c["solver"]["status"] == "optimal"
    assert c["solver"]["gap"] == 0.0 and c["seed"] == 7
    assert c["selected"] == result.selected
    assert len(c["reasons"]) == 60 and {r["reason"] for r in c["reasons"]} == {
        "high score",
        "below the cut-off",
    }
    # No name reaches the record or the stored candidate table.
    import json

    assert NAME_MARKER not in json.dumps(c)
    assert "defender_name" not in result.candidates.columns
    assert NAME_MARKER not in result.candidates.to_csv()


def test_run_moves_every_queued_case_on(registry, policy_file, fakes) -> None:
    result = ana_selects(registry, policy_file, **fakes)
    assert len(registry.queue()) == 0
    steps = registry.status_history()
    decided = steps.loc[steps["run_id"] == result.run_id]
    assert len(decided) == 60
    chosen = set(decided.loc[decided["status"] == "selected", "submission_id"])
    assert chosen == set(result.selected)


def test_empty_queue_and_auditor_are_refused(registry, policy_file, fakes, tmp_path) -> None:
    with pytest.raises(TriageError, match="auditors"):
        run_selection(registry=registry, policy_path=policy_file, user="x", role="auditor", **fakes)
    first = ana_selects(registry, policy_file, **fakes)
    # Decisions stay open until the communication is sent: a second run re-decides them.
    assert len(ana_selects(registry, policy_file, **fakes).candidates) == len(first.candidates)
    from triage.registry import Registry

    empty = Registry(f"sqlite:///{tmp_path / 'empty.db'}").init()
    with pytest.raises(TriageError, match="queue is empty"):
        ana_selects(empty, policy_file, **fakes)
    empty.dispose()


def test_replay_is_identical_without_the_model(registry, policy_file, fakes) -> None:
    first = ana_selects(registry, policy_file, **fakes)
    result = replay(registry, first.run_id, allocator=fake_allocate, policy_parser=fake_policy)
    assert result.identical and result.n_selected == 20 and result.n_candidates == 60
    assert "identical" in result.summary()


def test_replay_reports_a_different_selection(registry, policy_file, fakes) -> None:
    first = ana_selects(registry, policy_file, **fakes)

    def other(candidates: pd.DataFrame, policy: Any, **_: Any) -> Any:
        alloc = fake_allocate(candidates, {**policy, "min_women": 0})
        return alloc

    result = replay(registry, first.run_id, allocator=other, policy_parser=fake_policy)
    assert not result.identical and result.added and result.removed
    assert "DIFFERS" in result.summary()


def test_replay_refuses_altered_candidate_table(registry, policy_file, fakes) -> None:
    first = ana_selects(registry, policy_file, **fakes)
    import gzip

    sha = first.record.content["candidates"]["sha256"]
    data = gzip.compress(candidates_to_csv(first.candidates.assign(score=0.5)), mtime=0)
    with registry.engine.begin() as conn:
        conn.execute(update(AuditBlob).where(AuditBlob.sha256 == sha).values(data=data))
    with pytest.raises(TriageError, match="was changed"):
        replay(registry, first.run_id, allocator=fake_allocate, policy_parser=fake_policy)
    check = verify_chain(registry)
    assert not check.ok and check.first_bad_id == first.run_id


def test_unknown_run_is_a_clear_error(registry) -> None:
    with pytest.raises(TriageError, match="no run record 'run-999999'"):
        replay(registry, "run-999999")


def test_list_runs(registry, policy_file, fakes) -> None:
    ana_selects(registry, policy_file, **fakes, now=T0)
    runs = list_runs(registry)
    assert runs.loc[0, ["run_id", "user", "candidates", "selected", "status"]].tolist() == [
        "run-000001",
        "ana",
        60,
        20,
        "optimal",
    ]


# -- tampering with the stored records ------------------------------------------------------


@pytest.fixture
def three_records(registry, policy_file, fakes) -> Any:
    from triage.audit import Actor, append_record

    ana_selects(registry, policy_file, **fakes, now=T0)
    ana = Actor("ana", "staff")
    for i in range(3):
        append_record(registry, kind="note", content={"i": i}, actor=ana, record_id=f"note-{i}")
    assert verify_chain(registry).ok
    return registry


def test_db_edit_is_caught(three_records) -> None:
    with three_records.engine.begin() as conn:
        conn.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(content='{"i":7}'))
    result = verify_chain(three_records)
    assert not result.ok and result.first_bad_seq == 3 and result.first_bad_id == "note-1"


def test_db_edit_of_run_selection_is_caught(three_records) -> None:
    with three_records.engine.begin() as conn:
        content = conn.execute(text("SELECT content FROM audit_records WHERE seq = 1")).scalar_one()
        conn.execute(
            update(AuditRecord)
            .where(AuditRecord.seq == 1)
            .values(content=content.replace('"Q00', '"Q99', 1))
        )
    result = verify_chain(three_records)
    assert not result.ok and result.first_bad_id == "run-000001"


def test_db_delete_middle_is_caught(three_records) -> None:
    with three_records.engine.begin() as conn:
        conn.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
    result = verify_chain(three_records)
    assert not result.ok and result.first_bad_id == "note-1" and "deleted" in result.problem


def test_db_delete_last_is_caught(three_records) -> None:
    with three_records.engine.begin() as conn:
        conn.execute(delete(AuditRecord).where(AuditRecord.seq == 4))
    result = verify_chain(three_records)
    assert not result.ok and result.first_bad_seq == 4


def test_db_delete_last_and_head_is_caught(three_records) -> None:
    with three_records.engine.begin() as conn:
        conn.execute(delete(AuditRecord).where(AuditRecord.seq == 4))
        conn.execute(delete(AuditHead))
    assert not verify_chain(three_records).ok


def test_db_reorder_is_caught(three_records) -> None:
    # Swap the positions of records 2 and 3 (via a temporary seq to respect the primary key).
    with three_records.engine.begin() as conn:
        conn.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(seq=-1))
        conn.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(seq=2))
        conn.execute(update(AuditRecord).where(AuditRecord.seq == -1).values(seq=3))
    result = verify_chain(three_records)
    assert not result.ok and result.first_bad_seq == 2


def test_db_insert_is_caught(three_records) -> None:
    with three_records.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM audit_records WHERE seq = 4")).mappings().one()
        conn.execute(
            AuditRecord.__table__.insert().values(
                {**row, "seq": 5, "record_id": "forged", "hash": "0" * 63 + "1"}
            )
        )
    result = verify_chain(three_records)
    assert not result.ok and result.first_bad_seq == 5


def test_a_runs_blob_is_its_candidate_table_packed(registry, policy_file, fakes) -> None:
    # Compressed on the run's second thread: the same bytes as pack_blob, read back whole.
    import gzip

    from sqlalchemy import select

    from triage.audit._ledger_store import pack_blob

    run = ana_selects(registry, policy_file, **fakes, now=T0)
    data = candidates_to_csv(run.candidates)
    sha = run.record.content["candidates"]["sha256"]
    with registry.engine.connect() as conn:
        stored = conn.execute(select(AuditBlob.data).where(AuditBlob.sha256 == sha)).scalar_one()
    assert stored == pack_blob(data)
    assert gzip.decompress(stored) == data


def test_records_are_read_in_chain_order(three_records) -> None:
    kinds = [r.kind for r in read_records(three_records)]
    assert kinds == ["run", "note", "note", "note"]


# -- the candidate table round trip ---------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    st.permutations(list(range(12))),
    st.lists(st.floats(0, 1, allow_nan=False), min_size=12, max_size=12),
)
def test_candidate_csv_is_row_order_free_and_exact(order: list[int], scores: list[float]) -> None:
    frame = pd.DataFrame(
        {
            "case_id": [f"Q{i:02d}" for i in range(12)],
            "received_date": pd.to_datetime(["2016-12-01"] * 12),
            "country": ["MEX"] * 12,
            "un_region": ["latin_american_caribbean"] * 12,
            "gender": ["woman", "man", "unknown"] * 4,
            "violations": ["detention;threats"] * 12,
            "protester": pd.array([True, False, None] * 4, dtype="boolean"),
            "n_mandates": pd.array([1, 2, None] * 4, dtype="Int64"),
            "score": scores,
        }
    )
    data = candidates_to_csv(frame)
    assert candidates_to_csv(frame.iloc[order]) == data
    back = candidates_from_csv(data)
    assert back["score"].tolist() == scores  # floats survive exactly
    assert candidates_to_csv(back) == data


def test_deleted_candidate_table_is_caught(three_records) -> None:
    with three_records.engine.begin() as conn:
        conn.execute(delete(AuditBlob))
    result = verify_chain(three_records)
    assert not result.ok and result.first_bad_id == "run-000001" and "deleted" in result.problem


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("kind", "override"),
        ("record_id", "note-x"),
        ("created_at", "2020-01-01T00:00:00.000000Z"),
        ("user", "mallory"),
        ("role", "auditor"),
        ("prev_hash", "1" * 64),
        ("content", '{"i":0,"extra":1}'),
        ("hash", "2" * 64),
    ],
)
def test_db_edit_of_any_column_is_caught(three_records, column: str, value: str) -> None:
    with three_records.engine.begin() as conn:
        conn.execute(update(AuditRecord).where(AuditRecord.seq == 2).values({column: value}))
    result = verify_chain(three_records)
    assert not result.ok and result.first_bad_seq == 2 and result.first_bad_position == 2


def test_db_edit_of_the_head_is_caught(three_records) -> None:
    with three_records.engine.begin() as conn:
        conn.execute(update(AuditHead).values(seq=3))
    assert not verify_chain(three_records).ok


def test_run_records_the_tie_lottery_and_each_case_chance_of_selection(
    registry, tmp_path: Path
) -> None:
    import numpy as np
    from audit_fixtures import FakeScorer

    from triage.allocate import Policy, allocate, selection_chances

    class ReplicateScorer(FakeScorer):
        """The fake score plus four replicates that shift it by fixed, case-specific amounts."""

        def predict(self, cases: pd.DataFrame, history: Any, features: Any = None) -> pd.DataFrame:
            return super().predict(cases, history)

        def member_scores(self, features: pd.DataFrame) -> np.ndarray:
            base = self.predict(self._cases, None)["score"].to_numpy()
            shifts = np.linspace(-0.2, 0.2, 4)
            return np.clip(
                base[:, None] + shifts[None, :] * np.cos(np.arange(len(base)))[:, None], 0, 1
            )

    scorer = ReplicateScorer()
    queue = registry.queue()
    scorer._cases = queue  # the features frame is indexed like the queue
    policy_path = tmp_path / "real.toml"
    policy_path.write_text("name = 'r'\ncapacity = 20\n[share.gender]\nwoman = { min = 0.3 }\n")
    result = ana_selects(registry, policy_path, scorer=scorer, seed=3)
    content = result.record.content
    assert content["tie_lottery"] == {"seed": 3, "ties": []}
    assert content["chance_of_selection"]["replicates"] == 4
    stored = {r["case_id"]: r for r in content["reasons"]}
    # Direct computation: the same candidates, policy, replicates and seed.
    reps = scorer.member_scores(queue)
    order = pd.Series(range(len(queue)), index=queue["case_id"].astype(str))
    cands = result.candidates
    direct = selection_chances(
        cands, Policy.from_toml(policy_path.read_text()), reps[order.loc[cands["case_id"]]], seed=3
    ).by_case
    for row in direct.itertuples(index=False):
        assert stored[row.case_id]["p_selected"] == pytest.approx(row.p_selected)
        assert stored[row.case_id]["chance"] == row.chance
    assert set(result.reasons.columns) >= {"p_selected", "chance"}
    # The selection itself is the allocator's, with the recorded seed.
    again = allocate(cands, Policy.from_toml(policy_path.read_text()), seed=3)
    assert list(again.selected) == result.selected


_CELL = st.text(st.sampled_from(list("ab ,;\"\n'=+-@é\t")), max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_CELL, _CELL, _CELL), min_size=1, max_size=8, unique_by=lambda r: r[0]))
def test_candidate_csv_quotes_as_pandas_does(rows: list[tuple[str, str, str]]) -> None:
    # Ids, countries and violations with commas, quotes, line breaks and formula signs: the
    # canonical bytes are pandas' own CSV of the same text, and they read back as written.
    frame = pd.DataFrame(
        {
            "case_id": [f"Q{r[0]}" for r in rows],
            "received_date": pd.to_datetime(["2016-12-01"] * len(rows)),
            "country": [r[1] for r in rows],
            "violations": [r[2] for r in rows],
            "score": [0.25] * len(rows),
        }
    )
    text = pd.DataFrame({c: [""] * len(rows) for c in CANDIDATE_COLUMNS})
    for col in ("case_id", "country", "violations"):
        text[col] = frame[col]
    text["received_date"] = "2016-12-01"
    text["score"] = "0.25"
    expected = text.sort_values("case_id", kind="stable").to_csv(index=False, lineterminator="\n")
    data = candidates_to_csv(frame)
    assert data == expected.encode("utf-8")
    back = candidates_from_csv(data)
    assert back["case_id"].tolist() == sorted(f"Q{r[0]}" for r in rows)


def test_a_carriage_return_in_a_candidate_cell_is_refused_by_row_and_column() -> None:
    frame = pd.DataFrame(
        {"case_id": ["Q1", "Q2"], "country": ["MEX", "M\rEX"], "score": [0.1, 0.2]}
    )
    with pytest.raises(TriageError, match=r"column country of row 2 holds a carriage return"):
        candidates_to_csv(frame)


def test_an_override_recorded_during_a_run_stops_it(registry, policy_file, fakes) -> None:
    """The run reads the standing overrides before it scores; one recorded after that read
    (here: while the allocator runs) makes the run record nothing, runs and overrides already
    in the chain notwithstanding."""
    from audit_fixtures import drop_case

    first = ana_selects(registry, policy_file, **fakes, now=T0)
    drop_case(registry, first, reason="the first drop, before the second run")
    allocate = fakes["allocator"]

    def allocate_then_override(*args: Any, **kwargs: Any) -> Any:
        drop_case(registry, first, 1, reason="a drop while the second run computes")
        return allocate(*args, **kwargs)

    before = len(read_records(registry))
    with pytest.raises(TriageError, match="an override was recorded while this run"):
        ana_selects(registry, policy_file, **{**fakes, "allocator": allocate_then_override})
    kinds = [r.kind for r in read_records(registry)]
    assert len(kinds) == before + 1 and kinds[-1] == "override"  # the override, no run
    second = ana_selects(registry, policy_file, **fakes)  # nothing new since its read: recorded
    assert second.run_id == f"run-{before + 2:06d}"
