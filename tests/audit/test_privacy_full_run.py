"""The privacy test: a full run, then every output file, log line and printed line is searched
for the names of defenders and sources. None may appear.

The run: generate a small history -> db load -> ingest a fixture with names -> train -> select
(recorded run) -> explain -> override -> audit export -> follow-up lists, state table -> runs,
overrides, replay, verify. Names come from the generator's queue (simulated) and from the
intake fixture.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from triage.cli import main
from triage.config import project_root

INTAKE = project_root() / "data" / "fixtures" / "intake" / "good_queue.csv"
POLICY = 'name = "privacy"\ncapacity = 30\n[share.gender]\nwoman = { min = 0.2 }\n'


def sensitive_values(*frames: pd.DataFrame) -> set[str]:
    found: set[str] = set()
    for frame in frames:
        for col in ("defender_name", "source_contact"):
            if col not in frame.columns:
                continue
            for value in frame[col].dropna().astype(str):
                value = value.strip()
                if len(value) >= 6:
                    found.add(value)
                base = re.sub(r"\s*\(simulated\)\s*$", "", value)
                if len(base) >= 6:
                    found.add(base)  # the name without the "(simulated)" label
    return found


@pytest.mark.slow
def test_no_names_in_any_output(tmp_path: Path, monkeypatch, capsys, caplog) -> None:
    from triage.synth import generate

    history = tmp_path / "history"
    generate(history, seed=11, scale=0.1, outcomes="all")
    out = tmp_path / "out"
    out.mkdir()
    var = tmp_path / "var"
    monkeypatch.setenv("TRIAGE_VAR", str(var))
    monkeypatch.setenv("TRIAGE_DB_URL", f"sqlite:///{tmp_path / 'registry.db'}")
    monkeypatch.setenv("TRIAGE_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("COLUMNS", "250")
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    caplog.set_level(logging.DEBUG)

    printed: list[str] = []

    def run(*args: str) -> int:
        with pytest.raises(SystemExit) as done:
            main(list(args))
        captured = capsys.readouterr()
        printed.extend([captured.out, captured.err])
        code = int(done.value.code or 0)
        assert code == 0, f"triage {' '.join(args)} failed: {captured.err}"
        return code

    run("db", "load", str(history))
    run("ingest", str(INTAKE))
    run(
        "train",
        "--data",
        str(history),
        "--out",
        str(tmp_path / "models" / "default"),
        "--n-bootstrap",
        "2",
    )
    run(
        "select",
        "--policy",
        str(policy),
        "--user",
        "ana",
        "--role",
        "staff",
        "--reasons",
        str(out / "select_reasons.csv"),
    )
    queue = pd.read_csv(history / "queue.csv", dtype=str)
    run(
        "explain",
        "--cases",
        str(history / "queue.csv"),
        "--data",
        str(history),
        "--out",
        str(out / "explain.csv"),
        "--reasons",
        str(out / "explain_reasons.csv"),
    )
    run("audit", "runs")
    selected = pd.read_csv(out / "select_reasons.csv", dtype=str)
    chosen = selected.loc[selected["selected"].str.lower() == "true", "case_id"].iloc[0]
    run(
        "audit",
        "override",
        "run-000001",
        chosen,
        "--action",
        "drop",
        "--reason",
        "raised together with a related case",
    )
    run("audit", "overrides", "--out", str(out / "overrides"))
    run("audit", "export", "run-000001", "--out", str(out / "bundle"))
    run("audit", "replay", "run-000001")
    run("audit", "verify")
    run("followup", "due", "--on", "2016-12-31", "--out", str(out / "followup"))
    run("states", "--out", str(out / "states.csv"))

    names = sensitive_values(queue, pd.read_csv(INTAKE, dtype=str))
    assert len(names) > 100  # the search has something to find
    # Control: the registry itself stores the names, so the search does find them where they are.
    stored = (tmp_path / "registry.db").read_bytes().decode("utf-8", errors="replace")
    assert sum(name in stored for name in names) > 50
    outputs = {
        str(p.relative_to(tmp_path)): p.read_text(errors="replace")
        for p in out.rglob("*")
        if p.is_file()
    }
    outputs.update(
        {
            str(p.relative_to(tmp_path)): p.read_text(errors="replace")
            for p in var.rglob("*")
            if p.is_file() and p.suffix not in (".db",)
        }
    )
    outputs["stdout/stderr"] = "\n".join(printed)
    outputs["log"] = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records)
    assert len(outputs) >= 10
    leaks = sorted(
        {(where, name) for where, text in outputs.items() for name in names if name in text}
    )
    assert not leaks, f"names found in outputs: {leaks[:10]}"
