"""One cell at a time: dates, codes, countries, regions, numbers and their plain-word reasons."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.intake import FIELDS
from triage.intake._cells import parse_cell, parse_date, region_mismatch

TODAY = dt.date(2024, 6, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-02-29", dt.date(2016, 2, 29)),
        ("2016/03/04", dt.date(2016, 3, 4)),
        ("04/03/2016", dt.date(2016, 3, 4)),  # day first, as the UN writes
        ("04.03.2016", dt.date(2016, 3, 4)),
        ("4 March 2016", dt.date(2016, 3, 4)),
        ("March 4, 2016", dt.date(2016, 3, 4)),
        ("4 Mar. 2016", dt.date(2016, 3, 4)),
        ("2016-03-04 10:30:00", dt.date(2016, 3, 4)),
        ("2016-03-04T10:30:00+02:00", dt.date(2016, 3, 4)),
        (" 2016-03-04 ", dt.date(2016, 3, 4)),
    ],
)
def test_dates_people_write_are_read(text: str, expected: dt.date) -> None:
    assert parse_date(text, today=TODAY) == (expected, None)


def test_the_day_month_order_is_the_files_not_the_cells() -> None:
    # One cell never switches the order by itself: the file settles it (day_month_order).
    assert parse_date("03/25/2016", today=TODAY) == (None, "impossible date: there is no month 25")
    assert parse_date("03/25/2016", today=TODAY, month_first=True) == (dt.date(2016, 3, 25), None)
    assert parse_date("02/03/2015", today=TODAY, month_first=True) == (dt.date(2015, 2, 3), None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2017-02-30", "impossible date: February 2017 has 28 days, not 30"),
        ("2100-02-29", "impossible date: February 2100 has 28 days, not 29"),
        ("2016-04-31", "impossible date: April 2016 has 30 days, not 31"),
        ("2016-00-10", "impossible date: there is no month 0"),
        ("31/31/2016", "impossible date: there is no month 31"),
        ("2024-06-02", "date in the future (today is 2024-06-01)"),
        ("1899-12-31", "implausible date (before 1945); check the year"),
        ("yesterday", "not a date; write it as YYYY-MM-DD"),
        ("2016-3", "not a date; write it as YYYY-MM-DD"),
        ("32 Foo 2016", "not a date; write it as YYYY-MM-DD"),
    ],
)
def test_bad_dates_say_why(text: str, reason: str) -> None:
    assert parse_date(text, today=TODAY) == (None, reason)


@given(st.dates(min_value=dt.date(1945, 1, 1), max_value=TODAY))
def test_every_real_date_round_trips(date: dt.date) -> None:
    assert parse_date(date.isoformat(), today=TODAY) == (date, None)
    assert parse_date(date.strftime("%d/%m/%Y"), today=TODAY) == (date, None)
    assert parse_date(date.strftime("%m/%d/%Y"), today=TODAY, month_first=True) == (date, None)


@pytest.mark.parametrize(
    ("column", "text", "value", "words"),
    [
        # Spellings that map to a code (no reason) ...
        ("violations", "Detention;Threats", "detention;threats", None),
        ("violations", "torture / physical attack", "torture_physical_attack", None),
        ("violations", "detention;detention", "detention", None),
        ("issue_areas", "LGBTI rights", "lgbti_rights", None),
        ("type", "joint urgent appeal", "UA", None),
        ("type", "al", "AL", None),
        ("reply_class", "No reply", "none", None),
        ("addressee", "non-state actor", "non_state", None),
        ("gender", "F", "woman", None),
        ("protester", "Yes", True, None),
        ("n_mandates", "3.0", 3, None),
        ("country", "cote d'ivoire", "CIV", None),
        ("un_region", "Latin American and Caribbean States", "latin_american_caribbean", None),
        ("un_region", "GRULAC", "latin_american_caribbean", None),
        # ... and values that do not: no value, a reason that suggests the closest code.
        ("violations", "detension", None, '(did you mean "detention"?)'),
        ("violations", "detention;flogging;tortured", None, 'codes "flogging", "tortured"'),
        ("type", "Urgnt apeal", None, 'did you mean "UA" (Urgent appeal)?'),
        ("country", "Frnace", None, 'unknown country; did you mean "France"?'),
        ("country", "Qqqqqqqq", None, "use an ISO3 code"),
        ("un_region", "Afrcan Group", None, 'did you mean "african"?'),
        ("n_mandates", "-1", None, "whole number from 1 to 100"),
        ("protester", "maybe", None, "not true or false"),
        ("case_id", "x" * 65, None, "too long: 65 characters, at most 64"),
        ("defender_name", "bad\x07bell", None, "control characters"),
    ],
)
def test_each_cell_gives_its_code_or_says_why(
    column: str, text: str, value: object, words: str | None
) -> None:
    got, reason = parse_cell(text, FIELDS[column], today=TODAY)
    if words is None:
        assert (got, reason) == (value, None)
    else:
        assert got is None and reason is not None and words in reason


def test_region_mismatch_names_the_right_group() -> None:
    assert region_mismatch("FRA", "weog") is None
    assert region_mismatch("KEN", "weog") == (
        "does not match the country: Kenya is in the African Group (african)"
    )


@given(st.text(max_size=40))
def test_any_text_in_any_column_gives_a_value_or_a_reason(text: str) -> None:
    for spec in FIELDS.values():
        value, reason = parse_cell(text, spec, today=TODAY)
        # A reason means no value; a value never comes with a reason (";;" is a valid empty list).
        assert reason is None or (value is None and len(reason) > 5)


def test_dates_written_as_numbers() -> None:
    assert parse_date("42736", today=TODAY) == (dt.date(2017, 1, 1), None)  # Excel serial day
    assert parse_date("1483228800000", today=TODAY) == (dt.date(2017, 1, 1), None)  # epoch ms
    assert parse_date("123", today=TODAY)[1] == "not a date; write it as YYYY-MM-DD"
