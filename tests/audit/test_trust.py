"""Tampering as an attacker with write access to the database would, on a copy of it.

Every tamper rewrites what it touches consistently (hashes, links and head recomputed), so
only the signatures, the checkpoints kept outside the database and the registry's own
decisions can catch it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import ana_selects, drop_case, fake_allocate, fake_policy, override_case
from test_audit_cli import cli, real_run  # noqa: F401  (fixture)

from triage.audit import (
    read_records,
    record_hash,
    replay,
    verify_chain,
    write_auditor_checkpoint,
)
from triage.errors import TriageError


@pytest.fixture
def done(registry, policy_file, fakes) -> Any:
    run = ana_selects(registry, policy_file, **fakes)
    drop_case(registry, run, reason="duplicate of an earlier letter")
    return run


def _db_path(registry) -> Path:
    return Path(registry.engine.url.database)


def _copy(registry, tmp_path: Path, name: str = "copy.db") -> Any:
    from triage.registry import Registry

    registry.engine.dispose()
    target = tmp_path / name
    shutil.copy(_db_path(registry), target)
    return Registry(f"sqlite:///{target}")


def _rechain(path: Path, edit: Any) -> None:
    """Apply ``edit(rows)`` to the records, then recompute every hash, link and the head."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM audit_records ORDER BY seq")]
    for r in rows:
        r["content"] = json.loads(r["content"])
    rows = edit(rows)
    con.execute("DELETE FROM audit_records")
    prev = "0" * 64
    for i, r in enumerate(rows, 1):
        r["seq"], r["prev_hash"] = i, prev
        r["hash"] = record_hash(r)
        prev = r["hash"]
        con.execute(
            "INSERT INTO audit_records (seq, kind, record_id, created_at, user, role, prev_hash,"
            " content, hash) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                r["seq"],
                r["kind"],
                r["record_id"],
                r["created_at"],
                r["user"],
                r["role"],
                r["prev_hash"],
                json.dumps(r["content"], sort_keys=True, separators=(",", ":")),
                r["hash"],
            ),
        )
    con.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (len(rows), prev))
    con.commit()
    con.close()


def test_signed_record_and_checkpoints_verify(registry, done, tmp_path: Path) -> None:
    result = verify_chain(registry)
    assert result.ok, result.problem
    var = Path(os.environ["TRIAGE_VAR"])
    log = var / "audit" / "checkpoints.jsonl"
    lines = log.read_text().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [1, 2]
    for path in (var / "keys" / "audit_ed25519.pem", log):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((var / "keys").stat().st_mode) == 0o700
    records = read_records(registry)
    assert records[-1].content["reason"] == "duplicate of an earlier letter"


