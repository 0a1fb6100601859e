"""``triage._validation``: declarative argument checks keep the project's message shape."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage._validation import (
    Constraint,
    at_least,
    check_params,
    in_range,
    instance_of,
    integer,
    one_of,
)

_MESSAGE = re.compile(r"^`\w+` must be .+\. Got .+ instead\.$", re.DOTALL)


@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_in_range_accepts_exactly_the_half_open_interval(value: float) -> None:
    rule = {"level": in_range(0.5, 1, closed="left")}
    if 0.5 <= value < 1:
        check_params(rule, level=value)
    else:
        with pytest.raises(
            ValueError, match=r"^`level` must be in \[0\.5, 1\)\. Got .+ instead\.$"
        ):
            check_params(rule, level=value)


@given(
    low=st.floats(-10, 10),
    high=st.floats(-10, 10),
    closed=st.sampled_from(["left", "right", "both", "neither"]),
    value=st.floats(-20, 20),
)
def test_in_range_ends_follow_closed(low: float, high: float, closed: str, value: float) -> None:
    rule = in_range(low, high, closed=closed)  # type: ignore[arg-type]
    above = value >= low if closed in ("left", "both") else value > low
    below = value <= high if closed in ("right", "both") else value < high
    assert rule.test(value) == (above and below)


@given(value=st.one_of(st.integers(-5, 5), st.booleans(), st.floats(-5, 5), st.text(max_size=3)))
def test_integer_refuses_bools_floats_and_text(value: object) -> None:
    rule = integer("a non-negative integer", minimum=0)
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    assert rule.test(value) == ok


def test_integer_numpy_and_nonzero() -> None:
    assert integer("x", minimum=0).test(np.int64(3))
    assert not integer("x", numpy_ok=False).test(np.int64(3))
    assert not integer("x", nonzero=True).test(0)
    assert integer("x", nonzero=True).test(-1)


def test_messages_keep_the_wording_and_show_the_value_as_asked() -> None:
    cases: list[tuple[Constraint, object, str]] = [
        (at_least(2), 1, "`n` must be at least 2. Got 1 instead."),
        (
            Constraint(lambda v: v > 0, "positive", show="str"),
            -0.5,
            "`n` must be positive. Got -0.5 instead.",
        ),
        (
            one_of(("staff", "auditor")),
            "boss",
            "`n` must be one of staff, auditor. Got 'boss' instead.",
        ),
        (
            one_of(("sample", "all"), words="'sample' or 'all'"),
            "some",
            "`n` must be 'sample' or 'all'. Got 'some' instead.",
        ),
        (
            instance_of(pd.DataFrame, "a pandas DataFrame"),
            [1],
            "`n` must be a pandas DataFrame. Got list instead.",
        ),
    ]
    for rule, value, message in cases:
        with pytest.raises(ValueError) as info:
            check_params({"n": rule}, n=value)
        assert str(info.value) == message
        assert _MESSAGE.match(str(info.value))


def test_first_bad_argument_in_the_order_given_is_reported() -> None:
    rules = {"a": at_least(1), "b": at_least(1)}
    with pytest.raises(ValueError, match=r"^`b` must"):
        check_params(rules, b=0, a=0)
    check_params(rules, a=1, b=3)


def test_an_argument_without_a_constraint_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        check_params({"a": at_least(1)}, b=2)
