"""`triage demo prepare` precomputes the app's first page, and again only when it went stale."""

from __future__ import annotations

from typing import Any

import pytest

from triage.cli import main

AppEnv = Any  # tests/app/conftest.py: AppEnv (root, var, models, db_url)


def _prepare(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(["demo", "prepare"])
    out, err = capsys.readouterr()
    assert int(info.value.code or 0) == 0, err
    return " ".join(out.split())


def test_prepare_stores_a_current_first_page_and_rebuilds_it_when_stale(
    writable_env: AppEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    from triage.allocate import load_policy
    from triage.config import policies_dir
    from triage.monitor import current_key, first_page_path, read_first_page
    from triage.registry import Registry

    assert not first_page_path().exists()
    assert "app first page precomputed" in _prepare(capsys)
    assert first_page_path().is_relative_to(writable_env.var)
    registry = Registry(writable_env.db_url)
    key, submissions = current_key(registry, model_dir=writable_env.models / "default")
    page = read_first_page(key=key)
    assert page is not None and page.simulated
    incoming = registry.history().queue
    assert incoming is not None
    assert sorted(page.scores["case_id"]) == sorted(incoming["case_id"])
    assert page.scores["score"].between(0, 1).all()
    assert set(page.reasons["case_id"]) == set(incoming["case_id"])
    default = load_policy(policies_dir() / "default.toml")
    assert page.selection_for(default.sha256) is not None
    before = first_page_path().read_bytes()

    assert "already precomputed" in _prepare(capsys)
    assert first_page_path().read_bytes() == before

    eligible = submissions[submissions["status"] == "eligible"]["case_id"].iloc[0]
    registry.advance(str(eligible), "ineligible", note="test")
    registry.dispose()
    assert "app first page precomputed" in _prepare(capsys)
    assert first_page_path().read_bytes() != before
