"""The hash chain over plain records: any edit, deletion, insertion or reordering is caught."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.audit import GENESIS_HASH, canonical_json, record_hash, verify_records


def build_chain(contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    prev = GENESIS_HASH
    for i, content in enumerate(contents, start=1):
        rec = {
            "seq": i,
            "kind": "run",
            "record_id": f"run-{i:06d}",
            "created_at": f"2026-01-01T00:00:{i:02d}.000000Z",
            "user": "ana",
            "role": "staff",
            "prev_hash": prev,
            "content": content,
        }
        rec["hash"] = record_hash(rec)
        prev = rec["hash"]
        records.append(rec)
    return records


def head_of(records: list[dict[str, Any]]) -> tuple[int, str]:
    return (len(records), records[-1]["hash"] if records else GENESIS_HASH)


CONTENTS = [{"selected": [f"Q{i}", f"Q{i + 1}"], "seed": i, "gap": 0.0} for i in range(6)]


def test_intact_chain_verifies() -> None:
    chain = build_chain(CONTENTS)
    result = verify_records(chain, head=head_of(chain))
    assert result.ok and result.n_records == 6 and result.head_hash == chain[-1]["hash"]
    assert result.problem == "" and "intact" in result.summary()


def test_empty_chain_is_intact() -> None:
    assert verify_records([], head=None).ok
    assert verify_records([], head=(0, GENESIS_HASH)).ok


def test_edited_value_names_that_record() -> None:
    chain = build_chain(CONTENTS)
    head = head_of(chain)
    chain[3]["content"]["selected"][0] = "Q99"
    result = verify_records(chain, head=head)
    assert not result.ok
    assert result.first_bad_seq == 4 and result.first_bad_id == "run-000004"
    assert "content was changed" in result.problem


def test_edited_user_is_caught() -> None:
    chain = build_chain(CONTENTS)
    chain[1]["user"] = "mallory"
    result = verify_records(chain)
    assert not result.ok and result.first_bad_seq == 2


def test_deleted_middle_record_names_the_next() -> None:
    chain = build_chain(CONTENTS)
    head = head_of(chain)
    del chain[2]
    result = verify_records(chain, head=head)
    assert not result.ok
    assert result.first_bad_id == "run-000004"
    assert "#3" in result.problem and "deleted" in result.problem


def test_deleted_last_record_is_caught_by_the_head() -> None:
    chain = build_chain(CONTENTS)
    head = head_of(chain)
    chain.pop()
    result = verify_records(chain, head=head)
    assert not result.ok and result.first_bad_seq == 6
    assert "deleted" in result.problem


def test_swapped_records_are_caught() -> None:
    chain = build_chain(CONTENTS)
    head = head_of(chain)
    chain[1], chain[2] = chain[2], chain[1]
    result = verify_records(chain, head=head)
    assert not result.ok and result.first_bad_position == 2 and result.first_bad_id == "run-000003"
    assert "out of order" in result.problem


def test_renumbered_swap_is_caught() -> None:
    # Swapping two records and fixing their seq numbers still breaks their hashes.
    chain = build_chain(CONTENTS)
    chain[1], chain[2] = chain[2], chain[1]
    chain[1]["seq"], chain[2]["seq"] = 2, 3
    result = verify_records(chain)
    assert not result.ok and result.first_bad_seq == 2


def test_inserted_record_with_valid_own_hash_is_caught() -> None:
    chain = build_chain(CONTENTS)
    forged = copy.deepcopy(chain[2])
    forged["content"] = {"selected": ["FORGED"]}
    forged["hash"] = record_hash(forged)
    chain.insert(3, forged)
    result = verify_records(chain)
    assert not result.ok and result.first_bad_seq in (3, 4)


def test_rehashed_edit_breaks_the_next_link() -> None:
    # An attacker who edits a record and recomputes its hash breaks the next record's link.
    chain = build_chain(CONTENTS)
    chain[2]["content"] = {"selected": []}
    chain[2]["hash"] = record_hash(chain[2])
    result = verify_records(chain)
    assert not result.ok and result.first_bad_id == "run-000004"
    assert "before it" in result.problem


def test_canonical_json_is_order_free_and_rejects_nan() -> None:
    assert canonical_json({"b": 1, "a": [1, 2]}) == canonical_json({"a": [1, 2], "b": 1})
    with pytest.raises(ValueError):
        canonical_json({"gap": float("nan")})


def test_record_hash_needs_every_field() -> None:
    with pytest.raises(ValueError, match="`record` must have the fields"):
        record_hash({"seq": 1})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(
    contents=st.lists(
        st.dictionaries(st.text(min_size=1, max_size=5), json_values, min_size=1, max_size=3),
        min_size=1,
        max_size=8,
    ),
    data=st.data(),
)
def test_any_tampering_is_caught(contents: list[dict[str, Any]], data: st.DataObject) -> None:
    chain = build_chain(contents)
    head = head_of(chain)
    assert verify_records(chain, head=head).ok
    n = len(chain)
    op = data.draw(
        st.sampled_from(["edit", "delete", "swap", "user"] if n > 1 else ["edit", "delete", "user"])
    )
    i = data.draw(st.integers(0, n - 1))
    if op == "edit":
        chain[i]["content"] = {**chain[i]["content"], "__tampered__": True}
    elif op == "user":
        chain[i]["role"] = "auditor"
    elif op == "delete":
        del chain[i]
    else:
        j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i))
        chain[i], chain[j] = chain[j], chain[i]
    result = verify_records(chain, head=head)
    assert not result.ok
    # The chain fails at the tampered position (1-based) or before it, never after it.
    assert result.first_bad_position is not None and result.first_bad_position <= i + 1
    assert result.problem
