"""CLI commands of the audit module (placeholder until its issue lands)."""

from __future__ import annotations

from triage.cli._app import app  # noqa: F401
