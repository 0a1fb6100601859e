"""Users file, password/token login, open demo mode and session resolution."""

from __future__ import annotations

import pytest

from triage.audit import (
    add_user,
    authenticate,
    list_users,
    open_demo_mode,
    resolve_session,
    users_file,
)
from triage.errors import TriageError


def test_add_and_authenticate_with_token_and_password(tmp_path) -> None:
    path = tmp_path / "users.toml"
    token = add_user("ana", role="staff", path=path)
    assert len(token) >= 24
    add_user("bo", role="auditor", password="correct horse", path=path)
    assert authenticate("ana", token, path=path).role == "staff"
    session = authenticate("bo", "correct horse", path=path)
    assert (session.user, session.role, session.demo) == ("bo", "auditor", False)
    text = path.read_text()
    assert token not in text and "correct horse" not in text
    assert [(u.user, u.role) for u in list_users(path)] == [("ana", "staff"), ("bo", "auditor")]


def test_wrong_password_and_unknown_user_give_the_same_message(tmp_path) -> None:
    path = tmp_path / "users.toml"
    add_user("ana", role="staff", password="password1", path=path)
    with pytest.raises(TriageError) as wrong:
        authenticate("ana", "password2", path=path)
    with pytest.raises(TriageError) as unknown:
        authenticate("nobody", "password1", path=path)
    assert wrong.value.message == unknown.value.message


def test_same_password_gets_different_salts(tmp_path) -> None:
    path = tmp_path / "users.toml"
    add_user("a1", role="staff", password="same-password", path=path)
    add_user("a2", role="staff", password="same-password", path=path)
    import tomllib

    users = tomllib.loads(path.read_text())["users"]
    assert users["a1"]["salt"] != users["a2"]["salt"] and users["a1"]["hash"] != users["a2"]["hash"]


def test_duplicate_needs_replace(tmp_path) -> None:
    path = tmp_path / "users.toml"
    add_user("ana", role="staff", password="password1", path=path)
    with pytest.raises(TriageError, match="already exists"):
        add_user("ana", role="auditor", password="password2", path=path)
    add_user("ana", role="auditor", password="password2", path=path, replace=True)
    assert authenticate("ana", "password2", path=path).role == "auditor"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user": "a b", "role": "staff"}, "`user` must be"),
        ({"user": "ana", "role": "admin"}, "`role` must be one of"),
        ({"user": "ana", "role": "staff", "password": "short"}, "`password` must have at least 8"),
    ],
)
def test_add_user_validates(tmp_path, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        add_user(path=tmp_path / "u.toml", **kwargs)


def test_broken_users_file_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "users.toml"
    path.write_text("[users.ana]\nrole = 'root'\nsalt = '00'\nhash = '00'\n")
    with pytest.raises(TriageError, match="role 'root'"):
        authenticate("ana", "x", path=path)


def test_open_demo_mode_without_users_file_or_with_flag(monkeypatch) -> None:
    assert open_demo_mode()  # the isolated var/ has no users file
    session = resolve_session(None, None, None)
    assert session.demo and session.role == "staff"
    add_user("ana", role="mandate_holder", password="password1")
    assert users_file().exists() and not open_demo_mode()
    monkeypatch.setenv("TRIAGE_OPEN_DEMO", "1")
    assert open_demo_mode()


def test_resolve_session_requires_login_when_users_exist(monkeypatch) -> None:
    add_user("ana", role="mandate_holder", password="password1")
    with pytest.raises(TriageError, match="--user"):
        resolve_session(None, None, None)
    with pytest.raises(TriageError, match="password"):
        resolve_session("ana", None, None)
    assert resolve_session("ana", None, "password1").role == "mandate_holder"
    with pytest.raises(TriageError, match="not 'staff'"):
        resolve_session("ana", "staff", "password1")
    monkeypatch.setenv("TRIAGE_PASSWORD", "password1")
    assert resolve_session("ana", "mandate_holder", None).user == "ana"


def test_users_file_is_private(tmp_path) -> None:
    import os
    import stat

    path = tmp_path / "users.toml"
    add_user("ana", role="staff", password="password1", path=path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
