"""Where triage keeps its files: the project root, generated data, the default registry URL.

Every location can be moved with an environment variable, so tests and deployments never
write into the source tree by accident.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DEFAULT_SEED",
    "data_dir",
    "db_url",
    "default_history_dir",
    "models_dir",
    "policies_dir",
    "project_root",
    "var_dir",
]

#: The seed of the bundled simulated history; calibration is enforced on it.
DEFAULT_SEED = 2018


def project_root() -> Path:
    """Return the repository root (the folder that holds ``triage/``, ``data/``, ``models/``)."""
    return Path(__file__).resolve().parents[1]


def var_dir() -> Path:
    """Return the folder for generated, machine-local files (``TRIAGE_VAR``, default ``var/``)."""
    return Path(os.environ.get("TRIAGE_VAR", project_root() / "var"))


def data_dir() -> Path:
    """Return the folder of bundled reference tables (``data/``)."""
    return project_root() / "data"


def models_dir() -> Path:
    """Return the folder of trained model artifacts (``TRIAGE_MODELS``, default ``models/``)."""
    return Path(os.environ.get("TRIAGE_MODELS", project_root() / "models"))


def policies_dir() -> Path:
    """Return the folder of balance policies (``policies/``)."""
    return project_root() / "policies"


def default_history_dir() -> Path:
    """Return where ``make demo`` writes the default-seed simulated history."""
    return var_dir() / "history"


def db_url() -> str:
    """Return the registry URL: ``TRIAGE_DB_URL``, else a SQLite file ``var/triage.db``."""
    url = os.environ.get("TRIAGE_DB_URL")
    if url:
        return url
    return f"sqlite:///{var_dir() / 'triage.db'}"
