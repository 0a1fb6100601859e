"""The audit and user commands, run through the real entry point (exit codes and messages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import FakeScorer, ana_selects, drop_argv
from cli_helpers import run_cli as cli
from sqlalchemy import update

from triage.audit._tables import AuditRecord

REAL_POLICY = 'name = "test"\ncapacity = 20\n[share.gender]\nwoman = { min = 0.4 }\n[share.un_region]\nweog = { max = 0.15 }\n'


@pytest.fixture
def real_run(registry, tmp_path: Path, monkeypatch) -> Any:
    monkeypatch.setenv("TRIAGE_DB_URL", str(registry.engine.url))
    policy = tmp_path / "real.toml"
    policy.write_text(REAL_POLICY)
    return ana_selects(registry, policy, scorer=FakeScorer())


def test_verify_replay_runs_export(real_run, registry, tmp_path: Path, capsys) -> None:
    code, out, _ = cli(["audit", "verify"], capsys)
    assert code == 0 and "chain intact: 1 record," in out
    code, out, _ = cli(["audit", "replay", real_run.run_id], capsys)
    assert code == 0 and "replay identical" in out and "20 of 60" in out
    code, out, _ = cli(["audit", "runs"], capsys)
    assert code == 0 and real_run.run_id in out
    code, out, _ = cli(
        ["audit", "export", real_run.run_id, "--out", str(tmp_path / "bundle")], capsys
    )
    assert code == 0 and "summary.html" in out and (tmp_path / "bundle" / "record.json").exists()


def test_override_then_summary(real_run, tmp_path: Path, capsys) -> None:
    case = real_run.selected[0]
    code, out, err = cli(
        drop_argv(real_run, case, "raised by another mandate"),
        capsys,
    )
    assert code == 0 and "recorded ovr-000002" in out and "open demo mode" in err
    code, out, _ = cli(["audit", "overrides", "--out", str(tmp_path / "o")], capsys)
    assert code == 0 and "Override rate by group" in out
    assert (tmp_path / "o" / "overrides_by_group.csv").exists()
    code, _, err = cli(
        drop_argv(real_run, case, "again, twice"),
        capsys,
    )
    assert code == 2 and "already overridden" in err and "Traceback" not in err


def test_verify_names_the_tampered_record(real_run, registry, capsys) -> None:
    with registry.engine.begin() as conn:
        conn.execute(update(AuditRecord).where(AuditRecord.seq == 1).values(user="mallory"))
    code, _, err = cli(["audit", "verify"], capsys)
    assert code == 1 and "run-000001" in err and "content was changed" in err


def test_replay_unknown_run_is_one_line(real_run, capsys) -> None:
    code, _, err = cli(["audit", "replay", "run-000404"], capsys)
    assert code == 2 and "run-000404" in err and "Traceback" not in err


def test_user_add_and_list_then_login_required(real_run, capsys, monkeypatch) -> None:
    code, out, _ = cli(["user", "add", "auditor1", "--role", "auditor"], capsys)
    assert code == 0 and "token (shown once" in out
    token = out.split("keep it safe): ")[1].split()[0]
    code, out, _ = cli(["user", "list"], capsys)
    assert "auditor1" in out and "auditor" in out and token not in out
    # With a users file, writing commands need a login, and auditors may not override.
    code, _, err = cli(
        drop_argv(real_run, real_run.selected[0], "a good long reason"),
        capsys,
    )
    assert code == 3 and "--user" in err
    monkeypatch.setenv("TRIAGE_PASSWORD", token)
    code, _, err = cli(
        drop_argv(real_run, real_run.selected[0], "a good long reason", "--user", "auditor1"),
        capsys,
    )
    assert code == 2 and "auditors" in err
    code, _, err = cli(["user", "add", "bad name", "--role", "staff"], capsys)
    assert code == 2 and "`user` must be" in err


def test_help_is_useful(capsys) -> None:
    for args in (["audit", "--help"], ["user", "--help"], ["audit", "export", "--help"]):
        code, out, _ = cli(args, capsys)
        assert code == 0 and "Usage" in out
