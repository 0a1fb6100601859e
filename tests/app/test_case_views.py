"""The Case page's precomputed views (``triage.monitor`` case views, built by ``demo prepare``):
exactly what the page would compute, kept across a recorded run, never served stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.monitor import (
    WHAT_IF_MANDATES,
    build_case_views,
    case_views_key,
    read_case_views,
    write_case_views,
)

AppEnv = Any  # tests/app/conftest.py: AppEnv (root, var, models, db_url)


@pytest.fixture(scope="module")
def built(shared_env: AppEnv, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    from triage.registry import Registry
    from triage.scoring import load_model

    registry = Registry(shared_env.db_url).init()
    model_dir = shared_env.models / "default"
    views = build_case_views(registry, model_dir=model_dir)
    folder = write_case_views(views, tmp_path_factory.mktemp("views") / "case-views")
    history = registry.history()
    yield registry, model_dir, views, folder, load_model(model_dir), history
    registry.dispose()


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(min_value=0, max_value=10_000),
    st.sets(st.sampled_from(WHAT_IF_MANDATES), min_size=1),
)
def test_stored_views_equal_what_the_case_page_computes(
    built: tuple, pick: int, mandates: set
) -> None:
    from triage.explain import explain
    from triage.scoring import what_if

    _, _, views, folder, model, history = built
    stored = read_case_views(folder, key=views.key)
    assert stored is not None
    queue = history.queue
    row = queue.iloc[[pick % len(queue)]]
    case_id = str(row["case_id"].iloc[0])
    fresh = explain(model, row, history)
    got = stored.contributions_of([case_id])
    assert got is not None
    assert list(got["feature"]) == list(fresh["feature"])
    assert (
        np.abs(got["contribution"].to_numpy() - fresh["contribution"].to_numpy()).max() < 1e-12
    ), np.abs(got["contribution"].to_numpy() - fresh["contribution"].to_numpy()).max()
    for a, b in zip(got["value"], fresh["value"], strict=True):  # numbers and ISO3 codes
        assert (a == b) or (a != a and b != b) or (a is None and b is None)
    wanted = tuple(sorted(mandates))
    scores = stored.what_if_of(case_id, wanted)
    assert scores is not None and list(scores["n_mandates"]) == list(wanted)
    direct = what_if(model, row, history, n_mandates=wanted)
    assert np.abs(scores["score"].to_numpy() - direct["score"].to_numpy()).max() < 1e-12, (
        scores,
        direct,
    )
    assert stored.contributions_of([case_id, "no-such-case"]) is None
    assert stored.what_if_of(case_id, (99,)) is None


def test_views_survive_a_run_and_miss_on_another_key_or_a_broken_file(
    built: tuple, writable_env: AppEnv
) -> None:
    from triage.audit import run_selection
    from triage.registry import Registry

    _, _, views, folder, _, _ = built
    assert read_case_views(folder, key="0" * 64) is None
    registry = Registry(writable_env.db_url).init()
    model_dir = writable_env.models / "default"
    before = case_views_key(registry, model_dir=model_dir)
    assert before == views.key  # the same registry content and model
    run_selection(
        registry=registry,
        policy_path=writable_env.var / "policies" / "test.toml",
        user="ana",
        role="staff",
        model_dir=model_dir,
    )
    # Statuses changed, scores did not: the views are still served.
    assert case_views_key(registry, model_dir=model_dir) == before
    registry.dispose()
    broken = Path(folder).parent / "broken"
    write_case_views(views, broken)
    (broken / "what_if.parquet").write_bytes(b"not parquet")
    assert read_case_views(broken, key=views.key) is None
