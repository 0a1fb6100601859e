"""Overrides (records, validation, rates by group) and the auditor's export bundle."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from audit_fixtures import NAME_MARKER, ana_selects, drop_case, override_case
from hypothesis import given
from hypothesis import strategies as st

from triage.audit import (
    effective_selection,
    export_run,
    override_summary,
    suppress_counts,
    verify_chain,
)
from triage.errors import TriageError

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def done_run(registry, policy_file, fakes) -> Any:
    return ana_selects(registry, policy_file, now=T0, **fakes)


def test_override_select_and_drop(registry, done_run) -> None:
    out = next(c for c in done_run.candidates["case_id"] if c not in done_run.selected)
    inn = done_run.selected[0]
    rec = override_case(
        registry, done_run, out, action="select", reason="urgent risk to life", user="mo"
    )
    assert rec.kind == "override" and rec.content == {
        "run_id": done_run.run_id,
        "case_id": out,
        "action": "select",
        "reason": "urgent risk to life",
    }
    assert (rec.user, rec.role) == ("mo", "staff") and rec.created_at.endswith("Z")
    drop_case(registry, done_run, reason="already raised by WGAD")
    chosen = effective_selection(registry, done_run.run_id)
    assert out in chosen and inn not in chosen and len(chosen) == 20
    assert registry.status_of(out) == "selected" and registry.status_of(inn) == "not_selected"
    assert verify_chain(registry).ok


@pytest.mark.parametrize(
    ("case", "action", "role", "reason", "message"),
    [
        ("selected", "select", "staff", "good reason here", "already selected"),
        ("unselected", "drop", "staff", "good reason here", "not selected"),
        ("QX", "select", "staff", "good reason here", "not a candidate"),
        ("unselected", "select", "auditor", "good reason here", "auditors"),
        ("unselected", "select", "staff", "short", "reason of at least"),
    ],
)
def test_override_refusals(registry, done_run, case, action, role, reason, message) -> None:
    ids = {
        "selected": done_run.selected[0],
        "unselected": next(c for c in done_run.candidates["case_id"] if c not in done_run.selected),
    }
    with pytest.raises(TriageError, match=message):
        override_case(
            registry,
            done_run,
            ids.get(case, case),
            action=action,
            reason=reason,
            user="x",
            role=role,
        )


def test_override_reason_may_not_name_the_defender(registry, done_run) -> None:
    case = done_run.selected[0]
    number = int(case[1:])  # the fixture names case Q0012 "<marker> Defender0012"
    with pytest.raises(TriageError, match=r"defender.s name"):
        drop_case(
            registry,
            done_run,
            reason=f"spoke with {NAME_MARKER.lower()} defender{number:04d} today",
        )


def test_override_rates_by_group_are_counted_by_hand(registry, done_run) -> None:
    cands = done_run.candidates.set_index("case_id")
    outs = [c for c in cands.index if c not in done_run.selected][:3]
    for c in outs:
        override_case(registry, done_run, c, action="select", reason="field office request")
    drop_case(registry, done_run, reason="duplicate of another case")
    touched = [*outs, done_run.selected[0]]
    summary = override_summary(registry)
    assert summary.overall.iloc[0].to_dict() == {
        "runs": 1,
        "cases": 60,
        "overrides": 4,
        "selects": 3,
        "drops": 1,
        "rate": 4 / 60,
    }
    by = summary.by_group.set_index(["dimension", "group"])
    for region, n in cands["un_region"].value_counts().items():
        expected = sum(cands.loc[c, "un_region"] == region for c in touched)
        assert by.loc[("un_region", region), "cases"] == n
        assert by.loc[("un_region", region), "overrides"] == expected
        assert by.loc[("un_region", region), "rate"] == pytest.approx(expected / n)
    for code in {v for c in touched for v in cands.loc[c, "violations"].split(";")}:
        expected = sum(code in cands.loc[c, "violations"].split(";") for c in touched)
        assert by.loc[("violation", code), "overrides"] == expected
    assert by.xs("gender", level="dimension")["cases"].sum() == 60
    assert len(summary.overrides) == 4


def test_override_summary_without_runs(registry) -> None:
    summary = override_summary(registry)
    assert summary.overall.iloc[0]["cases"] == 0 and summary.by_group.empty


# -- export ---------------------------------------------------------------------------------


def test_export_bundle(registry, done_run, tmp_path: Path) -> None:
    drop_case(registry, done_run, 1, reason='=HYPERLINK("evil") reason')
    out = export_run(registry, done_run.run_id, tmp_path / "bundle")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "SHA256SUMS",
        "model_card.md",
        "overrides.csv",
        "policy.toml",
        "record.csv",
        "record.json",
        "summary.html",
    ]
    record = json.loads((out / "record.json").read_text())
    assert (
        record["record_id"] == done_run.run_id
        and record["content"]["selected"] == done_run.selected
    )
    assert (out / "policy.toml").read_text() == record["content"]["policy"]["text"]
    table = pd.read_csv(out / "record.csv", dtype=str)
    assert len(table) == 60 and set(table.loc[table["selected"] == "True", "case_id"]) == set(
        done_run.selected
    )
    assert table.set_index("case_id").loc[done_run.selected[1], "override"] == "drop"
    overrides = (out / "overrides.csv").read_text()
    assert "'=HYPERLINK" in overrides and ",=HYPERLINK" not in overrides
    for path in out.iterdir():
        assert NAME_MARKER not in path.read_text(), path.name
    html = (out / "summary.html").read_text()
    assert done_run.run_id in html and "chain intact" in html
    # The bundle is reproducible byte for byte.
    again = export_run(registry, done_run.run_id, tmp_path / "again")
    for path in out.iterdir():
        assert (again / path.name).read_bytes() == path.read_bytes()
    sums = dict(line.split("  ")[::-1] for line in (out / "SHA256SUMS").read_text().splitlines())
    import hashlib

    assert all(hashlib.sha256((out / n).read_bytes()).hexdigest() == h for n, h in sums.items())


def test_export_summary_suppresses_small_counts(registry, done_run, tmp_path: Path) -> None:
    out = export_run(registry, done_run.run_id, tmp_path / "b")
    html = (out / "summary.html").read_text()
    import re

    cells = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td></tr>", html)
    assert cells
    for cand, sel in cells:
        for value in (cand, sel):
            assert value in ("&lt;5", "<5", "suppressed") or int(value) >= 5


def test_suppress_counts_examples() -> None:
    counts = pd.Series({"a": 10, "b": 3, "c": 7, "d": 0})
    assert suppress_counts(counts, partition=False).tolist() == ["10", "<5", "7", "<5"]
    one = pd.Series({"a": 10, "b": 3, "c": 7})
    assert suppress_counts(one, partition=True).tolist() == ["10", "<5", "suppressed"]


@given(st.lists(st.integers(0, 40), min_size=1, max_size=8), st.booleans())
def test_suppress_counts_never_shows_small_values(values: list[int], partition: bool) -> None:
    counts = pd.Series(values, index=[f"g{i}" for i in range(len(values))])
    shown = suppress_counts(counts, partition=partition)
    hidden = [s in ("<5", "suppressed") for s in shown]
    for v, s in zip(values, shown, strict=True):
        if v < 5:
            assert s == "<5"
        else:
            assert s in (str(v), "suppressed")
    if partition and len(values) > 1:
        assert sum(hidden) != 1  # a single hidden cell could be derived from the total


def test_export_unknown_run(registry, tmp_path: Path) -> None:
    with pytest.raises(TriageError, match="no run record"):
        export_run(registry, "run-000042", tmp_path)
