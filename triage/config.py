"""Where triage keeps its files: the project root, generated data, the default registry URL.

Every location can be moved with an environment variable, so tests and deployments never
write into the source tree by accident.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = [
    "DEFAULT_SEED",
    "data_dir",
    "db_url",
    "default_history_dir",
    "mask_secrets",
    "mask_url",
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


#: ``scheme://user:password@host``: the password part of a URL's authority.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s'\"]*):(?P<pw>[^\s'\"/]*)@")


def mask_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***`` (``scheme://user:***@host/db``).

    Also masks a ``password=`` query parameter. Any text that is not a URL is returned unchanged.
    """
    if not isinstance(url, str):
        raise ValueError(f"`url` must be a string. Got {type(url).__name__} instead.")
    masked = _URL_PASSWORD.sub(lambda m: f"{m['head']}:***@", url)
    return re.sub(r"(?i)(password=)[^&\s'\"]*", r"\1***", masked)


def mask_secrets(text: str, *secrets: str) -> str:
    """Mask every URL password in ``text``, and every occurrence of the given ``secrets``."""
    masked = mask_url(text)
    for secret in secrets:
        if secret:
            masked = masked.replace(secret, "***")
    return masked
