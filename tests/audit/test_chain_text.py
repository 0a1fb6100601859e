"""The record hash of already-serialised content: the same digest as hashing the parsed
record, and plain JSON is recognised exactly (anything else is read back as before)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.audit._chain import canonical_json, is_plain_json, record_hash, record_hash_of_text

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _row(content: Any) -> dict[str, Any]:
    return {
        "seq": 3,
        "kind": "run",
        "record_id": "run-000003",
        "created_at": "2026-12-02T18:00:00.000000Z",
        "user": "ana",
        "role": "staff",
        "prev_hash": "ab" * 32,
        "content": content,
    }


@given(content=st.dictionaries(st.text(), _json, max_size=5))
def test_text_hash_is_the_record_hash(content: dict[str, Any]) -> None:
    assert is_plain_json(content)
    text = canonical_json(content)
    assert record_hash_of_text(_row(content), text) == record_hash(_row(content))


@pytest.mark.parametrize(
    "content",
    [
        {"a": (1, 2)},  # a tuple reads back as a list
        {"a": {1: "x"}},  # an int key reads back as text (and sorts differently)
        {"a": [np.float64(0.5)]},
        {"a": [{"b": {"c": np.int64(1)}}]},
    ],
)
def test_anything_but_plain_json_is_recognised(content: dict[str, Any]) -> None:
    assert not is_plain_json(content)


@pytest.mark.parametrize(
    "column",
    [
        ["a reason", "another"],
        ["a reason", None, float("nan"), 3],
        pd.Series(["x", None], dtype="str"),
    ],
)
def test_texts_are_what_astype_str_gives(column: Any) -> None:
    from triage.audit._run_content import _texts

    series = column if isinstance(column, pd.Series) else pd.Series(column, dtype=object)
    expected = series.astype(str).tolist()
    got = _texts(series)
    assert [repr(v) for v in got] == [repr(v) for v in expected]
