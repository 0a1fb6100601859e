"""Shared fixtures: simulated histories built once per test session, isolated var/ folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.config import DEFAULT_SEED


@pytest.fixture(autouse=True)
def _isolated_var(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the developer's var/ folder and default registry."""
    var = tmp_path_factory.mktemp("var")
    monkeypatch.setenv("TRIAGE_VAR", str(var))
    monkeypatch.delenv("TRIAGE_DB_URL", raising=False)


@pytest.fixture(scope="session")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full default-seed simulated history (the one calibration is enforced on)."""
    from triage.synth import generate

    out = tmp_path_factory.mktemp("history-default")
    generate(out, seed=DEFAULT_SEED)
    return out


@pytest.fixture(scope="session")
def small_history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small history (a tenth of the paper's scale, another seed) for fast tests."""
    from triage.synth import generate

    out = tmp_path_factory.mktemp("history-small")
    generate(out, seed=7, scale=0.1)
    return out
