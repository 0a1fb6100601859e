"""The adversary's paths and URLs: outputs checked before anything is written, files that are
not regular or too large refused before they are read, passwords never printed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from triage.cli import main
from triage.config import mask_secrets, mask_url
from triage.registry import Registry

GOOD = "submission_id,received_date,country\nS1,2015-01-01,FRA\nS2,2015-01-02,KEN\nS3,x,KEN\n"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def _counts(tmp_path: Path) -> int:
    db = Path(os.environ["TRIAGE_VAR"]) / "triage.db"
    if not db.exists():
        return 0
    registry = Registry(f"sqlite:///{db}")
    try:
        return registry.counts()["submissions"]
    finally:
        registry.dispose()


@pytest.mark.parametrize("where", ["input", "folder", "under_a_file"])
def test_a_bad_report_path_is_refused_before_anything_is_stored(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(GOOD, "utf-8")
    report = {"input": source, "folder": tmp_path, "under_a_file": source / "r.csv"}[where]
    code, _, err = _run(["ingest", str(source), "--report", str(report)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: --report")
    assert source.read_text("utf-8") == GOOD  # the input is intact
    assert _counts(tmp_path) == 0  # nothing committed


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused_without_reading_it(
    path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if not Path(path).exists():
        pytest.skip(f"{path} does not exist here")
    code, _, err = _run(["ingest", path], capsys)
    assert (code, err.count("\n")) == (2, 1)
    assert "not a regular file" in err


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import triage.intake._read as read

    monkeypatch.setattr(read, "MAX_BYTES", 1000)
    big = tmp_path / "big.csv"
    with big.open("w") as fh:  # sparse: its size is what counts
        fh.write(GOOD)
        fh.truncate(5000)
    code, _, err = _run(["ingest", str(big), "--dry-run"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "the file is 5,000 bytes, larger than the 1,000 bytes limit" in err


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://alice:S3cretPW@localhost:1/registry",
        "postgresql+psycopg://alice:S3cretPW@127.0.0.1:1/registry",
        "postgresql://alice:S3cretPW@127.0.0.1:1/registry",
        "nosuchdialect://alice:S3cretPW@host/db",
    ],
)
def test_a_password_in_a_url_is_never_printed(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["db", "status", "--url", url], ["db", "init", "--url", url]):
        code, out, err = _run(argv, capsys)
        assert code == 2
        assert "S3cretPW" not in out + err
        assert "alice:***@" in err and err.count("\n") == 1


def test_mask_url_masks_every_password() -> None:
    assert mask_url("postgresql://a:p@ss@h:5/d") == "postgresql://a:***@h:5/d"
    assert mask_url("sqlite:///var/triage.db") == "sqlite:///var/triage.db"
    assert mask_url("x postgresql://h/d?password=zz&a=1") == "x postgresql://h/d?password=***&a=1"
    assert mask_secrets("driver said hunter2", "hunter2") == "driver said ***"
    with pytest.raises(ValueError, match="`url` must be a string"):
        mask_url(None)  # type: ignore[arg-type]
