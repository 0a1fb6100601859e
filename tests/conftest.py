"""Shared fixtures and settings of the whole suite.

- Simulated histories built once per test session (per worker under pytest-xdist).
- Isolated ``var/`` folders: no test touches the developer's ``var/`` or default registry.
- Hypothesis profiles: ``fast`` locally (the default), ``ci`` when ``CI=true`` (or
  ``HYPOTHESIS_PROFILE=ci``): every property test runs :data:`CI_SCALE` times as many examples
  as its ``@settings`` asks for (tests without their own count run 300 instead of 50).
- The ``slow`` mark: tests over :data:`SLOW_SECONDS` carry it; the end of a run names any
  that do not.
- One terminal width (``COLUMNS=120``) for the CLI's tables, serial, parallel or in CI.
- pytest-xdist (``make test`` runs ``-n auto``): each worker gets its own PostgreSQL database
  (``<database>_gw0``, ``<database>_gw1``...) cut from ``TRIAGE_TEST_PG_URL``, so workers never
  drop each other's tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from suite_settings import (
    hypothesis_profile,
    postgres_url_or_skip,
    scale_examples,
    worker_database_url,
)

from triage.config import DEFAULT_SEED, project_root

#: The terminal width the CLI's tables are drawn for during tests.
TERMINAL_COLUMNS = 120
#: A test whose call takes longer than this is marked ``slow`` (``-m "not slow"`` skips it).
SLOW_SECONDS = 5.0
_UNMARKED_SLOW: list[tuple[float, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    slow = report.when == "call" and report.duration > SLOW_SECONDS
    if slow and "slow" not in report.keywords:
        _UNMARKED_SLOW.append((report.duration, report.nodeid))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the tests over :data:`SLOW_SECONDS` without the ``slow`` mark (a busy machine
    stretches every duration, so read it as a hint)."""
    if _UNMARKED_SLOW:
        terminalreporter.write_sep("-", f"over {SLOW_SECONDS:.0f} s and not marked slow")
        for seconds, nodeid in sorted(_UNMARKED_SLOW, reverse=True):
            terminalreporter.write_line(f"{seconds:6.1f} s  {nodeid}")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The real-browser tests each start a Streamlit server and Chromium: one worker runs them
    # all (``--dist loadgroup``), so two never compete for the two cores.
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))
    if hypothesis_profile() == "ci":
        scale_examples(items)


def pytest_configure(config: pytest.Config) -> None:
    # Rich sizes the CLI's tables to the terminal: 80 columns in an xdist worker or in CI, the
    # developer's window in a serial run. One width for every run keeps the output the same.
    os.environ["COLUMNS"] = str(TERMINAL_COLUMNS)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("TRIAGE_TEST_PG_URL")
    if worker and url:
        os.environ["TRIAGE_TEST_PG_URL"] = worker_database_url(url, worker)


@pytest.fixture(autouse=True)
def _isolated_var(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the developer's var/ folder and default registry."""
    var = tmp_path_factory.mktemp("var")
    monkeypatch.setenv("TRIAGE_VAR", str(var))
    monkeypatch.delenv("TRIAGE_DB_URL", raising=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A clean, empty registry URL: a SQLite file, then PostgreSQL (``TRIAGE_TEST_PG_URL``).

    PostgreSQL's tables are dropped before and after the test. Without ``TRIAGE_TEST_PG_URL``
    the PostgreSQL run is skipped, except in CI (``CI=true``), where it is a failure.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    url = postgres_url_or_skip("PostgreSQL registry tests")
    from triage.registry import Base, Registry

    registry = Registry(url)
    registry.init()  # imports every module's tables so drop_all sees them all
    Base.metadata.drop_all(registry.engine)
    registry.dispose()
    yield url
    registry = Registry(url)
    Base.metadata.drop_all(registry.engine)
    registry.dispose()


@pytest.fixture
def mini_history() -> Path:
    """The tiny hand-made history in the exact contract format (read only)."""
    return project_root() / "data" / "fixtures" / "history_mini"


@pytest.fixture
def followup_history(tmp_path: Path) -> Path:
    """A writable ``tmp_path/history`` holding the follow-up fixture's three history files."""
    folder = tmp_path / "history"
    folder.mkdir()
    for name in ("communications.csv", "cases.csv", "outcomes.csv"):
        shutil.copy(project_root() / "data" / "fixtures" / "followup" / name, folder / name)
    return folder


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
