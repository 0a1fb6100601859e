"""Policies are documents: validated, round-tripped, hashed; candidates are checked row by row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.allocate import Policy, PolicyError, allocate, load_policy, prepare_candidates
from triage.allocate._synthetic import random_candidates
from triage.config import policies_dir
from triage.errors import InputFileError
from triage.schema import region_of

SHIPPED = sorted(policies_dir().glob("*.toml"))


def test_three_policies_are_shipped() -> None:
    names = {load_policy(p).name for p in SHIPPED}
    assert {"default", "gender-parity", "low-key"} <= names
    assert load_policy(policies_dir() / "default.toml").capacity == 550


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_policy_round_trips(path: Path) -> None:
    policy = load_policy(path)
    again = Policy.from_toml(policy.to_toml())
    assert again == policy
    assert again.sha256 == policy.sha256
    assert len(policy.sha256) == 64


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name='x'\ncapacity=5\ncolour=1", ["colour", "unknown key"]),
        (
            "name='x'\ncapacity=5\n[share.un_region]\nafrica={min=0.1}",
            ["share.un_region.africa", "unknown"],
        ),
        (
            "name='x'\ncapacity=5\n[share.gender]\nwoman={min=0.6,max=0.4}",
            ["share.gender.woman", "greater than max"],
        ),
        (
            "name='x'\ncapacity=5\n[share.gender]\nwoman={min=1.5}",
            ["share.gender.woman.min", "between 0 and 1"],
        ),
        (
            "name='x'\ncapacity=5\n[share.gender]\nwoman={least=0.5}",
            ["share.gender.woman.least", "unknown key"],
        ),
        (
            "name='x'\ncapacity=5\n[share.un_region]\nafrican={min=0.6}\nweog={min=0.6}",
            ["share.un_region", "add up to 1.2"],
        ),
        ("name='x'\ncapacity=0", ["capacity", "at least 1"]),
        ("name='x'", ["capacity", "required"]),
        ("name='x'\ncapacity=5\n[share.caste]\nx={min=0.1}", ["share.caste", "unknown key"]),
        (
            "name='x'\ncapacity=5\n[limit]\nper_country={XXX=3}",
            ["limit.per_country.XXX", "unknown country"],
        ),
        ("name='x'\ncapacity=5\n[pacing]\nperiod='day'", ["pacing.period"]),
        (
            "name='x'\ncapacity=5\n[pacing]\nperiod='quarter'\nweights=[1,2]",
            ["pacing.weights", "4 numbers"],
        ),
        (
            "name='x'\ncapacity=2\n[must_include]\ncase_ids=['a','b','c']",
            ["must_include.case_ids", "capacity"],
        ),
        ("name='x'\ncapacity=5\n[exploration]\nshare=0.9", ["exploration.share"]),
        ("name = 'x\ncapacity=5", ["not valid TOML"]),
    ],
)
def test_bad_policies_are_rejected_with_the_key(text: str, words: list[str]) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_toml(text, source="p.toml")
    message = info.value.message
    assert message.startswith("p.toml: ")
    for word in words:
        assert word in message


def test_bounds_that_cannot_hold_for_k_are_rejected() -> None:
    policy = Policy.from_toml("name='x'\ncapacity=5\n[share.gender]\nwoman={min=0.15,max=0.18}")
    with pytest.raises(PolicyError, match=r"share\.gender\.woman: no whole number"):
        allocate(random_candidates(50, seed=1), policy)
    # With more cases the same band leaves room, so it is accepted.
    wide = policy.with_changes(capacity=40)
    assert allocate(random_candidates(80, seed=1), wide).status in ("optimal", "infeasible")


def test_missing_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such policy file"):
        load_policy(tmp_path / "nope.toml")


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["african", "asia_pacific", "weog"]),
        st.tuples(st.sampled_from([None, 0.0, 0.1, 0.2]), st.sampled_from([None, 0.3, 0.5, 1.0])),
    ),
    st.integers(1, 2000),
)
def test_to_toml_round_trip_property(bands: dict, capacity: int) -> None:  # type: ignore[type-arg]
    lines = [f"name='p'\ncapacity={capacity}", "[share.un_region]"]
    for code, (lo, hi) in bands.items():
        parts = [f"min={lo}"] * (lo is not None) + [f"max={hi}"] * (hi is not None)
        if parts:
            lines.append(f"{code}={{{', '.join(parts)}}}")
    policy = Policy.from_toml("\n".join(lines))
    assert Policy.from_toml(policy.to_toml()) == policy


def _cands(**changes: object) -> pd.DataFrame:
    frame = random_candidates(6, seed=3).astype(str)  # as read from a CSV
    for key, value in changes.items():
        col, row = key.rsplit("_", 1)
        frame.loc[int(row), col] = value
    return frame


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"score_2": "high"}, ["line 4", "column score", "'high'", "not a finite number"]),
        ({"un_region_0": "europe"}, ["line 2", "column un_region", "'europe'"]),
        ({"country_1": "XYZ"}, ["line 3", "column country", "'XYZ'", "ISO 3166"]),
        ({"gender_3": "w"}, ["line 5", "column gender", "'w'"]),
        ({"violations_4": "detention;jail"}, ["line 6", "column violations", "'jail'"]),
        ({"case_id_5": "C3-0000000"}, ["line 7", "appears more than once"]),
        ({"un_region_2": "weog", "country_2": "KEN"}, ["line 4", "does not match"]),
    ],
)
def test_bad_candidates_name_line_column_value(changes: dict, words: list[str]) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputFileError) as info:
        prepare_candidates(_cands(**changes), source="c.csv")
    for word in ["c.csv", *words]:
        assert word in info.value.message


def test_missing_column_is_named() -> None:
    with pytest.raises(InputFileError, match=r"missing required column.*gender"):
        prepare_candidates(random_candidates(3, seed=1).drop(columns="gender"))


def test_blank_values_are_unknown_not_errors() -> None:
    frame = random_candidates(4, seed=5)
    frame.loc[0, "gender"] = ""
    frame.loc[1, "violations"] = ""
    frame.loc[2, "un_region"] = ""  # filled from the country
    out = prepare_candidates(frame)
    row = out.set_index("case_id")
    assert row.loc[frame.loc[0, "case_id"], "gender"] == "unknown"
    assert row.loc[frame.loc[1, "case_id"], "violations"] == ""
    assert row.loc[frame.loc[2, "case_id"], "un_region"] == region_of(frame.loc[2, "country"])
