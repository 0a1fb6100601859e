"""The app's first-page cache (``triage.monitor._cache``): keys that never serve stale content."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.monitor import (
    FirstPage,
    first_page_key,
    frame_fingerprint,
    model_sha256,
    read_first_page,
    write_first_page,
)


def _submissions(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": [f"Q{i}" for i in range(n)],
            "received_date": pd.to_datetime(["2017-01-02"] * n),
            "country": ["KEN", "PER", "IND", "FRA"][:n],
            "n_mandates": pd.array([1, 2, None, 3][:n], dtype="Int64"),
            "status": ["eligible", "eligible", "selected", "not_selected"][:n],
        }
    )


COUNTS = {"submissions": 4, "status_history": 10, "outcomes": 2}


def _key(subs: pd.DataFrame | None = None, sha: str = "a" * 64, counts: dict | None = None) -> str:
    return first_page_key(
        model_sha256=sha,
        submissions=_submissions() if subs is None else subs,
        counts=COUNTS if counts is None else counts,
    )


def _page(key: str, policy_sha: str = "p" * 64) -> FirstPage:
    return FirstPage(
        key=key,
        simulated=True,
        model_version="default",
        scores=pd.DataFrame(
            {
                "case_id": ["Q0", "Q1"],
                "score": [0.25, 0.5],
                "lower": [0.1, 0.3],
                "upper": [0.4, 0.7],
            }
        ),
        reasons=pd.DataFrame(
            {"case_id": ["Q0", "Q0", "Q1"], "rank": [1, 2, 1], "text": ["a", "b", "c"]}
        ),
        policy_sha256=policy_sha,
        selection=pd.DataFrame(
            {
                "case_id": ["Q0", "Q1"],
                "selected": [False, True],
                "reason": ["Not selected: …", "Selected on its score 0.500."],
                "score_to_enter": [0.3, float("nan")],
                "displaced_by": ["Q1", ""],
                "p_selected": [0.1, 0.95],
                "chance": [
                    "selected under 2 of 20 plausible models",
                    "selected under 19 of 20 plausible models",
                ],
            }
        ),
    )


@settings(max_examples=40, deadline=None)
@given(st.permutations(range(4)))
def test_fingerprint_ignores_row_order(order: list[int]) -> None:
    subs = _submissions()
    shuffled = subs.iloc[list(order)].reset_index(drop=True)
    assert frame_fingerprint(shuffled) == frame_fingerprint(subs)


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.assign(status=["eligible", "eligible", "not_selected", "not_selected"]),
        lambda f: f.assign(country=["KEN", "PER", "IND", "DEU"]),
        lambda f: f.assign(n_mandates=pd.array([1, 2, 1, 3], dtype="Int64")),
        lambda f: f.iloc[:3],
        lambda f: pd.concat([f, f.iloc[:1].assign(case_id="Q9")], ignore_index=True),
        lambda f: f.rename(columns={"country": "iso3"}),
        lambda f: f.drop(columns="status"),
    ],
)
def test_any_changed_submission_changes_the_key(change) -> None:  # type: ignore[no-untyped-def]
    before = _submissions()
    assert _key(change(before)) != _key(before)


def test_model_and_table_counts_change_the_key() -> None:
    assert _key() == _key()
    assert _key(sha="b" * 64) != _key()
    assert _key(counts={**COUNTS, "outcomes": 3}) != _key()
    assert _key(counts={**COUNTS, "replies": 0}) != _key()
    with pytest.raises(ValueError, match="`model_sha256` must be a non-empty str"):
        _key(sha="")


def test_written_page_reads_back_only_under_its_key(tmp_path: Path) -> None:
    key = _key()
    path = write_first_page(_page(key), tmp_path / "cache" / "first-page.json")
    page = read_first_page(path, key=key)
    assert page is not None
    expected = _page(key)
    pd.testing.assert_frame_equal(page.scores, expected.scores)
    pd.testing.assert_frame_equal(page.reasons, expected.reasons)
    pd.testing.assert_frame_equal(page.selection, expected.selection)
    assert page.simulated and page.model_version == "default"
    # Stale: a status changed, the model changed.
    changed = _submissions().assign(status="eligible")
    assert read_first_page(path, key=_key(changed)) is None
    assert read_first_page(path, key=_key(sha="c" * 64)) is None


def test_policy_reasons_are_served_for_their_policy_only(tmp_path: Path) -> None:
    page = _page(_key(), policy_sha="p" * 64)
    assert page.selection_for("p" * 64) is not None
    assert page.selection_for("q" * 64) is None


def test_writing_is_byte_identical(tmp_path: Path) -> None:
    a = write_first_page(_page(_key()), tmp_path / "a.json").read_bytes()
    b = write_first_page(_page(_key()), tmp_path / "b.json").read_bytes()
    assert a == b
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("content", ["", "{not json", '{"format": 1}', "[]", '{"format": 0}'])
def test_unreadable_or_foreign_files_are_a_miss(tmp_path: Path, content: str) -> None:
    path = tmp_path / "first-page.json"
    path.write_text(content, encoding="utf-8")
    assert read_first_page(path, key=_key()) is None
    assert read_first_page(tmp_path / "missing.json", key=_key()) is None


def test_model_sha256_matches_the_loaded_model_and_its_files(tmp_path: Path) -> None:
    from triage.config import models_dir
    from triage.errors import TriageError
    from triage.scoring._model import ARTIFACT_FILES

    folder = tmp_path / "m"
    folder.mkdir()
    for name in ARTIFACT_FILES:
        (folder / name).write_bytes((models_dir() / "default" / name).read_bytes())
    first = model_sha256(folder)
    assert first == model_sha256(models_dir() / "default")
    (folder / "calibrator.json").write_text('{"kind": "other"}', encoding="utf-8")
    assert model_sha256(folder) != first
    (folder / "model.txt").unlink()
    with pytest.raises(TriageError, match="model artifacts cannot be read"):
        model_sha256(folder)
