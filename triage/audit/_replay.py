"""Stored runs read back: replay a selection from its stored inputs, list runs, export records."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from triage.audit._ledger import HasEngine, LedgerRecord, get_blob, get_record, read_records
from triage.audit._run_io import (
    Allocator,
    PolicyParser,
    _call_with_optional,
    _default_allocator,
    _default_policy_parser,
    _sha,
    _with_overrides,
    candidates_from_csv,
)
from triage.errors import TriageError

__all__ = ["ReplayResult", "list_runs", "record_json", "replay", "run_candidates"]


@dataclass(frozen=True)
class ReplayResult:
    """The outcome of re-running a stored selection.

    ``identical`` is True when the replayed selection equals the stored one; ``added`` and
    ``removed`` list the case ids that differ (in the replay, not in the original).
    """

    run_id: str
    identical: bool
    n_candidates: int
    n_selected: int
    added: list[str]
    removed: list[str]
    candidates_sha256: str
    policy_sha256: str
    status: str
    original_status: str
    model_check: str = ""
    model_ok: bool = True
    record_check: str = ""
    record_ok: bool = True

    def summary(self) -> str:
        """Return one line for a terminal."""
        if not self.record_ok:
            return f"{self.run_id}: THE RECORD CANNOT BE TRUSTED: {self.record_check}"
        if not self.model_ok:
            return f"{self.run_id}: MODEL CHECK FAILED: {self.model_check}"
        if self.identical:
            return (
                f"{self.run_id}: replay identical ({self.n_selected} of {self.n_candidates} "
                f"selected, status {self.status}; candidates {self.candidates_sha256[:12]}, "
                f"policy {self.policy_sha256[:12]})"
            )
        return (
            f"{self.run_id}: replay DIFFERS: {len(self.added)} case(s) added "
            f"({', '.join(self.added[:5])}), {len(self.removed)} removed "
            f"({', '.join(self.removed[:5])}); status {self.status} vs {self.original_status}"
        )


def run_candidates(registry: HasEngine, run_id: str) -> pd.DataFrame:
    """Return a stored run's candidate table (checked against its SHA-256)."""
    record = get_record(registry, run_id, kind="run")
    return candidates_from_csv(get_blob(registry, record.content["candidates"]["sha256"]))


def replay(
    registry: HasEngine,
    run_id: str,
    *,
    allocator: Allocator | None = None,
    policy_parser: PolicyParser | None = None,
) -> ReplayResult:
    """Re-run a stored selection from its stored inputs and compare the selections.

    The candidate table is read from the registry and checked against the stored SHA-256,
    the policy is parsed from the stored text (checked against its SHA-256), and the
    allocator runs with the stored seed. No model is needed.

    Raises
    ------
    TriageError
        If the run does not exist or a stored input no longer matches its hash.
    """
    record = get_record(registry, run_id, kind="run")
    content = record.content
    policy_text = content["policy"]["text"]
    if _sha(policy_text.encode("utf-8")) != content["policy"]["sha256"]:
        raise TriageError(f"{run_id}: the stored policy no longer matches its SHA-256.")
    data = get_blob(registry, content["candidates"]["sha256"])
    candidates = candidates_from_csv(data)
    policy = (policy_parser or _default_policy_parser())(policy_text)
    carried = content.get("overrides", {}).get("carried", [])
    options: dict[str, Any] = {"seed": content["seed"]}
    requested = content.get("solver", {}).get("requested")
    if requested:
        options["solver"] = requested
    allocation = _call_with_optional(
        allocator or _default_allocator(), _with_overrides(candidates, carried), policy, **options
    )
    model_check, model_ok = _check_model(content.get("model", {}))
    from triage.audit._ledger import verify_chain

    # A replay of a rewritten record would agree with itself: check the chain and signatures.
    chain = verify_chain(registry)
    record_ok, record_check = chain.ok, ("" if chain.ok else chain.problem)
    again = sorted(str(c) for c in allocation.selected)
    before = list(content["selected"])
    added = sorted(set(again) - set(before))
    removed = sorted(set(before) - set(again))
    return ReplayResult(
        run_id=run_id,
        identical=again == before,
        n_candidates=len(candidates),
        n_selected=len(again),
        added=added,
        removed=removed,
        candidates_sha256=content["candidates"]["sha256"],
        policy_sha256=content["policy"]["sha256"],
        status=str(getattr(allocation, "status", "unknown")),
        original_status=str(content["solver"]["status"]),
        model_check=model_check,
        model_ok=model_ok,
        record_check=record_check,
        record_ok=record_ok,
    )


def _check_model(model: dict[str, Any]) -> tuple[str, bool]:
    """Check a run's recorded model: its sha against its card's, and against the artifacts
    still on disk when its folder is there."""
    sha = str(model.get("sha256", ""))
    integrity = str(model.get("integrity", ""))
    if integrity.startswith("MISMATCH"):
        return f"the run used model artifacts that did not match their card ({integrity})", False
    card = str(model.get("card_sha256", ""))
    if card and sha and card != sha:
        return f"recorded model sha {sha[:16]} differs from its card's {card[:16]}", False
    folder = model.get("dir")
    if folder is None:
        from triage.config import models_dir

        candidate = models_dir() / str(model.get("version", ""))
        folder = str(candidate) if str(model.get("version", "")) else None
    if folder and Path(folder).is_dir():
        from triage.scoring._model import ARTIFACT_FILES, artifact_sha256

        if all((Path(folder) / n).is_file() for n in ARTIFACT_FILES):
            now = artifact_sha256(Path(folder))
            if sha and now != sha:
                return (
                    f"model sha {sha[:16]} recorded; the artifacts in {folder} now hash to "
                    f"{now[:16]} (the replay does not need them: it uses the stored scores)",
                    True,
                )
            return f"model sha {sha[:16]} matches the artifacts in {folder}", True
    return f"model sha {sha[:16]} (artifacts not on this machine)", True


def list_runs(registry: HasEngine) -> pd.DataFrame:
    """Return one row per stored run: run_id, created_at, user, role, policy_sha256, model_version, candidates, selected, status, gap, overrides."""
    runs = read_records(registry, kind="run")
    overrides = read_records(registry, kind="override")
    per_run: dict[str, int] = {}
    for o in overrides:
        per_run[o.content["run_id"]] = per_run.get(o.content["run_id"], 0) + 1
    rows = [
        {
            "run_id": r.record_id,
            "created_at": r.created_at,
            "user": r.user,
            "role": r.role,
            "policy_sha256": r.content["policy"]["sha256"],
            "model_version": r.content["model"]["version"],
            "candidates": int(r.content["candidates"]["n"]),
            "selected": len(r.content["selected"]),
            "status": r.content["solver"]["status"],
            "gap": r.content["solver"]["gap"],
            "overrides": per_run.get(r.record_id, 0),
        }
        for r in runs
    ]
    columns = [
        "run_id",
        "created_at",
        "user",
        "role",
        "policy_sha256",
        "model_version",
        "candidates",
        "selected",
        "status",
        "gap",
        "overrides",
    ]
    return pd.DataFrame(rows, columns=columns)


def record_json(record: LedgerRecord) -> str:
    """Return a record (every ``LedgerRecord`` field) as indented JSON, keys sorted (exports)."""
    return json.dumps(asdict(record), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
