"""Follow-up records (replies, outcomes) go through the registry, in the caller's transaction."""

from __future__ import annotations

import ast
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from triage.config import project_root
from triage.errors import TriageError
from triage.registry import Registry

FIXTURE = project_root() / "data" / "fixtures" / "followup"


@pytest.fixture
def registry(db_url: str, tmp_path: Path) -> Iterator[Registry]:
    folder = tmp_path / "history"
    folder.mkdir()
    for name in ("communications.csv", "cases.csv", "outcomes.csv"):
        shutil.copy(FIXTURE / name, folder / name)
    reg = Registry(db_url).init()
    reg.load_history(folder)
    yield reg
    reg.dispose()


def test_reply_updates_the_summary_only_when_it_is_the_latest(registry: Registry) -> None:
    registry.add_reply("C01", reply_class="rejection", at=dt.date(2016, 10, 1))
    registry.add_reply("C01", reply_class="no_rejection", at=dt.date(2016, 9, 20))
    comm = registry.communication("C01")
    assert comm is not None and comm.reply_date == dt.date(2016, 10, 1)
    replies = registry.history().communications.set_index("communication_id")
    assert replies.loc["C01", "reply_class"] == "rejection"
    with pytest.raises(TriageError, match="already has a rejection reply dated 2016-10-01"):
        registry.add_reply("C01", reply_class="rejection", at=dt.date(2016, 10, 1))
    with pytest.raises(TriageError, match="not in the registry"):
        registry.add_reply("C404", reply_class="rejection", at=dt.date(2016, 10, 1))


def test_outcome_is_stored_once_and_dated(registry: Registry) -> None:
    assert registry.outcome_of("K01") is None
    assert registry.case_sent_date("K01") == (True, dt.date(2016, 9, 1))
    assert registry.case_sent_date("nope") == (False, None)
    registry.add_outcome("K01", outcome="same", assessment="systematic", at=dt.date(2016, 11, 1))
    found = registry.outcome_of("K01")
    assert found is not None and (found.outcome, found.outcome_date) == (
        "same",
        dt.date(2016, 11, 1),
    )
    dates = registry.outcome_dates().set_index("case_id")["outcome_date"]
    assert dates["K01"] == pd.Timestamp("2016-11-01")
    with pytest.raises(TriageError, match="already has an outcome"):
        registry.add_outcome(
            "K01", outcome="much_worse", assessment="systematic", at=dt.date(2016, 11, 2)
        )


@pytest.mark.parametrize(
    ("write", "column", "check"),
    [
        (
            lambda r: r.add_reply("C01", reply_class="angry", at=dt.date(2016, 10, 1)),
            "reply_class",
            "a reply_class code",
        ),
        (
            lambda r: r.add_outcome(
                "K01", outcome="worse", assessment="systematic", at=dt.date(2016, 11, 1)
            ),
            "outcome",
            "a outcome code",
        ),
        (
            lambda r: r.add_outcome(
                "K01", outcome="same", assessment="guess", at=dt.date(2016, 11, 1)
            ),
            "assessment",
            "a assessment code",
        ),
    ],
)
def test_a_write_that_breaks_its_table_contract_is_refused_and_leaves_nothing(
    registry: Registry, write: object, column: str, check: str
) -> None:
    from triage.schema import ContractError

    before = registry.communication("C01")
    with pytest.raises(ContractError) as caught:
        write(registry)  # type: ignore[operator]
    assert caught.value.failures[["column", "check"]].values.tolist() == [[column, check]]
    assert registry.outcome_of("K01") is None
    assert registry.communication("C01") == before


def test_writes_in_a_rolled_back_transaction_leave_nothing(registry: Registry) -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort), registry.engine.begin() as conn:
        registry.add_reply("C02", reply_class="rejection", at=dt.date(2016, 11, 1), conn=conn)
        registry.add_outcome(
            "K02", outcome="same", assessment="systematic", at=dt.date(2016, 11, 1), conn=conn
        )
        assert registry.outcome_of("K02", conn=conn) is not None
        raise Abort
    assert registry.outcome_of("K02") is None
    comm = registry.communication("C02")
    assert comm is not None and comm.reply_date is None


def test_followup_writes_only_through_the_registry() -> None:
    """No module of triage.followup imports SQLAlchemy or the registry's table classes."""
    tables = {"Case", "Communication", "Outcome", "Reply", "Submission", "StatusEvent"}
    for path in (project_root() / "triage" / "followup").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("sqlalchemy"), path.name
                if node.module.startswith("triage.registry"):
                    assert not tables & {a.name for a in node.names}, path.name
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("sqlalchemy") for a in node.names), path.name
