"""Helpers for tests that run the ``triage`` command line in the test's own process."""

from __future__ import annotations

import pytest

from triage.cli import main

__all__ = ["run_cli"]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``triage ARGV``; return (exit code, standard output, standard error)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err
