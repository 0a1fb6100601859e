"""The hypothesis profiles of tests/conftest.py: ``fast`` locally, a fuller ``ci`` under CI=true."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from suite_settings import CI_SCALE, hypothesis_profile, scale_examples


def test_the_ci_profile_runs_more_examples_than_fast() -> None:
    fast, ci = settings.get_profile("fast"), settings.get_profile("ci")
    assert ci.max_examples > fast.max_examples
    assert fast.deadline is None and ci.deadline is None


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "fast"),
        ({"CI": "true"}, "ci"),
        ({"CI": "TRUE"}, "ci"),
        ({"CI": "false"}, "fast"),
        ({"CI": "true", "HYPOTHESIS_PROFILE": "fast"}, "fast"),
    ],
)
def test_the_profile_follows_ci(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], expected: str
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert hypothesis_profile() == expected


class _Item:
    def __init__(self, obj: object) -> None:
        self.obj = obj


def test_ci_scales_a_tests_own_count_and_leaves_the_others() -> None:
    calls: list[int] = []

    @settings(max_examples=4, database=None)
    @given(st.integers())
    def own_count(x: int) -> None:
        calls.append(x)

    @given(st.integers())
    def profile_count(x: int) -> None:
        pass

    before = profile_count._hypothesis_internal_use_settings  # type: ignore[attr-defined]
    scale_examples([_Item(own_count), _Item(own_count), _Item(profile_count)])  # type: ignore[list-item]
    assert own_count._hypothesis_internal_use_settings.max_examples == 4 * CI_SCALE  # type: ignore[attr-defined]
    assert profile_count._hypothesis_internal_use_settings is before  # type: ignore[attr-defined]
    own_count()
    assert 4 < len(calls) <= 4 * CI_SCALE
