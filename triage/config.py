"""Where triage keeps its files: bundled resources, generated data, the default registry URL.

The bundled resources (``data/``, ``models/``, ``policies/``) are read from the repository in a
source checkout (an editable install, or ``PYTHONPATH`` pointing at the checkout) and from the
package's own data (``triage/_bundled/``, found through :mod:`importlib.resources`) when triage
was installed from a wheel. Every location can be moved with an environment variable, so tests
and deployments never write into the source tree or the installed package by accident.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Literal

__all__ = [
    "DEFAULT_SEED",
    "Resource",
    "data_dir",
    "db_url",
    "default_history_dir",
    "mask_secrets",
    "mask_url",
    "models_dir",
    "policies_dir",
    "project_root",
    "resource_dir",
    "source_checkout",
    "var_dir",
]

#: The seed of the bundled simulated history; calibration is enforced on it.
DEFAULT_SEED = 2018

#: The bundled resource folders: the repository's top-level ``data/``, ``models/`` and
#: ``policies/``, shipped in the wheel as ``triage/_bundled/<name>/``.
Resource = Literal["data", "models", "policies"]
_RESOURCES: tuple[str, ...] = ("data", "models", "policies")


def project_root() -> Path:
    """Return the folder that holds the ``triage`` package (the repository root in a checkout).

    Installed from a wheel this is ``site-packages``; use :func:`source_checkout` to tell which.
    """
    return Path(__file__).resolve().parents[1]


def source_checkout() -> bool:
    """Return True when triage runs from its repository (``pyproject.toml`` beside ``triage/``)."""
    root = project_root()
    return (root / "pyproject.toml").is_file() and (root / "data").is_dir()


def resource_dir(name: Resource) -> Path:
    """Return the folder of one bundled resource: ``<repo>/<name>`` or ``triage/_bundled/<name>``.

    Parameters
    ----------
    name : {"data", "models", "policies"}
        The resource folder.

    Returns
    -------
    Path
        The repository's folder in a source checkout, else the installed package's copy.
    """
    if name not in _RESOURCES:
        raise ValueError(f"`name` must be one of {', '.join(_RESOURCES)}. Got {name!r} instead.")
    if source_checkout():
        return project_root() / name
    bundled = resources.files("triage").joinpath("_bundled", name)
    # A wheel is always installed unpacked, so the traversable is a real folder on disk.
    return Path(str(bundled))


def var_dir() -> Path:
    """Return the folder for generated, machine-local files (``TRIAGE_VAR``).

    Defaults to the repository's ``var/`` in a source checkout and to ``./var`` (under the
    current folder) when triage was installed from a wheel: never inside ``site-packages``.
    """
    override = os.environ.get("TRIAGE_VAR")
    if override:
        return Path(override)
    if source_checkout():
        return project_root() / "var"
    return Path.cwd() / "var"


def data_dir() -> Path:
    """Return the folder of bundled reference tables (``TRIAGE_DATA``, default ``data/``)."""
    override = os.environ.get("TRIAGE_DATA")
    return Path(override) if override else resource_dir("data")


def models_dir() -> Path:
    """Return the folder of trained model artifacts (``TRIAGE_MODELS``, default ``models/``)."""
    override = os.environ.get("TRIAGE_MODELS")
    return Path(override) if override else resource_dir("models")


def policies_dir() -> Path:
    """Return the folder of balance policies (``TRIAGE_POLICIES``, default ``policies/``)."""
    override = os.environ.get("TRIAGE_POLICIES")
    return Path(override) if override else resource_dir("policies")


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
