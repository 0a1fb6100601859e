"""A registry queue too large for one recorded run is refused up front, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.cli import _allocate, main


def _queue(tmp_path: Path, capsys: pytest.CaptureFixture[str], n: int, country: str) -> None:
    """Ingest ``n`` queued submissions from ``country`` into the test registry."""
    rows = "".join(f"Q{i},2015-01-01,{country}\n" for i in range(n))
    source = tmp_path / "queue.csv"
    source.write_text("submission_id,received_date,country\n" + rows, "utf-8")
    with pytest.raises(SystemExit):
        main(["ingest", str(source)])
    capsys.readouterr()


def test_an_oversized_registry_queue_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _queue(tmp_path, capsys, 12, "FRA")
    monkeypatch.setattr(_allocate, "MAX_REGISTRY_QUEUE", 10)
    with pytest.raises(SystemExit) as info:
        main(["select"])
    _, err = capsys.readouterr()
    assert info.value.code == 2
    (line,) = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert "the registry queue holds 12 cases awaiting a decision" in line
    assert "at most 10 at once" in line


def test_the_refusal_comes_before_the_queue_or_the_history_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage.registry import Registry

    _queue(tmp_path, capsys, 5, "KEN")
    read: list[str] = []

    def reading(name: str):  # type: ignore[no-untyped-def]
        def refuse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            read.append(name)
            raise AssertionError(f"Registry.{name} was called before the size check")

        return refuse

    for name in ("queue", "history"):
        monkeypatch.setattr(Registry, name, reading(name))
    monkeypatch.setattr(_allocate, "MAX_REGISTRY_QUEUE", 4)
    with pytest.raises(SystemExit) as info:
        main(["select"])
    _, err = capsys.readouterr()
    assert info.value.code == 2 and read == []
    assert "holds 5 cases awaiting a decision" in err
    # Within the limit the same registry is read (the check is not a refusal of everything).
    monkeypatch.setattr(_allocate, "MAX_REGISTRY_QUEUE", 5)
    with pytest.raises((SystemExit, AssertionError)):
        main(["select"])
    assert read[:1] == ["queue"]


def test_decided_history_submissions_do_not_count_toward_the_limit(
    mini_history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage.registry import OPEN_DECISIONS, Registry

    with pytest.raises(SystemExit):
        main(["db", "load", str(mini_history)])
    capsys.readouterr()
    registry = Registry()
    every = sum(n for s, n in registry.status_counts().items() if s in OPEN_DECISIONS)
    incoming = len(registry.queue(statuses=OPEN_DECISIONS))
    registry.dispose()
    assert every > incoming > 0  # the history holds decided, not-selected submissions
    read: list[str] = []

    def refuse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        read.append("queue")
        raise AssertionError("read")

    monkeypatch.setattr(Registry, "queue", refuse)
    monkeypatch.setattr(_allocate, "MAX_REGISTRY_QUEUE", incoming)
    with pytest.raises((SystemExit, AssertionError)):
        main(["select"])
    assert read == ["queue"]  # within the limit: the run went on to read its queue
