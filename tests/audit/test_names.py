"""Names never in free text: every defender name and source contact of the registry, in any
variant, and any e-mail address or phone number, is refused without being repeated; the export
bundle's claim holds for its own files; model artifacts are checked against their card."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import NAME_MARKER, ana_selects, drop_case
from sqlalchemy import update

from triage.audit import (
    check_free_text,
    export_run,
    override_summary,
)
from triage.audit._names import NameIndex, find_sensitive
from triage.audit._tables import AuditRecord
from triage.errors import TriageError

INDEX = NameIndex(
    [
        "José María Pérez-Núñez",
        "Kalo Mirutoza (simulated)",
        "Ngozi Adaeze Okonkwo",
        "Seán O'Brien",
    ],
    ["source-0012@example.org", "+41 22 917 1234", "@ngozi_helps"],
)


@pytest.mark.parametrize(
    "text",
    [
        "spoke with José María Pérez-Núñez today",
        "JOSE MARIA PEREZ-NUNEZ asked for it",
        "Pérez-Núñez, José María",
        "perez nunez jose",
        "Jose Perez is at risk",
        "maria nunez is at risk",
        "Mirutoza, Kalo",
        "kalo   mirutoza (another case)",
        "ngozi okonkwo",
        "Okonkwo Ngozi",
        "Ñgozi Okónkwo",
        "sean obrien",
        "O’BRIEN, Seán",
        "jose pereznunez",
        "write to source-0012 @ example.org",
        "mail source-0012@example.org",
        "mail x at example.org",
        "mail x (at) example (dot) org",
        "mail someone@another.net",
        "call +41 22 917 1234",
        "call 022-917-12-34",
        "phone (555) 123 4567",
    ],
)
def test_names_and_contacts_are_found_in_any_variant(text: str) -> None:
    assert find_sensitive(text, INDEX) is not None


@pytest.mark.parametrize(
    "text",
    [
        "high risk, strong regional balance, urgent",
        "dated 2016-01-15, see case Q17-00012 and run-000003",
        "score 0.123456 is near the bar",
        "the defender is at home. The state replied",
        "Jose alone is a common given name",
        "meet @ 5pm, active 2010-2015",
    ],
)
def test_ordinary_reasons_pass(text: str) -> None:
    assert find_sensitive(text, INDEX) is None


def test_the_refusal_never_repeats_the_name(registry) -> None:
    with pytest.raises(TriageError) as caught:
        check_free_text(registry, f"{NAME_MARKER} Defender0007 again", what="the reason")
    assert NAME_MARKER not in caught.value.message and "0007" not in caught.value.message
    assert "the reason" in caught.value.message


@pytest.fixture
def done(registry, policy_file, fakes) -> Any:
    return ana_selects(registry, policy_file, **fakes)


@pytest.mark.parametrize(
    "reason",
    [
        f"{NAME_MARKER.upper()} DEFENDER0031 asked",  # another case's name, upper case
        f"Defender0031, {NAME_MARKER}",  # Last, First
        f"{NAME_MARKER}Source0031@example.org wrote",  # a source's e-mail address
        "write to x at example.org",
        "call them on +44 20 7946 0958",
    ],
)
def test_override_reasons_with_any_name_or_contact_are_refused(registry, done, reason) -> None:
    with pytest.raises(TriageError, match="describe the case without names"):
        drop_case(registry, done, reason=reason)


def test_policy_names_are_checked(registry, tmp_path: Path, fakes) -> None:
    policy = tmp_path / "named.toml"
    policy.write_text(f'capacity = 20\nname = "for {NAME_MARKER} Defender0003"\n', encoding="utf-8")

    class Named(dict):
        @property
        def name(self) -> str:
            return str(self["name"])

    fakes = {**fakes, "policy_parser": lambda text: Named(__import__("tomllib").loads(text))}
    with pytest.raises(TriageError, match="the policy name"):
        ana_selects(registry, policy, **fakes)


def test_bundle_claim_is_tested_against_its_files(registry, done, tmp_path: Path) -> None:
    folder = export_run(registry, done.run_id, tmp_path / "ok")
    assert "No names of defenders or sources" in (folder / "summary.html").read_text()
    # A record written before reasons were checked, with a name in it: withheld on export.
    drop_case(registry, done, reason="placeholder reason text")
    with registry.engine.begin() as conn:
        row = conn.execute(
            AuditRecord.__table__.select().where(AuditRecord.kind == "override")
        ).first()
        conn.execute(
            update(AuditRecord)
            .where(AuditRecord.seq == row.seq)
            .values(
                content=row.content.replace(
                    "placeholder reason text", f"{NAME_MARKER} Defender0004"
                )
            )
        )
    folder = export_run(registry, done.run_id, tmp_path / "withheld")
    for path in folder.iterdir():
        assert NAME_MARKER not in path.read_text(errors="replace"), path.name
    assert "withheld" in (folder / "overrides.csv").read_text()
    shown = override_summary(registry).overrides
    assert not shown["reason"].str.contains(NAME_MARKER).any()
    # The run record itself carrying a name: the export refuses rather than ship the claim.
    with registry.engine.begin() as conn:
        conn.execute(
            update(AuditRecord)
            .where(AuditRecord.kind == "run")
            .values(user=f"{NAME_MARKER} Defender0005")
        )
    with pytest.raises(TriageError, match=r"record\.json would hold"):
        export_run(registry, done.run_id, tmp_path / "refused")
    assert not (tmp_path / "refused" / "summary.html").exists()


def test_changed_model_artifacts_are_refused_or_flagged(tmp_path: Path) -> None:
    from triage.config import project_root
    from triage.scoring import load_model

    folder = tmp_path / "model"
    shutil.copytree(project_root() / "models" / "default", folder)
    assert load_model(folder).integrity == "verified"
    cal = folder / "calibrator.json"
    cal.write_text(cal.read_text() + "\n")
    with pytest.raises(TriageError, match="do not match the sha256 in its card"):
        load_model(folder)
    flagged = load_model(folder, allow_mismatch=True)
    assert flagged.integrity.startswith("MISMATCH")


def test_the_bundle_never_ships_a_card_of_other_artifacts(registry, done, tmp_path: Path) -> None:
    folder = tmp_path / "card"
    folder.mkdir()
    (folder / "MODEL_CARD.md").write_text(f"- Model artifacts sha256: `{'ab' * 32}`\n")
    bundle = export_run(registry, done.run_id, tmp_path / "bundle", model_dir=folder)
    card = (bundle / "model_card.md").read_text()
    assert card.startswith("# Model card withheld") and "ab" * 32 in card


def test_a_run_on_flagged_artifacts_is_recorded_and_replay_fails(
    registry, policy_file: Path, fakes
) -> None:
    from audit_fixtures import FakeScorer

    from triage.audit import replay

    scorer = FakeScorer()
    scorer.integrity = "MISMATCH: artifacts ffff, card abab"  # type: ignore[attr-defined]
    scorer.card_sha256 = "ab" * 32  # type: ignore[attr-defined]
    run = ana_selects(registry, policy_file, **{**fakes, "scorer": scorer})
    assert run.record.content["model"]["integrity"].startswith("MISMATCH")
    again = replay(
        registry, run.run_id, allocator=fakes["allocator"], policy_parser=fakes["policy_parser"]
    )
    assert again.identical and not again.model_ok and "MODEL CHECK FAILED" in again.summary()
