"""Words for people who are not auditors (``triage.allocate._words``)."""

from __future__ import annotations

import re

from triage.allocate import (
    Bound,
    Policy,
    allocate,
    changed_cases,
    compare_policies,
    decision_words,
    explain_selection,
    partition_relaxation,
    plain_price_table,
    price_of_balance,
    relaxation_changes,
    split_reason,
)
from triage.allocate._synthetic import random_candidates

_POLICY = (
    "name='x'\ncapacity=90\n[share.gender]\nwoman={min=0.4}\n"
    "[share.violations]\ndetention={max=0.5}\n[limit]\nmax_per_country=15\n"
)
_INTERNAL = re.compile(r"share_min|share_max|max_per_country|\[[a-z_]+=")


def test_split_reason_takes_the_constraint_names_out_of_the_words() -> None:
    text = (
        "Not selected: its score 41.2% is below the entry bar of 45.0% "
        "[share_min[gender=woman]; max_per_country[country=IRN]]."
    )
    words, names = split_reason(text)
    assert words == "Not selected: its score 41.2% is below the entry bar of 45.0%."
    assert names == "share_min[gender=woman]; max_per_country[country=IRN]"
    assert split_reason("Selected on its score 50.0%.") == ("Selected on its score 50.0%.", "")
    assert split_reason(float("nan")) == ("", "")


def test_every_reason_of_a_selection_reads_without_internal_names() -> None:
    cands = random_candidates(300, seed=3)
    policy = Policy.from_toml(_POLICY)
    why = explain_selection(cands, policy, allocate(cands, policy))
    for reason in why["reason"]:
        words, _ = split_reason(reason)
        assert not _INTERNAL.search(words), words


def test_floors_above_100_percent_get_the_smallest_relaxation_in_percent() -> None:
    shares = {"gender": {"woman": Bound(min=0.9), "man": Bound(min=0.5)}}
    (change,) = partition_relaxation(shares, moved=("gender", "woman"))
    assert (change.code, change.side, change.now, change.to) == ("woman", "min", 90, 50)
    assert "from 90% to 50%" in change.words and "Woman" in change.words
    (other,) = partition_relaxation(shares, moved=("gender", "man"))
    assert (other.code, other.to) == ("man", 10)
    assert partition_relaxation({"gender": {"woman": Bound(min=0.4)}}) == []


def test_an_infeasible_policy_is_relaxed_in_the_sliders_units() -> None:
    cands = random_candidates(200, seed=5)
    policy = Policy.from_toml("name='y'\ncapacity=60\n[share.violations]\ndetention={min=0.95}\n")
    allocation = allocate(cands, policy)
    if allocation.feasible:  # the draw happened to hold enough detention cases
        return
    changes = relaxation_changes(allocation, policy)
    assert changes
    for c in changes:
        assert not _INTERNAL.search(c.words), c.words
        assert "%" in c.words or "cases" in c.words
    fixed = changes[0]
    relaxed = policy.with_bound(fixed.dimension, fixed.code, min=fixed.to / 100 or None)
    assert allocate(cands, relaxed).feasible


def test_prices_and_decisions_read_in_words() -> None:
    cands = random_candidates(300, seed=3)
    policy = Policy.from_toml(_POLICY)
    table = plain_price_table(price_of_balance(cands, policy), policy)
    assert list(table.columns) == ["Target", "Cost", "What it means"]
    assert not any(_INTERNAL.search(t) for t in table["Target"])
    assert (table["Cost"] >= 0).all()
    assert decision_words(True, None).startswith("Taken up")
    said = decision_words(
        False,
        {"action": "select", "reason": "urgent", "user": "ana", "time": "2026-01-02T03:04:05"},
    )
    assert said == "Taken up by override: urgent (by ana, 2026-01-02 03:04 UTC)"


def test_two_policies_compare_side_by_side() -> None:
    cands = random_candidates(300, seed=3)
    a = Policy.from_toml(_POLICY)
    b = a.with_bound("gender", "woman", min=0.6)
    xa, xb = allocate(cands, a), allocate(cands, b)
    summary, shares = compare_policies(cands, (a, xa), (b, xb))
    assert summary["in_both"] + summary["only_a"] == len(xa.selected)
    assert summary["in_both"] + summary["only_b"] == len(xb.selected)
    woman = shares[shares["Group"] == "Woman"].iloc[0]
    assert (woman["Band of A"], woman["Band of B"]) == ("at least 40%", "at least 60%")
    moves = changed_cases(cands, (a, xa), (b, xb))
    assert set(moves["Change"]) <= {"enters", "leaves"}
    assert len(moves) == summary["only_a"] + summary["only_b"]
    assert moves["Reason"].str.len().gt(0).all()
