"""App fixtures: one small registry, model and policy built once per session.

The registry holds a tenth-scale simulated history (seed 7) with every outcome recorded so the
model has labels to learn from; the policy ``saved/test.toml`` takes 60 of its 165 queued
cases, so its bands bite. Tests that write (runs, overrides, saved policies) get a private copy.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

APP = Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py"

TEST_POLICY = """\
name = "test"
capacity = 60

[share.un_region.african]
min = 0.15

[share.gender.woman]
min = 0.25

[share.violations.detention]
max = 0.6

[limit]
max_per_country = 8
"""


@dataclass(frozen=True)
class AppEnv:
    """Where the app's data lives for a test: var/ (registry, policies), models/."""

    root: Path

    @property
    def var(self) -> Path:
        return self.root / "var"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.var / 'triage.db'}"

    def environ(self) -> dict[str, str]:
        return {
            "TRIAGE_VAR": str(self.var),
            "TRIAGE_DB_URL": self.db_url,
            "TRIAGE_MODELS": str(self.models),
            "TRIAGE_OPEN_DEMO": "1",
        }


def build_env(root: Path) -> AppEnv:
    """Simulate, load, train and write the test policy under ``root``."""
    from triage.registry import Registry
    from triage.schema import read_history
    from triage.scoring import train
    from triage.synth import generate

    env = AppEnv(root)
    history = env.var / "history"
    generate(history, seed=7, scale=0.1, outcomes="all")
    registry = Registry(env.db_url).init()
    registry.load_history(history)
    registry.dispose()
    train(read_history(history), out_dir=env.models / "default", seed=0, n_bootstrap=5)
    (env.var / "policies").mkdir(parents=True, exist_ok=True)
    (env.var / "policies" / "test.toml").write_text(TEST_POLICY, encoding="utf-8")
    return env


@pytest.fixture(scope="session")
def shared_env(tmp_path_factory: pytest.TempPathFactory) -> AppEnv:
    """The read-only app environment shared by the whole session."""
    return build_env(tmp_path_factory.mktemp("app-env"))


@pytest.fixture
def app_env(shared_env: AppEnv, monkeypatch: pytest.MonkeyPatch) -> AppEnv:
    """Point triage at the shared environment (tests must not write to it)."""
    for key, value in shared_env.environ().items():
        monkeypatch.setenv(key, value)
    return shared_env


@pytest.fixture
def writable_env(shared_env: AppEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppEnv:
    """A private copy of the environment for tests that record runs, overrides or policies."""
    env = AppEnv(tmp_path / "env")
    shutil.copytree(shared_env.root, env.root)
    for key, value in env.environ().items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture(scope="session")
def require_chromium() -> None:
    """Skip a browser test without Debian's Chromium (fail it when ``CI`` is set)."""
    from benchmarks.browser import CHROMIUM

    if CHROMIUM.exists():
        return
    message = (
        f"{CHROMIUM} not found: the browser test needs Debian's Chromium. Install it with "
        "`sudo apt-get install chromium` (never `playwright install`)."
    )
    if os.environ.get("CI"):
        pytest.fail(message + " CI is set, so this is a failure.")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser_env(shared_env: AppEnv) -> AppEnv:
    """The data the browser tests' server serves: the shared fixture registry, unless a test
    module overrides this fixture."""
    return shared_env


@pytest.fixture(scope="module")
def server(
    browser_env: AppEnv, tmp_path_factory: pytest.TempPathFactory, require_chromium: None
) -> Iterator[str]:
    """The app served on a free local port, on :func:`browser_env`."""
    from benchmarks.browser import served

    log = tmp_path_factory.mktemp("streamlit-log") / "server.log"
    with served(browser_env.environ(), log) as base:
        yield base


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    """Debian's Chromium (Playwright, headless) for the module's tests."""
    from benchmarks.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``TRIAGE_SCREENSHOTS`` or a fresh temporary folder (printed)."""
    folder = Path(os.environ.get("TRIAGE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
