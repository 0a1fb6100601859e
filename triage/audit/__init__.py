"""Accountability: hash-chained decision records, replay, overrides, users, roles and privacy.

For the app and the CLI:

- Runs: ``run_selection(registry=, policy_path=, user=, role=, model_dir=None, seed=0) ->
  RunRecord`` (``.run_id``, ``.allocation``, ``.selected``, ``.reasons``); ``list_runs(registry)``
  (DataFrame); ``replay(registry, run_id) -> ReplayResult`` (``.identical``, ``.summary()``).
- Chain: ``verify_chain(registry, checkpoints=(), public_key=None) -> VerifyResult``
  (hashes, Ed25519 signatures, signed checkpoints, registry statuses; see docs/threat-model.md) (``.ok``, ``.first_bad_seq``,
  ``.first_bad_id``, ``.problem``, ``.summary()``); ``verify_records(records)`` on plain dicts.
- Overrides: ``record_override(registry, run_id=, case_id=, action="select"|"drop", reason=,
  user=, role=)``; ``override_summary(registry) -> OverrideSummary`` (``.overall``,
  ``.by_group``, ``.overrides``); ``effective_selection(registry, run_id)``.
- Export: ``export_run(registry, run_id, out_dir)`` writes the auditor's bundle.
- Sessions: ``authenticate(user, password) -> Session(user, role, demo)``; ``Actor(user, role,
  auth=None, now=None)`` (``Actor.of(session)``) is who records an event; ``open_demo_mode()``
  (``TRIAGE_OPEN_DEMO=1`` or no users file: the app must say so on screen); ``add_user``,
  ``list_users``.
- Privacy: ``redact(df, role, view="list"|"case"|"export"|"log")`` replaces names by
  pseudonyms unless the role may see them (staff and mandate-holders on the case page only);
  ``pseudonym(value, key)`` with ``pseudonym_key()``; ``safe_cell``/``safe_frame`` guard CSV and
  spreadsheet exports against formula injection; ``export_csv`` / ``export_xlsx(frame, role=,
  simulated=)`` give a table's file bytes with names dropped unless the role allows them.
"""

from triage.audit._actor import Actor
from triage.audit._chain import (
    GENESIS_HASH,
    VerifyResult,
    canonical_json,
    record_hash,
    verify_records,
)
from triage.audit._ledger import (
    AUTH_METHODS,
    LedgerRecord,
    LedgerTx,
    append_record,
    get_record,
    ledger_transaction,
    read_records,
    verify_chain,
    write_auditor_checkpoint,
)
from triage.audit._names import check_free_text, find_sensitive
from triage.audit._overrides import (
    OverrideSummary,
    effective_selection,
    override_summary,
    record_override,
)
from triage.audit._privacy import (
    ROLES,
    Role,
    names_allowed,
    pseudonym,
    pseudonym_key,
    redact,
    safe_cell,
    safe_frame,
)
from triage.audit._run import (
    ReplayResult,
    RunRecord,
    list_runs,
    replay,
    run_candidates,
    run_selection,
)
from triage.audit._run_bundle import export_run, suppress_counts
from triage.audit._signing import export_public_key, load_public_key, load_signing_key
from triage.audit._table_export import export_csv, export_frame, export_xlsx
from triage.audit._users import (
    Session,
    UserInfo,
    add_user,
    authenticate,
    list_users,
    open_demo_mode,
    resolve_session,
    users_file,
)

__all__ = [
    "AUTH_METHODS",
    "GENESIS_HASH",
    "ROLES",
    "Actor",
    "LedgerRecord",
    "LedgerTx",
    "OverrideSummary",
    "ReplayResult",
    "Role",
    "RunRecord",
    "Session",
    "UserInfo",
    "VerifyResult",
    "add_user",
    "append_record",
    "authenticate",
    "canonical_json",
    "check_free_text",
    "effective_selection",
    "export_csv",
    "export_frame",
    "export_public_key",
    "export_run",
    "export_xlsx",
    "find_sensitive",
    "get_record",
    "ledger_transaction",
    "list_runs",
    "list_users",
    "load_public_key",
    "load_signing_key",
    "names_allowed",
    "open_demo_mode",
    "override_summary",
    "pseudonym",
    "pseudonym_key",
    "read_records",
    "record_hash",
    "record_override",
    "redact",
    "replay",
    "resolve_session",
    "run_candidates",
    "run_selection",
    "safe_cell",
    "safe_frame",
    "suppress_counts",
    "users_file",
    "verify_chain",
    "verify_records",
    "write_auditor_checkpoint",
]
