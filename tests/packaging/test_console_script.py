"""The ``triage`` command exits without tearing the interpreter down: it must still give the
command's exit code, flush what it printed and run the exit handlers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_RUN = "import sys\nfrom triage.cli import console_script\n{before}console_script()\n"


def _triage(
    *args: str, before: str = "", env_db: Path | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ)
    if env_db is not None:
        env["TRIAGE_DB_URL"] = f"sqlite:///{env_db}"
    return subprocess.run(
        [sys.executable, "-c", _RUN.format(before=before), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )


def test_a_command_prints_everything_and_exits_0() -> None:
    done = _triage("version")
    assert done.returncode == 0
    assert done.stdout.startswith("triage ")


def test_a_usage_error_keeps_its_exit_code_and_message() -> None:
    done = _triage("no-such-command")
    assert done.returncode == 2
    assert "no-such-command" in done.stderr


def test_a_refused_command_keeps_its_exit_code(tmp_path: Path) -> None:
    # An empty registry has nothing to select: a one-line error, never a traceback.
    done = _triage("select", env_db=tmp_path / "empty.db")
    assert done.returncode not in (0, 1)
    assert "error:" in done.stderr and "Traceback" not in done.stderr


def test_exit_handlers_run_before_the_process_ends(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    before = f"import atexit\natexit.register(lambda: open({str(marker)!r}, 'w').write('ok'))\n"
    done = _triage("version", before=before)
    assert done.returncode == 0
    assert marker.read_text() == "ok"
