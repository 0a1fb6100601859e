"""Without the ``app`` extra (Streamlit, Altair) triage imports and its CLI works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Makes ``import streamlit`` / ``import altair`` fail as if they were not installed.
_BLOCK = "import sys\nsys.modules['streamlit'] = None\nsys.modules['altair'] = None\n"


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRIAGE_VAR": str(cwd / "var")}
    return subprocess.run(
        [sys.executable, "-c", _BLOCK + code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_block_works(tmp_path: Path) -> None:
    result = _run("import streamlit\n", tmp_path)
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr or "ImportError" in result.stderr


def test_every_module_imports_without_streamlit_or_altair(tmp_path: Path) -> None:
    code = (
        "import importlib, pkgutil, triage\n"
        "names = [m.name for m in pkgutil.walk_packages(triage.__path__, 'triage.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    result = _run(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 50


@pytest.mark.slow
def test_the_cli_runs_without_streamlit_or_altair(tmp_path: Path) -> None:
    main = "from triage.cli import main\nsys.argv = ['triage', *{args!r}]\nmain()\n"
    generated = _run(main.format(args=["generate", "--out", "h", "--scale", "0.05"]), tmp_path)
    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "h" / "queue.csv").is_file()
    status = _run(main.format(args=["db", "init"]), tmp_path)
    assert status.returncode == 0, status.stderr
    assert (tmp_path / "var" / "triage.db").is_file()
