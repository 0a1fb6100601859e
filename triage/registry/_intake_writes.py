"""Intake writes: registering submissions, communications and cases read from a file, each
batch with its intake-log row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from triage.registry._engine import RegistryCore, reachable
from triage.registry._models import (
    Case,
    Communication,
    Individual,
    IntakeFile,
    StatusEvent,
    Submission,
)
from triage.registry._rows import (
    STUB,
    as_date,
    bulk_insert,
    db_value,
    insert_new,
    new_rows,
    step,
    store_communications,
)

__all__ = ["IntakeWrites"]


class IntakeWrites(RegistryCore):
    """The Registry's writers for ``triage ingest``."""

    @reachable
    def add_submissions(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        origin: str = "intake",
        source_file: str | None = None,
        note: str | None = None,
        intake: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Register new submissions and their first lifecycle steps; return the ids added.

        Each gets ``received``; then ``eligible``/``ineligible`` when ``eligible`` is given; a
        row that also carries ``sent_date`` (and ``reply_date``) was decided before it reached
        the registry, so it gets ``selected``,
        ``communication_sent`` and ``reply_received`` (no run: the note says it was decided
        before the registry); a row whose ``case_id`` differs from its ``submission_id`` already
        became a case, so it is ``selected`` too. Rows whose ``submission_id`` (or
        ``content_hash``) is already present are skipped, so adding twice adds nothing.
        """
        now = self._clock()
        columns = {c.name for c in Submission.__table__.columns} - {"id"}
        decided = f"decided before the registry; imported from {source_file or origin}"
        with self.engine.begin() as conn:
            ids = set(conn.execute(select(Submission.submission_id)).scalars())
            hashes = set(conn.execute(select(Submission.content_hash)).scalars()) - {None}
            new: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            for raw in rows:
                r = {k: db_value(v) for k, v in raw.items() if k in columns}
                sid, digest = r.get("submission_id"), r.get("content_hash")
                if not sid:
                    raise ValueError("`rows` must each have a submission_id. Got a blank one.")
                if sid in ids or (digest and digest in hashes):
                    continue
                ids.add(sid)
                if digest:
                    hashes.add(digest)
                received = as_date(r.get("received_date")) or now.date()
                steps = [step(sid, "received", received, now, note=note)]
                if r.get("eligible") is not None:
                    status = "eligible" if r["eligible"] else "ineligible"
                    steps.append(step(sid, status, received, now, note=note))
                sent, reply = as_date(raw.get("sent_date")), as_date(raw.get("reply_date"))
                became_case = r.get("case_id") not in (None, sid)
                if r.get("eligible") and sent is None and became_case:
                    steps.append(
                        step(
                            sid,
                            "selected",
                            received,
                            now,
                            note=f"{decided}; became case {r['case_id']}",
                        )
                    )
                if r.get("eligible") and sent is not None:
                    steps.append(step(sid, "selected", max(sent, received), now, note=decided))
                    sent = max(sent, received)
                    steps.append(step(sid, "communication_sent", sent, now, note=note))
                    if reply is not None:
                        steps.append(step(sid, "reply_received", max(reply, sent), now, note=note))
                events.extend(steps)
                r.update(
                    origin=origin,
                    source_file=source_file,
                    status=steps[-1]["status"],
                    status_at=steps[-1]["at"],
                )
                new.append(r)
            if new:
                bulk_insert(conn, Submission, new)
                bulk_insert(conn, StatusEvent, events)
                people = {
                    r["individual_id"]: {
                        "individual_id": r["individual_id"],
                        "gender": r.get("gender"),
                        "defender_name": r.get("defender_name"),
                    }
                    for r in new
                    if r.get("individual_id")
                }
                insert_new(conn, Individual, "individual_id", list(people.values()), {}, {})
            _log_intake(conn, intake, len(new), self._clock())
        return [r["submission_id"] for r in new]

    @reachable
    def add_communications(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        source: str = "intake",
        intake: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Register communications (e.g. from an OHCHR export) not yet present; return their ids.

        A non-blank ``reply_date`` or a ``reply_class`` other than ``none`` also adds a
        :class:`Reply`; a row may list several reply dates in ``reply_dates`` (one reply each).
        """
        with self.engine.begin() as conn:
            new = store_communications(conn, rows, source=source)
            _log_intake(conn, intake, len(new), self._clock())
        return [r["communication_id"] for r in new]

    @reachable
    def add_cases(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        source: str = "intake",
        intake: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Register cases not yet present (by ``case_id``); return their ids.

        A case whose communication is not in the registry gets a minimal communication row
        (id, sent date, country) so that the case keeps its link.
        """
        columns = {c.name for c in Case.__table__.columns} - {"id"}
        with self.engine.begin() as conn:
            clean = [{k: db_value(v) for k, v in r.items() if k in columns} for r in rows]
            new = new_rows(conn, Case, "case_id", clean)
            known = set(conn.execute(select(Communication.communication_id)).scalars())
            stubs: dict[str, dict[str, Any]] = {}
            for r in new:
                cid = r.get("communication_id")
                if cid and cid not in known and cid not in stubs:
                    stubs[cid] = {
                        "communication_id": cid,
                        "sent_date": r.get("sent_date"),
                        "country": r.get("country"),
                        "source": STUB,
                    }
            bulk_insert(conn, Communication, list(stubs.values()))
            bulk_insert(conn, Case, new)
            people = {
                r["individual_id"]: {"individual_id": r["individual_id"], "gender": r.get("gender")}
                for r in new
                if r.get("individual_id")
            }
            insert_new(conn, Individual, "individual_id", list(people.values()), {}, {})
            _log_intake(conn, intake, len(new), self._clock())
        return [r["case_id"] for r in new]

    @reachable
    def record_intake(
        self,
        *,
        file_name: str,
        sha256: str,
        read: int,
        accepted: int,
        quarantined: int,
        added: int,
    ) -> None:
        """Remember one ingested file: its name, hash and reconciled counts (no content)."""
        counts = {"read": read, "accepted": accepted, "quarantined": quarantined}
        with self.engine.begin() as conn:
            _log_intake(
                conn, {"file_name": file_name, "sha256": sha256, **counts}, added, self._clock()
            )


def _log_intake(conn: Any, intake: Mapping[str, Any] | None, added: int, at: Any) -> None:
    """Record an ingested file in the same transaction as its rows: a process killed after
    the commit leaves both, one killed before leaves neither, so the log always tells what
    was added and by which file."""
    if intake is None:
        return
    bulk_insert(
        conn,
        IntakeFile,
        [
            {
                "file_name": intake["file_name"],
                "sha256": intake["sha256"],
                "ingested_at": at,
                "n_read": intake["read"],
                "n_accepted": intake["accepted"],
                "n_quarantined": intake["quarantined"],
                "n_added": added,
            }
        ],
    )