def test_rechained_forgery_is_caught(registry, done, tmp_path: Path) -> None:
    copy = _copy(registry, tmp_path)

    def raise_score(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[0]["user"] = "someone-else"
        return rows

    _rechain(_db_path(copy), raise_score)
    result = verify_chain(copy)
    assert not result.ok
    assert "signature does not verify" in result.problem and "#1" in result.problem
    again = replay(copy, done.run_id, allocator=fake_allocate, policy_parser=fake_policy)
    assert not again.record_ok and "CANNOT BE TRUSTED" in again.summary()


def test_deleted_override_renumbered_is_caught(registry, done, tmp_path: Path) -> None:
    copy = _copy(registry, tmp_path)
    _rechain(_db_path(copy), lambda rows: [r for r in rows if r["kind"] != "override"])
    con = sqlite3.connect(_db_path(copy))
    con.execute("DELETE FROM audit_signatures WHERE seq = 2")
    con.commit()
    con.close()
    result = verify_chain(copy)
    assert not result.ok
    assert "checkpoint" in result.problem or "statuses disagree" in result.problem


def test_backdated_append_is_caught(registry, done, tmp_path: Path) -> None:
    copy = _copy(registry, tmp_path)

    def backdate(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        extra = dict(rows[-1])
        extra["record_id"] = "ovr-000003"
        extra["created_at"] = "2001-01-01T00:00:00.000000Z"
        extra["content"] = {**extra["content"], "case_id": "Q0001", "action": "select"}
        return [*rows, extra]

    _rechain(_db_path(copy), backdate)
    result = verify_chain(copy)
    assert not result.ok and "#3" in result.problem and "no signature" in result.problem


def test_truncated_tail_is_caught(registry, done, tmp_path: Path) -> None:
    copy = _copy(registry, tmp_path)
    con = sqlite3.connect(_db_path(copy))
    con.execute("DELETE FROM audit_records WHERE seq = 2")
    con.execute("DELETE FROM audit_signatures WHERE seq = 2")
    first = con.execute("SELECT hash FROM audit_records WHERE seq = 1").fetchone()[0]
    con.execute("UPDATE audit_head SET seq = 1, hash = ? WHERE id = 1", (first,))
    con.commit()
    con.close()
    result = verify_chain(copy)
    assert not result.ok and "checkpoint" in result.problem and "saw 2" in result.problem


def test_database_rollback_is_caught(registry, done, tmp_path: Path) -> None:
    backup = tmp_path / "backup.db"
    registry.engine.dispose()
    shutil.copy(_db_path(registry), backup)
    drop_case(registry, done, 1, reason="the state already replied on this")
    assert verify_chain(registry).ok
    registry.engine.dispose()
    shutil.copy(backup, _db_path(registry))
    result = verify_chain(registry)
    assert not result.ok and "rolled back" in result.problem


def test_emptied_ledger_is_caught(registry, done, tmp_path: Path) -> None:
    copy = _copy(registry, tmp_path)
    con = sqlite3.connect(_db_path(copy))
    for table in ("audit_records", "audit_head", "audit_blobs", "audit_signatures", "audit_meta"):
        con.execute(f"DELETE FROM {table}")
    con.commit()
    con.close()
    result = verify_chain(copy)
    assert not result.ok and "emptied" in result.problem
    # Even without the installation's checkpoint log, the registry's decisions give it away.
    (Path(os.environ["TRIAGE_VAR"]) / "audit" / "checkpoints.jsonl").unlink()
    result = verify_chain(copy)
    assert not result.ok and "ledger is empty" in result.problem


def test_auditor_checkpoint_catches_a_rollback_the_log_lost(registry, done, tmp_path: Path) -> None:
    kept = tmp_path / "auditor.jsonl"
    cp = write_auditor_checkpoint(registry, kept)
    assert cp.seq == 2
    copy = _copy(registry, tmp_path)
    con = sqlite3.connect(_db_path(copy))
    con.execute("UPDATE audit_meta SET value = 'other' WHERE key = 'ledger_id'")
    con.execute("DELETE FROM audit_records WHERE seq = 2")
    con.execute("DELETE FROM audit_signatures WHERE seq = 2")
    first = con.execute("SELECT hash FROM audit_records WHERE seq = 1").fetchone()[0]
    con.execute("UPDATE audit_head SET seq = 1, hash = ? WHERE id = 1", (first,))
    con.execute(
        "UPDATE submissions SET status = 'selected' WHERE submission_id = ?", (done.selected[0],)
    )
    con.commit()
    con.close()
    (Path(os.environ["TRIAGE_VAR"]) / "audit" / "checkpoints.jsonl").unlink()  # the log is lost
    result = verify_chain(copy, checkpoints=[kept])
    assert not result.ok and "auditor.jsonl" in result.problem


def test_a_checkpoint_not_signed_by_the_key_is_refused(registry, done, tmp_path: Path) -> None:
    kept = tmp_path / "auditor.jsonl"
    write_auditor_checkpoint(registry, kept)
    data = json.loads(kept.read_text())
    data["seq"] = 1
    kept.write_text(json.dumps(data) + "\n")
    result = verify_chain(registry, checkpoints=[kept])
    assert not result.ok and "not signed" in result.problem


def test_status_changed_outside_the_record_is_caught(registry, done, tmp_path: Path) -> None:
    copy = _copy(registry, tmp_path)
    con = sqlite3.connect(_db_path(copy))
    con.execute(
        "UPDATE submissions SET status = 'selected' WHERE submission_id = ?", (done.selected[0],)
    )
    con.commit()
    con.close()
    result = verify_chain(copy)
    assert not result.ok and "statuses disagree" in result.problem


def test_verify_without_a_public_key_says_how_to_give_one(registry, done, monkeypatch) -> None:
    monkeypatch.setenv("TRIAGE_SIGNING_KEY", str(Path(os.environ["TRIAGE_VAR"]) / "nope.pem"))
    result = verify_chain(registry)
    assert not result.ok and "--public-key" in result.problem


def test_second_override_of_a_case_in_a_run_is_refused(registry, done) -> None:
    with pytest.raises(TriageError, match="already overridden"):
        override_case(
            registry,
            done,
            done.selected[0],
            action="select",
            reason="changed my mind about it",
            user="bo",
        )


def test_overrides_carry_forward_unless_they_lapse(registry, done, policy_file, fakes) -> None:
    dropped = done.selected[0]
    again = ana_selects(registry, policy_file, **fakes)
    assert dropped not in again.selected
    carried = again.record.content["overrides"]["carried"]
    assert carried == [
        {"case_id": dropped, "action": "drop", "override_id": "ovr-000002", "as": "must_exclude"}
    ]
    lapsed = ana_selects(registry, policy_file, lapse_overrides=True, **fakes)
    assert dropped in lapsed.selected
    assert lapsed.record.content["overrides"]["lapsed"][0]["case_id"] == dropped
    third = ana_selects(registry, policy_file, **fakes)
    assert third.record.content["overrides"]["carried"] == []
    assert verify_chain(registry).ok


def test_cli_checkpoint_public_key_and_verify(real_run, registry, tmp_path: Path, capsys) -> None:  # noqa: F811
    kept = tmp_path / "kept.jsonl"
    code, out, _ = cli(["audit", "checkpoint", "--out", str(kept)], capsys)
    assert code == 0 and "checkpoint #1" in out
    code, out, _ = cli(["audit", "public-key", "--out", str(tmp_path / "pub.pem")], capsys)
    assert code == 0 and (tmp_path / "pub.pem").read_text().startswith("-----BEGIN PUBLIC KEY")
    code, out, _ = cli(
        ["audit", "verify", "--checkpoint", str(kept), "--public-key", str(tmp_path / "pub.pem")],
        capsys,
    )
    assert code == 0 and "chain intact: 1 record," in out
    con = sqlite3.connect(_db_path(registry))
    con.execute("DELETE FROM audit_records")
    con.execute("DELETE FROM audit_signatures")
    con.execute("UPDATE audit_head SET seq = 0, hash = ?", ("0" * 64,))
    con.commit()
    con.close()
    code, _, err = cli(["audit", "verify", "--checkpoint", str(kept)], capsys)
    assert code == 1 and "chain broken" in err and "Traceback" not in err


def test_rollback_of_a_copy_elsewhere_with_a_new_ledger_id_is_caught(
    registry, done, tmp_path: Path
) -> None:
    old = _copy(registry, tmp_path, "old.db")  # before the second override
    drop_case(registry, done, 1, reason="the state already replied on this")
    con = sqlite3.connect(_db_path(old))
    con.execute("UPDATE audit_meta SET value = 'fresh' WHERE key = 'ledger_id'")
    con.commit()
    con.close()
    result = verify_chain(old)
    assert not result.ok and "saw 3" in result.problem
