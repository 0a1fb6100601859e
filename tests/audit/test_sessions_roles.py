"""Sessions and roles: demo mode cannot impersonate, one role matrix, lockout, sign-in method."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import drop_argv, drop_case
from test_audit_cli import cli, real_run  # noqa: F401  (fixture)

from triage.audit import (
    add_user,
    authenticate,
    read_records,
    resolve_session,
)
from triage.audit._roles import PERMISSIONS, allowed, require
from triage.audit._users import LOCKOUT_AFTER, lockouts
from triage.errors import TriageError


def test_open_demo_cannot_act_as_an_existing_user(monkeypatch) -> None:
    add_user("ana", role="staff", password="password1")
    monkeypatch.setenv("TRIAGE_OPEN_DEMO", "1")
    with pytest.raises(TriageError, match="cannot act as a real user"):
        resolve_session("ana", None, None)
    session = resolve_session("ana", None, "password1")
    assert (session.user, session.demo, session.auth) == ("ana", False, "password")
    other = resolve_session("visitor", "auditor", None)
    assert (other.demo, other.auth) == (True, "demo")


def test_token_users_sign_in_by_token() -> None:
    token = add_user("tok", role="auditor")
    assert authenticate("tok", token).auth == "token"


def test_repeated_failed_sign_ins_lock_the_user_out_and_are_recorded() -> None:
    add_user("bo", role="staff", password="password1")
    for _ in range(LOCKOUT_AFTER):
        with pytest.raises(TriageError, match="wrong password"):
            authenticate("bo", "guess-guess")
    with pytest.raises(TriageError, match="locked until"):
        authenticate("bo", "password1")
    assert [e["user"] for e in lockouts()] == ["bo"]


def test_cli_lists_lockouts(capsys) -> None:
    add_user("bo", role="staff", password="password1")
    for _ in range(LOCKOUT_AFTER):
        with pytest.raises(TriageError):
            authenticate("bo", "guess-guess")
    code, out, _ = cli(["user", "lockouts"], capsys)
    assert code == 0 and out.startswith("bo") and "locked at" in out


def test_the_role_matrix() -> None:
    assert allowed("staff", "override") and not allowed("mandate_holder", "override")
    assert allowed("mandate_holder", "record_run") and not allowed("auditor", "record_run")
    assert not allowed("auditor", "see_names") and not allowed("auditor", "save_policy")
    assert set(PERMISSIONS) >= {"override", "save_policy", "record_run", "see_names"}
    with pytest.raises(TriageError, match="mandate-holders may not record an override"):
        require("mandate_holder", "override")


def test_mandate_holder_cannot_override_through_the_cli(real_run: Any, capsys) -> None:  # noqa: F811
    case = real_run.selected[0]
    code, _, err = cli(
        drop_argv(real_run, case, "raised by another mandate", "--role", "mandate_holder"),
        capsys,
    )
    assert code == 2 and "may not record an override" in err and "Traceback" not in err


def test_records_carry_how_the_actor_signed_in(real_run: Any, registry, capsys) -> None:  # noqa: F811
    case = real_run.selected[0]
    code, _, _ = cli(
        drop_argv(real_run, case, "raised by another mandate"),
        capsys,
    )
    assert code == 0
    assert read_records(registry, kind="override")[-1].content["signed_in"] == "demo"
    record = drop_case(registry, real_run, 1, reason="already taken up elsewhere", auth="password")
    assert record.content["signed_in"] == "password"


def test_users_file_is_owner_only(tmp_path: Path) -> None:
    import os
    import stat

    add_user("cy", role="staff", password="password1")
    var = Path(os.environ["TRIAGE_VAR"])
    assert stat.S_IMODE((var / "users.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE(var.stat().st_mode) == 0o700


def test_registry_and_var_are_owner_only() -> None:
    import os
    import stat

    from triage.audit._signing import secure_tree
    from triage.registry import Registry

    var = Path(os.environ["TRIAGE_VAR"])
    var.chmod(0o755)
    reg = Registry(f"sqlite:///{var / 'triage.db'}").init()
    reg.dispose()
    assert stat.S_IMODE((var / "triage.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    (var / "history").mkdir()
    (var / "history" / "queue.csv").write_text("defender_name\n")
    (var / "history" / "queue.csv").chmod(0o644)
    secure_tree()
    assert stat.S_IMODE((var / "history" / "queue.csv").stat().st_mode) == 0o600
    assert stat.S_IMODE((var / "history").stat().st_mode) == 0o700
