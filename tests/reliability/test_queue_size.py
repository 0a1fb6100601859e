"""A registry queue too large for one recorded run is refused up front, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.cli import _allocate, main


def test_an_oversized_registry_queue_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "".join(f"Q{i},2015-01-01,FRA\n" for i in range(12))
    source = tmp_path / "queue.csv"
    source.write_text("submission_id,received_date,country\n" + rows, "utf-8")
    with pytest.raises(SystemExit):
        main(["ingest", str(source)])
    capsys.readouterr()
    monkeypatch.setattr(_allocate, "MAX_REGISTRY_QUEUE", 10)
    with pytest.raises(SystemExit) as info:
        main(["select"])
    _, err = capsys.readouterr()
    assert info.value.code == 2
    (line,) = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert "the registry queue holds 12 cases awaiting a decision" in line
    assert "at most 10 at once" in line
